/*
 * Opening images beneath their directory (image-open.h). Whoever may
 * write into an image directory may swap a file for a FIFO (a blocking
 * open would hang the daemon), a device, or a symlink to a file only root
 * may read: the open itself refuses symlinks and never blocks, and the
 * type is checked on the open fd.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "conf.h"
#include "image-open.h"
#include "solo5-manifest.h"
#include "uerr.h"

#define IMAGE_OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

/* What follows dir/ in path, or NULL when path is not beneath dir. */
static const char *
image_rel(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	while (len > 0 && dir[len - 1] == '/')
		len--;
	if (len > 0 && (strncmp(path, dir, len) != 0 || path[len] != '/'))
		return NULL;
	if (path[len] != '/')
		return NULL;
	for (path += len; *path == '/'; path++)
		;	/* openat2 takes a leading '/' as the root, not dir */
	return path;
}

/* A "." or ".." component, or nothing below the directory. */
static bool
image_rel_valid(const char *rel)
{
	const char *p = rel, *slash;
	size_t len;
	bool any = false;

	for (; *p != '\0'; p = slash != NULL ? slash + 1 : p + len) {
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		any |= len > 0;
		if (slash == NULL)
			break;
	}
	return any;
}

/*
 * The directories an image may come from, as the config names them:
 * each image dir, then the store of pushed images. -1 past the end.
 */
static int
image_dir_at(const struct conf *cf, size_t i, char *buf, size_t len)
{
	if (i < cf->n_image_dirs) {
		snprintf(buf, len, "%s", cf->image_dirs[i]);
		return 0;
	}
	if (i > cf->n_image_dirs)
		return -1;
	snprintf(buf, len, "%s/images", cf->state_dir);
	return 0;
}

/*
 * The directory path lies beneath, as written or with the symlinks of
 * the directory itself resolved (the config's own paths are trusted),
 * into dir; *rel gets the rest. -1 when none.
 */
static int
image_dir_find(const struct conf *cf, const char *path, char *dir,
    size_t len, const char **rel)
{
	char *real;
	size_t i;

	for (i = 0; image_dir_at(cf, i, dir, len) == 0; i++) {
		if ((*rel = image_rel(path, dir)) != NULL &&
		    image_rel_valid(*rel))
			return 0;
		if ((real = realpath(dir, NULL)) == NULL)
			continue;
		*rel = image_rel(path, real);
		free(real);
		if (*rel != NULL && image_rel_valid(*rel))
			return 0;
	}
	return -1;
}

bool
image_path_allowed(const struct conf *cf, const char *path)
{
	char dir[PATH_MAX];
	const char *rel;

	return image_dir_find(cf, path, dir, sizeof(dir), &rel) == 0;
}

/* One component at a time, none of them a symlink (O_NOFOLLOW). */
static int
image_openat_walk(int dirfd, const char *rel)
{
	char comp[NAME_MAX + 1];
	const char *p = rel;
	int fd = -1, next, saved;
	size_t len;

	for (;;) {
		while (*p == '/')
			p++;
		if ((len = strcspn(p, "/")) > NAME_MAX) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		for (p += len; *p == '/'; p++)
			;
		if (*p == '\0')
			break;
		/* O_PATH|O_NOFOLLOW opens a symlink itself: not a dir. */
		next = openat(fd == -1 ? dirfd : fd, comp,
		    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1)
			goto fail;
		if (fd != -1)
			close(fd);
		fd = next;
	}
	next = openat(fd == -1 ? dirfd : fd, comp, IMAGE_OPEN_FLAGS);
	if (next == -1)
		goto fail;
	if (fd != -1)
		close(fd);
	return next;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	/* a symlink on the way reads as ENOTDIR: say what it is */
	errno = saved == ENOTDIR ? ELOOP : saved;
	return -1;
}

int
image_openat(int dirfd, const char *rel, bool walk)
{
#ifdef SYS_openat2
	struct open_how how = {
		.flags = IMAGE_OPEN_FLAGS,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!walk) {
		fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd != -1 || errno != ENOSYS)
			return fd;
	}
#else
	(void)walk;
#endif
	return image_openat_walk(dirfd, rel);
}

static const char *
image_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
	case S_IFBLK:
		return "a device";
	case S_IFDIR:
		return "a directory";
	case S_IFSOCK:
		return "a socket";
	default:
		return "something else";
	}
}

int
image_open(const struct conf *cf, const char *path, struct uerr *e)
{
	char dir[PATH_MAX];
	const char *rel;
	struct stat st;
	int dirfd, fd, saved;

	if (image_dir_find(cf, path, dir, sizeof(dir), &rel) == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "image %s is outside the image directories", path);
	if ((dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "image %s: image directory %s: %s", path, dir,
		    strerror(errno));
	fd = image_openat(dirfd, rel, false);
	saved = errno;
	close(dirfd);
	if (fd == -1 && (saved == ELOOP || saved == EXDEV))
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "image %s: is a symbolic link or lies behind one "
		    "(not followed)", path);
	if (fd == -1)
		return uerr_set(e, UERR_UNPROCESSABLE, "image %s: %s", path,
		    strerror(saved));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return uerr_set(e, UERR_UNPROCESSABLE, "image %s: %s", path,
		    strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "image %s: %s, not a regular file", path,
		    image_type_name(st.st_mode));
	}
	return fd;
}

json_t *
image_manifest_json(const struct conf *cf, const char *path)
{
	struct uerr e;
	json_t *o;
	int fd;

	if ((fd = image_open(cf, path, &e)) == -1)
		return json_pack("{s:s}", "error", e.message);
	o = solo5_manifest_fd_json(fd, path);
	close(fd);
	return o;
}
