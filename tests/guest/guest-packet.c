/*
 * The test guest's packet code (see guest-packet.h): it answers ARP for
 * its address, ICMP echo and UDP on its echo port, and builds the ARP
 * requests and UDP datagrams it sends. Every length is checked against
 * the frame before a byte is read; anything odd is ignored, as a small
 * network stack would.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "guest-packet.h"

static const uint8_t mac_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff,
    0xff};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

uint16_t
gpkt_cksum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	for (; len > 1; len -= 2, p += 2)
		s += get16(p);
	if (len == 1)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The UDP pseudo-header's part of the checksum (RFC 768). */
static uint32_t
udp_pseudo_sum(uint32_t src, uint32_t dst, size_t udp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	    GPKT_PROTO_UDP + (uint32_t)udp_len;
}

static void
eth_header(uint8_t *out, const uint8_t dst[6], const uint8_t src[6],
    uint16_t type)
{
	memcpy(out, dst, 6);
	memcpy(out + 6, src, 6);
	put16(out + 12, type);
}

/* A 20-byte IPv4 header (DF, TTL 64) with its checksum. */
static void
ip_header(uint8_t *ip, uint32_t src, uint32_t dst, uint8_t proto,
    size_t payload_len)
{
	memset(ip, 0, GPKT_IP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(GPKT_IP_HLEN + payload_len));
	put16(ip + 6, 0x4000);
	ip[8] = GPKT_TTL;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, gpkt_cksum(ip, GPKT_IP_HLEN, 0));
}

static size_t
arp_build(const struct gpkt_iface *ifc, uint16_t op, const uint8_t eth_dst[6],
    const uint8_t tha[6], uint32_t tpa, uint8_t *out, size_t cap)
{
	uint8_t *a = out + GPKT_ETH_HLEN;

	if (cap < GPKT_ARP_LEN)
		return 0;
	eth_header(out, eth_dst, ifc->mac, GPKT_ETHERTYPE_ARP);
	put16(a, 1);		/* Ethernet */
	put16(a + 2, GPKT_ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, ifc->mac, 6);
	put32(a + 14, ifc->ip);
	memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	return GPKT_ARP_LEN;
}

size_t
gpkt_arp_request(const struct gpkt_iface *ifc, uint32_t target, uint8_t *out,
    size_t cap)
{
	static const uint8_t zero[6];

	return arp_build(ifc, 1, mac_broadcast, zero, target, out, cap);
}

static size_t
arp_input(const struct gpkt_iface *ifc, const uint8_t *a, size_t len,
    uint8_t *out, size_t cap, struct gpkt_event *ev)
{
	uint16_t op;
	uint32_t spa, tpa;

	if (len < 28 || get16(a) != 1 || get16(a + 2) != GPKT_ETHERTYPE_IPV4 ||
	    a[4] != 6 || a[5] != 4 || ifc->ip == 0)
		return 0;
	op = get16(a + 6);
	spa = get32(a + 14);
	tpa = get32(a + 24);
	/* A probe (sender 0.0.0.0) or a multicast sender teaches nothing. */
	if (tpa != ifc->ip || spa == 0 || (a[8] & 1) != 0)
		return 0;
	memcpy(ev->peer_mac, a + 8, 6);
	ev->peer_ip = spa;
	if (op == 2) {
		ev->kind = GPKT_ARP_LEARNED;
		return 0;
	}
	if (op != 1)
		return 0;
	ev->kind = GPKT_ARP_ANSWERED;
	return arp_build(ifc, 2, a + 8, a + 8, spa, out, cap);
}

static size_t
icmp_input(const struct gpkt_iface *ifc, const uint8_t *eth_src,
    const uint8_t *icmp, size_t len, uint8_t *out, size_t cap,
    struct gpkt_event *ev)
{
	uint8_t *ip = out + GPKT_ETH_HLEN, *reply = ip + GPKT_IP_HLEN;

	if (len < 8 || gpkt_cksum(icmp, len, 0) != 0)
		return 0;
	if (icmp[0] != 8 || icmp[1] != 0)
		return 0;	/* only echo requests are answered */
	ev->kind = GPKT_ICMP_ECHO;
	ev->icmp_seq = get16(icmp + 6);
	if (cap < GPKT_ETH_HLEN + GPKT_IP_HLEN + len)
		return 0;
	eth_header(out, eth_src, ifc->mac, GPKT_ETHERTYPE_IPV4);
	ip_header(ip, ifc->ip, ev->peer_ip, GPKT_PROTO_ICMP, len);
	memcpy(reply, icmp, len);
	reply[0] = 0;		/* echo reply */
	put16(reply + 2, 0);
	put16(reply + 2, gpkt_cksum(reply, len, 0));
	return GPKT_ETH_HLEN + GPKT_IP_HLEN + len;
}

static size_t
udp_input(const struct gpkt_iface *ifc, const uint8_t *eth_src,
    const uint8_t *udp, size_t len, uint32_t dst, uint8_t *out, size_t cap,
    struct gpkt_event *ev)
{
	size_t ulen;

	if (len < GPKT_UDP_HLEN)
		return 0;
	ulen = get16(udp + 4);
	if (ulen < GPKT_UDP_HLEN || ulen > len)
		return 0;
	/* A zero checksum means "none" over IPv4. */
	if (get16(udp + 6) != 0 &&
	    gpkt_cksum(udp, ulen, udp_pseudo_sum(ev->peer_ip, dst, ulen)) != 0)
		return 0;
	ev->peer_port = get16(udp);
	ev->port = get16(udp + 2);
	ev->payload = udp + GPKT_UDP_HLEN;
	ev->payload_len = ulen - GPKT_UDP_HLEN;
	if (ifc->udp_echo_port == 0 || ev->port != ifc->udp_echo_port) {
		ev->kind = GPKT_UDP_RECEIVED;
		return 0;
	}
	ev->kind = GPKT_UDP_ECHO;
	return gpkt_udp_build(ifc, eth_src, ev->peer_ip, ev->port,
	    ev->peer_port, ev->payload, ev->payload_len, out, cap);
}

static size_t
ipv4_input(const struct gpkt_iface *ifc, const uint8_t *eth_src,
    const uint8_t *ip, size_t len, uint8_t *out, size_t cap,
    struct gpkt_event *ev)
{
	size_t hlen, tlen;
	uint32_t dst;

	if (ifc->ip == 0 || len < GPKT_IP_HLEN || (ip[0] >> 4) != 4)
		return 0;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	tlen = get16(ip + 2);
	if (hlen < GPKT_IP_HLEN || tlen < hlen || tlen > len ||
	    gpkt_cksum(ip, hlen, 0) != 0)
		return 0;
	/* Fragments (MF set or an offset) are not reassembled. */
	if ((get16(ip + 6) & 0x3fff) != 0)
		return 0;
	dst = get32(ip + 16);
	if (dst != ifc->ip)
		return 0;
	ev->peer_ip = get32(ip + 12);
	memcpy(ev->peer_mac, eth_src, 6);
	if (ip[9] == GPKT_PROTO_ICMP)
		return icmp_input(ifc, eth_src, ip + hlen, tlen - hlen, out,
		    cap, ev);
	if (ip[9] == GPKT_PROTO_UDP)
		return udp_input(ifc, eth_src, ip + hlen, tlen - hlen, dst,
		    out, cap, ev);
	return 0;
}

size_t
gpkt_input(const struct gpkt_iface *ifc, const uint8_t *frame, size_t len,
    uint8_t *out, size_t cap, struct gpkt_event *ev)
{
	size_t n = 0;

	memset(ev, 0, sizeof(*ev));
	ev->kind = GPKT_IGNORED;
	if (len < GPKT_ETH_HLEN)
		return 0;
	if (memcmp(frame, ifc->mac, 6) != 0 &&
	    memcmp(frame, mac_broadcast, 6) != 0)
		return 0;
	switch (get16(frame + 12)) {
	case GPKT_ETHERTYPE_ARP:
		n = arp_input(ifc, frame + GPKT_ETH_HLEN, len - GPKT_ETH_HLEN,
		    out, cap, ev);
		break;
	case GPKT_ETHERTYPE_IPV4:
		n = ipv4_input(ifc, frame + 6, frame + GPKT_ETH_HLEN,
		    len - GPKT_ETH_HLEN, out, cap, ev);
		break;
	}
	return n;
}

size_t
gpkt_udp_build(const struct gpkt_iface *ifc, const uint8_t dst_mac[6],
    uint32_t dst, uint16_t sport, uint16_t dport, const void *payload,
    size_t n, uint8_t *out, size_t cap)
{
	uint8_t *ip = out + GPKT_ETH_HLEN, *udp = ip + GPKT_IP_HLEN;
	size_t ulen = GPKT_UDP_HLEN + n;
	uint16_t sum;

	if (ulen > 0xffff - GPKT_IP_HLEN ||
	    cap < GPKT_ETH_HLEN + GPKT_IP_HLEN + ulen)
		return 0;
	eth_header(out, dst_mac, ifc->mac, GPKT_ETHERTYPE_IPV4);
	ip_header(ip, ifc->ip, dst, GPKT_PROTO_UDP, ulen);
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	memmove(udp + GPKT_UDP_HLEN, payload, n);
	sum = gpkt_cksum(udp, ulen, udp_pseudo_sum(ifc->ip, dst, ulen));
	/* A computed 0 is sent as 0xffff (0 would mean "no checksum"). */
	put16(udp + 6, sum == 0 ? 0xffff : sum);
	return GPKT_ETH_HLEN + GPKT_IP_HLEN + ulen;
}
