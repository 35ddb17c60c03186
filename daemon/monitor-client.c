/*
 * unikd's side of a VM monitor: connect to one that runs (a new one is
 * started by monitor-spawn.c), then turn its packets into callbacks on
 * the event loop. See monitor-proto.h for the protocol.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "monitor-io.h"
#include "monitor-proto.h"
#include "monitor.h"
#include "monitor-client.h"

struct monitor {
	int fd;
	struct event *ev;
	struct monitor_cbs cbs;
	void *arg;
	bool done;        /* exit, error or lost was reported */
	bool dispatching; /* inside a callback */
	bool freed;       /* monitor_free() was called from a callback */
};

/* Open connections and pidfds in flight, for monitor_fds(). */
size_t monitor_nfds;

size_t
monitor_fds(void)
{
	return monitor_nfds;
}

static void
monitor_destroy(struct monitor *m)
{
	if (m->ev != NULL)
		event_free(m->ev);
	if (m->fd != -1) {
		close(m->fd);
		monitor_nfds--;
	}
	free(m);
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	if (m->dispatching) {
		/* Freed by monitor_read() once the callback returns. */
		m->freed = true;
		m->done = true;
		return;
	}
	monitor_destroy(m);
}

/* Marks the connection finished: no callback after this one. */
static void
monitor_finish(struct monitor *m)
{
	m->done = true;
	event_del(m->ev);
}

static void
monitor_on_hello(struct monitor *m, json_t *obj)
{
	json_int_t pid, mpid, started;

	if (json_unpack(obj, "{s:I, s:I, s:I}", "pid", &pid, "monitor_pid",
	        &mpid, "started_at", &started) == -1) {
		log_warnx("action=monitor error=bad hello message");
		return;
	}
	if (m->cbs.hello != NULL)
		m->cbs.hello(m->arg, (pid_t)pid, (pid_t)mpid, started);
}

static void
monitor_on_error(struct monitor *m, json_t *obj)
{
	const char *msg = "unknown error";

	json_unpack(obj, "{s:s}", "error", &msg);
	monitor_finish(m);
	if (m->cbs.error != NULL)
		m->cbs.error(m->arg, msg);
}

static int
monitor_parse_exit(json_t *obj, struct monitor_exit *ex)
{
	json_int_t pid, finished;
	int wstatus;

	if (json_unpack(obj, "{s:I, s:i, s:I}", "pid", &pid, "wstatus",
	        &wstatus, "finished_at", &finished) == -1) {
		errno = EINVAL;
		return -1;
	}
	ex->pid = (pid_t)pid;
	ex->wstatus = wstatus;
	ex->finished_at = finished;
	return 0;
}

static void
monitor_on_exit(struct monitor *m, json_t *obj)
{
	struct monitor_exit ex;

	if (monitor_parse_exit(obj, &ex) == -1) {
		log_warnx("action=monitor error=bad exit message");
		return;
	}
	monitor_finish(m);
	if (m->cbs.exit != NULL)
		m->cbs.exit(m->arg, &ex);
}

static void
monitor_lost(struct monitor *m)
{
	monitor_finish(m);
	if (m->cbs.lost != NULL)
		m->cbs.lost(m->arg);
}

/* Dispatches one packet to the callbacks. */
static void
monitor_dispatch(struct monitor *m, const char *buf, size_t len)
{
	json_t *obj = NULL;

	if (buf[0] == MON_OUTPUT) {
		if (m->cbs.output != NULL && len > 1)
			m->cbs.output(m->arg, buf + 1, len - 1);
		return;
	}
	obj = json_loadb(buf + 1, len - 1, 0, NULL);
	switch (buf[0]) {
	case MON_HELLO:
		monitor_on_hello(m, obj);
		break;
	case MON_ERROR:
		monitor_on_error(m, obj);
		break;
	case MON_EXIT:
		monitor_on_exit(m, obj);
		break;
	default:
		log_warnx(
		    "action=monitor error=unknown message type %d", buf[0]);
	}
	json_decref(obj);
}

static void
monitor_read(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *m = arg;
	char buf[MON_MSG_MAX];
	ssize_t n;

	(void)what;
	m->dispatching = true;
	while (!m->done) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n <= 0)
			monitor_lost(m);
		else
			monitor_dispatch(m, buf, (size_t)n);
	}
	m->dispatching = false;
	if (m->freed)
		monitor_destroy(m);
}

/*
 * Takes in, now, what the monitor has sent and unikd has not read yet.
 * The monitor appends output to the console log before it sends it, so
 * a reader of the log that then starts following live output must first
 * let the bytes still queued on the socket go to the watchers there
 * already; else it would get them twice.
 */
void
monitor_drain(struct monitor *m)
{
	if (m != NULL && !m->dispatching && !m->done)
		monitor_read(m->fd, EV_READ, m);
}

int
monitor_wrap(struct event_base *base, int fd, const struct monitor_cbs *cbs,
    void *arg, struct monitor **out)
{
	struct monitor *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->fd = fd;
	m->cbs = *cbs;
	m->arg = arg;
	monitor_nfds++;
	m->ev = event_new(base, fd, EV_READ | EV_PERSIST, monitor_read, m);
	if (m->ev == NULL || event_add(m->ev, NULL) == -1) {
		monitor_nfds--;
		m->fd = -1;
		monitor_destroy(m);
		errno = ENOMEM;
		return -1;
	}
	*out = m;
	return 0;
}

int
monitor_connect(struct event_base *base, const char *socket_path,
    const struct monitor_cbs *cbs, void *arg, struct monitor **out)
{
	int fd, saved;

	if ((fd = mon_io_connect(socket_path)) == -1)
		return -1;
	if (monitor_wrap(base, fd, cbs, arg, out) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return 0;
}

int
monitor_signal(struct monitor *m, int sig)
{
	char buf[64];
	int n;

	if (m->done || m->freed) {
		errno = ENOTCONN;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%c{\"signal\":%d}", MON_SIGNAL, sig);
	if (send(m->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == -1)
		return -1;
	return 0;
}

int
monitor_read_exit(const char *path, struct monitor_exit *ex)
{
	json_error_t jerr;
	json_t *obj;
	int rc;

	obj = json_load_file(path, 0, &jerr);
	if (obj == NULL) {
		/* jansson keeps no errno; the file may just be missing. */
		if (access(path, F_OK) == -1)
			return -1;
		errno = EINVAL;
		return -1;
	}
	rc = monitor_parse_exit(obj, ex);
	json_decref(obj);
	return rc;
}
