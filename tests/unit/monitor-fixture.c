/* The fixture of test-monitor (see monitor-fixture.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "monitor-fixture.h"

#ifndef MONITOR_PATH
#error "MONITOR_PATH must name the built unikd-monitor"
#endif

static void
on_hello(void *arg, pid_t pid, pid_t monitor_pid, int64_t started_at)
{
	struct fixture *f = arg;

	assert_true(started_at > 0);
	f->hellos++;
	f->pid = pid;
	f->monitor_pid = monitor_pid;
	if (f->free_on_hello) {
		monitor_free(f->m);
		f->m = NULL;
	}
	event_base_loopbreak(f->base);
}

static void
on_error(void *arg, const char *message)
{
	struct fixture *f = arg;

	f->errored++;
	snprintf(f->error, sizeof(f->error), "%s", message);
	event_base_loopbreak(f->base);
}

static void
on_output(void *arg, const void *buf, size_t len)
{
	struct fixture *f = arg;

	if (f->outlen + len <= sizeof(f->output))
		memcpy(f->output + f->outlen, buf, len);
	f->outlen += len;
}

static void
on_exit_cb(void *arg, const struct monitor_exit *ex)
{
	struct fixture *f = arg;

	f->exited++;
	f->ex = *ex;
	event_base_loopbreak(f->base);
}

static void
on_lost(void *arg)
{
	struct fixture *f = arg;

	f->lost++;
	event_base_loopbreak(f->base);
}

const struct monitor_cbs cbs = {
    .hello = on_hello,
    .error = on_error,
    .output = on_output,
    .exit = on_exit_cb,
    .lost = on_lost,
};

static char *const test_env[] = {(char *)"PATH=/usr/bin:/bin", NULL};

int
fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-monitor.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* The console directory does not exist yet: the monitor makes it. */
	snprintf(
	    f->console, sizeof(f->console), "%s/vms/t1/console.log", f->dir);
	snprintf(f->console1, sizeof(f->console1), "%s.1", f->console);
	snprintf(f->socket, sizeof(f->socket), "%s/t1.sock", f->dir);
	snprintf(f->exit_file, sizeof(f->exit_file), "%s/t1.exit", f->dir);
	f->base = event_base_new();
	assert_non_null(f->base);
	*state = f;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
fx_teardown(void **state)
{
	struct fixture *f = *state;

	monitor_free(f->m);
	event_base_free(f->base);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

void
spec_init(struct fixture *f, struct monitor_spec *spec, char *const *argv)
{
	memset(spec, 0, sizeof(*spec));
	spec->vm = "t1";
	spec->argv = argv;
	spec->env = test_env;
	spec->uid = getuid();
	spec->gid = getgid();
	spec->console = f->console;
	spec->console_max = 1 << 20;
	spec->console_files = 2;
	spec->socket = f->socket;
	spec->exit_file = f->exit_file;
	spec->monitor_path = MONITOR_PATH;
}

void
run_loop(struct fixture *f)
{
	struct timeval tv = {.tv_sec = 10};

	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

void
spawn(struct fixture *f, const struct monitor_spec *spec)
{
	char err[256] = "";

	if (monitor_spawn(f->base, spec, &cbs, f, &f->m, err, sizeof(err)) ==
	    -1)
		fail_msg("monitor_spawn: %s", err);
}

void
wait_exit(struct fixture *f)
{
	while (f->exited == 0 && f->errored == 0 && f->lost == 0)
		run_loop(f);
	assert_int_equal(f->lost, 0);
	assert_int_equal(f->errored, 0);
	assert_int_equal(f->exited, 1);
}

size_t
read_file(const char *path, char *buf, size_t size)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	n = fread(buf, 1, size - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return n;
}
