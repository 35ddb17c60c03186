/*
 * Links in another network namespace (a container's, set up by CNI or
 * netavark). A netlink socket and a /dev/net/tun file keep the namespace
 * they were made in, so both are made by a short-lived thread that joined
 * the namespace with setns(2); the rest of the library then works on them
 * unchanged, and no thread of the caller ever leaves its namespace. No
 * process is forked.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "nb-internal.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int
nb_netns_open(const char *path, struct nb_netns_id *id)
{
	struct statfs sf;
	struct stat st;
	int fd, type, saved;

	if (path == NULL || path[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	/* A bind mount of nsfs (/run/netns/X) or /proc/PID/ns/net; the
	 * empty file under an unmounted /run/netns/X is not one. */
	if (fstatfs(fd, &sf) == -1 || fstat(fd, &st) == -1)
		goto fail;
	if ((unsigned long)sf.f_type != NSFS_MAGIC ||
	    (type = ioctl(fd, NS_GET_NSTYPE)) == -1 || type != CLONE_NEWNET) {
		errno = EMEDIUMTYPE;
		goto fail;
	}
	if (id != NULL) {
		id->dev = (uint64_t)st.st_dev;
		id->ino = (uint64_t)st.st_ino;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
nb_netns_self(struct nb_netns_id *id)
{
	int fd;

	if ((fd = nb_netns_open("/proc/thread-self/ns/net", id)) == -1)
		return -1;
	close(fd);
	return 0;
}

struct nb_netns_call {
	int nsfd;
	int (*fn)(void *);
	void *arg;
	int rc, err;
};

static void *
nb_netns_thread(void *arg)
{
	struct nb_netns_call *c = arg;

	/* CLONE_NEWNET is per thread: the caller's threads stay where they
	 * are, and this one ends right after fn. */
	if (setns(c->nsfd, CLONE_NEWNET) == -1) {
		c->rc = -1;
		c->err = errno;
		return NULL;
	}
	c->rc = c->fn(c->arg);
	c->err = errno;
	return NULL;
}

int
nb_netns_call(int nsfd, int (*fn)(void *), void *arg)
{
	struct nb_netns_call c = {nsfd, fn, arg, -1, 0};
	pthread_t t;
	int rc;

	if ((rc = pthread_create(&t, NULL, nb_netns_thread, &c)) != 0) {
		errno = rc;
		return -1;
	}
	pthread_join(t, NULL);
	errno = c.err;
	return c.rc;
}

static int
nb_open_netns_in(void *arg)
{
	return nb_open_request(arg);
}

int
nb_open_netns(int nsfd, struct nb **out)
{
	struct nb *nb;
	int saved;

	*out = NULL;
	if ((nb = calloc(1, sizeof(*nb))) == NULL)
		return -1;
	nb->nsfd = -1;
	if (nb_netns_call(nsfd, nb_open_netns_in, nb) == -1)
		goto fail;
	if ((nb->nsfd = fcntl(nsfd, F_DUPFD_CLOEXEC, 3)) == -1)
		goto fail;
	*out = nb;
	return 0;
fail:
	saved = errno;
	nb_close(nb);
	errno = saved;
	return -1;
}

static int
nb_tun_open_in(void *arg)
{
	(void)arg;
	return open("/dev/net/tun", O_RDWR | O_CLOEXEC);
}

int
nb_tun_file(struct nb *nb)
{
	/* the TAP is made in the namespace of the task that opened the
	 * file, whoever calls TUNSETIFF later */
	if (nb->nsfd == -1)
		return open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	return nb_netns_call(nb->nsfd, nb_tun_open_in, NULL);
}
