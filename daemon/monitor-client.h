/*
 * What starting a monitor (monitor-spawn.c) shares with the connections
 * to monitors (monitor-client.c).
 */
#ifndef UNIKD_MONITOR_CLIENT_H
#define UNIKD_MONITOR_CLIENT_H

#include <stddef.h>

#include <event2/event.h>

#include "monitor.h"

/* The fds held by connections, pidfds in flight and the zygote's
 * socket (monitor_fds()). */
extern size_t monitor_nfds;

/* Makes the connection for fd (non-blocking, unikd's end of a monitor's
 * socket) and watches it on base; -1 with errno, fd left open. */
int monitor_wrap(struct event_base *base, int fd,
    const struct monitor_cbs *cbs, void *arg, struct monitor **out);

#endif
