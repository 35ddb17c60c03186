/*
 * Images stored once by content: dir/sha256/DIGEST. Pushing the same bytes
 * under two names keeps one file; the names live in the daemon's store.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "bb-internal.h"

/* 64 lowercase hex digits: anything else could climb out of dir. */
static int
digest_valid(const char *hex)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		        (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	return hex[64] == '\0';
}

void
bb_image_path(const char *dir, const char *hex, char *out, size_t len)
{
	snprintf(out, len, "%s/sha256/%s", dir, hex);
}

/* The data must be on disk before the name points to it. */
static int
file_sync(const char *path)
{
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(fd) == -1)
		return bb_close_fail(fd);
	return close(fd);
}

int
bb_image_store(const char *dir, const char *tmp, const char *hex)
{
	char sub[PATH_MAX], path[PATH_MAX];
	struct stat st;

	if (!digest_valid(hex)) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(sub, sizeof(sub), "%s/sha256", dir) >= (int)sizeof(sub)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Tenders get an image as an fd and reopen it through /dev/fd/N,
	 * which checks the file's mode (0644), not the directories'. */
	if (mkdir(sub, 0700) == -1 && errno != EEXIST)
		return -1;
	bb_image_path(dir, hex, path, sizeof(path));
	if (stat(path, &st) == 0)
		return unlink(tmp);
	if (errno != ENOENT)
		return -1;
	if (file_sync(tmp) == -1 || rename(tmp, path) == -1)
		return -1;
	return bb_dir_sync(path);
}
