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
#include "monitor-io.h"

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

/* One packet: 1 for a MON_FORK with its one fd (the VM's name into vm,
 * the spec socket into *fd), 0 for any other packet (dropped, its fds
 * closed), -1 at end of file or on an error (errno 0 at end of file). */
static int
zygote_recv(char *vm, size_t vmlen, int *fd)
{
	char buf[1 + MON_TITLE_MAX];
	size_t nfds;
	ssize_t n;

	n = mon_io_recv(MON_SPEC_FD, buf, sizeof(buf), fd, 1, &nfds);
	if (n == -1 && errno == EMSGSIZE)
		return 0;
	if (n <= 0) {
		if (n == 0)
			errno = 0;
		return -1;
	}
	if (buf[0] != MON_FORK || nfds != 1) {
		if (nfds == 1)
			close(*fd);
		return 0;
	}
	snprintf(vm, vmlen, "%.*s", (int)(n - 1), buf + 1);
	return 1;
}

int
mon_zygote(int argc, char **argv)
{
	char vm[MON_TITLE_MAX + 1];
	pid_t pid;
	int fd, rc;

	for (;;) {
		if ((rc = zygote_recv(vm, sizeof(vm), &fd)) == -1)
			_exit(errno == 0 ? 0 : 1);	/* unikd closed it */
		if (rc == 0)
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
