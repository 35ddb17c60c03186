/* Unit tests for VM definitions (daemon/vmspec.c, vmspec-host.c); the
 * fixture is in vmspec-fixture.c. */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conf.h"
#include "image-open.h"
#include "uerr.h"
#include "vmspec.h"
#include "vmspec-fixture.h"

static void
test_name_valid(void **state)
{
	char name[VM_NAME_MAX + 2];

	(void)state;
	assert_true(vm_name_valid("web1"));
	assert_true(vm_name_valid("0"));
	assert_true(vm_name_valid("a-b_c"));
	assert_false(vm_name_valid(""));
	assert_false(vm_name_valid(NULL));
	assert_false(vm_name_valid("Web"));
	assert_false(vm_name_valid("-a"));
	assert_false(vm_name_valid("_a"));
	assert_false(vm_name_valid("a b"));
	assert_false(vm_name_valid("a/b"));
	assert_false(vm_name_valid("a.b"));
	memset(name, 'a', VM_NAME_MAX);
	name[VM_NAME_MAX] = '\0';
	assert_true(vm_name_valid(name));
	name[VM_NAME_MAX] = 'a';
	name[VM_NAME_MAX + 1] = '\0';
	assert_false(vm_name_valid(name));
}

/* Every field given, shuffled: the spec sorts and resolves. */
static void
test_round_trip(void **state)
{
	char inner[256], text[1024];
	struct vm_spec s;

	(void)state;
	fx_path(inner, sizeof(inner), "images/web.spt");
	snprintf(text, sizeof(text),
	    "{\"name\": \"web1\", \"tender\": "
	    "\"solo5-spt\", \"image\": \"%s\", \"memory\": 128, \"cpus\": "
	    "[0, 1], \"args\": [\"--ipv4=10.0.0.2/24\", \"x y\"], "
	    "\"restart\": {\"policy\": \"on-failure\", \"max_retries\": 3, "
	    "\"exit_codes\": [2, 7]}, \"autostart\": true, "
	    "\"stop_timeout\": 30, \"nics\": [], \"blocks\": [], "
	    "\"labels\": {\"org.unikd.oci.id\": \"c1\"}}",
	    fx.image);
	round_trips(json_pack("{s:s, s:s, s:s, s:i, s:[i,i], s:[s,s], "
	                      "s:{s:s, s:i, s:[i,i]}, s:b, s:i, s:[], s:[], "
	                      "s:{s:s}}",
	                "name", "web1", "tender", "solo5-spt", "image", inner,
	                "memory", 128, "cpus", 1, 0, "args",
	                "--ipv4=10.0.0.2/24", "x y", "restart", "policy",
	                "on-failure", "max_retries", 3, "exit_codes", 7, 2,
	                "autostart", 1, "stop_timeout", 30, "nics", "blocks",
	                "labels", "org.unikd.oci.id", "c1"),
	    text, &s);
	assert_string_equal(s.image, fx.image);
	assert_int_equal(s.ncpus, 2);
	assert_int_equal(s.cpus[0], 0);
	assert_int_equal(s.restart.kind, RESTART_ON_FAILURE);
	assert_int_equal(s.restart.exit_codes[0], 2);
	vm_spec_free(&s);
	assert_null(s.image);
}

/* The smallest definition gets every default, and round-trips. */
static void
test_defaults(void **state)
{
	char text[1024];
	struct vm_spec s;

	(void)state;
	snprintf(text, sizeof(text),
	    "{\"name\": \"web1\", \"tender\": "
	    "\"solo5-spt\", \"image\": \"%s\", \"memory\": 64, \"cpus\": [], "
	    "\"args\": [], \"restart\": {\"policy\": \"no\", "
	    "\"max_retries\": 0, \"exit_codes\": []}, \"autostart\": false, "
	    "\"stop_timeout\": 10, \"nics\": [], \"blocks\": [], "
	    "\"labels\": {}}",
	    fx.image);
	round_trips(good_def(), text, &s);
	vm_spec_free(&s);
}

static void
test_restart_defaults(void **state)
{
	struct vm_spec s;

	(void)state;
	fx.cf.restart_max_retries = 7;
	accepted("restart", "{\"policy\": \"on-failure\"}", &s);
	assert_int_equal(s.restart.max_retries, 7);
	assert_int_equal(s.restart.n_exit_codes, 0);
	vm_spec_free(&s);
	accepted("restart", "{\"policy\": \"always\", \"exit_codes\": []}", &s);
	assert_int_equal(s.restart.kind, RESTART_ALWAYS);
	assert_int_equal(s.restart.max_retries, 0);
	vm_spec_free(&s);
	accepted("restart",
	    "{\"policy\": \"on-failure\", \"max_retries\": 0,"
	    " \"exit_codes\": [255, 0, 1]}",
	    &s);
	assert_int_equal(s.restart.max_retries, 0);
	assert_int_equal(s.restart.n_exit_codes, 3);
	assert_int_equal(s.restart.exit_codes[2], 255);
	vm_spec_free(&s);
	fx.cf.restart_max_retries = 5;
}

static void
test_accepted_edges(void **state)
{
	struct vm_spec s;
	char name[VM_NAME_MAX + 3];

	(void)state;
	/* the exec driver takes 1 MiB */
	accepted("tender", "\"exec\"", &s);
	vm_spec_free(&s);
	memset(name, 'a', sizeof(name));
	name[0] = '"';
	name[VM_NAME_MAX + 1] = '"';
	name[VM_NAME_MAX + 2] = '\0';
	accepted("name", name, &s);
	vm_spec_free(&s);
	accepted("memory", "2", &s);
	vm_spec_free(&s);
	accepted("stop_timeout", "0", &s);
	vm_spec_free(&s);
	accepted("stop_timeout", "3600", &s);
	vm_spec_free(&s);
	accepted("args", "[\"\", \"a=b c\"]", &s);
	assert_int_equal(s.nargs, 2);
	vm_spec_free(&s);
	accepted("nics", "[]", &s);
	vm_spec_free(&s);
	accepted("memory", "null", &s);
	assert_int_equal(s.memory, 64);
	vm_spec_free(&s);
}

static void
test_bad_shape(void **state)
{
	static const struct refusal bad[] = {
	    {"foo", "1", 400, "unknown field 'foo'"},
	    {"name", NULL, 400, "field 'name' is required"},
	    {"tender", NULL, 400, "field 'tender' is required"},
	    {"image", NULL, 400, "field 'image' is required"},
	    {"name", "5", 400, "field 'name'"},
	    {"name", "null", 400, "field 'name'"},
	    {"tender", "[\"solo5-spt\"]", 400, "field 'tender'"},
	    {"image", "true", 400, "field 'image'"},
	    {"memory", "\"64\"", 400, "field 'memory'"},
	    {"memory", "64.5", 400, "field 'memory'"},
	    {"autostart", "\"yes\"", 400, "field 'autostart'"},
	    {"autostart", "1", 400, "field 'autostart'"},
	    {"stop_timeout", "-1", 400, "field 'stop_timeout'"},
	    {"stop_timeout", "3601", 400, "field 'stop_timeout'"},
	    {"stop_timeout", "\"10\"", 400, "field 'stop_timeout'"},
	    {"nics", "{}", 400, "field 'nics'"},
	    {"blocks", "\"data\"", 400, "field 'blocks'"},
	    {"labels", "[]", 400, "field 'labels'"},
	    {"labels", "{\"a\": 1}", 400, "'a' must be a string"},
	    {"labels", "{\"a b\": \"x\"}", 400, "key 'a b'"},
	    {"labels", "{\"\": \"x\"}", 400, "key ''"},
	};
	struct vm_spec s;
	struct uerr e = {0};
	json_t *arr = json_array();

	(void)state;
	assert_int_equal(vm_spec_from_json(&s, arr, &fx.cf, &e), -1);
	assert_int_equal(e.status, 400);
	assert_non_null(strstr(e.message, "JSON object"));
	json_decref(arr);

	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
}

static void
test_bad_names(void **state)
{
	static const struct refusal bad[] = {
	    {"name", "\"Web\"", 400, "field 'name': 'Web'"},
	    {"name", "\"-a\"", 400, "field 'name': '-a'"},
	    {"name", "\"\"", 400, "field 'name'"},
	    {"name", "\"a b\"", 400, "field 'name'"},
	    {"name", "\"a\\u0000b\"", 400, "field 'name'"},
	};
	char name[VM_NAME_MAX + 4];

	(void)state;
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
	memset(name, 'a', sizeof(name));
	name[0] = '"';
	name[VM_NAME_MAX + 2] = '"';
	name[VM_NAME_MAX + 3] = '\0';
	refused_as("name", name, 400, "field 'name'");
}

static void
test_bad_memory(void **state)
{
	static const struct refusal bad[] = {
	    {"memory", "0", 422,
		"field 'memory': must be an integer between 2 and"},
	    {"memory", "-64", 422, "field 'memory'"},
	    {"memory", "1000000000", 422, "field 'memory'"},
	    {"memory", "1", 422, "field 'memory'"},
	};
	char msg[128];

	(void)state;
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
	fx.cf.max_memory = 128;
	refused_as("memory", "256", 422,
	    "field 'memory': must be an integer between 2 and 128 MiB");
	fx.cf.max_memory = 0;
	/* the default limit is the host's RAM */
	snprintf(msg, sizeof(msg), "between 2 and %llu MiB",
	    (unsigned long long)sysconf(_SC_PHYS_PAGES) *
	            (unsigned long long)sysconf(_SC_PAGESIZE) >>
	        20);
	refused_as("memory", "1000000000", 422, msg);
}

static void
test_bad_tender(void **state)
{
	(void)state;
	refused_as("tender", "\"foo\"", 422,
	    "field 'tender': unknown tender "
	    "'foo' (known: cloud-hypervisor, exec, firecracker, qemu, "
	    "solo5-hvt, solo5-spt)");
	refused_as("tender", "\"a-very-long-tender-name-that-is-not-known\"",
	    422, "unknown tender");
	refused_as("tender", "\"solo5-hvt\"", 422,
	    "field 'tender': tender 'solo5-hvt' has no binary configured");
}

/* An absolute image path, as JSON text, into buf. */
static const char *
image_json(const char *rel, char *buf, size_t len)
{
	char path[256];

	fx_path(path, sizeof(path), rel);
	snprintf(buf, len, "\"%s\"", path);
	return buf;
}

static void
test_bad_image(void **state)
{
	static const struct {
		const char *rel;
		const char *needle;
	} cases[] = {
	    {"outside.spt", "is outside the image directories"},
	    {"images/escape.spt", "is a symbolic link"},
	    /* not followed even to a file in the same dir */
	    {"images/inner.spt", "is a symbolic link"},
	    {"images/lsub/in.spt", "is a symbolic link"},
	    {"images/fifo", "a FIFO, not a regular file"},
	    {"images2/web.spt", "field 'image'"},
	    {"images/missing.spt", "No such file or directory"},
	    {"images/sub", "a directory, not a regular file"},
	    {"images/sub/../web.spt", "'.' and '..' are not followed"},
	};
	struct vm_spec s;
	char text[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused_as("image",
		    image_json(cases[i].rel, text, sizeof(text)),
		    422, cases[i].needle);
	/* error texts about a path outside say nothing of what is there */
	refused_as("image", "\"/etc/shadow\"", 422,
	    "/etc/shadow is outside the image directories");
	refused_as("image", "\"/etc/no-such-file\"", 422,
	    "/etc/no-such-file is outside the image directories");
	accepted("image", image_json("images//web.spt", text, sizeof(text)),
	    &s);
	vm_spec_free(&s);
	refused_as("image", "\"web.spt\"", 400,
	    "field 'image': must be an image name or an absolute path");
	refused_as("image", "\"\"", 400, "field 'image'");
}

/* A stored definition the host no longer honours is loaded as it is,
 * with the problem; one whose shape is wrong is not. */
static void
test_load_stored(void **state)
{
	struct vm_spec s;
	struct uerr e = {0};
	json_t *def = good_def();
	char path[200];

	(void)state;
	fx_path(path, sizeof(path), "images/gone.spt");
	json_object_set_new(def, "image", json_string(path));
	json_object_set_new(def, "tender", json_string("no-such-tender"));
	json_object_set_new(def, "memory", json_integer(96));
	assert_int_equal(vm_spec_load(&s, def, &fx.cf, &e), 1);
	assert_non_null(strstr(e.message, "unknown tender 'no-such-tender'"));
	assert_string_equal(s.tender, "no-such-tender");
	assert_string_equal(s.image, path);
	assert_int_equal(s.memory, 96);
	vm_spec_free(&s);

	json_object_set_new(def, "tender", json_string("solo5-spt"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(vm_spec_load(&s, def, &fx.cf, &e), 1);
	assert_non_null(strstr(e.message, "No such file or directory"));
	assert_string_equal(s.tender, "solo5-spt");
	assert_string_equal(s.image, path);
	vm_spec_free(&s);

	json_object_set_new(def, "image", json_string(fx.image));
	assert_int_equal(vm_spec_load(&s, def, &fx.cf, &e), 0);
	vm_spec_free(&s);

	json_object_set_new(def, "memory", json_string("lots"));
	memset(&e, 0, sizeof(e));
	assert_int_equal(vm_spec_load(&s, def, &fx.cf, &e), -1);
	assert_int_equal(e.status, UERR_INVALID);
	json_decref(def);
}

/* Beneath the dir, with openat2 and with the walk of older kernels. */
static void
test_image_openat(void **state)
{
	static const struct {
		const char *rel;
		int err;	/* 0: opens */
	} cases[] = {
		{"web.spt", 0},
		{"sub/in.spt", 0},
		{"sub//in.spt", 0},
		{"inner.spt", ELOOP},	/* a symlink, even inside */
		{"escape.spt", ELOOP},
		{"lsub/in.spt", ELOOP},	/* a symlinked directory */
		{"missing.spt", ENOENT},
	};
	struct stat st;
	size_t i;
	int dirfd, fd, walk;

	(void)state;
	assert_int_not_equal(dirfd = open(fx.images, O_PATH | O_DIRECTORY),
	    -1);
	for (walk = 0; walk < 2; walk++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			errno = 0;
			fd = image_openat(dirfd, cases[i].rel, walk);
			if (cases[i].err == 0 && fd == -1)
				fail_msg("%s walk=%d: %s", cases[i].rel, walk,
				    strerror(errno));
			if (cases[i].err != 0 && (fd != -1 ||
			    errno != cases[i].err))
				fail_msg("%s walk=%d: fd %d errno %d", cases[i].rel,
				    walk, fd, errno);
			if (fd != -1)
				close(fd);
		}
		/* a FIFO opens at once (no writer needed) and says so */
		assert_int_not_equal(fd = image_openat(dirfd, "fifo", walk), -1);
		assert_int_equal(fstat(fd, &st), 0);
		assert_true(S_ISFIFO(st.st_mode));
		close(fd);
	}
	close(dirfd);
}

static void
test_cpus(void **state)
{
	static const struct refusal bad[] = {
	    {"cpus", "\"0\"", 400, "field 'cpus'"},
	    {"cpus", "[0, \"1\"]", 400, "field 'cpus[1]'"},
	    {"cpus", "[99999]", 400, "field 'cpus[0]'"},
	    {"cpus", "[-1]", 400, "field 'cpus[0]'"},
	    {"cpus", "[0, 0]", 400, "field 'cpus': cpu 0 is listed " "twice"},
	};
	cpu_set_t set;
	struct vm_spec s;

	(void)state;
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	if (!CPU_ISSET(1000, &set))
		refused_as("cpus", "[0, 1000]", 422,
		    "field 'cpus': cpu 1000 is not online");
	accepted("cpus", "[]", &s);
	assert_int_equal(s.ncpus, 0);
	vm_spec_free(&s);
	if (CPU_ISSET(0, &set) && CPU_ISSET(1, &set)) {
		accepted("cpus", "[1, 0]", &s);
		assert_int_equal(s.ncpus, 2);
		assert_int_equal(s.cpus[0], 0);
		assert_int_equal(s.cpus[1], 1);
		vm_spec_free(&s);
	}
}

static void
test_bad_restart(void **state)
{
	static const struct refusal bad[] = {
	    {"restart", "\"always\"", 400, "field 'restart'"},
	    {"restart", "{}", 400, "field 'restart.policy' is required"},
	    {"restart", "{\"policy\": \"sometimes\"}", 400,
		"field 'restart.policy'"},
	    {"restart", "{\"policy\": 1}", 400, "field 'restart.policy'"},
	    {"restart", "{\"policy\": \"no\", \"delay\": 1}", 400,
		"unknown field 'restart.delay'"},
	    {"restart", "{\"policy\": \"always\", \"exit_codes\": [1]}", 400,
		"field 'restart.exit_codes'"},
	    {"restart", "{\"policy\": \"on-failure\", "
		"\"exit_codes\": [256]}", 400,
		"field 'restart.exit_codes[0]'"},
	    {"restart", "{\"policy\": \"on-failure\", "
		"\"exit_codes\": [1, \"2\"]}", 400,
		"field 'restart.exit_codes[1]'"},
	    {"restart", "{\"policy\": \"on-failure\", "
		"\"exit_codes\": [3, 3]}", 400,
		"field 'restart.exit_codes'"},
	    {"restart", "{\"policy\": \"on-failure\", "
		"\"max_retries\": -1}", 400,
		"field 'restart.max_retries'"},
	    {"restart", "{\"policy\": \"on-failure\", "
		"\"max_retries\": \"3\"}", 400,
		"field 'restart.max_retries'"},
	};

	(void)state;
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
}

static void
test_bad_args(void **state)
{
	static const struct refusal bad[] = {
	    {"args", "\"--ipv4=10.0.0.2\"", 400, "field 'args'"},
	    {"args", "[\"ok\", 1]", 400, "field 'args[1]'"},
	    {"args", "[null]", 400, "field 'args[0]'"},
	    {"args", "[\"a\\u0000b\"]", 400, "field 'args[0]'"},
	};
	char *big;
	size_t i;
	json_t *a;
	struct vm_spec s;
	struct uerr e = {0};

	(void)state;
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));

	a = json_array();
	for (i = 0; i <= VM_MAX_ARGS; i++)
		json_array_append_new(a, json_string("x"));
	assert_int_equal(try("args", a, &s, &e), -1);
	assert_int_equal(e.status, 400);
	assert_non_null(strstr(e.message, "field 'args'"));

	assert_non_null(big = malloc(4098));
	memset(big, 'x', 4097);
	big[4097] = '\0';
	assert_int_equal(try("args", json_pack("[s]", big), &s, &e), -1);
	assert_int_equal(e.status, 400);
	assert_non_null(strstr(e.message, "field 'args[0]'"));
	big[4096] = '\0';
	assert_int_equal(try("args", json_pack("[s]", big), &s, &e), 0);
	vm_spec_free(&s);
	free(big);
}

static void
test_devices(void **state)
{
	static const struct refusal bad[] = {
	    {"nics", "[{\"name\": \"service\", \"network\": \"a\"}, "
		"{\"name\": \"service\", \"network\": \"b\"}]", 400,
		"field 'nics[1].name': duplicate NIC name 'service'"},
	    {"nics", "[{\"name\": \"my-nic\", \"network\": \"a\"}]", 400,
		"field 'nics[0].name'"},
	    {"nics", "[{\"name\": \"n\"}]", 400, "field 'nics[0].network'"},
	    {"nics", "[{\"name\": \"n\", \"network\": \"a\", "
		"\"foo\": 1}]", 400,
		"unknown field 'nics[0].foo'"},
	    {"nics", "[{\"name\": \"n\", \"network\": \"a\", "
		"\"mac\": \"02:00:00:00:00\"}]", 400,
		"field 'nics[0].mac'"},
	    {"nics", "[{\"name\": \"n\", \"network\": \"a\", "
		"\"mac\": \"01:00:5e:00:00:01\"}]", 422,
		"multicast"},
	    {"nics", "[{\"name\": \"n\", \"network\": \"a\", "
		"\"mac\": \"00:00:00:00:00:00\"}]", 422,
		"zero"},
	    {"nics", "[{\"name\": \"n\", \"network\": \"a\", "
		"\"ip\": \"10.0.0.300\"}]", 400,
		"field 'nics[0].ip'"},
	    {"blocks", "[{\"name\": \"storage\", \"block\": \"d1\"}]", 422,
		"block 'd1' does not exist"},
	};

	(void)state;
	struct vm_spec s;
	json_t *j;

	accepted("nics", "[{\"name\": \"service\", \"network\": \"lan\", "
	    "\"mac\": \"02:AB:00:00:00:01\", \"ip\": \"10.0.0.5\"}, "
	    "{\"name\": \"admin0\", \"network\": \"lan\"}]", &s);
	assert_int_equal(s.nnics, 2);
	assert_string_equal(s.nics[0].mac, "02:ab:00:00:00:01");
	assert_string_equal(s.nics[0].ip, "10.0.0.5");
	assert_string_equal(s.nics[1].mac, "");
	j = vm_spec_to_json(&s);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "nics"), 0), "mac")), "02:ab:00:00:00:01");
	assert_null(json_object_get(json_array_get(json_object_get(j, "nics"),
	    1), "ip"));
	json_decref(j);
	vm_spec_free(&s);
	refused_all(bad, sizeof(bad) / sizeof(bad[0]));
}

/* A malformed field is reported before a value the host cannot honour. */
static void
test_400_before_422(void **state)
{
	json_t *def = good_def();
	struct vm_spec s;
	struct uerr e = {0};

	(void)state;
	json_object_set_new(def, "tender", json_string("foo"));
	json_object_set_new(def, "memory", json_string("lots"));
	assert_int_equal(vm_spec_from_json(&s, def, &fx.cf, &e), -1);
	assert_int_equal(e.status, 400);
	assert_non_null(strstr(e.message, "field 'memory'"));
	json_decref(def);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_valid),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_restart_defaults),
	    cmocka_unit_test(test_accepted_edges),
	    cmocka_unit_test(test_bad_shape),
	    cmocka_unit_test(test_bad_names),
	    cmocka_unit_test(test_bad_memory),
	    cmocka_unit_test(test_bad_tender),
	    cmocka_unit_test(test_bad_image),
	    cmocka_unit_test(test_image_openat),
	    cmocka_unit_test(test_cpus),
	    cmocka_unit_test(test_bad_restart),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_devices),
	    cmocka_unit_test(test_400_before_422),
	    cmocka_unit_test(test_load_stored),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
