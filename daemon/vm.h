/*
 * The VM manager: VM definitions, their life cycle through monitors,
 * restart policies, console logs and waiters. control/ calls these; each
 * call validates first and changes nothing when it fails.
 */
#ifndef UNIKD_VM_H
#define UNIKD_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "vmspec.h"

struct unikd;
struct vm;
struct uerr;
struct monitor;
struct event;
struct evbuffer;
struct tender_stop;
struct vm_json;

enum vm_state {
	VM_CREATED,
	VM_STARTING,
	VM_RUNNING,
	VM_STOPPING,
	VM_EXITED,
	VM_FAILED,
};

/*
 * Someone following a VM: a console follower or a waiter. output gets
 * every console byte the monitor reports; done is called once the VM
 * reaches a final state (exited with no restart pending, or failed) or is
 * removed, after which the watch is already detached.
 */
struct vm_watch {
	void (*output)(void *arg, const void *buf, size_t len);
	void (*done)(void *arg, struct vm *vm);
	void *arg;
	TAILQ_ENTRY(vm_watch) entry;
};

struct vm {
	struct vm_spec spec;
	enum vm_state state;
	pid_t pid;		/* tender */
	pid_t monitor_pid;
	/*
	 * The last exit as the user reads it: exit_status is the guest's
	 * (0 for a stop asked through the API, or for QEMU's isa-debug-exit
	 * status of a Solo5 virtio guest), tender_status the tender's raw
	 * one. -1: none yet; else code or 128 + signal.
	 */
	int exit_status;
	int tender_status;
	char exit_reason[256];
	unsigned restarts;	/* restarts made under the policy, in total */
	unsigned streak;	/* restarts in the current crash streak */
	int64_t created_at, started_at, finished_at;	/* unix seconds */
	int64_t restart_at;	/* unix ms of a pending restart, else 0 */
	bool stop_requested;	/* the exit was asked for through the API */
	bool restart_requested;	/* start again once stopped (vm_restart) */
	bool adopting;		/* reconnected; its monitor's hello is due */
	int stat_fd;		/* the tender's /proc/PID/stat kept open for
				 * stats (vm-stats.c), or -1 */
	pid_t stat_pid;		/* ... of that tender */
	int netns_fd;		/* between the TAPs and the monitor's spawn:
				 * the NICs' namespace, else -1 */

	/* Why the stored definition no longer validates ("" when it does),
	 * and that definition, checked again at the next start. */
	char problem[256];
	json_t *def;
	bool spec_unread;	/* not even its shape: only the name is known */
	uint32_t uid;		/* its own from tender_uids; 0: tender_user */

	struct unikd *u;
	struct monitor *monitor;
	struct event *timer;	/* stop timeout or restart delay */
	struct tender_stop *control_stop;	/* on the control socket */
	struct vm_json *json;	/* its JSON text, while current (vm-json.c) */
	TAILQ_HEAD(, vm_watch) watches;
	TAILQ_ENTRY(vm) entry;
	struct vm *hash_next;
};

const char *vm_state_name(enum vm_state);
/* The state as users see it: "restarting" for an exited VM whose restart
 * is pending, else vm_state_name(). */
const char *vm_state_label(const struct vm *);
/* True when the VM is in a final state: nothing will happen by itself. */
bool vm_is_final(const struct vm *);
bool vm_is_active(const struct vm *);	/* starting, running or stopping */

/* Loads VMs from the store and re-adopts running monitors; with boot
 * (the first start since the host booted) starts autostart VMs. */
int vm_init(struct unikd *, bool boot);
void vm_shutdown(struct unikd *);	/* frees memory; VMs keep running */

struct vm *vm_find(struct unikd *, const char *name);

/* vm-uid.c: one uid per VM from tender_uids. The number of problems
 * with the range (an account or group in it), reported on errf. */
int vm_uid_range_check(const struct conf *, FILE *errf);
/* The uid and gid the VM's tender runs as (and owns its devices). */
void vm_uid_creds(const struct vm *, uid_t *uid, gid_t *gid);

/* Creates (and with start, starts) a VM from a JSON definition. */
int vm_create(struct unikd *, const json_t *def, bool start, struct vm **out,
    struct uerr *e);
int vm_start(struct vm *, struct uerr *e);
/* Graceful stop: the driver's stop signal, then SIGKILL after timeout
 * seconds (timeout < 0: the VM's stop_timeout). */
int vm_stop(struct vm *, int timeout, struct uerr *e);
int vm_kill(struct vm *, int sig, struct uerr *e);
int vm_restart(struct vm *, int timeout, struct uerr *e);
/* Removes a VM and its console logs; force kills a running one first. */
int vm_remove(struct vm *, bool force, struct uerr *e);

/* Definition + runtime, as GET /v1/vms/{name} returns it. */
json_t *vm_to_json(const struct vm *);
/* The same as compact JSON text (len bytes, no newline), made again only
 * when the VM has changed since the last call; NULL when out of memory.
 * Valid until the VM changes or is freed. */
const char *vm_json_text(struct vm *, size_t *len);

void vm_watch_add(struct vm *, struct vm_watch *);
void vm_watch_remove(struct vm *, struct vm_watch *);

/* Appends the console log's last tail lines (all when tail < 0) to out;
 * *skipped: the bytes of the log before them (NULL: not wanted). */
void vm_console_sync(struct vm *);
int vm_console_read(struct vm *, long tail, struct evbuffer *out,
    size_t *skipped);

#endif
