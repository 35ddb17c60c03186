/*
 * Builds Solo5-shaped ELF images for the tests: an ELF64 header, one
 * PT_NOTE program header (or one SHT_NOTE section header), the "MFT1"
 * manifest note and the "ABI1" target note laid out as Solo5's
 * toolchain lays them out.
 */
#ifndef UNIKD_TEST_SOLO5_ELF_H
#define UNIKD_TEST_SOLO5_ELF_H

#include <stddef.h>
#include <stdint.h>

struct solo5_elf_dev {
	const char *name;
	uint32_t type;		/* 1 block, 2 net */
};

#define SOLO5_ELF_MAX 16384

struct solo5_elf {
	uint8_t buf[SOLO5_ELF_MAX];
	size_t len;
	size_t mft_off;		/* where the manifest content starts */
};

/*
 * devs: the entries after the reserved first one; target 0 leaves the
 * ABI note out. by_section: reach the notes through a section header.
 */
void solo5_elf_build(struct solo5_elf *e, const struct solo5_elf_dev *devs,
    size_t ndevs, uint32_t target, int by_section);
/* Writes the image to path (0644). */
void solo5_elf_write(const struct solo5_elf *e, const char *path);
/* Writes the image to a new file named from the mkstemp() template tmpl
 * (0644). */
void solo5_elf_create(const struct solo5_elf *e, char *tmpl);

#endif
