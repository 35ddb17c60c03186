/*
 * The monitor zygote: `unikd-monitor --zygote`, a monitor that has not
 * started yet. unikd spawns one and keeps it; to start a VM's monitor it
 * sends the zygote a MON_FORK packet (monitor-proto.h) carrying the VM's
 * name and the spec socket. The zygote forks, and the child takes the
 * spec socket as MON_SPEC_FD and goes on exactly as a freshly exec'd
 * monitor does (main() in monitor.c: it forks away and reads its spec).
 *
 * Why: an exec of the monitor (the kernel's exec, then the dynamic
 * loader mapping and relocating its libraries) cost about 1 ms of CPU per
 * VM start; a fork of this small, idle process costs a tenth of that.
 *
 * The zygote holds nothing but its socket to unikd (fd MON_SPEC_FD) and
 * /dev/null on 0-2, and changes no process state, so its child starts
 * from what an exec would have given it. It exits when unikd closes the
 * socket (unikd stopped, died or replaced it).
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor-internal.h"

/* Shows the VM's name in ps, as an exec'd monitor's argv does: the
 * zygote's argv area is rewritten in place ("unikd-monitor NAME"). */
static void
zygote_title(int argc, char **argv, const char *vm)
{
	char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]);
	size_t len = (size_t)(end - start), n;

	memset(start, '\0', len);
	n = strlen("unikd-monitor") + 1;
	if (n >= len)
		return;
	memcpy(start, "unikd-monitor", n);
	snprintf(start + n, len - n, "%s", vm);
}

/* One MON_FORK packet: the VM's name into vm, the spec socket into *fd
 * (-1 when none came). 0 at end of file; -1 with errno. */
static ssize_t
zygote_recv(char *vm, size_t vmlen, int *fd)
{
	char buf[1 + MON_TITLE_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = u.b,
	    .msg_controllen = sizeof(u.b)};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(MON_SPEC_FD, &msg, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return n;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (buf[0] != MON_FORK || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		return n;
	}
	snprintf(vm, vmlen, "%.*s", (int)(n - 1), buf + 1);
	return n;
}

int
mon_zygote(int argc, char **argv)
{
	char vm[MON_TITLE_MAX + 1];
	ssize_t n;
	pid_t pid;
	int fd;

	for (;;) {
		if ((n = zygote_recv(vm, sizeof(vm), &fd)) <= 0)
			_exit(n == 0 ? 0 : 1);
		if (fd == -1)
			continue;
		if ((pid = fork()) == 0) {
			/* dup2 replaces the zygote's socket and clears
			 * close-on-exec, as posix_spawn's dup2 does */
			if (dup2(fd, MON_SPEC_FD) == -1)
				_exit(1);
			close(fd);
			setsid();
			zygote_title(argc, argv, vm);
			return 0;
		}
		/* on a failed fork unikd sees the spec socket close */
		close(fd);
		/* the child forks the monitor away and exits at once */
		while (pid > 0 && waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
}
