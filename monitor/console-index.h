/*
 * The console index: beside each console log file (console.log,
 * console.log.1, ...) the monitor keeps an index file (console.idx,
 * console.idx.1, ...) rotated together with it. For every chunk it reads
 * from the tender it appends one fixed-size record: where the chunk starts
 * in the log file and when it was read. unikd uses it for `logs --since`
 * and `logs --timestamps` (vm-console-time.c).
 */
#ifndef UNIKD_CONSOLE_INDEX_H
#define UNIKD_CONSOLE_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One record, 16 bytes, in the host's byte order (the file never leaves
 * the host). Records are in increasing offset order. */
struct console_idx_rec {
	uint64_t offset;	/* of the chunk's first byte in the log file */
	int64_t time_ms;	/* unix milliseconds when the monitor read it */
};

/* The index of the log file at log: "console.log" -> "console.idx",
 * "console.log.2" -> "console.idx.2", anything else + ".idx". */
static inline void
console_idx_path(const char *log, char *buf, size_t len)
{
	const char *dot = strstr(log, ".log");

	while (dot != NULL && strstr(dot + 1, ".log") != NULL)
		dot = strstr(dot + 1, ".log");
	if (dot == NULL || (dot[4] != '\0' && dot[4] != '.'))
		snprintf(buf, len, "%s.idx", log);
	else
		snprintf(buf, len, "%.*s.idx%s", (int)(dot - log), log,
		    dot + 4);
}

#endif
