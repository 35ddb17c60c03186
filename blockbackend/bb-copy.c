/*
 * Block clone: a reflink (FICLONE) where the file system shares extents
 * (btrfs, xfs with reflink=1), else a sparse copy that walks the data
 * ranges with SEEK_DATA/SEEK_HOLE and copies only those, so the time and
 * the space taken follow the data written, not the block's size.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "bb-internal.h"

#define COPY_CHUNK (1024 * 1024)

#define ZERO_BLOCK 4096

static bool
all_zero(const char *p, size_t len)
{
	static const char zeros[ZERO_BLOCK];

	return memcmp(p, zeros, len) == 0;
}

/* Writes the non-zero 4 KiB pieces of buf to dfd at off, each run of them
 * in one pwrite(); the zero ones stay holes. */
static int
write_nonzero(int dfd, const char *buf, size_t len, off_t off)
{
	size_t i, n, run = 0;

	for (i = 0; i < len; i += n) {
		n = len - i < ZERO_BLOCK ? len - i : ZERO_BLOCK;
		if (!all_zero(buf + i, n))
			continue;
		if (i > run && bb_pwrite_full(dfd, buf + run, i - run,
		                   off + (off_t)run) == -1)
			return -1;
		run = i + n;
	}
	if (len > run)
		return bb_pwrite_full(
		    dfd, buf + run, len - run, off + (off_t)run);
	return 0;
}

/* Copies len bytes at off with read/write. dst was truncated to size, so
 * what is all zeros in src reads back as zeros from a hole already. */
static int
copy_range_rw(int sfd, int dfd, off_t off, off_t len)
{
	char *buf;
	size_t got, n;

	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return -1;
	while (len > 0) {
		n = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
		if (bb_pread_full(sfd, buf, n, off, &got) == -1)
			goto fail;
		if (got == 0)
			break; /* src shrank under us: the rest is hole */
		if (write_nonzero(dfd, buf, got, off) == -1)
			goto fail;
		off += (off_t)got;
		len -= (off_t)got;
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return -1;
}

/* copy_file_range() keeps the data in the kernel; where it cannot (old
 * kernels, across some file systems) fall back to read/write. */
static int
copy_range(int sfd, int dfd, off_t off, off_t len)
{
	loff_t in = off, out = off;
	ssize_t n;

	while (len > 0) {
		n = copy_file_range(sfd, &in, dfd, &out, (size_t)len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EXDEV || errno == ENOSYS ||
			    errno == EINVAL || errno == EOPNOTSUPP)
				return copy_range_rw(sfd, dfd, in, len);
			return -1;
		}
		if (n == 0)
			break;
		len -= n;
	}
	return 0;
}

/* Walks the data ranges of sfd; without SEEK_DATA support the whole file
 * counts as one range (and copy_range_rw still skips the zeros). */
static int
copy_sparse(int sfd, int dfd, off_t size)
{
	off_t data = 0, hole;

	if (ftruncate(dfd, size) == -1)
		return -1;
	while (data < size) {
		data = lseek(sfd, data, SEEK_DATA);
		if (data == -1) {
			if (errno == ENXIO)
				return 0; /* only hole from here */
			if (errno != EINVAL)
				return -1;
			return copy_range_rw(sfd, dfd, 0, size);
		}
		hole = lseek(sfd, data, SEEK_HOLE);
		if (hole == -1)
			return -1;
		if (hole > size)
			hole = size;
		if (copy_range(sfd, dfd, data, hole - data) == -1)
			return -1;
		data = hole;
	}
	return 0;
}

/* The errors FICLONE gives when the file system cannot share extents
 * between these two files. */
static bool
reflink_unsupported(int err)
{
	return err == EOPNOTSUPP || err == EXDEV || err == EINVAL ||
	       err == ENOTTY || err == ENOSYS;
}

int
bb_block_clone(const char *src, const char *dst)
{
	struct stat st;
	int sfd = -1, dfd = -1, saved;
	bool created = false;

	if ((sfd = open(src, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(sfd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	dfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (dfd == -1)
		goto fail;
	created = true;
	if (ioctl(dfd, FICLONE, sfd) == -1) {
		if (!reflink_unsupported(errno) ||
		    copy_sparse(sfd, dfd, st.st_size) == -1)
			goto fail;
	}
	if (fchown(dfd, st.st_uid, st.st_gid) == -1 ||
	    fchmod(dfd, st.st_mode & 07777) == -1 || fsync(dfd) == -1)
		goto fail;
	if (close(dfd) == -1) {
		dfd = -1;
		goto fail;
	}
	dfd = -1;
	close(sfd);
	sfd = -1;
	if (bb_dir_sync(dst) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (dfd != -1)
		close(dfd);
	if (sfd != -1)
		close(sfd);
	if (created)
		unlink(dst);
	errno = saved;
	return -1;
}
