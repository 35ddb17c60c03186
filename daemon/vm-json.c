/*
 * Each VM's JSON text (vm_to_json, serialized), kept until something it
 * shows changes, so a list of 1000 VMs is 1000 copies of text rather than
 * 1000 trees built and dumped.
 *
 * Whether the text is still right is decided by comparing what it was
 * made from, not by hooks where the VM changes: every field vm_to_json
 * reads that can change after the VM is made (the runtime as the store
 * keeps it: state, pids, the last exit, restarts and their time, the
 * uid and the tender's credentials; the problem; the NICs with their
 * MAC, lease and TAP) is copied beside the text and compared at each
 * read, a few hundred bytes. A change made anywhere, saved to the store
 * or not yet, is seen at the next read; the rest of the definition
 * changes only when a VM with a problem is checked again
 * (vm_json_forget).
 *
 * So that a list after many VMs changed (a bulk start) does not make all
 * their texts at once, events (every VM state change is one) arm a timer
 * of the loop's lowest priority that remakes the stale texts ahead, a
 * slice at a time, when the loop has nothing else to do. It only saves
 * time: a text it has not reached yet is made at the read.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "store.h"
#include "timestamp.h"
#include "unikd.h"
#include "vm-internal.h"

#define VM_JSON_WARM_DELAY_MS 10	/* events are gathered that long */
#define VM_JSON_WARM_SLICE_MS 1

struct vm_json_warmer {
	struct unikd *u;
	struct event *ev;
	struct unikd_event_sub sub;
};

struct vm_json {
	char *text;		/* compact, no newline */
	size_t len;
	/* what it was made from: the runtime (exit_reason NULL, compared
	 * as a string) and the NICs */
	struct store_vm_runtime rt;
	uid_t uid;
	gid_t gid;
	char exit_reason[sizeof(((struct vm *)0)->exit_reason)];
	char problem[sizeof(((struct vm *)0)->problem)];
	size_t nnics;
	struct vm_nic nics[];
};

static void
vm_json_runtime(const struct vm *vm, struct store_vm_runtime *rt)
{
	vm_runtime(vm, rt);
	rt->exit_reason = NULL;
}

static bool
vm_json_fresh(const struct vm *vm, const struct vm_json *j)
{
	struct store_vm_runtime rt;
	uid_t uid;
	gid_t gid;

	vm_json_runtime(vm, &rt);
	vm_uid_creds(vm, &uid, &gid);
	return memcmp(&rt, &j->rt, sizeof(rt)) == 0 && uid == j->uid &&
	    gid == j->gid &&
	    strcmp(vm->exit_reason, j->exit_reason) == 0 &&
	    strcmp(vm->problem, j->problem) == 0 &&
	    vm->spec.nnics == j->nnics && (j->nnics == 0 ||
	    memcmp(vm->spec.nics, j->nics, j->nnics * sizeof(*j->nics)) == 0);
}

const char *
vm_json_text(struct vm *vm, size_t *len)
{
	struct vm_json *j = vm->json;
	size_t nnics = vm->spec.nnics;
	json_t *o;

	if (j != NULL && vm_json_fresh(vm, j)) {
		*len = j->len;
		return j->text;
	}
	vm_json_forget(vm);
	if ((j = calloc(1, sizeof(*j) + nnics * sizeof(*j->nics))) == NULL)
		return NULL;
	o = vm_to_json(vm);
	j->text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (j->text == NULL) {
		free(j);
		return NULL;
	}
	j->len = strlen(j->text);
	vm_json_runtime(vm, &j->rt);
	vm_uid_creds(vm, &j->uid, &j->gid);
	memcpy(j->exit_reason, vm->exit_reason, sizeof(j->exit_reason));
	memcpy(j->problem, vm->problem, sizeof(j->problem));
	j->nnics = nnics;
	if (nnics > 0)
		memcpy(j->nics, vm->spec.nics, nnics * sizeof(*j->nics));
	vm->json = j;
	*len = j->len;
	return j->text;
}

void
vm_json_forget(struct vm *vm)
{
	if (vm->json == NULL)
		return;
	free(vm->json->text);
	free(vm->json);
	vm->json = NULL;
}

static void
vm_json_warm_arm(struct vm_json_warmer *w)
{
	struct timeval tv = {0, VM_JSON_WARM_DELAY_MS * 1000};

	if (!evtimer_pending(w->ev, NULL))
		evtimer_add(w->ev, &tv);
}

/* Remakes stale texts for a slice; the rest at the next run. */
static void
vm_json_warm(evutil_socket_t fd, short what, void *arg)
{
	struct vm_json_warmer *w = arg;
	double end = unikd_clock() + VM_JSON_WARM_SLICE_MS / 1000.0;
	struct vm *vm;
	size_t len;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(vm, &w->u->vms, entry) {
		if (vm->json != NULL && vm_json_fresh(vm, vm->json))
			continue;
		if (vm_json_text(vm, &len) == NULL ||
		    unikd_clock() >= end) {
			vm_json_warm_arm(w);
			return;
		}
	}
}

static void
vm_json_on_event(void *arg, int64_t seq, const char *line)
{
	(void)seq;
	(void)line;
	vm_json_warm_arm(arg);
}

int
vm_json_init(struct unikd *u)
{
	struct vm_json_warmer *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->u = u;
	if ((w->ev = evtimer_new(u->base, vm_json_warm, w)) == NULL ||
	    event_priority_set(w->ev,
	    event_base_get_npriorities(u->base) - 1) == -1) {
		if (w->ev != NULL)
			event_free(w->ev);
		free(w);
		return -1;
	}
	w->sub.cb = vm_json_on_event;
	w->sub.arg = w;
	unikd_event_subscribe(u, &w->sub);
	u->vm_json = w;
	return 0;
}

void
vm_json_shutdown(struct unikd *u)
{
	struct vm_json_warmer *w = u->vm_json;

	if (w == NULL)
		return;
	unikd_event_unsubscribe(u, &w->sub);
	event_free(w->ev);
	free(w);
	u->vm_json = NULL;
}
