/*
 * Block files: size parsing, create, resize, delete, stat, ranged read
 * and write, and the OFD lock that marks a block as used by a VM.
 *
 * OFD locks (F_OFD_SETLK) belong to the open file description, not to the
 * process: they are released when the last fd on that description closes,
 * so a tender or monitor killed with SIGKILL frees its block, and a fd
 * passed to a tender keeps the lock for as long as the tender runs.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "bb-internal.h"

struct size_unit {
	char suffix;
	unsigned shift;
};

static const struct size_unit size_units[] = {
    {'K', 10},
    {'M', 20},
    {'G', 30},
    {'T', 40},
    {'P', 50},
};

/* Only digits and one optional binary suffix; no sign, space or base. */
int
bb_size_parse(const char *s, uint64_t *bytes)
{
	uint64_t v = 0;
	unsigned shift = 0;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		goto invalid;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			goto range;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0') {
		for (i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++)
			if (toupper((unsigned char)*s) == size_units[i].suffix)
				shift = size_units[i].shift;
		if (shift == 0 || s[1] != '\0')
			goto invalid;
	}
	if (v > UINT64_MAX >> shift)
		goto range;
	v <<= shift;
	if (v > (uint64_t)INT64_MAX)
		goto range;
	if (v == 0 || v % BB_SECTOR != 0)
		goto invalid;
	*bytes = v;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
range:
	errno = ERANGE;
	return -1;
}

static int
size_valid(uint64_t size)
{
	if (size == 0 || size % BB_SECTOR != 0) {
		errno = EINVAL;
		return -1;
	}
	if (size > (uint64_t)INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

int
bb_block_create(const char *path, uint64_t size, uid_t uid, gid_t gid)
{
	int fd, saved;

	if (size_valid(size) == -1)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	/* The umask may have taken bits away; the mode is part of the
	 * contract. ftruncate() allocates nothing: the file is all hole. */
	if (fchmod(fd, 0600) == -1 || ftruncate(fd, (off_t)size) == -1 ||
	    fchown(fd, uid, gid) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (bb_dir_sync(path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(path);
	errno = saved;
	return -1;
}

/*
 * Opens path with flags and tries the whole-file write lock with cmd:
 * F_OFD_SETLK takes it (EBUSY when another open file description holds a
 * lock), F_OFD_GETLK asks whether it could be taken (fl says). The fd,
 * or -1 with nothing left open.
 */
static int
lock_open(const char *path, int flags, int cmd, struct flock *fl)
{
	int fd;

	memset(fl, 0, sizeof(*fl));
	fl->l_type = F_WRLCK;
	fl->l_whence = SEEK_SET; /* l_start 0, l_len 0: the whole file */
	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		return -1;
	if (fcntl(fd, cmd, fl) == -1) {
		if (errno == EAGAIN || errno == EACCES)
			errno = EBUSY;
		return bb_close_fail(fd);
	}
	return fd;
}

/* Opens path read-write holding the lock, so no VM can take the block
 * while we change it. */
static int
open_locked(const char *path)
{
	struct flock fl;

	return lock_open(path, O_RDWR, F_OFD_SETLK, &fl);
}

int
bb_block_resize(const char *path, uint64_t size, bool force)
{
	struct stat st;
	int fd;

	if (size_valid(size) == -1)
		return -1;
	if ((fd = open_locked(path)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (size < (uint64_t)st.st_size && !force) {
		errno = EINVAL;
		goto fail;
	}
	if (ftruncate(fd, (off_t)size) == -1 || fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	return bb_close_fail(fd);
}

int
bb_block_delete(const char *path)
{
	int fd;

	if ((fd = open_locked(path)) == -1)
		return -1;
	if (unlink(path) == -1)
		goto fail;
	close(fd);
	/* The name is gone: a failed directory sync cannot undo that, so
	 * it is not reported as a failed delete. */
	(void)bb_dir_sync(path);
	return 0;
fail:
	return bb_close_fail(fd);
}

int
bb_block_stat(const char *path, struct bb_block_info *out)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	out->size = (uint64_t)st.st_size;
	/* st_blocks counts 512-byte units whatever the fs block size. */
	out->allocated = (uint64_t)st.st_blocks * 512;
	return 0;
}

int
bb_block_write(const char *path, uint64_t offset, const void *buf, size_t len)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (offset > (uint64_t)st.st_size ||
	    len > (uint64_t)st.st_size - offset) {
		errno = EFBIG;
		goto fail;
	}
	if (bb_pwrite_full(fd, buf, len, (off_t)offset) == -1)
		goto fail;
	return close(fd);
fail:
	return bb_close_fail(fd);
}

int
bb_block_read(
    const char *path, uint64_t offset, void *buf, size_t len, size_t *got)
{
	int fd;

	*got = 0;
	if (offset > (uint64_t)INT64_MAX) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (bb_pread_full(fd, buf, len, (off_t)offset, got) == -1)
		return bb_close_fail(fd);
	close(fd);
	return 0;
}

int
bb_block_lock(const char *path, int *fd)
{
	int lfd;

	if ((lfd = open_locked(path)) == -1)
		return -1;
	*fd = lfd;
	return 0;
}

int
bb_block_locked(const char *path, bool *locked)
{
	struct flock fl;
	int fd;

	/* F_OFD_GETLK reports F_UNLCK when our (new, lock free)
	 * description could take the lock. */
	if ((fd = lock_open(path, O_RDONLY, F_OFD_GETLK, &fl)) == -1)
		return -1;
	close(fd);
	*locked = fl.l_type != F_UNLCK;
	return 0;
}

int
bb_pwrite_full(int fd, const void *buf, size_t len, off_t offset)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, offset);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		offset += n;
	}
	return 0;
}

int
bb_pread_full(int fd, void *buf, size_t len, off_t offset, size_t *got)
{
	char *p = buf;
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = pread(fd, p + *got, len - *got, offset + (off_t)*got);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int
bb_dir_sync(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fsync(fd) == -1)
		return bb_close_fail(fd);
	return close(fd);
}

int
bb_close_fail(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
	return -1;
}
