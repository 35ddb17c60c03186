/*
 * The store's networks and leases tables (schema in store.c), through
 * the generic store_exec/store_query. A network row is its name and its
 * definition as JSON (runtime facts such as "adopted" included); a lease
 * row is (network, ip, vm, nic), the ip in dotted form.
 */
#ifndef UNIKD_STORE_NET_H
#define UNIKD_STORE_NET_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* A network's row: its definition, its phase ("creating" from before
 * the host is changed until it is done, "ready", "removing" from before
 * the host is changed until the row goes), and who its bridge is: the
 * ifindex and MAC unikd saw (0 and NULL when not known yet) and, for an
 * adopted bridge, how it was found (JSON, or NULL). */
struct store_net_row {
	const char *name;
	const char *spec;
	const char *phase;
	int64_t ifindex;
	const char *mac;
	const char *found;
};

/* EEXIST when the name is taken. */
int store_net_insert(struct store *, const struct store_net_row *);
/* Sets phase, ifindex and mac of the row. */
int store_net_update(struct store *, const char *name, const char *phase,
    int64_t ifindex, const char *mac);
/* Deletes the network and every lease in it, in one transaction. */
int store_net_delete(struct store *, const char *name);
/* Calls cb for each network, by name; a non-zero return stops and is
 * returned. */
int store_net_foreach(struct store *,
    int (*cb)(void *arg, const struct store_net_row *), void *arg);

/* What net.ipv4.ip_forward was before unikd turned it on for its first
 * NAT network (the meta key "ip_forward_before"): -1 when unikd holds
 * no such value. set records it, clear forgets it. */
int store_net_forward_get(struct store *, int *value);
int store_net_forward_set(struct store *, int value);
int store_net_forward_clear(struct store *);

/* EEXIST when the address is leased already. */
int store_lease_insert(struct store *, const char *net, const char *ip,
    const char *vm, const char *nic);
int store_lease_delete(struct store *, const char *net, const char *ip);
/* The address vm+nic holds in net; ENOENT when none. */
int store_lease_find(struct store *, const char *net, const char *vm,
    const char *nic, char *ip, size_t iplen);
/* Who holds ip in net; ENOENT when nobody. */
int store_lease_holder(struct store *, const char *net, const char *ip,
    char *vm, size_t vmlen, char *nic, size_t niclen);
/* Every lease of a network, by address. */
int store_lease_foreach_net(struct store *, const char *net,
    int (*cb)(void *arg, const char *ip, const char *vm, const char *nic),
    void *arg);
/* Every lease of a VM; cb gets the network instead of the vm. */
int store_lease_foreach_vm(struct store *, const char *vm,
    int (*cb)(void *arg, const char *net, const char *ip, const char *nic),
    void *arg);
int store_lease_delete_vm(struct store *, const char *vm);

#endif
