/*
 * The test guest's packet code: Ethernet, ARP, IPv4, ICMP echo and UDP,
 * as pure functions over byte buffers (no fds, no printing), so that the
 * unit tests can feed it frames without a TAP or root. guest-net.c does
 * the I/O and the reporting.
 *
 * Addresses and ports are in host byte order in every struct here.
 */
#ifndef UNIK_GUEST_PACKET_H
#define UNIK_GUEST_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define GPKT_ETH_HLEN 14
#define GPKT_ARP_LEN (GPKT_ETH_HLEN + 28)
#define GPKT_IP_HLEN 20
#define GPKT_UDP_HLEN 8
#define GPKT_ETHERTYPE_IPV4 0x0800
#define GPKT_ETHERTYPE_ARP 0x0806
#define GPKT_PROTO_ICMP 1
#define GPKT_PROTO_UDP 17
#define GPKT_TTL 64

/* What the guest is on one NIC. */
struct gpkt_iface {
	uint8_t mac[6];
	uint32_t ip;		/* 0: no address, IPv4 is ignored */
	uint16_t udp_echo_port;	/* 0: no echo */
};

enum gpkt_kind {
	GPKT_IGNORED,		/* not for us, malformed or not handled */
	GPKT_ARP_ANSWERED,	/* a request for our address: reply built */
	GPKT_ARP_LEARNED,	/* a reply: peer_ip is at peer_mac */
	GPKT_ICMP_ECHO,		/* an echo request: reply built */
	GPKT_UDP_ECHO,		/* a datagram to the echo port: reply built */
	GPKT_UDP_RECEIVED,	/* a datagram to another port */
};

/* What a received frame was, for the caller to learn and report. */
struct gpkt_event {
	enum gpkt_kind kind;
	uint8_t peer_mac[6];
	uint32_t peer_ip;
	uint16_t peer_port;	/* UDP */
	uint16_t port;		/* UDP: ours */
	uint16_t icmp_seq;
	const uint8_t *payload;	/* UDP: inside the received frame */
	size_t payload_len;
};

/*
 * Handles one received frame: fills ev and, when the frame asks for an
 * answer (ARP request for ip, ICMP echo request, UDP to the echo port),
 * builds the reply frame in out and returns its length; returns 0 when
 * nothing is to be sent. Frames to another unicast MAC, truncated or
 * malformed ones (bad lengths, bad checksums, fragments) are ignored.
 */
size_t gpkt_input(const struct gpkt_iface *ifc, const uint8_t *frame,
    size_t len, uint8_t *out, size_t cap, struct gpkt_event *ev);

/* A broadcast ARP request for target; returns the length, 0 if cap is
 * too small. */
size_t gpkt_arp_request(const struct gpkt_iface *ifc, uint32_t target,
    uint8_t *out, size_t cap);

/* An Ethernet frame with an IPv4/UDP datagram from ifc->ip:sport to
 * dst:dport through the next hop at dst_mac; 0 if cap is too small. */
size_t gpkt_udp_build(const struct gpkt_iface *ifc, const uint8_t dst_mac[6],
    uint32_t dst, uint16_t sport, uint16_t dport, const void *payload,
    size_t n, uint8_t *out, size_t cap);

/* The Internet checksum (RFC 1071) of buf, added to a partial sum. */
uint16_t gpkt_cksum(const void *buf, size_t len, uint32_t sum);

#endif
