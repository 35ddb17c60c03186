/*
 * Requests that change something (every method but GET) wait in a queue
 * and are run from an event of the loop's lowest priority, a slice of
 * API_DEFER_SLICE_MS at a time. A create or start blocks the loop for a
 * millisecond or more (netlink, a mkdir, a spawn, SQLite); sixteen of them
 * read in one turn used to run back to back while a GET arriving meanwhile
 * waited for all of them, and its reply, written in the next turn, for
 * the next batch too. libevent runs only the highest priority that has
 * events each turn, so reads and writes come first and a GET waits at
 * most one slice. Under a load of GETs that never pauses, a timer of the
 * normal priority still runs a slice every API_DEFER_MAX_WAIT_MS.
 *
 * A queued request stays valid: evhttp stops reading a connection while
 * its request is unanswered (a client that left is found out by the
 * reply's write), and api_defer_stop drops the queue before the server
 * frees its connections.
 */
#include "config.h"

#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>

#include "api-internal.h"
#include "timestamp.h"
#include "unikd.h"

#define API_DEFER_SLICE_MS 2
#define API_DEFER_MAX_WAIT_MS 20

struct api_deferred {
	TAILQ_ENTRY(api_deferred) entry;
	struct evhttp_request *req;
	double t0;	/* when it arrived, for its duration */
};

struct api_defer {
	struct api *api;
	TAILQ_HEAD(, api_deferred) queue;
	struct event *run;	/* lowest priority, when the loop is idle */
	struct event *late;	/* normal priority, when it never is */
};

static void
api_defer_arm(struct api_defer *d)
{
	struct timeval now = {0, 0};
	struct timeval late = {0, API_DEFER_MAX_WAIT_MS * 1000};

	if (!evtimer_pending(d->run, NULL))
		evtimer_add(d->run, &now);
	if (!evtimer_pending(d->late, NULL))
		evtimer_add(d->late, &late);
}

/* Runs queued requests for a slice, at least one; the rest next time. */
static void
api_defer_slice(evutil_socket_t fd, short what, void *arg)
{
	struct api_defer *d = arg;
	struct api_deferred *q;
	double end = unikd_clock() + API_DEFER_SLICE_MS / 1000.0;

	(void)fd;
	(void)what;
	evtimer_del(d->run);
	evtimer_del(d->late);
	while ((q = TAILQ_FIRST(&d->queue)) != NULL) {
		TAILQ_REMOVE(&d->queue, q, entry);
		api_handle(d->api, q->req, q->t0);
		free(q);
		if (unikd_clock() >= end)
			break;
	}
	if (!TAILQ_EMPTY(&d->queue))
		api_defer_arm(d);
}

int
api_defer_start(struct api *api)
{
	struct event_base *base = api->u->base;
	struct api_defer *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	d->api = api;
	TAILQ_INIT(&d->queue);
	d->run = evtimer_new(base, api_defer_slice, d);
	d->late = evtimer_new(base, api_defer_slice, d);
	if (d->run == NULL || d->late == NULL ||
	    event_priority_set(d->run,
	    event_base_get_npriorities(base) - 1) == -1) {
		if (d->run != NULL)
			event_free(d->run);
		if (d->late != NULL)
			event_free(d->late);
		free(d);
		return -1;
	}
	api->defer = d;
	return 0;
}

void
api_defer_stop(struct api *api)
{
	struct api_defer *d = api->defer;
	struct api_deferred *q;

	if (d == NULL)
		return;
	/* their connections are closed next, without a reply */
	while ((q = TAILQ_FIRST(&d->queue)) != NULL) {
		TAILQ_REMOVE(&d->queue, q, entry);
		free(q);
	}
	event_free(d->run);
	event_free(d->late);
	free(d);
	api->defer = NULL;
}

void
api_defer_request(struct api *api, struct evhttp_request *req, double t0)
{
	struct api_defer *d = api->defer;
	struct api_deferred *q;

	if (d == NULL || (q = calloc(1, sizeof(*q))) == NULL) {
		api_handle(api, req, t0);
		return;
	}
	q->req = req;
	q->t0 = t0;
	TAILQ_INSERT_TAIL(&d->queue, q, entry);
	api_defer_arm(d);
}
