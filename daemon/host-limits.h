/*
 * Host limits as facts unikd checks before it makes anything: open files
 * (RLIMIT_NOFILE) here; a bridge's ports in network-ports.c.
 */
#ifndef UNIKD_HOST_LIMITS_H
#define UNIKD_HOST_LIMITS_H

#include <stddef.h>

#include <stdbool.h>
#include <stddef.h>

struct unikd;
struct uerr;

/* Raises the soft RLIMIT_NOFILE to the hard limit; at start, before any
 * fd is opened that should count. */
void limits_raise_nofile(struct unikd *);
/* Once the daemon holds its own fds (store, netlink, listeners): counts
 * them and, when limits.max_vms is not set, sizes it from the limit. */
void limits_settle(struct unikd *);
/* 503 "host limit: open files" unless a start that holds `transient`
 * fds while it runs and then keeps one (its monitor connection) fits. */
int limits_fds_check(struct unikd *, const char *vm, size_t transient,
    struct uerr *e);
/* Takes one more fd to keep open beyond a start (a cache's), counted in
 * every later check: false, taking none, unless every VM up to
 * limits.max_vms could still run its monitor. */
bool limits_fd_keep(struct unikd *);
/* Gives back one fd limits_fd_keep() took. */
void limits_fd_unkeep(struct unikd *);

#endif
