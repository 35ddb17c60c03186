/*
 * Opening an image file that someone else may write: only beneath an
 * image directory (or the store of pushed images), never through a
 * symlink, never blocking, and only a regular file. The fd it returns is
 * what every reader uses and what the tender gets: nothing opens the
 * image again by path, so a file swapped in after the check is never
 * the one read.
 */
#ifndef UNIKD_IMAGE_OPEN_H
#define UNIKD_IMAGE_OPEN_H

#include <stdbool.h>

#include <jansson.h>

struct conf;
struct uerr;

/*
 * True when path lies beneath one of the image directories or the
 * store of pushed images, by its text alone: no file is looked at, so
 * the answer says nothing about what exists outside them.
 */
bool image_path_allowed(const struct conf *cf, const char *path);

/*
 * Opens the image at path read-only (O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC)
 * resolved beneath its image directory with no symlink on the way
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a walk one
 * component at a time on kernels without it), and checks with fstat
 * that it is a regular file. The fd, or -1 with e filled: 422 naming
 * the file for a symlink, FIFO, device, directory or a missing file.
 */
int image_open(const struct conf *cf, const char *path, struct uerr *e);

/* The part of image_open below the directory: rel opened beneath dirfd.
 * walk forces the component walk (as on kernels without openat2). */
int image_openat(int dirfd, const char *rel, bool walk);

/* The Solo5 manifest of the image at path as JSON, read through
 * image_open: null when it has none, {"error": ...} when unreadable. */
json_t *image_manifest_json(const struct conf *cf, const char *path);

#endif
