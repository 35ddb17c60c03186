/*
 * GET /v1/info: the daemon's version, the tender drivers it found, its
 * limits and a count of its VMs.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "api-internal.h"
#include "netbackend.h"
#include "network.h"
#include "unikd.h"
#include "vm.h"

void
api_time_format(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", t);
}

static json_t *
api_info_tenders(const struct unikd *u)
{
	const struct unikd_tender *t;
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < u->ntenders; i++) {
		t = &u->tenders[i];
		json_array_append_new(a, json_pack(
		    "{s:s,s:s,s:s,s:b,s:s?,s:s?}", "name", t->driver->name,
		    "path", t->path, "version", t->version, "available",
		    t->available, "reason",
		    t->reason[0] != '\0' ? t->reason : NULL, "nic_reason",
		    t->nic_reason[0] != '\0' ? t->nic_reason : NULL));
	}
	return a;
}

/* VMs in total, and those with a live tender (starting to stopping). */
static json_t *
api_info_vms(const struct unikd *u)
{
	const struct vm *vm;
	json_int_t total = 0, running = 0;

	TAILQ_FOREACH(vm, &u->vms, entry)
	{
		total++;
		if (vm_is_active(vm))
			running++;
	}
	return json_pack("{s:I,s:I}", "total", total, "running", running);
}

/* What an operator should know is unsafe in this configuration. */
static json_t *
api_info_warnings(const struct unikd *u)
{
	const struct network *net;
	json_t *a = json_array();

	if (u->tender_uid == 0 || u->tender_gid == 0)
		json_array_append_new(a, json_string("tenders run as root "
		    "(tender_user or tender_group is root and "
		    "allow_root_tender = true): a guest that escapes its "
		    "tender owns the host"));
	/* Only walked when some network is degraded. */
	if (u->ndegraded > 0)
		TAILQ_FOREACH(net, &u->networks, entry)
			if (net->problem[0] != '\0')
				json_array_append_new(a,
				    json_sprintf("network '%s' is degraded: %s",
					net->name, net->problem));
	return a;
}

/* net.ipv4.ip_forward now, and what it was before unikd turned it on
 * for its first NAT network (null: unikd holds it not). */
static json_t *
api_info_forward(const struct unikd *u)
{
	int now;

	return json_pack("{s:o,s:o}", "value",
	    u->nb != NULL && nb_ip_forward_get(u->nb, &now) == 0
	        ? json_integer(now)
	        : json_null(),
	    "before_unikd",
	    u->forward_before >= 0 ? json_integer(u->forward_before)
	                           : json_null());
}

void
api_info_get(struct api_req *r)
{
	const struct unikd *u = r->u;
	char started[32];

	api_time_format(u->started_at, started, sizeof(started));
	api_reply_json(r->req, 200,
	    json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,"
	              "s:o,s:{s:I,s:I,s:I,s:I,s:I},s:o,s:o,s:o}",
	        "version", PACKAGE_VERSION, "api", "v1", "pid", (int)getpid(),
	        "started_at", started, "state_dir", u->cf.state_dir, "socket",
	        u->cf.socket, "tenders", api_info_tenders(u), "limits",
	        "max_vms", (json_int_t)u->cf.max_vms, "max_body_size",
	        (json_int_t)u->cf.max_body_size, "max_memory",
	        (json_int_t)u->cf.max_memory, "max_connections",
	        (json_int_t)u->cf.max_connections, "request_timeout",
	        (json_int_t)u->cf.request_timeout, "vms", api_info_vms(u),
	        "warnings", api_info_warnings(u), "ip_forward",
	        api_info_forward(u)));
}
