/*
 * The QMP client (qmp.h): a small state machine on a bufferevent. QEMU
 * sends one JSON object per line: the greeting {"QMP": {...}}, then for
 * each command {"return": ...} or {"error": {"class", "desc"}}, with
 * asynchronous {"event": ...} lines (POWERDOWN, SHUTDOWN...) interleaved,
 * which are skipped here. Each step re-arms a one-shot timer; its firing,
 * an error reply, EOF or a socket error ends the session with -1.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include "qmp.h"

/* A longer line than this is not QMP's. */
#define QMP_LINE_MAX 65536

enum qmp_step {
	QMP_GREETING,		/* waiting for {"QMP": ...} */
	QMP_CAPABILITIES,	/* waiting for qmp_capabilities' return */
	QMP_COMMAND,		/* waiting for the command's return */
};

struct qmp_session {
	struct bufferevent *bev;
	struct event *timer;
	enum qmp_step step;
	char command[32];
	qmp_done_cb done;
	void *arg;
};

void
qmp_cancel(struct qmp_session *s)
{
	if (s == NULL)
		return;
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->bev != NULL)
		bufferevent_free(s->bev);	/* closes the socket */
	free(s);
}

/* Frees the session, then tells its owner how it ended. */
static void
qmp_finish(struct qmp_session *s, int rc, const char *err)
{
	qmp_done_cb done = s->done;
	void *done_arg = s->arg;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", err);
	qmp_cancel(s);
	done(rc, msg, done_arg);
}

static void qmp_fail(struct qmp_session *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Ends the session with -1 and a reason. */
static void
qmp_fail(struct qmp_session *s, const char *fmt, ...)
{
	char err[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, sizeof(err), fmt, ap);
	va_end(ap);
	qmp_finish(s, -1, err);
}

/* Sends the next command and gives QEMU a fresh step timeout for it. */
static int
qmp_send(struct qmp_session *s, const char *command, enum qmp_step next)
{
	struct timeval tv = {
		.tv_sec = QMP_STEP_TIMEOUT_MS / 1000,
		.tv_usec = (QMP_STEP_TIMEOUT_MS % 1000) * 1000,
	};

	s->step = next;
	if (command != NULL &&
	    bufferevent_write(s->bev, "{\"execute\": \"", 13) == -1)
		return -1;
	if (command != NULL &&
	    (bufferevent_write(s->bev, command, strlen(command)) == -1 ||
	    bufferevent_write(s->bev, "\"}\n", 3) == -1))
		return -1;
	return evtimer_add(s->timer, &tv);
}

/* The reply to the step under way: on to the next step, or the end.
 * 1 when the session has ended (and is freed), else 0. */
static int
qmp_advance(struct qmp_session *s)
{
	if (s->step == QMP_COMMAND) {
		qmp_finish(s, 0, "");
		return 1;
	}
	if (qmp_send(s, s->step == QMP_GREETING ? "qmp_capabilities" :
	    s->command, (enum qmp_step)(s->step + 1)) == -1) {
		qmp_fail(s, "QMP send: %s", strerror(errno));
		return 1;
	}
	return 0;
}

/* One line from QEMU: 1 when the session has ended, else 0. */
static int
qmp_line(struct qmp_session *s, const char *line)
{
	json_t *o, *error;
	const char *desc;
	bool reply;

	if ((o = json_loads(line, 0, NULL)) == NULL)
		return 0;	/* not an object of QMP's: skipped */
	if ((error = json_object_get(o, "error")) != NULL) {
		desc = json_string_value(json_object_get(error, "desc"));
		qmp_fail(s, "QMP error: %s", desc ? desc : "(no description)");
		json_decref(o);
		return 1;
	}
	/* anything else (an event, an answer out of turn) is skipped */
	reply = json_object_get(o, s->step == QMP_GREETING ? "QMP" :
	    "return") != NULL;
	json_decref(o);
	return reply ? qmp_advance(s) : 0;
}

static void
qmp_on_read(struct bufferevent *bev, void *arg)
{
	struct qmp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	int done;

	while ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) != NULL) {
		done = qmp_line(s, line);
		free(line);
		if (done)
			return;
	}
	if (evbuffer_get_length(in) > QMP_LINE_MAX)
		qmp_fail(s, "QMP line longer than %d bytes", QMP_LINE_MAX);
}

static void
qmp_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct qmp_session *s = arg;

	(void)bev;
	/* QEMU may close the connection on quit before it answers */
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) &&
	    s->step == QMP_COMMAND &&
	    strcmp(s->command, "quit") == 0)
		qmp_finish(s, 0, "");
	else if (what & BEV_EVENT_EOF)
		qmp_fail(s, "QMP connection closed");
	else if (what & BEV_EVENT_ERROR)
		qmp_fail(s, "QMP connection: %s",
		    strerror(EVUTIL_SOCKET_ERROR()));
}

static void
qmp_on_timeout(int fd, short what, void *arg)
{
	struct qmp_session *s = arg;
	static const char *const waiting[] = {
		[QMP_GREETING] = "the greeting",
		[QMP_CAPABILITIES] = "qmp_capabilities",
		[QMP_COMMAND] = "the command",
	};

	(void)fd;
	(void)what;
	qmp_fail(s, "no QMP answer to %s within %d ms", waiting[s->step],
	    QMP_STEP_TIMEOUT_MS);
}

struct qmp_session *
qmp_start_fd(struct event_base *base, int fd, const char *command,
    qmp_done_cb done, void *arg, char *err, size_t errlen)
{
	struct qmp_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	snprintf(s->command, sizeof(s->command), "%s", command);
	s->done = done;
	s->arg = arg;
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (s->timer = evtimer_new(base, qmp_on_timeout, s)) == NULL ||
	    (s->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		goto fail;
	fd = -1;	/* the bufferevent's now */
	bufferevent_setcb(s->bev, qmp_on_read, NULL, qmp_on_event, s);
	if (bufferevent_enable(s->bev, EV_READ | EV_WRITE) == -1 ||
	    qmp_send(s, NULL, QMP_GREETING) == -1)
		goto fail;
	return s;
fail:
	snprintf(err, errlen, "QMP session: %s", strerror(errno));
	if (fd != -1)
		close(fd);
	qmp_cancel(s);
	return NULL;
}

struct qmp_session *
qmp_start(struct event_base *base, const char *path, const char *command,
    qmp_done_cb done, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A UNIX stream connect completes at once (or fails: EAGAIN when
	 * QEMU's backlog is full), so doing it here never waits. */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return qmp_start_fd(base, fd, command, done, arg, err, errlen);
}
