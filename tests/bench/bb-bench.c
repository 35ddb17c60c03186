/*
 * Benchmark of blockbackend/ on a real disk (see tests/bench/README.md):
 * importing and exporting 1 GiB in 1 MiB ranges with bb_block_write/
 * bb_block_read plus sha256, as the API does, against cp(1) of the same
 * file in the same run; and bb_block_clone of sparse blocks of several
 * sizes and amounts of data, to show the clone follows the data.
 *
 *	bb-bench [DIR]		DIR defaults to /var/tmp; never use a tmpfs
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blockbackend.h"

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)
#define RANGE MiB
#define ROUNDS 5

static char dir[PATH_MAX];
static char buf[RANGE];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
path_in(const char *name, char *out)
{
	snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

/* Bytes that neither compress nor look like holes (xorshift64). */
static void
fill_random(uint64_t *state)
{
	uint64_t x = *state, *p = (uint64_t *)(void *)buf;
	size_t i;

	for (i = 0; i < RANGE / sizeof(*p); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
	*state = x;
}

static void
file_sync(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd == -1 || fsync(fd) == -1)
		err(1, "fsync %s", path);
	close(fd);
}

static void
make_source(const char *path)
{
	uint64_t off, seed = 0x9e3779b97f4a7c15ULL;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		err(1, "%s", path);
	for (off = 0; off < GiB; off += RANGE) {
		fill_random(&seed);
		if (write(fd, buf, RANGE) != (ssize_t)RANGE)
			err(1, "write %s", path);
	}
	if (fsync(fd) == -1 || close(fd) == -1)
		err(1, "%s", path);
}

/* Seconds for cp SRC DST, the baseline. */
static double
run_cp(const char *src, const char *dst)
{
	double t0 = now();
	int wstatus;
	pid_t pid;

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		execlp("cp", "cp", src, dst, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &wstatus, 0) == -1 || !WIFEXITED(wstatus) ||
	    WEXITSTATUS(wstatus) != 0)
		errx(1, "cp failed");
	return now() - t0;
}

/* The API's import: ranges read from the client, hashed, written. */
static double
run_import(const char *src, const char *blk, char hex[65])
{
	struct bb_sha256 s;
	uint64_t off;
	double t0 = now();
	ssize_t n;
	int fd;

	if (bb_block_create(blk, GiB, getuid(), getgid()) == -1)
		err(1, "create %s", blk);
	if ((fd = open(src, O_RDONLY)) == -1)
		err(1, "%s", src);
	bb_sha256_init(&s);
	for (off = 0; (n = read(fd, buf, RANGE)) > 0; off += (uint64_t)n) {
		bb_sha256_update(&s, buf, (size_t)n);
		if (bb_block_write(blk, off, buf, (size_t)n) == -1)
			err(1, "write %s", blk);
	}
	if (n == -1)
		err(1, "read %s", src);
	close(fd);
	bb_sha256_final(&s, hex);
	return now() - t0;
}

/* The API's export: ranges read, hashed, sent to the client (a file;
 * with dst NULL, nowhere: the daemon's side alone). */
static double
run_export(const char *blk, const char *dst, char hex[65])
{
	struct bb_sha256 s;
	uint64_t off = 0;
	double t0 = now();
	size_t got;
	int fd = -1;

	if (dst != NULL &&
	    (fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", dst);
	bb_sha256_init(&s);
	for (;;) {
		if (bb_block_read(blk, off, buf, RANGE, &got) == -1)
			err(1, "read %s", blk);
		if (got == 0)
			break;
		bb_sha256_update(&s, buf, got);
		if (dst != NULL && write(fd, buf, got) != (ssize_t)got)
			err(1, "write %s", dst);
		off += got;
	}
	if (dst != NULL)
		close(fd);
	bb_sha256_final(&s, hex);
	return now() - t0;
}

static double
run_sha256(const char *src)
{
	struct bb_sha256 s;
	double t0 = now();
	char hex[65];
	ssize_t n;
	int fd;

	if ((fd = open(src, O_RDONLY)) == -1)
		err(1, "%s", src);
	bb_sha256_init(&s);
	while ((n = read(fd, buf, RANGE)) > 0)
		bb_sha256_update(&s, buf, (size_t)n);
	close(fd);
	bb_sha256_final(&s, hex);
	return now() - t0;
}

/* Seconds of fsync of path, added to a run to get the time to disk. */
static double
time_sync(const char *path)
{
	double t0 = now();

	file_sync(path);
	return now() - t0;
}

static double
min2(double a, double b)
{
	return a < b ? a : b;
}

static void
bench_transfer(void)
{
	char src[PATH_MAX], cpy[PATH_MAX], blk[PATH_MAX], out[PATH_MAX];
	char hin[65], hout[65];
	double cp = 1e9, cps = 1e9, im = 1e9, ims = 1e9, ex = 1e9, exs = 1e9;
	double sha = 1e9, exd = 1e9, t;
	int r;

	path_in("source.raw", src);
	path_in("cp.raw", cpy);
	path_in("block.img", blk);
	path_in("export.raw", out);
	make_source(src);
	for (r = 0; r < ROUNDS; r++) {
		t = run_cp(src, cpy);
		cp = min2(cp, t);
		cps = min2(cps, t + time_sync(cpy));
		t = run_import(src, blk, hin);
		im = min2(im, t);
		ims = min2(ims, t + time_sync(blk));
		t = run_export(blk, out, hout);
		ex = min2(ex, t);
		exs = min2(exs, t + time_sync(out));
		exd = min2(exd, run_export(blk, NULL, hout));
		sha = min2(sha, run_sha256(src));
		if (strcmp(hin, hout) != 0)
			errx(1, "export digest %s != import %s", hout, hin);
		unlink(cpy);
		unlink(blk);
		unlink(out);
	}
	unlink(src);

	printf("1 GiB in 1 MiB ranges, best of %d, source in page cache\n",
	    ROUNDS);
	printf(
	    "%-22s %9s %9s %10s %10s\n", "", "s", "MiB/s", "s+fsync", "MiB/s");
	printf("%-22s %9.3f %9.0f %10.3f %10.0f\n", "cp", cp, 1024 / cp, cps,
	    1024 / cps);
	printf("%-22s %9.3f %9.0f %10.3f %10.0f  (%.2f / %.2f of cp)\n",
	    "import (write+sha256)", im, 1024 / im, ims, 1024 / ims, cp / im,
	    cps / ims);
	printf("%-22s %9.3f %9.0f %10.3f %10.0f  (%.2f / %.2f of cp)\n",
	    "export (read+sha256)", ex, 1024 / ex, exs, 1024 / exs, cp / ex,
	    cps / exs);
	printf(
	    "%-22s %9.3f %9.0f\n", "export, no output file", exd, 1024 / exd);
	printf("%-22s %9.3f %9.0f\n", "sha256 alone", sha, 1024 / sha);
	printf("digest %s\n\n", hin);
}

/* Clone of a size-byte block holding data bytes in 1 MiB pieces spread
 * evenly over it. */
static void
bench_clone(uint64_t size, uint64_t data)
{
	char blk[PATH_MAX], cln[PATH_MAX];
	struct bb_block_info info;
	uint64_t n = data / RANGE, i, seed = 42;
	double t0, t;

	path_in("clone-src.img", blk);
	path_in("clone-dst.img", cln);
	if (bb_block_create(blk, size, getuid(), getgid()) == -1)
		err(1, "create %s", blk);
	for (i = 0; i < n; i++) {
		fill_random(&seed);
		if (bb_block_write(blk, i * (size / n), buf, RANGE) == -1)
			err(1, "write %s", blk);
	}
	file_sync(blk);
	t0 = now();
	if (bb_block_clone(blk, cln) == -1)
		err(1, "clone");
	t = now() - t0;
	if (bb_block_stat(cln, &info) == -1)
		err(1, "stat");
	printf("%8llu MiB %8llu MiB %10.3f %14.1f\n",
	    (unsigned long long)(size / MiB), (unsigned long long)(data / MiB),
	    t, (double)info.allocated / (double)MiB);
	unlink(cln);
	unlink(blk);
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int
main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/var/tmp";

	snprintf(dir, sizeof(dir), "%s/bb-bench.XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		err(1, "mkdtemp %s", dir);
	bench_transfer();
	printf("clone (bb_block_clone, includes fsync)\n");
	printf("%12s %12s %10s %14s\n", "size", "data", "s", "allocated MiB");
	bench_clone(GiB, 10 * MiB);
	bench_clone(GiB, 100 * MiB);
	bench_clone(8 * GiB, 10 * MiB);
	bench_clone(64 * GiB, 10 * MiB);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
