/*
 * /v1/vms and /v1/vms/{name}/...: list, create, inspect, remove and drive
 * VMs. Each handler reads the HTTP input, calls the VM manager (vm.h) and
 * turns its answer or its uerr into the reply. Waits and console streams
 * stay open until the VM reaches a final state or the client goes away.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-internal.h"
#include "image-open.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"
#include "vm.h"
#include "vm-console-time.h"

#define API_TIMEOUT_MAX 3600

/* A wait or a console follower. */
struct api_vm_watch {
	struct api_pending pending;
	struct vm *vm;
	struct vm_watch watch;
	struct evbuffer *out; /* console follow: the chunk being sent */
	bool stamps;          /* console follow: prefix lines with the time */
	bool bol;             /* the next console byte starts a line */
};

/* The {name} VM, or NULL after replying 404. */
static struct vm *
api_vm_lookup(struct api_req *r)
{
	struct vm *vm = NULL;

	if (r->name != NULL && vm_name_valid(r->name))
		vm = vm_find(r->u, r->name);
	if (vm == NULL)
		api_reply_errorf(r->req, 404, "vm '%s' does not exist",
		    r->name != NULL ? r->name : "");
	return vm;
}

/*
 * The states a list may ask for: the VM states, and "restarting" (an
 * exited VM whose restart is pending, as vm_state_label() shows it).
 */
static const char *const api_vms_states[] = {"created", "starting",
    "running", "stopping", "exited", "failed", "restarting"};
#define API_VMS_NSTATES (sizeof(api_vms_states) / sizeof(api_vms_states[0]))

static unsigned
api_vms_state_bit(const char *label)
{
	size_t i;

	for (i = 0; i < API_VMS_NSTATES; i++)
		if (strcmp(api_vms_states[i], label) == 0)
			return 1u << i;
	return 0;
}

/* Parses "running,exited" into a set of state bits; -1 with e filled. */
static int
api_vms_state_filter(const char *list, unsigned *mask, struct uerr *e)
{
	const char *p = list, *end;
	size_t len, i;

	*mask = 0;
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < API_VMS_NSTATES; i++)
			if (strlen(api_vms_states[i]) == len &&
			    strncmp(api_vms_states[i], p, len) == 0)
				break;
		if (i == API_VMS_NSTATES)
			return uerr_set(e, 400,
			    "query parameter 'state': "
			    "unknown state '%.*s' (created, starting, running, "
			    "stopping, exited, failed, restarting)",
			    (int)len, p);
		*mask |= 1u << i;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

/* Sends b, a JSON document, as the 200 reply; 500 when it is NULL (out
 * of memory while it was written). Frees b. */
static void
api_vms_reply_text(struct api_req *r, struct evbuffer *b)
{
	if (b == NULL) {
		api_reply_errorf(r->req, 500, "%s", strerror(ENOMEM));
		return;
	}
	api_reply_text(r->req, b, "application/json");
	evbuffer_free(b);
}

/* The VMs' JSON texts as they are kept (vm_json_text), one after the
 * other: no tree for the whole list. */
static struct evbuffer *
api_vms_list_text(struct unikd *u, unsigned mask)
{
	struct evbuffer *b = evbuffer_new();
	const char *text;
	struct vm *vm;
	size_t len;
	bool first = true;

	if (b == NULL)
		return NULL;
	evbuffer_add(b, "{\"vms\":[", 8);
	TAILQ_FOREACH(vm, &u->vms, entry) {
		if (!(mask & api_vms_state_bit(vm_state_label(vm))))
			continue;
		if ((text = vm_json_text(vm, &len)) == NULL ||
		    (!first && evbuffer_add(b, ",", 1) == -1) ||
		    evbuffer_add(b, text, len) == -1) {
			evbuffer_free(b);
			return NULL;
		}
		first = false;
	}
	if (evbuffer_add(b, "]}\n", 3) == -1) {
		evbuffer_free(b);
		return NULL;
	}
	return b;
}

void
api_vms_list(struct api_req *r)
{
	const char *states = api_query_str(r, "state");
	unsigned mask = ~0u;
	struct uerr e;

	if (states != NULL && api_vms_state_filter(states, &mask, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	api_vms_reply_text(r, api_vms_list_text(r->u, mask));
}

void
api_vms_create(struct api_req *r)
{
	struct vm *vm = NULL;
	json_t *def = NULL;
	struct uerr e;
	bool start;

	if (api_query_bool(r, "start", false, &start, &e) == -1 ||
	    api_body_json(r->req, &def, &e) == -1 ||
	    vm_create(r->u, def, start, &vm, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 201, vm_to_json(vm));
	json_decref(def);
}

/* The VM's kept JSON text with "manifest" (inspect only: the image's
 * Solo5 manifest, read from the file) added as its last member. */
static struct evbuffer *
api_vms_get_text(struct unikd *u, struct vm *vm)
{
	struct evbuffer *b;
	const char *text;
	json_t *manifest;
	char *m = NULL;
	size_t len;
	int rc = -1;

	if ((text = vm_json_text(vm, &len)) == NULL || len < 2 ||
	    text[len - 1] != '}' || (b = evbuffer_new()) == NULL)
		return NULL;
	manifest = image_manifest_json(&u->cf, vm->spec.image);
	if (manifest != NULL &&
	    (m = json_dumps(manifest, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL)
		rc = evbuffer_add(b, text, len - 1) == 0 &&
		    evbuffer_add_printf(b, "%s\"manifest\":%s}\n",
		    len > 2 ? "," : "", m) > 0 ? 0 : -1;
	json_decref(manifest);
	free(m);
	if (rc == -1) {
		evbuffer_free(b);
		return NULL;
	}
	return b;
}

void
api_vms_get(struct api_req *r)
{
	struct vm *vm = api_vm_lookup(r);

	if (vm != NULL)
		api_vms_reply_text(r, api_vms_get_text(r->u, vm));
}

void
api_vms_remove(struct api_req *r)
{
	struct vm *vm;
	struct uerr e;
	bool force;

	if (api_query_bool(r, "force", false, &force, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if ((vm = api_vm_lookup(r)) == NULL)
		return;
	if (vm_remove(vm, force, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(
		    r->req, 200, json_pack("{s:s}", "removed", r->name));
}

void
api_vms_start(struct api_req *r)
{
	struct vm *vm = api_vm_lookup(r);
	struct uerr e;

	if (vm == NULL)
		return;
	if (vm_start(vm, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200, vm_to_json(vm));
}

/* stop and restart: the optional ?timeout=S, then the call. */
static void
api_vms_stop_or_restart(
    struct api_req *r, int (*fn)(struct vm *, int, struct uerr *))
{
	struct vm *vm;
	struct uerr e;
	long long timeout;

	if (api_query_int(r, "timeout", -1, 0, API_TIMEOUT_MAX, &timeout, &e) ==
	    -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if ((vm = api_vm_lookup(r)) == NULL)
		return;
	if (fn(vm, (int)timeout, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200, vm_to_json(vm));
}

void
api_vms_stop(struct api_req *r)
{
	api_vms_stop_or_restart(r, vm_stop);
}

void
api_vms_restart(struct api_req *r)
{
	api_vms_stop_or_restart(r, vm_restart);
}

/* "SIGTERM", "term", "TERM" or "15"; -1 when not a signal. */
static int
api_signal_parse(const char *s)
{
	const char *abbrev;
	char *end;
	long n;
	int sig;

	if (*s >= '0' && *s <= '9') {
		n = strtol(s, &end, 10);
		return *end == '\0' && n >= 1 && n <= 64 ? (int)n : -1;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (sig = 1; sig < NSIG; sig++) {
		abbrev = sigabbrev_np(sig);
		if (abbrev != NULL && strcasecmp(abbrev, s) == 0)
			return sig;
	}
	return -1;
}

void
api_vms_kill(struct api_req *r)
{
	const char *name = api_query_str(r, "signal");
	struct vm *vm;
	struct uerr e;
	int sig = SIGKILL;

	if (name != NULL && (sig = api_signal_parse(name)) == -1) {
		api_reply_errorf(r->req, 400,
		    "query parameter 'signal': "
		    "unknown signal '%s'",
		    name);
		return;
	}
	if ((vm = api_vm_lookup(r)) == NULL)
		return;
	if (vm_kill(vm, sig, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200, vm_to_json(vm));
}

static void
api_vm_watch_free(struct api_vm_watch *w)
{
	if (w->out != NULL)
		evbuffer_free(w->out);
	free(w);
}

/* The client of a wait or a console follower went away. */
static void
api_vm_watch_gone(void *arg)
{
	struct api_vm_watch *w = arg;

	vm_watch_remove(w->vm, &w->watch);
	api_vm_watch_free(w);
}

/* Starts a watch on vm for r; NULL after replying 500. */
static struct api_vm_watch *
api_vm_watch_new(struct api_req *r, struct vm *vm)
{
	struct api_vm_watch *w;

	w = calloc(1, sizeof(*w));
	if (w == NULL || api_pending_start(
	                     &w->pending, r, api_vm_watch_gone, w) == -1) {
		free(w);
		api_reply_errorf(r->req, 500, "cannot follow vm '%s': %s",
		    r->name, strerror(errno));
		return NULL;
	}
	w->vm = vm;
	w->watch.arg = w;
	return w;
}

/* The body of a wait's reply. */
static json_t *
api_vm_wait_json(const struct vm *vm)
{
	return json_pack("{s:s,s:o,s:o,s:o,s:s}", "name", vm->spec.name,
	    "exit_status",
	    vm->exit_status >= 0 ? json_integer(vm->exit_status) : json_null(),
	    "exit_reason",
	    vm->exit_reason[0] != '\0' ? json_string(vm->exit_reason)
	                               : json_null(),
	    "tender_status",
	    vm->tender_status >= 0 ? json_integer(vm->tender_status)
	                           : json_null(),
	    "state", vm_state_label(vm));
}

/* The VM of a wait is final or removed (the watch is detached). */
static void
api_vm_wait_done(void *arg, struct vm *vm)
{
	struct api_vm_watch *w = arg;
	struct evhttp_request *req = w->pending.req;

	api_pending_finish(&w->pending);
	if (vm_is_final(vm))
		api_reply_json(req, 200, api_vm_wait_json(vm));
	else
		api_reply_errorf(req, 404,
		    "vm '%s' was removed before it "
		    "stopped",
		    vm->spec.name);
	api_vm_watch_free(w);
}

void
api_vms_wait(struct api_req *r)
{
	struct vm *vm = api_vm_lookup(r);
	struct api_vm_watch *w;

	if (vm == NULL)
		return;
	if (vm_is_final(vm)) {
		api_reply_json(r->req, 200, api_vm_wait_json(vm));
		return;
	}
	if ((w = api_vm_watch_new(r, vm)) == NULL)
		return;
	w->watch.done = api_vm_wait_done;
	vm_watch_add(vm, &w->watch);
}

/* The console of a follower that read too slowly lost bytes. */
static void
api_vm_console_skipped(struct evbuffer *out, uint64_t skipped, bool mid_line,
    void *arg)
{
	(void)arg;
	evbuffer_add_printf(out, "%s[unikd: %llu bytes of console output "
	    "skipped: this client read too slowly; the console log has "
	    "them]\n", mid_line ? "\n" : "", (unsigned long long)skipped);
}

static void
api_vm_console_output(void *arg, const void *buf, size_t len)
{
	struct api_vm_watch *w = arg;

	if (len == 0)
		return;
	if (w->stamps)
		vm_console_stamp(w->out, buf, len, unikd_now_ms(), &w->bol);
	else if (evbuffer_add(w->out, buf, len) == -1)
		return;
	api_pending_send(&w->pending, w->out, api_vm_console_skipped, w);
}

/* The followed VM is final or removed: end the stream. */
static void
api_vm_console_done(void *arg, struct vm *vm)
{
	struct api_vm_watch *w = arg;

	(void)vm;
	api_pending_finish(&w->pending);
	evhttp_send_reply_end(w->pending.req); /* frees the request */
	api_vm_watch_free(w);
}

static void
api_vm_console_follow(
    struct api_req *r, struct vm *vm, struct evbuffer *log, bool stamps)
{
	size_t len = evbuffer_get_length(log);
	struct api_vm_watch *w;
	struct evbuffer_ptr end;
	char last = '\n';

	if ((w = api_vm_watch_new(r, vm)) == NULL) {
		evbuffer_free(log);
		return;
	}
	if (len > 0 &&
	    evbuffer_ptr_set(log, &end, len - 1, EVBUFFER_PTR_SET) == 0)
		evbuffer_copyout_from(log, &end, &last, 1);
	w->out = log;
	w->stamps = stamps;
	w->bol = last == '\n';
	w->watch.output = api_vm_console_output;
	w->watch.done = api_vm_console_done;
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", "text/plain");
	evhttp_send_reply_start(r->req, 200, "OK");
	api_pending_send(&w->pending, log, api_vm_console_skipped, w);
	/* In the same turn of the loop as the read: no byte is missed. */
	vm_watch_add(vm, &w->watch);
}

void
api_vms_console(struct api_req *r)
{
	struct evbuffer *log;
	struct vm *vm;
	struct uerr e;
	size_t skipped = 0;
	char num[32];
	long long tail, since;
	bool follow, stamps;
	int rc;

	if (api_query_int(r, "tail", -1, 0, 1000000000, &tail, &e) == -1 ||
	    api_query_bool(r, "follow", false, &follow, &e) == -1 ||
	    api_query_int(r, "since", 0, 0, LLONG_MAX, &since, &e) == -1 ||
	    api_query_bool(r, "timestamps", false, &stamps, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if ((vm = api_vm_lookup(r)) == NULL)
		return;
	/* a follower gets from the log what the monitor sent before now,
	 * and live only what comes after */
	if (follow)
		vm_console_sync(vm);
	if ((log = evbuffer_new()) == NULL)
		rc = -1;
	else if (since > 0 || stamps)
		rc = vm_console_read_timed(vm, (long)tail, since, stamps, log);
	else
		rc = vm_console_read(vm, (long)tail, log, &skipped);
	if (rc == -1) {
		api_reply_errorf(r->req, 500,
		    "cannot read the console of "
		    "vm '%s': %s",
		    r->name, strerror(errno));
		if (log != NULL)
			evbuffer_free(log);
		return;
	}
	/* where the reply starts in the log, so that a follower that lost
	 * its connection can ask for the log again and skip what it has */
	if (since == 0 && !stamps) {
		snprintf(num, sizeof(num), "%zu", skipped);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "X-Console-Skipped", num);
	}
	if (follow && !vm_is_final(vm)) {
		api_vm_console_follow(r, vm, log, stamps);
		return;
	}
	api_reply_text(r->req, log, "text/plain");
	evbuffer_free(log);
}
