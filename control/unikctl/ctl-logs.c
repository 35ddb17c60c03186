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
	char query[128] = "", path[512], num[32];
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
	if (ctl_vm_path(path, sizeof(path), argv[optind], "/console") == -1)
		return CTL_EXIT_FAIL;
	strncat(path, query, sizeof(path) - strlen(path) - 1);
	return ctl_stream(c, path, ctl_sink_stdout, NULL);
}

const struct ctl_cmd ctl_cmd_logs = {
    .name = "logs",
    .usage = "[-f] [-n LINES] [--since TIME|DURATION] [-t|--timestamps] VM",
    .summary = "print a VM's console output (-f: follow it)",
    .exec = logs_exec,
};
