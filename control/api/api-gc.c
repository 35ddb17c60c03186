/*
 * POST /v1/gc[?dry_run=true]: deletes the TAPs unikd made whose VM is not
 * running them (vm-net.h); with dry_run only lists them.
 * -> {"removed": [{"tap", "vm", "nic"}], "dry_run": bool}
 */
#include "config.h"

#include "api-internal.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-net.h"

void
api_gc_run(struct api_req *r)
{
	struct uerr e = {0};
	json_t *removed;
	bool dry_run;

	if (api_query_bool(r, "dry_run", false, &dry_run, &e) == -1) {
		api_reply_error(r->req, &e);
		return;
	}
	if (vm_net_gc(r->u, dry_run, &removed, &e) == -1) {
		json_decref(removed);
		api_reply_error(r->req, &e);
		return;
	}
	api_reply_json(r->req, 200, json_pack("{s:o, s:b}", "removed",
	    removed, "dry_run", dry_run));
}
