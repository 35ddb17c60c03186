/*
 * unikd's side of a VM monitor (monitor-client.c): spawn one, connect to
 * one that is already running, send it signals, and get its hello, console
 * output and exit through callbacks on the event loop.
 */
#ifndef UNIKD_MONITOR_H
#define UNIKD_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct monitor;

struct monitor_spec {
	const char *vm;
	char *const *argv;	/* NULL-terminated; argv[0] is the binary path */
	char *const *env;	/* NULL-terminated */
	const int *fds;		/* open fds handed to the tender ... */
	const int *fd_targets;	/* ... at these numbers (>= 3) */
	size_t nfds;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* supplementary groups; ngroups 0: none */
	size_t ngroups;
	const int *cpus;	/* CPUs to pin the tender to; ncpus 0: none */
	size_t ncpus;
	const char *console;	/* console log path */
	uint64_t console_max;	/* bytes per file before rotation */
	unsigned console_files;	/* rotated files kept */
	const char *socket;	/* per-VM listening socket path */
	const char *exit_file;	/* exit record path */
	const char *monitor_path; /* the unikd-monitor binary */
	bool netns;		/* the tender runs in the network namespace */
	int netns_fd;		/* ... open here (when netns) */
	const int *cgroup_fds;	/* cgroup directories the tender joins */
	size_t ncgroups;
};

struct monitor_exit {
	pid_t pid;
	int wstatus;		/* raw, from waitpid() */
	int64_t finished_at;	/* unix seconds */
};

struct monitor_cbs {
	/* The tender runs (after spawn or on connect). */
	void (*hello)(void *arg, pid_t pid, pid_t monitor_pid,
	    int64_t started_at);
	/* The tender could not be started; the monitor is gone. */
	void (*error)(void *arg, const char *message);
	void (*output)(void *arg, const void *buf, size_t len);
	void (*exit)(void *arg, const struct monitor_exit *ex);
	/* The connection closed without an exit or error message. */
	void (*lost)(void *arg);
};

/*
 * Forks the monitor (detached: never unikd's child) and sends it the spec.
 * Returns 0 and the connection in *out; the hello (or error) arrives later
 * through cbs. The caller keeps ownership of spec->fds and may close them
 * once this returns. -1 with errno and a message in err on failure.
 */
int monitor_spawn(struct event_base *, const struct monitor_spec *spec,
    const struct monitor_cbs *cbs, void *arg, struct monitor **out,
    char *err, size_t errlen);

/*
 * Connects to a running monitor's socket. -1 with errno ENOENT or
 * ECONNREFUSED when no monitor listens there.
 */
int monitor_connect(struct event_base *, const char *socket_path,
    const struct monitor_cbs *cbs, void *arg, struct monitor **out);

/* Asks the monitor to send sig to the tender's process group. */
int monitor_signal(struct monitor *, int sig);
void monitor_drain(struct monitor *);
/* The fds the monitor connections hold now, with those that still reap a
 * monitor's first process: what the open-file budget counts. */
size_t monitor_fds(void);

/* Closes the connection (the monitor and its tender keep running). No
 * callback is called after this. */
void monitor_free(struct monitor *);

/* Reads an exit file written by a monitor: 0, or -1 with errno (ENOENT). */
int monitor_read_exit(const char *path, struct monitor_exit *ex);

#endif
