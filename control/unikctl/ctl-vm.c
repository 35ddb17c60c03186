/*
 * unikctl start, stop, kill, restart, rm and wait: one request per VM
 * named on the command line. A failure is reported and the loop goes on;
 * the exit code is 1 if any VM failed (wait: the last VM's exit status).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* What a command does to each VM. */
struct vm_verb {
	const struct ctl_cmd *cmd;
	const char *method;
	char suffix[128]; /* after /v1/vms/NAME: "/stop?timeout=5" */
	/* Called on success; returns 0 or an exit code. */
	int (*done)(struct ctl *, const char *vm, json_t *reply, int *last);
};

/* Prints the VM's name, or the reply with --json. */
static int
vm_done_name(struct ctl *c, const char *vm, json_t *reply, int *last)
{
	(void)last;
	if (c->ctl_json && reply != NULL)
		ctl_print_json(reply);
	else
		printf("%s\n", vm);
	fflush(stdout);
	return 0;
}

/* stop waits for the VM to reach a final state, as a user expects. */
static int
vm_done_stop(struct ctl *c, const char *vm, json_t *reply, int *last)
{
	char path[512];
	json_t *w;
	int rc;

	if (ctl_vm_path(path, sizeof(path), vm, "/wait") == -1)
		return CTL_EXIT_FAIL;
	if ((rc = ctl_call(c, "POST", path, NULL, &w)) != 0)
		return rc;
	json_decref(w);
	return vm_done_name(c, vm, reply, last);
}

/* wait prints the exit status and keeps it for the exit code. */
static int
vm_done_wait(struct ctl *c, const char *vm, json_t *reply, int *last)
{
	const json_t *st = json_object_get(reply, "exit_status");

	(void)vm;
	*last = json_is_integer(st) ? (int)(json_integer_value(st) & 0xff)
	                            : CTL_EXIT_FAIL;
	if (c->ctl_json) {
		json_dumpf(reply, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (json_is_integer(st)) {
		printf("%lld\n", (long long)json_integer_value(st));
	} else {
		printf("- (%s)\n", ctl_jstr(reply, "state"));
	}
	fflush(stdout);
	return 0;
}

static int
vm_each(struct ctl *c, const struct vm_verb *v, int argc, char **argv)
{
	char path[512];
	json_t *reply;
	int i, rc, last = 0, ret = CTL_EXIT_OK;

	if (optind >= argc)
		return ctl_usage_error(v->cmd, "no VM given");
	for (i = optind; i < argc; i++) {
		last = CTL_EXIT_FAIL;
		if (ctl_vm_path(path, sizeof(path), argv[i], v->suffix) == -1) {
			ret = CTL_EXIT_FAIL;
			continue;
		}
		if ((rc = ctl_call(c, v->method, path, NULL, &reply)) == 0) {
			rc = v->done(c, argv[i], reply, &last);
			json_decref(reply);
		}
		if (rc == CTL_EXIT_UNREACHABLE)
			return rc;
		if (rc != 0)
			ret = CTL_EXIT_FAIL;
	}
	if (v->done == vm_done_wait && ret == CTL_EXIT_OK)
		return last;
	return ret;
}

/*
 * Parses a command's options: at most one, given by optstring/opts, whose
 * argument (if it takes one) is stored in *val. 0, or 2 after a message.
 */
static int
vm_getopt(const struct ctl_cmd *cmd, int argc, char **argv,
    const char *optstring, const struct option *opts, const char **val)
{
	int ch;

	while ((ch = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return ctl_bad_option(cmd, ch, argv);
		*val = optarg ? optarg : "true";
	}
	return 0;
}

static int
vm_start_exec(struct ctl *c, int argc, char **argv)
{
	struct vm_verb v = {&ctl_cmd_start, "POST", "/start", vm_done_name};
	int rc;

	if ((rc = vm_getopt(v.cmd, argc, argv, ":", NULL, NULL)) != 0)
		return rc;
	return vm_each(c, &v, argc, argv);
}

/* stop and restart take -t S, the seconds before SIGKILL. */
static int
vm_timeout_exec(struct ctl *c, struct vm_verb *v, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"time", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *t = NULL;
	long long secs;
	size_t n = strlen(v->suffix);
	int rc;

	if ((rc = vm_getopt(v->cmd, argc, argv, ":t:", opts, &t)) != 0)
		return rc;
	if (t != NULL) {
		if (ctl_parse_uint(t, 3600, &secs) == -1)
			return ctl_usage_error(
			    v->cmd, "-t wants seconds (0..3600), not '%s'", t);
		snprintf(v->suffix + n, sizeof(v->suffix) - n, "?timeout=%lld",
		    secs);
	}
	return vm_each(c, v, argc, argv);
}

static int
vm_stop_exec(struct ctl *c, int argc, char **argv)
{
	struct vm_verb v = {&ctl_cmd_stop, "POST", "/stop", vm_done_stop};

	return vm_timeout_exec(c, &v, argc, argv);
}

static int
vm_restart_exec(struct ctl *c, int argc, char **argv)
{
	struct vm_verb v = {&ctl_cmd_restart, "POST", "/restart", vm_done_name};

	return vm_timeout_exec(c, &v, argc, argv);
}

static int
vm_kill_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"signal", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	struct vm_verb v = {&ctl_cmd_kill, "POST", "/kill", vm_done_name};
	const char *sig = NULL;
	char esc[64];
	int rc;

	if ((rc = vm_getopt(v.cmd, argc, argv, ":s:", opts, &sig)) != 0)
		return rc;
	if (sig != NULL) {
		if (*sig == '\0' || ctl_escape(esc, sizeof(esc), sig) == -1)
			return ctl_usage_error(v.cmd, "bad signal '%s'", sig);
		snprintf(v.suffix, sizeof(v.suffix), "/kill?signal=%s", esc);
	}
	return vm_each(c, &v, argc, argv);
}

static int
vm_rm_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct vm_verb v = {&ctl_cmd_rm, "DELETE", "", vm_done_name};
	const char *force = NULL;
	int rc;

	if ((rc = vm_getopt(v.cmd, argc, argv, ":f", opts, &force)) != 0)
		return rc;
	if (force != NULL)
		snprintf(v.suffix, sizeof(v.suffix), "?force=true");
	return vm_each(c, &v, argc, argv);
}

static int
vm_wait_exec(struct ctl *c, int argc, char **argv)
{
	struct vm_verb v = {&ctl_cmd_wait, "POST", "/wait", vm_done_wait};
	int rc;

	if ((rc = vm_getopt(v.cmd, argc, argv, ":", NULL, NULL)) != 0)
		return rc;
	return vm_each(c, &v, argc, argv);
}

const struct ctl_cmd ctl_cmd_start = {
    .name = "start",
    .usage = "VM...",
    .summary = "start VMs",
    .exec = vm_start_exec,
};
const struct ctl_cmd ctl_cmd_stop = {
    .name = "stop",
    .usage = "[-t SECONDS] VM...",
    .summary = "stop VMs and wait until they have stopped",
    .help = "  -t, --timeout SECONDS  SIGKILL after this (default: the VM's\n"
	    "                       stop timeout)\n",
    .exec = vm_stop_exec,
};
const struct ctl_cmd ctl_cmd_kill = {
    .name = "kill",
    .usage = "[-s SIGNAL] VM...",
    .summary = "send a signal to VMs (default SIGKILL)",
    .help = "  -s, --signal SIGNAL  a name (TERM, SIGTERM) or a number\n",
    .exec = vm_kill_exec,
};
const struct ctl_cmd ctl_cmd_restart = {
    .name = "restart",
    .usage = "[-t SECONDS] VM...",
    .summary = "stop and start VMs again",
    .help = "  -t, --timeout SECONDS  SIGKILL after this (default: the VM's\n"
	    "                       stop timeout)\n",
    .exec = vm_restart_exec,
};
const struct ctl_cmd ctl_cmd_rm = {
    .name = "rm",
    .usage = "[-f] VM...",
    .summary = "remove VMs (-f: stop them first)",
    .help = "  -f, --force          kill a running or restarting VM first\n",
    .exec = vm_rm_exec,
};
const struct ctl_cmd ctl_cmd_wait = {
    .name = "wait",
    .usage = "VM...",
    .summary = "wait until VMs have stopped and print their exit status",
    .exec = vm_wait_exec,
};
