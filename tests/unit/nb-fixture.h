/*
 * What the netbackend kernel tests (test-nb-kernel, test-nb-bridge)
 * share: the handle, a bridge to put TAPs on, TAP parameters, and a run in
 * a private network namespace with its own sysfs.
 */
#ifndef UNIKD_TEST_NB_FIXTURE_H
#define UNIKD_TEST_NB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "netbackend.h"

#define BR "ukbr0"
#define NOBODY 65534

struct CMUnitTest;

extern struct nb *nb;

/* BR, MTU 9000, 10.99.0.1/24 (there already is fine). */
void bridge_up(void);
/* A TAP of VM web1's NIC service on BR, owned by nobody. */
void tap_params(struct nb_tap_params *p, const char *name, bool persist);
/* The first line of a sysfs file of link name, "" when missing. */
void sysfs_read(const char *name, const char *file, char *out, size_t len);
/* Whether link name has an IPv6 address. */
bool has_inet6(const char *name);
/* Opens an existing TAP by name, as solo5-spt does. */
int tap_open(const char *name);
/* Runs tests as root in a private network namespace with nb open; 77
 * (skipped) when not root or without namespaces. */
int nb_fixture_run(const char *name, const struct CMUnitTest *tests,
    size_t n);

#endif
