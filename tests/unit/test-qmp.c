/*
 * The QMP client on an event loop, against a socketpair standing in for
 * QEMU: a peer that answers gets qmp_capabilities then the command; a
 * peer that greets and falls silent, answers with an error or hangs up
 * ends the session with -1 within the step timeout, and the loop never
 * waits on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "qmp.h"

#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n"

/* How the fake QEMU behaves once it has greeted. */
enum peer_mode {
	PEER_ANSWERS,	/* {"return": {}} to everything, after an event */
	PEER_SILENT,	/* never says anything more */
	PEER_REFUSES,	/* an error to the command */
	PEER_HANGS_UP,	/* closes on the command */
};

struct peer {
	struct event_base *base;
	struct event *ev;
	int fd;
	enum peer_mode mode;
	char got[1024];		/* every line the client sent */
	int rc;			/* the session's outcome */
	char err[256];
	int done;		/* done's calls */
	double elapsed;		/* seconds from start to done */
	struct timespec t0;
};

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
peer_say(struct peer *p, const char *s)
{
	assert_int_equal(write(p->fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void
peer_on_read(int fd, short what, void *arg)
{
	struct peer *p = arg;
	char buf[512];
	ssize_t n;

	(void)what;
	if ((n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return;
	buf[n] = '\0';
	strncat(p->got, buf, sizeof(p->got) - strlen(p->got) - 1);
	if (p->mode == PEER_SILENT)
		return;
	if (strstr(buf, "qmp_capabilities") != NULL) {
		peer_say(p, "{\"return\": {}}\n");
		return;
	}
	if (p->mode == PEER_ANSWERS)
		peer_say(p, "{\"timestamp\": {}, \"event\": \"POWERDOWN\"}\n"
		    "{\"return\": {}}\n");
	else if (p->mode == PEER_REFUSES)
		peer_say(p, "{\"error\": {\"class\": \"GenericError\", "
		    "\"desc\": \"not now\"}}\n");
	else if (p->mode == PEER_HANGS_UP) {
		event_del(p->ev);
		close(p->fd);
		p->fd = -1;
	}
}

static void
on_done(int rc, const char *err, void *arg)
{
	struct peer *p = arg;

	p->rc = rc;
	snprintf(p->err, sizeof(p->err), "%s", err);
	p->done++;
	p->elapsed = since(&p->t0);
	event_base_loopbreak(p->base);
}

/* Runs command against a peer in mode until the session ends. */
static void
run(struct peer *p, enum peer_mode mode, const char *command)
{
	struct qmp_session *s;
	struct timeval limit = {.tv_sec = 5};
	char err[256];
	int sv[2];

	memset(p, 0, sizeof(*p));
	p->mode = mode;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->fd = sv[1];
	assert_non_null(p->base = event_base_new());
	p->ev = event_new(p->base, p->fd, EV_READ | EV_PERSIST, peer_on_read,
	    p);
	event_add(p->ev, NULL);
	peer_say(p, GREETING);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	s = qmp_start_fd(p->base, sv[0], command, on_done, p, err,
	    sizeof(err));
	assert_non_null(s);
	/* done is never called from within the start */
	assert_int_equal(p->done, 0);
	event_base_loopexit(p->base, &limit);
	event_base_dispatch(p->base);
	assert_int_equal(p->done, 1);
	event_free(p->ev);
	if (p->fd != -1)
		close(p->fd);
	event_base_free(p->base);
}

static void
test_answering_peer_gets_powerdown(void **state)
{
	struct peer p;
	const char *caps, *cmd;

	(void)state;
	run(&p, PEER_ANSWERS, "system_powerdown");
	assert_int_equal(p.rc, 0);
	caps = strstr(p.got, "{\"execute\": \"qmp_capabilities\"}\n");
	cmd = strstr(p.got, "{\"execute\": \"system_powerdown\"}\n");
	assert_non_null(caps);
	assert_non_null(cmd);
	assert_true(caps < cmd);
	assert_true(p.elapsed < 0.5);
}

static void
test_silent_peer_gives_up_within_step(void **state)
{
	struct peer p;

	(void)state;
	/* greets, then never answers qmp_capabilities */
	run(&p, PEER_SILENT, "system_powerdown");
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "no QMP answer to qmp_capabilities"));
	assert_null(strstr(p.got, "system_powerdown"));
	assert_true(p.elapsed >= QMP_STEP_TIMEOUT_MS / 1000.0 - 0.05);
	assert_true(p.elapsed < QMP_STEP_TIMEOUT_MS / 1000.0 + 0.5);
}

static void
test_error_reply_fails(void **state)
{
	struct peer p;

	(void)state;
	run(&p, PEER_REFUSES, "system_powerdown");
	assert_int_equal(p.rc, -1);
	assert_string_equal(p.err, "QMP error: not now");
}

static void
test_hang_up_ends_quit_but_not_powerdown(void **state)
{
	struct peer p;

	(void)state;
	/* QEMU may close the connection on quit before it answers */
	run(&p, PEER_HANGS_UP, "quit");
	assert_int_equal(p.rc, 0);
	run(&p, PEER_HANGS_UP, "system_powerdown");
	assert_int_equal(p.rc, -1);
	assert_string_equal(p.err, "QMP connection closed");
}

static void
test_greeting_never_comes(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval limit = {.tv_sec = 5};
	struct peer p = {.base = base};
	char err[256];
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	clock_gettime(CLOCK_MONOTONIC, &p.t0);
	assert_non_null(qmp_start_fd(base, sv[0], "quit", on_done, &p, err,
	    sizeof(err)));
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	assert_int_equal(p.done, 1);
	assert_int_equal(p.rc, -1);
	assert_non_null(strstr(p.err, "no QMP answer to the greeting"));
	assert_true(p.elapsed < QMP_STEP_TIMEOUT_MS / 1000.0 + 0.5);
	close(sv[1]);
	event_base_free(base);
}

static void
test_cancel_and_missing_socket(void **state)
{
	struct event_base *base = event_base_new();
	struct peer p = {.base = base};
	struct timeval tick = {.tv_usec = 100000};
	struct qmp_session *s;
	char err[256];
	int sv[2];

	(void)state;
	assert_null(qmp_start(base, "/nonexistent/q.qmp", "quit", on_done,
	    &p, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/q.qmp"));
	/* a cancelled session never calls done */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(s = qmp_start_fd(base, sv[0], "quit", on_done, &p,
	    err, sizeof(err)));
	qmp_cancel(s);
	event_base_loopexit(base, &tick);
	event_base_dispatch(base);
	assert_int_equal(p.done, 0);
	close(sv[1]);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answering_peer_gets_powerdown),
		cmocka_unit_test(test_silent_peer_gives_up_within_step),
		cmocka_unit_test(test_error_reply_fails),
		cmocka_unit_test(test_hang_up_ends_quit_but_not_powerdown),
		cmocka_unit_test(test_greeting_never_comes),
		cmocka_unit_test(test_cancel_and_missing_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
