/*
 * /v1/networks and /v1/networks/{name}: list, create, inspect and remove
 * networks. The handlers translate HTTP to the network calls (network.h)
 * and their answers or uerrs back.
 */
#include "config.h"

#include "api-internal.h"
#include "network.h"
#include "uerr.h"
#include "unikd.h"
#include "vmspec.h"

/* The {name} network, or NULL after replying 404. */
static struct network *
api_network_lookup(struct api_req *r)
{
	struct network *net = NULL;

	if (r->name != NULL && vm_name_valid(r->name))
		net = network_find(r->u, r->name);
	if (net == NULL)
		api_reply_errorf(r->req, 404, "network '%s' does not exist",
		    r->name != NULL ? r->name : "");
	return net;
}

void
api_networks_list(struct api_req *r)
{
	struct network *net;
	json_t *a = json_array();

	TAILQ_FOREACH(net, &r->u->networks, entry)
	json_array_append_new(a, network_to_json(r->u, net));
	api_reply_json(r->req, 200, json_pack("{s:o}", "networks", a));
}

void
api_networks_create(struct api_req *r)
{
	struct network *net = NULL;
	json_t *def = NULL;
	struct uerr e;

	if (api_body_json(r->req, &def, &e) == -1 ||
	    network_create(r->u, def, &net, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(r->req, 201, network_to_json(r->u, net));
	json_decref(def);
}

void
api_networks_get(struct api_req *r)
{
	struct network *net = api_network_lookup(r);

	if (net != NULL)
		api_reply_json(r->req, 200, network_to_json(r->u, net));
}

void
api_networks_remove(struct api_req *r)
{
	struct network *net = api_network_lookup(r);
	struct uerr e;

	if (net == NULL)
		return;
	if (network_remove(r->u, net, &e) == -1)
		api_reply_error(r->req, &e);
	else
		api_reply_json(
		    r->req, 200, json_pack("{s:s}", "removed", r->name));
}
