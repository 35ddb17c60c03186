/*
 * Whether the tender user may open the devices its tender needs
 * (/dev/kvm, /dev/net/tun). Root opens everything, so a check by unikd
 * itself says nothing; a child that drops to the tender's uid, gid and
 * supplementary groups and tries is the one honest answer (modes, ACLs,
 * groups and LSMs all count). Run at start-up and on SIGHUP, never per
 * request.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tender.h"

const char *const tender_device_paths[TENDER_NDEVICES] = {
    [TENDER_DEVICE_KVM] = "/dev/kvm",
    [TENDER_DEVICE_TUN] = "/dev/net/tun",
};

/* The child: drop to the tender's ids, try each device, report. */
static void __attribute__((noreturn))
tender_access_child(const struct tender_ids *ids, int fd)
{
	int errs[TENDER_NDEVICES], dfd;
	size_t i;

	if (setgroups(ids->ngroups, ids->groups) == -1 ||
	    setgid(ids->gid) == -1 || setuid(ids->uid) == -1)
		_exit(126);
	for (i = 0; i < TENDER_NDEVICES; i++) {
		errs[i] = 0;
		if ((dfd = open(tender_device_paths[i],
		    O_RDWR | O_CLOEXEC)) == -1)
			errs[i] = errno;
		else
			close(dfd);
	}
	if (write(fd, errs, sizeof(errs)) != (ssize_t)sizeof(errs))
		_exit(125);
	_exit(0);
}

int
tender_access_probe(const struct tender_ids *ids, int errs[TENDER_NDEVICES])
{
	int p[2], status, err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		err = errno;
		close(p[0]);
		close(p[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		tender_access_child(ids, p[1]);
	}
	close(p[1]);
	do
		n = read(p[0], errs, sizeof(int) * TENDER_NDEVICES);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)(sizeof(int) * TENDER_NDEVICES))
		err = n == -1 ? errno : EPERM;	/* could not drop the ids */
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

void
tender_access_problem(const struct tender_ids *ids, const char *user,
    enum tender_device dev, int err, char *buf, size_t len)
{
	char fixbuf[160];

	if (dev == TENDER_DEVICE_KVM)
		snprintf(fixbuf, sizeof(fixbuf),
		    "add it to the device's group (usermod -aG kvm %s)", user);
	else
		snprintf(fixbuf, sizeof(fixbuf), "give the device mode 0666 "
		    "(the kernel's default) or a group of %s", user);
	snprintf(buf, len,
	    "tender_user %s (uid %u, gid %u) cannot open %s: %s; %s, "
	    "then reload unikd (see unikd.conf(5))",
	    user, (unsigned)ids->uid, (unsigned)ids->gid,
	    tender_device_paths[dev], strerror(err), fixbuf);
}
