/*
 * unikctl ps: a table of VMs (GET /v1/vms); the live ones (active or
 * restarting) unless -a.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* Formats an integer member, or "-" when it is null. */
static void
ps_int(char *buf, size_t size, const json_t *vm, const char *key)
{
	const json_t *v = json_object_get(vm, key);

	if (json_is_integer(v))
		snprintf(buf, size, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, size, "-");
}

static void
ps_uptime(char *buf, size_t size, const json_t *vm)
{
	const char *state = ctl_jstr(vm, "state");
	long long started;

	/* a restarting VM's last start is not an uptime */
	if (!ctl_state_live(state) || strcmp(state, "restarting") == 0 ||
	    ctl_time_parse(ctl_jstr(vm, "started_at"), &started) == -1)
		snprintf(buf, size, "-");
	else
		ctl_duration(buf, size, (long long)time(NULL) - started);
}

/* The addresses of the VM's NICs, comma-separated, or "-". */
static void
ps_addresses(char *buf, size_t size, const json_t *vm)
{
	const json_t *nic;
	size_t i, off = 0;
	const char *ip;

	buf[0] = '\0';
	json_array_foreach(json_object_get(vm, "nics"), i, nic) {
		ip = json_string_value(json_object_get(nic, "ip"));
		if (ip != NULL && off < size)
			off += (size_t)snprintf(buf + off, size - off, "%s%s",
			    off > 0 ? "," : "", ip);
	}
	if (buf[0] == '\0')
		snprintf(buf, size, "-");
}

/* The VM's name, and the container's when unikd-oci made the VM. */
static void
ps_name(char *buf, size_t size, const json_t *vm)
{
	const char *c = json_string_value(json_object_get(
	    json_object_get(vm, "labels"), "org.unikd.oci.name"));

	if (c != NULL)
		snprintf(buf, size, "%s (%s)", ctl_jstr(vm, "name"), c);
	else
		snprintf(buf, size, "%s", ctl_jstr(vm, "name"));
}

static int
ps_row(struct ctl_table *t, const json_t *vm)
{
	char pid[24], uptime[24], restarts[24], addrs[512], name[384];
	char state[48];
	const char *row[8];

	ps_int(pid, sizeof(pid), vm, "pid");
	ps_int(restarts, sizeof(restarts), vm, "restarts");
	ps_uptime(uptime, sizeof(uptime), vm);
	ps_name(name, sizeof(name), vm);
	row[0] = name;
	ctl_state_cell(state, sizeof(state), vm);
	row[1] = state;
	row[2] = uptime;
	row[3] = ctl_jstr(vm, "tender");
	row[4] = pid;
	ps_addresses(addrs, sizeof(addrs), vm);
	row[5] = addrs;
	row[6] = restarts;
	/* a definition that no longer validates says why first */
	row[7] = json_is_string(json_object_get(vm, "problem")) ?
	    ctl_jstr(vm, "problem") : ctl_jstr(vm, "exit_reason");
	return ctl_table_add(t, row);
}

static void
ps_print(const json_t *vms)
{
	static const char *const header[] = {"NAME", "STATE", "UPTIME",
	    "TENDER", "PID", "ADDRESSES", "RESTARTS", "EXIT"};
	struct ctl_table *t;
	size_t i;

	if ((t = ctl_table_new(8, header)) == NULL)
		return;
	for (i = 0; i < json_array_size(vms); i++)
		ps_row(t, json_array_get(vms, i));
	ctl_table_print(t, stdout);
	ctl_table_free(t);
}

static int
ps_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = "/v1/vms?state=" CTL_LIVE_STATES;
	json_t *reply, *vms;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, ":a", opts, NULL)) != -1) {
		if (ch != 'a')
			return ctl_bad_option(&ctl_cmd_ps, ch, argv);
		path = "/v1/vms";
	}
	if (optind < argc)
		return ctl_usage_error(
		    &ctl_cmd_ps, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	vms = json_object_get(reply, "vms");
	if (c->ctl_json)
		ctl_print_json(vms ? vms : json_array());
	else
		ps_print(vms);
	json_decref(reply);
	return CTL_EXIT_OK;
}

const struct ctl_cmd ctl_cmd_ps = {
    .name = "ps",
    .usage = "[-a]",
    .summary = "list running and restarting VMs (-a: all VMs)",
    .help = "  -a, --all            every VM, also created, exited and failed\n",
    .exec = ps_exec,
};
