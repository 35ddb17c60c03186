/*
 * Per-VM statistics: the tender's CPU time and RSS from /proc (read on
 * request, never polled), uptime, restarts, the last exit, and each NIC's
 * counters from one rtnetlink dump per request (IFLA_STATS64 of its TAP).
 * GET /v1/vms/{name}/stats, GET /v1/stats and /metrics use these.
 */
#ifndef UNIKD_VM_STATS_H
#define UNIKD_VM_STATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blockbackend.h"
#include "netbackend.h"

struct unikd;
struct vm;
struct vm_nic;

/* What /proc says of a tender. */
struct vm_proc_stats {
	double cpu_user;	/* seconds */
	double cpu_system;	/* seconds */
	uint64_t rss_bytes;
};

/* Reads /proc/PID/stat; -1 (ESRCH) when the process is gone. */
int vm_stats_proc(pid_t pid, struct vm_proc_stats *out);
/* The same for vm's running tender, through a stat file kept open from
 * one call to the next while the host's open-file limit leaves room for
 * it (see vm-stats.c); -1 (ESRCH) when it is not running. */
int vm_stats_proc_vm(struct vm *, struct vm_proc_stats *out);
/* Closes vm's kept stat file, if any. */
void vm_stats_forget(struct vm *);

/*
 * The counters of every link, from one dump taken at the first lookup
 * (none when no lookup is made), looked up by TAP name.
 */
struct vm_stats_links;
struct vm_stats_links *vm_stats_links_new(struct unikd *);
void vm_stats_links_free(struct vm_stats_links *);
/* The counters of link name, or NULL when there is no such link or the
 * dump failed. */
const struct nb_link_stats *vm_stats_link_find(struct vm_stats_links *,
    const char *name);

/* Calls cb for each NIC of vm that has a TAP now, with its counters
 * (NULL when the kernel has no such link). */
int vm_stats_nics_foreach(struct vm *, struct vm_stats_links *,
    int (*cb)(void *arg, const struct vm_nic *nic,
        const struct nb_link_stats *st),
    void *arg);

/* Calls cb for every block in the store with its size and the bytes it
 * takes on disk (a block whose file cannot be read is skipped). */
int vm_stats_blocks_foreach(struct unikd *,
    int (*cb)(void *arg, const char *block, const struct bb_block_info *),
    void *arg);

/* The stats of one VM as GET /v1/vms/{name}/stats returns them. */
json_t *vm_stats_json(struct vm *, struct vm_stats_links *);

#endif
