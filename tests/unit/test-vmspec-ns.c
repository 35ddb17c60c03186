/* Unit tests for the OCI-facing parts of VM definitions: NICs in a
 * foreign network namespace (daemon/vmspec-nics.c) and "cgroup"
 * (daemon/vmspec-cgroup.c), their shapes and the cgroup paths. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "uerr.h"
#include "vmspec.h"

/* What the two parsers allocate (vm_spec_free lives with the rest of
 * vmspec.c, which this test does not link). */
static void
spec_free(struct vm_spec *s)
{
	free(s->nics);
	free(s->cgroup_path);
	memset(s, 0, sizeof(*s));
}

static json_t *
parse_json(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

	if (v == NULL)
		fail_msg("bad JSON in the test: %s", text);
	return v;
}

/* "nics" = text: 0, or -1 with e filled; s freed either way. */
static int
nics_try(const char *text, struct vm_spec *s, struct uerr *e)
{
	json_t *v = parse_json(text);
	int rc;

	memset(s, 0, sizeof(*s));
	rc = vm_spec_nics_parse(s, v, e);
	json_decref(v);
	return rc;
}

static void
nics_refused(const char *text, int status, const char *needle)
{
	struct vm_spec s;
	struct uerr e = {0};

	if (nics_try(text, &s, &e) == 0)
		fail_msg("nics %s accepted", text);
	spec_free(&s);
	if (e.status != status || strstr(e.message, needle) == NULL)
		fail_msg("nics %s: %d '%s', want %d '%s'", text, e.status,
		    e.message, status, needle);
}

static void
test_nic_netns(void **state)
{
	struct vm_spec s;
	struct uerr e = {0};
	json_t *j, *o;

	(void)state;
	if (nics_try("[{\"name\": \"eth0\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"eth0\"}]", &s, &e) == -1)
		fail_msg("refused: %s", e.message);
	assert_int_equal(s.nnics, 1);
	assert_string_equal(s.nics[0].netns, "/run/netns/c1");
	assert_string_equal(s.nics[0].link, "eth0");
	assert_string_equal(s.nics[0].network, "");
	/* stored as given: the MAC and address are the link's, read at
	 * create and at every start */
	s.nics[0].mac[0] = '0';
	assert_non_null(j = vm_spec_nics_json(&s));
	o = json_array_get(j, 0);
	assert_string_equal(json_string_value(json_object_get(o, "netns")),
	    "/run/netns/c1");
	assert_string_equal(json_string_value(json_object_get(o, "link")),
	    "eth0");
	assert_null(json_object_get(o, "network"));
	assert_null(json_object_get(o, "mac"));
	assert_int_equal(json_object_size(o), 3);
	json_decref(j);
	spec_free(&s);
}

static void
test_nic_netns_refused(void **state)
{
	char text[512], longpath[VM_NETNS_MAX + 2];

	(void)state;
	nics_refused("[{\"name\": \"e\", \"netns\": \"run/netns/c1\", "
	    "\"link\": \"eth0\"}]", 400, "field 'nics[0].netns'");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	snprintf(text, sizeof(text), "[{\"name\": \"e\", \"netns\": \"%s\", "
	    "\"link\": \"eth0\"}]", longpath);
	nics_refused(text, 400, "field 'nics[0].netns'");
	nics_refused("[{\"name\": \"e\", \"netns\": 5, \"link\": \"eth0\"}]",
	    400, "field 'nics[0].netns'");
	nics_refused("[{\"name\": \"e\", \"link\": \"eth0\"}]", 400,
	    "field 'nics[0].netns'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\"}]", 400,
	    "field 'nics[0].link'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"a/b\"}]", 400, "field 'nics[0].link'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"a b\"}]", 400, "field 'nics[0].link'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"..\"}]", 400, "field 'nics[0].link'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"0123456789abcdef\"}]", 400, "field 'nics[0].link'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"eth0\", \"network\": \"lan\"}]", 400, "not both");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"eth0\", \"mac\": \"02:00:00:00:00:01\"}]", 400,
	    "field 'nics[0].mac'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"eth0\", \"ip\": \"10.0.0.2\"}]", 400,
	    "field 'nics[0].ip'");
	nics_refused("[{\"name\": \"e\", \"netns\": \"/run/netns/c1\", "
	    "\"link\": \"eth0\", \"nets\": 1}]", 400,
	    "unknown field 'nics[0].nets'");
}

/* "cgroup" = text gives relpath want (NULL: refused, 400, with needle). */
static void
cgroup_case(const char *text, const char *want, const char *needle)
{
	char rel[VM_CGROUP_MAX + 64];
	struct vm_spec s;
	struct uerr e = {0};
	json_t *v = parse_json(text), *j;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = vm_spec_cgroup_parse(&s, v, &e);
	json_decref(v);
	if (want == NULL) {
		if (rc == 0)
			fail_msg("cgroup %s accepted", text);
		if (e.status != 400 || strstr(e.message, needle) == NULL)
			fail_msg("cgroup %s: %d '%s', want 400 '%s'", text,
			    e.status, e.message, needle);
		spec_free(&s);
		return;
	}
	if (rc == -1)
		fail_msg("cgroup %s refused: %s", text, e.message);
	assert_int_equal(vm_spec_cgroup_relpath(&s, rel, sizeof(rel)), 0);
	if (strcmp(rel, want) != 0)
		fail_msg("cgroup %s: '%s', want '%s'", text, rel, want);
	j = vm_spec_cgroup_json(&s);
	assert_string_equal(json_string_value(json_object_get(j, "path")),
	    s.cgroup_path);
	json_decref(j);
	spec_free(&s);
}

static void
test_cgroup_paths(void **state)
{
	(void)state;
	cgroup_case("{\"path\": \"/machine.slice/libpod-abc.scope\"}",
	    "machine.slice/libpod-abc.scope", NULL);
	cgroup_case("{\"path\": \"k8s/pod1/c1\", \"systemd\": false}",
	    "k8s/pod1/c1", NULL);
	cgroup_case("{\"path\": \"machine.slice:libpod:abc\", "
	    "\"systemd\": true}", "machine.slice/libpod-abc.scope", NULL);
	cgroup_case("{\"path\": \"kubepods-besteffort-pod1.slice:cri-"
	    "containerd:c1\", \"systemd\": true}", "kubepods.slice/"
	    "kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
	    "cri-containerd-c1.scope", NULL);
	cgroup_case("{\"path\": \":podman:x\", \"systemd\": true}",
	    "system.slice/podman-x.scope", NULL);
	cgroup_case("{\"path\": \"-.slice::x\", \"systemd\": true}",
	    "x.scope", NULL);
}

static void
test_cgroup_refused(void **state)
{
	(void)state;
	cgroup_case("\"/a\"", NULL, "field 'cgroup'");
	cgroup_case("{\"path\": \"/a\", \"weight\": 1}", NULL,
	    "unknown field 'cgroup.weight'");
	cgroup_case("{\"path\": 1}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"\"}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"/\"}", NULL, "below the root");
	cgroup_case("{\"path\": \"../x\"}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"a/../../b\"}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"a/./b\"}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"a b\"}", NULL, "field 'cgroup.path'");
	cgroup_case("{\"path\": \"/a\", \"systemd\": 1}", NULL,
	    "field 'cgroup.systemd'");
	cgroup_case("{\"path\": \"machine.slice:x\", \"systemd\": true}",
	    NULL, "slice:prefix:name");
	cgroup_case("{\"path\": \"machine.slice:p:\", \"systemd\": true}",
	    NULL, "slice:prefix:name");
	cgroup_case("{\"path\": \"a:b:c:d\", \"systemd\": true}", NULL,
	    "slice:prefix:name");
	cgroup_case("{\"path\": \"machine:p:n\", \"systemd\": true}", NULL,
	    "slice:prefix:name");
	cgroup_case("{\"path\": \"a--b.slice:p:n\", \"systemd\": true}",
	    NULL, "slice:prefix:name");
	cgroup_case("{\"path\": \"a/b.slice:p:n\", \"systemd\": true}", NULL,
	    "slice:prefix:name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nic_netns),
	    cmocka_unit_test(test_nic_netns_refused),
	    cmocka_unit_test(test_cgroup_paths),
	    cmocka_unit_test(test_cgroup_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
