/*
 * netbackend's pure functions: TAP names, MAC generation, MAC and IPv4
 * parsing. No kernel, no root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netbackend.h"

#define MAC_PAIRS 100000

static void
test_tap_name(void **state)
{
	char a[NB_IFNAMSIZ], b[NB_IFNAMSIZ];

	(void)state;
	nb_tap_name(0x3f2a0, a);
	assert_string_equal(a, "uk3f2a0");
	nb_tap_name(UINT32_MAX, a);
	assert_string_equal(a, "ukffffffff");
	assert_true(strlen(a) <= 10);
	nb_tap_name((UINT64_C(1) << 52) - 1, a);
	assert_true(strlen(a) <= 15);
	nb_tap_name(UINT64_MAX, a);
	assert_true(strlen(a) <= 15);
	nb_tap_name(1, a);
	nb_tap_name(16, b);
	assert_string_not_equal(a, b);
	nb_tap_name(1, b);
	assert_string_equal(a, b);
}

static void
test_tap_names_unique(void **state)
{
	char a[NB_IFNAMSIZ], b[NB_IFNAMSIZ];
	uint64_t id;

	(void)state;
	/* Distinct ids give distinct names: hex is a bijection, so
	 * neighbours and ids differing in one high bit are enough. */
	for (id = 0; id < 5000; id++) {
		nb_tap_name(id, a);
		nb_tap_name(id + 1, b);
		assert_string_not_equal(a, b);
		nb_tap_name(id | (UINT64_C(1) << 40), b);
		assert_string_not_equal(a, b);
	}
}

static void
assert_guest_mac(const uint8_t mac[6])
{
	assert_int_equal(mac[0] & 0x02, 0x02);	/* locally administered */
	assert_int_equal(mac[0] & 0x01, 0);	/* unicast */
	assert_int_not_equal(mac[0], 0xfe);	/* the host side's prefix */
	assert_false(nb_mac_is_zero(mac));
	assert_false(nb_mac_is_multicast(mac));
}

static void
test_mac_generate(void **state)
{
	uint8_t a[6], b[6];

	(void)state;
	nb_mac_generate("web1", "service", 0, a);
	nb_mac_generate("web1", "service", 0, b);
	assert_memory_equal(a, b, 6);
	assert_guest_mac(a);
	nb_mac_generate("web2", "service", 0, b);
	assert_memory_not_equal(a, b, 6);
	nb_mac_generate("web1", "admin", 0, b);
	assert_memory_not_equal(a, b, 6);
	nb_mac_generate("web1", "service", 1, b);
	assert_memory_not_equal(a, b, 6);
	/* The separator keeps the two fields apart. */
	nb_mac_generate("ab", "c", 0, a);
	nb_mac_generate("a", "bc", 0, b);
	assert_memory_not_equal(a, b, 6);
}

static int
mac_cmp(const void *x, const void *y)
{
	return memcmp(x, y, 6);
}

static void
test_mac_collisions(void **state)
{
	uint8_t(*macs)[6];
	char vm[32];
	size_t i, collisions = 0, fe = 0;

	(void)state;
	macs = malloc(MAC_PAIRS * sizeof(*macs));
	assert_non_null(macs);
	for (i = 0; i < MAC_PAIRS; i++) {
		snprintf(vm, sizeof(vm), "vm%zu", i / 2);
		nb_mac_generate(vm, i % 2 ? "service" : "admin", 0, macs[i]);
		assert_guest_mac(macs[i]);
		fe += macs[i][0] == 0xfe;
	}
	qsort(macs, MAC_PAIRS, 6, mac_cmp);
	for (i = 1; i < MAC_PAIRS; i++)
		collisions += memcmp(macs[i - 1], macs[i], 6) == 0;
	print_message("MAC collisions over %d (vm, nic) pairs: %zu\n",
	    MAC_PAIRS, collisions);
	/* 46 free bits: about n^2 / 2^47 = 7e-5 expected. */
	assert_true(collisions <= 1);
	assert_int_equal(fe, 0);
	free(macs);
}

static void
test_mac_host(void **state)
{
	uint8_t guest[6], host[6];

	(void)state;
	nb_mac_generate("web1", "service", 0, guest);
	nb_mac_host(guest, host);
	assert_int_equal(host[0], 0xfe);
	assert_memory_equal(host + 1, guest + 1, 5);
	assert_memory_not_equal(host, guest, 6);
}

static void
test_mac_parse_format(void **state)
{
	uint8_t mac[6];
	char s[18];

	(void)state;
	assert_int_equal(nb_mac_parse("02:AB:cd:00:ff:10", mac), 0);
	nb_mac_format(mac, s);
	assert_string_equal(s, "02:ab:cd:00:ff:10");
	assert_false(nb_mac_is_multicast(mac));
	assert_false(nb_mac_is_zero(mac));

	assert_int_equal(nb_mac_parse("01:00:5e:00:00:01", mac), 0);
	assert_true(nb_mac_is_multicast(mac));
	assert_int_equal(nb_mac_parse("ff:ff:ff:ff:ff:ff", mac), 0);
	assert_true(nb_mac_is_multicast(mac));
	assert_int_equal(nb_mac_parse("00:00:00:00:00:00", mac), 0);
	assert_true(nb_mac_is_zero(mac));
}

static void
test_mac_parse_bad(void **state)
{
	static const char *bad[] = {
		"", "02:ab:cd:00:ff", "02:ab:cd:00:ff:10:", "02:ab:cd:00:ff:1",
		"02:ab:cd:00:ff:100", "02:ab:cd:00:ff:1g", "02-ab-cd-00-ff-10",
		"02:ab:cd:00:ff: 1", "0x:ab:cd:00:ff:10", "02abcd00ff10",
		" 2:ab:cd:00:ff:10",
	};
	uint8_t mac[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(nb_mac_parse(bad[i], mac), -1);
		assert_int_equal(errno, EINVAL);
	}
}

static void
test_ip4_parse_format(void **state)
{
	struct nb_ip4net net;
	uint32_t a;
	char s[16];

	(void)state;
	assert_int_equal(nb_ip4_parse("10.0.0.2", &a), 0);
	assert_int_equal(a, 0x0a000002);
	nb_ip4_format(a, s);
	assert_string_equal(s, "10.0.0.2");
	nb_ip4_format(0xffffffff, s);
	assert_string_equal(s, "255.255.255.255");

	assert_int_equal(nb_ip4net_parse("10.0.0.1/24", &net), 0);
	assert_int_equal(net.addr, 0x0a000001);	/* host bits kept */
	assert_int_equal(net.prefix, 24);
	assert_int_equal(nb_ip4net_parse("192.168.1.7", &net), 0);
	assert_int_equal(net.prefix, 32);
	assert_int_equal(nb_ip4net_parse("0.0.0.0/0", &net), 0);
	assert_int_equal(net.prefix, 0);
}

static void
test_ip4_parse_bad(void **state)
{
	static const char *bad[] = {
		"", "10.0.0", "10.0.0.256", "10.0.0.1/33", "10.0.0.1/",
		"10.0.0.1/-1", "10.0.0.1/2a", "10.0.0.1/024", "a.b.c.d",
		"10.0.0.1 ", "10.0.0.1/24/1", "::1", "10.0.0.1/+8",
	};
	struct nb_ip4net net;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(nb_ip4net_parse(bad[i], &net), -1);
		assert_int_equal(errno, EINVAL);
	}
}

static void
test_ip4_contains_overlap(void **state)
{
	struct nb_ip4net a, b;
	uint32_t ip;

	(void)state;
	assert_int_equal(nb_ip4net_parse("10.0.0.1/24", &a), 0);
	assert_int_equal(nb_ip4_parse("10.0.0.254", &ip), 0);
	assert_true(nb_ip4net_contains(&a, ip));
	assert_int_equal(nb_ip4_parse("10.0.1.1", &ip), 0);
	assert_false(nb_ip4net_contains(&a, ip));

	assert_int_equal(nb_ip4net_parse("10.0.0.0/16", &b), 0);
	assert_true(nb_ip4net_overlap(&a, &b));
	assert_true(nb_ip4net_overlap(&b, &a));
	assert_int_equal(nb_ip4net_parse("10.1.0.0/16", &b), 0);
	assert_false(nb_ip4net_overlap(&a, &b));
	assert_int_equal(nb_ip4net_parse("10.0.0.128/25", &b), 0);
	assert_true(nb_ip4net_overlap(&a, &b));
	assert_int_equal(nb_ip4net_parse("0.0.0.0/0", &b), 0);
	assert_true(nb_ip4net_overlap(&a, &b));
	assert_true(nb_ip4net_contains(&b, 0xdeadbeef));
}

static void
test_ifname_valid(void **state)
{
	static const char *good[] = {
		"a", "uk-lan", "br_0.1", "ABCDEFGHIJKLMNO", "uk1f",
	};
	static const char *bad[] = {
		"", ".", "..", "x%d", "br0%", "ABCDEFGHIJKLMNOP", "br 0",
		"br/0", "br:0", "br@0", "br+", "br\n", "\xc3\xa9",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(nb_ifname_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(nb_ifname_valid(bad[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_name),
		cmocka_unit_test(test_tap_names_unique),
		cmocka_unit_test(test_mac_generate),
		cmocka_unit_test(test_mac_collisions),
		cmocka_unit_test(test_mac_host),
		cmocka_unit_test(test_mac_parse_format),
		cmocka_unit_test(test_mac_parse_bad),
		cmocka_unit_test(test_ip4_parse_format),
		cmocka_unit_test(test_ip4_parse_bad),
		cmocka_unit_test(test_ip4_contains_overlap),
		cmocka_unit_test(test_ifname_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
