/*
 * unikd-oci start and kill. start releases the container process waiting
 * on exec.fifo and reads, through the same FIFO, how its start of the VM
 * went, so it returns once the VM runs (or with unikd's reason). kill
 * sends a signal: before start to the container process (no VM runs
 * yet), after it to the VM through unikd.
 */
#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

int
oci_pidfd(const struct oci_state *st)
{
	int fd;

	if ((fd = (int)syscall(SYS_pidfd_open, st->pid, 0)) == -1)
		return -1;
	/* the pid may have been reused between the check and the open */
	if (oci_pid_start(st->pid) != st->pid_start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/* Reads the container process's answer until it closes the FIFO. */
static int
start_answer(int fifo, int pidfd, char *buf, size_t len)
{
	struct pollfd pfd[2] = {{.fd = fifo, .events = POLLIN},
	    {.fd = pidfd, .events = POLLIN}};
	size_t off = 0;
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP)) {
			n = read(fifo, buf + off, len - 1 - off);
			if (n == 0)
				break;
			if (n > 0)
				off += (size_t)n;
			if (n == -1 && errno != EAGAIN)
				return -1;
			if (off == len - 1)
				break;
			continue;
		}
		/* the process ended without a word (or before opening) */
		if (pfd[1].revents & POLLIN)
			break;
	}
	buf[off] = '\0';
	return 0;
}

static int
start_exec(struct oci *o, int argc, char **argv)
{
	char fifo[4096], answer[1200];
	struct oci_state st;
	int fd = -1, pidfd = -1, rc = 1;

	if (argc != 2)
		return oci_usage(&oci_cmd_start, "one container ID, please");
	if (oci_state_find(o, argv[1], &st) == -1)
		return 1;
	switch (oci_state_status(o, &st)) {
	case OCI_RUNNING:
		oci_error("cannot start an already running container");
		goto out;
	case OCI_STOPPED:
		oci_error("cannot start a container that has stopped");
		goto out;
	case OCI_CREATED:
		break;
	}
	oci_state_dir(o, st.id, "exec.fifo", fifo, sizeof(fifo));
	if ((pidfd = oci_pidfd(&st)) == -1) {
		oci_error("cannot start a container that has stopped");
		goto out;
	}
	/* non-blocking: a process that died would never open its end */
	if ((fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		oci_error("%s: %s", fifo, strerror(errno));
		goto out;
	}
	if (start_answer(fd, pidfd, answer, sizeof(answer)) == -1) {
		oci_error("%s: %s", fifo, strerror(errno));
		goto out;
	}
	unlink(fifo);
	answer[strcspn(answer, "\n")] = '\0';
	if (strcmp(answer, "0") == 0)
		rc = 0;
	else if (strncmp(answer, "1 ", 2) == 0)
		oci_error("cannot start vm %s: %s", st.vm, answer + 2);
	else
		oci_error("the container process of %s ended before the VM "
		          "started",
		    st.id);
out:
	if (fd != -1)
		close(fd);
	if (pidfd != -1)
		close(pidfd);
	oci_state_free(&st);
	return rc;
}

const struct oci_cmd oci_cmd_start = {
    .name = "start",
    .usage = "ID",
    .exec = start_exec,
};

static int
kill_exec(struct oci *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	struct oci_state st;
	int c, sig = SIGTERM, rc = 1;

	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1)
		if (c != 'a')
			return oci_usage(&oci_cmd_kill, "bad option");
	if (optind != argc - 1 && optind != argc - 2)
		return oci_usage(&oci_cmd_kill, "one container ID, please");
	if (optind == argc - 2 &&
	    (sig = oci_signal_parse(argv[optind + 1])) == -1)
		return oci_error("unknown signal '%s'", argv[optind + 1]);
	if (oci_state_find(o, argv[optind], &st) == -1)
		return 1;
	switch (oci_state_status(o, &st)) {
	case OCI_STOPPED:
		oci_error("container not running");
		break;
	case OCI_CREATED:
		/* no VM runs yet: the process waiting for start ends */
		if (kill(st.pid, sig) == -1)
			oci_error("kill %d: %s", (int)st.pid, strerror(errno));
		else
			rc = 0;
		break;
	case OCI_RUNNING:
		if (st.vm[0] == '\0') /* a sandbox: its process only */
			rc = kill(st.pid, sig) == -1
			         ? oci_error("kill %d: %s", (int)st.pid,
			               strerror(errno))
			         : 0;
		else if (oci_vm_signal(o, st.vm, sig) == 0)
			rc = 0;
		break;
	}
	oci_log(OCI_DEBUG, "kill %s %s: %s", st.id, oci_signal_name(sig),
	    rc == 0 ? "sent" : "failed");
	oci_state_free(&st);
	return rc;
}

const struct oci_cmd oci_cmd_kill = {
    .name = "kill",
    .usage = "[--all] ID [SIGNAL]",
    .exec = kill_exec,
};
