/*
 * The cgroup a VM's tender joins ("cgroup" in its definition: an OCI
 * runtime's linux.cgroupsPath), in every cgroup hierarchy mounted in
 * unikd's view: the v2 one and each v1 one, as /proc/self/mountinfo lists
 * them. unikd makes the directories and opens them; the monitor's child
 * writes itself into each cgroup.procs before it execs the tender, so the
 * tender never runs outside them.
 */
#ifndef UNIKD_VM_CGROUP_H
#define UNIKD_VM_CGROUP_H

#include <stddef.h>

struct unikd;
struct vm;
struct uerr;

#define VM_CGROUP_MAX_FDS 16	/* hierarchies joined at most */

/* Makes the VM's cgroup in each hierarchy (the parents too) and opens
 * it: fds[0..*n). With no cgroup in the definition, *n = 0. A hierarchy
 * unikd cannot see or write is logged once and skipped; -1 with e only
 * when the definition's cgroup cannot be made anywhere at all. */
int vm_cgroup_open(struct vm *, int *fds, size_t *n, struct uerr *e);
/* After the tender exited: removes the VM's cgroup directories (only
 * the last component, and only when empty). */
void vm_cgroup_remove(struct vm *);
/* The VM's cgroup below each hierarchy's root; -1 when it has none. */
int vm_cgroup_rel(const struct vm *, char *buf, size_t size);
/* vm_cgroup_remove by that path, for a VM already gone. */
void vm_cgroup_rmdir(struct unikd *, const char *rel);
void vm_cgroup_free(struct unikd *);

#endif
