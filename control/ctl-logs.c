/*
 * unikctl logs: a VM's console output (GET /v1/vms/NAME/console), the
 * last N lines with -n, streamed as it comes with -f until the VM stops.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static int
logs_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {"tail", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	char query[64] = "", path[512];
	long long tail = -1;
	int ch, follow = 0;

	while ((ch = getopt_long(argc, argv, ":fn:", opts, NULL)) != -1) {
		if (ch == 'f')
			follow = 1;
		else if (ch != 'n')
			return ctl_bad_option(&ctl_cmd_logs, ch, argv);
		else if (ctl_parse_uint(optarg, 1000000000, &tail) == -1)
			return ctl_usage_error(&ctl_cmd_logs,
			    "-n wants a number of lines, not '%s'", optarg);
	}
	if (optind + 1 != argc)
		return ctl_usage_error(&ctl_cmd_logs,
		    optind >= argc ? "no VM given" : "only one VM, please");
	if (tail >= 0)
		snprintf(query, sizeof(query), "?tail=%lld", tail);
	if (follow)
		strcat(query, *query ? "&follow=true" : "?follow=true");
	if (ctl_vm_path(path, sizeof(path), argv[optind], "/console") == -1)
		return CTL_EXIT_FAIL;
	strncat(path, query, sizeof(path) - strlen(path) - 1);
	return ctl_stream(c, path, ctl_sink_stdout, NULL);
}

const struct ctl_cmd ctl_cmd_logs = {
    .name = "logs",
    .usage = "[-f] [-n LINES] VM",
    .summary = "print a VM's console output (-f: follow it)",
    .exec = logs_exec,
};
