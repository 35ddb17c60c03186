/*
 * netbackend: the host side of VM networking, as a library. TAPs, bridges,
 * addresses, NAT, link dumps, stats and link notifications, made
 * in-process (ioctl on /dev/net/tun, rtnetlink through libnl-route,
 * nftables through libnftables). It knows nothing of VMs, HTTP or event
 * loops: names, MACs and addresses come in, links come out.
 *
 * Every function returns 0 on success or -1 with errno set; libnl's NLE_*
 * codes are turned into errno here and go no further. A short message
 * for the last failure is kept in the handle (nb_errmsg).
 */
#ifndef UNIKD_NETBACKEND_H
#define UNIKD_NETBACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NB_IFNAMSIZ 16		/* IFNAMSIZ: 15 bytes + NUL */
#define NB_ALIAS_PREFIX "unikd:"	/* ifalias of every TAP unikd makes */
#define NB_MTU_MIN 68
#define NB_MTU_MAX 65535

struct nb;

/* Opens the netlink sockets (one for requests, one subscribed to link
 * notifications). */
int nb_open(struct nb **out);
void nb_close(struct nb *);
const char *nb_errmsg(const struct nb *);

/* --- names, MACs, addresses: pure functions, no kernel --- */

/* An interface name unikd passes to the kernel: 1 to 15 bytes of
 * [A-Za-z0-9_.-], not "." or "..". Narrower than the kernel's own rule
 * on purpose: no '%' (the kernel expands "x%d" to a free "x0", a link
 * nobody asked for) and nothing nft or a shell would read as syntax. */
bool nb_ifname_valid(const char *name);

/* "uk" + lowercase hex of id: at most 10 bytes for ids below 2^32, 15
 * below 2^52 (larger ids are taken modulo 2^52), unique per id. */
void nb_tap_name(uint64_t id, char name[NB_IFNAMSIZ]);
/* A stable guest MAC for (vm, nic, attempt): locally administered,
 * unicast (first byte has bit 1 set and bit 0 clear), never 0xFE first
 * (the host side's prefix). attempt > 0 gives other MACs for the same
 * pair, to step past a collision. */
void nb_mac_generate(const char *vm, const char *nic, unsigned attempt,
    uint8_t mac[6]);
/* The host-side MAC of a TAP: first byte 0xFE, the rest from the guest
 * MAC, so the bridge never learns the guest's address from the host. */
void nb_mac_host(const uint8_t guest[6], uint8_t host[6]);
/* "aa:bb:cc:dd:ee:ff" (either case) -> bytes; -1 EINVAL when malformed. */
int nb_mac_parse(const char *s, uint8_t mac[6]);
void nb_mac_format(const uint8_t mac[6], char out[18]);
bool nb_mac_is_multicast(const uint8_t mac[6]);
bool nb_mac_is_zero(const uint8_t mac[6]);

/* An IPv4 prefix, host byte order. */
struct nb_ip4net {
	uint32_t addr;		/* network or host address */
	unsigned prefix;	/* 0..32 */
};
/* "10.0.0.0/24" -> net (host bits kept, as "10.0.0.1/24" is a gateway);
 * "10.0.0.1" -> /32; -1 EINVAL. */
int nb_ip4net_parse(const char *s, struct nb_ip4net *net);
int nb_ip4_parse(const char *s, uint32_t *addr);
void nb_ip4_format(uint32_t addr, char out[16]);
bool nb_ip4net_contains(const struct nb_ip4net *net, uint32_t addr);
bool nb_ip4net_overlap(const struct nb_ip4net *a, const struct nb_ip4net *b);

/* Who uses an IPv4 prefix in this network namespace already. */
struct nb_ip4_user {
	char link[NB_IFNAMSIZ];	/* the interface */
	struct nb_ip4net net;	/* its address or route that overlaps */
	const char *what;	/* "address" or "route" */
};
/* 1 (and *out) when an IPv4 address or a connected route (main table,
 * scope link) of any link but except (NULL: none) overlaps net, 0 when
 * none does. One address dump and one route dump. */
int nb_ip4_in_use(struct nb *, const struct nb_ip4net *net,
    const char *except, struct nb_ip4_user *out);

/* --- links --- */

struct nb_tap_params {
	const char *name;	/* from nb_tap_name() */
	const char *alias;	/* "unikd:VM:NIC" */
	uid_t uid;		/* TUNSETOWNER / TUNSETGROUP: the tender's */
	gid_t gid;
	unsigned mtu;		/* 0: the bridge's */
	const char *bridge;	/* master, or NULL for none */
	bool isolated;		/* IFLA_BRPORT_ISOLATED on the bridge port */
	bool persist;		/* TUNSETPERSIST: the tender opens it by name */
	uint8_t host_mac[6];	/* from nb_mac_host() */
	int group;		/* netdev group (IFLA_GROUP) for batch
				 * deletion, 0 for the default group */
	const char *peer;	/* instead of a bridge: a link joined to the
				 * TAP by tc redirects (nb_redirect_add) */
};

/*
 * Creates a plain TAP (IFF_TAP|IFF_NO_PI, not multi-queue), owned by
 * uid/gid, with its MTU and host MAC, IPv6 address generation off when
 * it sits in a bridge, the ifalias, then enslaves it and brings it up in
 * one RTM_NEWLINK; or, with peer, joins it to peer by nb_redirect_add.
 * *fd gets the open TAP fd (for tenders that take an
 * fd), or -1 when persist is set (the fd is closed and the TAP stays).
 * On failure nothing is left behind. EEXIST when the name is taken.
 */
int nb_tap_create(struct nb *, const struct nb_tap_params *p, int *fd);
/* Puts an existing TAP back on a bridge (after the bridge was re-made). */
int nb_tap_attach(struct nb *, const char *tap, const char *bridge,
    bool isolated);

/* RTM_DELLINK by name; ENODEV when there is no such link. */
int nb_link_delete(struct nb *, const char *name);
/* Deletes every link in netdev group (one RTM_DELLINK naming IFLA_GROUP:
 * the kernel unregisters the batch far faster than one by one). ENODEV
 * when no link is in the group; EINVAL for group <= 0. */
int nb_link_delete_group(struct nb *, int group);
/* Moves an existing link into netdev group (one RTM_NEWLINK setting
 * IFLA_GROUP); ENODEV when there is no such link, EINVAL for group < 0. */
int nb_link_set_group(struct nb *, const char *name, int group);
/* The same, and the link goes down and off its bridge in that one
 * message: no frame passes it from then on. */
int nb_link_retire(struct nb *, const char *name, int group);

struct nb_bridge_params {
	const char *name;
	const char *alias;	/* ifalias set on a bridge unikd makes, or NULL */
	unsigned mtu;		/* 0: kernel default */
	const char *ipv4;	/* gateway address with prefix "10.0.0.1/24", or NULL */
	const char *ipv6;	/* "fd00::1/64", or NULL */
};
/* Creates a bridge, sets its alias, MTU and addresses and brings it up.
 * Its MAC (nb_bridge_mac()) is derived from its name and given in the
 * creating request itself, so it stays the same as ports come and go and
 * when the bridge is made again, and a bridge of that MAC is known to be
 * unikd's even before its alias is set. EEXIST when a link of that name
 * exists. */
int nb_bridge_create(struct nb *, const struct nb_bridge_params *p);
void nb_bridge_mac(const char *name, uint8_t mac[6]);
/* Makes sure an existing bridge (adopted or made earlier) has the
 * addresses and MTU of p and is up; EMEDIUMTYPE when the link is not a
 * bridge, ENODEV when it does not exist. */
int nb_bridge_ensure(struct nb *, const struct nb_bridge_params *p);

/* What a bridge unikd adopts was like, to give it back so. */
#define NB_SAVED_ADDRS 16
#define NB_ADDRSTRLEN 64	/* "ffff:...:ffff/128" */
struct nb_link_saved {
	unsigned mtu;
	bool up;
	size_t naddrs;		/* at most NB_SAVED_ADDRS are kept */
	char addrs[NB_SAVED_ADDRS][NB_ADDRSTRLEN];	/* "10.0.0.1/24" */
};
/* The MTU, up/down state and addresses of link name. */
int nb_bridge_save(struct nb *, const char *name, struct nb_link_saved *out);
/* Gives an adopted bridge back: removes the addresses of p that were not
 * in st, and puts back st's MTU and up/down state. */
int nb_bridge_give_back(struct nb *, const struct nb_bridge_params *p,
    const struct nb_link_saved *st);

struct nb_link_info {
	char name[NB_IFNAMSIZ];
	int ifindex;
	char kind[16];		/* "tun", "bridge", "veth", "" */
	char alias[256];	/* ifalias, "" when none */
	char master[NB_IFNAMSIZ];	/* "" when none */
	unsigned mtu;
	int group;		/* netdev group, 0 the default */
	bool up;
	uint8_t mac[6];		/* IFLA_ADDRESS, zero when none */
};
/* One dump of every link; cb's non-zero return stops and is returned. */
int nb_link_foreach(struct nb *,
    int (*cb)(void *arg, const struct nb_link_info *link), void *arg);
/* One link by name; ENODEV when missing. */
int nb_link_get(struct nb *, const char *name, struct nb_link_info *out);

/* Who a link is, beyond its name (which anyone may take): what unikd
 * recorded when it made the link. */
struct nb_link_id {
	int ifindex;
	uint8_t mac[6];
	char alias[256];
};
bool nb_link_is(const struct nb_link_info *, const struct nb_link_id *);
/* Deletes link name only while it is still id (same ifindex, MAC and
 * ifalias), by ifindex; ESTALE when it is another link, ENODEV when
 * there is none. */
int nb_link_delete_owned(struct nb *, const char *name,
    const struct nb_link_id *id);

struct nb_link_stats {
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};
/* IFLA_STATS64 of one link. */
int nb_link_stats(struct nb *, const char *name, struct nb_link_stats *out);
/* The 64-bit counters of every link, in one RTM_GETSTATS dump. */
int nb_link_stats_foreach(struct nb *,
    int (*cb)(void *arg, const char *name, const struct nb_link_stats *s),
    void *arg);

/* --- links in another network namespace (a container's) --- */

/* A namespace's identity: the nsfs inode (as `stat` of its path says). */
struct nb_netns_id {
	uint64_t dev, ino;
};
/* Opens path (absolute) read-only, checking it is a network namespace
 * (a bind mount such as /run/netns/X, or /proc/PID/ns/net): the fd, or
 * -1 with errno (ENOENT, EMEDIUMTYPE when it is something else). id may
 * be NULL. */
int nb_netns_open(const char *path, struct nb_netns_id *id);
/* The identity of the calling thread's own network namespace. */
int nb_netns_self(struct nb_netns_id *id);
/* Runs fn(arg) on a short-lived thread that joined namespace nsfd
 * (setns), and returns its result and errno; no process is forked. */
int nb_netns_call(int nsfd, int (*fn)(void *), void *arg);
/*
 * A handle whose netlink socket and /dev/net/tun files are made inside
 * namespace nsfd (the fd is duplicated): every function above then works
 * on links there. It has no notification socket (nb_event_fd: EBADF).
 */
int nb_open_netns(int nsfd, struct nb **out);

/* A link and what an address manager put on it. */
struct nb_iface {
	struct nb_link_info link;
	uint32_t ip4;		/* first primary IPv4 address, 0 when none */
	unsigned prefix;
	uint32_t gw4;		/* gateway of the IPv4 default route through
				 * the link (main table), 0 when none */
};
/* ENODEV when there is no such link. */
int nb_iface_get(struct nb *, const char *name, struct nb_iface *out);

/* The tc priority of unikd's redirect filters (nothing else uses it). */
#define NB_REDIRECT_PRIO 0x756b
/* Joins tap and link: an ingress qdisc on both (one already there is
 * kept) and a u32 match-all filter on each whose mirred action redirects
 * every frame to the other's egress. A filter of unikd's left on link by
 * an earlier TAP is replaced. */
int nb_redirect_add(struct nb *, const char *tap, const char *link);
/* Removes unikd's filter from link's ingress, then the ingress qdisc if
 * no filter is left on it. Neither there is fine; ENODEV when there is no
 * such link. (The TAP's side goes with the TAP.) */
int nb_redirect_remove(struct nb *, const char *link);

/* --- notifications --- */

enum nb_link_event {
	NB_LINK_NEW,		/* a link appeared or changed */
	NB_LINK_DEL,		/* a link was deleted */
};
/* The fd to watch for readability (an event loop adds it). */
int nb_event_fd(struct nb *);
/* Reads the pending notifications without blocking and calls cb for each.
 * ENOBUFS when the kernel dropped some (the socket overran): the caller
 * re-lists with nb_link_foreach; later notifications still come. */
int nb_event_read(struct nb *,
    void (*cb)(void *arg, enum nb_link_event ev, const struct nb_link_info *link),
    void *arg);

/* --- NAT (libnftables), in unikd's own table "inet unikd" only --- */

/* Masquerades traffic from subnet leaving through any interface but
 * bridge: a chain "nat-NETWORK" in table inet unikd, made with its rule.
 * Idempotent. Forwarding is the caller's (nb_ip_forward_set). */
int nb_nat_add(struct nb *, const char *network, const char *subnet,
    const char *bridge);
/* Removes that chain (the table too when it is empty). ENOENT if none. */
int nb_nat_remove(struct nb *, const char *network);
/* net.ipv4.ip_forward of this network namespace (a host-wide switch). */
int nb_ip_forward_get(struct nb *, int *value);
int nb_ip_forward_set(struct nb *, int value);

#endif
