/*
 * unikd-monitor's state, shared by its files: monitor.c (the poll loop,
 * clients, console, exit record) and monitor-tender.c (receiving the spec,
 * starting the tender).
 */
#ifndef UNIKD_MONITOR_INTERNAL_H
#define UNIKD_MONITOR_INTERNAL_H

#include <sys/types.h>

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "monitor-console.h"
#include "monitor-proto.h"

#define MON_MAX_CLIENTS 32
#define MON_MAX_TARGET 1023 /* highest fd number a tender may get */

struct mon_spec {
	json_t *json; /* owns the strings below */
	const char *vm;
	char **argv;
	char **env;
	int fds[MON_MAX_FDS];
	int targets[MON_MAX_FDS];
	size_t nfds;		/* the tender's, at targets */
	int netns_fd;		/* a network namespace to join, else -1 */
	int cgroup_fds[MON_MAX_FDS];	/* cgroup directories to join */
	size_t ncgroups;
	uid_t uid;
	gid_t gid;
	gid_t groups[MON_MAX_GROUPS];
	size_t ngroups;
	cpu_set_t cpus;
	size_t ncpus;
	const char *console;
	uint64_t console_max; /* 0: never rotate */
	unsigned console_files;
	const char *socket;
	const char *exit_file;
};

struct mon {
	struct mon_spec spec;
	int listen_fd;
	int sig_fd;
	int pipe_fd; /* read end of the tender's stdout+stderr */
	struct mon_console console;
	pid_t pid;
	int64_t started_at;
	int clients[MON_MAX_CLIENTS];
	size_t nclients;
};

/* Receives MON_SPEC and the device fds on MON_SPEC_FD into sp; on error
 * -1 with the reason in err. */
int mon_spec_recv(struct mon_spec *sp, char *err, size_t errlen);
/* Clones and execs the tender of m->spec, its console on m->pipe_fd; waits
 * until the exec succeeded or failed (-1, the reason in err). */
int mon_tender_start(struct mon *m, char *err, size_t errlen);
/* monitor-privs.c: once the tender runs, keeps only CAP_KILL (none when
 * the monitor does not have it) with no_new_privs; -1 with the reason. */
int mon_privs_drop(char *err, size_t errlen);
/* `unikd-monitor --zygote ...`: serves MON_FORK packets on MON_SPEC_FD
 * until unikd closes it (then exits); returns 0 only in a forked child,
 * which goes on as a monitor (monitor-zygote.c). */
int mon_zygote(int argc, char **argv);

#endif
