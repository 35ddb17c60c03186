/*
 * Unit tests for the tender drivers against docs/tenders.md: for each
 * driver, the exact argv, config file and fd map for a VM with two NICs
 * and one block, the Solo5 virtio case of qemu, and the exit reasons.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
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
#include "tender.h"
#include "tender-argv.h"
#include "uerr.h"
#include "vmspec.h"

#define EXITED(code) (((code)&0xff) << 8)
#define IMG "/srv/unikernels/web.img"
#define MAC0 "02:00:00:00:00:01"
#define MAC1 "02:00:00:00:00:02"
#define CMDLINE "--ipv4=10.0.0.2/24 --udp-echo=7"

static char arg_ip[] = "--ipv4=${nic.service.ip}/24";
static char arg_udp[] = "--udp-echo=7";
static char *spec_args[] = {arg_ip, arg_udp, NULL};
static struct vm_nic spec_nics[2];

/* Two NICs (service, admin) with their TAPs, one block (storage). */
static void
spec_fill(struct vm_spec *s, const char *tender)
{
	memset(s, 0, sizeof(*s));
	memset(spec_nics, 0, sizeof(spec_nics));
	snprintf(s->name, sizeof(s->name), "web1");
	snprintf(s->tender, sizeof(s->tender), "%s", tender);
	s->image = (char *)IMG;
	s->memory = 64;
	s->args = spec_args;
	s->nargs = 2;
	snprintf(spec_nics[0].name, sizeof(spec_nics[0].name), "service");
	snprintf(spec_nics[0].mac, sizeof(spec_nics[0].mac), MAC0);
	snprintf(spec_nics[0].ip, sizeof(spec_nics[0].ip), "10.0.0.2");
	snprintf(spec_nics[0].tap, sizeof(spec_nics[0].tap), "uk1a");
	snprintf(spec_nics[1].name, sizeof(spec_nics[1].name), "admin");
	snprintf(spec_nics[1].mac, sizeof(spec_nics[1].mac), MAC1);
	snprintf(spec_nics[1].tap, sizeof(spec_nics[1].tap), "uk1b");
	s->nics = spec_nics;
	s->nnics = 2;
	snprintf(s->blocks[0].name, sizeof(s->blocks[0].name), "storage");
	snprintf(s->blocks[0].block, sizeof(s->blocks[0].block), "data");
	s->nblocks = 1;
}

static void
build(const char *tender, const struct vm_spec *s, const char *path,
    struct tender_cmd *cmd)
{
	const struct tender_driver *d = tender_find(tender);
	struct uerr e;

	assert_non_null(d);
	if (d->command(s, NULL, path, -1, cmd, &e) == -1)
		fail_msg("%s: %s", tender, e.message);
}

static void
test_solo5_spt(void **state)
{
	static const char *const expect[] = {"/usr/lib/solo5/solo5-spt",
	    "--mem=64", "--net:service=uk1a", "--net-mac:service=" MAC0,
	    "--net:admin=uk1b", "--net-mac:admin=" MAC1,
	    "--block:storage=/dev/fd/200", "--", IMG,
	    "--ipv4=10.0.0.2/24", "--udp-echo=7", NULL};
	const struct tender_driver *d = tender_find("solo5-spt");
	struct tender_cmd cmd;
	struct vm_spec s;

	(void)state;
	spec_fill(&s, "solo5-spt");
	build("solo5-spt", &s, "/usr/lib/solo5/solo5-spt", &cmd);
	assert_argv(&cmd, expect);
	assert_int_equal(cmd.nfds, 0);	/* TAPs by name, blocks by vm-run */
	assert_false(d->nic_by_fd);
	assert_null(d->control_suffix);
	assert_non_null(d->check);
	tender_cmd_free(&cmd);
}


#define QEMU_NIC0 "-netdev", "tap,id=n0,fd=100", "-device", \
	"virtio-net-pci,netdev=n0,mac=" MAC0
#define QEMU_NIC1 "-netdev", "tap,id=n1,fd=101", "-device", \
	"virtio-net-pci,netdev=n1,mac=" MAC1
#define QEMU_BLOCK0 "-add-fd", "fd=200,set=0", "-drive", \
	"file=/dev/fdset/0,if=none,id=d0,format=raw,file.locking=off," \
	"file.auto-read-only=off", "-device", "virtio-blk-pci,drive=d0"
#define QEMU_QMP "-chardev", "socket,id=qmp,fd=99,server=on,wait=off", \
	"-mon", "chardev=qmp,mode=control"

static void
test_qemu(void **state)
{
	static const char *const expect[] = {
	    "/usr/bin/qemu-system-x86_64", "-nodefaults", "-no-user-config",
	    "-display", "none", "-serial", "stdio", "-m", "64", "-machine",
	    "accel=kvm:tcg", "-kernel", IMG, "-append", CMDLINE, QEMU_NIC0,
	    QEMU_NIC1, QEMU_BLOCK0, QEMU_QMP, NULL};
	const struct tender_driver *d = tender_find("qemu");
	struct tender_cmd cmd;
	struct vm_spec s;

	(void)state;
	spec_fill(&s, "qemu");
	build("qemu", &s, "/usr/bin/qemu-system-x86_64", &cmd);
	assert_argv(&cmd, expect);
	/* the fd map: TAPs at 100+i and the QMP socket at 99 are added by
	 * vm-control.c, the block at 200 by vm-run.c */
	assert_int_equal(cmd.nfds, 0);
	assert_true(d->nic_by_fd);
	assert_string_equal(d->control_suffix, ".qmp");
	assert_non_null(d->stop);
	assert_int_equal(TENDER_NIC_FD(1), 101);
	assert_int_equal(TENDER_CONTROL_FD, 99);
	tender_cmd_free(&cmd);
}

/* A Solo5 virtio image: isa-debug-exit, devices in manifest order. */
static void
test_qemu_solo5_virtio(void **state)
{
	static const struct solo5_elf_dev devs[] = {
	    {"storage", 1}, {"admin", 2}, {"service", 2}};
	static const char *const expect[] = {
	    "/usr/bin/qemu-system-x86_64", "-nodefaults", "-no-user-config",
	    "-display", "none", "-serial", "stdio", "-m", "64", "-machine",
	    "accel=kvm:tcg", "-kernel", NULL, "-append", CMDLINE, QEMU_BLOCK0,
	    QEMU_NIC1, QEMU_NIC0, "-device", "isa-debug-exit", QEMU_QMP, NULL};
	const char *want[sizeof(expect) / sizeof(expect[0])];
	char path[] = "/tmp/unikd-test-drivers.XXXXXX";
	static struct solo5_elf img;
	const struct tender_driver *d = tender_find("qemu");
	struct tender_cmd cmd;
	struct vm_spec s;
	struct uerr e;
	int fd;

	(void)state;
	solo5_elf_build(&img, devs, 3, 3, 0);	/* virtio */
	solo5_elf_create(&img, path);
	spec_fill(&s, "qemu");
	s.image = path;
	memcpy(want, expect, sizeof(want));
	/* the image reaches qemu as the fd unikd opened and checked */
	want[12] = "/dev/fd/97";
	assert_int_not_equal(fd = open(path, O_RDONLY | O_CLOEXEC), -1);
	assert_int_equal(d->check(&s, fd, &e), 0);
	if (d->command(&s, NULL, "/usr/bin/qemu-system-x86_64", fd, &cmd,
	    &e) == -1)
		fail_msg("qemu: %s", e.message);
	assert_argv(&cmd, want);
	assert_int_equal(cmd.nfds, 1);
	assert_int_equal(cmd.fd_targets[0], TENDER_IMAGE_FD);
	tender_cmd_free(&cmd);
	close(fd);
	/* an spt image is refused by qemu's check */
	solo5_elf_build(&img, devs, 3, 2, 0);
	solo5_elf_write(&img, path);
	assert_int_not_equal(fd = open(path, O_RDONLY | O_CLOEXEC), -1);
	assert_int_equal(d->check(&s, fd, &e), -1);
	close(fd);
	assert_int_equal(e.status, 422);
	assert_non_null(strstr(e.message, "'spt' target"));
	unlink(path);
}

static void
test_qemu_bad_args(void **state)
{
	static char spaced[] = "hello world";
	static char *args[] = {spaced, NULL};
	struct tender_cmd cmd;
	struct vm_spec s;
	struct uerr e;

	(void)state;
	spec_fill(&s, "qemu");
	s.args = args;
	s.nargs = 1;
	assert_int_equal(tender_find("qemu")->command(&s, NULL, "/q", -1, &cmd,
	    &e), -1);
	assert_int_equal(e.status, 422);
	assert_non_null(strstr(e.message, "argument 0 ('hello world')"));
}

static void
test_firecracker(void **state)
{
	static const char *const expect[] = {"/usr/bin/firecracker",
	    "--no-api", "--config-file", "/dev/fd/98", NULL};
	const char *want_json =
	    "{\"boot-source\": {\"kernel_image_path\": \"" IMG "\","
	    " \"boot_args\": \"" CMDLINE "\"},"
	    " \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 64},"
	    " \"network-interfaces\": ["
	    "{\"iface_id\": \"service\", \"host_dev_name\": \"uk1a\","
	    " \"guest_mac\": \"" MAC0 "\"},"
	    "{\"iface_id\": \"admin\", \"host_dev_name\": \"uk1b\","
	    " \"guest_mac\": \"" MAC1 "\"}],"
	    " \"drives\": [{\"drive_id\": \"storage\","
	    " \"path_on_host\": \"/dev/fd/200\", \"is_root_device\": false,"
	    " \"is_read_only\": false}]}";
	const struct tender_driver *d = tender_find("firecracker");
	struct tender_cmd cmd;
	struct vm_spec s;
	char buf[4096];
	json_t *got, *want;
	ssize_t n;

	(void)state;
	spec_fill(&s, "firecracker");
	build("firecracker", &s, "/usr/bin/firecracker", &cmd);
	assert_argv(&cmd, expect);
	assert_int_equal(cmd.nfds, 1);
	assert_int_equal(cmd.fd_targets[0], 98);
	n = pread(cmd.fds[0], buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* sealed: the tender cannot change it */
	assert_int_equal(write(cmd.fds[0], "x", 1), -1);
	got = json_loads(buf, 0, NULL);
	want = json_loads(want_json, 0, NULL);
	assert_non_null(got);
	assert_non_null(want);
	if (!json_equal(got, want))
		fail_msg("config: %s", buf);
	json_decref(got);
	json_decref(want);
	assert_false(d->nic_by_fd);	/* Firecracker opens TAPs by name */
	assert_null(d->control_suffix);
	tender_cmd_free(&cmd);
}

static void
test_cloud_hypervisor(void **state)
{
	static const char *const expect[] = {"/usr/bin/cloud-hypervisor",
	    "--kernel", IMG, "--cmdline", CMDLINE, "--memory", "size=64M",
	    "--cpus", "boot=1", "--net", "fd=100,mac=" MAC0, "--net",
	    "fd=101,mac=" MAC1, "--disk", "path=/dev/fd/200", "--serial",
	    "tty", "--console", "off", "--api-socket", "fd=99", NULL};
	const struct tender_driver *d = tender_find("cloud-hypervisor");
	struct tender_cmd cmd;
	struct vm_spec s;

	(void)state;
	spec_fill(&s, "cloud-hypervisor");
	build("cloud-hypervisor", &s, "/usr/bin/cloud-hypervisor", &cmd);
	assert_argv(&cmd, expect);
	assert_int_equal(cmd.nfds, 0);
	assert_true(d->nic_by_fd);
	assert_string_equal(d->control_suffix, ".api");
	assert_int_equal(d->stop_signal, SIGTERM);
	tender_cmd_free(&cmd);
}

static void
test_exit_reasons(void **state)
{
	const struct tender_driver *q = tender_find("qemu");
	const struct tender_driver *f = tender_find("firecracker");
	char buf[64];

	(void)state;
	q->exit_reason(EXITED(83), buf, sizeof(buf));
	assert_string_equal(buf, "exited (guest)");
	q->exit_reason(EXITED(0), buf, sizeof(buf));
	assert_string_equal(buf, "exited 0");
	q->exit_reason(SIGKILL, buf, sizeof(buf));
	assert_string_equal(buf, "killed by SIGKILL");
	f->exit_reason(EXITED(148), buf, sizeof(buf));
	assert_string_equal(buf, "failed 148 (bad syscall (seccomp))");
	f->exit_reason(EXITED(152), buf, sizeof(buf));
	assert_string_equal(buf, "failed 152 (bad configuration)");
	f->exit_reason(EXITED(1), buf, sizeof(buf));
	assert_string_equal(buf, "failed 1");
}

/* A missing or non-executable binary: the probe says why. */
static void
test_probe_missing(void **state)
{
	char buf[256], path[] = "/tmp/unikd-test-probe.XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(tender_find("qemu")->probe("/nonexistent/qemu", buf,
	    sizeof(buf)), -1);
	assert_non_null(strstr(buf, "No such file"));
	assert_int_not_equal(fd = mkstemp(path), -1);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(tender_find("firecracker")->probe(path, buf,
	    sizeof(buf)), -1);
	unlink(path);
	if (strstr(buf, "Permission denied") == NULL)
		fail_msg("probe: %s", buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_solo5_spt),
		cmocka_unit_test(test_qemu),
		cmocka_unit_test(test_qemu_solo5_virtio),
		cmocka_unit_test(test_qemu_bad_args),
		cmocka_unit_test(test_firecracker),
		cmocka_unit_test(test_cloud_hypervisor),
		cmocka_unit_test(test_exit_reasons),
		cmocka_unit_test(test_probe_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
