/*
 * unikctl block: blocks (/v1/blocks). create, ls, inspect, rm, resize and
 * clone are one request each; import and export move a file's bytes in
 * 4 MiB ranged pieces (so neither side holds the whole block), hash what
 * they send or receive with sha256 and print the digest. An import that
 * was cut off resumes at the offset unikd recorded, when the same file
 * (same size) is imported again.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "ctl.h"
#include "ctl-data.h"

#define BLOCK_PIECE (4 << 20)

static const struct ctl_kind block_kind = {
    &ctl_cmd_block, "block", "/v1/blocks", "BLK"};

/* Prints a block (its JSON with --json, else its name). */
static int
block_done(struct ctl *c, json_t *reply, int rc)
{
	if (rc != 0)
		return rc;
	if (c->ctl_json)
		ctl_print_json(reply);
	else
		printf("%s\n", ctl_jstr(reply, "name"));
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* A size argument: digits (bytes) go as a number, the rest ("64M") as a
 * string for unikd to parse. */
static json_t *
block_size_json(const char *arg)
{
	long long n;

	if (ctl_parse_uint(arg, (1LL << 62), &n) == 0)
		return json_integer(n);
	return json_string(arg);
}

static int
block_create(struct ctl *c, int argc, char **argv)
{
	json_t *body, *reply = NULL;
	int rc;

	if ((rc = ctl_args(&ctl_cmd_block, argc, argv, 2, "BLK SIZE")) != 0)
		return rc;
	body = json_pack(
	    "{s:s, s:o}", "name", argv[1], "size", block_size_json(argv[2]));
	rc = ctl_call(c, "POST", "/v1/blocks", body, &reply);
	json_decref(body);
	return block_done(c, reply, rc);
}

static int
block_row(struct ctl_table *t, const json_t *b)
{
	char size[32], alloc[32], users[256] = "-";
	const json_t *u = json_object_get(b, "used_by");
	const char *row[5];
	size_t i, off = 0;

	ctl_data_size(
	    size, sizeof(size), json_integer_value(json_object_get(b, "size")));
	ctl_data_size(alloc, sizeof(alloc),
	    json_integer_value(json_object_get(b, "allocated")));
	for (i = 0; i < json_array_size(u) && off < sizeof(users); i++)
		off +=
		    (size_t)snprintf(users + off, sizeof(users) - off, "%s%s",
		        i ? "," : "", json_string_value(json_array_get(u, i)));
	row[0] = ctl_jstr(b, "name");
	row[1] = size;
	row[2] = alloc;
	row[3] = ctl_jstr(b, "attached_to");
	row[4] = users;
	return ctl_table_add(t, row);
}

static int
block_ls(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = {
	    "NAME", "SIZE", "ALLOCATED", "ATTACHED_TO", "USED_BY"};
	int rc;

	if ((rc = ctl_args(&ctl_cmd_block, argc, argv, 0, "no argument")) != 0)
		return rc;
	return ctl_list(c, "/v1/blocks", "blocks", header, 5, block_row);
}

static int
block_inspect(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &block_kind, 1, argc, argv, "GET");
}

static int
block_rm(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &block_kind, 1, argc, argv, "DELETE");
}

static int
block_resize(struct ctl *c, int argc, char **argv)
{
	json_t *body, *reply = NULL;
	char path[512];
	int rc, force = 0;

	if (argc == 4 && strcmp(argv[3], "--force") == 0) {
		force = 1;
		argc--;
	}
	if ((rc = ctl_args(
	         &ctl_cmd_block, argc, argv, 2, "BLK SIZE [--force]")) != 0)
		return rc;
	if (ctl_kind_path(
	        path, sizeof(path), &block_kind, argv[1], "/resize") == -1)
		return CTL_EXIT_FAIL;
	body = json_pack(
	    "{s:o, s:b}", "size", block_size_json(argv[2]), "force", force);
	rc = ctl_call(c, "POST", path, body, &reply);
	json_decref(body);
	return block_done(c, reply, rc);
}

static int
block_clone(struct ctl *c, int argc, char **argv)
{
	json_t *body, *reply = NULL;
	char path[512];
	int rc;

	if ((rc = ctl_args(&ctl_cmd_block, argc, argv, 2, "SRC DST")) != 0)
		return rc;
	if (ctl_kind_path(path, sizeof(path), &block_kind, argv[1], "/clone") ==
	    -1)
		return CTL_EXIT_FAIL;
	body = json_pack("{s:s}", "name", argv[2]);
	rc = ctl_call(c, "POST", path, body, &reply);
	json_decref(body);
	return block_done(c, reply, rc);
}

/* Where an import of a file of size bytes starts: unikd's next_offset
 * when it records an unfinished import of the same size, else 0. */
static long long
block_resume_offset(struct ctl *c, const char *blk, long long size)
{
	const json_t *imp;
	char path[512];
	json_t *reply;
	long long next = 0;

	if (ctl_kind_path(path, sizeof(path), &block_kind, blk, "") == -1 ||
	    ctl_call(c, "GET", path, NULL, &reply) != 0)
		return -1;
	imp = json_object_get(reply, "import");
	if (json_is_object(imp) &&
	    json_integer_value(json_object_get(imp, "total")) == size)
		next = json_integer_value(json_object_get(imp, "next_offset"));
	json_decref(reply);
	return next >= 0 && next < size ? next : 0;
}

/* Hashes the first len bytes of fd (the part sent before a resume). */
static int
block_hash_prefix(int fd, long long len, struct bb_sha256 *d, char *buf)
{
	long long off = 0;
	ssize_t n;

	while (off < len) {
		n = pread(fd, buf,
		    len - off < BLOCK_PIECE ? (size_t)(len - off) : BLOCK_PIECE,
		    off);
		if (n <= 0)
			return -1;
		bb_sha256_update(d, buf, (size_t)n);
		off += n;
	}
	return 0;
}

/* Sends the file from off on, piece by piece; the last reply in *last. */
static int
block_send(struct ctl_data *dc, const char *path, int fd, long long off,
    long long size, struct bb_sha256 *d, char *buf, json_t **last)
{
	char range[96];
	ssize_t n;
	int rc;

	*last = NULL;
	while (off < size) {
		n = pread(fd, buf,
		    size - off < BLOCK_PIECE ? (size_t)(size - off)
		                             : BLOCK_PIECE,
		    off);
		if (n <= 0) {
			fprintf(stderr, "unikctl: read: %s\n",
			    n == 0 ? "file shrank" : strerror(errno));
			return CTL_EXIT_FAIL;
		}
		bb_sha256_update(d, buf, (size_t)n);
		snprintf(range, sizeof(range), "bytes %lld-%lld/%lld", off,
		    off + n - 1, size);
		json_decref(*last);
		if ((rc = ctl_data_put(
		         dc, path, buf, (size_t)n, range, last)) != 0)
			return rc;
		off += n;
	}
	return CTL_EXIT_OK;
}

static int
block_import_fd(
    struct ctl *c, const char *blk, int fd, long long size, char *buf)
{
	const char *theirs;
	char path[512], hex[65];
	struct ctl_data *dc;
	struct bb_sha256 d;
	long long off;
	json_t *last = NULL;
	int rc;

	if ((off = block_resume_offset(c, blk, size)) < 0)
		return CTL_EXIT_FAIL;
	if (off > 0)
		fprintf(stderr,
		    "unikctl: resuming the import of '%s' at "
		    "byte %lld\n",
		    blk, off);
	bb_sha256_init(&d);
	if (block_hash_prefix(fd, off, &d, buf) == -1 ||
	    ctl_kind_path(path, sizeof(path), &block_kind, blk, "/data") ==
	        -1 ||
	    (dc = ctl_data_open(c)) == NULL)
		return CTL_EXIT_FAIL;
	rc = block_send(dc, path, fd, off, size, &d, buf, &last);
	ctl_data_close(dc);
	if (rc == 0) {
		bb_sha256_final(&d, hex);
		theirs = json_string_value(json_object_get(last, "sha256"));
		if (theirs == NULL || strcmp(theirs, hex) != 0) {
			fprintf(stderr,
			    "unikctl: sha256 mismatch: sent %s, "
			    "unikd has %s\n",
			    hex, theirs ? theirs : "none");
			rc = CTL_EXIT_FAIL;
		} else
			printf("sha256 %s  %lld bytes\n", hex, size);
	}
	json_decref(last);
	return rc;
}

static int
block_import(struct ctl *c, int argc, char **argv)
{
	struct stat st;
	char *buf;
	int fd, rc;

	if ((rc = ctl_args(&ctl_cmd_block, argc, argv, 2, "BLK FILE")) != 0)
		return rc;
	if ((fd = open(argv[2], O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		fprintf(stderr, "unikctl: %s: %s\n", argv[2], strerror(errno));
		if (fd != -1)
			close(fd);
		return CTL_EXIT_FAIL;
	}
	if (st.st_size == 0) {
		fprintf(stderr, "unikctl: %s is empty\n", argv[2]);
		close(fd);
		return CTL_EXIT_FAIL;
	}
	if ((buf = malloc(BLOCK_PIECE)) == NULL) {
		close(fd);
		return CTL_EXIT_FAIL;
	}
	rc = block_import_fd(c, argv[1], fd, (long long)st.st_size, buf);
	free(buf);
	close(fd);
	return rc;
}

static bool
block_zero(const char *buf, size_t len)
{
	return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/* Receives the block into fd; pieces of zeros stay holes. */
static int
block_receive(struct ctl_data *dc, const char *blk, int fd, long long size,
    struct bb_sha256 *d, char *buf)
{
	char path[600], sub[96];
	long long off = 0;
	size_t got;
	int rc;

	while (off < size) {
		snprintf(sub, sizeof(sub), "/data?offset=%lld&length=%d", off,
		    BLOCK_PIECE);
		if (ctl_kind_path(path, sizeof(path), &block_kind, blk, sub) ==
		    -1)
			return CTL_EXIT_FAIL;
		if ((rc = ctl_data_get(dc, path, buf, BLOCK_PIECE, &got)) != 0)
			return rc;
		if (got == 0)
			break;
		bb_sha256_update(d, buf, got);
		if (!block_zero(buf, got) &&
		    pwrite(fd, buf, got, off) != (ssize_t)got) {
			fprintf(
			    stderr, "unikctl: write: %s\n", strerror(errno));
			return CTL_EXIT_FAIL;
		}
		off += (long long)got;
	}
	if (ftruncate(fd, off) == -1 || fsync(fd) == -1) {
		fprintf(stderr, "unikctl: %s\n", strerror(errno));
		return CTL_EXIT_FAIL;
	}
	return off == size ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

static int
block_export(struct ctl *c, int argc, char **argv)
{
	struct ctl_data *dc = NULL;
	char path[512], hex[65], *buf = NULL;
	struct bb_sha256 d;
	json_t *reply;
	long long size;
	int fd = -1, rc;

	if ((rc = ctl_args(&ctl_cmd_block, argc, argv, 2, "BLK FILE")) != 0)
		return rc;
	if (ctl_kind_path(path, sizeof(path), &block_kind, argv[1], "") == -1)
		return CTL_EXIT_FAIL;
	if ((rc = ctl_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	size = json_integer_value(json_object_get(reply, "size"));
	json_decref(reply);
	rc = CTL_EXIT_FAIL;
	if ((fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	         0600)) == -1) {
		fprintf(stderr, "unikctl: %s: %s\n", argv[2], strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if ((buf = malloc(BLOCK_PIECE)) == NULL ||
	    (dc = ctl_data_open(c)) == NULL)
		goto out;
	bb_sha256_init(&d);
	if ((rc = block_receive(dc, argv[1], fd, size, &d, buf)) == 0) {
		bb_sha256_final(&d, hex);
		printf("sha256 %s  %lld bytes\n", hex, size);
	}
out:
	ctl_data_close(dc);
	free(buf);
	close(fd);
	return rc;
}

static const struct ctl_sub block_subs[] = {
    {"create", block_create},
    {"ls", block_ls},
    {"inspect", block_inspect},
    {"rm", block_rm},
    {"resize", block_resize},
    {"clone", block_clone},
    {"import", block_import},
    {"export", block_export},
};

const struct ctl_cmd ctl_cmd_block = {
    .name = "block",
    .usage = "create BLK SIZE | ls | inspect BLK | rm BLK\n"
             "       unikctl block resize BLK SIZE [--force] | "
             "clone SRC DST\n"
             "       unikctl block import BLK FILE | export BLK FILE",
    .summary = "manage blocks (data disks of VMs), import and export them",
    .subs = block_subs,
    .nsubs = sizeof(block_subs) / sizeof(block_subs[0]),
};
