/*
 * unikctl run and create: build a VM definition from the command line and
 * POST it to /v1/vms (run: ?start=true). run --attach streams the console
 * and exits with the VM's exit status; --rm removes the VM once it has
 * reached a final state. Everything is checked before a request is sent.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"

#define RUN_NAME_MAX 63
#define RUN_MEM_MAX (1LL << 30) /* MiB; anything larger is a typo */
#define RUN_CPU_MAX 4095
#define RUN_SETTLE_DEFAULT_MS 1000

/* A run or create in the making. */
struct run_req {
	const struct ctl_cmd *cmd;
	json_t *def; /* the definition POSTed */
	const char *tender, *image;
	int attach, rm;
	long settle_ms; /* run without --attach: how long it must run */
};

/* One option: its long name, whether it takes an argument, its setter. */
struct run_opt {
	const char *name;
	int has_arg;
	/* Returns 0, or 2 after a usage message. */
	int (*set)(struct run_req *, const char *arg);
};

/* Why name is not a valid VM name ([a-z0-9][a-z0-9_-]{0,62}), or NULL. */
static const char *
run_name_problem(const char *name)
{
	size_t i;

	if (*name == '\0')
		return "it is empty";
	if (strlen(name) > RUN_NAME_MAX)
		return "it is longer than 63 characters";
	if (!islower((unsigned char)*name) && !isdigit((unsigned char)*name))
		return "it must start with a lowercase letter or a digit";
	for (i = 1; name[i] != '\0'; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) &&
		    strchr("_-", name[i]) == NULL)
			return "it may hold only a-z, 0-9, '_' and '-'";
	return NULL;
}

/* A name from the image's file name: "Hello.spt" gives "hello-spt". */
static void
run_name_from_image(char *buf, size_t size, const char *image)
{
	const char *base = strrchr(image, '/');
	size_t n = 0;

	base = base ? base + 1 : image;
	while (*base != '\0' && !isalnum((unsigned char)*base))
		base++;
	for (; *base != '\0' && n < RUN_NAME_MAX && n + 1 < size; base++) {
		int ch = tolower((unsigned char)*base);

		if (!(islower(ch) || isdigit(ch) || ch == '_') || ch > 127)
			ch = '-';
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
}

static int
run_set_name(struct run_req *r, const char *arg)
{
	const char *why = run_name_problem(arg);

	if (why != NULL)
		return ctl_usage_error(
		    r->cmd, "bad VM name '%s': %s", arg, why);
	json_object_set_new(r->def, "name", json_string(arg));
	return 0;
}

static int
run_set_tender(struct run_req *r, const char *arg)
{
	if (*arg == '\0')
		return ctl_usage_error(r->cmd, "--tender is empty");
	r->tender = arg;
	return 0;
}

static int
run_set_image(struct run_req *r, const char *arg)
{
	if (*arg == '\0')
		return ctl_usage_error(r->cmd, "--image is empty");
	r->image = arg;
	return 0;
}

/* --mem: MiB, plain ("64") or with a suffix ("64M", "1G", "2GiB"). */
static int
run_set_mem(struct run_req *r, const char *arg)
{
	static const struct {
		const char *suffix;
		long long mib;
	} units[] = {{"", 1}, {"m", 1}, {"mb", 1}, {"mib", 1}, {"g", 1024},
	    {"gb", 1024}, {"gib", 1024}};
	long long v;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)*arg))
		goto fail;
	errno = 0;
	v = strtoll(arg, &end, 10);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcasecmp(end, units[i].suffix) == 0)
			break;
	if (errno != 0 || i == sizeof(units) / sizeof(units[0]) ||
	    v > RUN_MEM_MAX / units[i].mib)
		goto fail;
	if (v < 1)
		return ctl_usage_error(r->cmd, "--mem must be at least 1 MiB");
	json_object_set_new(r->def, "memory", json_integer(v * units[i].mib));
	return 0;
fail:
	return ctl_usage_error(r->cmd,
	    "--mem wants a size in MiB such as 64, 64M or 1G, not '%s'", arg);
}

/* --cpus: a list of CPU numbers and ranges, "0,1" or "0-3,6". */
static int
run_set_cpus(struct run_req *r, const char *arg)
{
	json_t *cpus = json_array();
	long long lo, hi;
	const char *p = arg;
	char *end;

	while (isdigit((unsigned char)*p)) {
		lo = hi = strtoll(p, &end, 10);
		if (*end == '-' && isdigit((unsigned char)end[1]))
			hi = strtoll(end + 1, &end, 10);
		if (lo > hi || hi > RUN_CPU_MAX)
			break;
		for (; lo <= hi; lo++)
			json_array_append_new(cpus, json_integer(lo));
		if (*end == '\0') {
			json_object_set_new(r->def, "cpus", cpus);
			return 0;
		}
		if (*end != ',')
			break;
		p = end + 1;
	}
	json_decref(cpus);
	return ctl_usage_error(r->cmd,
	    "--cpus wants CPU numbers such as 0,1 or 0-3, not '%s'", arg);
}

/* --restart no|always|on-failure[:N] */
static int
run_set_restart(struct run_req *r, const char *arg)
{
	static const char *const policies[] = {"no", "always", "on-failure"};
	const char *colon = strchr(arg, ':');
	size_t i, len = colon ? (size_t)(colon - arg) : strlen(arg);
	long long n = -1;
	json_t *restart;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strlen(policies[i]) == len &&
		    strncmp(arg, policies[i], len) == 0)
			break;
	if (i == sizeof(policies) / sizeof(policies[0]) ||
	    (colon && (i != 2 || ctl_parse_uint(colon + 1, INT_MAX, &n))))
		return ctl_usage_error(r->cmd,
		    "--restart wants no, always, on-failure or "
		    "on-failure:N, not '%s'",
		    arg);
	restart = json_pack("{s:s}", "policy", policies[i]);
	if (n >= 0)
		json_object_set_new(restart, "max_retries", json_integer(n));
	json_object_set_new(r->def, "restart", restart);
	return 0;
}

static int
run_set_autostart(struct run_req *r, const char *arg)
{
	(void)arg;
	json_object_set_new(r->def, "autostart", json_true());
	return 0;
}

static int
run_set_stop_timeout(struct run_req *r, const char *arg)
{
	long long s;

	if (ctl_parse_uint(arg, 86400, &s) == -1)
		return ctl_usage_error(r->cmd,
		    "--stop-timeout wants seconds (0..86400), not '%s'", arg);
	json_object_set_new(r->def, "stop_timeout", json_integer(s));
	return 0;
}

/* One ",key=value" of --net into nic; -1 when the key is unknown: mac
 * and ip on a network, link in a namespace. */
static int
run_net_option(json_t *nic, char *kv)
{
	char *eq = strchr(kv, '=');
	bool ns = json_object_get(nic, "netns") != NULL;

	if (eq == NULL || eq[1] == '\0')
		return -1;
	*eq = '\0';
	if (ns ? strcmp(kv, "link") != 0
	       : strcmp(kv, "mac") != 0 && strcmp(kv, "ip") != 0)
		return -1;
	json_object_set_new(nic, kv, json_string(eq + 1));
	return 0;
}

/* --net DEV=NETWORK[,mac=MAC][,ip=IP] or DEV=/NETNS/PATH[,link=LINK]
 * (link eth0 unless given), once per NIC, in order. */
static int
run_set_net(struct run_req *r, const char *arg)
{
	char *copy = strdup(arg), *dev, *net, *kv, *save = NULL;
	json_t *nics = json_object_get(r->def, "nics"), *nic;
	int rc = 0;

	if (copy == NULL)
		return ctl_usage_error(r->cmd, "out of memory");
	dev = copy;
	net = strchr(copy, '=');
	if (net == NULL || net == dev || net[1] == '\0' || net[1] == ',') {
		free(copy);
		return ctl_usage_error(r->cmd,
		    "--net wants DEV=NETWORK[,mac=MAC][,ip=IP] or "
		    "DEV=/NETNS/PATH[,link=LINK], not '%s'", arg);
	}
	*net++ = '\0';
	net = strtok_r(net, ",", &save);
	if (net[0] == '/')	/* a namespace's path, never a network's name */
		nic = json_pack("{s:s, s:s, s:s}", "name", dev, "netns", net,
		    "link", "eth0");
	else
		nic = json_pack("{s:s, s:s}", "name", dev, "network", net);
	while (rc == 0 && (kv = strtok_r(NULL, ",", &save)) != NULL)
		if (run_net_option(nic, kv) == -1)
			rc = ctl_usage_error(r->cmd,
			    "--net: unknown option '%s' in '%s' (%s)", kv, arg,
			    net[0] == '/' ? "link=LINK" : "mac=MAC, ip=IP");
	free(copy);
	if (rc != 0) {
		json_decref(nic);
		return rc;
	}
	if (nics == NULL) {
		nics = json_array();
		json_object_set_new(r->def, "nics", nics);
	}
	json_array_append_new(nics, nic);
	return 0;
}

/* --block DEV=BLOCK, once per block, in order. */
static int
run_set_block(struct run_req *r, const char *arg)
{
	const char *eq = strchr(arg, '=');
	json_t *blocks = json_object_get(r->def, "blocks");

	if (eq == NULL || eq == arg || eq[1] == '\0')
		return ctl_usage_error(r->cmd,
		    "--block wants DEV=BLOCK, not '%s'", arg);
	if (blocks == NULL) {
		blocks = json_array();
		json_object_set_new(r->def, "blocks", blocks);
	}
	json_array_append_new(blocks, json_pack("{s:s%, s:s}", "name", arg,
	    (size_t)(eq - arg), "block", eq + 1));
	return 0;
}

static int
run_set_attach(struct run_req *r, const char *arg)
{
	(void)arg;
	r->attach = 1;
	return 0;
}

static int
run_set_rm(struct run_req *r, const char *arg)
{
	(void)arg;
	r->rm = 1;
	return 0;
}

/* --settle DUR: "1s", "500ms", "2" (seconds), "0" to skip. */
static int
run_set_settle(struct run_req *r, const char *arg)
{
	long long v;
	char *end;

	if (!isdigit((unsigned char)*arg))
		goto fail;
	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno != 0 || v > 3600 * 1000LL)
		goto fail;
	if (strcmp(end, "ms") == 0)
		r->settle_ms = (long)v;
	else if ((*end == '\0' || strcmp(end, "s") == 0) && v <= 3600)
		r->settle_ms = (long)v * 1000;
	else
		goto fail;
	return 0;
fail:
	return ctl_usage_error(r->cmd,
	    "--settle wants a duration such as 1s, 500ms or 0, not '%s'", arg);
}

static const struct run_opt run_opts[] = {
    {"name", 1, run_set_name},
    {"tender", 1, run_set_tender},
    {"image", 1, run_set_image},
    {"mem", 1, run_set_mem},
    {"memory", 1, run_set_mem},
    {"cpus", 1, run_set_cpus},
    {"restart", 1, run_set_restart},
    {"autostart", 0, run_set_autostart},
    {"stop-timeout", 1, run_set_stop_timeout},
    {"net", 1, run_set_net},
    {"block", 1, run_set_block},
    {"attach", 0, run_set_attach},
    {"rm", 0, run_set_rm},
    {"settle", 1, run_set_settle},
};
#define RUN_NOPTS (sizeof(run_opts) / sizeof(run_opts[0]))

/*
 * The image as unikd takes it: a path made absolute from the current
 * directory (unikd does not share it), or a stored image's name. An
 * argument with a '/' is a path; a bare word is a file of the current
 * directory when there is one, else a name.
 */
static int
run_set_image_path(struct run_req *r)
{
	char *abs = NULL;
	int err;

	if (r->image[0] != '/' &&
	    (abs = realpath(r->image, NULL)) == NULL &&
	    strchr(r->image, '/') != NULL) {
		err = errno;
		return ctl_usage_error(r->cmd, "--image %s: %s (a path is "
		    "taken from the current directory)", r->image,
		    err == ENOENT ? "no such file" : strerror(err));
	}
	json_object_set_new(r->def, "image", json_string(abs ? abs : r->image));
	free(abs);
	return 0;
}

/* Checks what the options left and completes the definition. */
static int
run_finish(struct run_req *r, int argc, char **argv)
{
	char name[RUN_NAME_MAX + 1];
	json_t *args;
	int i;

	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return ctl_usage_error(r->cmd,
		    "unexpected argument '%s' (guest arguments go after --)",
		    argv[optind]);
	if (r->tender == NULL || r->image == NULL)
		return ctl_usage_error(r->cmd, "%s is required",
		    r->tender == NULL ? "--tender" : "--image");
	if (r->cmd == &ctl_cmd_create && (r->attach || r->rm ||
	    r->settle_ms != RUN_SETTLE_DEFAULT_MS))
		return ctl_usage_error(
		    r->cmd, "--attach, --rm and --settle only apply to run");
	if (json_object_get(r->def, "name") == NULL) {
		run_name_from_image(name, sizeof(name), r->image);
		if (run_name_problem(name) != NULL)
			return ctl_usage_error(r->cmd,
			    "cannot make a VM name from '%s'; use --name",
			    r->image);
		json_object_set_new(r->def, "name", json_string(name));
	}
	json_object_set_new(r->def, "tender", json_string(r->tender));
	if (run_set_image_path(r) != 0)
		return CTL_EXIT_USAGE;
	if (optind < argc) {
		args = json_array();
		for (i = optind; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
		json_object_set_new(r->def, "args", args);
	}
	return 0;
}

static int
run_parse(struct run_req *r, int argc, char **argv)
{
	struct option opts[RUN_NOPTS + 1];
	size_t i;
	int ch, rc;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < RUN_NOPTS; i++) {
		opts[i].name = run_opts[i].name;
		opts[i].has_arg =
		    run_opts[i].has_arg ? required_argument : no_argument;
		opts[i].val = 256 + (int)i;
	}
	/* "+": stop at the first non-option, so "--" ends our options */
	while ((ch = getopt_long(argc, argv, "+:", opts, NULL)) != -1) {
		if (ch < 256)
			return ctl_bad_option(r->cmd, ch, argv);
		if ((rc = run_opts[ch - 256].set(r, optarg)) != 0)
			return rc;
	}
	return run_finish(r, argc, argv);
}

static int
run_exec(struct ctl *c, int argc, char **argv, const struct ctl_cmd *cmd)
{
	struct run_req r = {.cmd = cmd, .def = json_object(),
	    .settle_ms = RUN_SETTLE_DEFAULT_MS};
	const char *path =
	    cmd == &ctl_cmd_run ? "/v1/vms?start=true" : "/v1/vms";
	char name[RUN_NAME_MAX + 1];
	json_t *vm = NULL;
	int rc;

	if ((rc = run_parse(&r, argc, argv)) != 0)
		goto out;
	snprintf(name, sizeof(name), "%s", ctl_jstr(r.def, "name"));
	if ((rc = ctl_call(c, "POST", path, r.def, &vm)) != 0)
		goto out;
	if (c->ctl_json && !r.attach)
		ctl_print_json(vm);
	else if (!r.attach)
		printf("%s\n", ctl_jstr(vm, "name"));
	fflush(stdout);
	if (cmd == &ctl_cmd_run)
		rc = ctl_run_after(c, name, r.attach, r.rm, r.settle_ms);
out:
	json_decref(vm);
	json_decref(r.def);
	return rc;
}

static int
run_run_exec(struct ctl *c, int argc, char **argv)
{
	return run_exec(c, argc, argv, &ctl_cmd_run);
}

static int
run_create_exec(struct ctl *c, int argc, char **argv)
{
	return run_exec(c, argc, argv, &ctl_cmd_create);
}

#define RUN_USAGE                                                              \
	"[--name VM] --tender T --image IMG [--mem SIZE] [--cpus LIST]\n"      \
	"           [--restart no|on-failure[:N]|always] [--autostart]\n"      \
	"           [--stop-timeout S]\n"                                      \
	"           [--net DEV=NETWORK[,mac=..][,ip=..]]... "          \
	"[--block DEV=BLOCK]..."

#define RUN_HELP                                                               \
	"  --name VM            the VM's name ([a-z0-9][a-z0-9_-]*, at most 63;\n" \
	"                       default: made from the image's file name)\n"   \
	"  --tender T           solo5-spt, solo5-hvt, qemu, firecracker,\n"     \
	"                       cloud-hypervisor or exec (see unikctl info)\n"   \
	"  --image IMG          a stored image's name (unikctl image push), or\n" \
	"                       a file under image_dirs; a relative path is\n" \
	"                       taken from the current directory\n"             \
	"  --mem SIZE           guest memory: MiB (64), or 64M, 1G\n"            \
	"  --cpus LIST          host CPUs to pin the tender to: 0,1 or 0-3\n"   \
	"  --restart POLICY     no (default), on-failure[:N] (N restarts at\n"   \
	"                       most) or always; a stop never restarts\n"      \
	"  --autostart          start it when the host boots\n"                 \
	"  --stop-timeout S     seconds a stop waits before SIGKILL\n"          \
	"  --net DEV=NETWORK[,mac=MAC][,ip=IP]\n"                               \
	"                       a NIC named DEV (the name the unikernel's\n"   \
	"                       manifest declares, e.g. service) on NETWORK\n" \
	"                       (unikctl net create); once per NIC, in order\n" \
	"  --block DEV=BLOCK    the block BLOCK (unikctl block create) as the\n" \
	"                       device DEV; once per block\n"                  \
	"  -- ARGS...           the unikernel's arguments; ${nic.DEV.ip},\n"    \
	"                       ${nic.DEV.cidr}, ${nic.DEV.gateway},\n"        \
	"                       ${nic.DEV.mac} are filled in by unikd\n"

const struct ctl_cmd ctl_cmd_run = {
    .name = "run",
    .usage = RUN_USAGE "\n           [--attach] [--rm] [--settle DUR] [-- ARGS...]",
    .summary = "create and start a VM",
    .help = RUN_HELP
	"  --attach             print its console until it ends; exit with its\n"
	"                       status (Ctrl-C stops it, a second kills it)\n"
	"  --rm                 remove it once it has ended\n"
	"  --settle DUR         without --attach: wait until it has run DUR\n"
	"                       (1s; 500ms; 0: not at all), and report one\n"
	"                       that ended before with its last console lines\n",
    .exec = run_run_exec,
};

const struct ctl_cmd ctl_cmd_create = {
    .name = "create",
    .usage = RUN_USAGE " [-- ARGS...]",
    .summary = "create a VM without starting it",
    .help = RUN_HELP,
    .exec = run_create_exec,
};
