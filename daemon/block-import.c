/*
 * Blocks: ranged import and export (see block.h). A sequential import
 * keeps its running SHA-256 in the block's record, so the digest of the
 * whole file is known when the last piece lands; an import out of order
 * reads the file back once at the end instead.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "block.h"
#include "block-internal.h"
#include "log.h"
#include "uerr.h"
#include "unikd.h"

#define BLOCK_READBACK (1024 * 1024)	/* piece of a digest read back */

/* The running digest of a sequential import, kept in the record. */
static json_t *
block_digest_json(const struct bb_sha256 *d)
{
	static const char hex[] = "0123456789abcdef";
	json_t *h = json_array();
	char buf[2 * sizeof(d->buf) + 1];
	size_t i;

	for (i = 0; i < 8; i++)
		json_array_append_new(h, json_integer(d->h[i]));
	for (i = 0; i < d->nbuf; i++) {
		buf[2 * i] = hex[d->buf[i] >> 4];
		buf[2 * i + 1] = hex[d->buf[i] & 15];
	}
	buf[2 * d->nbuf] = '\0';
	return json_pack("{s:o, s:I, s:s}", "h", h, "len", (json_int_t)d->len,
	    "buf", buf);
}

static int
block_digest_parse(const json_t *o, struct bb_sha256 *d)
{
	const json_t *h = json_object_get(o, "h");
	const char *buf = json_string_value(json_object_get(o, "buf"));
	unsigned byte;
	size_t i;

	if (json_array_size(h) != 8 || buf == NULL ||
	    strlen(buf) % 2 != 0 || strlen(buf) / 2 >= sizeof(d->buf))
		return -1;
	for (i = 0; i < 8; i++)
		d->h[i] = (uint32_t)json_integer_value(json_array_get(h, i));
	d->len = (uint64_t)json_integer_value(json_object_get(o, "len"));
	d->nbuf = strlen(buf) / 2;
	for (i = 0; i < d->nbuf; i++) {
		if (sscanf(buf + 2 * i, "%2x", &byte) != 1)
			return -1;
		d->buf[i] = (uint8_t)byte;
	}
	return 0;
}

/* The digest of the block's first total bytes, read back from disk. */
static int
block_digest_read(const char *path, uint64_t total, char hex[65])
{
	struct bb_sha256 d;
	uint64_t off = 0;
	size_t got, want;
	char *buf;

	if ((buf = malloc(BLOCK_READBACK)) == NULL)
		return -1;
	bb_sha256_init(&d);
	while (off < total) {
		want = total - off < BLOCK_READBACK ? (size_t)(total - off)
		                                    : BLOCK_READBACK;
		if (bb_block_read(path, off, buf, want, &got) == -1 ||
		    got == 0) {
			free(buf);
			return -1;
		}
		bb_sha256_update(&d, buf, got);
		off += got;
	}
	free(buf);
	bb_sha256_final(&d, hex);
	return 0;
}

/* Where the running digest stands before a piece at offset: fresh at 0,
 * the stored one when the piece continues the import, else none. */
static bool
block_digest_resume(const json_t *imp, uint64_t offset, struct bb_sha256 *d)
{
	if (offset == 0) {
		bb_sha256_init(d);
		return true;
	}
	return imp != NULL &&
	    (uint64_t)json_integer_value(json_object_get(imp,
		"next_offset")) == offset &&
	    block_digest_parse(json_object_get(imp, "digest"), d) == 0 &&
	    d->len == offset;
}

/* Refuses a piece that does not fit before anything is written. */
static int
block_import_fits(const char *name, const char *path, uint64_t offset,
    uint64_t total, size_t len, struct uerr *e)
{
	struct bb_block_info info;

	if (bb_block_stat(path, &info) == -1)
		return uerr_set(e, UERR_INTERNAL, "block '%s': %s: %s", name,
		    path, strerror(errno));
	if (total > info.size)
		return uerr_set(e, UERR_TOO_LARGE,
		    "import of %" PRIu64 " bytes exceeds block size (block "
		    "'%s' holds %" PRIu64 " bytes)", total, name, info.size);
	if (offset > info.size || len > info.size - offset)
		return uerr_set(e, UERR_TOO_LARGE,
		    "a piece of %zu bytes at offset %" PRIu64 " ends past the "
		    "end of block '%s' (%" PRIu64 " bytes)", len, offset, name,
		    info.size);
	return 0;
}

/* Records the import's progress, or its end; *hex when it ended. */
static int
block_import_record(struct unikd *u, const char *name, json_t *spec,
    const char *path, uint64_t end, uint64_t total, struct bb_sha256 *d,
    bool digest_ok, char hex[65], struct uerr *e)
{
	hex[0] = '\0';
	if (total != 0 && end == total) {
		if (digest_ok)
			bb_sha256_final(d, hex);
		else if (block_digest_read(path, total, hex) == -1)
			return uerr_set(e, UERR_INTERNAL,
			    "block '%s': reading back for the digest: %s",
			    name, strerror(errno));
		json_object_del(spec, "import");
	} else {
		json_object_set_new(spec, "import", json_pack("{s:I, s:I}",
		    "next_offset", (json_int_t)end, "total",
		    (json_int_t)total));
		if (digest_ok)
			json_object_set_new(json_object_get(spec, "import"),
			    "digest", block_digest_json(d));
	}
	return block_rec_save(u, name, spec, e);
}

int
block_import(struct unikd *u, const char *name, uint64_t offset,
    uint64_t total, const void *buf, size_t len, json_t **out,
    struct uerr *e)
{
	struct bb_sha256 d;
	struct block_rec r;
	char path[4096], hex[65];
	bool digest_ok;
	int fd = -1, rc = -1;

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	block_path(u, name, path, sizeof(path));
	if (block_import_fits(name, path, offset, total, len, e) == -1 ||
	    block_lock(u, name, &fd, e) == -1)
		goto out;
	digest_ok = block_digest_resume(json_object_get(r.spec, "import"),
	    offset, &d);
	if (bb_block_write(path, offset, buf, len) == -1) {
		uerr_set(e, UERR_INTERNAL, "block '%s': write: %s", name,
		    strerror(errno));
		goto out;
	}
	if (digest_ok)
		bb_sha256_update(&d, buf, len);
	if (block_import_record(u, name, r.spec, path, offset + len, total,
	    &d, digest_ok, hex, e) == -1 ||
	    block_reply(u, name, r.spec, out, e) == -1)
		goto out;
	json_object_set_new(*out, "written", json_integer((json_int_t)len));
	if (hex[0] != '\0') {
		json_object_set_new(*out, "sha256", json_string(hex));
		log_info("block=%s action=import bytes=%" PRIu64 " sha256=%s",
		    name, total, hex);
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	json_decref(r.spec);
	return rc;
}

int
block_export(struct unikd *u, const char *name, uint64_t offset,
    uint64_t len, int *fdp, uint64_t *n, struct uerr *e)
{
	struct block_rec r;
	struct stat st;
	uint64_t size;
	int fd;

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	json_decref(r.spec);
	/* A running VM writes as we read: the copy would be torn. */
	if (block_lock(u, name, &fd, e) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		uerr_set(e, UERR_INTERNAL, "block '%s': %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (offset > size) {
		close(fd);
		return uerr_set(e, UERR_RANGE,
		    "query parameter 'offset': %" PRIu64 " is past the end "
		    "of block '%s' (%" PRIu64 " bytes)", offset, name, size);
	}
	*n = len < size - offset ? len : size - offset;
	*fdp = fd;
	return 0;
}
