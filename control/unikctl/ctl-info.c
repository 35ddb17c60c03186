/*
 * unikctl info: the daemon's version, where it keeps things, its tenders
 * and how many VMs it runs (GET /v1/info).
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "ctl.h"

/* A string member for a table cell: "-" when missing or empty. */
static const char *
cell(const json_t *obj, const char *key)
{
	const char *s = ctl_jstr(obj, key);

	return *s ? s : "-";
}

static long long
num(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static void
info_tenders(const json_t *tenders)
{
	static const char *const header[] = {
	    "NAME", "AVAILABLE", "VERSION", "PATH"};
	struct ctl_table *t;
	const char *row[4];
	const json_t *td;
	size_t i;

	if ((t = ctl_table_new(4, header)) == NULL)
		return;
	for (i = 0; i < json_array_size(tenders); i++) {
		td = json_array_get(tenders, i);
		row[0] = cell(td, "name");
		row[1] = json_is_true(json_object_get(td, "available")) ? "yes"
		                                                        : "no";
		row[2] = cell(td, "version");
		row[3] = cell(td, "path");
		ctl_table_add(t, row);
	}
	ctl_table_print(t, stdout);
	ctl_table_free(t);
	/* why a tender cannot run, or cannot have NICs, and the fix */
	for (i = 0; i < json_array_size(tenders); i++) {
		td = json_array_get(tenders, i);
		if (json_is_string(json_object_get(td, "reason")))
			printf("%s: not available: %s\n", cell(td, "name"),
			    cell(td, "reason"));
		if (json_is_string(json_object_get(td, "nic_reason")))
			printf("%s: no NICs: %s\n", cell(td, "name"),
			    cell(td, "nic_reason"));
	}
}

/* IPv4 forwarding is the whole host's: say whether unikd turned it on
 * and what it puts back when its last NAT network goes. */
static void
info_forward(const json_t *fwd)
{
	const json_t *now = json_object_get(fwd, "value");
	const json_t *before = json_object_get(fwd, "before_unikd");

	if (!json_is_integer(now))
		return;
	if (json_is_integer(before))
		printf("IP forward: %lld (set by unikd for its NAT networks; "
		       "back to %lld when the last goes)\n",
		    (long long)json_integer_value(now),
		    (long long)json_integer_value(before));
	else
		printf("IP forward: %lld (not changed by unikd)\n",
		    (long long)json_integer_value(now));
}

static void
info_print(const json_t *info)
{
	const json_t *vms = json_object_get(info, "vms");
	const json_t *lim = json_object_get(info, "limits");
	const json_t *w;
	char up[32] = "";
	long long started;
	size_t i;

	if (ctl_time_parse(ctl_jstr(info, "started_at"), &started) == 0)
		ctl_duration(up, sizeof(up), (long long)time(NULL) - started);
	printf("Version:    %s (api %s)\n", ctl_jstr(info, "version"),
	    ctl_jstr(info, "api"));
	printf("PID:        %lld\n", num(info, "pid"));
	printf("Started:    %s%s%s%s\n", ctl_jstr(info, "started_at"),
	    *up ? " (up " : "", up, *up ? ")" : "");
	printf("State dir:  %s\n", ctl_jstr(info, "state_dir"));
	printf("Socket:     %s\n", ctl_jstr(info, "socket"));
	printf("VMs:        %lld total, %lld running\n", num(vms, "total"),
	    num(vms, "running"));
	if (lim != NULL)
		printf("Limits:     max_vms %lld, max_memory %lld MiB, "
		       "max_body_size %lld bytes\n",
		    num(lim, "max_vms"), num(lim, "max_memory"),
		    num(lim, "max_body_size"));
	info_forward(json_object_get(info, "ip_forward"));
	printf("Tenders:\n");
	info_tenders(json_object_get(info, "tenders"));
	json_array_foreach(json_object_get(info, "warnings"), i, w)
		printf("WARNING:    %s\n", json_string_value(w));
}

static int
info_exec(struct ctl *c, int argc, char **argv)
{
	json_t *info;
	int rc;

	if (argc > 1)
		return ctl_usage_error(
		    &ctl_cmd_info, "unexpected argument '%s'", argv[1]);
	if ((rc = ctl_call(c, "GET", "/v1/info", NULL, &info)) != 0)
		return rc;
	if (c->ctl_json)
		ctl_print_json(info);
	else
		info_print(info);
	json_decref(info);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_info = {
    .name = "info",
    .usage = "",
    .summary = "show the daemon's version, tenders and VM counts",
    .exec = info_exec,
};
