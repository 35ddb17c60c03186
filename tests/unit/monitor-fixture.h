/*
 * The fixture of test-monitor: a temporary directory for the console,
 * socket and exit record, an event loop, and callbacks that record what
 * unikd would see.
 */
#ifndef UNIKD_TEST_MONITOR_FIXTURE_H
#define UNIKD_TEST_MONITOR_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "monitor.h"

struct fixture {
	char dir[64];
	char console[128];
	char console1[128];
	char socket[128];
	char exit_file[128];
	struct event_base *base;
	struct monitor *m;
	/* What the callbacks saw. */
	int hellos;
	pid_t pid, monitor_pid;
	char output[8192];
	size_t outlen;
	int exited, errored, lost;
	struct monitor_exit ex;
	char error[512];
	bool free_on_hello; /* monitor_free() from inside the callback */
};

/* Callbacks that record into the fixture passed as their arg. */
extern const struct monitor_cbs cbs;
/* cmocka setup and teardown. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* A spec for VM "t1" running argv, with the fixture's paths. */
void spec_init(struct fixture *f, struct monitor_spec *spec,
    char *const *argv);
/* Runs the loop until a callback breaks it, at most 10 seconds. */
void run_loop(struct fixture *f);
/* monitor_spawn() with the recording callbacks; fails the test on error. */
void spawn(struct fixture *f, const struct monitor_spec *spec);
/* Runs the loop until the tender's exit was reported. */
void wait_exit(struct fixture *f);
/* The file into buf (NUL-terminated); its length. */
size_t read_file(const char *path, char *buf, size_t size);

#endif
