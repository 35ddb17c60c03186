/*
 * The test guest's NICs. It is the VM side of each TAP: it opens the TAP
 * by name as solo5-spt does (guest-tap.c), reads the TAP's MTU, and then
 * reads and writes raw Ethernet frames on it. On the first NIC it has the
 * address of --ipv4= and answers ARP, ICMP echo and UDP on --udp-echo= (the
 * packet code is in guest-packet.c); --udp-to= sends one datagram a
 * second, through the --ipv4-gateway= when the destination is off-link,
 * after resolving the next hop by ARP. Notable events are printed on the
 * console, rate-limited so that a flood of pings stays readable.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "guest-packet.h"
#include "guest.h"

#define GNET_MAX_NICS 16
#define GNET_MAX_TARGETS 8
#define GNET_NEIGHBOURS 32
#define GNET_FRAME_MAX (65535 + GPKT_ETH_HLEN)
#define GNET_READ_BATCH 64	/* frames per NIC per wakeup */
#define GNET_SEND_PERIOD 1000000000LL
#define GNET_SPORT_BASE 40000	/* source port of the --udp-to datagrams */

struct gnet_nic {
	char name[68];
	char iface[IFNAMSIZ];
	int fd;			/* -1 once the TAP failed */
	unsigned mtu;
	struct gpkt_iface ifc;	/* ip 0 except on the first NIC */
};

/* One --udp-to=ADDR:PORT. */
struct gnet_target {
	uint32_t ip;
	uint16_t port;
	unsigned long seq;
	bool pending;		/* waiting for the next hop's ARP reply */
};

struct gnet_neighbour {
	uint32_t ip;
	uint8_t mac[6];
};

/* What gets a console line; each kind is rate-limited on its own. */
enum gnet_report {
	R_ARP_REPLY,
	R_ARP_LEARN,
	R_ARP_REQUEST,
	R_ICMP,
	R_UDP_ECHO,
	R_UDP_RECV,
	R_UDP_SENT,
	R_NO_ROUTE,
	R_WRITE,
	R_COUNT
};

struct guest_net {
	struct gnet_nic nics[GNET_MAX_NICS];
	size_t n_nics;
	uint32_t ip;		/* --ipv4= */
	unsigned prefix;
	uint32_t gateway;	/* --ipv4-gateway=, 0: none */
	uint16_t echo_port;	/* --udp-echo= */
	struct gnet_target targets[GNET_MAX_TARGETS];
	size_t n_targets;
	struct gnet_neighbour neighbours[GNET_NEIGHBOURS];
	size_t n_neighbours, next_neighbour;
	int64_t next_send;
	uint32_t asked_hop;	/* the last ARP request, and when */
	int64_t asked_at;
	unsigned long reports[R_COUNT];
	uint8_t rx[GNET_FRAME_MAX], tx[GNET_FRAME_MAX];
};

static const char *
ip_str(uint32_t ip, char buf[INET_ADDRSTRLEN])
{
	struct in_addr a = {.s_addr = htonl(ip)};

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Prints the first 3 events of a kind, then every 100th. */
static void __attribute__((format(printf, 3, 4)))
report(struct guest_net *n, enum gnet_report kind, const char *fmt, ...)
{
	unsigned long c = ++n->reports[kind];
	char line[256];
	va_list ap;

	if (c > 3 && c % 100 != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c > 3)
		say("testguest: %s (#%lu)", line, c);
	else
		say("testguest: %s", line);
}

/* --- arguments --- */

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (guest_parse_ulong(s, 65535, &v) == -1 || v == 0)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "A.B.C.D/P" or "A.B.C.D:PORT": splits at sep into addr and the rest. */
static const char *
split_addr(const char *s, char sep, char addr[INET_ADDRSTRLEN])
{
	const char *p = strchr(s, sep);

	if (p == NULL || (size_t)(p - s) >= INET_ADDRSTRLEN)
		return NULL;
	memcpy(addr, s, (size_t)(p - s));
	addr[p - s] = '\0';
	return p + 1;
}

static void
parse_ipv4(struct guest_net *n, const char *v)
{
	char addr[INET_ADDRSTRLEN];
	const char *pfx = split_addr(v, '/', addr);
	char *end;
	unsigned long p;

	if (pfx == NULL || parse_ip(addr, &n->ip) == -1 || n->ip == 0)
		die("--ipv4: invalid address '%s' (want ADDR/PREFIX)", v);
	errno = 0;
	p = strtoul(pfx, &end, 10);
	if (*pfx < '0' || *pfx > '9' || *end != '\0' || p > 32)
		die("--ipv4: invalid prefix in '%s'", v);
	n->prefix = (unsigned)p;
}

static void
parse_udp_to(struct guest_net *n, const char *v)
{
	char addr[INET_ADDRSTRLEN];
	const char *port = split_addr(v, ':', addr);
	struct gnet_target *t;

	if (n->n_targets == GNET_MAX_TARGETS)
		die("--udp-to: at most %d destinations", GNET_MAX_TARGETS);
	t = &n->targets[n->n_targets];
	if (port == NULL || parse_ip(addr, &t->ip) == -1 ||
	    parse_port(port, &t->port) == -1)
		die("--udp-to: invalid destination '%s' (want ADDR:PORT)", v);
	n->n_targets++;
}

void
guest_net_free(struct guest_net *n)
{
	free(n);
}

struct guest_net *
guest_net_new(int argc, char **argv, int first)
{
	struct guest_net *n = calloc(1, sizeof(*n));
	int i;

	if (n == NULL)
		die("out of memory");
	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--ipv4=", 7) == 0) {
			parse_ipv4(n, a + 7);
		} else if (strncmp(a, "--ipv4-gateway=", 15) == 0) {
			if (parse_ip(a + 15, &n->gateway) == -1)
				die("--ipv4-gateway: invalid address '%s'",
				    a + 15);
		} else if (strncmp(a, "--udp-echo=", 11) == 0) {
			if (parse_port(a + 11, &n->echo_port) == -1)
				die("--udp-echo: invalid port '%s'", a + 11);
		} else if (strncmp(a, "--udp-to=", 9) == 0) {
			parse_udp_to(n, a + 9);
		}
	}
	return n;
}

/* --- attaching TAPs --- */

void
guest_net_attach(struct guest_net *n, const char *name, const char *iface,
    const char *mac)
{
	struct gnet_nic *nic;
	uint8_t *m;

	if (n->n_nics == GNET_MAX_NICS)
		die("too many network devices (max %d)", GNET_MAX_NICS);
	nic = &n->nics[n->n_nics];
	memset(nic, 0, sizeof(*nic));
	snprintf(nic->name, sizeof(nic->name), "%s", name);
	snprintf(nic->iface, sizeof(nic->iface), "%s", iface);
	/* "@FD" is documented by Solo5 but fails in every release. */
	if (iface[0] == '@')
		die("Could not attach interface: %s: Success", iface);
	nic->fd = guest_tap_open(iface, &nic->mtu);
	if (nic->fd == -1)
		die("Could not attach interface: %s: %s", iface,
		    strerror(errno));
	if (mac != NULL)
		guest_mac_parse(mac, nic->ifc.mac);
	else
		guest_mac_random(nic->ifc.mac);
	m = nic->ifc.mac;
	say("Solo5: net '%s' iface %s mac %02x:%02x:%02x:%02x:%02x:%02x "
	    "mtu %u",
	    name, iface, m[0], m[1], m[2], m[3], m[4], m[5], nic->mtu);
	n->n_nics++;
}

void
guest_net_start(struct guest_net *n)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	struct gnet_nic *nic = &n->nics[0];

	if (n->ip == 0) {
		if (n->echo_port != 0 || n->n_targets > 0 || n->gateway != 0)
			die("--udp-echo, --udp-to and --ipv4-gateway need "
			    "--ipv4=ADDR/PREFIX");
		return;
	}
	if (n->n_nics == 0)
		die("--ipv4 needs a network device (--net:NAME=IFACE)");
	nic->ifc.ip = n->ip;
	nic->ifc.udp_echo_port = n->echo_port;
	say("testguest: net '%s' ipv4 %s/%u gateway %s", nic->name,
	    ip_str(n->ip, a), n->prefix,
	    n->gateway != 0 ? ip_str(n->gateway, g) : "none");
	if (n->echo_port != 0)
		say("testguest: udp echo on port %u", n->echo_port);
	n->next_send = now_ns();
}

/* --- neighbours and sending --- */

static const uint8_t *
neighbour_find(const struct guest_net *n, uint32_t ip)
{
	size_t i;

	for (i = 0; i < n->n_neighbours; i++)
		if (n->neighbours[i].ip == ip)
			return n->neighbours[i].mac;
	return NULL;
}

static void
neighbour_learn(struct guest_net *n, uint32_t ip, const uint8_t mac[6])
{
	struct gnet_neighbour *nb = NULL;
	size_t i;

	for (i = 0; i < n->n_neighbours; i++)
		if (n->neighbours[i].ip == ip)
			nb = &n->neighbours[i];
	if (nb == NULL && n->n_neighbours < GNET_NEIGHBOURS)
		nb = &n->neighbours[n->n_neighbours++];
	if (nb == NULL) {
		nb = &n->neighbours[n->next_neighbour];
		n->next_neighbour = (n->next_neighbour + 1) % GNET_NEIGHBOURS;
	}
	nb->ip = ip;
	memcpy(nb->mac, mac, 6);
}

static void
nic_write(struct guest_net *n, struct gnet_nic *nic, size_t len)
{
	if (len == 0 || nic->fd == -1)
		return;
	if (write(nic->fd, n->tx, len) != (ssize_t)len)
		report(n, R_WRITE, "net '%s': write: %s", nic->name,
		    strerror(errno));
}

/* The address to ARP for: dst itself when on-link, else the gateway. */
static uint32_t
next_hop(const struct guest_net *n, uint32_t dst)
{
	uint32_t mask = n->prefix == 0 ? 0 : ~0U << (32 - n->prefix);

	if ((dst & mask) == (n->ip & mask))
		return dst;
	return n->gateway;
}

/* One ARP request per next hop per period, however many targets. */
static void
arp_ask(struct guest_net *n, uint32_t hop)
{
	struct gnet_nic *nic = &n->nics[0];
	char a[INET_ADDRSTRLEN];
	int64_t now = now_ns();

	if (hop == n->asked_hop && now - n->asked_at < GNET_SEND_PERIOD / 2)
		return;
	n->asked_hop = hop;
	n->asked_at = now;
	report(n, R_ARP_REQUEST, "arp who-has %s", ip_str(hop, a));
	nic_write(n, nic, gpkt_arp_request(&nic->ifc, hop, n->tx,
	    sizeof(n->tx)));
}

static void
target_send(struct guest_net *n, struct gnet_target *t)
{
	struct gnet_nic *nic = &n->nics[0];
	char a[INET_ADDRSTRLEN], payload[128];
	uint32_t hop = next_hop(n, t->ip);
	const uint8_t *mac;
	size_t i = (size_t)(t - n->targets);
	int len;

	if (hop == 0) {
		report(n, R_NO_ROUTE, "udp to %s: no route (off-link and no "
		    "--ipv4-gateway)", ip_str(t->ip, a));
		return;
	}
	mac = neighbour_find(n, hop);
	if (mac == NULL) {
		t->pending = true;
		arp_ask(n, hop);
		return;
	}
	t->pending = false;
	len = snprintf(payload, sizeof(payload), "testguest %s seq %lu",
	    nic->name, ++t->seq);
	nic_write(n, nic, gpkt_udp_build(&nic->ifc, mac, t->ip,
	    (uint16_t)(GNET_SPORT_BASE + i), t->port, payload, (size_t)len,
	    n->tx, sizeof(n->tx)));
	report(n, R_UDP_SENT, "udp to %s:%u seq %lu", ip_str(t->ip, a),
	    t->port, t->seq);
}

/* Sends the datagrams that waited for the next hop that just answered. */
static void
targets_resolved(struct guest_net *n, uint32_t ip)
{
	size_t i;

	for (i = 0; i < n->n_targets; i++)
		if (n->targets[i].pending && next_hop(n, n->targets[i].ip) == ip)
			target_send(n, &n->targets[i]);
}

/* --- receiving --- */

/* The payload as one console-safe line. */
static void
payload_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i < len && i + 1 < cap; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	out[i] = '\0';
}

static void
frame_report(struct guest_net *n, const struct gpkt_event *ev)
{
	char a[INET_ADDRSTRLEN], text[65];

	ip_str(ev->peer_ip, a);
	switch (ev->kind) {
	case GPKT_ARP_ANSWERED:
		report(n, R_ARP_REPLY, "arp reply to %s", a);
		break;
	case GPKT_ARP_LEARNED:
		report(n, R_ARP_LEARN, "arp %s is at %02x:%02x:%02x:%02x:%02x:"
		    "%02x", a, ev->peer_mac[0], ev->peer_mac[1],
		    ev->peer_mac[2], ev->peer_mac[3], ev->peer_mac[4],
		    ev->peer_mac[5]);
		break;
	case GPKT_ICMP_ECHO:
		report(n, R_ICMP, "icmp echo from %s seq %u", a, ev->icmp_seq);
		break;
	case GPKT_UDP_ECHO:
	case GPKT_UDP_RECEIVED:
		payload_text(ev->payload, ev->payload_len, text, sizeof(text));
		report(n, ev->kind == GPKT_UDP_ECHO ? R_UDP_ECHO : R_UDP_RECV,
		    "udp %s %s:%u port %u len %zu: %s",
		    ev->kind == GPKT_UDP_ECHO ? "echo to" : "from", a,
		    ev->peer_port, ev->port, ev->payload_len, text);
		break;
	case GPKT_IGNORED:
		break;
	}
}

/* The TAP is gone (deleted under us): stop polling it. */
static void
nic_detach(struct gnet_nic *nic, const char *why)
{
	say("testguest: net '%s': %s; detached", nic->name, why);
	close(nic->fd);
	nic->fd = -1;
}

static void
nic_input(struct guest_net *n, struct gnet_nic *nic)
{
	struct gpkt_event ev;
	ssize_t got;
	size_t out;
	int i;

	for (i = 0; i < GNET_READ_BATCH && nic->fd != -1; i++) {
		got = read(nic->fd, n->rx, sizeof(n->rx));
		if (got == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (got <= 0) {
			nic_detach(nic, got == 0 ? "end of file" :
			    strerror(errno));
			return;
		}
		out = gpkt_input(&nic->ifc, n->rx, (size_t)got, n->tx,
		    sizeof(n->tx), &ev);
		nic_write(n, nic, out);
		frame_report(n, &ev);
		if (ev.kind == GPKT_ARP_ANSWERED || ev.kind == GPKT_ARP_LEARNED) {
			neighbour_learn(n, ev.peer_ip, ev.peer_mac);
			targets_resolved(n, ev.peer_ip);
		}
	}
}

/* --- the loop --- */

static void
targets_tick(struct guest_net *n, int64_t now)
{
	size_t i;

	if (n->n_targets == 0 || now < n->next_send)
		return;
	for (i = 0; i < n->n_targets; i++)
		target_send(n, &n->targets[i]);
	/* A fixed schedule; after a long stall, start again from now. */
	n->next_send += GNET_SEND_PERIOD;
	if (n->next_send <= now)
		n->next_send = now + GNET_SEND_PERIOD;
}

void
guest_net_wait(struct guest_net *n, int64_t deadline, const sigset_t *waitmask)
{
	struct pollfd fds[GNET_MAX_NICS];
	struct gnet_nic *owner[GNET_MAX_NICS];
	struct timespec ts;
	int64_t now, until, left;
	size_t i, nfds;
	int r;

	for (;;) {
		now = now_ns();
		targets_tick(n, now);
		if (now >= deadline)
			return;
		until = deadline;
		if (n->n_targets > 0 && n->next_send < until)
			until = n->next_send;
		left = until - now;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		for (i = nfds = 0; i < n->n_nics; i++) {
			if (n->nics[i].fd == -1)
				continue;
			fds[nfds].fd = n->nics[i].fd;
			fds[nfds].events = POLLIN;
			owner[nfds++] = &n->nics[i];
		}
		r = ppoll(nfds > 0 ? fds : NULL, nfds, &ts, waitmask);
		if (r == -1 && errno == EINTR)
			return;
		if (r == -1)
			die("ppoll: %s", strerror(errno));
		for (i = 0; r > 0 && i < nfds; i++) {
			if (fds[i].revents & POLLIN)
				nic_input(n, owner[i]);
			else if (fds[i].revents != 0)
				nic_detach(owner[i], "poll error");
		}
	}
}
