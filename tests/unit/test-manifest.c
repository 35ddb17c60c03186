/*
 * Unit tests for the Solo5 manifest reader (daemon/solo5-manifest.c) and
 * the check against a VM's devices (daemon/tender-manifest.c), on images
 * laid out as Solo5's toolchain lays them out, and on broken ones.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "solo5-elf.h"
#include "solo5-manifest.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

static const struct solo5_elf_dev two_devs[] = {
	{"service", 2},
	{"storage", 1},
};

static struct solo5_elf img;

static int
parse(struct solo5_manifest *m, char *err, size_t len)
{
	return solo5_manifest_parse(img.buf, img.len, m, err, len);
}

static void
test_valid(void **state)
{
	struct solo5_manifest m;
	char err[256];
	json_t *j;
	char *s;

	(void)state;
	solo5_elf_build(&img, two_devs, 2, 2, 0);
	assert_int_equal(parse(&m, err, sizeof(err)), 0);
	assert_string_equal(m.target, "spt");
	assert_int_equal(m.abi_version, 2);
	assert_int_equal(m.ndevices, 2);
	assert_string_equal(m.devices[0].name, "service");
	assert_int_equal(m.devices[0].type, SOLO5_DEV_NET);
	assert_string_equal(m.devices[1].name, "storage");
	assert_int_equal(m.devices[1].type, SOLO5_DEV_BLOCK);
	j = solo5_manifest_json(&m);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "{\"target\":\"spt\",\"abi_version\":2,"
	    "\"devices\":[{\"name\":\"service\",\"type\":\"net\"},"
	    "{\"name\":\"storage\",\"type\":\"block\"}]}");
	free(s);
	json_decref(j);
}

static void
test_section_and_no_abi(void **state)
{
	struct solo5_manifest m;
	char err[256];

	(void)state;
	solo5_elf_build(&img, two_devs, 1, 0, 1);
	assert_int_equal(parse(&m, err, sizeof(err)), 0);
	assert_string_equal(m.target, "");
	assert_int_equal(m.ndevices, 1);
}

static void
test_not_solo5(void **state)
{
	static const char text[] = "not really an ELF file\n";
	struct solo5_manifest m;
	char err[256];

	(void)state;
	assert_int_equal(solo5_manifest_parse(text, sizeof(text) - 1, &m, err,
	    sizeof(err)), 1);
	assert_int_equal(solo5_manifest_parse("", 0, &m, err, sizeof(err)), 1);
	/* an ELF whose note segment has no Solo5 note */
	solo5_elf_build(&img, two_devs, 2, 2, 0);
	memcpy(img.buf + 128 + 12, "GNU\0", 4);
	memcpy(img.buf + 128 + 20 + 4 + 8 + 3 * 104 + 12, "GNU\0", 4);
	assert_int_equal(parse(&m, err, sizeof(err)), 1);
	assert_int_equal(m.ndevices, 0);
}

/* Every prefix of a good image: no crash, and an error for a cut note. */
static void
test_truncated(void **state)
{
	struct solo5_manifest m;
	char err[256];
	size_t full, len;
	int rc;

	(void)state;
	solo5_elf_build(&img, two_devs, 2, 2, 0);
	full = img.len;
	for (len = 0; len < full; len++) {
		rc = solo5_manifest_parse(img.buf, len, &m, err, sizeof(err));
		assert_true(rc == 1 || rc == -1);
		if (len >= 64)
			assert_int_equal(rc, -1);
	}
	img.len = 64 + 56 + 10;
	assert_int_equal(parse(&m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
}

static void
expect_error(const char *what)
{
	struct solo5_manifest m;
	char err[256];

	assert_int_equal(parse(&m, err, sizeof(err)), -1);
	if (strstr(err, what) == NULL)
		fail_msg("error '%s' does not say '%s'", err, what);
	assert_int_equal(m.ndevices, 0);
}

static void
test_malformed(void **state)
{
	uint8_t *mft;

	(void)state;
	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	mft[0] = 2;	/* version */
	expect_error("version 2 is not supported");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	mft[4] = 65;	/* entries, over Solo5's 64 */
	expect_error("65 entries");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	mft[4] = 9;	/* more entries than the note holds */
	expect_error("truncated manifest");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	memset(mft + 8 + 104, 'a', 68);	/* name without its NUL */
	expect_error("not terminated");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	mft[8 + 68 + 3] = 0;	/* first entry not reserved */
	expect_error("reserved");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	mft[8 + 104 + 68] = 7;	/* unknown type */
	expect_error("unknown device type 7");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	memcpy(mft + 8 + 2 * 104, "service", 8);
	mft[8 + 2 * 104 + 68] = 2;
	expect_error("declared twice");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	mft = img.buf + img.mft_off;
	memcpy(mft + 8 + 104, "ser-vice", 9);
	expect_error("alphanumeric");

	solo5_elf_build(&img, two_devs, 2, 9, 0);	/* unknown target */
	expect_error("unknown target 9");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	img.buf[64 + 32 + 3] = 0x7f;	/* a huge note segment */
	expect_error("too large");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	img.buf[64 + 8 + 2] = 0x10;	/* segment past the end */
	expect_error("truncated");

	solo5_elf_build(&img, two_devs, 2, 2, 0);
	img.buf[54] = 40;	/* e_phentsize */
	expect_error("entry size 40");
}

/* A VM as vmspec.c and vm-net.c would make it. */
static void
spec_fill(struct vm_spec *s, const char *tender, const char *image,
    const char *nic, const char *block)
{
	static struct vm_nic nics[1];

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "web1");
	snprintf(s->tender, sizeof(s->tender), "%s", tender);
	s->image = (char *)image;
	s->memory = 64;
	memset(nics, 0, sizeof(nics));
	if (nic != NULL) {
		snprintf(nics[0].name, sizeof(nics[0].name), "%s", nic);
		s->nics = nics;
		s->nnics = 1;
	}
	if (block != NULL) {
		snprintf(s->blocks[0].name, sizeof(s->blocks[0].name), "%s",
		    block);
		s->nblocks = 1;
	}
}

/* The check on the image as unikd hands it over: an open fd. */
static int
check_file(const struct vm_spec *s, const char *target, struct uerr *e)
{
	int fd, rc;

	assert_int_not_equal(fd = open(s->image, O_RDONLY | O_CLOEXEC), -1);
	rc = tender_manifest_check(s, fd, target, e);
	close(fd);
	return rc;
}

static void
test_check(void **state)
{
	char path[] = "/tmp/unikd-test-manifest.XXXXXX";
	struct vm_spec s;
	struct uerr e;
	int fd;

	(void)state;
	solo5_elf_build(&img, two_devs, 2, 2, 0);
	solo5_elf_create(&img, path);

	spec_fill(&s, "solo5-spt", path, "service", "storage");
	assert_int_equal(check_file(&s, "spt", &e), 0);

	spec_fill(&s, "solo5-spt", path, "net0", "storage");
	assert_int_equal(check_file(&s, "spt", &e), -1);
	assert_int_equal(e.status, 422);
	assert_string_equal(e.message, "vm 'web1': image declares net "
	    "'service' but the VM has no NIC named 'service'; VM NIC 'net0' "
	    "is not declared by the image");

	spec_fill(&s, "solo5-spt", path, "service", NULL);
	assert_int_equal(check_file(&s, "spt", &e), -1);
	assert_string_equal(e.message, "vm 'web1': image declares block "
	    "'storage' but the VM has no block named 'storage'");

	spec_fill(&s, "solo5-hvt", path, "service", "storage");
	assert_int_equal(check_file(&s, "hvt", &e), -1);
	assert_non_null(strstr(e.message, "built for the Solo5 'spt' target"));

	/* an image that is no ELF passes unchecked */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "not an ELF\n", 11), 11);
	close(fd);
	spec_fill(&s, "solo5-spt", path, "net0", NULL);
	assert_int_equal(check_file(&s, "spt", &e), 0);

	/* a broken one does not */
	img.buf[img.mft_off] = 3;
	solo5_elf_write(&img, path);
	assert_int_equal(check_file(&s, "spt", &e), -1);
	assert_non_null(strstr(e.message, "bad Solo5 manifest"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_section_and_no_abi),
		cmocka_unit_test(test_not_solo5),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
