/*
 * The control API server: the UNIX socket, evhttp, authorization by the
 * peer's credentials and the route table. The helpers every resource
 * file uses to read requests and send replies are in api-http.c.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "api.h"
#include "api-internal.h"
#include "log.h"
#include "store.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"

#define API_MAX_HEADERS_SIZE 16384
#define API_MAX_SEGMENTS 8

static const struct api_route api_routes[] = {
    {EVHTTP_REQ_GET, "/v1/info", api_info_get, NULL},
    {EVHTTP_REQ_GET, "/v1/vms", api_vms_list, "state"},
    {EVHTTP_REQ_POST, "/v1/vms", api_vms_create, "start"},
    {EVHTTP_REQ_GET, "/v1/vms/{name}", api_vms_get, NULL},
    {EVHTTP_REQ_DELETE, "/v1/vms/{name}", api_vms_remove, "force"},
    {EVHTTP_REQ_POST, "/v1/vms/{name}/start", api_vms_start, NULL},
    {EVHTTP_REQ_POST, "/v1/vms/{name}/stop", api_vms_stop, "timeout"},
    {EVHTTP_REQ_POST, "/v1/vms/{name}/kill", api_vms_kill, "signal"},
    {EVHTTP_REQ_POST, "/v1/vms/{name}/restart", api_vms_restart, "timeout"},
    {EVHTTP_REQ_POST, "/v1/vms/{name}/wait", api_vms_wait, NULL},
    {EVHTTP_REQ_GET, "/v1/vms/{name}/console", api_vms_console,
        "tail,follow,since,timestamps"},
    {EVHTTP_REQ_GET, "/v1/events", api_events_get, "since,vm,follow"},
    {EVHTTP_REQ_GET, "/v1/blocks", api_blocks_list, NULL},
    {EVHTTP_REQ_POST, "/v1/blocks", api_blocks_create, NULL},
    {EVHTTP_REQ_GET, "/v1/blocks/{name}", api_blocks_get, NULL},
    {EVHTTP_REQ_DELETE, "/v1/blocks/{name}", api_blocks_remove, NULL},
    {EVHTTP_REQ_POST, "/v1/blocks/{name}/resize", api_blocks_resize, NULL},
    {EVHTTP_REQ_POST, "/v1/blocks/{name}/clone", api_blocks_clone, NULL},
    {EVHTTP_REQ_PUT, "/v1/blocks/{name}/data", api_blocks_import, "offset"},
    {EVHTTP_REQ_GET, "/v1/blocks/{name}/data", api_blocks_export,
        "offset,length"},
    {EVHTTP_REQ_GET, "/v1/images", api_images_list, NULL},
    {EVHTTP_REQ_PUT, "/v1/images/{name}", api_images_push, NULL},
    {EVHTTP_REQ_GET, "/v1/images/{name}", api_images_get, NULL},
    {EVHTTP_REQ_DELETE, "/v1/images/{name}", api_images_remove, NULL},
    {EVHTTP_REQ_GET, "/v1/networks", api_networks_list, NULL},
    {EVHTTP_REQ_POST, "/v1/networks", api_networks_create, NULL},
    {EVHTTP_REQ_GET, "/v1/networks/{name}", api_networks_get, NULL},
    {EVHTTP_REQ_DELETE, "/v1/networks/{name}", api_networks_remove, NULL},
    {EVHTTP_REQ_POST, "/v1/gc", api_gc_run, "dry_run"},
    {EVHTTP_REQ_GET, "/v1/vms/{name}/stats", api_stats_vm, NULL},
    {EVHTTP_REQ_GET, "/v1/stats", api_stats_all, NULL},
    {EVHTTP_REQ_GET, "/metrics", api_metrics_get, NULL},
};
#define API_NROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

static const struct {
	enum evhttp_cmd_type cmd;
	const char *name;
} api_methods[] = {
    {EVHTTP_REQ_GET, "GET"},
    {EVHTTP_REQ_POST, "POST"},
    {EVHTTP_REQ_PUT, "PUT"},
    {EVHTTP_REQ_DELETE, "DELETE"},
    {EVHTTP_REQ_PATCH, "PATCH"},
};

static const char *
api_method_name(enum evhttp_cmd_type cmd)
{
	size_t i;

	for (i = 0; i < sizeof(api_methods) / sizeof(api_methods[0]); i++)
		if (api_methods[i].cmd == cmd)
			return api_methods[i].name;
	return "?";
}

/* Root, the admin group as primary group, or as a supplementary one. */
static bool
api_peer_is_admin(struct unikd *u, uid_t uid, gid_t gid)
{
	struct passwd pw, *res = NULL;
	gid_t groups[256];
	int i, ngroups = 256;
	char buf[4096];

	if (uid == 0 || gid == u->admin_gid)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) == -1)
		ngroups = 256; /* the first 256 groups are enough */
	for (i = 0; i < ngroups; i++)
		if (groups[i] == u->admin_gid)
			return true;
	return false;
}

static int
api_authorize(struct unikd *u, struct evhttp_request *req, struct uerr *e)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	if (bev == NULL || getsockopt(bufferevent_getfd(bev), SOL_SOCKET,
	                       SO_PEERCRED, &cred, &len) == -1) {
		log_warn("api: SO_PEERCRED");
		return uerr_set(e, 403, "the peer's credentials are unknown");
	}
	if (api_peer_is_admin(u, cred.uid, cred.gid))
		return 0;
	log_info("api: uid=%u pid=%d action=refuse", (unsigned)cred.uid,
	    (int)cred.pid);
	return uerr_set(e, 403, "uid %u is not root and not in group '%s'",
	    (unsigned)cred.uid, u->cf.admin_group);
}

/* Splits the path into decoded segments (caller frees each); -1 when
 * it has too many or a segment does not decode to a plain string. */
static int
api_path_split(const char *path, char **segs, size_t *nsegs)
{
	const char *p = path, *slash;
	size_t n = 0, len, dlen;
	char *raw;

	if (*p++ != '/')
		return -1;
	for (;;) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == API_MAX_SEGMENTS)
			goto fail;
		if ((raw = strndup(p, len)) == NULL)
			goto fail;
		segs[n] = evhttp_uridecode(raw, 0, &dlen);
		free(raw);
		if (segs[n] == NULL)
			goto fail;
		if (strlen(segs[n++]) != dlen)
			goto fail; /* an encoded NUL */
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	*nsegs = n;
	return 0;
fail:
	while (n > 0)
		free(segs[--n]);
	return -1;
}

/* True when the segments match pattern; *name gets the {name} segment. */
static bool
api_route_match(
    const char *pattern, char **segs, size_t nsegs, const char **name)
{
	const char *p = pattern + 1, *slash;
	size_t i, len;

	*name = NULL;
	for (i = 0; i < nsegs; i++) {
		if (*p == '\0')
			return false;
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len == 6 && strncmp(p, "{name}", 6) == 0)
			*name = segs[i];
		else if (strlen(segs[i]) != len || strncmp(p, segs[i], len))
			return false;
		p = slash != NULL ? slash + 1 : p + len;
	}
	return *p == '\0';
}

/* Refuses a query parameter the route does not take: a typo would
 * otherwise be ignored silently. */
static int
api_query_check(struct api_req *r, const struct api_route *rt, struct uerr *e)
{
	struct evkeyval *kv;
	const char *p;
	size_t len;

	TAILQ_FOREACH(kv, &r->query, next)
	{
		len = strlen(kv->key);
		for (p = rt->query; p != NULL; p = strchr(p, ',')) {
			p += *p == ',';
			if (strncmp(p, kv->key, len) == 0 &&
			    (p[len] == ',' || p[len] == '\0'))
				break;
		}
		if (p == NULL)
			return uerr_set(e, 400,
			    "unknown query parameter '%s' "
			    "for %s %s",
			    kv->key, r->method, rt->pattern);
	}
	return 0;
}

/* Finds the route for r and runs it, or replies 404 / 405; returns the
 * route, or NULL when none matched. */
static const struct api_route *
api_dispatch(
    struct api_req *r, enum evhttp_cmd_type cmd, char **segs, size_t nsegs)
{
	const struct api_route *rt;
	const char *name;
	char allow[64] = "";
	struct uerr e;
	size_t i;

	for (i = 0; i < API_NROUTES; i++) {
		rt = &api_routes[i];
		if (!api_route_match(rt->pattern, segs, nsegs, &name))
			continue;
		if (rt->method != cmd) {
			snprintf(allow + strlen(allow),
			    sizeof(allow) - strlen(allow), "%s%s",
			    allow[0] ? ", " : "", api_method_name(rt->method));
			continue;
		}
		r->name = name;
		if (api_query_check(r, rt, &e) == -1)
			api_reply_error(r->req, &e);
		else
			rt->handler(r);
		return rt;
	}
	if (allow[0] == '\0') {
		api_reply_errorf(
		    r->req, 404, "no route for %s %s", r->method, r->path);
		return NULL;
	}
	evhttp_add_header(
	    evhttp_request_get_output_headers(r->req), "Allow", allow);
	uerr_set(&e, 405, "%s is not allowed on %s; use %s", r->method, r->path,
	    allow);
	e.code = "invalid"; /* uerr knows no code for 405 */
	api_reply_error(r->req, &e);
	return NULL;
}

void
api_handle(struct api *api, struct evhttp_request *req, double t0)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct api_req r = {.u = api->u, .req = req};
	const struct api_route *rt = NULL;
	char *segs[API_MAX_SEGMENTS];
	size_t nsegs = 0;
	struct uerr e;
	const char *q;

	TAILQ_INIT(&r.query);
	r.method = api_method_name(cmd);
	r.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	/* A commit failed: the state in memory is not the store's, and
	 * unikd exits in a moment to read it again. */
	if (api->u->store_failed) {
		api_reply_errorf(req, 503, "the state store failed (%s); "
		    "unikd restarts", store_errmsg(api->u->store));
		api_metrics_count(api, NULL, cmd, 503, unikd_clock() - t0);
		return;
	}
	if (api_authorize(api->u, req, &e) == -1) {
		api_reply_error(req, &e);
		api_metrics_count(api, NULL, cmd, e.status, unikd_clock() - t0);
		return;
	}
	if (r.path == NULL || api_path_split(r.path, segs, &nsegs) == -1) {
		api_reply_errorf(req, 404, "no route for %s %s", r.method,
		    r.path != NULL ? r.path : "(none)");
		api_metrics_count(api, NULL, cmd, 404, unikd_clock() - t0);
		return;
	}
	q = evhttp_uri_get_query(uri);
	if (q != NULL && evhttp_parse_query_str(q, &r.query) == -1)
		api_reply_errorf(req, 400, "malformed query string '%s'", q);
	else
		rt = api_dispatch(&r, cmd, segs, nsegs);
	/* A wait or a stream has no status yet: 0, as "not answered". */
	api_metrics_count(api, rt, cmd, evhttp_request_get_response_code(req),
	    unikd_clock() - t0);
	evhttp_clear_headers(&r.query);
	while (nsegs > 0)
		free(segs[--nsegs]);
}

/* A whole request: a GET is answered now, the rest when the loop has
 * nothing else to do (api-defer.c). */
static void
api_request(struct evhttp_request *req, void *arg)
{
	struct api *api = arg;
	double t0 = unikd_clock();

	api_conn_request(&api->conns, req);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		api_handle(api, req, t0);
	else
		api_defer_request(api, req, t0);
}

/* Removes a socket left by a daemon that is gone; -1 when the path is
 * not a socket or a daemon still answers on it. */
static int
api_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int probe, in_use;

	if (lstat(path, &st) == -1)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("socket=%s: exists and is not a socket", path);
		return -1;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe == -1) {
		log_warn("socket=%s: socket", path);
		return -1;
	}
	/* EAGAIN: a full backlog, so someone listens. */
	in_use =
	    connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS;
	close(probe);
	if (in_use) {
		log_warnx("another unikd is listening on %s", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("socket=%s: unlink stale socket", path);
		return -1;
	}
	log_info("socket=%s action=remove-stale", path);
	return 0;
}

/* Creates cf.socket, after making sure no other daemon answers on it. */
static int
api_listen(struct api *api)
{
	const char *path = api->u->cf.socket;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("socket=%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (api_clear_stale(path, &sun) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("socket=%s: socket", path);
		return -1;
	}
	mask = umask(0177); /* no window where others may connect */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(mask);
		log_warn("socket=%s: bind", path);
		goto fail;
	}
	umask(mask);
	api->own_socket = true;
	if (chown(path, 0, api->u->admin_gid) == -1 ||
	    chmod(path, 0660) == -1) {
		log_warn("socket=%s: chown/chmod", path);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) == -1) {
		log_warn("socket=%s: listen", path);
		goto fail;
	}
	api->fd = fd;
	return 0;
fail:
	close(fd);
	if (api->own_socket)
		unlink(path);
	api->own_socket = false;
	return -1;
}

static int
api_http_setup(struct api *api)
{
	struct evhttp_bound_socket *bound;
	struct unikd *u = api->u;

	api->http = evhttp_new(u->base);
	if (api->http == NULL) {
		log_warnx("api: evhttp_new failed");
		return -1;
	}
	evhttp_set_max_body_size(api->http, (ev_ssize_t)u->cf.max_body_size);
	evhttp_set_max_headers_size(api->http, API_MAX_HEADERS_SIZE);
	evhttp_set_allowed_methods(
	    api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	                   EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(api->http, "application/json");
	/* Read and drop an oversized body before answering 413, so the
	 * client, still sending, gets to read the answer. */
	evhttp_set_flags(api->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(api->http, api_request, api);
	if ((bound = evhttp_accept_socket_with_handle(api->http,
	    api->fd)) == NULL) {
		log_warnx("api: cannot accept on fd %d", api->fd);
		return -1;
	}
	return api_conns_start(&api->conns, u, "api", api->http, bound);
}

int
api_start(struct unikd *u, int fd)
{
	struct api *api;

	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		log_warn("api");
		return -1;
	}
	api->u = u;
	api->fd = fd;
	if (api_defer_start(api) == -1) {
		log_warn("api");
		free(api);
		return -1;
	}
	if (fd >= 0) {
		if (evutil_make_socket_nonblocking(fd) == -1) {
			log_warn("api: socket fd %d", fd);
			goto fail;
		}
	} else if (api_listen(api) == -1)
		goto fail;
	if (api_http_setup(api) == -1)
		goto fail;
	u->api = api;
	log_info("socket=%s fd=%d action=listen",
	    api->own_socket ? u->cf.socket : "(from systemd)", api->fd);
	return 0;
fail:
	api_defer_stop(api);
	if (api->http != NULL)
		api_conns_stop(&api->conns, api->http);
	if (api->own_socket) {
		close(api->fd);
		unlink(u->cf.socket);
	}
	free(api);
	return -1;
}

void
api_stop(struct unikd *u)
{
	struct api *api = u->api;

	if (api == NULL)
		return;
	/* Closes the listener and every connection; pending requests
	 * hear of it through their close callbacks, queued ones are
	 * dropped first. */
	api_defer_stop(api);
	api_conns_stop(&api->conns, api->http);
	if (api->own_socket && unlink(u->cf.socket) == -1)
		log_warn("socket=%s: unlink", u->cf.socket);
	free(api);
	u->api = NULL;
}
