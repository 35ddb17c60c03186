/*
 * What the control API files share: the server state, the request a
 * route handler gets, the route handlers of each resource file, and the
 * reply helpers. Only control/api*.c include this.
 */
#ifndef UNIKD_API_INTERNAL_H
#define UNIKD_API_INTERNAL_H

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct unikd;
struct uerr;
struct event;

struct api_conn;
struct evconnlistener;
struct evhttp_bound_socket;

/* The connections of one evhttp server (api-conn.c). */
struct api_conns {
	struct unikd *u;
	const char *name;	/* "api", "metrics": in log lines */
	TAILQ_HEAD(, api_conn) conns;
	unsigned nconns;
	struct api_conn **conn_by_fd;	/* indexed by socket fd */
	size_t nconn_by_fd;
	struct evconnlistener *listener;
	struct event *retry;	/* accepting again after EMFILE */
	bool paused;		/* the listener is disabled */
	bool pause_warned;	/* this episode was logged */
	bool stopping;		/* evhttp_free under way */
};

struct api {
	struct unikd *u;
	struct evhttp *http;
	int fd;          /* the listening socket */
	bool own_socket; /* we created cf.socket: unlink it at stop */
	struct api_metrics *metrics; /* request counters (api-metrics.c) */
	struct api_defer *defer; /* requests that change things, queued */
	struct api_conns conns;
};

/* One request as a route handler sees it; valid during the call only. */
struct api_req {
	struct unikd *u;
	struct evhttp_request *req;
	const char *method; /* "GET", ... */
	const char *path;   /* as sent, without the query */
	const char *name;   /* the {name} of the route, decoded, or NULL */
	struct evkeyvalq query;
};

typedef void (*api_handler)(struct api_req *);

/* api.c: routes and answers a whole request that arrived at t0 (from
 * unikd_clock()). */
void api_handle(struct api *, struct evhttp_request *, double t0);

/* api-defer.c: requests that change things wait for the loop to be
 * idle, so GETs are answered meanwhile. */
int api_defer_start(struct api *);
void api_defer_stop(struct api *);
void api_defer_request(struct api *, struct evhttp_request *, double t0);

/* One row of the route table (api.c). */
struct api_route {
	enum evhttp_cmd_type method;
	const char *pattern; /* "/v1/vms/{name}/start" */
	api_handler handler;
	const char *query; /* accepted query parameters, "a,b", or NULL */
};

/*
 * A request answered later (a wait, a console or event stream). gone is
 * called when the client goes away or the server stops; the request must
 * not be used after it, and gone frees the owner's state.
 */
struct api_pending {
	struct api *api;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *eof; /* notices the client closing while idle */
	void (*gone)(void *arg);
	void *arg;
	uint64_t skipped;  /* stream bytes dropped since the last chunk sent */
	bool mid_line;     /* the last byte sent was not a newline */
};

/* The most a stream's client may leave unread before chunks are dropped. */
#define API_PENDING_MAX_OUTPUT (1u << 20)

/* Writes the line that tells a stream's client that skipped bytes were
 * dropped (mid_line: what was sent before ends without a newline). */
typedef void (*api_pending_marker)(struct evbuffer *out, uint64_t skipped,
    bool mid_line, void *arg);

/*
 * Sends chunk (drained) on p's chunked reply; 1 when sent. When the client
 * has API_PENDING_MAX_OUTPUT bytes or more unread, the chunk is dropped
 * and counted instead (0): a stalled reader costs a bounded buffer, and
 * the next chunk that fits is preceded by marker's line.
 */
int api_pending_send(struct api_pending *p, struct evbuffer *chunk,
    api_pending_marker marker, void *arg);

/* Starts watching the client of r; 0, or -1 (nothing to undo). */
int api_pending_start(struct api_pending *, struct api_req *r,
    void (*gone)(void *), void *arg);
/* Stops watching, before the final reply is sent. */
void api_pending_finish(struct api_pending *);
/* The client went away: finish p and tell its owner (api-conn.c). */
void api_pending_closed(struct api_pending *);

/*
 * api-conn.c: connection limits and request deadlines for the evhttp
 * server http, bound at bound (its bevcb is taken).
 */
int api_conns_start(struct api_conns *, struct unikd *u, const char *name,
    struct evhttp *http, struct evhttp_bound_socket *bound);
/* Frees http (closing its connections) and what the connections held. */
void api_conns_stop(struct api_conns *, struct evhttp *http);
/* A whole request arrived (the gencb): no deadline until replied. */
void api_conn_request(struct api_conns *, struct evhttp_request *req);
/* A wait or stream on evcon: p hears of the connection closing. */
int api_conn_watch(struct api_conns *, struct evhttp_connection *evcon,
    struct api_pending *p);
void api_conn_unwatch(struct api_conns *, struct evhttp_connection *evcon);
/* The daemon whose server took req's connection; NULL when none. */
struct unikd *api_conn_unikd(struct evhttp_request *req);

/* Replies with a JSON document (consumed; NULL replies 500). A reply
 * made while the store has writes waiting for the group commit is held
 * until it (commit.c); if the commit fails, a success becomes a 500. */
void api_reply_json(struct evhttp_request *, int status, json_t *);
void api_reply_error(struct evhttp_request *, const struct uerr *);
void api_reply_errorf(struct evhttp_request *, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replies 200 with the bytes of buf (drained) and the content type. */
void api_reply_text(
    struct evhttp_request *, struct evbuffer *buf, const char *content_type);
const char *api_reason(int status);

/* The body as a JSON object; -1 with e filled (400) otherwise. */
int api_body_json(struct evhttp_request *, json_t **out, struct uerr *e);

/* Query parameters: absent gives def; a bad value is a 400 in e. */
const char *api_query_str(struct api_req *, const char *key);
int api_query_bool(
    struct api_req *, const char *key, bool def, bool *out, struct uerr *e);
int api_query_int(struct api_req *, const char *key, long long def,
    long long min, long long max, long long *out, struct uerr *e);

/* api-info.c */
void api_info_get(struct api_req *);
/* "2024-05-01T12:00:00Z" for unix seconds t. */
void api_time_format(long long t, char *buf, size_t len);

/* api-vms.c */
void api_vms_list(struct api_req *);
void api_vms_create(struct api_req *);
void api_vms_get(struct api_req *);
void api_vms_remove(struct api_req *);
void api_vms_start(struct api_req *);
void api_vms_stop(struct api_req *);
void api_vms_kill(struct api_req *);
void api_vms_restart(struct api_req *);
void api_vms_wait(struct api_req *);
void api_vms_console(struct api_req *);

/* api-events.c */
void api_events_get(struct api_req *);

/* api-blocks.c */
void api_blocks_list(struct api_req *);
void api_blocks_create(struct api_req *);
void api_blocks_get(struct api_req *);
void api_blocks_remove(struct api_req *);
void api_blocks_resize(struct api_req *);
void api_blocks_clone(struct api_req *);
void api_blocks_import(struct api_req *);
void api_blocks_export(struct api_req *);

/* api-images.c */
void api_images_list(struct api_req *);
void api_images_push(struct api_req *);
void api_images_get(struct api_req *);
void api_images_remove(struct api_req *);

/* api-gc.c */
void api_gc_run(struct api_req *);

/* api-networks.c */
void api_networks_list(struct api_req *);
void api_networks_create(struct api_req *);
void api_networks_get(struct api_req *);
void api_networks_remove(struct api_req *);

/* api-stats.c */
void api_stats_vm(struct api_req *);
void api_stats_all(struct api_req *);

/* api-metrics.c */
void api_metrics_get(struct api_req *);
/* Counts a request answered with status after seconds; rt is the route
 * it matched, NULL when none did. */
void api_metrics_count(struct api *, const struct api_route *rt,
    enum evhttp_cmd_type method, int status, double seconds);
/* The text format: "# HELP/# TYPE" lines, then one sample a call;
 * labels is "k1", v1, "k2", v2, ..., NULL, or NULL. */
struct evbuffer;
void api_metrics_head(struct evbuffer *b, const char *name, const char *type,
    const char *help);
void api_metrics_int(struct evbuffer *b, const char *name,
    const char **labels, uint64_t v);
void api_metrics_real(struct evbuffer *b, const char *name,
    const char **labels, double v);

/* api-metrics-vm.c: the per-VM, per-NIC and per-block series. */
int api_metrics_vms(struct evbuffer *b, struct unikd *u);

#endif
