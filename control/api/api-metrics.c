/*
 * GET /metrics: the Prometheus text exposition format 0.0.4. Per-VM
 * series (state, CPU time, RSS, uptime, restarts), per-NIC counters from
 * one link dump, and the daemon's own counters: API requests by route
 * pattern (never the raw path, to bound the label values) and status,
 * their durations as a histogram, VMs by state, netlink errors, GC
 * removals and events. Everything is read when scraped; nothing polls.
 * The per-object series are written by api-metrics-vm.c.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-internal.h"
#include "api-metrics.h"
#include "log.h"
#include "store.h"
#include "unikd.h"
#include "vm.h"

#define API_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define API_METRICS_CODES 16

static const double api_metrics_le[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define API_METRICS_NLE (sizeof(api_metrics_le) / sizeof(api_metrics_le[0]))

/* The requests of one method + route. */
struct api_metrics_route {
	enum evhttp_cmd_type method;
	const char *pattern; /* the route's, "none" when none matched */
	struct {
		int code;
		uint64_t n;
	} codes[API_METRICS_CODES];
	size_t ncodes;
	uint64_t le[API_METRICS_NLE]; /* cumulative, as exposed */
	uint64_t count;
	double sum;
};

struct api_metrics {
	struct api_metrics_route *routes;
	size_t n, cap;
	struct evhttp *http; /* [metrics] listen, or NULL */
	struct api_conns conns; /* its connections' limits */
};

static struct api_metrics *
api_metrics_of(struct api *api)
{
	if (api->metrics == NULL)
		api->metrics = calloc(1, sizeof(*api->metrics));
	return api->metrics;
}

static struct api_metrics_route *
api_metrics_route(struct api_metrics *m, const struct api_route *rt,
    enum evhttp_cmd_type method)
{
	const char *pattern = rt != NULL ? rt->pattern : "none";
	struct api_metrics_route *nr;
	size_t i, cap;

	for (i = 0; i < m->n; i++)
		if (m->routes[i].method == method &&
		    m->routes[i].pattern == pattern)
			return &m->routes[i];
	if (m->n == m->cap) {
		cap = m->cap > 0 ? m->cap * 2 : 32;
		nr = realloc(m->routes, cap * sizeof(*nr));
		if (nr == NULL)
			return NULL;
		m->routes = nr;
		m->cap = cap;
	}
	nr = &m->routes[m->n++];
	memset(nr, 0, sizeof(*nr));
	nr->method = method;
	nr->pattern = pattern;
	return nr;
}

void
api_metrics_count(struct api *api, const struct api_route *rt,
    enum evhttp_cmd_type method, int status, double seconds)
{
	struct api_metrics *m = api_metrics_of(api);
	struct api_metrics_route *r;
	size_t i;

	if (m == NULL || (r = api_metrics_route(m, rt, method)) == NULL)
		return;
	for (i = 0; i < r->ncodes && r->codes[i].code != status; i++)
		;
	if (i < API_METRICS_CODES) {
		r->codes[i].code = status;
		r->codes[i].n++;
		if (i == r->ncodes)
			r->ncodes++;
	}
	for (i = 0; i < API_METRICS_NLE; i++)
		if (seconds <= api_metrics_le[i])
			r->le[i]++;
	r->count++;
	r->sum += seconds;
}

/*
 * One sample line, gathered in a buffer of its own and added to the
 * evbuffer whole: a scrape of 1000 VMs writes tens of thousands of lines,
 * and an evbuffer_add (or a printf) for each piece of each was most of
 * its time.
 */
struct api_metrics_line {
	struct evbuffer *b;
	size_t len;
	char buf[512];
};

static void
api_metrics_put(struct api_metrics_line *l, const char *s, size_t n)
{
	if (l->len + n > sizeof(l->buf)) {
		evbuffer_add(l->b, l->buf, l->len);
		l->len = 0;
		if (n > sizeof(l->buf)) {
			evbuffer_add(l->b, s, n);
			return;
		}
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
api_metrics_puts(struct api_metrics_line *l, const char *s)
{
	api_metrics_put(l, s, strlen(s));
}

/* Writes s as a label value: \ " and newline escaped. */
static void
api_metrics_value(struct api_metrics_line *l, const char *s)
{
	size_t n;

	for (;;) {
		n = strcspn(s, "\\\"\n");
		api_metrics_put(l, s, n);
		s += n;
		if (*s == '\0')
			return;
		api_metrics_put(l, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" :
		    "\\\\", 2);
		s++;
	}
}

void
api_metrics_head(
    struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{k1="v1",k2="v2"} : labels is "k1", v1, "k2", v2, ..., NULL. */
static void
api_metrics_series(
    struct api_metrics_line *l, const char *name, const char **labels)
{
	size_t i;

	api_metrics_puts(l, name);
	for (i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		api_metrics_put(l, i == 0 ? "{" : ",", 1);
		api_metrics_puts(l, labels[i]);
		api_metrics_put(l, "=\"", 2);
		api_metrics_value(l, labels[i + 1]);
		api_metrics_put(l, "\"", 1);
	}
	if (labels != NULL && labels[0] != NULL)
		api_metrics_put(l, "}", 1);
}

void
api_metrics_int(
    struct evbuffer *b, const char *name, const char **labels, uint64_t v)
{
	struct api_metrics_line l = {.b = b};
	char num[24], *p = num + sizeof(num);

	api_metrics_series(&l, name, labels);
	*--p = '\n';
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	*--p = ' ';
	api_metrics_put(&l, p, (size_t)(num + sizeof(num) - p));
	evbuffer_add(b, l.buf, l.len);
}

void
api_metrics_real(
    struct evbuffer *b, const char *name, const char **labels, double v)
{
	struct api_metrics_line l = {.b = b};
	char num[64];
	int n;

	api_metrics_series(&l, name, labels);
	n = snprintf(num, sizeof(num), " %.6f\n", v);
	if (n > 0 && (size_t)n < sizeof(num))
		api_metrics_put(&l, num, (size_t)n);
	evbuffer_add(b, l.buf, l.len);
}

static void
api_metrics_vm_counts(struct evbuffer *b, struct unikd *u)
{
	const char *l[3] = {"state", NULL, NULL};
	uint64_t count[VM_FAILED + 1] = {0}, restarting = 0;
	struct vm *vm;
	int s;

	/* a pending restart is counted as "restarting", as ps shows it */
	TAILQ_FOREACH(vm, &u->vms, entry)
	if (vm->state == VM_EXITED && vm->restart_at != 0)
		restarting++;
	else
		count[vm->state]++;
	api_metrics_head(b, "unikd_vms", "gauge", "VMs defined, by state.");
	for (s = VM_CREATED; s <= VM_FAILED; s++) {
		l[1] = vm_state_name(s);
		api_metrics_int(b, "unikd_vms", l, count[s]);
	}
	l[1] = "restarting";
	api_metrics_int(b, "unikd_vms", l, restarting);
}

static void
api_metrics_daemon(struct evbuffer *b, struct unikd *u)
{
	int64_t events = store_event_last_seq(u->store);

	api_metrics_vm_counts(b, u);
	api_metrics_head(b, "unikd_events_total", "counter",
	    "Events recorded (the last event sequence number).");
	api_metrics_int(
	    b, "unikd_events_total", NULL, events > 0 ? (uint64_t)events : 0);
	api_metrics_head(b, "unikd_netlink_errors_total", "counter",
	    "Netlink requests that failed.");
	api_metrics_int(
	    b, "unikd_netlink_errors_total", NULL, u->netlink_errors);
	api_metrics_head(b, "unikd_gc_removed_links_total", "counter",
	    "Leaked links of unikd's deleted by the garbage collector.");
	api_metrics_int(
	    b, "unikd_gc_removed_links_total", NULL, u->gc_removed_links);
	api_metrics_head(b, "unikd_start_time_seconds", "gauge",
	    "When unikd started, in unix seconds.");
	api_metrics_int(
	    b, "unikd_start_time_seconds", NULL, (uint64_t)u->started_at);
}

static const char *
api_metrics_method(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

static void
api_metrics_requests(struct evbuffer *b, const struct api_metrics *m)
{
	const char *l[9] = {"method", NULL, "route", NULL, "code", NULL, NULL};
	const struct api_metrics_route *r;
	char code[16], le[32];
	size_t i, k;

	api_metrics_head(b, "unikd_api_requests_total", "counter",
	    "API requests by method, route pattern and status (0: a wait or "
	    "stream not answered when its handler returned).");
	for (i = 0; m != NULL && i < m->n; i++) {
		r = &m->routes[i];
		l[1] = api_metrics_method(r->method);
		l[3] = r->pattern;
		for (k = 0; k < r->ncodes; k++) {
			snprintf(code, sizeof(code), "%d", r->codes[k].code);
			l[5] = code;
			api_metrics_int(
			    b, "unikd_api_requests_total", l, r->codes[k].n);
		}
	}
	api_metrics_head(b, "unikd_api_request_duration_seconds", "histogram",
	    "Time to handle an API request, by method and route pattern.");
	for (i = 0; m != NULL && i < m->n; i++) {
		r = &m->routes[i];
		l[1] = api_metrics_method(r->method);
		l[3] = r->pattern;
		l[4] = "le";
		for (k = 0; k <= API_METRICS_NLE; k++) {
			if (k < API_METRICS_NLE)
				snprintf(
				    le, sizeof(le), "%g", api_metrics_le[k]);
			l[5] = k < API_METRICS_NLE ? le : "+Inf";
			api_metrics_int(b,
			    "unikd_api_request_duration_seconds_bucket", l,
			    k < API_METRICS_NLE ? r->le[k] : r->count);
		}
		l[4] = NULL;
		api_metrics_real(
		    b, "unikd_api_request_duration_seconds_sum", l, r->sum);
		api_metrics_int(
		    b, "unikd_api_request_duration_seconds_count", l, r->count);
	}
}

/* The whole exposition into b. */
static int
api_metrics_write(struct unikd *u, struct evbuffer *b)
{
	if (api_metrics_vms(b, u) == -1)
		return -1;
	api_metrics_daemon(b, u);
	api_metrics_requests(b, u->api != NULL ? u->api->metrics : NULL);
	return 0;
}

static void
api_metrics_reply(struct unikd *u, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL || api_metrics_write(u, b) == -1) {
		api_reply_errorf(
		    req, 500, "cannot gather metrics: %s", strerror(ENOMEM));
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	api_reply_text(req, b, API_METRICS_TYPE);
	evbuffer_free(b);
}

void
api_metrics_get(struct api_req *r)
{
	api_metrics_reply(r->u, r->req);
}

/* The TCP listener: GET /metrics and nothing else, no credentials (it
 * is off unless configured, and meant for a local address). */
static void
api_metrics_tcp(struct evhttp_request *req, void *arg)
{
	struct unikd *u = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	api_conn_request(&u->api->metrics->conns, req);
	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, 404, "only /metrics is served here");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(
		    evhttp_request_get_output_headers(req), "Allow", "GET");
		evhttp_send_error(req, 405, "only GET /metrics is served here");
		return;
	}
	api_metrics_reply(u, req);
}

/* "127.0.0.1:9464" or "[::1]:9464" -> host, port; -1 when malformed. */
static int
api_metrics_addr(const char *s, char *host, size_t len, unsigned short *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - s);
	if (*h == '[' && hlen >= 2 && colon[-1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= len)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return -1;
	*port = (unsigned short)p;
	return 0;
}

int
api_metrics_start(struct unikd *u)
{
	const char *listen = u->cf.metrics_listen;
	struct evhttp_bound_socket *bound;
	struct api_metrics *m;
	unsigned short port;
	char host[256];

	if (listen == NULL || listen[0] == '\0' || u->api == NULL)
		return 0;
	if (api_metrics_addr(listen, host, sizeof(host), &port) == -1) {
		log_warnx("metrics: listen = %s: not HOST:PORT", listen);
		return -1;
	}
	if ((m = api_metrics_of(u->api)) == NULL ||
	    (m->http = evhttp_new(u->base)) == NULL) {
		log_warnx("metrics: out of memory");
		return -1;
	}
	evhttp_set_allowed_methods(
	    m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_gencb(m->http, api_metrics_tcp, u);
	if ((bound = evhttp_bind_socket_with_handle(m->http, host,
	    port)) == NULL ||
	    api_conns_start(&m->conns, u, "metrics", m->http, bound) == -1) {
		log_warn("metrics: cannot listen on %s", listen);
		evhttp_free(m->http);
		m->http = NULL;
		return -1;
	}
	log_info("metrics=%s action=listen", listen);
	return 0;
}

void
api_metrics_stop(struct unikd *u)
{
	struct api_metrics *m = u->api != NULL ? u->api->metrics : NULL;

	if (m == NULL)
		return;
	if (m->http != NULL)
		api_conns_stop(&m->conns, m->http);
	free(m->routes);
	free(m);
	u->api->metrics = NULL;
}
