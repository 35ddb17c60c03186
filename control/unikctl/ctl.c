/*
 * unikctl's main(): global options, the command table and usage(), which
 * is generated from the table. Adding a command is adding a file and a row.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

static int help_exec(struct ctl *, int, char **);
static int version_exec(struct ctl *, int, char **);

static const struct ctl_cmd ctl_cmd_help = {
    .name = "help",
    .usage = "[COMMAND]",
    .summary = "this list, or a command's usage and options",
    .exec = help_exec,
};

static const struct ctl_cmd ctl_cmd_version = {
    .name = "version",
    .usage = "",
    .summary = "print the versions of unikctl and of unikd",
    .exec = version_exec,
};

static const struct ctl_cmd *const ctl_cmds[] = {
    &ctl_cmd_info,
    &ctl_cmd_ps,
    &ctl_cmd_inspect,
    &ctl_cmd_run,
    &ctl_cmd_create,
    &ctl_cmd_start,
    &ctl_cmd_stop,
    &ctl_cmd_kill,
    &ctl_cmd_restart,
    &ctl_cmd_rm,
    &ctl_cmd_wait,
    &ctl_cmd_logs,
    &ctl_cmd_events,
    &ctl_cmd_stats,
    &ctl_cmd_net,
    &ctl_cmd_block,
    &ctl_cmd_image,
    &ctl_cmd_gc,
    &ctl_cmd_version,
    &ctl_cmd_help,
};
#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: unikctl [-s PATH] [--json] COMMAND [ARGS...]\n"
	    "       unikctl -h | --help | --version\n\n"
	    "Options:\n"
	    "  -s, --socket PATH  unikd's socket (default $UNIKD_SOCKET"
	    " or %s)\n"
	    "  --json             print JSON instead of tables\n\n"
	    "Commands:\n",
	    CTL_DEFAULT_SOCKET);
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(
		    f, "  %-8s %s\n", ctl_cmds[i]->name, ctl_cmds[i]->summary);
	fprintf(f, "\nRun 'unikctl help COMMAND' for a command's usage and "
	    "options;\nsee unikctl(1).\n");
}

static void
cmd_usage(const struct ctl_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: unikctl %s%s%s\n", cmd->name, *cmd->usage ? " " : "",
	    cmd->usage);
}

/* A command's help: usage, summary, its options. */
static void
cmd_help(const struct ctl_cmd *cmd)
{
	cmd_usage(cmd, stdout);
	printf("\n%s\n", cmd->summary);
	if (cmd->help != NULL)
		printf("\nOptions:\n%s", cmd->help);
	printf("\nGlobal options: -s, --socket PATH; --json. See unikctl(1).\n");
}

int
ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "unikctl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_usage(cmd, stderr);
	return CTL_EXIT_USAGE;
}

int
ctl_bad_option(const struct ctl_cmd *cmd, int c, char **argv)
{
	const char *what =
	    c == ':' ? "option requires an argument" : "unknown option";

	if (optopt > 0 && optopt < 128 && strchr("?:", optopt) == NULL)
		return ctl_usage_error(cmd, "%s: -%c", what, optopt);
	return ctl_usage_error(cmd, "%s: %s", what, argv[optind - 1]);
}

/* Runs the subcommand argv[1] of the group cmd; a usage error (2) when it
 * is missing or unknown. */
static int
cmd_sub_exec(struct ctl *c, const struct ctl_cmd *cmd, int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return ctl_usage_error(cmd, "no subcommand given");
	for (i = 0; i < cmd->nsubs; i++)
		if (strcmp(argv[1], cmd->subs[i].name) == 0)
			return cmd->subs[i].exec(c, argc - 1, argv + 1);
	return ctl_usage_error(cmd, "unknown subcommand '%s'", argv[1]);
}

int
ctl_args(
    const struct ctl_cmd *cmd, int argc, char **argv, int n, const char *what)
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-' && (argv[i][1] < '0' || argv[i][1] > '9'))
			return ctl_usage_error(
			    cmd, "%s: unknown option '%s'", argv[0], argv[i]);
	if (n < 0 && argc < 2)
		return ctl_usage_error(cmd, "%s: no %s given", argv[0], what);
	if (n >= 0 && argc - 1 != n)
		return ctl_usage_error(cmd, "%s wants %s", argv[0], what);
	return 0;
}

int
ctl_kind_path(char *buf, size_t size, const struct ctl_kind *k,
    const char *name, const char *suffix)
{
	char esc[256];

	if (ctl_escape(esc, sizeof(esc), name) == -1 ||
	    (size_t)snprintf(
	        buf, size, "%s/%s%s", k->collection, esc, suffix) >= size) {
		fprintf(stderr, "unikctl: %s name too long: %.40s...\n",
		    k->what, name);
		return -1;
	}
	return 0;
}

int
ctl_each(struct ctl *c, const struct ctl_kind *k, int n, int argc, char **argv,
    const char *method)
{
	char path[512];
	json_t *reply;
	int i, rc, ret = CTL_EXIT_OK;

	if ((rc = ctl_args(k->cmd, argc, argv, n, n < 0 ? k->what : k->arg)) !=
	    0)
		return rc;
	for (i = 1; i < argc; i++) {
		if (ctl_kind_path(path, sizeof(path), k, argv[i], "") == -1) {
			ret = CTL_EXIT_FAIL;
			continue;
		}
		rc = ctl_call(c, method, path, NULL, &reply);
		if (rc == CTL_EXIT_UNREACHABLE)
			return rc;
		if (rc != 0) {
			ret = CTL_EXIT_FAIL;
			continue;
		}
		if (strcmp(method, "GET") == 0 || c->ctl_json)
			ctl_print_json(reply);
		else
			printf("%s\n", argv[i]);
		json_decref(reply);
	}
	return ret;
}

int
ctl_parse_uint(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *
ctl_jstr(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

void
ctl_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

static const struct ctl_cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_cmds[i]->name, name) == 0)
			return ctl_cmds[i];
	return NULL;
}

/*
 * Takes --json and -h/--help out of the command's arguments (up to a
 * "--"), so they work after the command name too. Returns 1 if help was
 * asked for.
 */
static int
cmd_strip_globals(struct ctl *c, int *argc, char **argv)
{
	int i, n = 1, help = 0;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--json") == 0)
			c->ctl_json = 1;
		else if (strcmp(argv[i], "-h") == 0 ||
		         strcmp(argv[i], "--help") == 0)
			help = 1;
		else
			argv[n++] = argv[i];
	}
	for (; i < *argc; i++)
		argv[n++] = argv[i];
	argv[n] = NULL;
	*argc = n;
	return help;
}

/* Edit distance of a and b (short words: command names). */
static size_t
cmd_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) :
			    (del < ins ? del : ins);
		}
	return d[la][lb];
}

/* An unknown command: the nearest one, if any is near. */
static int
cmd_unknown(const char *name)
{
	const struct ctl_cmd *best = NULL;
	size_t i, d, bestd = 3;

	for (i = 0; i < CTL_NCMDS; i++) {
		d = cmd_distance(name, ctl_cmds[i]->name);
		if (strncmp(name, ctl_cmds[i]->name, strlen(name)) == 0 &&
		    strlen(name) >= 2)
			d = 1;
		if (d < bestd) {
			bestd = d;
			best = ctl_cmds[i];
		}
	}
	if (best != NULL)
		fprintf(stderr, "unikctl: unknown command '%s'; did you mean "
		    "'%s'?\n", name, best->name);
	else
		fprintf(stderr, "unikctl: unknown command '%s'\n", name);
	fprintf(stderr, "Run 'unikctl help' for the list of commands.\n");
	return CTL_EXIT_USAGE;
}

static int
help_exec(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	(void)c;
	if (argc < 2) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	if (argc > 2)
		return ctl_usage_error(&ctl_cmd_help, "one command, please");
	if ((cmd = cmd_find(argv[1])) == NULL)
		return cmd_unknown(argv[1]);
	cmd_help(cmd);
	return CTL_EXIT_OK;
}

/* unikctl's version, then unikd's (GET /v1/info). */
static int
version_exec(struct ctl *c, int argc, char **argv)
{
	json_t *info;
	int rc;

	(void)argv;
	if (argc > 1)
		return ctl_usage_error(&ctl_cmd_version, "no arguments, please");
	printf("unikctl %s\n", PACKAGE_VERSION);
	fflush(stdout);
	if ((rc = ctl_call(c, "GET", "/v1/info", NULL, &info)) != 0)
		return rc;
	printf("unikd   %s (api %s, at %s)\n", ctl_jstr(info, "version"),
	    ctl_jstr(info, "api"), c->ctl_socket);
	json_decref(info);
	return CTL_EXIT_OK;
}

static int
run_cmd(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd;
	int rc;

	if ((cmd = cmd_find(argv[0])) == NULL)
		return cmd_unknown(argv[0]);
	if (cmd_strip_globals(c, &argc, argv)) {
		cmd_help(cmd);
		return CTL_EXIT_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "unikctl: cannot initialise libcurl\n");
		return CTL_EXIT_FAIL;
	}
	optind = 0; /* glibc: start afresh for the command's own options */
	rc = cmd->subs != NULL ? cmd_sub_exec(c, cmd, argc, argv)
	                       : cmd->exec(c, argc, argv);
	curl_global_cleanup();
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl c = {.ctl_socket = getenv("UNIKD_SOCKET")};
	int ch;

	if (c.ctl_socket == NULL || *c.ctl_socket == '\0')
		c.ctl_socket = CTL_DEFAULT_SOCKET;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.ctl_socket = optarg;
			break;
		case 'j':
			c.ctl_json = 1;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("unikctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			fprintf(stderr, "unikctl: %s: %s\n",
			    ch == ':' ? "option requires an argument"
			              : "unknown option",
			    argv[optind - 1]);
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "unikctl: no command given\n");
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	return run_cmd(&c, argc - optind, argv + optind);
}
