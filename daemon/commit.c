/*
 * Group commit on the event loop. Once unikd serves, the store's first
 * write in a turn of the loop opens a transaction (store_group()) and
 * makes u->commit_ev active, at the default priority: it runs after the
 * callbacks of that priority already active in the turn, or, when the
 * writes came from the API's queued requests (the lowest priority,
 * api-defer.c; libevent runs one priority a turn), first in the next
 * turn; either way it commits what they all wrote at once. What may not
 * happen before that commit (an API reply, an event line for a follower,
 * removing a monitor's exit record) waits in u->afters. A change of the
 * host whose intent must be on disk first commits the group at once
 * (unikd_commit()). A failed commit loses the group: its held replies
 * become errors and unikd exits, so that a restart reads the store again
 * (docs/design.md, "Durability").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "log.h"
#include "store.h"
#include "unikd.h"

/* How long a unikd whose store failed keeps writing its last replies. */
#define UNIKD_COMMIT_EXIT_MS 200

static void
unikd_commit_wake(void *arg)
{
	struct unikd *u = arg;

	event_active(u->commit_ev, EV_TIMEOUT, 1);
}

static void
unikd_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	unikd_commit(arg);
}

/* The store refuses writes from now on; unikd stops once the replies
 * held for the lost group are written. */
static void
unikd_commit_failed(struct unikd *u)
{
	struct timeval tv = {0, UNIKD_COMMIT_EXIT_MS * 1000};

	if (u->store_failed)
		return;
	u->store_failed = true;
	log_warnx("action=commit error=\"%s\" result=\"unikd exits; "
	    "restarted, it reads its state from the store again\"",
	    store_errmsg(u->store));
	event_base_loopexit(u->base, &tv);
}

int
unikd_commit(struct unikd *u)
{
	TAILQ_HEAD(, unikd_after) done = TAILQ_HEAD_INITIALIZER(done);
	struct unikd_after *a;
	int rc;

	rc = store_flush(u->store);
	if (rc == -1 && errno == EBUSY)	/* inside store_begin(): a bug */
		return -1;
	if (rc == -1)
		unikd_commit_failed(u);
	/* what these run may write and queue again, for the next commit */
	TAILQ_CONCAT(&done, &u->afters, entry);
	while ((a = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, a, entry);
		a->fn(a->arg, rc);
	}
	return rc;
}

void
unikd_after_commit(struct unikd *u, struct unikd_after *a)
{
	/* nothing is recorded any more: an exit record must stay */
	if (u->store_failed) {
		a->fn(a->arg, -1);
		return;
	}
	if (!store_pending(u->store)) {
		a->fn(a->arg, 0);
		return;
	}
	TAILQ_INSERT_TAIL(&u->afters, a, entry);
}

int
unikd_commit_start(struct unikd *u)
{
	u->commit_ev = event_new(u->base, -1, 0, unikd_commit_cb, u);
	if (u->commit_ev == NULL)
		return -1;
	store_group(u->store, unikd_commit_wake, u);
	return 0;
}

void
unikd_commit_stop(struct unikd *u)
{
	if (u->commit_ev == NULL)
		return;
	unikd_commit(u);
	store_group(u->store, NULL, NULL);
	event_free(u->commit_ev);
	u->commit_ev = NULL;
}
