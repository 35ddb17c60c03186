/*
 * The monitor's console log: appends the tender's output to console.log,
 * rotates it at a size (console.log -> console.log.1 -> ... .N), and keeps
 * the console index (console-index.h) beside it, rotated with it.
 */
#ifndef UNIKD_MONITOR_CONSOLE_H
#define UNIKD_MONITOR_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct mon_console {
	const char *vm;		/* for log lines */
	const char *path;	/* .../console.log */
	uint64_t max;		/* bytes per file; 0: never rotate */
	unsigned files;		/* rotated files kept */
	int log_fd;		/* -1 when closed or after a failed reopen */
	int idx_fd;		/* -1 when closed; the log goes on without */
	uint64_t log_size;
};

/* Sets up c (closed) for the log at path. */
void mon_console_init(struct mon_console *c, const char *vm,
    const char *path, uint64_t max, unsigned files);
/* Opens (creating) the log and its index; -1 with errno. */
int mon_console_open(struct mon_console *c);
/* Appends buf, read from the tender just now, rotating at max bytes. */
void mon_console_append(struct mon_console *c, const char *buf, size_t len);
/* True when the log is open. */
int mon_console_is_open(const struct mon_console *c);

#endif
