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

#endif
