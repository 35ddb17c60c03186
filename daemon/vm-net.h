/*
 * NICs on VMs: at create, the networks are checked, MACs
 * generated (stable, unique on the host) and addresses leased; at start,
 * one TAP per NIC, recorded in the ledger (the store's links table)
 * before it is made; after the tender exits, the TAPs are deleted (in
 * batches, on the event loop's next turn: vm-net-batch.c) and their rows
 * removed. At start-up and on POST /v1/gc, every TAP tagged
 * "unikd:" whose VM is not running is deleted; a link without the tag is
 * never touched. The network layer's hooks (network.h) live here.
 */
#ifndef UNIKD_VM_NET_H
#define UNIKD_VM_NET_H

#include <jansson.h>
#include <stdbool.h>

struct unikd;
struct vm;
struct uerr;

/* Create, before anything is stored: networks exist, MACs generated and
 * free on the host, given addresses usable, placeholders in args known.
 * No side effect. */
int vm_net_check(struct vm *, struct uerr *e);
/* Create, inside the store transaction of the VM insert (before it):
 * leases the addresses and fills ip, cidr and gateway. */
int vm_net_lease(struct vm *, struct uerr *e);
/* Create, in the same transaction, after the VM's row: vm_nics rows. */
int vm_net_record(struct vm *, struct uerr *e);
/* A create that failed after vm_net_lease, before the rollback. */
void vm_net_unlease(struct vm *);
/* A create that was stored: the MACs join the host's set. */
void vm_net_added(struct vm *);
/* 409 "network X is full (1023 ports)" when a bridge has no room for
 * the VM's NICs on it: checked before any TAP is made. */
int vm_net_ports_check(struct vm *, struct uerr *e);

/* Start, before the monitor is spawned: one TAP per NIC. On failure the
 * TAPs made so far are gone again and e says why. */
int vm_net_start(struct vm *, struct uerr *e);
/* The same for a driver that takes NICs as fds: the TAPs are not
 * persistent, and fds[i] gets NIC i's open TAP for the caller to hand
 * on and close. */
int vm_net_start_fds(struct vm *, int *fds, struct uerr *e);
/* After the tender exited (or never started): deletes the VM's TAPs. */
void vm_net_stop(struct vm *);
/* VM removal: TAPs, leases, vm_nics rows and MACs. */
void vm_net_remove(struct vm *);

/* vm_init, once the VMs are loaded and before monitors are adopted: the
 * MAC set, each NIC's addresses and TAP (from the ledger), then a GC. */
int vm_net_init(struct unikd *);
/* What networks ask of and tell VMs' NICs; vm_net_init sets them. */
extern const struct network_hooks vm_net_hooks;
void vm_net_shutdown(struct unikd *);

/*
 * Deletes every TAP tagged "unikd:VM:NIC" whose VM is not running it
 * (only lists them with dry_run), and drops ledger rows whose link is
 * gone. *removed: [{"tap", "vm", "nic"}].
 */
int vm_net_gc(struct unikd *, bool dry_run, json_t **removed,
    struct uerr *e);

/* IFLA_STATS64 of the TAP of a NIC in another namespace (one request
 * there); -1 when it cannot be read. */
struct nb_link_stats;
struct vm_nic;
int vm_net_ns_stats(const struct vm_nic *, struct nb_link_stats *st);

/* [{"name","network","mac","ip","cidr","gateway","tap"}] for vm_to_json. */
json_t *vm_net_json(const struct vm *);

#endif
