/*
 * Networks: a bridge unikd makes (or adopts by name) with an MTU, an
 * optional subnet with leases, a gateway address, NAT and port isolation
 * (docs/design.md, "Networks"). network.c keeps them in the store and on
 * the host (re-made at start and when a bridge is deleted behind unikd's back);
 * lease.c hands out addresses. NICs on VMs (vm-net.c) use both.
 */
#ifndef UNIKD_NETWORK_H
#define UNIKD_NETWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "netbackend.h"

struct unikd;
struct uerr;
struct lease_map;

struct network {
	char name[64];
	char bridge[NB_IFNAMSIZ];
	unsigned mtu;		/* 1500 unless given */
	bool has_subnet;
	struct nb_ip4net subnet;	/* network address + prefix */
	uint32_t gateway;	/* 0: none; the bridge's address */
	bool nat;
	bool isolated;
	bool adopted;		/* the bridge existed: never deleted by unikd */
	char alias[80];		/* "unikd:net:NAME", the mark of a bridge made */
	struct nb_link_id own;	/* who the bridge is (ifindex 0: not known) */
	bool has_found;		/* adopted: how the bridge was found */
	struct nb_link_saved found;
	char problem[256];	/* "" or why the network is degraded */
	int64_t created_at;
	char ipv6_gateway[64];	/* "fd00::1/64" on the bridge, or "" */
	struct lease_map *leases;	/* used addresses (lease.c), or NULL */
	unsigned nports;	/* links on the bridge (network-ports.c) */
	TAILQ_ENTRY(network) entry;
	struct network *hash_next;	/* network.c's name table */
};

/* Loads networks from the store and makes sure each bridge is there;
 * watches link notifications to put back a bridge deleted by hand. */
int network_init(struct unikd *);
void network_shutdown(struct unikd *);

struct network *network_find(struct unikd *, const char *name);
/* The network whose bridge is named so, or NULL. */
struct network *network_find_bridge(struct unikd *, const char *bridge);
/* Counts a failed netbackend call (unikd_netlink_errors_total) and
 * returns its message, for the log line or the client's error. */
const char *network_nb_failed(struct unikd *);
/* POST /v1/networks; validated before anything is made. */
int network_create(struct unikd *, const json_t *def, struct network **out,
    struct uerr *e);
/* 409 while a VM definition uses it. */
int network_remove(struct unikd *, struct network *, struct uerr *e);
json_t *network_to_json(struct unikd *, const struct network *);

/*
 * Leases (persisted in the store's leases table, never two holders):
 * want 0 takes the lowest free address of the subnet (not the network,
 * broadcast or gateway address); otherwise that exact address, 422 when
 * outside the subnet or the gateway, 409 when another VM holds it.
 * A lease the same vm+nic already holds is returned again.
 */
int network_lease(struct unikd *, struct network *, const char *vm,
    const char *nic, uint32_t want, uint32_t *got, struct uerr *e);
/* Releases every lease of vm (on VM removal). */
int network_release_vm(struct unikd *, const char *vm);

/* network-spec.c: a POST body validated into net (defaults filled in,
 * clashes with the other networks refused), before anything is made. */
int network_from_def(struct unikd *, const json_t *def, struct network *net,
    struct uerr *e);
/* The store's copy of a network (its definition and "adopted"). */
json_t *network_spec_json(const struct network *);
int network_from_spec(struct network *, const json_t *spec);

/*
 * network-host.c: the bridge and NAT on the host. prepare looks the
 * bridge up (an existing bridge is adopted and how it was found kept),
 * make creates or sets it up and records who it is, unmake deletes it
 * only while it is still the one unikd made (an adopted one is given
 * back as found), restore checks and puts it back at start and after a
 * deletion, and marks the network degraded when a link unikd did not
 * make holds the name.
 */
struct store_net_row;
void network_cidr(const struct network *, uint32_t addr, char out[24]);
void network_alias_set(struct network *);
int network_host_clash(struct unikd *, const struct network *, struct uerr *);
int network_host_prepare(struct unikd *, struct network *, struct uerr *);
int network_host_make(struct unikd *, struct network *, struct uerr *);
void network_host_unmake(struct unikd *, struct network *);
int network_host_restore(struct unikd *, struct network *);
/* NAT for net, with IPv4 forwarding on (what it was recorded first). */
int network_nat_make(struct unikd *, const struct network *);
/* Puts IPv4 forwarding back as it was once no NAT network is left. */
void network_forward_release(struct unikd *);
void network_degrade(struct unikd *, struct network *, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The row's phase with the bridge's identity; -1 logged. */
int network_store_phase(struct unikd *, const struct network *,
    const char *phase);
/* The found state as JSON text (free()), NULL when none. */
char *network_found_text(const struct network *);
/* Identity and found state from the store's row. */
void network_row_host(struct network *, const struct store_net_row *);

/*
 * What the network layer asks of, and tells, the layer above it that puts
 * NICs on networks (vm-net.c sets u->network_hooks): networks never call
 * into VM code. Without hooks no VM uses a network.
 */
struct network_hooks {
	/* A bridge was made again: the NICs on it are attached again. */
	void (*remade)(struct unikd *, struct network *);
	/* The names of the VMs with a NIC on the network, in creation
	 * order, as a JSON array (empty when none; NULL on ENOMEM). */
	json_t *(*users)(struct unikd *, const struct network *);
};

/*
 * network-ports.c: each bridge's ports, counted from one link dump and
 * then from link notifications, so a full bridge is refused (409) before
 * a TAP is made.
 */
#define NETWORK_MAX_PORTS 1023	/* the kernel's BR_MAX_PORTS less port 0 */
struct nb_link_info;
void network_ports_recount(struct unikd *);
void network_ports_event(struct unikd *, bool deleted,
    const struct nb_link_info *link);
/* Before a network is freed. */
void network_ports_forget(struct unikd *, const struct network *);
void network_ports_free(struct unikd *);
/* 409 "network X is full (1023 ports)" unless want more ports fit. */
int network_ports_check(const struct network *, unsigned want,
    struct uerr *e);

#endif
