/* Unit tests for the tender drivers (daemon/tender*.c). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conf.h"
#include "tender.h"
#include "tender-argv.h"
#include "uerr.h"
#include "vmspec.h"

/* waitpid() statuses as the kernel encodes them. */
#define EXITED(code) (((code)&0xff) << 8)
#define KILLED(sig) ((sig)&0x7f)

static char arg_ip[] = "--ipv4=10.0.0.2/24";
static char arg_hello[] = "hello world";
static char *spec_args[] = {arg_ip, arg_hello, NULL};

/* A spec as vmspec.c would make it, filled by hand. */
static void
spec_fill(struct vm_spec *s, const char *tender, size_t nargs)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "web1");
	snprintf(s->tender, sizeof(s->tender), "%s", tender);
	s->image = (char *)"/srv/unikernels/web.spt";
	s->memory = 64;
	s->args = spec_args;
	s->nargs = nargs;
}

static void
test_exit_reason(void **state)
{
	char buf[64];

	(void)state;
	tender_exit_reason(EXITED(0), buf, sizeof(buf));
	assert_string_equal(buf, "exited 0");
	tender_exit_reason(EXITED(1), buf, sizeof(buf));
	assert_string_equal(buf, "failed 1");
	tender_exit_reason(EXITED(83), buf, sizeof(buf));
	assert_string_equal(buf, "failed 83");
	tender_exit_reason(EXITED(255), buf, sizeof(buf));
	assert_string_equal(buf, "aborted 255");
	tender_exit_reason(KILLED(SIGKILL), buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGKILL");
	tender_exit_reason(KILLED(SIGSEGV), buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGSEGV");
	tender_exit_reason(KILLED(SIGSYS), buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGSYS");
	tender_exit_reason(KILLED(SIGTERM) | 0x80, buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGTERM");
}

static void
test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(tender_exit_status(EXITED(0)), 0);
	assert_int_equal(tender_exit_status(EXITED(1)), 1);
	assert_int_equal(tender_exit_status(EXITED(255)), 255);
	assert_int_equal(tender_exit_status(KILLED(SIGKILL)), 137);
	assert_int_equal(tender_exit_status(KILLED(SIGSEGV)), 139);
	assert_int_equal(tender_exit_status(KILLED(SIGSYS)), 159);
}

static void
test_table(void **state)
{
	const struct tender_driver *const *d;
	const struct tender_driver *spt, *hvt, *ex;

	(void)state;
	spt = tender_find("solo5-spt");
	hvt = tender_find("solo5-hvt");
	ex = tender_find("exec");
	assert_non_null(spt);
	assert_non_null(hvt);
	assert_non_null(ex);
	assert_non_null(tender_find("qemu"));
	assert_null(tender_find("qemu-kvm"));
	assert_null(tender_find("Solo5-spt"));
	assert_null(tender_find(NULL));
	assert_int_equal(spt->min_memory, 2);
	assert_int_equal(hvt->min_memory, 2);
	assert_int_equal(ex->min_memory, 1);
	assert_int_equal(spt->stop_signal, SIGTERM);
	assert_int_equal(hvt->stop_signal, SIGTERM);
	assert_int_equal(ex->stop_signal, SIGTERM);
	/* sorted by name, every entry complete */
	for (d = tender_drivers; *d != NULL; d++) {
		assert_non_null((*d)->probe);
		assert_non_null((*d)->command);
		if (d != tender_drivers)
			assert_true(strcmp(d[-1]->name, (*d)->name) < 0);
	}
}

static void
test_solo5_argv(void **state)
{
	static const char *const expect[] = {"/usr/lib/solo5/solo5-spt",
	    "--mem=64", "--", "/srv/unikernels/web.spt", "--ipv4=10.0.0.2/24",
	    "hello world", NULL};
	static const char *const bare[] = {
	    "/opt/solo5-hvt", "--mem=2", "--", "/srv/unikernels/web.spt", NULL};
	struct tender_cmd cmd;
	struct vm_spec s;
	struct uerr e = {0};

	(void)state;
	spec_fill(&s, "solo5-spt", 2);
	assert_int_equal(
	    tender_find("solo5-spt")
	        ->command(&s, NULL, "/usr/lib/solo5/solo5-spt", -1, &cmd, &e),
	    0);
	assert_argv(&cmd, expect);
	assert_int_equal(cmd.nfds, 0);
	tender_cmd_free(&cmd);
	assert_null(cmd.argv);

	spec_fill(&s, "solo5-hvt", 0);
	s.memory = 2;
	assert_int_equal(tender_find("solo5-hvt")
	                     ->command(&s, NULL, "/opt/solo5-hvt", -1, &cmd, &e),
	    0);
	assert_argv(&cmd, bare);
	tender_cmd_free(&cmd);

	s.memory = 1;
	assert_int_equal(tender_find("solo5-hvt")
	                     ->command(&s, NULL, "/opt/solo5-hvt", -1, &cmd, &e),
	    -1);
	assert_int_equal(e.status, 422);
	assert_string_equal(e.code, "unprocessable");
	assert_non_null(strstr(e.message, "memory"));
	assert_null(cmd.argv);
}

/* A spec with args and two NICs as vm-net.c fills them at start. */
static void
spec_nics(struct vm_spec *s, const char *tender, char **args,
    struct vm_nic nics[2])
{
	spec_fill(s, tender, 2);
	s->args = args;
	s->nics = nics;
	s->nnics = 2;
	memset(nics, 0, 2 * sizeof(*nics));
	snprintf(nics[0].name, sizeof(nics[0].name), "service");
	snprintf(nics[0].mac, sizeof(nics[0].mac), "02:aa:00:00:00:01");
	snprintf(nics[0].ip, sizeof(nics[0].ip), "10.0.0.2");
	snprintf(nics[0].cidr, sizeof(nics[0].cidr), "10.0.0.2/24");
	snprintf(nics[0].gateway, sizeof(nics[0].gateway), "10.0.0.1");
	snprintf(nics[0].tap, sizeof(nics[0].tap), "uk1f");
	snprintf(nics[1].name, sizeof(nics[1].name), "admin");
	snprintf(nics[1].mac, sizeof(nics[1].mac), "02:aa:00:00:00:02");
	snprintf(nics[1].tap, sizeof(nics[1].tap), "uk20");
}

/* --net:NAME=TAP --net-mac:NAME=MAC per NIC, in order, before "--";
 * placeholders in the guest's args filled in. */
static void
test_solo5_nics(void **state)
{
	static const char *const expect[] = {"/usr/lib/solo5/solo5-spt",
	    "--mem=64", "--net:service=uk1f", "--net-mac:service=02:aa:00:00:00:01",
	    "--net:admin=uk20", "--net-mac:admin=02:aa:00:00:00:02", "--",
	    "/srv/unikernels/web.spt", "--ipv4=10.0.0.2/24",
	    "--ipv4-gateway=10.0.0.1", NULL};
	static char a1[] = "--ipv4=${nic.service.cidr}";
	static char a2[] = "--ipv4-gateway=${nic.service.gateway}";
	static char bad[] = "--ipv4=${nic.nosuch.ip}";
	char *args[] = {a1, a2, NULL};
	struct vm_nic nics[2];
	struct tender_cmd cmd;
	struct vm_spec s;
	struct uerr e = {0};

	(void)state;
	spec_nics(&s, "solo5-spt", args, nics);
	assert_int_equal(tender_find("solo5-spt")->command(&s, NULL,
	    "/usr/lib/solo5/solo5-spt", -1, &cmd, &e), 0);
	assert_argv(&cmd, expect);
	tender_cmd_free(&cmd);

	args[1] = bad;
	assert_int_equal(tender_find("solo5-spt")->command(&s, NULL,
	    "/usr/lib/solo5/solo5-spt", -1, &cmd, &e), -1);
	assert_int_equal(e.status, 422);
	assert_non_null(strstr(e.message, "${nic.nosuch.ip}"));
	assert_null(cmd.argv);
}

/* The exec template names every field of a NIC, as args do; args get
 * their placeholders; "$${" is a literal "${" in both. */
static void
test_exec_nics(void **state)
{
	static const char *const expect[] = {"/usr/bin/runvm",
	    "--tap=uk1f", "--mac=02:aa:00:00:00:01",
	    "--net=10.0.0.2,10.0.0.2/24,10.0.0.1", "--admin-ip=",
	    "--literal=${nic.service.ip}", "--", "--ip=10.0.0.2",
	    "${x}", NULL};
	static char a1[] = "--ip=${nic.service.ip}";
	static char a2[] = "$${x}";
	char *args[] = {a1, a2, NULL};
	struct conf_tender tc = {.name = (char *)"exec",
	    .path = (char *)"/usr/bin/runvm",
	    .argv = (char *)"${path} --tap=${nic.service.tap} "
	                    "--mac=${nic.service.mac} "
	                    "--net=${nic.service.ip},${nic.service.cidr},"
	                    "${nic.service.gateway} --admin-ip=${nic.admin.ip} "
	                    "--literal=$${nic.service.ip} -- ${args}"};
	struct vm_nic nics[2];
	struct tender_cmd cmd;
	struct vm_spec s;
	struct uerr e = {0};

	(void)state;
	spec_nics(&s, "exec", args, nics);
	assert_int_equal(tender_find("exec")->command(&s, &tc,
	    "/usr/bin/runvm", -1, &cmd, &e), 0);
	assert_argv(&cmd, expect);
	tender_cmd_free(&cmd);

	tc.argv = (char *)"${path} --tap=${nic.other.tap}";
	assert_int_equal(tender_find("exec")->command(&s, &tc,
	    "/usr/bin/runvm", -1, &cmd, &e), -1);
	assert_int_equal(e.status, 422);
	assert_non_null(strstr(e.message, "${nic.other.tap}"));
}

/* Runs the exec driver with template tmpl (NULL: the default). */
static int
exec_run(const char *tmpl, size_t nargs, struct tender_cmd *cmd, struct uerr *e)
{
	struct conf_tender tc = {.name = (char *)"exec",
	    .path = (char *)"/usr/bin/runvm",
	    .argv = (char *)tmpl};
	struct vm_spec s;

	spec_fill(&s, "exec", nargs);
	return tender_find("exec")->command(&s, &tc, "/usr/bin/runvm", -1, cmd, e);
}

static void
test_exec_template(void **state)
{
	static const char *const dflt[] = {"/usr/bin/runvm",
	    "/srv/unikernels/web.spt", "--ipv4=10.0.0.2/24", "hello world",
	    NULL};
	static const char *const full[] = {"/usr/bin/runvm", "-m", "64M",
	    "--name=vm-web1", "--image", "/srv/unikernels/web.spt", "--",
	    "--ipv4=10.0.0.2/24", "hello world", "$HOME", "--end", NULL};
	static const char *const noargs[] = {"/usr/bin/runvm", "-m", "64M",
	    "--name=vm-web1", "--image", "/srv/unikernels/web.spt", "--",
	    "$HOME", "--end", NULL};
	const char *tmpl = "${path} -m ${memory}M\t--name=vm-${name} "
	                   "--image ${image} -- ${args} $HOME --end";
	struct tender_cmd cmd;
	struct uerr e = {0};

	(void)state;
	assert_int_equal(exec_run(NULL, 2, &cmd, &e), 0);
	assert_argv(&cmd, dflt);
	tender_cmd_free(&cmd);

	assert_int_equal(exec_run(tmpl, 2, &cmd, &e), 0);
	assert_argv(&cmd, full);
	tender_cmd_free(&cmd);

	/* ${args} with no args adds no entry, not an empty one */
	assert_int_equal(exec_run(tmpl, 0, &cmd, &e), 0);
	assert_argv(&cmd, noargs);
	tender_cmd_free(&cmd);
}

static void
exec_refused(const char *tmpl, const char *needle)
{
	struct tender_cmd cmd;
	struct uerr e = {0};

	assert_int_equal(exec_run(tmpl, 2, &cmd, &e), -1);
	assert_int_equal(e.status, 422);
	assert_string_equal(e.code, "unprocessable");
	assert_non_null(strstr(e.message, "[tender.exec] argv"));
	if (strstr(e.message, needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, e.message);
	assert_null(cmd.argv);
}

static void
test_exec_template_bad(void **state)
{
	(void)state;
	exec_refused("${path} ${image} --tap=${nic.0.tap}",
	    "unknown placeholder '${nic.0.tap}'");
	exec_refused("${path} ${PATH}", "'${PATH}'");
	exec_refused("${path} --mem=${memory", "unterminated");
	exec_refused("${path} --args=${args}", "'${args}' must be a whole");
	exec_refused("${args} ${path}", "the first token");
	exec_refused("", "names no program");
	exec_refused(" \t ", "names no program");
}

static void
test_cmd_free_closes_fds(void **state)
{
	struct tender_cmd cmd = {0};
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	cmd.fds[0] = p[0];
	cmd.fds[1] = p[1];
	cmd.nfds = 2;
	tender_cmd_free(&cmd);
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fcntl(p[1], F_GETFD), -1);
	assert_int_equal(cmd.nfds, 0);
	tender_cmd_free(&cmd); /* twice is harmless */
}

/* Makes a temporary file with mode 0644 at path (a mkstemp template). */
static void
noexec_file(char *path)
{
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
}

static void
test_run_version(void **state)
{
	char buf[256], plain[] = "/tmp/test-tender.XXXXXX";

	(void)state;
	assert_int_equal(
	    tender_run_version("/bin/echo", "--version", buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "coreutils"));
	assert_null(strchr(buf, '\n'));

	/* an echo of one line: exactly that line */
	assert_int_equal(
	    tender_run_version("/bin/echo", "v1.2 ok", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "v1.2 ok");

	assert_int_equal(tender_run_version("/nonexistent/solo5-spt",
	                     "--version", buf, sizeof(buf)),
	    -1);
	assert_non_null(strstr(buf, "/nonexistent/solo5-spt"));
	assert_non_null(strstr(buf, "No such file"));

	/* a file without an execute bit */
	noexec_file(plain);
	assert_int_equal(
	    tender_run_version(plain, "--version", buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "Permission denied"));
	unlink(plain);

	/* no output at all */
	assert_int_equal(
	    tender_run_version("/bin/true", "ignored", buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "no output"));
}

static void
test_run_version_timeout(void **state)
{
	struct timespec t0, t1;
	char buf[256];
	double dt;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(
	    tender_run_version("/bin/sleep", "30", buf, sizeof(buf)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	dt = (double)(t1.tv_sec - t0.tv_sec) +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(dt >= 1.9 && dt < 4.0);
	assert_non_null(strstr(buf, "no answer within 2 s"));
}

/* A stand-in tender: a script that prints LINE for --version. */
static char *
fake_tender(char *dir, const char *line)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/tender", dir);
	assert_non_null(f = fopen(path, "w"));
	fprintf(f, "#!/bin/sh\necho '%s'\nexec sleep 30\n", line);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
	return path;
}

static void
test_solo5_probe(void **state)
{
	char dir[] = "/tmp/test-tender.XXXXXX", buf[256], *path;
	const char *v = "solo5-spt tender, version v0.12.1 / ABI version 2";
	int kvm;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = fake_tender(dir, v);
	assert_int_equal(
	    tender_find("solo5-spt")->probe(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, v);

	/* hvt also needs /dev/kvm read-write */
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm >= 0) {
		close(kvm);
		assert_int_equal(
		    tender_find("solo5-hvt")->probe(path, buf, sizeof(buf)), 0);
		assert_string_equal(buf, v);
	} else {
		assert_int_equal(
		    tender_find("solo5-hvt")->probe(path, buf, sizeof(buf)),
		    -1);
		assert_non_null(strstr(buf, "/dev/kvm: "));
	}

	path = fake_tender(dir, "usage: tender [options]");
	assert_int_equal(
	    tender_find("solo5-spt")->probe(path, buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "unexpected output"));

	assert_int_equal(tender_find("solo5-spt")
	                     ->probe("/nonexistent/spt", buf, sizeof(buf)),
	    -1);
	assert_non_null(strstr(buf, "No such file"));
	unlink(path);
	rmdir(dir);
}

static void
test_exec_probe(void **state)
{
	const struct tender_driver *d = tender_find("exec");
	char buf[256], plain[] = "/tmp/test-tender.XXXXXX";

	(void)state;
	assert_int_equal(d->probe("/bin/true", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "exec /bin/true");
	assert_int_equal(d->probe("/nonexistent/runvm", buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "No such file"));
	assert_int_equal(d->probe("/tmp", buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "not a regular file"));
	/* no execute bit: refused even for root */
	noexec_file(plain);
	assert_int_equal(d->probe(plain, buf, sizeof(buf)), -1);
	assert_non_null(strstr(buf, "Permission denied"));
	unlink(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_reason),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_solo5_argv),
	    cmocka_unit_test(test_solo5_nics),
	    cmocka_unit_test(test_exec_nics),
	    cmocka_unit_test(test_exec_template),
	    cmocka_unit_test(test_exec_template_bad),
	    cmocka_unit_test(test_cmd_free_closes_fds),
	    cmocka_unit_test(test_run_version),
	    cmocka_unit_test(test_run_version_timeout),
	    cmocka_unit_test(test_solo5_probe),
	    cmocka_unit_test(test_exec_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
