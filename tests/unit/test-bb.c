/*
 * Unit tests for blockbackend/: size parsing, sparse create, resize,
 * OFD locks (also across a holder killed with SIGKILL), sparse clone,
 * ranged read/write and image dedup (SHA-256: test-bb-sha256.c). No root needed:
 * each test works in its own temporary directory.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "blockbackend.h"
#include "bb-internal.h"

#define MiB (1024 * 1024)

struct fixture {
	char dir[PATH_MAX];
	char blk[PATH_MAX]; /* dir/blk.img, not created */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test-bb.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->blk, sizeof(f->blk), "%s/blk.img", f->dir);
	*state = f;
	return 0;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void
path_in(const struct fixture *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static void
create_block(const char *path, uint64_t size)
{
	assert_int_equal(bb_block_create(path, size, getuid(), getgid()), 0);
}

/* sha256 of the whole block, read in 1 MiB ranges as an export would. */
static void
block_digest(const char *path, char hex[65])
{
	static char buf[MiB];
	struct bb_sha256 s;
	uint64_t off = 0;
	size_t got;

	bb_sha256_init(&s);
	for (;;) {
		assert_int_equal(
		    bb_block_read(path, off, buf, sizeof(buf), &got), 0);
		if (got == 0)
			break;
		bb_sha256_update(&s, buf, got);
		off += got;
	}
	bb_sha256_final(&s, hex);
}

static void
test_size_parse(void **state)
{
	static const struct {
		const char *in;
		uint64_t bytes;
	} ok[] = {
	    {"512M", 512ULL * MiB},
	    {"1G", 1ULL << 30},
	    {"64K", 64 * 1024},
	    {"4096", 4096},
	    {"1T", 1ULL << 40},
	    {"512", 512},
	    {"2g", 2ULL << 30},
	};
	static const struct {
		const char *in;
		int err;
	} bad[] = {
	    {"0", EINVAL},
	    {"0M", EINVAL},
	    {"-1", EINVAL},
	    {"1000", EINVAL},
	    {"abc", EINVAL},
	    {"10X", EINVAL},
	    {"", EINVAL},
	    {" 1G", EINVAL},
	    {"1G ", EINVAL},
	    {"1GG", EINVAL},
	    {"+1G", EINVAL},
	    {"0x200", EINVAL},
	    {"99999999999999999999999", ERANGE},
	    {"18446744073709551615", ERANGE},
	    {"17179869184G", ERANGE},
	    {"9223372036854775808", ERANGE},
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 0;
		assert_int_equal(bb_size_parse(ok[i].in, &v), 0);
		assert_true(v == ok[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		errno = 0;
		assert_int_equal(bb_size_parse(bad[i].in, &v), -1);
		if (errno != bad[i].err)
			fail_msg("'%s': errno %d, want %d", bad[i].in, errno,
			    bad[i].err);
		assert_true(v == 7);
	}
}

static void
test_create_sparse(void **state)
{
	struct fixture *f = *state;
	struct bb_block_info info;
	struct stat st;

	create_block(f->blk, 64 * MiB);
	assert_int_equal(stat(f->blk, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 64 * MiB);
	assert_true(info.allocated < 64 * 1024);

	errno = 0;
	assert_int_equal(
	    bb_block_create(f->blk, 1 * MiB, getuid(), getgid()), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 64 * MiB);
}

static void
test_create_bad_size(void **state)
{
	struct fixture *f = *state;

	errno = 0;
	assert_int_equal(bb_block_create(f->blk, 1000, getuid(), getgid()), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bb_block_create(f->blk, 0, getuid(), getgid()), -1);
	assert_int_equal(access(f->blk, F_OK), -1);
}

static void
test_resize(void **state)
{
	struct fixture *f = *state;
	struct bb_block_info info;
	int fd;

	create_block(f->blk, 1 * MiB);
	assert_int_equal(bb_block_resize(f->blk, 8 * MiB, false), 0);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 8 * MiB);

	errno = 0;
	assert_int_equal(bb_block_resize(f->blk, 4 * MiB, false), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bb_block_resize(f->blk, 8 * MiB + 100, false), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 8 * MiB);

	assert_int_equal(bb_block_resize(f->blk, 4 * MiB, true), 0);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 4 * MiB);

	assert_int_equal(bb_block_lock(f->blk, &fd), 0);
	errno = 0;
	assert_int_equal(bb_block_resize(f->blk, 16 * MiB, false), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 4 * MiB);
	close(fd);
	assert_int_equal(bb_block_resize(f->blk, 16 * MiB, false), 0);
}

static void
test_lock(void **state)
{
	struct fixture *f = *state;
	bool locked = true;
	int fd, fd2;

	create_block(f->blk, 1 * MiB);
	assert_int_equal(bb_block_locked(f->blk, &locked), 0);
	assert_false(locked);

	assert_int_equal(bb_block_lock(f->blk, &fd), 0);
	assert_int_equal(bb_block_locked(f->blk, &locked), 0);
	assert_true(locked);
	/* Same process, other open file description: still refused. */
	errno = 0;
	assert_int_equal(bb_block_lock(f->blk, &fd2), -1);
	assert_int_equal(errno, EBUSY);

	close(fd);
	assert_int_equal(bb_block_locked(f->blk, &locked), 0);
	assert_false(locked);
	assert_int_equal(bb_block_lock(f->blk, &fd2), 0);
	close(fd2);

	errno = 0;
	assert_int_equal(bb_block_lock(f->dir, &fd), -1);
	assert_int_equal(errno, EISDIR);
}

/* A holder killed with SIGKILL (a tender under kill -9) frees the block. */
static void
test_lock_killed_holder(void **state)
{
	struct fixture *f = *state;
	bool locked = false;
	int p[2], fd, wstatus;
	pid_t pid;
	char c;

	create_block(f->blk, 1 * MiB);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		if (bb_block_lock(f->blk, &fd) == -1)
			_exit(1);
		if (write(p[1], "L", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);

	errno = 0;
	assert_int_equal(bb_block_lock(f->blk, &fd), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(bb_block_locked(f->blk, &locked), 0);
	assert_true(locked);

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFSIGNALED(wstatus));

	assert_int_equal(bb_block_locked(f->blk, &locked), 0);
	assert_false(locked);
	assert_int_equal(bb_block_lock(f->blk, &fd), 0);
	close(fd);
}

static void
test_delete(void **state)
{
	struct fixture *f = *state;
	int fd;

	create_block(f->blk, 1 * MiB);
	assert_int_equal(bb_block_lock(f->blk, &fd), 0);
	errno = 0;
	assert_int_equal(bb_block_delete(f->blk), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(access(f->blk, F_OK), 0);
	close(fd);
	assert_int_equal(bb_block_delete(f->blk), 0);
	assert_int_equal(access(f->blk, F_OK), -1);
	errno = 0;
	assert_int_equal(bb_block_delete(f->blk), -1);
	assert_int_equal(errno, ENOENT);
}

static void
fill(char *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 131 + (i >> 9));
}

static void
test_read_write(void **state)
{
	struct fixture *f = *state;
	struct bb_block_info info;
	char w[3000], r[4096];
	size_t got;

	create_block(f->blk, 8192);
	fill(w, sizeof(w), 1);
	assert_int_equal(bb_block_write(f->blk, 1000, w, sizeof(w)), 0);
	assert_int_equal(bb_block_read(f->blk, 1000, r, sizeof(w), &got), 0);
	assert_int_equal(got, sizeof(w));
	assert_memory_equal(r, w, sizeof(w));

	/* Never written: zeros. Near the end: short. Past it: nothing. */
	assert_int_equal(bb_block_read(f->blk, 4096, r, 4096, &got), 0);
	assert_int_equal(got, 4096);
	assert_int_equal(bb_block_read(f->blk, 8000, r, 4096, &got), 0);
	assert_int_equal(got, 192);
	assert_int_equal(bb_block_read(f->blk, 8192, r, 4096, &got), 0);
	assert_int_equal(got, 0);
	assert_int_equal(bb_block_read(f->blk, 1 << 20, r, 4096, &got), 0);
	assert_int_equal(got, 0);

	/* Exactly to the end is fine; one byte more is EFBIG, unwritten. */
	assert_int_equal(bb_block_write(f->blk, 8192 - 100, w, 100), 0);
	errno = 0;
	assert_int_equal(bb_block_write(f->blk, 8192 - 100, w, 101), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(bb_block_write(f->blk, 9000, w, 1), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(bb_block_write(f->blk, UINT64_MAX, w, 2), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(bb_block_read(f->blk, 8192 - 100, r, 100, &got), 0);
	assert_int_equal(got, 100);
	assert_memory_equal(r, w, 100);
	assert_int_equal(bb_block_stat(f->blk, &info), 0);
	assert_true(info.size == 8192);
}

/* 64 MiB with 4 MiB written at scattered offsets. */
static const struct {
	uint64_t off;
	size_t len;
} scattered[] = {
    {0, MiB / 2},
    {5 * MiB + 4096, MiB},
    {31 * MiB, MiB / 2},
    {40 * MiB - 512, MiB},
    {64 * MiB - MiB, MiB},
};

static void
test_clone_sparse(void **state)
{
	struct fixture *f = *state;
	struct bb_block_info a, b;
	char dst[PATH_MAX], ha[65], hb[65];
	static char buf[MiB];
	uint64_t data = 0;
	struct stat st;
	size_t i;

	create_block(f->blk, 64 * MiB);
	for (i = 0; i < sizeof(scattered) / sizeof(scattered[0]); i++) {
		fill(buf, scattered[i].len, (unsigned)i + 7);
		assert_int_equal(bb_block_write(f->blk, scattered[i].off, buf,
		                     scattered[i].len),
		    0);
		data += scattered[i].len;
	}
	assert_int_equal(chmod(f->blk, 0640), 0);

	path_in(f, "clone.img", dst, sizeof(dst));
	assert_int_equal(bb_block_clone(f->blk, dst), 0);
	block_digest(f->blk, ha);
	block_digest(dst, hb);
	assert_string_equal(ha, hb);

	assert_int_equal(bb_block_stat(f->blk, &a), 0);
	assert_int_equal(bb_block_stat(dst, &b), 0);
	assert_true(b.size == a.size);
	/* Sparse: about the data written, far from the 64 MiB. A reflink
	 * clone may even share it all and report the same. */
	assert_true(b.allocated <= data + 2 * MiB);
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, getuid());
}

/* Seams (-Wl,--wrap): with these set, the clone must take its fallbacks. */
static bool no_copy_file_range, no_seek_data;

ssize_t __real_copy_file_range(int, loff_t *, int, loff_t *, size_t, unsigned);
ssize_t __wrap_copy_file_range(int, loff_t *, int, loff_t *, size_t, unsigned);
off_t __real_lseek(int, off_t, int);
off_t __wrap_lseek(int, off_t, int);

ssize_t
__wrap_copy_file_range(
    int in, loff_t *oin, int out, loff_t *oout, size_t len, unsigned flags)
{
	if (no_copy_file_range) {
		errno = ENOSYS;
		return -1;
	}
	return __real_copy_file_range(in, oin, out, oout, len, flags);
}

off_t
__wrap_lseek(int fd, off_t off, int whence)
{
	if (no_seek_data && (whence == SEEK_DATA || whence == SEEK_HOLE)) {
		errno = EINVAL;
		return -1;
	}
	return __real_lseek(fd, off, whence);
}

/* Clone of the scattered block with the fallbacks forced: identical and
 * still sparse (the read/write copy skips zeros). */
static void
clone_with_fallback(struct fixture *f, bool no_cfr, bool no_seek)
{
	struct bb_block_info b;
	char dst[PATH_MAX], ha[65], hb[65];
	static char buf[MiB];
	size_t i;

	create_block(f->blk, 64 * MiB);
	for (i = 0; i < sizeof(scattered) / sizeof(scattered[0]); i++) {
		fill(buf, scattered[i].len, (unsigned)i + 11);
		assert_int_equal(bb_block_write(f->blk, scattered[i].off, buf,
		                     scattered[i].len),
		    0);
	}
	path_in(f, "clone.img", dst, sizeof(dst));
	no_copy_file_range = no_cfr;
	no_seek_data = no_seek;
	assert_int_equal(bb_block_clone(f->blk, dst), 0);
	no_copy_file_range = no_seek_data = false;
	block_digest(f->blk, ha);
	block_digest(dst, hb);
	assert_string_equal(ha, hb);
	assert_int_equal(bb_block_stat(dst, &b), 0);
	assert_true(b.size == 64 * MiB);
	assert_true(b.allocated <= 6 * MiB);
}

static void
test_clone_without_copy_file_range(void **state)
{
	clone_with_fallback(*state, true, false);
}

static void
test_clone_without_seek_data(void **state)
{
	clone_with_fallback(*state, true, true);
}

static void
test_clone_refused(void **state)
{
	struct fixture *f = *state;
	char dst[PATH_MAX], missing[PATH_MAX], h[65];
	struct bb_block_info info;

	create_block(f->blk, 1 * MiB);
	path_in(f, "other.img", dst, sizeof(dst));
	create_block(dst, 2 * MiB);
	block_digest(dst, h);

	/* An existing destination is left as it was. */
	errno = 0;
	assert_int_equal(bb_block_clone(f->blk, dst), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bb_block_stat(dst, &info), 0);
	assert_true(info.size == 2 * MiB);

	/* A missing source leaves no destination behind. */
	path_in(f, "missing.img", missing, sizeof(missing));
	path_in(f, "new.img", dst, sizeof(dst));
	errno = 0;
	assert_int_equal(bb_block_clone(missing, dst), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access(dst, F_OK), -1);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void
test_image_store(void **state)
{
	struct fixture *f = *state;
	char tmp1[PATH_MAX], tmp2[PATH_MAX], path[PATH_MAX], hex[65];
	char expect[PATH_MAX];
	struct stat st;

	path_in(f, "push1.tmp", tmp1, sizeof(tmp1));
	path_in(f, "push2.tmp", tmp2, sizeof(tmp2));
	write_file(tmp1, "unikernel bytes");
	write_file(tmp2, "unikernel bytes");
	block_digest(tmp1, hex);

	assert_int_equal(bb_image_store(f->dir, tmp1, hex), 0);
	assert_int_equal(bb_image_store(f->dir, tmp2, hex), 0);
	assert_int_equal(access(tmp1, F_OK), -1);
	assert_int_equal(access(tmp2, F_OK), -1);

	bb_image_path(f->dir, hex, path, sizeof(path));
	snprintf(expect, sizeof(expect), "%s/sha256/%s", f->dir, hex);
	assert_string_equal(path, expect);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 15);
	assert_int_equal(st.st_nlink, 1);

	/* A digest that is not 64 lowercase hex digits names nothing. */
	write_file(tmp1, "x");
	errno = 0;
	assert_int_equal(bb_image_store(f->dir, tmp1, "../../etc/passwd"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(access(tmp1, F_OK), 0);
}

/* A test run in a fresh temporary directory. */
#define IN_DIR(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_parse),
	    IN_DIR(test_create_sparse),
	    IN_DIR(test_create_bad_size),
	    IN_DIR(test_resize),
	    IN_DIR(test_lock),
	    IN_DIR(test_lock_killed_holder),
	    IN_DIR(test_delete),
	    IN_DIR(test_read_write),
	    IN_DIR(test_clone_sparse),
	    IN_DIR(test_clone_without_copy_file_range),
	    IN_DIR(test_clone_without_seek_data),
	    IN_DIR(test_clone_refused),
	    IN_DIR(test_image_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
