/*
 * Tender drivers: one small table of functions per tender (solo5-spt,
 * solo5-hvt, exec, ...), one file each (tender-*.c), listed in tender.c.
 * A driver checks its binary, builds the argv and fd map handed to the
 * monitor, says how to stop the tender gracefully, and names exits.
 */
#ifndef UNIKD_TENDER_H
#define UNIKD_TENDER_H

#include <stdbool.h>
#include <stddef.h>

struct vm_spec;
struct conf_tender;
struct uerr;

#define TENDER_MAX_FDS 64
/*
 * Block i of a VM's definition reaches the tender open, read-write and
 * locked, at this fd number (vm-run.c adds it to the command); a driver
 * names it in its argv (Solo5: --block:NAME=/dev/fd/N).
 */
#define TENDER_BLOCK_FD(i) (200 + (int)(i))

/* What a driver builds for one start of a VM. */
struct tender_cmd {
	char **argv;		/* NULL-terminated, malloc'd */
	size_t argc;
	int fds[TENDER_MAX_FDS];	/* open fds to hand over ... */
	int fd_targets[TENDER_MAX_FDS];	/* ... at these numbers */
	size_t nfds;
};

struct tender_driver {
	const char *name;		/* "solo5-spt" */
	const char *default_path;	/* when the config names none, or NULL */
	unsigned min_memory;		/* MiB */
	int stop_signal;		/* sent first by a graceful stop */
	/*
	 * Runs the binary's version query (at start-up and on SIGHUP only,
	 * never per request). 0 and a one-line version in buf, or -1 with
	 * a reason in buf.
	 */
	int (*probe)(const char *path, char *buf, size_t len);
	/*
	 * Builds the command for spec. tc is the [tender.NAME] section (path,
	 * argv template). -1 with e filled (422) on a mismatch.
	 */
	int (*command)(const struct vm_spec *spec, const struct conf_tender *tc,
	    const char *path, struct tender_cmd *cmd, struct uerr *e);
	/* Names an exit; NULL to use tender_exit_reason(). */
	void (*exit_reason)(int wstatus, char *buf, size_t len);
};

const struct tender_driver *tender_find(const char *name);
/* The table, NULL-terminated. */
extern const struct tender_driver *const tender_drivers[];

/* "exited 0", "failed 1", "aborted 255", "killed by SIGKILL". */
void tender_exit_reason(int wstatus, char *buf, size_t len);
/* The shell's number for an exit: the code, or 128 + the signal. */
int tender_exit_status(int wstatus);

void tender_cmd_free(struct tender_cmd *cmd);

/* Runs path with one argument and captures the first line of its output,
 * with a time limit; used by the probes. */
int tender_run_version(const char *path, const char *arg, char *buf,
    size_t len);

#endif
