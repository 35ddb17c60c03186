/*
 * Unit tests for blockbackend/bb-sha256.c: the FIPS 180-4 vectors, a
 * stream cut at every awkward length, and the SHA extensions path against
 * the portable one.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "blockbackend.h"
#include "bb-internal.h"

/* Bytes no digest would mistake for another run's (xorshift32). */
static void
pattern(uint8_t *p, size_t len, uint32_t x)
{
	while (len-- > 0) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		*p++ = (uint8_t)x;
	}
}

static void
sha256_of(const void *data, size_t len, char hex[65])
{
	struct bb_sha256 s;

	bb_sha256_init(&s);
	bb_sha256_update(&s, data, len);
	bb_sha256_final(&s, hex);
}

/* FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf"). */
static void
test_sha256_vectors(void **state)
{
	static const char *m448 =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char *m896 =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	char hex[65], a[1000];
	struct bb_sha256 s;
	int i;

	(void)state;
	sha256_of("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	                         "b00361a396177a9cb410ff61f20015ad");
	sha256_of("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	                         "27ae41e4649b934ca495991b7852b855");
	sha256_of(m448, strlen(m448), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
	                         "a33ce45964ff2167f6ecedd419db06c1");
	sha256_of(m896, strlen(m896), hex);
	assert_string_equal(hex, "cf5b16a778af8380036ce59e7b049237"
	                         "0b249b11e8f07a51afac45037afee9d1");

	memset(a, 'a', sizeof(a));
	bb_sha256_init(&s);
	for (i = 0; i < 1000; i++)
		bb_sha256_update(&s, a, sizeof(a));
	bb_sha256_final(&s, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	                         "f1809a48a497200e046d39ccc7112cd0");
}

/* Updates of any size give the digest of the whole. */
static void
test_sha256_pieces(void **state)
{
	static const size_t steps[] = {1, 3, 55, 56, 63, 64, 65, 127, 1000};
	char whole[65], hex[65], buf[5000];
	struct bb_sha256 s;
	size_t i, off, n;

	(void)state;
	pattern((uint8_t *)buf, sizeof(buf), 3);
	sha256_of(buf, sizeof(buf), whole);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		bb_sha256_init(&s);
		for (off = 0; off < sizeof(buf); off += n) {
			n = sizeof(buf) - off < steps[i] ? sizeof(buf) - off
			                                 : steps[i];
			bb_sha256_update(&s, buf + off, n);
		}
		bb_sha256_final(&s, hex);
		assert_string_equal(hex, whole);
	}
}

/* The SHA extensions path and the portable one agree (the vectors above
 * ran through whichever this CPU picks). */
static void
test_sha256_ni_matches_c(void **state)
{
	static uint8_t blocks[64 * 1024];
	uint32_t hc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, hn[8];

	(void)state;
	if (!bb_sha256_ni_present())
		skip();
	pattern(blocks, sizeof(blocks), 5);
	memcpy(hn, hc, sizeof(hn));
	bb_sha256_blocks_c(hc, blocks, sizeof(blocks) / 64);
	bb_sha256_blocks_ni(hn, blocks, sizeof(blocks) / 64);
	assert_memory_equal(hc, hn, sizeof(hc));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_sha256_pieces),
	    cmocka_unit_test(test_sha256_ni_matches_c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
