/*
 * /v1/images and /v1/images/{name}: push an image (PUT, the image's bytes
 * as the body), list, inspect and remove. The body is bounded by
 * [limits] max_body_size (evhttp answers 413 past it): an image larger
 * than that needs the limit raised. The rules are in daemon/image.c.
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include "api-internal.h"
#include "image.h"
#include "uerr.h"
#include "unikd.h"

void
api_images_list(struct api_req *r)
{
	json_t *out = NULL;
	struct uerr e;

	if (image_list(r->u, &out, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200, out);
}

void
api_images_push(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_t *out = NULL;
	struct uerr e;
	int status = 201;

	if (image_push(r->u, r->name, len > 0 ? evbuffer_pullup(in, -1) : NULL,
	    len, &status, &out, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, status, out);
}

void
api_images_get(struct api_req *r)
{
	json_t *out = NULL;
	struct uerr e;

	if (image_get(r->u, r->name, &out, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200, out);
}

void
api_images_remove(struct api_req *r)
{
	struct uerr e;

	if (image_remove(r->u, r->name, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 200,
		    json_pack("{s:s}", "removed", r->name));
}
