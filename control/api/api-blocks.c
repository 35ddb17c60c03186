/*
 * /v1/blocks and /v1/blocks/{name}/...: create, list, inspect, remove,
 * resize and clone blocks, and move their bytes in ranged pieces:
 *
 *   PUT /v1/blocks/NAME/data   body: one piece, at the offset its
 *       Content-Range ("bytes START-END/TOTAL") or ?offset=N says; the
 *       piece that completes TOTAL is answered with the import's sha256.
 *   GET /v1/blocks/NAME/data?offset=N&length=M   the bytes there.
 *
 * evhttp holds a whole request body in memory (at most max_body_size), so
 * pieces stay small: unikctl sends 4 MiB. The handlers read the HTTP
 * input and call block.c, where the rules are.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-internal.h"
#include "block.h"
#include "uerr.h"
#include "unikd.h"

#define API_EXPORT_DEFAULT (4LL << 20)
#define API_EXPORT_MAX (64LL << 20)

/* Refuses a body field outside the comma-separated list allowed. */
static int
api_blocks_fields(const json_t *body, const char *allowed, struct uerr *e)
{
	const char *key, *p;
	json_t *v;
	size_t len;

	json_object_foreach((json_t *)body, key, v)
	{
		len = strlen(key);
		for (p = allowed; p != NULL; p = strchr(p, ',')) {
			p += *p == ',';
			if (strncmp(p, key, len) == 0 &&
			    (p[len] == ',' || p[len] == '\0'))
				break;
		}
		if (p == NULL)
			return uerr_set(e, UERR_INVALID, "unknown field '%s'",
			    key);
	}
	return 0;
}

static void
api_blocks_reply(struct api_req *r, int rc, int status, json_t *out,
    const struct uerr *e)
{
	if (rc == -1)
		api_reply_error(r->req, e);
	else
		api_reply_json(r->req, status, out);
}

void
api_blocks_list(struct api_req *r)
{
	json_t *out = NULL;
	struct uerr e;
	int rc = block_list(r->u, &out, &e);

	api_blocks_reply(r, rc, 200, out, &e);
}

void
api_blocks_create(struct api_req *r)
{
	json_t *body = NULL, *out = NULL;
	const char *name;
	uint64_t size;
	struct uerr e;
	int rc = -1;

	if (api_body_json(r->req, &body, &e) == -1 ||
	    api_blocks_fields(body, "name,size", &e) == -1)
		goto out;
	name = json_string_value(json_object_get(body, "name"));
	if (block_name_check("block", name, &e) == -1 ||
	    block_size_from_json(json_object_get(body, "size"),
		r->u->cf.max_block_size, &size, &e) == -1)
		goto out;
	rc = block_create(r->u, name, size, &out, &e);
out:
	api_blocks_reply(r, rc, 201, out, &e);
	json_decref(body);
}

void
api_blocks_get(struct api_req *r)
{
	json_t *out = NULL;
	struct uerr e;
	int rc = block_get(r->u, r->name, &out, &e);

	api_blocks_reply(r, rc, 200, out, &e);
}

void
api_blocks_remove(struct api_req *r)
{
	struct uerr e;

	if (block_remove(r->u, r->name, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200,
		    json_pack("{s:s}", "removed", r->name));
}

void
api_blocks_resize(struct api_req *r)
{
	json_t *body = NULL, *out = NULL, *force;
	uint64_t size;
	struct uerr e;
	int rc = -1;

	if (api_body_json(r->req, &body, &e) == -1 ||
	    api_blocks_fields(body, "size,force", &e) == -1 ||
	    block_size_from_json(json_object_get(body, "size"),
		r->u->cf.max_block_size, &size, &e) == -1)
		goto out;
	force = json_object_get(body, "force");
	if (force != NULL && !json_is_boolean(force)) {
		uerr_set(&e, UERR_INVALID,
		    "field 'force': must be true or false");
		goto out;
	}
	rc = block_resize(r->u, r->name, size, json_is_true(force), &out, &e);
out:
	api_blocks_reply(r, rc, 200, out, &e);
	json_decref(body);
}

void
api_blocks_clone(struct api_req *r)
{
	json_t *body = NULL, *out = NULL;
	const char *dst;
	struct uerr e;
	int rc = -1;

	if (api_body_json(r->req, &body, &e) == -1 ||
	    api_blocks_fields(body, "name", &e) == -1)
		goto out;
	dst = json_string_value(json_object_get(body, "name"));
	if (block_name_check("block", dst, &e) == -1)
		goto out;
	rc = block_clone(r->u, r->name, dst, &out, &e);
out:
	api_blocks_reply(r, rc, 201, out, &e);
	json_decref(body);
}

/* Where a piece goes: Content-Range, else ?offset (total unknown), else
 * the whole import in one piece. 400 when they disagree. */
static int
api_blocks_piece(struct api_req *r, size_t len, uint64_t *offset,
    uint64_t *total, struct uerr *e)
{
	const char *range = evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Content-Range");
	uint64_t start, end;
	long long off;

	if (api_query_int(r, "offset", -1, 0, INT64_MAX, &off, e) == -1)
		return -1;
	if (range == NULL) {
		*offset = off < 0 ? 0 : (uint64_t)off;
		*total = off < 0 ? len : 0;
		return 0;
	}
	if (block_content_range_parse(range, &start, &end, total) == -1)
		return uerr_set(e, UERR_INVALID,
		    "header Content-Range: '%.80s' is not 'bytes "
		    "START-END/TOTAL'", range);
	/* files end before 2^63: a larger number is no offset at all */
	if (end > (uint64_t)INT64_MAX || *total > (uint64_t)INT64_MAX)
		return uerr_set(e, UERR_INVALID,
		    "header Content-Range: '%.80s' names a byte past %" PRId64
		    ", the largest offset a file may have", range, INT64_MAX);
	if (end - start + 1 != len || (off >= 0 && (uint64_t)off != start))
		return uerr_set(e, UERR_INVALID,
		    "header Content-Range: '%.80s' does not match the %zu "
		    "bytes sent", range, len);
	*offset = start;
	return 0;
}

void
api_blocks_import(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	uint64_t offset = 0, total = 0;
	json_t *out = NULL;
	struct uerr e;
	int rc = -1;

	if (len == 0) {
		uerr_set(&e, UERR_INVALID,
		    "the body is empty; send the bytes of one piece");
		goto out;
	}
	if (api_blocks_piece(r, len, &offset, &total, &e) == -1)
		goto out;
	rc = block_import(r->u, r->name, offset, total,
	    evbuffer_pullup(in, -1), len, &out, &e);
out:
	api_blocks_reply(r, rc, 200, out, &e);
}

/*
 * The bytes go out as a file segment (sendfile as the client reads), not
 * a copy in memory: an export costs a few hundred bytes however long and
 * however slowly it is read. The segment holds the locked fd until sent.
 */
void
api_blocks_export(struct api_req *r)
{
	struct evbuffer_file_segment *seg = NULL;
	long long offset, length;
	struct evbuffer *buf;
	struct uerr e;
	uint64_t n;
	int fd;

	if (api_query_int(r, "offset", 0, 0, INT64_MAX, &offset, &e) == -1 ||
	    api_query_int(r, "length", API_EXPORT_DEFAULT, 1, API_EXPORT_MAX,
		&length, &e) == -1 ||
	    block_export(r->u, r->name, (uint64_t)offset, (uint64_t)length,
		&fd, &n, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if ((buf = evbuffer_new()) == NULL || (n > 0 &&
	    ((seg = evbuffer_file_segment_new(fd, (ev_off_t)offset,
	    (ev_off_t)n, EVBUF_FS_CLOSE_ON_FREE)) == NULL ||
	    evbuffer_add_file_segment(buf, seg, 0, (ev_off_t)n) == -1))) {
		if (seg != NULL)
			evbuffer_file_segment_free(seg);
		else
			close(fd);
		if (buf != NULL)
			evbuffer_free(buf);
		api_reply_errorf(r->req, 500, "block '%s': cannot send: %s",
		    r->name, strerror(errno));
		return;
	}
	if (seg != NULL)
		evbuffer_file_segment_free(seg);	/* buf holds it */
	else
		close(fd);	/* the end: an empty body */
	api_reply_text(r->req, buf, "application/octet-stream");
	evbuffer_free(buf);
}
