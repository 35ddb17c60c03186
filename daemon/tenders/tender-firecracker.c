/*
 * The firecracker driver (docs/tenders.md):
 *
 *   firecracker --no-api --config-file /dev/fd/98
 *
 * with the VM's config (JSON) in a sealed memfd at fd 98: nothing to
 * write under run_dir (which the tender user may not write) and nothing
 * to clean up; Firecracker reads the path, which /proc resolves to the
 * memfd. The config:
 *
 *   {"boot-source": {"kernel_image_path": IMAGE, "boot_args": ARGS},
 *    "machine-config": {"vcpu_count": 1, "mem_size_mib": MIB},
 *    "network-interfaces": [{"iface_id": NIC, "host_dev_name": TAP,
 *                            "guest_mac": MAC}, ...],
 *    "drives": [{"drive_id": BLOCK, "path_on_host": "/dev/fd/200",
 *                "is_root_device": false, "is_read_only": false}, ...]}
 *
 * - NICs by TAP name only (Firecracker opens them itself with
 *   IFF_VNET_HDR), so the TAPs are persistent, owned by the tender user.
 * - Drives by path: /dev/fd/N reopens the block unikd handed over open
 *   and locked at N, so the lock lives as long as Firecracker does.
 * - Stop: --no-api rules out SendCtrlAltDel (the only graceful request
 *   Firecracker knows, and only a guest with an i8042 driver heeds it),
 *   so a stop is SIGTERM, which Firecracker does not handle: the VM ends
 *   at once. Unikernels keep no state a stop would lose but their
 *   blocks, which Firecracker writes through.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

#define FC_MIN_MEMORY 8

/* `firecracker --version`: "Firecracker v1.16.0" and more lines. */
static int
fc_probe(const char *path, char *buf, size_t len)
{
	return tender_probe_version(path, "--version", "irecracker", buf, len);
}

static json_t *
fc_config(const struct vm_spec *spec, const char *image, const char *cmdline)
{
	json_t *nics = json_array(), *drives = json_array();
	char path[32];
	size_t i;

	for (i = 0; i < spec->nnics; i++)
		json_array_append_new(nics, json_pack("{s:s, s:s, s:s}",
		    "iface_id", spec->nics[i].name, "host_dev_name",
		    spec->nics[i].tap, "guest_mac", spec->nics[i].mac));
	for (i = 0; i < spec->nblocks; i++) {
		snprintf(path, sizeof(path), "/dev/fd/%d", TENDER_BLOCK_FD(i));
		json_array_append_new(drives, json_pack("{s:s, s:s, s:b, s:b}",
		    "drive_id", spec->blocks[i].name, "path_on_host", path,
		    "is_root_device", 0, "is_read_only", 0));
	}
	return json_pack("{s:{s:s, s:s}, s:{s:i, s:i}, s:o, s:o}",
	    "boot-source", "kernel_image_path", image, "boot_args",
	    cmdline, "machine-config", "vcpu_count", 1, "mem_size_mib",
	    (int)spec->memory, "network-interfaces", nics, "drives", drives);
}

/* The config in a sealed memfd, rewound. */
static int
fc_config_fd(json_t *config)
{
	char *text = json_dumps(config, JSON_INDENT(2) | JSON_SORT_KEYS);
	size_t len;
	int fd = -1;

	if (text == NULL)
		return -1;
	len = strlen(text);
	if ((fd = memfd_create("unikd-firecracker", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 ||
	    write(fd, text, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
		F_SEAL_SHRINK | F_SEAL_SEAL) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	free(text);
	return fd;
}

static int
fc_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, int image_fd, struct tender_cmd *cmd, struct uerr *e)
{
	const char *image;
	char *cmdline = NULL;
	json_t *config;
	int fd;

	(void)tc;
	memset(cmd, 0, sizeof(*cmd));
	if (tender_cmdline(spec, &cmdline, e) == -1)
		return -1;
	image = tender_image(cmd, spec, image_fd);
	config = image != NULL ? fc_config(spec, image, cmdline) : NULL;
	free(cmdline);
	fd = config != NULL ? fc_config_fd(config) : -1;
	json_decref(config);
	if (fd == -1 || tender_fd_add(cmd, fd, TENDER_CONFIG_FD) == -1 ||
	    tender_argv_add(cmd, "%s", path) == -1 ||
	    tender_argv_add(cmd, "--no-api") == -1 ||
	    tender_argv_add(cmd, "--config-file") == -1 ||
	    tender_argv_add(cmd, "/dev/fd/%d", TENDER_CONFIG_FD) == -1) {
		tender_cmd_free(cmd);
		return uerr_set(e, UERR_INTERNAL,
		    "vm '%s': cannot build the firecracker config: %s",
		    spec->name, strerror(errno));
	}
	return 0;
}

/* Firecracker's own exit codes (FcExitCode in its vmm crate). */
static const char *
fc_exit_name(int code)
{
	switch (code) {
	case 148: return "bad syscall (seccomp)";
	case 149: return "SIGBUS";
	case 150: return "SIGSEGV";
	case 151: return "SIGXFSZ";
	case 152: return "bad configuration";
	case 153: return "bad arguments";
	case 154: return "SIGXCPU";
	case 155: return "SIGPIPE";
	case 156: return "SIGHUP";
	case 157: return "SIGILL";
	default: return NULL;
	}
}

static void
fc_exit_reason(int wstatus, char *buf, size_t len)
{
	const char *name;

	if (WIFEXITED(wstatus) &&
	    (name = fc_exit_name(WEXITSTATUS(wstatus))) != NULL)
		snprintf(buf, len, "failed %d (%s)", WEXITSTATUS(wstatus),
		    name);
	else
		tender_exit_reason(wstatus, buf, len);
}

const struct tender_driver tender_firecracker = {
    .name = "firecracker",
    .default_path = NULL, /* not packaged by Debian */
    .min_memory = FC_MIN_MEMORY,
    .stop_signal = SIGTERM, /* not handled: ends the VM at once */
    .probe = fc_probe,
    .command = fc_command,
    .exit_reason = fc_exit_reason,
    .needs = TENDER_NEEDS(TENDER_DEVICE_KVM) |
	TENDER_NEEDS(TENDER_DEVICE_TUN),
};
