/*
 * Reading the Solo5 manifest of an untrusted image (solo5-manifest.h).
 *
 * The layout, as Solo5 v0.6+ builds it (include/solo5/mft_abi.h and
 * elf_abi.h there; x86_64 and aarch64 alike):
 *
 * - Notes named "Solo5" (namesz 6, padded to 8) in a PT_NOTE segment
 *   (and an SHT_NOTE section): type "MFT1" (0x3154464d) is the manifest,
 *   type "ABI1" (0x31494241) the target.
 * - The MFT1 descriptor holds a struct aligned to 8 bytes: its content
 *   starts 24 bytes into the note (the 12-byte header, the 8-byte name,
 *   4 bytes of padding counted in descsz): u32 version (1), u32 entries,
 *   then entries of 104 bytes: name[68] (NUL-terminated), u32 type (1
 *   block, 2 net, 1<<30 for the reserved first entry), then device
 *   properties and host-side fields the tender fills in, all ignored here.
 * - The ABI1 descriptor: u32 target (1 hvt, 2 spt, 3 virtio, 4 muen,
 *   5 genode, 6 xen), u32 ABI version, two reserved u32.
 *
 * Every field is read little-endian through bounds-checked accessors;
 * the file is read with pread() piece by piece, never mapped whole.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "solo5-manifest.h"

#define ELF_EHDR_SIZE 64
#define ELF_PHDR_SIZE 56
#define ELF_SHDR_SIZE 64
#define ELF_PT_NOTE 4
#define ELF_SHT_NOTE 7
#define ELF_MAX_HEADERS 1024	/* program or section headers looked at */
#define ELF_NOTES_MAX (1024 * 1024)	/* bytes of one note region */

#define NOTE_HDR_SIZE 12
#define SOLO5_NOTE_NAME "Solo5"	/* with its NUL: namesz 6 */
#define SOLO5_NOTE_MFT1 0x3154464dU
#define SOLO5_NOTE_ABI1 0x31494241U

#define MFT_VERSION 1
#define MFT_ENTRY_SIZE 104
#define MFT_NAME_SIZE 68
#define MFT_HEAD_SIZE 8	/* version, entries */
#define MFT_RESERVED_FIRST (1U << 30)

/* Where the bytes come from: a buffer, or a file read with pread(). */
struct mft_src {
	const uint8_t *buf;
	int fd;
	uint64_t size;
	char *err;
	size_t errlen;
};

/* What the note scan found so far. */
struct mft_scan {
	struct solo5_manifest *m;
	bool have_mft;
	bool have_abi;
};

static int
mft_fail(struct mft_src *src, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
mft_fail(struct mft_src *src, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(src->err, src->errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* len bytes at off, or -1 when the file is shorter. */
static int
mft_src_read(struct mft_src *src, uint64_t off, void *out, size_t len,
    const char *what)
{
	ssize_t n;

	if (off > src->size || len > src->size - off)
		return mft_fail(src, "truncated: %s at offset %llu (%zu bytes) "
		    "lies past the end of the file (%llu bytes)", what,
		    (unsigned long long)off, len,
		    (unsigned long long)src->size);
	if (src->buf != NULL) {
		memcpy(out, src->buf + off, len);
		return 0;
	}
	n = pread(src->fd, out, len, (off_t)off);
	if (n != (ssize_t)len) {
		snprintf(src->err, src->errlen, "read: %s",
		    n == -1 ? strerror(errno) : "short read");
		if (n != -1)
			errno = EIO;
		return -1;
	}
	return 0;
}

static const char *const solo5_targets[] = {
	NULL, "hvt", "spt", "virtio", "muen", "genode", "xen",
};

static int
mft_abi(struct mft_src *src, struct mft_scan *sc, const uint8_t *desc,
    uint32_t descsz)
{
	uint32_t target;

	if (sc->have_abi)
		return 0;
	if (descsz < 8)
		return mft_fail(src, "truncated ABI1 note: %u bytes", descsz);
	target = le32(desc);
	if (target == 0 || target >= sizeof(solo5_targets) /
	    sizeof(solo5_targets[0]))
		return mft_fail(src, "ABI1 note: unknown target %u", target);
	snprintf(sc->m->target, sizeof(sc->m->target), "%s",
	    solo5_targets[target]);
	sc->m->abi_version = le32(desc + 4);
	sc->have_abi = true;
	return 0;
}

/* One entry after the reserved first one: a terminated, alphanumeric,
 * unique name and a known type. */
static int
mft_entry(struct mft_src *src, struct solo5_manifest *m, const uint8_t *e,
    uint32_t i)
{
	const uint8_t *nul = memchr(e, '\0', MFT_NAME_SIZE);
	struct solo5_device *d = &m->devices[m->ndevices];
	uint32_t type = le32(e + MFT_NAME_SIZE);
	size_t k;

	if (nul == NULL)
		return mft_fail(src, "manifest entry %u: name is not "
		    "terminated within %d bytes", i, MFT_NAME_SIZE);
	if (nul == e)
		return mft_fail(src, "manifest entry %u: empty name", i);
	for (k = 0; e + k < nul; k++)
		if (!isascii(e[k]) || !isalnum(e[k]))
			return mft_fail(src, "manifest entry %u: name is not "
			    "alphanumeric", i);
	memcpy(d->name, e, (size_t)(nul - e) + 1);
	if (type != SOLO5_DEV_BLOCK && type != SOLO5_DEV_NET)
		return mft_fail(src, "manifest entry %u ('%s'): unknown device "
		    "type %u", i, d->name, type);
	d->type = (enum solo5_dev_type)type;
	for (k = 0; k < m->ndevices; k++)
		if (strcmp(m->devices[k].name, d->name) == 0)
			return mft_fail(src, "manifest: device '%s' is declared "
			    "twice", d->name);
	m->ndevices++;
	return 0;
}

/* The MFT1 content, len bytes from its (8-aligned) start. */
static int
mft_manifest(struct mft_src *src, struct mft_scan *sc, const uint8_t *p,
    uint64_t len)
{
	uint32_t version, entries, i;

	if (sc->have_mft)
		return 0;
	if (len < MFT_HEAD_SIZE)
		return mft_fail(src, "truncated manifest: %llu bytes",
		    (unsigned long long)len);
	version = le32(p);
	entries = le32(p + 4);
	if (version != MFT_VERSION)
		return mft_fail(src, "manifest version %u is not supported "
		    "(expected %d)", version, MFT_VERSION);
	if (entries == 0 || entries > SOLO5_MFT_MAX_ENTRIES)
		return mft_fail(src, "manifest has %u entries (1 to %d)",
		    entries, SOLO5_MFT_MAX_ENTRIES);
	if (len < MFT_HEAD_SIZE + (uint64_t)entries * MFT_ENTRY_SIZE)
		return mft_fail(src, "truncated manifest: %u entries need %llu "
		    "bytes, the note holds %llu", entries,
		    (unsigned long long)(MFT_HEAD_SIZE +
			(uint64_t)entries * MFT_ENTRY_SIZE),
		    (unsigned long long)len);
	p += MFT_HEAD_SIZE;
	if (le32(p + MFT_NAME_SIZE) != MFT_RESERVED_FIRST)
		return mft_fail(src, "manifest: the first entry is not the "
		    "reserved one");
	for (i = 1; i < entries; i++)
		if (mft_entry(src, sc->m, p + (size_t)i * MFT_ENTRY_SIZE, i) ==
		    -1)
			return -1;
	sc->have_mft = true;
	return 0;
}

/* Walks the notes of one PT_NOTE segment or SHT_NOTE section. */
static int
mft_notes(struct mft_src *src, struct mft_scan *sc, const uint8_t *r,
    uint64_t size)
{
	uint64_t pos = 0, desc, end, content;
	uint32_t namesz, descsz, type;

	while (size - pos >= NOTE_HDR_SIZE) {
		namesz = le32(r + pos);
		descsz = le32(r + pos + 4);
		type = le32(r + pos + 8);
		desc = pos + NOTE_HDR_SIZE + align_up(namesz, 4);
		end = desc + descsz;
		if (desc > size || end > size)
			return mft_fail(src, "truncated note at offset %llu of "
			    "its segment", (unsigned long long)pos);
		if (namesz == sizeof(SOLO5_NOTE_NAME) &&
		    memcmp(r + pos + NOTE_HDR_SIZE, SOLO5_NOTE_NAME,
			sizeof(SOLO5_NOTE_NAME)) == 0) {
			if (type == SOLO5_NOTE_ABI1 &&
			    mft_abi(src, sc, r + desc, descsz) == -1)
				return -1;
			/* the manifest struct is 8-aligned in the note */
			content = pos + align_up(desc - pos, 8);
			if (type == SOLO5_NOTE_MFT1 &&
			    mft_manifest(src, sc, r + content,
				content <= end ? end - content : 0) == -1)
				return -1;
		}
		pos = align_up(end, 4);
		if (pos >= size)
			break;
	}
	return 0;
}

static int
mft_region(struct mft_src *src, struct mft_scan *sc, uint64_t off,
    uint64_t size)
{
	uint8_t *r;
	int rc;

	if (size == 0)
		return 0;
	if (size > ELF_NOTES_MAX)
		return mft_fail(src, "a note segment of %llu bytes is too "
		    "large (at most %d)", (unsigned long long)size,
		    ELF_NOTES_MAX);
	if ((r = malloc(size)) == NULL)
		return mft_fail(src, "out of memory");
	rc = mft_src_read(src, off, r, size, "note segment");
	if (rc == 0)
		rc = mft_notes(src, sc, r, size);
	free(r);
	return rc;
}

/*
 * Every header of a table (program or section headers): for each whose
 * type is note_type, the note region at (offset field, size field).
 */
static int
mft_table(struct mft_src *src, struct mft_scan *sc, uint64_t off,
    unsigned entsize, unsigned num, unsigned want, const char *what)
{
	uint8_t h[ELF_SHDR_SIZE];
	unsigned i, type_at = want == ELF_PT_NOTE ? 0 : 4;
	unsigned off_at = want == ELF_PT_NOTE ? 8 : 24;
	unsigned size_at = 32;	/* p_filesz and sh_size alike */
	unsigned expect = want == ELF_PT_NOTE ? ELF_PHDR_SIZE : ELF_SHDR_SIZE;

	if (num == 0)
		return 0;
	if (entsize != expect)
		return mft_fail(src, "%s entry size %u (expected %u)", what,
		    entsize, expect);
	if (num > ELF_MAX_HEADERS)
		return mft_fail(src, "%u %s (at most %d)", num, what,
		    ELF_MAX_HEADERS);
	for (i = 0; i < num; i++) {
		if (mft_src_read(src, off + (uint64_t)i * entsize, h, entsize,
		    what) == -1)
			return -1;
		if (le32(h + type_at) != want)
			continue;
		if (mft_region(src, sc, le64(h + off_at), le64(h + size_at)) ==
		    -1)
			return -1;
	}
	return 0;
}

static int
mft_elf(struct mft_src *src, struct solo5_manifest *m)
{
	uint8_t eh[ELF_EHDR_SIZE];
	struct mft_scan sc = {.m = m};

	memset(m, 0, sizeof(*m));
	if (src->size < 4)
		return 1;
	if (mft_src_read(src, 0, eh, 4, "ELF magic") == -1)
		return -1;
	if (memcmp(eh, "\177ELF", 4) != 0)
		return 1;	/* not ELF: no manifest */
	if (mft_src_read(src, 0, eh, sizeof(eh), "ELF header") == -1)
		return -1;
	if (eh[4] != 2 || eh[5] != 1)	/* ELFCLASS64, ELFDATA2LSB */
		return 1;
	if (mft_table(src, &sc, le64(eh + 32), le16(eh + 54), le16(eh + 56),
	    ELF_PT_NOTE, "program headers") == -1)
		goto fail;
	if (!sc.have_mft && mft_table(src, &sc, le64(eh + 40), le16(eh + 58),
	    le16(eh + 60), ELF_SHT_NOTE, "section headers") == -1)
		goto fail;
	if (!sc.have_mft) {
		memset(m, 0, sizeof(*m));
		return 1;
	}
	return 0;
fail:
	memset(m, 0, sizeof(*m));
	return -1;
}

int
solo5_manifest_parse(const void *buf, size_t len, struct solo5_manifest *m,
    char *err, size_t errlen)
{
	struct mft_src src = {
		.buf = buf, .fd = -1, .size = len, .err = err, .errlen = errlen,
	};

	if (errlen > 0)
		err[0] = '\0';
	return mft_elf(&src, m);
}

int
solo5_manifest_read_fd(int fd, struct solo5_manifest *m, char *err,
    size_t errlen)
{
	struct mft_src src = {.fd = fd, .err = err, .errlen = errlen};
	struct stat st;

	memset(m, 0, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		errno = EINVAL;
		return -1;
	}
	src.size = (uint64_t)st.st_size;
	return mft_elf(&src, m);
}

const char *
solo5_dev_type_name(enum solo5_dev_type t)
{
	return t == SOLO5_DEV_NET ? "net" : "block";
}

json_t *
solo5_manifest_json(const struct solo5_manifest *m)
{
	json_t *devs = json_array();
	size_t i;

	for (i = 0; i < m->ndevices; i++)
		json_array_append_new(devs, json_pack("{s:s, s:s}", "name",
		    m->devices[i].name, "type",
		    solo5_dev_type_name(m->devices[i].type)));
	return json_pack("{s:o, s:i, s:o}", "target",
	    m->target[0] != '\0' ? json_string(m->target) : json_null(),
	    "abi_version", (int)m->abi_version, "devices", devs);
}

json_t *
solo5_manifest_fd_json(int fd, const char *path)
{
	struct solo5_manifest m;
	char err[256];

	switch (solo5_manifest_read_fd(fd, &m, err, sizeof(err))) {
	case 0:
		return solo5_manifest_json(&m);
	case 1:
		return json_null();
	default:
		return json_pack("{s:s++}", "error", path, ": ", err);
	}
}
