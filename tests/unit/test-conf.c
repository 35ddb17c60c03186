/*
 * Unit tests of the config file reader (daemon/conf.c): defaults, the
 * documented sample, sizes, and every kind of problem reported with its
 * line, all of them in one pass.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

static char tmpdir[PATH_MAX];
static char conf_path[PATH_MAX];

struct result {
	struct conf cf;
	int problems;
	char *errors;		/* what conf_load wrote to errf */
};

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-conf.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/unikd.conf", tmpdir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	rmdir(tmpdir);
	return 0;
}

/* Writes text as the config file and loads it over the defaults. */
static void
load(struct result *r, const char *text)
{
	FILE *f, *errf;
	size_t len;

	f = fopen(conf_path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	errf = open_memstream(&r->errors, &len);
	assert_non_null(errf);
	conf_defaults(&r->cf);
	r->problems = conf_load(&r->cf, conf_path, errf);
	fclose(errf);
}

static void
result_free(struct result *r)
{
	conf_free(&r->cf);
	free(r->errors);
}

/* Asserts that the errors hold a line "PATH:LINE: ...needle...". */
static void
assert_problem(const struct result *r, int line, const char *needle)
{
	char prefix[PATH_MAX + 32];
	const char *p = r->errors;
	const char *eol;

	snprintf(prefix, sizeof(prefix), "%s:%d: ", conf_path, line);
	while ((p = strstr(p, prefix)) != NULL) {
		eol = strchr(p, '\n');
		assert_non_null(eol);
		if (memmem(p, (size_t)(eol - p), needle, strlen(needle)))
			return;
		p = eol;
	}
	fail_msg("no problem '%s' on line %d in:\n%s", needle, line,
	    r->errors);
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_defaults(void **state)
{
	struct conf cf;

	(void)state;
	conf_defaults(&cf);
	assert_string_equal(cf.socket, "/run/unikd/unikd.sock");
	assert_string_equal(cf.state_dir, "/var/lib/unikd");
	assert_string_equal(cf.run_dir, "/run/unikd");
	assert_string_equal(cf.admin_group, "unikd");
	assert_string_equal(cf.tender_user, "unikd-tender");
	assert_string_equal(cf.tender_group, "unikd-tender");
	assert_false(cf.allow_root_tender);
	assert_int_equal(cf.tender_uid_first, 0);
	assert_int_equal(cf.n_image_dirs, 2);
	assert_string_equal(cf.image_dirs[0], "/var/lib/unikd/images");
	assert_string_equal(cf.image_dirs[1], "/srv/unikernels");
	assert_int_equal(cf.log_level, LOG_LEVEL_INFO);
	assert_non_null(strstr(cf.monitor, "/unikd-monitor"));
	assert_true(cf.monitor[0] == '/');
	assert_int_equal(cf.n_tenders, 0);
	assert_null(conf_tender_find(&cf, "solo5-spt"));
	assert_int_equal(cf.max_vms, 0);	/* from the open-file limit */
	assert_int_equal(cf.max_block_size, (uint64_t)1 << 40);
	assert_int_equal(cf.max_body_size, 16 << 20);
	assert_int_equal(cf.max_memory, 0);
	assert_int_equal(cf.stop_timeout, 10);
	assert_int_equal(cf.restart_backoff_ms, 500);
	assert_int_equal(cf.restart_backoff_max_ms, 60000);
	assert_int_equal(cf.restart_max_retries, 5);
	assert_int_equal(cf.console_max_size, 1 << 20);
	assert_int_equal(cf.console_files, 3);
	assert_int_equal(cf.events_max, 100000);
	conf_free(&cf);
}

/* The sample of unikd.conf(5), verbatim. */
static const char design_sample[] =
    "[unikd]\n"
    "socket      = /run/unikd/unikd.sock\n"
    "state_dir   = /var/lib/unikd\n"
    "run_dir     = /run/unikd\n"
    "admin_group = unikd\n"
    "tender_user = unikd-tender      ; uid/gid the tenders run as\n"
    "tender_group = unikd-tender\n"
    "image_dirs  = /var/lib/unikd/images:/srv/unikernels   ; where image "
    "paths may point\n"
    "log_level   = info\n"
    "\n"
    "[tender.solo5-spt]              ; one section per driver: "
    "[tender.DRIVER]\n"
    "path = /usr/lib/solo5/solo5-spt\n"
    "\n"
    "[limits]\n"
    "max_vms = 4096\n"
    "max_block_size = 1T\n"
    "max_body_size = 16M\n";

static void
test_design_sample(void **state)
{
	const struct conf_tender *t;
	struct result r;

	(void)state;
	load(&r, design_sample);
	assert_string_equal(r.errors, "");
	assert_int_equal(r.problems, 0);
	assert_string_equal(r.cf.tender_user, "unikd-tender");
	assert_string_equal(r.cf.tender_group, "unikd-tender");
	assert_int_equal(r.cf.n_image_dirs, 2);
	assert_string_equal(r.cf.image_dirs[0], "/var/lib/unikd/images");
	assert_string_equal(r.cf.image_dirs[1], "/srv/unikernels");
	assert_int_equal(r.cf.log_level, LOG_LEVEL_INFO);
	assert_int_equal(r.cf.n_tenders, 1);
	t = conf_tender_find(&r.cf, "solo5-spt");
	assert_non_null(t);
	assert_string_equal(t->path, "/usr/lib/solo5/solo5-spt");
	assert_null(t->argv);
	assert_null(conf_tender_find(&r.cf, "qemu"));
	assert_int_equal(r.cf.max_vms, 4096);
	assert_int_equal(r.cf.max_block_size, (uint64_t)1 << 40);
	assert_int_equal(r.cf.max_body_size, 16 << 20);
	result_free(&r);
}

/* The shipped contrib/unikd.conf is a good file too (top_srcdir comes
 * from `make check`). */
static void
test_contrib_sample(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[PATH_MAX], errbuf[4096];
	struct conf cf;
	FILE *errf;

	(void)state;
	if (top == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/contrib/unikd.conf", top);
	memset(errbuf, 0, sizeof(errbuf));
	errf = fmemopen(errbuf, sizeof(errbuf) - 1, "w");
	assert_non_null(errf);
	conf_defaults(&cf);
	assert_int_equal(conf_load(&cf, path, errf), 0);
	fclose(errf);
	assert_string_equal(errbuf, "");
	conf_free(&cf);
}

static void
test_every_key(void **state)
{
	const struct conf_tender *t;
	struct result r;

	(void)state;
	load(&r,
	    "# a comment\n"
	    "[unikd]\n"
	    "  socket = /tmp/u/unikd.sock   # inline\n"
	    "state_dir = /srv/unikd/\n"
	    "run_dir=/tmp/u//\n"
	    "admin_group = wheel\n"
	    "tender_user : nobody\n"
	    "tender_group = nogroup\n"
	    "allow_root_tender = Yes\n"
	    "tender_uids = 100000-165535\n"
	    "image_dirs = /a/:/b//c/::/d\n"
	    "log_level = debug\n"
	    "monitor = /opt/unikd/unikd-monitor\n"
	    "[tender.exec]\n"
	    "path = /usr/bin/env\n"
	    "argv = {path} --mem={memory} {image}\n"
	    "[limits]\n"
	    "max_vms = 10\n"
	    "max_block_size = 2g\n"
	    "max_body_size = 512K\n"
	    "max_memory = 8G\n"
	    "[vm]\n"
	    "stop_timeout = 0\n"
	    "restart_backoff = 100\n"
	    "restart_backoff_max = 400\n"
	    "restart_max_retries = 0\n"
	    "[console]\n"
	    "max_size = 64K\n"
	    "files = 0\n"
	    "[events]\n"
	    "max_count = 7\n"
	    "[tender.exec]\n"
	    "path = /bin/true\n");
	assert_string_equal(r.errors, "");
	assert_int_equal(r.problems, 0);
	assert_string_equal(r.cf.socket, "/tmp/u/unikd.sock");
	assert_string_equal(r.cf.state_dir, "/srv/unikd");
	assert_string_equal(r.cf.run_dir, "/tmp/u");
	assert_string_equal(r.cf.admin_group, "wheel");
	assert_string_equal(r.cf.tender_user, "nobody");
	assert_string_equal(r.cf.tender_group, "nogroup");
	assert_true(r.cf.allow_root_tender);
	assert_int_equal(r.cf.tender_uid_first, 100000);
	assert_int_equal(r.cf.tender_uid_last, 165535);
	assert_int_equal(r.cf.n_image_dirs, 3);
	assert_string_equal(r.cf.image_dirs[0], "/a");
	assert_string_equal(r.cf.image_dirs[1], "/b//c");
	assert_string_equal(r.cf.image_dirs[2], "/d");
	assert_int_equal(r.cf.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(r.cf.monitor, "/opt/unikd/unikd-monitor");
	/* A repeated section merges into the first. */
	assert_int_equal(r.cf.n_tenders, 1);
	t = conf_tender_find(&r.cf, "exec");
	assert_non_null(t);
	assert_string_equal(t->path, "/bin/true");
	assert_string_equal(t->argv, "{path} --mem={memory} {image}");
	assert_int_equal(r.cf.max_vms, 10);
	assert_int_equal(r.cf.max_block_size, (uint64_t)2 << 30);
	assert_int_equal(r.cf.max_body_size, 512 << 10);
	assert_int_equal(r.cf.max_memory, 8192);
	assert_int_equal(r.cf.stop_timeout, 0);
	assert_int_equal(r.cf.restart_backoff_ms, 100);
	assert_int_equal(r.cf.restart_backoff_max_ms, 400);
	assert_int_equal(r.cf.restart_max_retries, 0);
	assert_int_equal(r.cf.console_max_size, 64 << 10);
	assert_int_equal(r.cf.console_files, 0);
	assert_int_equal(r.cf.events_max, 7);
	result_free(&r);
}

static void
test_sizes(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{"4096", 4096}, {"0", 0}, {"512M", (uint64_t)512 << 20},
		{"1G", (uint64_t)1 << 30}, {"1T", (uint64_t)1 << 40},
		{"3k", 3072}, {"2m", (uint64_t)2 << 20}, {"1g", 1 << 30},
		{"16777215T", (uint64_t)16777215 << 40},
		{"18446744073709551615", UINT64_MAX},
	};
	static const char *const bad[] = {
		"", "M", "abc", "-1", "+5", " 5", "5 ", "1.5G", "5X", "5MB",
		"5MiB", "16777216T", "18446744073709551616", "1G1",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1234;
		assert_int_equal(conf_parse_size(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 1234;
		if (conf_parse_size(bad[i], &v) != -1)
			fail_msg("size '%s' was accepted", bad[i]);
		assert_int_equal(v, 1234);
	}
}

static void
test_max_memory(void **state)
{
	struct result r;

	(void)state;
	load(&r, "[limits]\nmax_memory = 2048\n");
	assert_int_equal(r.problems, 0);
	assert_int_equal(r.cf.max_memory, 2048);
	result_free(&r);
	load(&r, "[limits]\nmax_memory = 1536K\n");
	assert_int_equal(r.problems, 1);
	assert_problem(&r, 2, "limits.max_memory: expected MiB");
	assert_int_equal(r.cf.max_memory, 0);
	result_free(&r);
}

/* One problem of each kind, each on its own line, all reported. */
static void
test_every_problem(void **state)
{
	static const struct {
		int line;
		const char *needle;
	} want[] = {
	    {1, "key 'stray' is outside any section"},
	    {3, "unikd.socket: expected an absolute path, got "
		"'run/unikd.sock'"},
	    {4, "unikd.state_dir: expected an absolute path"},
	    {5, "unikd.run_dir: '/run/a-very-long-directory-name/unikd' is "
		"37 bytes long, at most 35 are allowed"},
	    {6, "unikd.log_level: expected err, warn, info or debug, got "
		"'loud'"},
	    {7, "unknown key 'colour' in section [unikd]"},
	    {8, "unikd.image_dirs: expected an absolute path, got 'images'"},
	    {9, "unikd.monitor: expected an absolute path"},
	    {11, "limits.max_vms: expected a positive integer, got 'abc'"},
	    {12, "limits.max_vms: expected a positive integer, got '0'"},
	    {13, "limits.max_body_size: expected a size"},
	    {14, "unknown tender driver 'bhyve' in [tender.bhyve]"},
	    {17, "tender.qemu.path: expected an absolute path"},
	    {18, "tender.qemu.argv: only the exec driver"},
	    {19, "unknown section [network]"},
	    {22, "syntax error"},
	    {23, "syntax error: expected '[SECTION]'"},
	    {25, "console.files: expected an integer from 0 to 100, got "
		"'1000'"},
	    {27, "vm.stop_timeout: expected an integer from 0 to 86400, got "
		"'-1'"},
	    {28, "syntax error: no key before '='"},
	    {29, "vm.restart_max_retries: expected a non-negative integer"},
	};
	struct result r;
	size_t i;

	(void)state;
	load(&r,
	    "stray = 1\n"					/* 1 */
	    "[unikd]\n"
	    "socket = run/unikd.sock\n"				/* 3 */
	    "state_dir = var/lib/unikd\n"			/* 4 */
	    "run_dir = /run/a-very-long-directory-name/unikd\n"	/* 5 */
	    "log_level = loud\n"				/* 6 */
	    "colour = blue\n"					/* 7 */
	    "image_dirs = /ok:images\n"				/* 8 */
	    "monitor = unikd-monitor\n"				/* 9 */
	    "[limits]\n"
	    "max_vms = abc\n"					/* 11 */
	    "max_vms = 0\n"					/* 12 */
	    "max_body_size = 16Q\n"				/* 13 */
	    "[tender.bhyve]\n"					/* 14 */
	    "path = /usr/sbin/bhyve\n"
	    "[tender.qemu]\n"
	    "path = qemu-system-x86_64\n"			/* 17 */
	    "argv = -m 64\n"					/* 18 */
	    "[network]\n"					/* 19 */
	    "bridge = br0\n"
	    "[vm]\n"
	    "this line has no equals sign\n"			/* 22 */
	    "[console\n"					/* 23 */
	    "[console]\n"
	    "files = 1000\n"					/* 25 */
	    "[vm]\n"
	    "stop_timeout = -1\n"				/* 27 */
	    "= 5\n"						/* 28 */
	    "restart_max_retries = 99999999999\n");		/* 29 */
	assert_int_equal(r.problems, 21);
	assert_int_equal(count_lines(r.errors), 21);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_problem(&r, want[i].line, want[i].needle);
	/* Bad values leave the defaults; cf is still freeable. */
	assert_string_equal(r.cf.socket, "/run/unikd/unikd.sock");
	assert_string_equal(r.cf.run_dir, "/run/unikd");
	assert_int_equal(r.cf.n_image_dirs, 2);
	assert_int_equal(r.cf.max_vms, 0);
	assert_int_equal(r.cf.log_level, LOG_LEVEL_INFO);
	assert_null(conf_tender_find(&r.cf, "bhyve"));
	result_free(&r);
}

static void
test_long_paths(void **state)
{
	char text[512];
	struct result r;

	(void)state;
	/* 35 bytes is the most a run_dir may have. */
	load(&r, "[unikd]\nrun_dir = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	assert_int_equal(r.problems, 0);
	assert_int_equal(strlen(r.cf.run_dir), CONF_RUN_DIR_MAX);
	result_free(&r);
	load(&r, "[unikd]\nrun_dir = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	assert_int_equal(r.problems, 1);
	assert_problem(&r, 2, "unikd.run_dir: '/run/aaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaa' is 36 bytes long, at most 35 are allowed");
	assert_string_equal(r.cf.run_dir, "/run/unikd");
	result_free(&r);
	/* 108 bytes of socket path do not fit in sun_path. */
	snprintf(text, sizeof(text), "[unikd]\n\nsocket = /%0107d\n", 0);
	load(&r, text);
	assert_int_equal(r.problems, 1);
	assert_problem(&r, 3, "unikd.socket: '/000");
	assert_problem(&r, 3, "is 108 bytes long, at most 107 are allowed");
	result_free(&r);
}

/* Lines longer than inih's own buffer still work, with the right line. */
static void
test_long_line(void **state)
{
	char text[2048], *p;
	struct result r;
	int i;

	(void)state;
	p = text + sprintf(text, "[unikd]\nimage_dirs = ");
	for (i = 0; i < CONF_MAX_IMAGE_DIRS; i++)
		p += sprintf(p, "%s/srv/images/directory-%02d", i ? ":" : "",
		    i);
	sprintf(p, "\nlog_level = nope\n");
	load(&r, text);
	assert_int_equal(r.problems, 1);
	assert_problem(&r, 3, "unikd.log_level");
	assert_int_equal(r.cf.n_image_dirs, CONF_MAX_IMAGE_DIRS);
	assert_string_equal(r.cf.image_dirs[15],
	    "/srv/images/directory-15");
	result_free(&r);

	sprintf(p, ":/one/too/many\n");
	load(&r, text);
	assert_int_equal(r.problems, 1);
	assert_problem(&r, 2, "unikd.image_dirs: more than 16 directories");
	assert_int_equal(r.cf.n_image_dirs, 2);
	result_free(&r);
}

static void
test_backoff_order(void **state)
{
	struct result r;

	(void)state;
	load(&r, "[vm]\nrestart_backoff = 5000\nrestart_backoff_max = 1000\n");
	assert_int_equal(r.problems, 1);
	assert_non_null(strstr(r.errors, "vm.restart_backoff_max (1000) is "
	    "less than vm.restart_backoff (5000)"));
	result_free(&r);
}

static void
test_unreadable(void **state)
{
	char errbuf[1024], path[PATH_MAX + 16];
	struct conf cf;
	FILE *errf;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	memset(errbuf, 0, sizeof(errbuf));
	errf = fmemopen(errbuf, sizeof(errbuf) - 1, "w");
	assert_non_null(errf);
	conf_defaults(&cf);
	assert_int_equal(conf_load(&cf, path, errf), -1);
	fflush(errf);
	assert_non_null(strstr(errbuf, path));
	assert_non_null(strstr(errbuf, "No such file or directory"));
	assert_string_equal(cf.socket, "/run/unikd/unikd.sock");

	/* A directory opens but cannot be read. */
	rewind(errf);
	memset(errbuf, 0, sizeof(errbuf));
	assert_int_equal(conf_load(&cf, tmpdir, errf), -1);
	fflush(errf);
	assert_non_null(strstr(errbuf, tmpdir));
	assert_non_null(strstr(errbuf, "Is a directory"));
	fclose(errf);
	conf_free(&cf);
}

static void
test_empty_file(void **state)
{
	struct result r;

	(void)state;
	load(&r, "");
	assert_int_equal(r.problems, 0);
	assert_string_equal(r.cf.state_dir, "/var/lib/unikd");
	result_free(&r);
	load(&r, "\xef\xbb\xbf[unikd]\r\nlog_level = warn\r\n");
	assert_string_equal(r.errors, "");
	assert_int_equal(r.cf.log_level, LOG_LEVEL_WARN);
	result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_design_sample),
		cmocka_unit_test(test_contrib_sample),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_max_memory),
		cmocka_unit_test(test_every_problem),
		cmocka_unit_test(test_long_paths),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_backoff_order),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_empty_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
