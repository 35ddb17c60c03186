/*
 * GET /v1/vms/{name}/stats and GET /v1/stats: CPU time, RSS, uptime,
 * restarts, the last exit and per-NIC counters (vm-stats.h). A request
 * takes at most one link dump, however many VMs it covers.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <event2/http.h>

#include "api-internal.h"
#include "unikd.h"
#include "vm-stats.h"
#include "vm.h"
#include "vmspec.h"

void
api_stats_vm(struct api_req *r)
{
	struct vm_stats_links *links;
	struct vm *vm = NULL;

	if (r->name != NULL && vm_name_valid(r->name))
		vm = vm_find(r->u, r->name);
	if (vm == NULL) {
		api_reply_errorf(r->req, 404, "vm '%s' does not exist",
		    r->name != NULL ? r->name : "");
		return;
	}
	if ((links = vm_stats_links_new(r->u)) == NULL) {
		api_reply_errorf(
		    r->req, 500, "cannot read stats: %s", strerror(errno));
		return;
	}
	api_reply_json(r->req, 200, vm_stats_json(vm, links));
	vm_stats_links_free(links);
}

void
api_stats_all(struct api_req *r)
{
	struct vm_stats_links *links;
	json_t *vms;
	struct vm *vm;

	links = vm_stats_links_new(r->u);
	vms = json_array();
	if (links == NULL || vms == NULL) {
		vm_stats_links_free(links);
		json_decref(vms);
		api_reply_errorf(
		    r->req, 500, "cannot read stats: %s", strerror(ENOMEM));
		return;
	}
	TAILQ_FOREACH(vm, &r->u->vms, entry)
	json_array_append_new(vms, vm_stats_json(vm, links));
	vm_stats_links_free(links);
	api_reply_json(r->req, 200, json_pack("{s:o}", "vms", vms));
}
