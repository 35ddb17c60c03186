/*
 * A VM's tender is gone (see vm-run.c): the exit is recorded with the
 * reason a user reads, then the restart policy says whether it starts
 * again after its delay, gives up, or rests.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "monitor.h"
#include "restart.h"
#include "tender.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-cgroup.h"
#include "vm-internal.h"
#include "vm-stats.h"
#include "vm-net.h"

static void
vm_restart_timer(int fd, short what, void *arg)
{
	struct vm *vm = arg;
	struct uerr err = {0};
	unsigned streak = vm->streak + 1;

	(void)fd;
	(void)what;
	vm->restart_at = 0;
	if (vm_run_spawn(vm, &err) == -1) {
		log_warnx("vm=%s action=restart error=\"%s\"", vm->spec.name,
		    err.message);
		vm->state = VM_FAILED;
		snprintf(vm->exit_reason, sizeof(vm->exit_reason),
		    "restart failed: %.200s", err.message);
		vm_save(vm);
		unikd_event(vm->u, "vm.failed", vm->spec.name,
		    json_pack("{s:s}", "exit_reason", vm->exit_reason));
		vm_watches_done(vm);
		return;
	}
	vm->streak = streak;
	vm->restarts++;
	vm_save(vm);
}

/* A restart pending when the previous unikd ended: due at restart_at,
 * at once if past, never later than the backoff's cap (the clock may
 * have gone back). */
void
vm_run_resume_restart(struct vm *vm)
{
	int64_t left = vm->restart_at - unikd_now_ms();

	if (left < 0)
		left = 0;
	if (left > vm->u->cf.restart_backoff_max_ms)
		left = vm->u->cf.restart_backoff_max_ms;
	log_info("vm=%s action=restarting attempt=%u delay_ms=%lld resumed=1",
	    vm->spec.name, vm->streak + 1, (long long)left);
	vm_timer_set(vm, vm_restart_timer, (unsigned)left);
}

/*
 * How the user reads an exit. A stop or kill asked through the API is
 * "stopped" (0) whatever the tender made of it (hvt exits 1 on SIGTERM),
 * or "stopped (SIGKILL)" (137) when it had to be killed; a driver's
 * clean guest exit is 0. The tender's own status stays in tender_status.
 * Returns the status the restart policy judges.
 */
static int
vm_exit_record(struct vm *vm, int wstatus, const char *reason)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);
	bool killed = WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL;

	vm->tender_status = tender_exit_status(wstatus);
	vm->exit_status = vm->tender_status;
	if (reason != NULL)
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s",
		    reason);
	else if (vm->stop_requested || vm->restart_requested) {
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s",
		    killed ? "stopped (SIGKILL)" : "stopped");
		vm->exit_status = killed ? 128 + SIGKILL : 0;
	} else if (d != NULL && d->exit_reason != NULL)
		d->exit_reason(wstatus, vm->exit_reason,
		    sizeof(vm->exit_reason));
	else
		tender_exit_reason(wstatus, vm->exit_reason,
		    sizeof(vm->exit_reason));
	if (reason == NULL && d != NULL && d->clean_exit != NULL &&
	    d->clean_exit(wstatus)) {
		vm->exit_status = 0;
		return 0;
	}
	return wstatus;
}

/* A monitor's exit record, removed once the exit it tells of is
 * committed: until then a restarted unikd must read it again. */
struct vm_exit_drop {
	struct unikd_after after;
	char path[4096];
};

static void
vm_exit_dropped(void *arg, int rc)
{
	struct vm_exit_drop *d = arg;

	if (rc == 0)
		unlink(d->path);
	free(d);
}

static void
vm_exit_drop(struct unikd *u, const char *path)
{
	struct vm_exit_drop *d;

	if ((d = malloc(sizeof(*d))) == NULL) {
		if (unikd_commit(u) == 0)
			unlink(path);
		return;
	}
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->after.fn = vm_exit_dropped;
	d->after.arg = d;
	unikd_after_commit(u, &d->after);
}

/* The tender is gone: record why, then restart, give up or rest. */
void
vm_exited(struct vm *vm, int wstatus, int64_t finished_at,
    const char *reason)
{
	struct unikd *u = vm->u;
	enum restart_action action;
	unsigned delay = 0;
	char path[4096];

	vm_timer_cancel(vm);
	if (vm->monitor != NULL) {
		monitor_free(vm->monitor);
		vm->monitor = NULL;
	}
	vm->adopting = false;
	vm_stats_forget(vm);
	vm_net_stop(vm);	/* the TAPs go with the tender */
	vm_control_remove(vm);
	vm_cgroup_remove(vm);
	wstatus = vm_exit_record(vm, wstatus, reason);
	vm->pid = 0;
	vm->monitor_pid = 0;
	vm->finished_at = finished_at;
	if (vm->started_at != 0 &&
	    finished_at - vm->started_at >= RESTART_STREAK_RESET_SECONDS)
		vm->streak = 0;
	action = restart_decide(&vm->spec.restart, wstatus,
	    vm->stop_requested || vm->restart_requested, vm->streak,
	    u->cf.restart_backoff_ms, u->cf.restart_backoff_max_ms, &delay);
	vm->state = action == RESTART_ACTION_GIVE_UP ? VM_FAILED : VM_EXITED;
	if (action == RESTART_ACTION_RESTART)	/* saved: unikd may restart */
		vm->restart_at = unikd_now_ms() + delay;
	vm_save(vm);
	vm_path_exit(vm, path, sizeof(path));
	vm_exit_drop(u, path);	/* counted in the store now */
	log_info("vm=%s action=exited status=%d tender_status=%d reason=\"%s\"",
	    vm->spec.name, vm->exit_status, vm->tender_status,
	    vm->exit_reason);
	unikd_event(u, "vm.exited", vm->spec.name,
	    json_pack("{s:i, s:s, s:i}", "exit_status", vm->exit_status,
		"exit_reason", vm->exit_reason, "tender_status",
		vm->tender_status));
	if (vm->restart_requested) {
		struct uerr err = {0};

		vm->restart_requested = false;
		if (vm_start(vm, &err) == 0)
			return;
		log_warnx("vm=%s action=restart error=\"%s\"", vm->spec.name,
		    err.message);
	} else if (action == RESTART_ACTION_RESTART) {
		log_info("vm=%s action=restarting attempt=%u delay_ms=%u",
		    vm->spec.name, vm->streak + 1, delay);
		unikd_event(u, "vm.restarting", vm->spec.name,
		    json_pack("{s:i, s:i}", "attempt", (int)vm->streak + 1,
			"delay_ms", (int)delay));
		vm_timer_set(vm, vm_restart_timer, delay);
		return;
	} else if (action == RESTART_ACTION_GIVE_UP) {
		log_warnx("vm=%s action=failed restarts=%u reason=\"%s\"",
		    vm->spec.name, vm->streak, vm->exit_reason);
		unikd_event(u, "vm.failed", vm->spec.name,
		    json_pack("{s:s, s:i}", "exit_reason", vm->exit_reason,
			"restarts", (int)vm->streak));
	}
	vm_watches_done(vm);
}
