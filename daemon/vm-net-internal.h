/* What vm-net.c and vm-net-gc.c share; not for other modules. */
#ifndef UNIKD_VM_NET_INTERNAL_H
#define UNIKD_VM_NET_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct unikd;
struct network;
struct vm_nic;
struct uerr;

/* Fills a NIC's cidr and gateway from its network (NULL: clears them). */
void vm_net_fill(struct network *, struct vm_nic *);
/* Deletes a TAP (gone already is fine), then its ledger row; -1 and the
 * row kept when the link could not be deleted. */
int vm_net_tap_delete(struct unikd *, const char *tap, const char *vm,
    const char *nic);
/* Queues a TAP of unikd's for deletion: the event loop's next turn
 * deletes the queue in one batch (at once when there is no loop). */
void vm_net_tap_queue(struct unikd *, const char *tap, const char *vm,
    const char *nic);
/* Deletes the queued TAPs now; done (may be NULL) is called for each
 * one that is gone. */
void vm_net_batch_flush(struct unikd *,
    void (*done)(void *arg, const char *tap, const char *vm, const char *nic),
    void *arg);
/* Deletes the queue now if it holds TAPs of the VM named vm (before it
 * starts again: its new TAPs take the same MACs); otherwise the queue
 * waits for its timer. */
void vm_net_batch_flush_vm(struct unikd *, const char *vm);
/* Flushes, then frees the queue. */
void vm_net_batch_free(struct unikd *);

/* vm-net-ns.c: NICs in a foreign network namespace. */
struct vm;
/* Create: NIC i's namespace and link exist (422 otherwise), all the
 * VM's NICs are in that one namespace; fills its MAC and addresses from
 * the link. No side effect. */
int vm_net_ns_check(struct vm *, size_t i, struct uerr *e);
/* Start: the TAPs in the namespace, joined to their links; keeps the
 * namespace open in vm->netns_fd for the monitor. With fds, the TAPs are
 * not persistent and fds[i] gets NIC i's. Nothing is left on failure. */
int vm_net_ns_start(struct vm *, int *fds, struct uerr *e);
/* Removes the NIC's TAP and the link's filter (synchronously). */
void vm_net_ns_stop_nic(struct vm *, struct vm_nic *);
/* The rows of TAPs in namespaces whose VM does not run them: removed
 * (listed only with dry_run) into removed. */
int vm_net_ns_gc(struct unikd *, bool dry_run, json_t *removed);
/* vm_net_init: the TAPs and addresses of running VMs' NICs. */
void vm_net_ns_init(struct unikd *);

#endif
