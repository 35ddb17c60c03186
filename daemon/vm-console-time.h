/*
 * Console lines with the time the monitor read them, from the console
 * index (console-index.h): `unikctl logs --since` and `--timestamps`.
 */
#ifndef UNIKD_VM_CONSOLE_TIME_H
#define UNIKD_VM_CONSOLE_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct evbuffer;

/*
 * Appends to out the console lines read at or after since_ms (unix ms;
 * 0: every line), only the last tail of those when tail >= 0, each
 * prefixed with its time and a space when stamps is set. A line takes
 * the time of the chunk its first byte came in.
 */
int vm_console_read_timed(struct vm *, long tail, int64_t since_ms,
    bool stamps, struct evbuffer *out);
/* For a follower with timestamps: appends buf to out with "TIME " at
 * each line start; *bol says whether the next byte starts a line. */
void vm_console_stamp(struct evbuffer *out, const void *buf, size_t len,
    int64_t ms, bool *bol);
/* "2024-05-01T12:00:00.123Z" */
void vm_console_time_format(int64_t ms, char *buf, size_t len);

#endif
