/*
 * The tender driver table and what drivers share: naming an exit, freeing
 * a command, running a binary's version query with a time limit.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tender.h"

/* Defined in tender-*.c, one file per driver. */
extern const struct tender_driver tender_cloud_hypervisor;
extern const struct tender_driver tender_exec;
extern const struct tender_driver tender_firecracker;
extern const struct tender_driver tender_qemu;
extern const struct tender_driver tender_solo5_hvt;
extern const struct tender_driver tender_solo5_spt;

/* Sorted by name: /v1/info and error messages list them in this order. */
const struct tender_driver *const tender_drivers[] = {
    &tender_cloud_hypervisor,
    &tender_exec,
    &tender_firecracker,
    &tender_qemu,
    &tender_solo5_hvt,
    &tender_solo5_spt,
    NULL,
};

/* How long a version query may take before the binary is killed. */
#define TENDER_VERSION_TIMEOUT_MS 2000

const struct tender_driver *
tender_find(const char *name)
{
	const struct tender_driver *const *d;

	if (name == NULL)
		return NULL;
	for (d = tender_drivers; *d != NULL; d++)
		if (strcmp((*d)->name, name) == 0)
			return *d;
	return NULL;
}

void
tender_exit_reason(int wstatus, char *buf, size_t len)
{
	const char *abbrev;
	int code;

	if (WIFEXITED(wstatus)) {
		code = WEXITSTATUS(wstatus);
		if (code == 0)
			snprintf(buf, len, "exited 0");
		else if (code == 255)
			snprintf(buf, len, "aborted 255");
		else
			snprintf(buf, len, "failed %d", code);
	} else if (WIFSIGNALED(wstatus)) {
		abbrev = sigabbrev_np(WTERMSIG(wstatus));
		if (abbrev != NULL)
			snprintf(buf, len, "killed by SIG%s", abbrev);
		else
			snprintf(
			    buf, len, "killed by signal %d", WTERMSIG(wstatus));
	} else
		snprintf(buf, len, "unknown status 0x%x", (unsigned)wstatus);
}

int
tender_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}

void
tender_cmd_free(struct tender_cmd *cmd)
{
	size_t i;

	if (cmd == NULL)
		return;
	if (cmd->argv != NULL) {
		for (i = 0; cmd->argv[i] != NULL; i++)
			free(cmd->argv[i]);
		free(cmd->argv);
	}
	for (i = 0; i < cmd->nfds && i < TENDER_MAX_FDS; i++)
		if (cmd->fds[i] >= 0)
			close(cmd->fds[i]);
	cmd->argv = NULL;
	cmd->argc = 0;
	cmd->nfds = 0;
}

/*
 * The child of a version query: output and errors to the pipe, nothing
 * else inherited, then exec. An exec failure is reported as an errno on
 * errfd (close-on-exec, so a successful exec closes it silently).
 */
static void __attribute__((noreturn))
tender_version_child(const char *path, const char *arg, int outfd, int errfd)
{
	char *argv[3];
	int null, err;

	argv[0] = (char *)path;
	argv[1] = (char *)arg;
	argv[2] = NULL;
	if ((null = open("/dev/null", O_RDONLY)) != -1) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	if (dup2(outfd, STDOUT_FILENO) == -1 ||
	    dup2(outfd, STDERR_FILENO) == -1)
		goto fail;
	/* Everything else, the errfd included, closes at exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execv(path, argv);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) == -1)
		_exit(126);
	_exit(127);
}

static long
tender_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms;
}

/* Reads from fd until a newline, EOF, a full buf or the deadline. */
static size_t
tender_read_line(int fd, char *buf, size_t len, bool *timed_out)
{
	struct timespec deadline;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t have = 0;
	ssize_t n;
	int rc;

	*timed_out = false;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += TENDER_VERSION_TIMEOUT_MS / 1000;
	while (have + 1 < len && memchr(buf, '\n', have) == NULL) {
		rc = poll(&pfd, 1, (int)tender_ms_left(&deadline));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == 0) {
			*timed_out = true;
			break;
		}
		if (rc == -1)
			break;
		n = read(fd, buf + have, len - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

/* errno of a failed exec, read from the child's error pipe, or 0. */
static int
tender_exec_errno(int errfd)
{
	int err = 0;
	ssize_t n;

	do
		n = read(errfd, &err, sizeof(err));
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(err) ? err : 0;
}

int
tender_run_version(const char *path, const char *arg, char *buf, size_t len)
{
	char line[512];
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	int err, status;
	bool timed_out = false;
	pid_t pid;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1) {
		snprintf(buf, len, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((pid = fork()) == -1) {
		snprintf(buf, len, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		tender_version_child(path, arg, out[1], errp[1]);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	err = tender_exec_errno(errp[0]);
	if (err == 0)
		tender_read_line(out[0], line, sizeof(line), &timed_out);
	/* A binary that hangs or keeps talking is not waited for. */
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (err != 0) {
		snprintf(buf, len, "%s: %s", path, strerror(err));
		goto fail;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		snprintf(buf, len, "%s %s: %s", path, arg,
		    timed_out ? "no answer within 2 s" : "no output");
		goto fail;
	}
	snprintf(buf, len, "%s", line);
	close(out[0]);
	close(errp[0]);
	return 0;
fail:
	err = errno;
	if (out[0] != -1)
		close(out[0]);
	if (out[1] != -1)
		close(out[1]);
	if (errp[0] != -1)
		close(errp[0]);
	if (errp[1] != -1)
		close(errp[1]);
	errno = err;
	return -1;
}

int
tender_probe_version(const char *path, const char *arg, const char *needle,
    char *buf, size_t len)
{
	char line[256];

	if (tender_run_version(path, arg, line, sizeof(line)) == -1) {
		snprintf(buf, len, "%s", line);
		return -1;
	}
	if (strstr(line, needle) == NULL) {
		snprintf(buf, len, "%s %s: unexpected output: %s", path, arg,
		    line);
		return -1;
	}
	snprintf(buf, len, "%s", line);
	return 0;
}
