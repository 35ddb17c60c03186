/*
 * What every resource file of the API uses to read a request and answer
 * it (api-internal.h): JSON and text replies, errors as
 * {"error": {"code", "message"}}, the JSON body, query parameters, and
 * requests held open (wait, follow) that notice a client going away.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "api-internal.h"
#include "store.h"
#include "unikd.h"
#include "uerr.h"

static const struct {
	int status;
	const char *reason;
} api_reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {413, "Payload Too Large"},
    {416, "Range Not Satisfiable"},
    {422, "Unprocessable Entity"},
    {503, "Service Unavailable"},
};

const char *
api_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(api_reasons) / sizeof(api_reasons[0]); i++)
		if (api_reasons[i].status == status)
			return api_reasons[i].reason;
	return "Internal Server Error";
}

/* A reply that waits for the group commit of the writes before it. */
struct api_held {
	struct unikd_after after;
	struct unikd *u;
	struct evhttp_request *req;
	int status;
	struct evbuffer *body;
};

/* Sends a reply whose writes are committed (rc 0) or lost (-1): then a
 * success would report what the store does not have, and is a 500. */
static void
api_send_committed(struct unikd *u, struct evhttp_request *req, int status,
    struct evbuffer *body, int rc)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	char *text = NULL;
	json_t *doc;

	if (rc == -1 && status < 400) {
		doc = json_pack("{s:{s:s,s:s+}}", "error", "code",
		    uerr_code(500), "message",
		    "the change was not recorded: state store: ",
		    store_errmsg(u->store));
		text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
		json_decref(doc);
		evbuffer_drain(body, evbuffer_get_length(body));
		if (text != NULL)
			evbuffer_add_printf(body, "%s\n", text);
		free(text);
		status = 500;
		evhttp_remove_header(hdrs, "Content-Type");
		evhttp_add_header(hdrs, "Content-Type", "application/json");
	}
	evhttp_send_reply(req, status, api_reason(status), body);
}

static void
api_held_send(void *arg, int rc)
{
	struct api_held *h = arg;

	api_send_committed(h->u, h->req, h->status, h->body, rc);
	evbuffer_free(h->body);
	free(h);
}

/* Sends the reply (body drained), or holds it until the group commit
 * when the store has writes waiting (commit.c): no client reads of a
 * change that a crash could still lose. */
static void
api_send(struct evhttp_request *req, int status, struct evbuffer *body)
{
	struct unikd *u = api_conn_unikd(req);
	struct api_held *h;

	if (u == NULL || !store_pending(u->store)) {
		evhttp_send_reply(req, status, api_reason(status), body);
		return;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->body = evbuffer_new()) == NULL ||
	    evbuffer_add_buffer(h->body, body) == -1) {
		if (h != NULL && h->body != NULL)
			evbuffer_free(h->body);
		free(h);
		api_send_committed(u, req, status, body, unikd_commit(u));
		return;
	}
	h->after.fn = api_held_send;
	h->after.arg = h;
	h->u = u;
	h->req = req;
	h->status = status;
	unikd_after_commit(u, &h->after);
}

void
api_reply_json(struct evhttp_request *req, int status, json_t *doc)
{
	struct evbuffer *buf;
	char *text;

	text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	buf = evbuffer_new();
	if (text == NULL || buf == NULL) {
		free(text);
		if (buf != NULL)
			evbuffer_free(buf);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add(buf, text, strlen(text));
	evbuffer_add(buf, "\n", 1);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	api_send(req, status, buf);
	evbuffer_free(buf);
}

void
api_reply_error(struct evhttp_request *req, const struct uerr *e)
{
	int status = e->status != 0 ? e->status : 500;
	const char *code = e->code != NULL ? e->code : uerr_code(status);

	api_reply_json(req, status,
	    json_pack(
	        "{s:{s:s,s:s}}", "error", "code", code, "message", e->message));
}

void
api_reply_errorf(struct evhttp_request *req, int status, const char *fmt, ...)
{
	struct uerr e;
	va_list ap;

	e.status = status;
	e.code = uerr_code(status);
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	api_reply_error(req, &e);
}

void
api_reply_text(
    struct evhttp_request *req, struct evbuffer *buf, const char *content_type)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", content_type);
	api_send(req, 200, buf);
}

int
api_body_json(struct evhttp_request *req, json_t **out, struct uerr *e)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *text;
	json_error_t jerr;
	json_t *doc;

	*out = NULL;
	if (len == 0)
		return uerr_set(e, 400,
		    "request body is empty; "
		    "a JSON object is expected");
	text = (const char *)evbuffer_pullup(in, -1);
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		return uerr_set(e, 400,
		    "malformed JSON at line %d column %d: "
		    "%s",
		    jerr.line, jerr.column, jerr.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return uerr_set(e, 400, "request body must be a JSON object");
	}
	*out = doc;
	return 0;
}

const char *
api_query_str(struct api_req *r, const char *key)
{
	return evhttp_find_header(&r->query, key);
}

int
api_query_bool(
    struct api_req *r, const char *key, bool def, bool *out, struct uerr *e)
{
	const char *v = api_query_str(r, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return uerr_set(e, 400,
		    "query parameter '%s' must be true or "
		    "false, not '%s'",
		    key, v);
	return 0;
}

int
api_query_int(struct api_req *r, const char *key, long long def, long long min,
    long long max, long long *out, struct uerr *e)
{
	const char *v = api_query_str(r, key);
	char *end;
	long long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return uerr_set(e, 400,
		    "query parameter '%s' must be an "
		    "integer from %lld to %lld, not '%s'",
		    key, min, max, v);
	*out = n;
	return 0;
}

/* The client's end goes away (api-conn.c calls this from the connection's
 * close): hand the request back and tell the owner. */
void
api_pending_closed(struct api_pending *p)
{
	struct evhttp_request *req = p->req;
	bool detached = evhttp_request_get_connection(req) == NULL;

	api_pending_finish(p);
	p->gone(p->arg);
	/* evhttp detaches a request it cannot finish and leaves it to us;
	 * one still attached is freed with its connection. */
	if (detached)
		evhttp_request_free(req);
}

/*
 * evhttp stops reading once a request is in and only notices a closed
 * client when a write fails, so a quiet wait or stream watches the socket
 * itself.
 */
static void
api_pending_eof(evutil_socket_t fd, short what, void *arg)
{
	struct api_pending *p = arg;
	char c;
	ssize_t n;

	(void)what;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		event_add(p->eof, NULL);
		return;
	}
	if (n > 0)
		return; /* a pipelined request: evhttp reads it later */
	/* Frees the connection, which runs api_pending_closed(). */
	evhttp_connection_free(p->evcon);
}

int
api_pending_start(struct api_pending *p, struct api_req *r,
    void (*gone)(void *), void *arg)
{
	struct evhttp_request *req = r->req;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;

	memset(p, 0, sizeof(*p));
	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	p->eof = event_new(evhttp_connection_get_base(evcon),
	    bufferevent_getfd(bev), EV_READ, api_pending_eof, p);
	if (p->eof == NULL || event_add(p->eof, NULL) == -1 ||
	    api_conn_watch(&r->u->api->conns, evcon, p) == -1) {
		if (p->eof != NULL)
			event_free(p->eof);
		p->eof = NULL;
		errno = ENOMEM;
		return -1;
	}
	p->api = r->u->api;
	p->req = req;
	p->evcon = evcon;
	p->gone = gone;
	p->arg = arg;
	return 0;
}

int
api_pending_send(struct api_pending *p, struct evbuffer *chunk,
    api_pending_marker marker, void *arg)
{
	struct bufferevent *bev = p->evcon != NULL ?
	    evhttp_connection_get_bufferevent(p->evcon) : NULL;
	size_t len = evbuffer_get_length(chunk);
	struct evbuffer *mark;
	struct evbuffer_ptr end;
	char last = '\n';

	if (len == 0)
		return 1;
	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) >=
	    API_PENDING_MAX_OUTPUT) {
		p->skipped += len;
		evbuffer_drain(chunk, len);
		return 0;
	}
	if (p->skipped > 0 && (mark = evbuffer_new()) != NULL) {
		marker(mark, p->skipped, p->mid_line, arg);
		evhttp_send_reply_chunk(p->req, mark);
		evbuffer_free(mark);
		p->skipped = 0;
	}
	if (evbuffer_ptr_set(chunk, &end, len - 1, EVBUFFER_PTR_SET) == 0)
		evbuffer_copyout_from(chunk, &end, &last, 1);
	p->mid_line = last != '\n';
	evhttp_send_reply_chunk(p->req, chunk);
	return 1;
}

void
api_pending_finish(struct api_pending *p)
{
	if (p->evcon != NULL)
		api_conn_unwatch(&p->api->conns, p->evcon);
	p->evcon = NULL;
	if (p->eof != NULL)
		event_free(p->eof);
	p->eof = NULL;
}
