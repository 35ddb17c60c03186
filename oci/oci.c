/*
 * unikd-oci's main(): runc's global options, the command table, and the
 * log. Engines read the log when a command fails: podman and the
 * containerd shim pass --log FILE --log-format json and take the "msg"
 * of the last error line, so errors go there as well as to stderr.
 */
#include "config.h"

#include <sys/time.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "oci.h"

static const struct oci_cmd *const oci_cmds[] = {
    &oci_cmd_create,
    &oci_cmd_start,
    &oci_cmd_state,
    &oci_cmd_kill,
    &oci_cmd_delete,
    &oci_cmd_ps,
    &oci_cmd_features,
};
#define OCI_NCMDS (sizeof(oci_cmds) / sizeof(oci_cmds[0]))

/* What runc has and a unikernel cannot do: one clear line each. */
static const struct {
	const char *name, *why;
} oci_unsupported[] = {
    {"exec", "a unikernel runs one program: there is no second process "
             "to start in it"},
    {"pause", "unikd does not freeze VMs"},
    {"resume", "unikd does not freeze VMs"},
    {"checkpoint", "unikd does not checkpoint VMs"},
    {"restore", "unikd does not checkpoint VMs"},
    {"update", "a running VM's memory and CPUs are fixed at its start"},
    {"events", "use unikd's event stream (unikctl events)"},
    {"run", "use create and start"},
    {"spec", "write config.json with your engine"},
};
#define OCI_NUNSUPPORTED (sizeof(oci_unsupported) / sizeof(oci_unsupported[0]))

/* The one context of this short-lived program, for the log functions. */
static struct oci *oci_env;

static void
oci_log_time(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06ldZ", (long)tv.tv_usec);
}

static void
oci_log_write(enum oci_level level, const char *msg)
{
	static const char *const names[] = {"debug", "info", "warning",
	    "error"};
	char now[40], *line = NULL;
	json_t *j;
	FILE *f;

	if (level == OCI_DEBUG && (oci_env == NULL || !oci_env->oci_debug))
		return;
	if (oci_env == NULL || oci_env->oci_log == NULL)
		return;
	if ((f = fopen(oci_env->oci_log, "ae")) == NULL)
		return;
	oci_log_time(now, sizeof(now));
	if (oci_env->oci_log_json) {
		j = json_pack("{s:s, s:s, s:s}", "level", names[level], "msg",
		    msg, "time", now);
		if (j != NULL && (line = json_dumps(j, JSON_COMPACT)) != NULL)
			fprintf(f, "%s\n", line);
		free(line);
		json_decref(j);
	} else {
		fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", now,
		    names[level], msg);
	}
	fclose(f);
}

void
oci_log(enum oci_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log_write(level, msg);
	if (level == OCI_ERROR && (oci_env == NULL || !oci_env->oci_quiet))
		fprintf(stderr, "unikd-oci: %s\n", msg);
}

int
oci_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log(OCI_ERROR, "%s", msg);
	return -1;
}

/* unikd's error replies, through unikctl's client. */
static void
oci_ctl_error(const char *msg)
{
	oci_log(OCI_ERROR, "%s", msg);
}

int
oci_usage(const struct oci_cmd *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	oci_log_write(OCI_ERROR, msg);
	fprintf(stderr, "unikd-oci %s: %s\nusage: unikd-oci %s %s\n",
	    cmd->name, msg, cmd->name, cmd->usage);
	return 2;
}

bool
oci_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > OCI_ID_MAX || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) &&
		    strchr("_+.-", id[i]) == NULL)
			return false;
	return true;
}

/* With --debug, each command as called: what an engine asked. */
static void
oci_log_command(int argc, char **argv)
{
	char line[2048];
	size_t off = 0;
	int i;

	for (i = 0; i < argc && off < sizeof(line); i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
		    i ? " " : "", argv[i]);
	oci_log(OCI_DEBUG, "command: %s", line);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: unikd-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n"
	    "       unikd-oci --version | --help\n\n"
	    "Global options:\n"
	    "  --root DIR             container state (default %s)\n"
	    "  --log FILE             log here (default: errors on stderr "
	    "only)\n"
	    "  --log-format text|json\n"
	    "  --systemd-cgroup       cgroupsPath is slice:prefix:name\n"
	    "  --socket PATH          unikd's socket (default $UNIKD_SOCKET or"
	    " %s)\n"
	    "  --debug\n\nCommands:\n",
	    OCI_DEFAULT_ROOT, CTL_DEFAULT_SOCKET);
	for (i = 0; i < OCI_NCMDS; i++)
		fprintf(f, "  %-9s %s\n", oci_cmds[i]->name, oci_cmds[i]->usage);
}

static int
oci_dispatch(struct oci *o, int argc, char **argv)
{
	size_t i;

	optind = 0; /* each command parses its own options with getopt */
	for (i = 0; i < OCI_NCMDS; i++)
		if (strcmp(argv[0], oci_cmds[i]->name) == 0)
			return oci_cmds[i]->exec(o, argc, argv);
	for (i = 0; i < OCI_NUNSUPPORTED; i++)
		if (strcmp(argv[0], oci_unsupported[i].name) == 0)
			return oci_error("%s is not supported by unikd-oci: %s",
			    argv[0], oci_unsupported[i].why);
	fprintf(stderr, "unikd-oci: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_SYSTEMD, OPT_DEBUG,
		OPT_SOCKET, OPT_VERSION, OPT_IGNORED, OPT_IGNORED_ARG };
	static const struct option opts[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
	    {"debug", no_argument, NULL, OPT_DEBUG},
	    {"socket", required_argument, NULL, OPT_SOCKET},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, 'h'},
	    /* runc's, meaningless here: accepted so engines work */
	    {"criu", required_argument, NULL, OPT_IGNORED_ARG},
	    {"rootless", required_argument, NULL, OPT_IGNORED_ARG},
	    {NULL, 0, NULL, 0},
	};
	struct oci o = {.oci_root = OCI_DEFAULT_ROOT};
	int c, rc;

	oci_env = &o;
	o.oci_ctl.ctl_socket = getenv("UNIKD_SOCKET");
	if (o.oci_ctl.ctl_socket == NULL || *o.oci_ctl.ctl_socket == '\0')
		o.oci_ctl.ctl_socket = CTL_DEFAULT_SOCKET;
	o.oci_ctl.ctl_error = oci_ctl_error;
	while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			o.oci_root = optarg;
			break;
		case OPT_LOG:
			o.oci_log = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "text") != 0) {
				fprintf(stderr, "unikd-oci: --log-format: "
				                "'text' or 'json', not '%s'\n",
				    optarg);
				return 2;
			}
			o.oci_log_json = strcmp(optarg, "json") == 0;
			break;
		case OPT_SYSTEMD:
			o.oci_systemd = true;
			break;
		case OPT_DEBUG:
			o.oci_debug = true;
			break;
		case OPT_SOCKET:
			o.oci_ctl.ctl_socket = optarg;
			break;
		case 'v':
		case OPT_VERSION:
			printf("unikd-oci version %s\nspec: %s\n",
			    PACKAGE_VERSION, OCI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_IGNORED:
		case OPT_IGNORED_ARG:
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "unikd-oci: cannot initialise libcurl\n");
		return 1;
	}
	oci_log_command(argc - optind, argv + optind);
	/* commands return -1 from oci_error() for a failure */
	if ((rc = oci_dispatch(&o, argc - optind, argv + optind)) < 0)
		rc = 1;
	curl_global_cleanup();
	return rc;
}
