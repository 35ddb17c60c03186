/* Solo5-shaped ELF images for the tests (solo5-elf.h). */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "solo5-elf.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* A note header named "Solo5" at p: 20 bytes. */
static void
note_header(uint8_t *p, uint32_t descsz, uint32_t type)
{
	put32(p, 6);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, "Solo5\0\0\0", 8);
}

void
solo5_elf_build(struct solo5_elf *e, const struct solo5_elf_dev *devs,
    size_t ndevs, uint32_t target, int by_section)
{
	uint8_t *b = e->buf, *ent;
	size_t notes = 64 + 64, pos, i, nent = ndevs + 1;
	size_t mft_desc = 4 + 8 + nent * 104;

	memset(e, 0, sizeof(*e));
	memcpy(b, "\177ELF", 4);
	b[4] = 2;	/* ELFCLASS64 */
	b[5] = 1;	/* little-endian */
	b[6] = 1;
	put16(b + 16, 2);	/* ET_EXEC */
	put16(b + 18, 62);	/* x86_64 */
	put32(b + 20, 1);
	put16(b + 52, 64);
	if (by_section) {
		put64(b + 40, 64);	/* e_shoff */
		put16(b + 58, 64);
		put16(b + 60, 1);
	} else {
		put64(b + 32, 64);	/* e_phoff */
		put16(b + 54, 56);
		put16(b + 56, 1);
	}
	/* the manifest note, 8-aligned, then the ABI note */
	pos = notes;
	note_header(b + pos, (uint32_t)mft_desc, 0x3154464d);
	e->mft_off = pos + 24;
	put32(b + pos + 24, 1);			/* version */
	put32(b + pos + 28, (uint32_t)nent);	/* entries */
	ent = b + pos + 32;
	put32(ent + 68, 1U << 30);		/* reserved first */
	for (i = 0; i < ndevs; i++) {
		ent += 104;
		strncpy((char *)ent, devs[i].name, 67);
		put32(ent + 68, devs[i].type);
	}
	pos += 20 + mft_desc;
	if (target != 0) {
		note_header(b + pos, 16, 0x31494241);
		put32(b + pos + 20, target);
		put32(b + pos + 24, 2);		/* ABI version */
		pos += 36;
	}
	if (by_section) {
		put32(b + 64 + 4, 7);		/* SHT_NOTE */
		put64(b + 64 + 24, notes);
		put64(b + 64 + 32, pos - notes);
	} else {
		put32(b + 64, 4);		/* PT_NOTE */
		put64(b + 64 + 8, notes);
		put64(b + 64 + 32, pos - notes);
		put64(b + 64 + 48, 8);
	}
	e->len = pos;
}

void
solo5_elf_write(const struct solo5_elf *e, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd == -1 || write(fd, e->buf, e->len) != (ssize_t)e->len)
		abort();
	close(fd);
}

void
solo5_elf_create(const struct solo5_elf *e, char *tmpl)
{
	int fd = mkstemp(tmpl);

	if (fd == -1 || fchmod(fd, 0644) == -1 ||
	    write(fd, e->buf, e->len) != (ssize_t)e->len)
		abort();
	close(fd);
}
