/*
 * The test guest's block devices. Each --block:NAME=PATH is opened O_RDWR
 * as solo5-spt opens it (no locking; a size that is not a whole number of
 * sectors is refused, exit 1). Then the guest counts its boots on it: the
 * first sector holds a little-endian uint64 count at offset 0 and the
 * magic "UNIKBOOT" at offset 8 (no magic: the count is 0); the count is
 * incremented, written back, synced, and printed as
 * "testguest: block NAME boot count N", so a test sees data persist
 * across restarts and clones.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"

#define BOOT_MAGIC "UNIKBOOT"
#define BOOT_RECORD 16	/* count (8 bytes) + magic (8 bytes) */

static uint64_t
le64_read(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
le64_write(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

static uint64_t
boot_count_bump(const char *name, int fd)
{
	unsigned char rec[BOOT_RECORD];
	uint64_t count = 0;
	ssize_t n;

	n = pread(fd, rec, sizeof(rec), 0);
	if (n == -1)
		die("block '%s': read: %s", name, strerror(errno));
	if (n == (ssize_t)sizeof(rec) &&
	    memcmp(rec + 8, BOOT_MAGIC, 8) == 0)
		count = le64_read(rec);
	count++;
	le64_write(rec, count);
	memcpy(rec + 8, BOOT_MAGIC, 8);
	if (pwrite(fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec))
		die("block '%s': write: %s", name, strerror(errno));
	if (fsync(fd) == -1)
		die("block '%s': fsync: %s", name, strerror(errno));
	return count;
}

void
guest_block_attach(const char *name, const char *path,
    unsigned long sector_size)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		die("Could not open block device '%s' (%s): %s", name, path,
		    strerror(errno));
	if (fstat(fd, &st) == -1)
		die("block '%s': fstat: %s", name, strerror(errno));
	if (st.st_size < (off_t)sector_size ||
	    st.st_size % (off_t)sector_size != 0)
		die("block '%s': size %lld is not a multiple of the sector "
		    "size %lu", name, (long long)st.st_size, sector_size);
	say("Solo5: block '%s' path %s size %lld sector size %lu", name, path,
	    (long long)st.st_size, sector_size);
	say("testguest: block %s boot count %llu", name,
	    (unsigned long long)boot_count_bump(name, fd));
}
