/*
 * The daemon context: one struct unikd holds the event loop, the config,
 * the store, the VM table and the API server. Everything reaches state
 * through it; there are no other mutable globals.
 */
#ifndef UNIKD_UNIKD_H
#define UNIKD_UNIKD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "conf.h"

/* glibc's sys/queue.h lacks the _SAFE iterators. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                         \
	for ((var) = TAILQ_FIRST((head));                                   \
	     (var) && ((tvar) = TAILQ_NEXT((var), field), 1);               \
	     (var) = (tvar))
#endif
#include "tender.h"
#include "timestamp.h"	/* unikd_now_ms(), unikd_json_time() */

#define UNIKD_TENDER_GROUPS_MAX 64	/* MON_MAX_GROUPS */

struct event_base;
struct event;
struct store;
struct api;
struct service;
struct vm;
struct vm_table;
struct vm_json_warmer;
struct vm_mac_set;
struct nb;
struct network;
struct network_table;

/* What a probe found for one driver, shown in /v1/info. */
struct unikd_tender {
	const struct tender_driver *driver;
	char path[4096];
	char version[256];	/* or why the version query failed */
	bool available;
	char reason[512];	/* why it is not available, or "" */
	char nic_reason[512];	/* why it cannot have NICs, or "" */
};

/* A subscriber to the event log (GET /v1/events?follow=true, systemd's
 * STATUS=). line is NULL, and seq not above 0, for an event that could not
 * be recorded. */
struct unikd_event_sub {
	void (*cb)(void *arg, int64_t seq, const char *line);
	void *arg;
	TAILQ_ENTRY(unikd_event_sub) entry;
};

/* Work that waits for the store's group commit (commit.c): fn runs
 * once the writes made so far are committed (rc 0) or lost (rc -1). */
struct unikd_after {
	void (*fn)(void *arg, int rc);
	void *arg;
	TAILQ_ENTRY(unikd_after) entry;
};

TAILQ_HEAD(vm_list, vm);

struct unikd {
	struct event_base *base;
	char *conf_path;
	struct conf cf;
	struct store *store;
	struct api *api;
	struct service *service;	/* systemd notifications */

	struct nb *nb;			/* netbackend handle */
	TAILQ_HEAD(, network) networks;
	size_t nnetworks;
	size_t ndegraded;		/* networks with a problem */
	size_t nnat;			/* networks with NAT */
	int forward_before;		/* ip_forward before unikd's first
					 * NAT network, -1: not changed */
	struct network_table *network_table;	/* name -> network, O(1) */
	const struct network_hooks *network_hooks;	/* set by vm-net.c */
	struct event *nb_event;		/* link notifications */
	struct network_ports *network_ports;	/* network-ports.c */

	struct vm_table *vm_table;	/* name -> vm, O(1) */
	struct vm_net_batch *vm_net_batch;	/* vm-net-batch.c */
	struct vm_mac_set *vm_macs;	/* guest MACs of every NIC (vm-net.c) */
	struct vm_cgroups *cgroups;	/* hierarchies (vm-cgroup.c) */
	struct vm_list vms;		/* in creation order */
	size_t nvms;
	struct vm_json_warmer *vm_json;	/* remakes JSON texts (vm-json.c) */
	struct event *trim_ev;		/* trim.c */

	struct unikd_tender tenders[16];
	size_t ntenders;

	uid_t tender_uid;
	gid_t tender_gid;
	gid_t tender_groups[UNIKD_TENDER_GROUPS_MAX];	/* supplementary */
	size_t ntender_groups;
	gid_t admin_gid;
	struct vm_uid_map *vm_uids;	/* tender_uids taken (vm-uid.c) */

	TAILQ_HEAD(, unikd_event_sub) event_subs;

	struct event *commit_ev;	/* the turn's group commit */
	TAILQ_HEAD(, unikd_after) afters;	/* waiting for it */
	bool store_failed;		/* a commit failed: unikd exits */

	/* Counters for /metrics (api-metrics.c); only ever incremented. */
	uint64_t netlink_errors;	/* failed netlink requests */
	uint64_t gc_removed_links;	/* leaked links deleted by the GC */

	/* Open files (host-limits.c). */
	uint64_t fd_limit;		/* RLIMIT_NOFILE in force */
	uint64_t fd_base;		/* fds held once ready, monitors aside */
	uint64_t fd_kept;		/* kept open on top (limits_fd_keep) */
	uint64_t default_max_vms;	/* from fd_limit: limits.max_vms unset */

	int64_t started_at;
	bool shutting_down;
	int lock_fd;			/* flock on run_dir/unikd.lock */
};

/*
 * Records an event in the store and hands it to every subscriber. data
 * (may be NULL) is consumed. The line given to subscribers is the JSON
 * object {"seq", "time", "type", "vm"?, ...data} without a newline.
 */
int64_t unikd_event(struct unikd *, const char *type, const char *vm,
    json_t *data);
void unikd_event_subscribe(struct unikd *, struct unikd_event_sub *);
/* Drops the events beyond [events] max_count and older than max_age. */
void unikd_event_prune(struct unikd *);
void unikd_event_unsubscribe(struct unikd *, struct unikd_event_sub *);
/* An event row as the JSON object clients see; caller frees. */
json_t *unikd_event_json(int64_t seq, int64_t time_ms, const char *type,
    const char *vm, const char *data);

/* Gives free memory back to the system a few seconds after the last
 * call (trim.c): called when a VM is removed. */
void unikd_trim_later(struct unikd *);
void unikd_trim_free(struct unikd *);

/*
 * Group commit (commit.c). unikd_commit_start() puts the store in group
 * mode once start-up is done; unikd_commit() commits the writes made so
 * far (0, or -1 when they are lost) and runs what waited for them;
 * unikd_after_commit() runs a at once when nothing waits (with -1 once
 * a commit failed), else after the next commit.
 */
int unikd_commit_start(struct unikd *);
void unikd_commit_stop(struct unikd *);
int unikd_commit(struct unikd *);
void unikd_after_commit(struct unikd *, struct unikd_after *a);

/* The driver status for a tender name, or NULL if unknown. */
const struct unikd_tender *unikd_tender_find(const struct unikd *,
    const char *name);

/* Re-reads which tender binaries are there and their versions. */
void unikd_probe_tenders(struct unikd *);
/* Sets the modes of state_dir and what it holds (state-perms.c): only
 * root reads definitions, logs and blocks; -1 when one could not be set. */
int unikd_state_protect(const struct unikd *);

#endif
