/*
 * The input rules of blocks and images (block-input.c): sizes as a user
 * writes them, block and image names, and the Content-Range of an import
 * piece. Each case asserts the status a client would get.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "conf.h"
#include "fixture-tree.h"
#include "uerr.h"
#include "vmspec.h"

#define MAX_1T (1ULL << 40)

/* A size as JSON text (NULL: no value), the largest allowed, and what a
 * client gets: the status (0: accepted) and the bytes. */
static const struct {
	const char *json;
	uint64_t max;
	int status;
	uint64_t bytes;
} size_cases[] = {
    {"\"512M\"", MAX_1T, 0, 512ULL << 20},
    {"\"1G\"", MAX_1T, 0, 1ULL << 30},
    {"\"64k\"", MAX_1T, 0, 64ULL << 10},
    {"4096", MAX_1T, 0, 4096},
    {"\"1T\"", MAX_1T, 0, MAX_1T},
    {"0", MAX_1T, 400, 0},
    {"\"0\"", MAX_1T, 400, 0},
    {"-512", MAX_1T, 400, 0},
    {"\"-1G\"", MAX_1T, 400, 0},
    {"\"abc\"", MAX_1T, 400, 0},
    {"\"1.5G\"", MAX_1T, 400, 0},
    {"\"64 M\"", MAX_1T, 400, 0},
    {"\"\"", MAX_1T, 400, 0},
    {"true", MAX_1T, 400, 0},
    {NULL, MAX_1T, 400, 0},
    /* refused, not rounded: tenders want whole 512-byte sectors */
    {"1000", MAX_1T, 400, 0},
    {"\"1000\"", MAX_1T, 400, 0},
    {"\"2T\"", MAX_1T, 422, 0},
    {"1099511628288", MAX_1T, 422, 0}, /* 1T + 512 */
    {"\"65M\"", 64ULL << 20, 422, 0},
    /* overflows 64 bits: too large, not malformed */
    {"\"99999999999999999999\"", MAX_1T, 422, 0},
    {"\"16777216T\"", MAX_1T, 422, 0},
};

static void
test_sizes(void **state)
{
	struct uerr e;
	uint64_t n;
	json_t *v;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		v = NULL;
		if (size_cases[i].json != NULL)
			assert_non_null(v = json_loads(size_cases[i].json,
			                    JSON_DECODE_ANY, NULL));
		memset(&e, 0, sizeof(e));
		n = 7;
		rc = block_size_from_json(v, size_cases[i].max, &n, &e);
		json_decref(v);
		if ((rc == 0 ? 0 : e.status) != size_cases[i].status)
			fail_msg("size %s: status %d, want %d",
			    size_cases[i].json, rc == 0 ? 0 : e.status,
			    size_cases[i].status);
		/* a refused size leaves the output alone */
		assert_int_equal(
		    n, size_cases[i].status == 0 ? size_cases[i].bytes : 7);
	}
}

static void
test_names(void **state)
{
	static const char *const bad[] = {"a/b", "..", ".", "", "../x",
	    "Data", "-x", "_x", "a b", "a.img",
	    "a123456789012345678901234567890123456789012345678901234567890123"};
	struct uerr e;
	size_t i;

	(void)state;
	assert_int_equal(block_name_check("block", "data1", &e), 0);
	assert_int_equal(block_name_check("block", "0a_b-c", &e), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(block_name_check("block", bad[i], &e), -1);
		assert_int_equal(e.status, 400);
		assert_non_null(strstr(e.message, "block name"));
	}
	assert_int_equal(block_name_check("image", NULL, &e), -1);
	assert_int_equal(e.status, 400);
}

static void
test_content_range(void **state)
{
	static const char *const bad[] = {"0-99/100", "bytes 0-99/99",
	    "bytes 5-4/10", "bytes -1-4/10", "bytes 0-1/2x", "bytes 0-/2",
	    "bytes a-b/c", "items 0-1/2", "bytes 0-1", ""};
	uint64_t s, e, t;
	size_t i;

	(void)state;
	assert_int_equal(block_content_range_parse("bytes 0-99/100", &s, &e,
	    &t), 0);
	assert_int_equal(s, 0);
	assert_int_equal(e, 99);
	assert_int_equal(t, 100);
	assert_int_equal(block_content_range_parse("bytes 4194304-8388607/*",
	    &s, &e, &t), 0);
	assert_int_equal(s, 4194304);
	assert_int_equal(t, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(block_content_range_parse(bad[i], &s, &e, &t),
		    -1);
}

/* --- "blocks" and image names in VM definitions (vmspec-blocks.c) --- */

struct spec_fixture {
	char dir[64];
	struct conf cf;
};

static struct spec_fixture sfx;

static const struct fixture_node sfx_nodes[] = {
    {"blocks/", NULL},
    {"images/", NULL},
    {"images/sha256/", NULL},
    {"images/names/", NULL},
    {"blocks/d1.img", NULL},
    {"blocks/d2.img", NULL},
    {"images/sha256/abc", NULL},
    {"images/names/hello", "../sha256/abc"},
};
#define SFX_NODES (sizeof(sfx_nodes) / sizeof(sfx_nodes[0]))

static int
spec_setup(void **state)
{
	(void)state;
	if (fixture_tree_make(sfx.dir, sizeof(sfx.dir), "test-block",
	    sfx_nodes, SFX_NODES) == -1)
		return -1;
	conf_defaults(&sfx.cf);
	free(sfx.cf.state_dir);
	sfx.cf.state_dir = strdup(sfx.dir);
	sfx.cf.tenders[0].name = strdup("solo5-spt");
	sfx.cf.tenders[0].path = strdup("/usr/lib/solo5/solo5-spt");
	sfx.cf.n_tenders = 1;
	return 0;
}

static int
spec_teardown(void **state)
{
	(void)state;
	fixture_tree_remove(sfx.dir, sfx_nodes, SFX_NODES);
	conf_free(&sfx.cf);
	return 0;
}

/* Parses a definition with image and blocks (JSON text); the status. */
static int
spec_status(const char *image, const char *blocks, struct vm_spec *s,
    char *msg, size_t len)
{
	char text[2048];
	struct uerr e = {0};
	json_t *def;
	int rc;

	snprintf(text, sizeof(text), "{\"name\": \"v\", \"tender\": "
	    "\"solo5-spt\", \"image\": \"%s\", \"blocks\": %s}", image,
	    blocks);
	assert_non_null(def = json_loads(text, 0, NULL));
	rc = vm_spec_from_json(s, def, &sfx.cf, &e);
	json_decref(def);
	snprintf(msg, len, "%s", rc == 0 ? "" : e.message);
	return rc == 0 ? 0 : e.status;
}

static void
test_spec_blocks(void **state)
{
	char msg[512], want[300];
	struct vm_spec s;
	json_t *j;

	(void)state;
	assert_int_equal(spec_status("hello", "[{\"name\": \"storage\", "
	    "\"block\": \"d1\"}, {\"name\": \"logs\", \"block\": "
	    "\"d2\"}]", &s, msg, sizeof(msg)), 0);
	assert_int_equal(s.nblocks, 2);
	assert_string_equal(s.blocks[1].name, "logs");
	assert_string_equal(s.blocks[1].block, "d2");
	/* the image by name: the stored file, and the name kept */
	snprintf(want, sizeof(want), "%s/images/sha256/abc", sfx.dir);
	assert_string_equal(s.image, want);
	assert_string_equal(s.image_name, "hello");
	j = vm_spec_to_json(&s);
	assert_string_equal(json_string_value(json_object_get(j, "image")),
	    "hello");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(j, "blocks"), 0), "block")), "d1");
	json_decref(j);
	vm_spec_free(&s);
}

static void
test_spec_blocks_refused(void **state)
{
	static const struct {
		const char *blocks;
		int status;
		const char *needle;
	} cases[] = {
	    {"[{\"name\": \"st-1\", \"block\": \"d1\"}]", 400,
		"blocks[0].name"},
	    {"[{\"name\": \"\", \"block\": \"d1\"}]", 400,
		"blocks[0].name"},
	    {"[{\"name\": \"a\", \"block\": \"../d1\"}]", 400,
		"blocks[0].block"},
	    {"[{\"name\": \"a\", \"block\": \"d1\"}, {\"name\": "
		"\"a\", \"block\": \"d2\"}]", 400, "listed twice"},
	    {"[{\"name\": \"a\", \"block\": \"d1\"}, {\"name\": "
		"\"b\", \"block\": \"d1\"}]", 400, "listed twice"},
	    {"[{\"name\": \"a\", \"block\": \"d1\", \"ro\": 1}]", 400,
		"unknown field 'blocks[0].ro'"},
	    {"[\"d1\"]", 400, "blocks[0]"},
	    {"{}", 400, "field 'blocks'"},
	    {"[{\"name\": \"a\", \"block\": \"nope\"}]", 422,
		"block 'nope' does not exist"},
	};
	char msg[512], many[2048];
	struct vm_spec s;
	size_t i, off;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(spec_status("hello", cases[i].blocks, &s, msg,
		    sizeof(msg)), cases[i].status);
		assert_non_null(strstr(msg, cases[i].needle));
	}
	off = (size_t)snprintf(many, sizeof(many), "[");
	for (i = 0; i <= VM_MAX_BLOCKS; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "%s{\"name\": \"b%zu\", \"block\": \"d1\"}",
		    i ? ", " : "", i);
	snprintf(many + off, sizeof(many) - off, "]");
	assert_int_equal(spec_status("hello", many, &s, msg, sizeof(msg)),
	    400);
	assert_non_null(strstr(msg, "at most 16"));
	assert_int_equal(spec_status("ghost", "[]", &s, msg, sizeof(msg)),
	    422);
	assert_non_null(strstr(msg, "'ghost' is neither a stored image"));
	assert_int_equal(spec_status("a/b", "[]", &s, msg, sizeof(msg)), 400);
	assert_int_equal(spec_status("..", "[]", &s, msg, sizeof(msg)), 400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_content_range),
	    cmocka_unit_test_setup_teardown(test_spec_blocks, spec_setup,
		spec_teardown),
	    cmocka_unit_test_setup_teardown(test_spec_blocks_refused,
		spec_setup, spec_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
