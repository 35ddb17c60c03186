/* The fixture of test-vmspec (see vmspec-fixture.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fixture-tree.h"
#include "vmspec-fixture.h"

struct vmspec_fixture fx;

static const struct fixture_node fx_nodes[] = {
    {"images/", NULL},
    {"images/sub/", NULL},
    {"images2/", NULL},
    {"images/web.spt", NULL},
    {"images2/web.spt", NULL},
    {"outside.spt", NULL},
    {"images/inner.spt", "web.spt"},
    {"images/escape.spt", "../outside.spt"},
    {"images/sub/in.spt", NULL},
    {"images/lsub", "sub"},
};
#define FX_NODES (sizeof(fx_nodes) / sizeof(fx_nodes[0]))

void
fx_path(char *buf, size_t len, const char *rel)
{
	fixture_tree_path(fx.dir, rel, buf, len);
}

int
fx_setup(void **state)
{
	char fifo[256];

	(void)state;
	if (fixture_tree_make(fx.dir, sizeof(fx.dir), "test-vmspec", fx_nodes,
	    FX_NODES) == -1)
		return -1;
	fx_path(fx.images, sizeof(fx.images), "images");
	fx_path(fx.image, sizeof(fx.image), "images/web.spt");
	/* a FIFO: opening it must neither block nor pass */
	fx_path(fifo, sizeof(fifo), "images/fifo");
	if (mkfifo(fifo, 0644) == -1)
		return -1;

	conf_defaults(&fx.cf);
	free(fx.cf.image_dirs[0]);
	free(fx.cf.image_dirs[1]);
	fx.cf.image_dirs[0] = strdup("/nonexistent/images");
	fx.cf.image_dirs[1] = strdup(fx.images);
	fx.cf.n_image_dirs = 2;
	fx.cf.tenders[0].name = strdup("solo5-spt");
	fx.cf.tenders[0].path = strdup("/usr/lib/solo5/solo5-spt");
	fx.cf.tenders[1].name = strdup("exec");
	fx.cf.tenders[1].path = strdup("/usr/bin/runvm");
	fx.cf.n_tenders = 2; /* solo5-hvt has no path */
	return 0;
}

int
fx_teardown(void **state)
{
	char fifo[256];

	(void)state;
	fx_path(fifo, sizeof(fifo), "images/fifo");
	unlink(fifo);
	fixture_tree_remove(fx.dir, fx_nodes, FX_NODES);
	conf_free(&fx.cf);
	return 0;
}

json_t *
good_def(void)
{
	return json_pack("{s:s, s:s, s:s}", "name", "web1", "tender",
	    "solo5-spt", "image", fx.image);
}

int
try(const char *key, json_t *value, struct vm_spec *s, struct uerr *e)
{
	json_t *def = good_def();
	int rc;

	if (value != NULL)
		json_object_set_new(def, key, value);
	else
		json_object_del(def, key);
	rc = vm_spec_from_json(s, def, &fx.cf, e);
	json_decref(def);
	return rc;
}

void
refused_as(const char *key, const char *text, int status, const char *needle)
{
	json_t *v = NULL;
	struct vm_spec s;
	struct uerr e = {0};

	if (text != NULL)
		assert_non_null(v = json_loads(text,
		                    JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL));
	if (try(key, v, &s, &e) != -1)
		fail_msg("%s=%s accepted", key, text);
	if (e.status != status)
		fail_msg("%s=%s: status %d, want %d (%s)", key, text, e.status,
		    status, e.message);
	assert_string_equal(
	    e.code, status == 400 ? "invalid" : "unprocessable");
	if (strstr(e.message, needle) == NULL)
		fail_msg(
		    "%s=%s: '%s' not in '%s'", key, text, needle, e.message);
	/* nothing is left behind */
	assert_string_equal(s.name, "");
	assert_null(s.image);
	assert_null(s.args);
	assert_null(s.cpus);
}

void
refused_all(const struct refusal *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		refused_as(r[i].key, r[i].text, r[i].status, r[i].needle);
}

void
accepted(const char *key, const char *text, struct vm_spec *s)
{
	struct uerr e = {0};
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	if (try(key, v, s, &e) != 0)
		fail_msg("%s=%s refused: %s", key, text, e.message);
}

void
round_trips(json_t *def, const char *want_text, struct vm_spec *s)
{
	json_t *j1, *j2, *want;
	struct vm_spec s2;
	struct uerr e = {0};

	if (vm_spec_from_json(s, def, &fx.cf, &e) != 0)
		fail_msg("refused: %s", e.message);
	json_decref(def);
	j1 = vm_spec_to_json(s);
	assert_non_null(want = json_loads(want_text, 0, NULL));
	assert_true(json_equal(j1, want));
	assert_int_equal(vm_spec_from_json(&s2, j1, &fx.cf, &e), 0);
	j2 = vm_spec_to_json(&s2);
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	json_decref(want);
	vm_spec_free(&s2);
}
