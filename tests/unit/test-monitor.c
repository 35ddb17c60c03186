/*
 * The monitor, end to end: monitor-client.c spawns the real unikd-monitor
 * (MONITOR_PATH) with small /bin/sh or /bin/sleep tenders, and the tests
 * check what unikd and an operator see: hello, console output, the
 * console log and its rotation, the exit record, signals, reconnection,
 * fds handed to the tender, and a tender that cannot start.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "monitor-io.h"
#include "monitor-proto.h"
#include "monitor.h"
#include "monitor-fixture.h"

static void
test_echo_exit(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {
	    (char *)"/bin/sh", (char *)"-c", (char *)"echo hi; exit 3", NULL};
	struct monitor_spec spec;
	struct monitor_exit ex;
	struct stat st;
	char buf[256];

	spec_init(f, &spec, argv);
	spawn(f, &spec);
	wait_exit(f);
	assert_int_equal(f->hellos, 1);
	assert_true(f->pid > 0);
	assert_true(f->monitor_pid > 0 && f->monitor_pid != getpid());
	assert_int_equal(f->outlen, 3);
	assert_memory_equal(f->output, "hi\n", 3);
	assert_int_equal(f->ex.pid, f->pid);
	assert_true(WIFEXITED(f->ex.wstatus));
	assert_int_equal(WEXITSTATUS(f->ex.wstatus), 3);
	assert_true(f->ex.finished_at > 0);

	read_file(f->console, buf, sizeof(buf));
	assert_string_equal(buf, "hi\n");
	assert_int_equal(stat(f->console, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(monitor_read_exit(f->exit_file, &ex), 0);
	assert_int_equal(ex.pid, f->pid);
	assert_int_equal(ex.wstatus, f->ex.wstatus);
	assert_int_equal(ex.finished_at, f->ex.finished_at);
	assert_int_equal(stat(f->socket, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_reconnect_and_kill(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/sleep", (char *)"30", NULL};
	struct monitor_spec spec;
	struct stat st;
	pid_t pid;

	spec_init(f, &spec, argv);
	f->free_on_hello = true;
	spawn(f, &spec);
	run_loop(f);
	assert_int_equal(f->hellos, 1);
	assert_null(f->m);
	pid = f->pid;
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(stat(f->socket, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	f->free_on_hello = false;
	assert_int_equal(
	    monitor_connect(f->base, f->socket, &cbs, f, &f->m), 0);
	run_loop(f);
	assert_int_equal(f->hellos, 2);
	assert_int_equal(f->pid, pid);

	assert_int_equal(monitor_signal(f->m, SIGKILL), 0);
	wait_exit(f);
	assert_true(WIFSIGNALED(f->ex.wstatus));
	assert_int_equal(WTERMSIG(f->ex.wstatus), SIGKILL);
	assert_int_equal(f->ex.pid, pid);

	monitor_free(f->m);
	f->m = NULL;
	assert_int_equal(
	    monitor_connect(f->base, f->socket, &cbs, f, &f->m), -1);
	assert_true(errno == ENOENT || errno == ECONNREFUSED);
}

/* SIGTERM to the monitor (as on shutdown) reaches the tender. */
static void
test_sigterm_forwarded(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/sleep", (char *)"30", NULL};
	struct monitor_spec spec;

	spec_init(f, &spec, argv);
	spawn(f, &spec);
	run_loop(f);
	assert_int_equal(f->hellos, 1);
	assert_int_equal(kill(f->monitor_pid, SIGTERM), 0);
	wait_exit(f);
	assert_true(WIFSIGNALED(f->ex.wstatus));
	assert_int_equal(WTERMSIG(f->ex.wstatus), SIGTERM);
}

/* True once pid is gone or a zombie nobody reaped yet. */
static bool
process_dead(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return true;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	return p == NULL || (p = strrchr(buf, ')')) == NULL || p[2] == 'Z' ||
	       p[2] == 'X';
}

/* A monitor killed by force takes its tender with it (no orphan VM). */
static void
test_monitor_killed(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/sleep", (char *)"30", NULL};
	struct monitor_spec spec;
	int i;

	spec_init(f, &spec, argv);
	spawn(f, &spec);
	run_loop(f);
	assert_int_equal(f->hellos, 1);
	assert_false(process_dead(f->pid));
	assert_int_equal(kill(f->monitor_pid, SIGKILL), 0);
	while (f->exited == 0 && f->errored == 0 && f->lost == 0)
		run_loop(f);
	assert_int_equal(f->lost, 1);
	assert_int_equal(f->exited, 0);
	for (i = 0; i < 200 && !process_dead(f->pid); i++)
		usleep(10000);
	assert_true(process_dead(f->pid));
	assert_int_equal(access(f->exit_file, F_OK), -1);
}

static void
test_fds_at_targets(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/sh", (char *)"-c",
	    (char *)"echo x >&5; echo y >&4; for n in 3 6 7; do "
	            "[ -e /proc/$$/fd/$n ] && exit 1; done; exit 0",
	    NULL};
	struct monitor_spec spec;
	int p5[2], p4[2], fds[2], targets[2] = {5, 4};
	char buf[16];

	assert_int_equal(pipe(p5), 0);
	assert_int_equal(pipe(p4), 0);
	fds[0] = p5[1];
	fds[1] = p4[1];
	spec_init(f, &spec, argv);
	spec.fds = fds;
	spec.fd_targets = targets;
	spec.nfds = 2;
	spawn(f, &spec);
	close(p5[1]);
	close(p4[1]);
	wait_exit(f);
	assert_int_equal(read(p5[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "x\n", 2);
	assert_int_equal(read(p4[0], buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "y\n", 2);
	/* No other fd (the monitor's spec socket...) leaks to the tender. */
	assert_int_equal(WEXITSTATUS(f->ex.wstatus), 0);
	close(p5[0]);
	close(p4[0]);
}

static void
test_missing_binary(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/nonexistent/tender", NULL};
	struct monitor_spec spec;
	struct stat st;
	char buf[512];

	spec_init(f, &spec, argv);
	spawn(f, &spec);
	while (f->exited == 0 && f->errored == 0 && f->lost == 0)
		run_loop(f);
	assert_int_equal(f->errored, 1);
	assert_int_equal(f->exited, 0);
	assert_int_equal(f->lost, 0);
	assert_non_null(strstr(f->error, "cannot start /nonexistent/tender"));
	assert_non_null(strstr(f->error, strerror(ENOENT)));
	assert_int_equal(stat(f->exit_file, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat(f->socket, &st), -1);
	read_file(f->console, buf, sizeof(buf));
	assert_non_null(
	    strstr(buf, "unikd-monitor: cannot start /nonexistent/tender: "));
}

static void
test_rotation(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/sh", (char *)"-c",
	    (char *)"i=100; while [ $i -lt 250 ]; do echo line-$i; "
	            "i=$((i+1)); done",
	    NULL};
	char expect[4096], got[4096], part[4096];
	struct monitor_spec spec;
	size_t n = 0, a, b;
	int i;

	for (i = 100; i < 250; i++)
		n += (size_t)sprintf(expect + n, "line-%d\n", i);
	assert_int_equal(n, 1350);
	spec_init(f, &spec, argv);
	spec.console_max = 1000;
	spec.console_files = 1;
	spawn(f, &spec);
	wait_exit(f);
	assert_int_equal(WEXITSTATUS(f->ex.wstatus), 0);
	assert_int_equal(f->outlen, n);
	assert_memory_equal(f->output, expect, n);

	a = read_file(f->console1, got, sizeof(got));
	b = read_file(f->console, part, sizeof(part));
	assert_int_equal(a, 1000);
	assert_int_equal(a + b, n);
	memcpy(got + a, part, b);
	assert_memory_equal(got, expect, n);
}

static off_t
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		fail_msg("cannot stat %s: %s", path, strerror(errno));
	return st.st_size;
}

/*
 * A client that does not read (a stuck unikd) must not stall the tender
 * or the console log: the tender runs to its end, the log keeps the
 * newest bytes in console_files rotated files, and the exit still comes.
 */
static void
test_stuck_client(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/usr/bin/head", (char *)"-c",
	    (char *)"3500000", (char *)"/dev/zero", NULL};
	struct monitor_spec spec;
	char path[160];
	int i;

	spec_init(f, &spec, argv);
	spec.console_max = 1000000;
	spec.console_files = 2;
	spawn(f, &spec);
	/* No event loop: nothing is read from the connection meanwhile. */
	for (i = 0; i < 500 && access(f->exit_file, F_OK) == -1; i++)
		usleep(20000);
	assert_int_equal(access(f->exit_file, F_OK), 0);
	wait_exit(f);
	assert_int_equal(WEXITSTATUS(f->ex.wstatus), 0);
	assert_true(f->outlen > 0 && f->outlen < 3500000);
	assert_int_equal(file_size(f->console), 500000);
	assert_int_equal(file_size(f->console1), 1000000);
	snprintf(path, sizeof(path), "%s.2", f->console);
	assert_int_equal(file_size(path), 1000000);
	snprintf(path, sizeof(path), "%s.3", f->console);
	assert_int_equal(access(path, F_OK), -1);
}

/* Not root: the monitor cannot run the tender as another user. */
static void
test_wrong_user(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/true", NULL};
	struct monitor_spec spec;

	if (geteuid() == 0)
		skip();
	spec_init(f, &spec, argv);
	spec.uid = getuid() + 1;
	spawn(f, &spec);
	while (f->exited == 0 && f->errored == 0 && f->lost == 0)
		run_loop(f);
	assert_int_equal(f->errored, 1);
	assert_non_null(strstr(f->error, "not root"));
	assert_int_equal(access(f->exit_file, F_OK), -1);
}

/* The tender's supplementary groups as its /proc/self/status says. */
static void
tender_groups(struct fixture *f, const gid_t *groups, size_t n, char *out,
    size_t len)
{
	char *const argv[] = {(char *)"/bin/sh", (char *)"-c",
	    (char *)"grep ^Groups: /proc/self/status", NULL};
	struct monitor_spec spec;

	spec_init(f, &spec, argv);
	spec.groups = groups;
	spec.ngroups = n;
	spawn(f, &spec);
	wait_exit(f);
	assert_true(WIFEXITED(f->ex.wstatus));
	assert_int_equal(WEXITSTATUS(f->ex.wstatus), 0);
	snprintf(out, len, "%.*s", (int)f->outlen, f->output);
	out[strcspn(out, "\n")] = '\0';
	/* kernels differ on a trailing space */
	while (len = strlen(out), len > 0 && out[len - 1] == ' ')
		out[len - 1] = '\0';
	monitor_free(f->m);
	f->m = NULL;
	f->exited = f->hellos = 0;
	f->outlen = 0;
}

/* Root: the tender gets the groups of the spec, and none without. */
static void
test_groups(void **state)
{
	struct fixture *f = *state;
	const gid_t groups[] = {4242, 4343};
	char line[256];

	if (geteuid() != 0)
		skip();
	tender_groups(f, groups, 2, line, sizeof(line));
	assert_string_equal(line, "Groups:\t4242 4343");
	tender_groups(f, NULL, 0, line, sizeof(line));
	assert_string_equal(line, "Groups:\t");
}

static void
test_bad_specs(void **state)
{
	struct fixture *f = *state;
	char *const argv[] = {(char *)"/bin/true", NULL};
	static char big[MON_MSG_MAX + 16];
	char *const big_argv[] = {(char *)"/bin/true", big, NULL};
	struct monitor_spec spec;
	int fd = 0, target = 2;
	char err[256];

	spec_init(f, &spec, argv);
	spec.fds = &fd;
	spec.fd_targets = &target;
	spec.nfds = 1;
	assert_int_equal(
	    monitor_spawn(f->base, &spec, &cbs, f, &f->m, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "target 2"));

	memset(big, 'a', sizeof(big) - 1);
	spec_init(f, &spec, big_argv);
	assert_int_equal(
	    monitor_spawn(f->base, &spec, &cbs, f, &f->m, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, E2BIG);
	assert_non_null(strstr(err, "too large"));
	assert_null(f->m);
}

/* Open fds of this process. */
static int
count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* mon_io_recv: fds past what the caller takes are closed, and a packet
 * too large for its buffer is EMSGSIZE with its fds closed. */
static void
test_recv_fds(void **state)
{
	int sv[2], fds[3], got[2], before;
	char buf[4];
	size_t nfds;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(fds), 0);
	fds[2] = dup(fds[0]);
	assert_int_equal(mon_io_send(sv[0], 'F', "ab", 2, fds, 3, 0), 0);
	before = count_fds();
	n = mon_io_recv(sv[1], buf, sizeof(buf), got, 2, &nfds);
	assert_int_equal(n, 3);
	assert_int_equal(nfds, 2);
	assert_memory_equal(buf, "Fab", 3);
	assert_int_equal(count_fds(), before + 2);	/* not 3 */
	close(got[0]);
	close(got[1]);

	assert_int_equal(mon_io_send(sv[0], 'F', "abcdef", 6, fds, 1, 0), 0);
	before = count_fds();
	n = mon_io_recv(sv[1], buf, sizeof(buf), got, 2, &nfds);
	assert_int_equal(n, -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(nfds, 0);
	assert_int_equal(count_fds(), before);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
	close(sv[0]);
	close(sv[1]);
}

#define TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_echo_exit),
	    TEST(test_reconnect_and_kill),
	    TEST(test_sigterm_forwarded),
	    TEST(test_monitor_killed),
	    TEST(test_fds_at_targets),
	    TEST(test_missing_binary),
	    TEST(test_rotation),
	    TEST(test_stuck_client),
	    TEST(test_wrong_user),
	    TEST(test_groups),
	    TEST(test_bad_specs),
	    cmocka_unit_test(test_recv_fds),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
