/*
 * The test guest's packet code (tests/guest/guest-packet.c), fed frames
 * built here by hand: what it answers to ARP, ICMP echo and UDP, and that
 * frames for someone else, truncated or malformed ones are ignored without
 * harm. Checksums are verified with this file's own implementation.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guest-packet.h"

#define GUEST_IP 0x0a000002	/* 10.0.0.2 */
#define HOST_IP 0x0a000001	/* 10.0.0.1 */
#define ECHO_PORT 7

static const uint8_t guest_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t host_mac[6] = {0xfe, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x99};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static const struct gpkt_iface ifc = {
	.mac = {0x02, 0, 0, 0, 0, 0x02},
	.ip = GUEST_IP,
	.udp_echo_port = ECHO_PORT,
};

static uint8_t out[2048];

/* --- this test's own frame building and checksum --- */

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static void
w16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
w32(uint8_t *p, uint32_t v)
{
	w16(p, v >> 16);
	w16(p + 2, v & 0xffff);
}

/* Sum of 16-bit words, folded at the end: 0xffff when the data carries
 * a correct checksum. */
static unsigned
ones_sum(const uint8_t *p, size_t n, unsigned long extra)
{
	unsigned long s = extra;
	size_t i;

	for (i = 0; i < n; i++)
		s += (i % 2 == 0) ? (unsigned long)p[i] << 8 : p[i];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

static unsigned
csum(const uint8_t *p, size_t n, unsigned long extra)
{
	return ~ones_sum(p, n, extra) & 0xffff;
}

static unsigned long
pseudo(uint32_t src, uint32_t dst, size_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	    17 + len;
}

static size_t
eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	w16(f + 12, type);
	return 14;
}

static size_t
arp(uint8_t *f, const uint8_t dst[6], unsigned op, uint32_t spa,
    uint32_t tpa)
{
	uint8_t *a = f + eth(f, dst, host_mac, 0x0806);

	w16(a, 1);
	w16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	w16(a + 6, op);
	memcpy(a + 8, host_mac, 6);
	w32(a + 14, spa);
	memset(a + 18, 0, 6);
	w32(a + 24, tpa);
	return 42;
}

/* An IPv4 header (no options) from the host to dst; returns 34. */
static size_t
ip(uint8_t *f, const uint8_t mac[6], uint32_t dst, unsigned proto,
    size_t payload)
{
	uint8_t *h = f + eth(f, mac, host_mac, 0x0800);

	memset(h, 0, 20);
	h[0] = 0x45;
	w16(h + 2, 20 + payload);
	w16(h + 4, 0x1234);
	h[8] = 17;
	h[9] = (uint8_t)proto;
	w32(h + 12, HOST_IP);
	w32(h + 16, dst);
	w16(h + 10, csum(h, 20, 0));
	return 34;
}

static size_t
icmp_echo(uint8_t *f, const uint8_t mac[6], unsigned seq)
{
	static const char data[] = "0123456789abcdefghij";
	size_t n = 8 + sizeof(data);
	uint8_t *m = f + ip(f, mac, GUEST_IP, 1, n);

	m[0] = 8;
	m[1] = 0;
	w16(m + 2, 0);
	w16(m + 4, 0xbeef);
	w16(m + 6, seq);
	memcpy(m + 8, data, sizeof(data));
	w16(m + 2, csum(m, n, 0));
	return 34 + n;
}

static size_t
udp(uint8_t *f, unsigned dport, const char *payload, int with_sum)
{
	size_t n = 8 + strlen(payload);
	uint8_t *u = f + ip(f, guest_mac, GUEST_IP, 17, n);

	w16(u, 5555);
	w16(u + 2, dport);
	w16(u + 4, n);
	w16(u + 6, 0);
	memcpy(u + 8, payload, strlen(payload));
	if (with_sum)
		w16(u + 6, csum(u, n, pseudo(HOST_IP, GUEST_IP, n)));
	return 34 + n;
}

/* Checks the Ethernet + IPv4 header of a frame the guest sent. */
static void
check_ip_reply(const uint8_t *f, size_t len, unsigned proto)
{
	const uint8_t *h = f + 14;

	assert_true(len >= 34);
	assert_memory_equal(f, host_mac, 6);
	assert_memory_equal(f + 6, guest_mac, 6);
	assert_int_equal(be16(f + 12), 0x0800);
	assert_int_equal(h[0], 0x45);
	assert_int_equal(be16(h + 2), len - 14);
	assert_int_equal(h[8], 64);	/* TTL */
	assert_int_equal(h[9], proto);
	assert_int_equal(be16(h + 6) & 0x3fff, 0);	/* not a fragment */
	assert_int_equal(be32(h + 12), GUEST_IP);
	assert_int_equal(be32(h + 16), HOST_IP);
	assert_int_equal(ones_sum(h, 20, 0), 0xffff);
}

/* --- tests --- */

static void
test_arp_request_answered(void **state)
{
	uint8_t f[64];
	struct gpkt_event ev;
	size_t n = arp(f, bcast, 1, HOST_IP, GUEST_IP);
	size_t r = gpkt_input(&ifc, f, n, out, sizeof(out), &ev);
	const uint8_t *a = out + 14;

	(void)state;
	assert_int_equal(ev.kind, GPKT_ARP_ANSWERED);
	assert_int_equal(ev.peer_ip, HOST_IP);
	assert_memory_equal(ev.peer_mac, host_mac, 6);
	assert_int_equal(r, 42);
	assert_memory_equal(out, host_mac, 6);
	assert_memory_equal(out + 6, guest_mac, 6);
	assert_int_equal(be16(out + 12), 0x0806);
	assert_int_equal(be16(a), 1);
	assert_int_equal(be16(a + 2), 0x0800);
	assert_int_equal(be16(a + 6), 2);	/* reply */
	assert_memory_equal(a + 8, guest_mac, 6);
	assert_int_equal(be32(a + 14), GUEST_IP);
	assert_memory_equal(a + 18, host_mac, 6);
	assert_int_equal(be32(a + 24), HOST_IP);
}

static void
test_arp_for_others_ignored(void **state)
{
	struct gpkt_iface noip = ifc;
	struct gpkt_event ev;
	uint8_t f[64];
	size_t n;

	(void)state;
	n = arp(f, bcast, 1, HOST_IP, 0x0a000003);
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_IGNORED);
	/* A probe from 0.0.0.0 (address conflict detection) is not answered. */
	n = arp(f, bcast, 1, 0, GUEST_IP);
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	/* Without an address the guest answers nothing. */
	noip.ip = 0;
	n = arp(f, bcast, 1, HOST_IP, GUEST_IP);
	assert_int_equal(gpkt_input(&noip, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_IGNORED);
}

static void
test_arp_reply_learned(void **state)
{
	struct gpkt_event ev;
	uint8_t f[64];
	size_t n = arp(f, guest_mac, 2, HOST_IP, GUEST_IP);

	(void)state;
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_ARP_LEARNED);
	assert_int_equal(ev.peer_ip, HOST_IP);
	assert_memory_equal(ev.peer_mac, host_mac, 6);
}

static void
test_icmp_echo_reply(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n = icmp_echo(f, guest_mac, 42), r;
	const uint8_t *m = out + 34;

	(void)state;
	r = gpkt_input(&ifc, f, n, out, sizeof(out), &ev);
	assert_int_equal(ev.kind, GPKT_ICMP_ECHO);
	assert_int_equal(ev.icmp_seq, 42);
	assert_int_equal(ev.peer_ip, HOST_IP);
	assert_int_equal(r, n);
	check_ip_reply(out, r, 1);
	assert_int_equal(m[0], 0);	/* echo reply */
	assert_int_equal(m[1], 0);
	assert_int_equal(ones_sum(m, r - 34, 0), 0xffff);
	/* Identifier, sequence and data come back unchanged. */
	assert_memory_equal(m + 4, f + 34 + 4, n - 34 - 4);
}

static void
test_icmp_bad_checksum_ignored(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n = icmp_echo(f, guest_mac, 1);

	(void)state;
	f[n - 1] ^= 0x40;
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_IGNORED);
	/* A bad IPv4 header checksum, too. */
	n = icmp_echo(f, guest_mac, 1);
	f[14 + 8] = 3;		/* TTL changed, checksum not */
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
}

static void
test_udp_echo(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n = udp(f, ECHO_PORT, "hello echo", 1), r;
	const uint8_t *u = out + 34;

	(void)state;
	r = gpkt_input(&ifc, f, n, out, sizeof(out), &ev);
	assert_int_equal(ev.kind, GPKT_UDP_ECHO);
	assert_int_equal(ev.peer_port, 5555);
	assert_int_equal(ev.port, ECHO_PORT);
	assert_int_equal(r, n);
	check_ip_reply(out, r, 17);
	assert_int_equal(be16(u), ECHO_PORT);
	assert_int_equal(be16(u + 2), 5555);
	assert_int_equal(be16(u + 4), 8 + 10);
	assert_memory_equal(u + 8, "hello echo", 10);
	assert_int_not_equal(be16(u + 6), 0);
	assert_int_equal(ones_sum(u, 18, pseudo(GUEST_IP, HOST_IP, 18)),
	    0xffff);
}

static void
test_udp_other_port_received(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n = udp(f, 9, "testguest a seq 1", 0);	/* no checksum */

	(void)state;
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_UDP_RECEIVED);
	assert_int_equal(ev.port, 9);
	assert_int_equal(ev.payload_len, 17);
	assert_memory_equal(ev.payload, "testguest a seq 1", 17);
	/* A wrong checksum drops the datagram. */
	n = udp(f, ECHO_PORT, "x", 1);
	f[n - 1] ^= 1;
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_IGNORED);
}

static void
test_other_mac_ignored(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n;

	(void)state;
	n = icmp_echo(f, other_mac, 1);
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	assert_int_equal(ev.kind, GPKT_IGNORED);
	n = arp(f, other_mac, 1, HOST_IP, GUEST_IP);
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	/* For our MAC but another address. */
	n = ip(f, guest_mac, 0x0a000003, 1, 0);
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
}

/* Every prefix of a good frame is ignored, without reading past it. */
static void
check_truncations(const uint8_t *good, size_t n)
{
	struct gpkt_event ev;
	size_t len;
	uint8_t *copy;

	for (len = 0; len < n; len++) {
		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		memcpy(copy, good, len);
		assert_int_equal(gpkt_input(&ifc, copy, len, out, sizeof(out),
		    &ev), 0);
		free(copy);
	}
	assert_int_not_equal(gpkt_input(&ifc, good, n, out, sizeof(out), &ev),
	    0);
}

static void
test_truncated_frames_ignored(void **state)
{
	uint8_t f[128];

	(void)state;
	check_truncations(f, arp(f, bcast, 1, HOST_IP, GUEST_IP));
	check_truncations(f, icmp_echo(f, guest_mac, 7));
	check_truncations(f, udp(f, ECHO_PORT, "abc", 1));
}

static void
test_malformed_frames_ignored(void **state)
{
	uint8_t f[128];
	struct gpkt_event ev;
	size_t n, i;
	unsigned seed = 1;

	(void)state;
	n = icmp_echo(f, guest_mac, 1);
	f[14] = 0x44;		/* IHL 4 */
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	n = icmp_echo(f, guest_mac, 1);
	f[14] = 0x65;		/* version 6 */
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	n = icmp_echo(f, guest_mac, 1);
	w16(f + 14 + 6, 0x2000);	/* more fragments */
	w16(f + 14 + 10, 0);
	w16(f + 14 + 10, csum(f + 14, 20, 0));
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	n = udp(f, ECHO_PORT, "abc", 0);
	w16(f + 34 + 4, 200);	/* UDP length past the datagram */
	assert_int_equal(gpkt_input(&ifc, f, n, out, sizeof(out), &ev), 0);
	/* A reply that does not fit the caller's buffer is not built. */
	n = icmp_echo(f, guest_mac, 1);
	assert_int_equal(gpkt_input(&ifc, f, n, out, 40, &ev), 0);
	/* Random bytes after a valid Ethernet header: no crash (ASan). */
	for (i = 0; i < 20000; i++) {
		size_t j, len = 14 + (size_t)(rand_r(&seed) % 100);

		n = icmp_echo(f, guest_mac, 1);
		for (j = 14; j < len; j++)
			if (rand_r(&seed) % 4 == 0)
				f[j] = (uint8_t)rand_r(&seed);
		gpkt_input(&ifc, f, len, out, sizeof(out), &ev);
	}
}

static void
test_built_frames(void **state)
{
	size_t r;

	(void)state;
	r = gpkt_arp_request(&ifc, HOST_IP, out, sizeof(out));
	assert_int_equal(r, 42);
	assert_memory_equal(out, bcast, 6);
	assert_int_equal(be16(out + 14 + 6), 1);
	assert_int_equal(be32(out + 14 + 24), HOST_IP);
	r = gpkt_udp_build(&ifc, host_mac, HOST_IP, 40000, 9999,
	    "testguest service seq 1", 23, out, sizeof(out));
	assert_int_equal(r, 34 + 8 + 23);
	check_ip_reply(out, r, 17);
	assert_int_equal(ones_sum(out + 34, 31, pseudo(GUEST_IP, HOST_IP, 31)),
	    0xffff);
	assert_int_equal(gpkt_udp_build(&ifc, host_mac, HOST_IP, 1, 2, "x", 1,
	    out, 40), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_request_answered),
		cmocka_unit_test(test_arp_for_others_ignored),
		cmocka_unit_test(test_arp_reply_learned),
		cmocka_unit_test(test_icmp_echo_reply),
		cmocka_unit_test(test_icmp_bad_checksum_ignored),
		cmocka_unit_test(test_udp_echo),
		cmocka_unit_test(test_udp_other_port_received),
		cmocka_unit_test(test_other_mac_ignored),
		cmocka_unit_test(test_truncated_frames_ignored),
		cmocka_unit_test(test_malformed_frames_ignored),
		cmocka_unit_test(test_built_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
