/*
 * unikctl logs: a VM's console output (GET /v1/vms/NAME/console), the
 * last N lines with -n, streamed as it comes with -f until the VM stops;
 * --since keeps the lines read after a time, --timestamps prefixes each
 * line with the time the monitor read it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

/* Milliseconds of the fraction in "...:05.25Z": 250; 0 when none. */
static long long
logs_fraction_ms(const char *s)
{
	const char *dot = strchr(s, '.');
	long long ms = 0;
	int i;

	if (dot == NULL)
		return 0;
	for (i = 1; i <= 3; i++)
		ms = ms * 10 +
		     (dot[i] >= '0' && dot[i] <= '9' ? dot[i] - '0' : 0);
	return ms;
}

/* "2024-05-01T12:00:00[.123]Z", or a duration back from now: "90s",
 * "10m", "2h", "1d" (a bare number is seconds). Unix ms, or -1. */
static long long
logs_since_ms(const char *s)
{
	struct timespec now;
	long long n, secs, mult = 1;
	char *end;

	if (ctl_time_parse(s, &secs) == 0)
		return secs * 1000 + logs_fraction_ms(s);
	if (*s < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return -1;
	if (n > 100LL * 365 * 86400 / mult)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	n = ((long long)now.tv_sec - n * mult) * 1000 + now.tv_nsec / 1000000;
	return n > 0 ? n : 1;
}

static void
logs_query(char *query, size_t size, const char *key, const char *value)
{
	size_t len = strlen(query);

	snprintf(query + len, size - len, "%c%s=%s", len > 0 ? '&' : '?', key,
	    value);
}

/* A follow that may have to connect again: what it printed so far. */
struct logs_follow {
	size_t skip;	/* bytes of this connection already printed */
	size_t written;	/* bytes printed in all */
	int got;	/* this connection brought bytes or headers */
};

static int
logs_sink(const char *buf, size_t len, void *arg)
{
	struct logs_follow *lf = arg;
	size_t n = len < lf->skip ? len : lf->skip;

	lf->got = 1;
	lf->skip -= n;
	if (len == n)
		return 0;
	lf->written += len - n;
	return ctl_sink_stdout(buf + n, len - n, NULL);
}

/* Whether the VM has ended (the end of a follow), quietly: 1 yes, 0 no
 * or unknown (unikd away), -1 it is gone. */
static int
logs_vm_ended(struct ctl *c, const char *vmpath)
{
	json_t *vm = NULL;
	long status = 0;
	const char *st;
	int rc, ended;

	if (ctl_request(c, "GET", vmpath, NULL, &status, &vm) != 0)
		return 0;
	st = ctl_jstr(vm, "state");
	ended = status == 404 ? -1 : strcmp(st, "created") == 0 ||
	    strcmp(st, "exited") == 0 || strcmp(st, "failed") == 0;
	rc = ended;
	json_decref(vm);
	return rc;
}

/*
 * logs -f that outlives a restart of unikd: when the stream breaks, it
 * connects again with back-off and skips what it printed. The reply
 * says where in the log it started (X-Console-Skipped), so the new
 * request asks for the whole log and skips that much more; with --since
 * or -t the same request is made again. Bytes of a console file rotated
 * away meanwhile would shift what is skipped.
 */
static int
logs_follow(struct ctl *c, const char *vmpath, const char *path,
    const char *whole)
{
	struct logs_follow lf = {0};
	char hdr[32] = "";
	long back = CTL_BACKOFF_START_MS;
	long long base = -1;
	int rc, ended, said = 0;

	rc = ctl_stream_header(c, path, logs_sink, &lf, "X-Console-Skipped",
	    hdr, sizeof(hdr));
	if (hdr[0] != '\0')
		base = strtoll(hdr, NULL, 10);
	if (!lf.got)	/* never reached: say so, as without -f */
		return rc;
	c->ctl_quiet = 1;
	for (;;) {
		if (rc == CTL_EXIT_OK && (ended = logs_vm_ended(c, vmpath)))
			return ended == 1 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
		if (rc != CTL_EXIT_OK && rc != CTL_EXIT_UNREACHABLE)
			return rc;
		if (!said++)
			fprintf(stderr, "unikctl: lost unikd; following "
			    "again once it is back\n");
		ctl_backoff(&back);
		lf.got = 0;
		lf.skip = lf.written + (base >= 0 ? (size_t)base : 0);
		rc = ctl_stream_header(c, base >= 0 ? whole : path, logs_sink,
		    &lf, "X-Console-Skipped", hdr, sizeof(hdr));
		if (lf.got)
			back = CTL_BACKOFF_START_MS;
	}
}

static int
logs_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"tail", required_argument, NULL, 'n'},
	    {"since", required_argument, NULL, 'S'},
	    {"timestamps", no_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	char query[128] = "", path[512], num[32], whole[512], vmpath[512];
	long long tail = -1, since = 0;
	int ch, follow = 0, stamps = 0;

	while ((ch = getopt_long(argc, argv, ":fn:t", opts, NULL)) != -1) {
		if (ch == 'f')
			follow = 1;
		else if (ch == 't')
			stamps = 1;
		else if (ch == 'S') {
			if ((since = logs_since_ms(optarg)) == -1)
				return ctl_usage_error(&ctl_cmd_logs,
				    "--since wants a time "
				    "(2024-05-01T12:00:00Z)"
				    " or a duration (10m), not '%s'",
				    optarg);
		} else if (ch != 'n')
			return ctl_bad_option(&ctl_cmd_logs, ch, argv);
		else if (ctl_parse_uint(optarg, 1000000000, &tail) == -1)
			return ctl_usage_error(&ctl_cmd_logs,
			    "-n wants a number of lines, not '%s'", optarg);
	}
	if (optind + 1 != argc)
		return ctl_usage_error(&ctl_cmd_logs,
		    optind >= argc ? "no VM given" : "only one VM, please");
	if (tail >= 0) {
		snprintf(num, sizeof(num), "%lld", tail);
		logs_query(query, sizeof(query), "tail", num);
	}
	if (follow)
		logs_query(query, sizeof(query), "follow", "true");
	if (since > 0) {
		snprintf(num, sizeof(num), "%lld", since);
		logs_query(query, sizeof(query), "since", num);
	}
	if (stamps)
		logs_query(query, sizeof(query), "timestamps", "true");
	if (ctl_vm_path(path, sizeof(path), argv[optind], "/console") == -1 ||
	    ctl_vm_path(whole, sizeof(whole), argv[optind],
	    "/console?follow=true") == -1 ||
	    ctl_vm_path(vmpath, sizeof(vmpath), argv[optind], "") == -1)
		return CTL_EXIT_FAIL;
	strncat(path, query, sizeof(path) - strlen(path) - 1);
	if (follow)
		return logs_follow(c, vmpath, path, whole);
	return ctl_stream(c, path, ctl_sink_stdout, NULL);
}

const struct ctl_cmd ctl_cmd_logs = {
    .name = "logs",
    .usage = "[-f] [-n LINES] [--since TIME|DURATION] [-t|--timestamps] VM",
    .summary = "print a VM's console output (-f: follow it)",
    .help = "  -f, --follow         keep printing until the VM ends (across a\n"
	    "                       restart of unikd)\n"
	    "  -n, --tail LINES     only the last LINES lines\n"
	    "  --since TIME|DUR     lines read since an RFC 3339 time or a\n"
	    "                       duration back (30s, 10m, 2h, 1d)\n"
	    "  -t, --timestamps     prefix each line with when it was read\n",
    .exec = logs_exec,
};
