/*
 * The TAP ledger (links table: a row is written before its TAP is made
 * and removed after the TAP is gone) and the vm_nics table, through the
 * generic store_exec/store_query. Schema in store.c.
 */
#ifndef UNIKD_STORE_LINKS_H
#define UNIKD_STORE_LINKS_H

#include <stdint.h>

struct store;

/* A new TAP id, never handed out before (the meta key "next_tap_id"). */
int store_link_next_id(struct store *, uint64_t *id);
/* EEXIST when the TAP name has a row already. */
int store_link_insert(struct store *, const char *tap, const char *vm,
    const char *nic, int64_t created_at);
int store_link_delete(struct store *, const char *tap);
/* Every row of a TAP in unikd's own namespace, oldest first; a non-zero
 * return of cb stops and is returned. */
int store_link_foreach(struct store *,
    int (*cb)(void *arg, const char *tap, const char *vm, const char *nic),
    void *arg);

/* A TAP in another network namespace, joined to link peer there. */
struct store_link_ns {
	const char *tap, *vm, *nic;
	const char *netns;	/* the namespace's path */
	uint64_t dev, ino;	/* ... and its nsfs identity */
	const char *peer;
};
/* The row comes first, as for every TAP; EEXIST when tap has one. */
int store_link_ns_insert(struct store *, const struct store_link_ns *l,
    int64_t created_at);
/* Every row of a TAP in another namespace, oldest first. */
int store_link_ns_foreach(struct store *,
    int (*cb)(void *arg, const struct store_link_ns *l), void *arg);
/* The row of one such TAP (by its primary key): cb once, or not at all. */
int store_link_ns_get(struct store *, const char *tap,
    int (*cb)(void *arg, const struct store_link_ns *l), void *arg);

int store_vm_nic_insert(struct store *, const char *vm, const char *nic,
    const char *network, const char *mac, const char *ip);
int store_vm_nic_delete_vm(struct store *, const char *vm);

#endif
