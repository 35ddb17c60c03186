/*
 * SHA-256 as FIPS 180-4 defines it (sections 4.1.2, 4.2.2, 5.1.1, 6.2),
 * streamed: any number of updates, then final. Used for the checksums of
 * block import/export and for the digests that name stored images.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "blockbackend.h"
#include "bb-internal.h"

/* The first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes (FIPS 180-4 section 4.2.2). */
/* clang-format off */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
/* clang-format on */

/* The first 32 bits of the fractional parts of the square roots of the
 * first 8 primes (section 5.3.3). */
static const uint32_t sha256_h0[8] = {
    0x6a09e667,
    0xbb67ae85,
    0x3c6ef372,
    0xa54ff53a,
    0x510e527f,
    0x9b05688c,
    0x1f83d9ab,
    0x5be0cd19,
};

static inline uint32_t
rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))
#define BSIG0(x) (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22))
#define BSIG1(x) (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25))
#define SSIG0(x) (rotr(x, 7) ^ rotr(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr(x, 17) ^ rotr(x, 19) ^ ((x) >> 10))

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* One 512-bit block (section 6.2.2), in portable C. */
static void
sha256_block(uint32_t h[8], const uint8_t *m)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int t;

	for (t = 0; t < 16; t++)
		w[t] = load_be32(m + 4 * t);
	for (; t < 64; t++)
		w[t] =
		    SSIG1(w[t - 2]) + w[t - 7] + SSIG0(w[t - 15]) + w[t - 16];

	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], hh = h[7];
	for (t = 0; t < 64; t++) {
		t1 = hh + BSIG1(e) + CH(e, f, g) + sha256_k[t] + w[t];
		t2 = BSIG0(a) + MAJ(a, b, c);
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

#define SHA_NI __attribute__((target("sha,sse4.1,ssse3")))

/* The same computation with the x86 SHA extensions. SHA256RNDS2 does two
 * rounds: it takes the state as two halves, {C,D,G,H} and {A,B,E,F} (A in
 * the highest lane), and W[t]+K[t] for the two rounds in the low lanes of
 * its third operand; it returns the new {A,B,E,F}, and after two rounds
 * the new {C,D,G,H} is the old {A,B,E,F}, so the halves swap roles.
 * SHA256MSG1 and SHA256MSG2 compute the schedule four words at a time:
 * MSG1(W[t-16..], W[t-12..]) adds sigma0 of the next word to each word,
 * the caller adds W[t-7..t-4], and MSG2 adds sigma1 of W[t-2], W[t-1]. */
SHA_NI void
bb_sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	/* Byte swap of each 32-bit lane: the words are big-endian. */
	const __m128i bswap =
	    _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	__m128i abef, cdgh, abef0, cdgh0, w[4], wk, x;
	uint32_t lanes[8];
	int g;

	abef = _mm_set_epi32((int)h[0], (int)h[1], (int)h[4], (int)h[5]);
	cdgh = _mm_set_epi32((int)h[2], (int)h[3], (int)h[6], (int)h[7]);
	for (; n > 0; n--, p += 64) {
		abef0 = abef;
		cdgh0 = cdgh;
		/* Unrolled, w[] stays in registers: about 30% faster. */
#pragma GCC unroll 16
		for (g = 0; g < 16; g++) {
			if (g < 4) {
				x = _mm_loadu_si128((const void *)(p + 16 * g));
				w[g] = _mm_shuffle_epi8(x, bswap);
			} else {
				x = _mm_sha256msg1_epu32(
				    w[g % 4], w[(g + 1) % 4]);
				x = _mm_add_epi32(
				    x, _mm_alignr_epi8(
				           w[(g + 3) % 4], w[(g + 2) % 4], 4));
				w[g % 4] =
				    _mm_sha256msg2_epu32(x, w[(g + 3) % 4]);
			}
			wk = _mm_add_epi32(w[g % 4],
			    _mm_loadu_si128((const void *)&sha256_k[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			wk = _mm_shuffle_epi32(wk, 0x0e);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	/* Lanes from the lowest: F, E, B, A then H, G, D, C. */
	_mm_storeu_si128((void *)&lanes[0], abef);
	_mm_storeu_si128((void *)&lanes[4], cdgh);
	h[0] = lanes[3], h[1] = lanes[2], h[4] = lanes[1], h[5] = lanes[0];
	h[2] = lanes[7], h[3] = lanes[6], h[6] = lanes[5], h[7] = lanes[4];
}

/* CPUID by hand: clang 14's __builtin_cpu_supports() knows no "sha". */
bool
bb_sha256_ni_present(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) ||
	    !(c & bit_SSE4_1) || !(c & bit_SSSE3))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#else
bool
bb_sha256_ni_present(void)
{
	return false;
}

void
bb_sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n)
{
	(void)h, (void)p, (void)n;
}
#endif

void
bb_sha256_blocks_c(uint32_t h[8], const uint8_t *p, size_t n)
{
	for (; n > 0; n--, p += 64)
		sha256_block(h, p);
}

static void
sha256_blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	if (bb_sha256_ni_present())
		bb_sha256_blocks_ni(h, p, n);
	else
		bb_sha256_blocks_c(h, p, n);
}

void
bb_sha256_init(struct bb_sha256 *s)
{
	memcpy(s->h, sha256_h0, sizeof(s->h));
	s->len = 0;
	s->nbuf = 0;
}

void
bb_sha256_update(struct bb_sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t n;

	s->len += len;
	if (s->nbuf > 0) {
		n = sizeof(s->buf) - s->nbuf;
		if (n > len)
			n = len;
		memcpy(s->buf + s->nbuf, p, n);
		s->nbuf += n;
		p += n;
		len -= n;
		if (s->nbuf < sizeof(s->buf))
			return;
		sha256_blocks(s->h, s->buf, 1);
		s->nbuf = 0;
	}
	sha256_blocks(s->h, p, len / 64);
	p += len - len % 64;
	memcpy(s->buf, p, len % 64);
	s->nbuf = len % 64;
}

/* Padding (section 5.1.1): a 1 bit, zeros up to 448 mod 512, then the
 * message length in bits as a 64-bit big-endian number. */
void
bb_sha256_final(struct bb_sha256 *s, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	uint64_t bits = s->len * 8;
	int i;

	s->buf[s->nbuf++] = 0x80;
	if (s->nbuf > 56) {
		memset(s->buf + s->nbuf, 0, sizeof(s->buf) - s->nbuf);
		sha256_blocks(s->h, s->buf, 1);
		s->nbuf = 0;
	}
	memset(s->buf + s->nbuf, 0, 56 - s->nbuf);
	for (i = 0; i < 8; i++)
		s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_blocks(s->h, s->buf, 1);

	for (i = 0; i < 32; i++) {
		uint8_t byte = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));

		hex[2 * i] = digits[byte >> 4];
		hex[2 * i + 1] = digits[byte & 0xf];
	}
	hex[64] = '\0';
}
