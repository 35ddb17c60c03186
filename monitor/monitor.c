/*
 * unikd-monitor: the per-VM supervisor. It receives the tender's argv and
 * device fds from unikd (MON_SPEC on fd 3), execs the tender as the tender
 * user, copies its console to a size-capped, rotated log and to every
 * connected client, forwards signals to it, reaps it and records its exit
 * status. unikd spawns it and it forks away at once, so it is never
 * unikd's child and outlives unikd, which reconnects through the per-VM
 * listening socket named in the spec.
 *
 * One poll() loop over the console pipe, the listening socket, the clients
 * and a signalfd (SIGCHLD, SIGTERM); no timers.
 */
#include "config.h"

#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "monitor-internal.h"
#include "monitor-io.h"

static int
mon_send_json(int fd, char type, json_t *obj, int flags)
{
	char *text;
	int rc;

	if (obj == NULL || (text = json_dumps(obj, JSON_COMPACT)) == NULL) {
		json_decref(obj);
		errno = ENOMEM;
		return -1;
	}
	rc = mon_io_send(fd, type, text, strlen(text), NULL, 0, flags);
	free(text);
	json_decref(obj);
	return rc;
}

/* Creates the directories leading to path (not path itself). */
static int
mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static json_t *
hello_json(const struct mon *m)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "vm", m->spec.vm, "pid",
	    (json_int_t)m->pid, "monitor_pid", (json_int_t)getpid(),
	    "started_at", (json_int_t)m->started_at);
}

static void
client_drop(struct mon *m, size_t i)
{
	close(m->clients[i]);
	m->clients[i] = m->clients[--m->nclients];
}

static void
client_add(struct mon *m, int fd)
{
	if (m->nclients == MON_MAX_CLIENTS) {
		log_warnx(
		    "vm=%s action=accept error=too many clients", m->spec.vm);
		close(fd);
		return;
	}
	if (mon_send_json(fd, MON_HELLO, hello_json(m), MSG_DONTWAIT) == -1) {
		log_warn("vm=%s action=hello", m->spec.vm);
		close(fd);
		return;
	}
	m->clients[m->nclients++] = fd;
}

/* Reads one chunk of console output; returns 0 on EOF or EAGAIN. */
static ssize_t
console_read(struct mon *m)
{
	char buf[MON_MSG_MAX - 1];
	ssize_t n;
	size_t i;

	do
		n = read(m->pipe_fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		if (n == 0 || errno != EAGAIN) {
			close(m->pipe_fd);
			m->pipe_fd = -1;
		}
		return 0;
	}
	mon_console_append(&m->console, buf, (size_t)n);
	/* A client that does not keep up misses chunks; never block. */
	for (i = 0; i < m->nclients; i++)
		mon_io_send(m->clients[i], MON_OUTPUT, buf, (size_t)n, NULL, 0,
		    MSG_DONTWAIT);
	return n;
}

static void
client_read(struct mon *m, size_t i)
{
	char buf[256];
	json_t *obj;
	json_int_t sig;
	ssize_t n;

	n = recv(m->clients[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_drop(m, i);
		return;
	}
	buf[n] = '\0';
	if (buf[0] != MON_SIGNAL) {
		log_warnx(
		    "vm=%s error=unknown message type %d", m->spec.vm, buf[0]);
		return;
	}
	obj = json_loads(buf + 1, 0, NULL);
	if (json_unpack(obj, "{s:I}", "signal", &sig) == -1 || sig < 1 ||
	    sig >= NSIG) {
		log_warnx("vm=%s error=bad signal message", m->spec.vm);
	} else {
		log_info("vm=%s pid=%d action=signal signal=%d", m->spec.vm,
		    (int)m->pid, (int)sig);
		if (kill(-m->pid, (int)sig) == -1)
			log_warn("vm=%s action=kill", m->spec.vm);
	}
	json_decref(obj);
}

static void
mon_accept(struct mon *m)
{
	int fd;

	fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("vm=%s action=accept", m->spec.vm);
		return;
	}
	client_add(m, fd);
}

/* Sends the exit to a client, waiting a little if its buffer is full. */
static void
exit_send(int fd, const char *text)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};

	if (mon_io_send(
	        fd, MON_EXIT, text, strlen(text), NULL, 0, MSG_DONTWAIT) == 0 ||
	    errno != EAGAIN)
		return;
	if (poll(&pfd, 1, 1000) == 1)
		mon_io_send(
		    fd, MON_EXIT, text, strlen(text), NULL, 0, MSG_DONTWAIT);
}

/* Writes the exit record atomically: tmp file, fsync, rename. */
static int
exit_write(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (mon_io_write_all(fd, text, strlen(text)) == -1 || fsync(fd) == -1) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

static __attribute__((noreturn)) void
mon_finish(struct mon *m, int wstatus)
{
	json_t *obj;
	char *text;
	size_t i;

	while (m->pipe_fd != -1 && console_read(m) > 0)
		;
	obj = json_pack("{s:I, s:i, s:I}", "pid", (json_int_t)m->pid, "wstatus",
	    wstatus, "finished_at", (json_int_t)time(NULL));
	text = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		fatalx("vm=%s error=out of memory", m->spec.vm);
	if (exit_write(m->spec.exit_file, text) == -1)
		log_warn("vm=%s action=write file=%s", m->spec.vm,
		    m->spec.exit_file);
	/* Unlinked before MON_EXIT: a client that saw it finds no socket. */
	unlink(m->spec.socket);
	for (i = 0; i < m->nclients; i++)
		exit_send(m->clients[i], text);
	log_info("vm=%s pid=%d action=exit wstatus=%d", m->spec.vm, (int)m->pid,
	    wstatus);
	exit(0);
}

/* Handles SIGCHLD and SIGTERM from the signalfd. */
static void
mon_signals(struct mon *m)
{
	struct signalfd_siginfo si;
	int status;
	pid_t pid;

	while (read(m->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM) {
			log_info(
			    "vm=%s action=forward signal=SIGTERM", m->spec.vm);
			kill(-m->pid, SIGTERM);
		}
	}
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == m->pid)
			mon_finish(m, status);
}

static __attribute__((noreturn)) void
mon_loop(struct mon *m)
{
	struct pollfd pfd[3 + MON_MAX_CLIENTS];
	size_t i, n;

	for (;;) {
		pfd[0] = (struct pollfd){.fd = m->sig_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = m->pipe_fd, .events = POLLIN};
		pfd[2] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
		n = m->nclients;
		for (i = 0; i < n; i++)
			pfd[3 + i] = (struct pollfd){
			    .fd = m->clients[i], .events = POLLIN};
		if (poll(pfd, 3 + n, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("vm=%s action=poll", m->spec.vm);
		}
		if (pfd[1].revents != 0)
			console_read(m);
		/* Downwards: client_drop() moves the last client to i. */
		for (i = n; i-- > 0;) {
			if (pfd[3 + i].revents & POLLIN)
				client_read(m, i);
			else if (pfd[3 + i].revents != 0)
				client_drop(m, i);
		}
		if (pfd[2].revents & POLLIN)
			mon_accept(m);
		if (pfd[0].revents & POLLIN)
			mon_signals(m);
	}
}

/* Exits after a failed start: log line, MON_ERROR, no exit file. */
static __attribute__((noreturn)) void
mon_abort(struct mon *m, const char *msg)
{
	char line[1024];
	int n;

	log_warnx("vm=%s error=%s", m->spec.vm ? m->spec.vm : "?", msg);
	if (mon_console_is_open(&m->console)) {
		n = snprintf(line, sizeof(line), "unikd-monitor: %s\n", msg);
		mon_console_append(&m->console, line,
		    n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	if (m->listen_fd != -1)
		unlink(m->spec.socket);
	mon_send_json(
	    MON_SPEC_FD, MON_ERROR, json_pack("{s:s}", "error", msg), 0);
	exit(1);
}

static int
listen_open(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd, rc;

	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A monitor that still answers there owns the VM: do not steal. */
	if ((fd = mon_io_connect(path)) != -1 || errno == EAGAIN) {
		if (fd != -1)
			close(fd);
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (rc == -1 || chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		rc = errno;
		close(fd);
		errno = rc;
		return -1;
	}
	return fd;
}

/* Checks the credentials, opens the console log and the socket. */
static int
mon_prepare(struct mon *m, char *err, size_t errlen)
{
	const struct mon_spec *sp = &m->spec;

	if (geteuid() != 0 && (sp->uid != getuid() || sp->gid != getgid())) {
		snprintf(err, errlen,
		    "cannot run the tender as uid %u gid %u:"
		    " the monitor runs as uid %u, not root",
		    (unsigned)sp->uid, (unsigned)sp->gid, (unsigned)getuid());
		return -1;
	}
	mon_console_init(&m->console, sp->vm, sp->console, sp->console_max,
	    sp->console_files);
	if (mkdir_parents(sp->console, 0750) == -1 ||
	    mon_console_open(&m->console) == -1) {
		snprintf(err, errlen, "cannot open console log %s: %s",
		    sp->console, strerror(errno));
		return -1;
	}
	if (mkdir_parents(sp->socket, 0750) == -1 ||
	    (m->listen_fd = listen_open(sp->socket)) == -1) {
		snprintf(err, errlen, "cannot listen on %s: %s", sp->socket,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct mon m = {.listen_fd = -1,
	    .sig_fd = -1,
	    .pipe_fd = -1,
	    .console = {.log_fd = -1, .idx_fd = -1}};
	char err[1024];
	sigset_t set;

	if (argc > 1 && strcmp(argv[1], "--zygote") == 0)
		mon_zygote(argc, argv);
	/* unikd posix_spawn'd this process (or its zygote forked it) in a
	 * session of its own; the monitor is its child, so it is
	 * reparented at once and is never unikd's to reap. If the fork
	 * fails, unikd sees the spec socket close and reports the monitor
	 * lost. */
	switch (fork()) {
	case -1:
		return 1;
	case 0:
		break;
	default:
		_exit(0);
	}
	log_init("unikd-monitor", LOG_LEVEL_INFO);
	umask(027);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (m.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");
	if (fcntl(MON_SPEC_FD, F_SETFD, FD_CLOEXEC) == -1)
		fatal("spec socket fd %d", MON_SPEC_FD);
	if (mon_spec_recv(&m.spec, err, sizeof(err)) == -1 ||
	    mon_prepare(&m, err, sizeof(err)) == -1 ||
	    mon_tender_start(&m, err, sizeof(err)) == -1)
		mon_abort(&m, err);
	log_info("vm=%s pid=%d action=start tender=%s", m.spec.vm, (int)m.pid,
	    m.spec.argv[0]);
	if (mon_privs_drop(err, sizeof(err)) == -1) {
		/* fail closed: no tender under a monitor that kept root */
		kill(-m.pid, SIGKILL);
		mon_abort(&m, err);
	}
	fcntl(MON_SPEC_FD, F_SETFL, O_NONBLOCK);
	client_add(&m, MON_SPEC_FD);
	mon_loop(&m);
}
