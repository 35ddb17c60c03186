/*
 * unikd's side of a VM monitor: spawn unikd-monitor detached (posix_spawn,
 * then it forks itself away, so it is never unikd's child), hand it the
 * spec and the device fds, or connect to one that already runs; then turn
 * its packets into callbacks on the event loop. See monitor-proto.h for the protocol.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
static size_t monitor_nfds;

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

static int
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

static json_t *
monitor_spec_strings(char *const *v)
{
	json_t *arr = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(arr, json_string(*v));
	return arr;
}

static json_t *
monitor_spec_ints(const int *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_integer(v[i]));
	return arr;
}

static json_t *
monitor_spec_gids(const gid_t *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_integer((json_int_t)v[i]));
	return arr;
}

static char *
monitor_spec_text(const struct monitor_spec *spec)
{
	json_t *obj;
	char *text;

	obj = json_pack("{s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:s, s:I,"
	                " s:I, s:s, s:s}",
	    "vm", spec->vm, "argv", monitor_spec_strings(spec->argv), "env",
	    monitor_spec_strings(spec->env), "fds",
	    monitor_spec_ints(spec->fd_targets, spec->nfds), "uid",
	    (json_int_t)spec->uid, "gid", (json_int_t)spec->gid, "groups",
	    monitor_spec_gids(spec->groups, spec->ngroups), "cpus",
	    monitor_spec_ints(spec->cpus, spec->ncpus), "console",
	    spec->console, "console_max", (json_int_t)spec->console_max,
	    "console_files", (json_int_t)spec->console_files, "socket",
	    spec->socket, "exit_file", spec->exit_file);
	if (obj == NULL)
		return NULL;
	/* the namespace and cgroup fds follow the tender's, in that order */
	if (spec->netns)
		json_object_set_new(obj, "netns", json_true());
	if (spec->ncgroups > 0)
		json_object_set_new(obj, "cgroups",
		    json_integer((json_int_t)spec->ncgroups));
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return text;
}

/*
 * The monitor's first process is posix_spawn'd (vfork-like: unikd's
 * memory is never copied) with the spec socket as MON_SPEC_FD, /dev/null
 * on 0-2 and nothing else open; it forks once and exits, so the monitor
 * is never unikd's child. That first process is reaped from the event
 * loop through a pidfd, so a start never waits for the monitor's exec.
 */
static void
monitor_reaped(evutil_socket_t fd, short what, void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;

	(void)what;
	while (waitpid(pid, NULL, WNOHANG) == -1 && errno == EINTR)
		;
	close(fd);
	monitor_nfds--;
}

static void
monitor_reap_later(struct event_base *base, pid_t pid)
{
	int pfd;

	/* pidfds are close-on-exec from the start. */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd != -1 &&
	    event_base_once(base, pfd, EV_READ, monitor_reaped,
	        (void *)(intptr_t)pid, NULL) == 0) {
		monitor_nfds++;
		return;
	}
	/* No pidfd (old kernel) or no memory: wait here, briefly. */
	if (pfd != -1)
		close(pfd);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

static int
monitor_exec(const char *path, const char *vm, int sock, pid_t *pid)
{
	char *const argv[] = {(char *)"unikd-monitor", (char *)vm, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	int rc;

	sigemptyset(&none);
	if ((rc = posix_spawnattr_init(&at)) != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&at);
		return rc;
	}
	/* sock is never MON_SPEC_FD here: dup2 onto itself would keep
	 * its close-on-exec flag. */
	if ((rc = posix_spawnattr_setflags(&at,
	         POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, sock, MON_SPEC_FD)) !=
	        0 ||
	    (rc = posix_spawn_file_actions_addopen(
	         &fa, 0, "/dev/null", O_RDWR, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, 0, 1)) != 0 ||
	    (rc = posix_spawn_file_actions_adddup2(&fa, 0, 2)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(
	         &fa, MON_SPEC_FD + 1)) != 0)
		goto out;
	rc = posix_spawn(pid, path, &fa, &at, argv, environ);
out:
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return rc;
}

static int
monitor_spec_check(const struct monitor_spec *spec, char *err, size_t errlen)
{
	size_t i;

	if (spec->nfds + spec->netns + spec->ncgroups > MON_MAX_FDS) {
		snprintf(err, errlen,
		    "too many fds for the monitor (%zu, max "
		    "%d)",
		    spec->nfds + spec->netns + spec->ncgroups, MON_MAX_FDS);
		return -1;
	}
	for (i = 0; i < spec->nfds; i++)
		if (spec->fd_targets[i] < 3) {
			snprintf(err, errlen, "fd target %d is below 3",
			    spec->fd_targets[i]);
			return -1;
		}
	if (spec->argv == NULL || spec->argv[0] == NULL) {
		snprintf(err, errlen, "empty tender argv");
		return -1;
	}
	return 0;
}

int
monitor_spawn(struct event_base *base, const struct monitor_spec *spec,
    const struct monitor_cbs *cbs, void *arg, struct monitor **out, char *err,
    size_t errlen)
{
	char *text = NULL;
	int sv[2] = {-1, -1}, saved, fd, rc, fds[MON_MAX_FDS];
	size_t nfds, i;
	pid_t pid;

	if (monitor_spec_check(spec, err, errlen) == -1) {
		errno = EINVAL;
		return -1;
	}
	if ((text = monitor_spec_text(spec)) == NULL) {
		snprintf(err, errlen, "cannot encode the monitor spec");
		errno = ENOMEM;
		return -1;
	}
	if (strlen(text) + 1 > MON_MSG_MAX) {
		snprintf(err, errlen,
		    "monitor spec too large (%zu bytes, max "
		    "%d): argv or env too long",
		    strlen(text) + 1, MON_MSG_MAX);
		errno = E2BIG;
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	if (sv[1] == MON_SPEC_FD) {
		if ((fd = fcntl(sv[1], F_DUPFD_CLOEXEC, MON_SPEC_FD + 1)) ==
		    -1) {
			snprintf(err, errlen, "dup: %s", strerror(errno));
			goto fail;
		}
		close(sv[1]);
		sv[1] = fd;
	}
	if ((rc = monitor_exec(spec->monitor_path, spec->vm, sv[1], &pid)) !=
	    0) {
		snprintf(err, errlen, "cannot start %s: %s",
		    spec->monitor_path, strerror(rc));
		errno = rc;
		goto fail;
	}
	close(sv[1]);
	sv[1] = -1;
	monitor_reap_later(base, pid);
	for (nfds = 0; nfds < spec->nfds; nfds++)
		fds[nfds] = spec->fds[nfds];
	if (spec->netns)
		fds[nfds++] = spec->netns_fd;
	for (i = 0; i < spec->ncgroups; i++)
		fds[nfds++] = spec->cgroup_fds[i];
	if (mon_io_send(sv[0], MON_SPEC, text, strlen(text), fds, nfds, 0) ==
	    -1) {
		snprintf(err, errlen, "cannot send the spec to %s: %s",
		    spec->monitor_path, strerror(errno));
		goto fail;
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1 ||
	    monitor_wrap(base, sv[0], cbs, arg, out) == -1) {
		snprintf(
		    err, errlen, "monitor connection: %s", strerror(errno));
		goto fail;
	}
	free(text);
	return 0;
fail:
	saved = errno;
	free(text);
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	errno = saved;
	return -1;
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
