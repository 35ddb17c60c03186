/*
 * Inside blockbackend/ only: I/O loops and the directory sync shared by
 * bb-block.c, bb-copy.c and bb-image.c.
 */
#ifndef UNIKD_BB_INTERNAL_H
#define UNIKD_BB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* pwrite() all of len, through short writes and EINTR. */
int bb_pwrite_full(int fd, const void *buf, size_t len, off_t offset);
/* pread() up to len, stopping only at the end of the file. */
int bb_pread_full(int fd, void *buf, size_t len, off_t offset, size_t *got);
/* fsync() the directory holding path, so a new name in it survives a
 * crash. */
int bb_dir_sync(const char *path);
/* Closes fd keeping errno, for a failure path: always -1. */
int bb_close_fail(int fd);

/* SHA-256 compression of n 64-byte blocks into h: portable C, and with
 * the x86 SHA extensions when bb_sha256_ni_present() (the streamed API
 * picks one; the tests check that both agree). */
void bb_sha256_blocks_c(uint32_t h[8], const uint8_t *p, size_t n);
void bb_sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t n);
bool bb_sha256_ni_present(void);

#endif
