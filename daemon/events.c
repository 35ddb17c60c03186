/*
 * The event log: every state change is stored with a sequence number
 * (store.c) and handed to the subscribers following /v1/events, so a
 * client that reconnects with since=SEQ misses nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"
#include "timestamp.h"
#include "unikd.h"

json_t *
unikd_event_json(int64_t seq, int64_t time_ms, const char *type,
    const char *vm, const char *data)
{
	char when[64];
	struct tm tm;
	time_t secs = (time_t)(time_ms / 1000);
	json_t *obj = NULL, *extra;

	gmtime_r(&secs, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(time_ms % 1000));
	if (data != NULL && (extra = json_loads(data, 0, NULL)) != NULL) {
		if (json_is_object(extra))
			obj = extra;
		else
			json_decref(extra);
	}
	if (obj == NULL)
		obj = json_object();
	json_object_set_new(obj, "seq", json_integer(seq));
	json_object_set_new(obj, "time", json_string(when));
	json_object_set_new(obj, "type", json_string(type));
	if (vm != NULL)
		json_object_set_new(obj, "vm", json_string(vm));
	return obj;
}

/* An event whose line waits for the commit of its row. */
struct unikd_event_held {
	struct unikd_after after;
	struct unikd *u;
	int64_t seq;
	char *line;
};

static void
unikd_event_deliver(struct unikd *u, int64_t seq, const char *line)
{
	struct unikd_event_sub *sub, *next;

	/* every subscriber hears of every event, even one not recorded:
	 * systemd's STATUS= (service.c) follows every VM state change */
	TAILQ_FOREACH_SAFE(sub, &u->event_subs, entry, next)
		sub->cb(sub->arg, seq, line);
}

static void
unikd_event_committed(void *arg, int rc)
{
	struct unikd_event_held *h = arg;

	if (rc == 0)
		unikd_event_deliver(h->u, h->seq, h->line);
	else	/* lost with its transaction */
		unikd_event_deliver(h->u, -1, NULL);
	free(h->line);
	free(h);
}

/* Followers read only events that are on disk: the line waits for the
 * group commit of its row (commit.c). */
static void
unikd_event_send(struct unikd *u, int64_t seq, char *line)
{
	struct unikd_event_held *h;

	if (seq > 0 && store_pending(u->store)) {
		if ((h = calloc(1, sizeof(*h))) != NULL) {
			h->after.fn = unikd_event_committed;
			h->after.arg = h;
			h->u = u;
			h->seq = seq;
			h->line = line;
			unikd_after_commit(u, &h->after);
			return;
		}
		if (unikd_commit(u) == -1) {
			seq = -1;
			free(line);
			line = NULL;
		}
	}
	unikd_event_deliver(u, seq, line);
	free(line);
}

int64_t
unikd_event(struct unikd *u, const char *type, const char *vm, json_t *data)
{
	char *text = NULL, *line = NULL;
	int64_t seq, now = unikd_now_ms();
	json_t *obj;

	if (data != NULL)
		text = json_dumps(data, JSON_COMPACT);
	seq = store_event_add(u->store, now, type, vm, text);
	if (seq <= 0)
		log_warnx("event type=%s vm=%s not stored: %s", type,
		    vm != NULL ? vm : "-", store_errmsg(u->store));
	else {
		obj = unikd_event_json(seq, now, type, vm, text);
		line = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
	}
	unikd_event_send(u, seq, line);
	if (seq > 0)
		unikd_event_prune(u);
	free(text);
	json_decref(data);
	return seq;
}

/*
 * Both deletes walk the rowid from the oldest event and stop at the
 * first one kept, so they cost what they remove. Sequence numbers only
 * grow and time with them, so "older than max_age" is a prefix too.
 */
void
unikd_event_prune(struct unikd *u)
{
	int64_t last = store_event_last_seq(u->store);
	int64_t max = (int64_t)u->cf.events_max;
	int64_t age = (int64_t)u->cf.events_max_age;

	if (max > 0 && last > max &&
	    store_exec(u->store, "DELETE FROM events WHERE seq <= ?1", "i",
	        last - max) == -1)
		log_warnx("action=prune-events error=\"%s\"",
		    store_errmsg(u->store));
	if (age > 0 &&
	    store_exec(u->store,
	        "DELETE FROM events WHERE seq < COALESCE("
	        "(SELECT seq FROM events WHERE time_ms >= ?1 ORDER BY seq"
	        " LIMIT 1), (SELECT MAX(seq) + 1 FROM events))",
	        "i", unikd_now_ms() - age * 1000) == -1)
		log_warnx("action=prune-events error=\"%s\"",
		    store_errmsg(u->store));
}

void
unikd_event_subscribe(struct unikd *u, struct unikd_event_sub *sub)
{
	TAILQ_INSERT_TAIL(&u->event_subs, sub, entry);
}

void
unikd_event_unsubscribe(struct unikd *u, struct unikd_event_sub *sub)
{
	TAILQ_REMOVE(&u->event_subs, sub, entry);
}
