/* What vm-net.c and vm-net-gc.c share; not for other modules. */
#ifndef UNIKD_VM_NET_INTERNAL_H
#define UNIKD_VM_NET_INTERNAL_H

struct unikd;
struct network;
struct vm_nic;

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
/* Flushes, then frees the queue. */
void vm_net_batch_free(struct unikd *);

#endif
