/*
 * Inside blockbackend/ only: I/O loops and the directory sync shared by
 * bb-block.c, bb-copy.c and bb-image.c.
 */
#ifndef UNIKD_BB_INTERNAL_H
#define UNIKD_BB_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

/* pwrite() all of len, through short writes and EINTR. */
int bb_pwrite_full(int fd, const void *buf, size_t len, off_t offset);
/* pread() up to len, stopping only at the end of the file. */
int bb_pread_full(int fd, void *buf, size_t len, off_t offset, size_t *got);
/* fsync() the directory holding path, so a new name in it survives a
 * crash. */
int bb_dir_sync(const char *path);

#endif
