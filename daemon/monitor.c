/*
 * unikd-monitor: the per-VM supervisor. It receives the tender's argv and
 * device fds from unikd (MON_SPEC on fd 3), execs the tender as the tender
 * user, copies its console to a size-capped, rotated log and to every
 * connected client, forwards signals to it, reaps it and records its exit
 * status. It is never unikd's child and outlives unikd, which reconnects
 * through the per-VM listening socket named in the spec.
 *
 * One poll() loop over the console pipe, the listening socket, the clients
 * and a signalfd (SIGCHLD, SIGTERM); no timers.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "monitor-console.h"
#include "monitor-proto.h"

#define MON_MAX_CLIENTS 32
#define MON_MAX_TARGET 1023 /* highest fd number a tender may get */

struct mon_spec {
	json_t *json; /* owns the strings below */
	const char *vm;
	char **argv;
	char **env;
	int fds[MON_MAX_FDS];
	int targets[MON_MAX_FDS];
	size_t nfds;
	uid_t uid;
	gid_t gid;
	cpu_set_t cpus;
	size_t ncpus;
	const char *console;
	uint64_t console_max; /* 0: never rotate */
	unsigned console_files;
	const char *socket;
	const char *exit_file;
};

struct mon {
	struct mon_spec spec;
	int listen_fd;
	int sig_fd;
	int pipe_fd; /* read end of the tender's stdout+stderr */
	struct mon_console console;
	pid_t pid;
	int64_t started_at;
	int clients[MON_MAX_CLIENTS];
	size_t nclients;
};

/* What the tender child reports on the error pipe when it cannot exec. */
enum tender_stage {
	STAGE_EXEC,
	STAGE_AFFINITY,
	STAGE_FDS,
	STAGE_CREDS,
	STAGE_PRIVS,
};

struct tender_failure {
	int stage;
	int err;
};

static const char *const tender_stage_names[] = {
    [STAGE_EXEC] = "exec",
    [STAGE_AFFINITY] = "cannot set CPU affinity",
    [STAGE_FDS] = "cannot set up fds",
    [STAGE_CREDS] = "cannot change uid/gid",
    [STAGE_PRIVS] = "cannot set no_new_privs/pdeathsig",
};

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Sends one packet: the type byte, then the payload. */
static int
mon_send(int fd, char type, const void *buf, size_t len, int flags)
{
	struct iovec iov[2] = {
	    {.iov_base = &type, .iov_len = 1},
	    {.iov_base = (void *)buf, .iov_len = len},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t n;

	do
		n = sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

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
	rc = mon_send(fd, type, text, strlen(text), flags);
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
		mon_send(
		    m->clients[i], MON_OUTPUT, buf, (size_t)n, MSG_DONTWAIT);
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

	if (mon_send(fd, MON_EXIT, text, strlen(text), MSG_DONTWAIT) == 0 ||
	    errno != EAGAIN)
		return;
	if (poll(&pfd, 1, 1000) == 1)
		mon_send(fd, MON_EXIT, text, strlen(text), MSG_DONTWAIT);
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
	if (write_all(fd, text, strlen(text)) == -1 || fsync(fd) == -1) {
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

/* Fills an array of strings pointing into the JSON; NULL-terminated. */
static char **
spec_strings(json_t *arr)
{
	char **v;
	size_t i;

	if (!json_is_array(arr) ||
	    (v = calloc(json_array_size(arr) + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(arr); i++) {
		if (!json_is_string(json_array_get(arr, i))) {
			free(v);
			return NULL;
		}
		v[i] = (char *)json_string_value(json_array_get(arr, i));
	}
	return v;
}

static int
spec_ints(json_t *arr, int *out, size_t max, size_t *n, int lo, int hi)
{
	json_int_t v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -1;
	for (i = 0; i < json_array_size(arr); i++) {
		if (!json_is_integer(json_array_get(arr, i)))
			return -1;
		v = json_integer_value(json_array_get(arr, i));
		if (v < lo || v > hi)
			return -1;
		out[i] = (int)v;
	}
	*n = i;
	return 0;
}

static int
spec_parse(struct mon_spec *sp, const char *text, size_t len, size_t nfds,
    char *err, size_t errlen)
{
	json_t *argv, *env, *fds, *cpus;
	json_int_t uid, gid, cmax, cfiles;
	int cpu[CPU_SETSIZE];
	size_t i, j, n;

	sp->json = json_loadb(text, len, 0, NULL);
	if (json_unpack(sp->json,
	        "{s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:s,"
	        " s:I, s:I, s:s, s:s}",
	        "vm", &sp->vm, "argv", &argv, "env", &env, "fds", &fds, "uid",
	        &uid, "gid", &gid, "cpus", &cpus, "console", &sp->console,
	        "console_max", &cmax, "console_files", &cfiles, "socket",
	        &sp->socket, "exit_file", &sp->exit_file) == -1)
		goto bad;
	sp->argv = spec_strings(argv);
	sp->env = spec_strings(env);
	if (sp->argv == NULL || sp->argv[0] == NULL || sp->argv[0][0] == '\0' ||
	    sp->env == NULL || uid < 0 || uid > UINT32_MAX - 1 || gid < 0 ||
	    gid > UINT32_MAX - 1 || cmax < 0 || cfiles < 0 || cfiles > 1000)
		goto bad;
	if (spec_ints(fds, sp->targets, MON_MAX_FDS, &n, 3, MON_MAX_TARGET) ||
	    n != nfds)
		goto bad;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (sp->targets[i] == sp->targets[j])
				goto bad;
	if (spec_ints(cpus, cpu, CPU_SETSIZE, &sp->ncpus, 0, CPU_SETSIZE - 1))
		goto bad;
	CPU_ZERO(&sp->cpus);
	for (i = 0; i < sp->ncpus; i++)
		CPU_SET(cpu[i], &sp->cpus);
	sp->nfds = n;
	sp->uid = (uid_t)uid;
	sp->gid = (gid_t)gid;
	sp->console_max = (uint64_t)cmax;
	sp->console_files = (unsigned)cfiles;
	return 0;
bad:
	snprintf(err, errlen, "invalid spec (%zu fds received)", nfds);
	return -1;
}

/* Receives MON_SPEC and the device fds on the spec socket. */
static int
spec_recv(struct mon_spec *sp, char *err, size_t errlen)
{
	char buf[MON_MSG_MAX];
	union {
		char b[CMSG_SPACE(sizeof(int) * MON_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.b,
	    .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *c;
	size_t k, nfds = 0;
	ssize_t n;

	do
		n = recvmsg(MON_SPEC_FD, &msg, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		snprintf(err, errlen, "cannot receive spec: %s",
		    n == 0 ? "connection closed" : strerror(errno));
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) &&
		            nfds < MON_MAX_FDS;
		     k++)
			memcpy(&sp->fds[nfds++], CMSG_DATA(c) + k * sizeof(int),
			    sizeof(int));
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC) || buf[0] != MON_SPEC) {
		snprintf(err, errlen, "invalid spec message");
		return -1;
	}
	return spec_parse(sp, buf + 1, (size_t)n - 1, nfds, err, errlen);
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
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
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

/* Closes every fd from first up. */
static void
close_from(int first)
{
	long max, fd;

	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = first; fd < (max > 0 ? max : 65536); fd++)
		close((int)fd);
}

/*
 * In the child: puts the devices at their targets, /dev/null on stdin,
 * the console pipe on stdout and stderr, keeps the error pipe (CLOEXEC)
 * just above the targets, and closes the rest.
 */
static int
tender_fds(const struct mon_spec *sp, int out_w, int *err_w)
{
	int src[MON_MAX_FDS], top = 2, nul, out, errp, fd;
	size_t i;

	for (i = 0; i < sp->nfds; i++)
		if (sp->targets[i] > top)
			top = sp->targets[i];
	/* Everything moves above the targets first, so no dup2 below
	 * overwrites an fd still to be placed. */
	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    (nul = fcntl(nul, F_DUPFD_CLOEXEC, top + 2)) == -1 ||
	    (out = fcntl(out_w, F_DUPFD_CLOEXEC, top + 2)) == -1 ||
	    (errp = fcntl(*err_w, F_DUPFD_CLOEXEC, top + 2)) == -1)
		return -1;
	for (i = 0; i < sp->nfds; i++)
		if ((src[i] = fcntl(sp->fds[i], F_DUPFD_CLOEXEC, top + 2)) ==
		    -1)
			return -1;
	for (i = 0; i < sp->nfds; i++)
		if (dup2(src[i], sp->targets[i]) == -1)
			return -1;
	if (dup2(nul, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1 ||
	    dup3(errp, top + 1, O_CLOEXEC) == -1)
		return -1;
	*err_w = top + 1;
	for (fd = 3; fd <= top; fd++) {
		for (i = 0; i < sp->nfds && sp->targets[i] != fd; i++)
			;
		if (i == sp->nfds)
			close(fd);
	}
	close_from(top + 2);
	return 0;
}

static __attribute__((noreturn)) void
tender_fail(int err_w, int stage)
{
	struct tender_failure f = {.stage = stage, .err = errno};

	write_all(err_w, &f, sizeof(f));
	_exit(127);
}

/* The tender child, between fork and exec. */
static __attribute__((noreturn)) void
tender_child(const struct mon_spec *sp, int out_w, int err_w, pid_t monitor)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (sp->ncpus > 0 &&
	    sched_setaffinity(0, sizeof(sp->cpus), &sp->cpus) == -1)
		tender_fail(err_w, STAGE_AFFINITY);
	if (tender_fds(sp, out_w, &err_w) == -1)
		tender_fail(err_w, STAGE_FDS);
	if (geteuid() == 0 &&
	    (setgroups(0, NULL) == -1 || setgid(sp->gid) == -1 ||
	        setuid(sp->uid) == -1))
		tender_fail(err_w, STAGE_CREDS);
	/* After the uid change, which clears the parent-death signal. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		tender_fail(err_w, STAGE_PRIVS);
	if (getppid() != monitor)
		_exit(127); /* the monitor died already */
	execve(sp->argv[0], sp->argv, sp->env);
	tender_fail(err_w, STAGE_EXEC);
}

/* Forks and execs the tender; waits until the exec succeeded or failed. */
static int
tender_start(struct mon *m, char *err, size_t errlen)
{
	struct tender_failure f;
	int out[2], errp[2];
	pid_t me = getpid();
	ssize_t n;
	size_t i;

	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	m->started_at = time(NULL);
	if ((m->pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (m->pid == 0)
		tender_child(&m->spec, out[1], errp[1], me);
	setpgid(m->pid, m->pid); /* so kill(-pid) works at once */
	close(out[1]);
	close(errp[1]);
	for (i = 0; i < m->spec.nfds; i++)
		close(m->spec.fds[i]);
	m->pipe_fd = out[0];
	fcntl(m->pipe_fd, F_SETFL, O_NONBLOCK);
	do
		n = read(errp[0], &f, sizeof(f));
	while (n == -1 && errno == EINTR);
	close(errp[0]);
	if (n != (ssize_t)sizeof(f))
		return 0;
	waitpid(m->pid, NULL, 0);
	if (f.stage == STAGE_EXEC)
		snprintf(err, errlen, "cannot start %s: %s", m->spec.argv[0],
		    strerror(f.err));
	else
		snprintf(err, errlen, "cannot start %s: %s: %s",
		    m->spec.argv[0], tender_stage_names[f.stage],
		    strerror(f.err));
	return -1;
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

	(void)argc;
	(void)argv;
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
	if (spec_recv(&m.spec, err, sizeof(err)) == -1 ||
	    mon_prepare(&m, err, sizeof(err)) == -1 ||
	    tender_start(&m, err, sizeof(err)) == -1)
		mon_abort(&m, err);
	log_info("vm=%s pid=%d action=start tender=%s", m.spec.vm, (int)m.pid,
	    m.spec.argv[0]);
	fcntl(MON_SPEC_FD, F_SETFL, O_NONBLOCK);
	client_add(&m, MON_SPEC_FD);
	mon_loop(&m);
}
