/*
 * What unikctl run does once unikd has started the VM: without --attach,
 * watch it settle (running, and still so after --settle) so a VM that dies
 * at once is reported by the command that started it; with --attach,
 * stream its console and exit with its status; with --rm, remove it once
 * it has ended. Ctrl-C (SIGINT or SIGTERM) stops the VM gracefully, and a
 * second one kills it, so an interrupted run leaves nothing behind.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* How often the settle watch looks at the VM, and how long a VM may
 * stay "starting" before run gives up on it. */
#define RUN_SETTLE_POLL_MS 100
#define RUN_START_MAX_MS 30000
/* Console lines shown for a VM that ended while settling. */
#define RUN_SETTLE_LINES "10"

static void
run_on_signal(int sig)
{
	(void)sig;
	ctl_interrupts++;
}

/* SIGINT and SIGTERM are counted, not fatal; requests see the count. */
static void
run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = run_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static long long
run_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* POST /v1/vms/NAME/SUFFIX, the reply dropped; an exit code. */
static int
run_post(struct ctl *c, const char *name, const char *suffix)
{
	char path[512];
	json_t *reply = NULL;
	int rc;

	if (ctl_vm_path(path, sizeof(path), name, suffix) == -1)
		return CTL_EXIT_FAIL;
	rc = ctl_call(c, "POST", path, NULL, &reply);
	json_decref(reply);
	return rc;
}

/* Waits for the VM's final state; *status: its exit status, or 1. */
static int
run_wait(struct ctl *c, const char *name, int *status)
{
	const json_t *st;
	char path[512];
	json_t *w;
	int rc;

	*status = CTL_EXIT_FAIL;
	if (ctl_vm_path(path, sizeof(path), name, "/wait") == -1)
		return CTL_EXIT_FAIL;
	if ((rc = ctl_call(c, "POST", path, NULL, &w)) != 0)
		return rc;
	st = json_object_get(w, "exit_status");
	if (json_is_integer(st))
		*status = (int)(json_integer_value(st) & 0xff);
	else
		fprintf(stderr, "unikctl: vm '%s' %s: %s\n", name,
		    ctl_jstr(w, "state"), ctl_jstr(w, "exit_reason"));
	json_decref(w);
	return 0;
}

/* What an interrupted run acts on. */
struct run_intr {
	struct ctl *ctl;
	const char *name;
};

/* Ctrl-C while run follows or waits: the first stops the VM gracefully,
 * the second kills it; run goes on until the VM has ended. */
static void
run_interrupted(int n, void *arg)
{
	struct run_intr *ri = arg;

	if (n == 1) {
		fprintf(stderr, "unikctl: stopping vm '%s' (Ctrl-C again to "
		    "kill it)\n", ri->name);
		run_post(ri->ctl, ri->name, "/stop");
	} else if (n == 2) {
		fprintf(stderr, "unikctl: killing vm '%s'\n", ri->name);
		run_post(ri->ctl, ri->name, "/kill");
	}
}

/* The end of a VM that did not settle: its last lines and why; a clean
 * exit is no failure. */
static int
run_unsettled(struct ctl *c, const char *name, const json_t *vm)
{
	/* a VM started again already shows its end under last_exit */
	const json_t *end = json_is_object(json_object_get(vm, "last_exit")) ?
	    json_object_get(vm, "last_exit") : vm;
	const char *now;
	char path[512];
	int st;

	/* a job that ended well within the settle time did what it should */
	if (strcmp(ctl_jstr(vm, "state"), "exited") == 0 &&
	    json_integer_value(json_object_get(end, "exit_status")) == 0 &&
	    json_is_integer(json_object_get(end, "exit_status"))) {
		fprintf(stderr, "unikctl: vm '%s' exited: %s\n", name,
		    ctl_jstr(end, "exit_reason"));
		return 0;
	}
	/* started again by its restart policy: say so, not "starting" */
	now = ctl_jstr(vm, "state");
	if (strcmp(now, "starting") == 0 || strcmp(now, "running") == 0)
		now = "restarting";
	fprintf(stderr, "unikctl: vm '%s' exited: %s (now %s); its last "
	    "console lines:\n", name, ctl_jstr(end, "exit_reason"), now);
	if (ctl_vm_path(path, sizeof(path), name,
	    "/console?tail=" RUN_SETTLE_LINES) == 0) {
		fflush(stdout);
		ctl_stream(c, path, ctl_sink_stdout, NULL);
	}
	st = json_integer_value(json_object_get(end, "exit_status")) & 0xff;
	return st != 0 ? st : CTL_EXIT_FAIL;
}

/*
 * Watches the VM until it has run for settle_ms: 0 when it did, the exit
 * code to return when it ended (or is restarting) before.
 */
static int
run_settle(struct ctl *c, const char *name, long settle_ms)
{
	long long t0 = run_now_ms(), running_since = 0, now, restarts = -1;
	struct timespec nap = {0, RUN_SETTLE_POLL_MS * 1000000L};
	const char *state;
	char path[512];
	json_t *vm;
	int rc;

	if (ctl_vm_path(path, sizeof(path), name, "") == -1)
		return CTL_EXIT_FAIL;
	for (;;) {
		if ((rc = ctl_call(c, "GET", path, NULL, &vm)) != 0)
			return rc;
		state = ctl_jstr(vm, "state");
		now = run_now_ms();
		if (restarts < 0)
			restarts = json_integer_value(
			    json_object_get(vm, "restarts"));
		/* ended, or ended and restarted between two looks */
		if (strcmp(state, "running") == 0 && restarts ==
		    json_integer_value(json_object_get(vm, "restarts"))) {
			if (running_since == 0)
				running_since = now;
		} else if (strcmp(state, "starting") != 0 ||
		    running_since != 0 || restarts != json_integer_value(
		    json_object_get(vm, "restarts"))) {
			rc = run_unsettled(c, name, vm);
			json_decref(vm);
			return rc;
		}
		json_decref(vm);
		if (running_since != 0 && now - running_since >= settle_ms)
			return 0;
		if (running_since == 0 && now - t0 >= RUN_START_MAX_MS) {
			fprintf(stderr, "unikctl: vm '%s' is still starting "
			    "after %d s\n", name, RUN_START_MAX_MS / 1000);
			return CTL_EXIT_FAIL;
		}
		nanosleep(&nap, NULL);
	}
}

int
ctl_run_after(struct ctl *c, const char *name, int attach, int rm,
    long settle_ms)
{
	struct run_intr ri;
	char path[512];
	json_t *gone;
	int rc, status = 0;

	if (!attach && !rm)
		return settle_ms > 0 ? run_settle(c, name, settle_ms) : 0;
	ri.ctl = c;
	ri.name = name;
	ctl_interrupt_arg = &ri;
	ctl_interrupt_hook = run_interrupted;
	run_catch_signals();
	if (attach) {
		if (ctl_vm_path(
		        path, sizeof(path), name, "/console?follow=true") == -1)
			return CTL_EXIT_FAIL;
		rc = ctl_stream(c, path, ctl_sink_stdout, NULL);
		if (rc == CTL_EXIT_UNREACHABLE)
			return rc;
	}
	rc = run_wait(c, name, &status);
	ctl_interrupt_hook = NULL;
	if (rc != 0)
		return rc;
	if (rm) {
		if (ctl_vm_path(path, sizeof(path), name, "") == -1)
			return CTL_EXIT_FAIL;
		if ((rc = ctl_call(c, "DELETE", path, NULL, &gone)) != 0)
			return rc;
		json_decref(gone);
	}
	return status;
}
