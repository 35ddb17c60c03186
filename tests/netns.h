/*
 * A network namespace of the test's own, so kernel tests and benchmarks
 * never touch the host's links.
 */
#ifndef UNIKD_TEST_NETNS_H
#define UNIKD_TEST_NETNS_H

#include <stdbool.h>

/* Moves the process into a new network namespace with lo up; with
 * sysfs, also a private mount namespace whose /sys shows that network
 * namespace's links. -1 with errno set. */
int test_netns_enter(bool sysfs);

#endif
