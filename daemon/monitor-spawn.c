/*
 * Starting a VM's monitor: unikd-monitor runs detached (its first process
 * forks it away, so it is never unikd's child) and gets the spec and the
 * device fds on a socketpair, which then stays open as unikd's first
 * connection to it (monitor-client.c). See monitor-proto.h.
 *
 * The monitor's first process is forked by the zygote, one `unikd-monitor
 * --zygote` that unikd spawns at the first start and keeps
 * (monitor/monitor-zygote.c): a fork of that small idle process costs
 * about a tenth of an exec of the monitor, which was most of a start's
 * CPU after the tender's own exec. The zygote is replaced when the
 * monitor binary changes (an upgrade, or another path after a reload) or
 * when it is gone; when none can be had, the monitor is exec'd directly.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "monitor-client.h"
#include "monitor-io.h"
#include "monitor-proto.h"
#include "monitor.h"

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
monitor_exec(const char *path, char *const *argv, int sock, pid_t *pid)
{
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

/* A SEQPACKET pair, both close-on-exec, sv[1] never MON_SPEC_FD (the
 * spawned side's dup2 onto itself would keep close-on-exec). */
static int
monitor_socketpair(int sv[2])
{
	int fd, saved;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if (sv[1] != MON_SPEC_FD)
		return 0;
	fd = fcntl(sv[1], F_DUPFD_CLOEXEC, MON_SPEC_FD + 1);
	saved = errno;
	close(sv[1]);
	sv[1] = fd;
	if (fd == -1) {
		close(sv[0]);
		sv[0] = -1;
		errno = saved;
		return -1;
	}
	return 0;
}

/* The zygote: unikd's end of its socketpair and the binary it runs. */
static struct {
	int fd;			/* -1: none */
	char path[PATH_MAX];
	struct stat st;
} zygote = {.fd = -1};

static void
zygote_forget(void)
{
	if (zygote.fd == -1)
		return;
	close(zygote.fd);	/* it exits at the end of file */
	zygote.fd = -1;
	monitor_nfds--;
}

/* True when the zygote runs what path names now. */
static bool
zygote_current(const char *path)
{
	struct stat st;

	return zygote.fd != -1 && strcmp(zygote.path, path) == 0 &&
	    stat(path, &st) == 0 && st.st_dev == zygote.st.st_dev &&
	    st.st_ino == zygote.st.st_ino && st.st_size == zygote.st.st_size &&
	    st.st_mtim.tv_sec == zygote.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == zygote.st.st_mtim.tv_nsec;
}

static int
zygote_start(struct event_base *base, const char *path)
{
	/* room in its argv for each child's "unikd-monitor NAME" */
	static char pad[MON_TITLE_MAX + 1];
	char *const argv[] = {(char *)"unikd-monitor", (char *)"--zygote", pad,
	    NULL};
	int sv[2], rc;
	pid_t pid;

	if (pad[0] == '\0')
		memset(pad, ' ', sizeof(pad) - 1);
	if (strlen(path) >= sizeof(zygote.path) || stat(path, &zygote.st) == -1)
		return -1;
	if (monitor_socketpair(sv) == -1)
		return -1;
	rc = monitor_exec(path, argv, sv[1], &pid);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		log_warnx("action=monitor-zygote error=\"%s: %s\"", path,
		    strerror(rc));
		return -1;
	}
	monitor_reap_later(base, pid);
	zygote.fd = sv[0];
	monitor_nfds++;
	memcpy(zygote.path, path, strlen(path) + 1);
	return 0;
}

/* Has the zygote fork vm's monitor with sock as its spec socket; -1 when
 * no zygote takes it (the caller execs the monitor itself). */
static int
zygote_fork(struct event_base *base, const char *path, const char *vm,
    int sock)
{
	int tries;

	for (tries = 0; tries < 2; tries++) {
		if (!zygote_current(path)) {
			zygote_forget();
			if (zygote_start(base, path) == -1)
				return -1;
		}
		/* a busy zygote (its queue full) is passed by, not waited for */
		if (mon_io_send(zygote.fd, MON_FORK, vm, strlen(vm), &sock, 1,
		        MSG_DONTWAIT) == 0)
			return 0;
		if (errno == EAGAIN)
			return -1;
		zygote_forget();	/* it is gone: one more try, new */
	}
	return -1;
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
	char *const argv[] = {(char *)"unikd-monitor", (char *)spec->vm, NULL};
	char *text = NULL;
	int sv[2] = {-1, -1}, saved, rc, fds[MON_MAX_FDS];
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
	if (monitor_socketpair(sv) == -1) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	if (zygote_fork(base, spec->monitor_path, spec->vm, sv[1]) == -1) {
		if ((rc = monitor_exec(spec->monitor_path, argv, sv[1],
		         &pid)) != 0) {
			snprintf(err, errlen, "cannot start %s: %s",
			    spec->monitor_path, strerror(rc));
			errno = rc;
			goto fail;
		}
		monitor_reap_later(base, pid);
	}
	close(sv[1]);
	sv[1] = -1;
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
