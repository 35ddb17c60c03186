/*
 * The control API's connections: how many may be open, how long a client
 * may take to send a request, and what happens when unikd runs out of
 * file descriptors. evhttp (libevent 2.1) has none of these, so:
 *
 * - Each accepted connection gets its bufferevent from api_conn_new()
 *   (evhttp's bevcb), which counts it; once evhttp has made the
 *   connection (the next turn of the loop, through an event activated
 *   at once) its close callback is ours, so every close is counted.
 * - A deadline of request_timeout runs from the accept and from the end
 *   of each reply until the next request is whole (api_conn_request());
 *   an idle, slow-sending or half-sent connection is closed when it
 *   passes. A request being answered (a wait, a stream) has none.
 * - At max_connections, or when accept() fails for want of descriptors
 *   or memory, the listener is disabled: no busy loop on a socket that
 *   stays readable, and one warning per episode. A closing connection
 *   enables it again; after a descriptor shortage a timer does too.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "api-internal.h"
#include "log.h"
#include "unikd.h"

/* The most one write of a reply may send (the socket takes what fits). */
#define API_CONN_WRITE_MAX (256 * 1024)
/* How long accepting pauses after accept() ran out of descriptors. */
#define API_CONN_RETRY_MS 1000

struct api_conn {
	struct api_conns *cs;
	TAILQ_ENTRY(api_conn) entry;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;	/* NULL until bound */
	int fd;
	struct event *deadline;	/* binds first, then the request deadline */
	struct api_pending *pending;	/* a wait or stream under way */
};

/*
 * libevent 2.1 calls a listener's error callback with evhttp's pointer,
 * not ours: the listeners (the API's, the metrics') are found here. Set
 * by api_conns_start and cleared by api_conns_stop; the only state
 * outside struct unikd.
 */
static struct api_conns *api_conns_listening[2];

static void
api_conn_deadline_set(struct api_conn *c)
{
	struct timeval tv = {.tv_sec = c->cs->u->cf.request_timeout};

	evtimer_add(c->deadline, &tv);
}

/* fd -> connection, grown on demand: fds are small and dense. */
static int
api_conn_index(struct api_conns *cs, struct api_conn *c)
{
	struct api_conn **v;
	size_t n;

	if ((size_t)c->fd >= cs->nconn_by_fd) {
		n = (size_t)c->fd + 64;
		if ((v = reallocarray(cs->conn_by_fd, n, sizeof(*v))) == NULL)
			return -1;
		memset(v + cs->nconn_by_fd, 0,
		    (n - cs->nconn_by_fd) * sizeof(*v));
		cs->conn_by_fd = v;
		cs->nconn_by_fd = n;
	}
	cs->conn_by_fd[c->fd] = c;
	return 0;
}

static struct api_conn *
api_conn_of(struct api_conns *cs, struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	evutil_socket_t fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	struct api_conn *c;

	if (fd < 0 || (size_t)fd >= cs->nconn_by_fd)
		return NULL;
	c = cs->conn_by_fd[fd];
	return c != NULL && c->evcon == evcon ? c : NULL;
}

struct unikd *
api_conn_unikd(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	size_t i;

	for (i = 0; evcon != NULL && i < 2; i++)
		if (api_conns_listening[i] != NULL &&
		    api_conn_of(api_conns_listening[i], evcon) != NULL)
			return api_conns_listening[i]->u;
	return NULL;
}

static void
api_conn_pause(struct api_conns *cs, const char *why)
{
	if (cs->stopping)
		return;
	evconnlistener_disable(cs->listener);
	cs->paused = true;
	if (!cs->pause_warned)
		log_warnx("%s: %s: accepting paused (%u connections open)",
		    cs->name, why, cs->nconns);
	cs->pause_warned = true;
}

static void
api_conn_resume(struct api_conns *cs)
{
	if (cs->stopping || !cs->paused ||
	    cs->nconns >= cs->u->cf.max_connections)
		return;
	cs->paused = false;
	evconnlistener_enable(cs->listener);
}

static void
api_conn_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	api_conn_resume(arg);
}

/* accept() failed: out of descriptors or memory pauses; others pass. */
static void
api_conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct api_conns *cs = NULL;
	size_t i;
	struct timeval tv = {
		.tv_sec = API_CONN_RETRY_MS / 1000,
		.tv_usec = (API_CONN_RETRY_MS % 1000) * 1000,
	};
	int err = errno;
	char why[128];

	(void)arg;
	for (i = 0; i < 2 && cs == NULL; i++)
		if (api_conns_listening[i] != NULL &&
		    api_conns_listening[i]->listener == lev)
			cs = api_conns_listening[i];
	if (cs == NULL)
		return;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_debug("%s: accept: %s", cs->name, strerror(err));
		return;
	}
	snprintf(why, sizeof(why), "accept: %s", strerror(err));
	api_conn_pause(cs, why);
	evtimer_add(cs->retry, &tv);
}

static void
api_conn_free(struct api_conn *c)
{
	struct api_conns *cs = c->cs;

	TAILQ_REMOVE(&cs->conns, c, entry);
	if (c->fd >= 0 && (size_t)c->fd < cs->nconn_by_fd &&
	    cs->conn_by_fd[c->fd] == c)
		cs->conn_by_fd[c->fd] = NULL;
	event_free(c->deadline);
	free(c);
	cs->nconns--;
	api_conn_resume(cs);
}

/* evhttp frees the connection: the client left, a reply ended it, or
 * the deadline passed. */
static void
api_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_conn *c = arg;

	(void)evcon;
	if (c->pending != NULL)
		api_pending_closed(c->pending);
	api_conn_free(c);
}

/* The first run binds the connection evhttp made around c->bev; later
 * runs are the deadline passing. */
static void
api_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;
	void *evcon = NULL;

	(void)fd;
	(void)what;
	if (c->evcon != NULL) {
		log_info("%s: fd=%d action=close reason=\"no whole request "
		    "within %u s\"", c->cs->name, c->fd,
		    c->cs->u->cf.request_timeout);
		/* runs api_conn_closed(), which frees c */
		evhttp_connection_free(c->evcon);
		return;
	}
	/* evhttp's callbacks hold its connection; none: it is freed */
	bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
	c->fd = evcon != NULL ? bufferevent_getfd(c->bev) : -1;
	bufferevent_decref(c->bev);
	if (evcon == NULL || c->fd < 0 || api_conn_index(c->cs, c) == -1) {
		if (evcon != NULL)
			evhttp_connection_free(evcon);
		api_conn_free(c);
		return;
	}
	c->evcon = evcon;
	evhttp_connection_set_closecb(c->evcon, api_conn_closed, c);
	api_conn_deadline_set(c);
}

/* evhttp's bevcb: one call per accepted connection. */
static struct bufferevent *
api_conn_new(struct event_base *base, void *arg)
{
	struct api_conns *cs = arg;
	struct api_conn *c;
	char why[64];

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;	/* evhttp makes one: served, not counted */
	c->cs = cs;
	c->fd = -1;
	c->bev = bufferevent_socket_new(base, -1, 0);
	c->deadline = evtimer_new(base, api_conn_timer, c);
	if (c->bev == NULL || c->deadline == NULL) {
		if (c->bev != NULL)
			bufferevent_free(c->bev);
		if (c->deadline != NULL)
			event_free(c->deadline);
		free(c);
		return NULL;
	}
	/* A large reply (a list of 1000 VMs, /metrics) leaves in big
	 * pieces, not libevent's default 16 KiB per turn of the loop, so it
	 * does not take a turn for each while bulk work runs. */
	bufferevent_set_max_single_write(c->bev, API_CONN_WRITE_MAX);
	/* kept until bound, so a connection evhttp drops at once is seen */
	bufferevent_incref(c->bev);
	event_active(c->deadline, EV_TIMEOUT, 1);
	TAILQ_INSERT_TAIL(&cs->conns, c, entry);
	if (++cs->nconns >= cs->u->cf.max_connections) {
		snprintf(why, sizeof(why), "max_connections (%u) reached",
		    cs->u->cf.max_connections);
		api_conn_pause(cs, why);
	} else if (cs->pause_warned && cs->nconns <=
	    cs->u->cf.max_connections - cs->u->cf.max_connections / 4) {
		/* an episode ends well below the limit, so clients that
		 * keep it full get one warning, not one per close */
		log_info("%s: accepting connections again", cs->name);
		cs->pause_warned = false;
	}
	return c->bev;
}

/* A reply is over: the next request has request_timeout to arrive. */
static void
api_conn_replied(struct evhttp_request *req, void *arg)
{
	struct api_conn *c = arg;

	(void)req;
	api_conn_deadline_set(c);
}

void
api_conn_request(struct api_conns *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct api_conn *c = evcon != NULL ? api_conn_of(cs, evcon) : NULL;

	if (c == NULL)
		return;
	evtimer_del(c->deadline);
	evhttp_request_set_on_complete_cb(req, api_conn_replied, c);
}

int
api_conn_watch(struct api_conns *cs, struct evhttp_connection *evcon,
    struct api_pending *p)
{
	struct api_conn *c = api_conn_of(cs, evcon);

	if (c == NULL)
		return -1;
	c->pending = p;
	return 0;
}

void
api_conn_unwatch(struct api_conns *cs, struct evhttp_connection *evcon)
{
	struct api_conn *c = api_conn_of(cs, evcon);

	if (c != NULL)
		c->pending = NULL;
}

int
api_conns_start(struct api_conns *cs, struct unikd *u, const char *name,
    struct evhttp *http, struct evhttp_bound_socket *bound)
{
	size_t i;

	memset(cs, 0, sizeof(*cs));
	TAILQ_INIT(&cs->conns);
	cs->u = u;
	cs->name = name;
	cs->listener = evhttp_bound_socket_get_listener(bound);
	if ((cs->retry = evtimer_new(u->base, api_conn_retry, cs)) == NULL)
		return -1;
	for (i = 0; i < 2 && api_conns_listening[i] != NULL; i++)
		;
	if (i == 2) {
		event_free(cs->retry);
		cs->retry = NULL;
		return -1;
	}
	api_conns_listening[i] = cs;
	evconnlistener_set_error_cb(cs->listener, api_conn_accept_error);
	evhttp_set_bevcb(http, api_conn_new, cs);
	return 0;
}

void
api_conns_stop(struct api_conns *cs, struct evhttp *http)
{
	struct api_conn *c;
	size_t i;

	/* evhttp_free closes every connection evhttp made (each runs
	 * api_conn_closed) and the listener: nothing may enable it now */
	cs->stopping = true;
	if (http != NULL)
		evhttp_free(http);
	while ((c = TAILQ_FIRST(&cs->conns)) != NULL) {
		if (c->evcon == NULL)	/* accepted, not bound yet */
			bufferevent_decref(c->bev);
		api_conn_free(c);
	}
	if (cs->retry != NULL)
		event_free(cs->retry);
	cs->retry = NULL;
	free(cs->conn_by_fd);
	cs->conn_by_fd = NULL;
	for (i = 0; i < 2; i++)
		if (api_conns_listening[i] == cs)
			api_conns_listening[i] = NULL;
}
