/*
 * unikctl gc [--dry-run]: deletes the TAPs unikd made whose VM is not
 * running (POST /v1/gc) and prints what was removed, or with --dry-run
 * what would be.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "ctl.h"

static void
gc_print(const json_t *removed, int dry_run)
{
	static const char *const header[] = {"TAP", "VM", "NIC"};
	struct ctl_table *t;
	const char *row[3];
	const json_t *l;
	size_t i;

	if (json_array_size(removed) == 0) {
		printf("%s\n", dry_run ? "nothing to remove" : "nothing removed");
		return;
	}
	if ((t = ctl_table_new(3, header)) == NULL)
		return;
	json_array_foreach(removed, i, l) {
		row[0] = ctl_jstr(l, "tap");
		row[1] = ctl_jstr(l, "vm");
		row[2] = ctl_jstr(l, "nic");
		ctl_table_add(t, row);
	}
	ctl_table_print(t, stdout);
	ctl_table_free(t);
	printf("%zu link%s %s\n", json_array_size(removed),
	    json_array_size(removed) == 1 ? "" : "s",
	    dry_run ? "would be removed" : "removed");
}

static int
gc_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = "/v1/gc";
	json_t *reply;
	int ch, rc, dry_run = 0;

	while ((ch = getopt_long(argc, argv, ":n", opts, NULL)) != -1) {
		if (ch != 'n')
			return ctl_bad_option(&ctl_cmd_gc, ch, argv);
		dry_run = 1;
		path = "/v1/gc?dry_run=true";
	}
	if (optind < argc)
		return ctl_usage_error(
		    &ctl_cmd_gc, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_call(c, "POST", path, NULL, &reply)) != 0)
		return rc;
	if (c->ctl_json)
		ctl_print_json(reply);
	else
		gc_print(json_object_get(reply, "removed"), dry_run);
	json_decref(reply);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_gc = {
    .name = "gc",
    .usage = "[--dry-run]",
    .summary = "delete TAPs left by VMs that are not running",
    .help = "  --dry-run            only list what would be deleted\n",
    .exec = gc_exec,
};
