/*
 * blockbackend: block files and images, as a library. Sparse files of a
 * size in whole 512-byte sectors, grown, cloned (reflink where the file
 * system has it, a sparse copy otherwise), written and read in ranges,
 * locked with OFD locks while a VM uses them; images stored once by
 * sha256. It knows nothing of VMs, HTTP or event loops.
 *
 * Every function returns 0 on success or -1 with errno set.
 */
#ifndef UNIKD_BLOCKBACKEND_H
#define UNIKD_BLOCKBACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BB_SECTOR 512

/* "512M", "1G", "4096" (bytes), "1T", "64K": bytes; EINVAL when malformed
 * or zero, ERANGE when it overflows. Not a multiple of BB_SECTOR: EINVAL
 * (sizes are refused, not rounded). */
int bb_size_parse(const char *s, uint64_t *bytes);

/* Creates path as a sparse file of size bytes, mode 0600, owned by
 * uid/gid ((uid_t)-1/(gid_t)-1: unchanged); EEXIST when it exists; EINVAL
 * when size is 0 or not a multiple of BB_SECTOR; nothing left behind on
 * failure. */
int bb_block_create(const char *path, uint64_t size, uid_t uid, gid_t gid);
/* Grows (or with force, shrinks) to size. A file locked by a VM: EBUSY;
 * a smaller size without force, 0 or not a multiple of BB_SECTOR: EINVAL.
 * The lock is taken while the size changes, so no VM starts meanwhile. */
int bb_block_resize(const char *path, uint64_t size, bool force);
/* Copies src to a new dst (EEXIST if it exists): FICLONE when the file
 * system can, else a sparse copy (SEEK_DATA/SEEK_HOLE) that only writes
 * the data. Owner and mode as src. Nothing left behind on failure. */
int bb_block_clone(const char *src, const char *dst);
/* Unlinks path; a file locked by a VM: EBUSY. */
int bb_block_delete(const char *path);

struct bb_block_info {
	uint64_t size;		/* bytes */
	uint64_t allocated;	/* bytes on disk (st_blocks * 512) */
};
int bb_block_stat(const char *path, struct bb_block_info *out);

/* Writes len bytes at offset from buf (O_DIRECT not used); EFBIG when the
 * range ends past the block's size. */
int bb_block_write(const char *path, uint64_t offset, const void *buf,
    size_t len);
/* Reads up to len bytes at offset; *got is 0 at the end. */
int bb_block_read(const char *path, uint64_t offset, void *buf, size_t len,
    size_t *got);

/* Holds an exclusive OFD write lock on the whole file for as long as
 * *fd stays open (the lock dies with the last fd, so a killed holder
 * frees it). EBUSY when another open file description holds it. */
int bb_block_lock(const char *path, int *fd);
/* True when some process holds the lock. */
int bb_block_locked(const char *path, bool *locked);

/* --- sha256, streamed (for import/export checksums and images) --- */

struct bb_sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t nbuf;
};
void bb_sha256_init(struct bb_sha256 *);
void bb_sha256_update(struct bb_sha256 *, const void *data, size_t len);
/* 64 lowercase hex digits + NUL. */
void bb_sha256_final(struct bb_sha256 *, char hex[65]);

/* --- images: stored once by digest under dir --- */

/* Moves the fully written file tmp into dir/sha256/DIGEST (or drops it
 * when that digest is already stored); hex is its sha256, 64 lowercase
 * hex digits (else EINVAL). tmp must be on the same file system as dir. */
int bb_image_store(const char *dir, const char *tmp, const char *hex);
/* dir/sha256/DIGEST */
void bb_image_path(const char *dir, const char *hex, char *out, size_t len);

#endif
