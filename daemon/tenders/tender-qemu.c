/*
 * The qemu driver: qemu-system-x86_64 with virtio devices handed over as
 * open fds (docs/tenders.md):
 *
 *   qemu-system-x86_64 -nodefaults -no-user-config -display none
 *     -serial stdio -m MIB -machine accel=kvm:tcg -kernel IMAGE
 *     [-append "ARGS"]
 *     -netdev tap,id=nI,fd=100+I -device virtio-net-pci,netdev=nI,mac=MAC
 *     -add-fd fd=200+J,set=J
 *     -drive file=/dev/fdset/J,if=none,id=dJ,format=raw,file.locking=off,
 *            file.auto-read-only=off
 *     -device virtio-blk-pci,drive=dJ
 *     [-device isa-debug-exit]
 *     -chardev socket,id=qmp,fd=99,server=on,wait=off
 *     -mon chardev=qmp,mode=control
 *
 * - NICs: unikd opens each TAP (non-persistent) and hands the fd, so the
 *   TAP goes away with QEMU's last descriptor.
 * - Blocks: the open, locked block fd goes into an fd set; QEMU's own
 *   image locking is off, as unikd's lock on the same file already
 *   keeps a second tender away (and QEMU unlocking its bytes on the
 *   shared open file description would drop part of unikd's lock).
 *   auto-read-only is off as QEMU would first open the set read-only,
 *   and a set holding only a read-write fd refuses that (EACCES).
 * - accel=kvm:tcg: QEMU uses KVM when the tender user may open /dev/kvm
 *   and falls back to TCG otherwise, so the argv does not depend on
 *   which user probes the host.
 * - A Solo5 virtio image (its manifest's target) gets isa-debug-exit
 *   (the guest's solo5_exit() makes QEMU exit 83) and its devices in
 *   manifest order, which is how Solo5's virtio bindings assign them.
 * - The QMP socket is made by unikd (run_dir/vm/NAME.qmp, root only) and
 *   handed over listening; a stop sends system_powerdown through it,
 *   and quit once the stop timeout is over.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"
#include "solo5-manifest.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

/* SeaBIOS, option ROMs and a small guest fit in this. */
#define QEMU_MIN_MEMORY 4
/* isa-debug-exit: QEMU exits (value << 1) | 1; Solo5 writes 41. */
#define QEMU_GUEST_EXIT 83

/* `qemu-system-x86_64 -version`: "QEMU emulator version 7.2.22 (...)". */
static int
qemu_probe(const char *path, char *buf, size_t len)
{
	return tender_probe_version(path, "-version", "QEMU", buf, len);
}

static int
qemu_nic(struct tender_cmd *cmd, const struct vm_spec *spec, size_t i)
{
	return tender_argv_add(cmd, "-netdev") == -1 ||
	    tender_argv_add(cmd, "tap,id=n%zu,fd=%d", i, TENDER_NIC_FD(i)) ==
		-1 ||
	    tender_argv_add(cmd, "-device") == -1 ||
	    tender_argv_add(cmd, "virtio-net-pci,netdev=n%zu,mac=%s", i,
		spec->nics[i].mac) == -1 ? -1 : 0;
}

static int
qemu_block(struct tender_cmd *cmd, size_t i)
{
	return tender_argv_add(cmd, "-add-fd") == -1 ||
	    tender_argv_add(cmd, "fd=%d,set=%zu", TENDER_BLOCK_FD(i), i) ==
		-1 ||
	    tender_argv_add(cmd, "-drive") == -1 ||
	    tender_argv_add(cmd,
		"file=/dev/fdset/%zu,if=none,id=d%zu,format=raw,"
		"file.locking=off,file.auto-read-only=off", i, i) == -1 ||
	    tender_argv_add(cmd, "-device") == -1 ||
	    tender_argv_add(cmd, "virtio-blk-pci,drive=d%zu", i) == -1 ? -1 :
	    0;
}

/* The index of the VM's NIC or block named name, or -1. */
static long
qemu_find(const struct vm_spec *spec, enum solo5_dev_type t,
    const char *name)
{
	size_t i;

	for (i = 0; t == SOLO5_DEV_NET && i < spec->nnics; i++)
		if (strcmp(spec->nics[i].name, name) == 0)
			return (long)i;
	for (i = 0; t == SOLO5_DEV_BLOCK && i < spec->nblocks; i++)
		if (strcmp(spec->blocks[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Devices in manifest order for a Solo5 image, else NICs then blocks. */
static int
qemu_devices(struct tender_cmd *cmd, const struct vm_spec *spec,
    const struct solo5_manifest *m)
{
	const struct solo5_device *d;
	size_t i;
	long k;

	for (i = 0; m != NULL && i < m->ndevices; i++) {
		d = &m->devices[i];
		if ((k = qemu_find(spec, d->type, d->name)) == -1)
			continue;	/* refused by the check */
		if ((d->type == SOLO5_DEV_NET ? qemu_nic(cmd, spec, (size_t)k) :
		    qemu_block(cmd, (size_t)k)) == -1)
			return -1;
	}
	if (m != NULL)
		return 0;
	for (i = 0; i < spec->nnics; i++)
		if (qemu_nic(cmd, spec, i) == -1)
			return -1;
	for (i = 0; i < spec->nblocks; i++)
		if (qemu_block(cmd, i) == -1)
			return -1;
	return 0;
}

static int
qemu_base(struct tender_cmd *cmd, const struct vm_spec *spec,
    const char *path, int image_fd, const char *cmdline)
{
	const char *image = tender_image(cmd, spec, image_fd);

	return image == NULL ||
	    tender_argv_add(cmd, "%s", path) == -1 ||
	    tender_argv_add(cmd, "-nodefaults") == -1 ||
	    tender_argv_add(cmd, "-no-user-config") == -1 ||
	    tender_argv_add(cmd, "-display") == -1 ||
	    tender_argv_add(cmd, "none") == -1 ||
	    tender_argv_add(cmd, "-serial") == -1 ||
	    tender_argv_add(cmd, "stdio") == -1 ||
	    tender_argv_add(cmd, "-m") == -1 ||
	    tender_argv_add(cmd, "%u", spec->memory) == -1 ||
	    tender_argv_add(cmd, "-machine") == -1 ||
	    tender_argv_add(cmd, "accel=kvm:tcg") == -1 ||
	    tender_argv_add(cmd, "-kernel") == -1 ||
	    tender_argv_add(cmd, "%s", image) == -1 ||
	    (cmdline[0] != '\0' && (tender_argv_add(cmd, "-append") == -1 ||
		tender_argv_add(cmd, "%s", cmdline) == -1)) ? -1 : 0;
}

static int
qemu_tail(struct tender_cmd *cmd, bool solo5)
{
	return (solo5 && (tender_argv_add(cmd, "-device") == -1 ||
		tender_argv_add(cmd, "isa-debug-exit") == -1)) ||
	    tender_argv_add(cmd, "-chardev") == -1 ||
	    tender_argv_add(cmd, "socket,id=qmp,fd=%d,server=on,wait=off",
		TENDER_CONTROL_FD) == -1 ||
	    tender_argv_add(cmd, "-mon") == -1 ||
	    tender_argv_add(cmd, "chardev=qmp,mode=control") == -1 ? -1 : 0;
}

static int
qemu_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, int image_fd, struct tender_cmd *cmd, struct uerr *e)
{
	struct solo5_manifest m;
	char err[256], *cmdline = NULL;
	bool solo5;

	(void)tc;
	memset(cmd, 0, sizeof(*cmd));
	/* a bad manifest is refused by the check; here it is just absent */
	solo5 = image_fd != -1 &&
	    solo5_manifest_read_fd(image_fd, &m, err, sizeof(err)) == 0;
	if (tender_cmdline(spec, &cmdline, e) == -1)
		return -1;
	if (qemu_base(cmd, spec, path, image_fd, cmdline) == -1 ||
	    qemu_devices(cmd, spec, solo5 ? &m : NULL) == -1 ||
	    qemu_tail(cmd, solo5) == -1) {
		free(cmdline);
		tender_cmd_free(cmd);
		return uerr_set(e, UERR_INTERNAL,
		    "vm '%s': cannot build the command: out of memory",
		    spec->name);
	}
	free(cmdline);
	return 0;
}

/* A Solo5 image must be a virtio one and match the VM's devices. */
static int
qemu_check(const struct vm_spec *spec, int image_fd, struct uerr *e)
{
	return tender_manifest_check(spec, image_fd, "virtio", e);
}

/* The stop under way is a QMP session; the driver table names it by the
 * drivers' common opaque type. */
static struct tender_stop *
qemu_stop(struct event_base *base, const char *control_path, bool force,
    tender_stop_done done, void *arg, char *err, size_t errlen)
{
	return (struct tender_stop *)qmp_start(base, control_path,
	    force ? "quit" : "system_powerdown", done, arg, err, errlen);
}

static void
qemu_stop_cancel(struct tender_stop *stop)
{
	qmp_cancel((struct qmp_session *)stop);
}

/*
 * QEMU itself exits 0 or 1; 83 comes only from isa-debug-exit, which only
 * a Solo5 virtio image gets: the guest's solo5_exit(). Whatever code the
 * guest passed, the port carries 41 (Solo5 writes it so), so the guest's
 * own code is lost: its end counts as a clean one.
 */
static bool
qemu_clean_exit(int wstatus)
{
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == QEMU_GUEST_EXIT;
}

static void
qemu_exit_reason(int wstatus, char *buf, size_t len)
{
	if (qemu_clean_exit(wstatus))
		snprintf(buf, len, "exited (guest)");
	else
		tender_exit_reason(wstatus, buf, len);
}

const struct tender_driver tender_qemu = {
    .name = "qemu",
    .default_path = "/usr/bin/qemu-system-x86_64",
    .min_memory = QEMU_MIN_MEMORY,
    .stop_signal = SIGTERM, /* when QMP cannot be reached */
    .probe = qemu_probe,
    .command = qemu_command,
    .exit_reason = qemu_exit_reason,
    .clean_exit = qemu_clean_exit,
    .nic_by_fd = true,
    .control_suffix = ".qmp",
    .check = qemu_check,
    .stop = qemu_stop,
    .stop_cancel = qemu_stop_cancel,
};
