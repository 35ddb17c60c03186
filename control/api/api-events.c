/*
 * GET /v1/events: the event log as JSON lines (application/x-ndjson),
 * from ?since=SEQ, optionally for one ?vm=NAME. With ?follow=true the
 * stored backlog is sent first, then new events as they happen, until
 * the client goes away.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-internal.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm.h"
#include "vmspec.h"

#define API_NDJSON "application/x-ndjson"

/* A follower of the event stream. */
struct api_events_follow {
	struct api_pending pending;
	struct unikd *u;
	struct unikd_event_sub sub;
	char vm[VM_NAME_MAX + 1]; /* "" for every event */
	int64_t last;             /* seq of the last event sent */
	int64_t delivered;        /* ... and not dropped (see skipped) */
	struct evbuffer *out;
};

/* Collects the backlog: one line per stored event. */
struct api_events_read {
	struct evbuffer *out;
	int64_t last;
};

static int
api_events_row(void *arg, const struct store_event_row *row)
{
	struct api_events_read *rd = arg;
	json_t *ev;
	char *line;

	ev = unikd_event_json(
	    row->seq, row->time_ms, row->type, row->vm, row->data);
	line = ev != NULL ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (line == NULL) {
		errno = ENOMEM;
		return -1;
	}
	evbuffer_add_printf(rd->out, "%s\n", line);
	free(line);
	rd->last = row->seq;
	return 0;
}

/* True when the event line is about vm. */
static bool
api_events_is_for(const char *line, const char *vm)
{
	json_t *ev = json_loads(line, 0, NULL);
	const char *name = json_string_value(json_object_get(ev, "vm"));
	bool match = name != NULL && strcmp(name, vm) == 0;

	json_decref(ev);
	return match;
}

/* A follower that read too slowly lost events: the line says from which
 * seq to read them again (GET /v1/events?since=SEQ). */
static void
api_events_skipped(struct evbuffer *out, uint64_t skipped, bool mid_line,
    void *arg)
{
	struct api_events_follow *f = arg;

	(void)mid_line;
	evbuffer_add_printf(out, "{\"type\":\"stream.skipped\","
	    "\"skipped_bytes\":%llu,\"since\":%lld}\n",
	    (unsigned long long)skipped, (long long)f->delivered);
}

static void
api_events_live(void *arg, int64_t seq, const char *line)
{
	struct api_events_follow *f = arg;

	if (line == NULL || seq <= f->last)
		return; /* not recorded, or already sent with the backlog */
	if (f->vm[0] != '\0' && !api_events_is_for(line, f->vm))
		return;
	f->last = seq;
	evbuffer_add_printf(f->out, "%s\n", line);
	if (api_pending_send(&f->pending, f->out, api_events_skipped, f))
		f->delivered = seq;
}

static void
api_events_follow_free(struct api_events_follow *f)
{
	if (f->out != NULL)
		evbuffer_free(f->out);
	free(f);
}

/* The follower went away (or the server stops). */
static void
api_events_gone(void *arg)
{
	struct api_events_follow *f = arg;

	unikd_event_unsubscribe(f->u, &f->sub);
	api_events_follow_free(f);
}

static void
api_events_follow(
    struct api_req *r, const char *vm, struct evbuffer *out, int64_t last)
{
	struct api_events_follow *f;

	f = calloc(1, sizeof(*f));
	if (f == NULL ||
	    api_pending_start(&f->pending, r, api_events_gone, f) == -1) {
		api_reply_errorf(
		    r->req, 500, "cannot follow events: %s", strerror(errno));
		free(f);
		evbuffer_free(out);
		return;
	}
	f->u = r->u;
	f->out = out;
	f->last = last;
	f->delivered = last;
	if (vm != NULL)
		strcpy(f->vm, vm); /* checked by vm_name_valid() */
	f->sub.cb = api_events_live;
	f->sub.arg = f;
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", API_NDJSON);
	evhttp_send_reply_start(r->req, 200, "OK");
	api_pending_send(&f->pending, out, api_events_skipped, f);
	/* In the same turn of the loop as the backlog: no event is lost. */
	unikd_event_subscribe(r->u, &f->sub);
}

static int
api_events_any(void *arg, const struct store_event_row *row)
{
	(void)row;
	*(bool *)arg = true;
	return 1;
}

/* True when some stored event is about vm (a VM removed since). */
static bool
api_events_known(struct api_req *r, const char *vm)
{
	bool found = false;

	store_event_foreach(r->u->store, 0, vm, 1, api_events_any, &found);
	return found;
}

void
api_events_get(struct api_req *r)
{
	const char *vm = api_query_str(r, "vm");
	struct api_events_read rd = {0};
	long long since;
	struct uerr e;
	bool follow;

	if (api_query_int(r, "since", 0, 0, LLONG_MAX, &since, &e) == -1 ||
	    api_query_bool(r, "follow", false, &follow, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if (vm != NULL && !vm_name_valid(vm)) {
		api_reply_errorf(r->req, 400,
		    "query parameter 'vm': '%s' is "
		    "not a valid vm name",
		    vm);
		return;
	}
	if (since > store_event_last_seq(r->u->store)) {
		api_reply_errorf(r->req, 400,
		    "query parameter 'since': %lld is in the future (the "
		    "last event is %lld)",
		    since, (long long)store_event_last_seq(r->u->store));
		return;
	}
	/* A follower may wait for a VM yet to be made. */
	if (vm != NULL && !follow && vm_find(r->u, vm) == NULL &&
	    !api_events_known(r, vm)) {
		api_reply_errorf(r->req, 404,
		    "vm '%s' does not exist and has no events", vm);
		return;
	}
	/* So a reader never sees events older than [events] max_age. */
	unikd_event_prune(r->u);
	rd.out = evbuffer_new();
	rd.last = since;
	if (rd.out == NULL || store_event_foreach(r->u->store, since, vm, 0,
	                          api_events_row, &rd) != 0) {
		api_reply_errorf(r->req, 500, "cannot read events: %s",
		    store_errmsg(r->u->store));
		if (rd.out != NULL)
			evbuffer_free(rd.out);
		return;
	}
	/* The backlog goes out at once: what it has of this turn is
	 * committed first (a reply that is not a stream waits for it). */
	if (follow && unikd_commit(r->u) == -1) {
		api_reply_errorf(r->req, 500, "cannot read events: %s",
		    store_errmsg(r->u->store));
		evbuffer_free(rd.out);
		return;
	}
	if (follow) {
		api_events_follow(r, vm, rd.out, rd.last);
		return;
	}
	api_reply_text(r->req, rd.out, API_NDJSON);
	evbuffer_free(rd.out);
}
