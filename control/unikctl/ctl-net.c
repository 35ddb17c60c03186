/*
 * unikctl net: networks (/v1/networks). "net create" builds the
 * definition from options, "net ls" prints a table, "net inspect" the
 * JSON, "net rm" removes. Each subcommand is a row of a small table.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct ctl_kind net_kind = {
    &ctl_cmd_net, "network", "/v1/networks", "NET"};

/* The definition from create's options; 2 after a message on error. */
static int
net_create_def(int argc, char **argv, json_t *def)
{
	static const struct option opts[] = {
	    {"subnet", required_argument, NULL, 's'},
	    {"gateway", required_argument, NULL, 'g'},
	    {"mtu", required_argument, NULL, 'm'},
	    {"nat", no_argument, NULL, 'n'},
	    {"isolated", no_argument, NULL, 'i'},
	    {"bridge", required_argument, NULL, 'b'},
	    {"ipv6-gateway", required_argument, NULL, '6'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const keys[128] = {['s'] = "subnet",
	    ['g'] = "gateway",
	    ['b'] = "bridge",
	    ['6'] = "ipv6_gateway"};
	long long mtu;
	int ch;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (ctl_parse_uint(optarg, 1 << 30, &mtu) == -1)
				return ctl_usage_error(&ctl_cmd_net,
				    "--mtu: '%s' is not a number", optarg);
			json_object_set_new(def, "mtu", json_integer(mtu));
			break;
		case 'n':
			json_object_set_new(def, "nat", json_true());
			break;
		case 'i':
			json_object_set_new(def, "isolated", json_true());
			break;
		case 's':
		case 'g':
		case 'b':
		case '6':
			json_object_set_new(def, keys[ch], json_string(optarg));
			break;
		default:
			return ctl_bad_option(&ctl_cmd_net, ch, argv);
		}
	}
	if (optind >= argc)
		return ctl_usage_error(
		    &ctl_cmd_net, "create: no network given");
	if (optind + 1 < argc)
		return ctl_usage_error(&ctl_cmd_net,
		    "create: unexpected "
		    "argument '%s'",
		    argv[optind + 1]);
	json_object_set_new(def, "name", json_string(argv[optind]));
	return 0;
}

static int
net_create(struct ctl *c, int argc, char **argv)
{
	json_t *def = json_object(), *reply;
	int rc;

	if ((rc = net_create_def(argc, argv, def)) != 0) {
		json_decref(def);
		return rc;
	}
	rc = ctl_call(c, "POST", "/v1/networks", def, &reply);
	json_decref(def);
	if (rc != 0)
		return rc;
	if (c->ctl_json)
		ctl_print_json(reply);
	else
		printf("%s\n", ctl_jstr(reply, "name"));
	json_decref(reply);
	return CTL_EXIT_OK;
}

static int
net_row(struct ctl_table *t, const json_t *net)
{
	char mtu[16], vms[16], state[320];
	const char *row[9];
	const json_t *problem = json_object_get(net, "problem");

	snprintf(mtu, sizeof(mtu), "%lld",
	    (long long)json_integer_value(json_object_get(net, "mtu")));
	snprintf(vms, sizeof(vms), "%zu",
	    json_array_size(json_object_get(net, "vms")));
	row[0] = ctl_jstr(net, "name");
	row[1] = ctl_jstr(net, "bridge");
	row[2] = ctl_jstr(net, "subnet");
	row[3] = ctl_jstr(net, "gateway");
	row[4] = mtu;
	row[5] = json_is_true(json_object_get(net, "nat")) ? "yes" : "no";
	row[6] = json_is_true(json_object_get(net, "isolated")) ? "yes" : "no";
	row[7] = vms;
	/* The last column: a degraded network's reason is long. */
	if (json_is_string(problem))
		snprintf(state, sizeof(state), "degraded: %s",
		    json_string_value(problem));
	else
		snprintf(state, sizeof(state), "%s", ctl_jstr(net, "state"));
	row[8] = state;
	return ctl_table_add(t, row);
}

static int
net_ls(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = {"NAME", "BRIDGE", "SUBNET",
	    "GATEWAY", "MTU", "NAT", "ISOLATED", "VMS", "STATE"};

	if (argc > 1)
		return ctl_usage_error(&ctl_cmd_net,
		    "ls: unexpected argument '%s'", argv[1]);
	return ctl_list(c, "/v1/networks", "networks", header, 9, net_row);
}

static int
net_inspect(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &net_kind, -1, argc, argv, "GET");
}

static int
net_rm(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &net_kind, -1, argc, argv, "DELETE");
}

static const struct ctl_sub net_subs[] = {
    {"create", net_create},
    {"ls", net_ls},
    {"inspect", net_inspect},
    {"rm", net_rm},
};

const struct ctl_cmd ctl_cmd_net = {
    .name = "net",
    .usage = "create NET [--subnet CIDR] [--gateway IP] [--mtu N] [--nat]"
             " [--isolated] [--bridge BR] [--ipv6-gateway ADDR/PREFIX]\n"
             "       unikctl net ls | inspect NET... | rm NET...\n"
             "  --nat masquerades the subnet and turns on the host's\n"
             "  net.ipv4.ip_forward; unikd records what it was and puts it\n"
             "  back when its last NAT network is removed (unikctl info).",
    .summary = "manage networks (bridges with a subnet, NAT, isolation)",
    .subs = net_subs,
    .nsubs = sizeof(net_subs) / sizeof(net_subs[0]),
};
