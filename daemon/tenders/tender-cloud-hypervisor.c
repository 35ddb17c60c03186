/*
 * The cloud-hypervisor driver (docs/tenders.md):
 *
 *   cloud-hypervisor --kernel IMAGE [--cmdline ARGS] --memory size=MIBM
 *     --cpus boot=1 --net fd=100+I,mac=MAC ... --disk path=/dev/fd/200+J ...
 *     --serial tty --console off --api-socket fd=99
 *
 * - NICs as open TAP fds (non-persistent TAPs, gone with the VMM).
 * - Disks by path: /dev/fd/N reopens the block handed over open and
 *   locked at N; the size must be a multiple of 512 (unikd's blocks are).
 * - The API socket is made by unikd (run_dir/vm/NAME.api) and handed over
 *   listening, for ch-remote by hand. A stop is SIGTERM, which Cloud
 *   Hypervisor handles cleanly (it tears the VM down and exits 0); the
 *   ACPI power button through the API would need an HTTP client here
 *   for no gain a unikernel would notice.
 * - "--serial tty" puts the guest's serial port on stdout, the console
 *   log; the virtio console is off.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

#define CH_MIN_MEMORY 8

/* `cloud-hypervisor --version`: "cloud-hypervisor v53.0". */
static int
ch_probe(const char *path, char *buf, size_t len)
{
	return tender_probe_version(path, "--version", "cloud-hypervisor", buf, len);
}

static int
ch_devices(const struct vm_spec *spec, struct tender_cmd *cmd)
{
	size_t i;

	for (i = 0; i < spec->nnics; i++)
		if (tender_argv_add(cmd, "--net") == -1 ||
		    tender_argv_add(cmd, "fd=%d,mac=%s", TENDER_NIC_FD(i),
			spec->nics[i].mac) == -1)
			return -1;
	for (i = 0; i < spec->nblocks; i++)
		if (tender_argv_add(cmd, "--disk") == -1 ||
		    tender_argv_add(cmd, "path=/dev/fd/%d",
			TENDER_BLOCK_FD(i)) == -1)
			return -1;
	return 0;
}

static int
ch_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, int image_fd, struct tender_cmd *cmd, struct uerr *e)
{
	const char *image;
	char *cmdline = NULL;
	int rc;

	(void)tc;
	memset(cmd, 0, sizeof(*cmd));
	if (tender_cmdline(spec, &cmdline, e) == -1)
		return -1;
	image = tender_image(cmd, spec, image_fd);
	rc = image == NULL || tender_argv_add(cmd, "%s", path) == -1 ||
	    tender_argv_add(cmd, "--kernel") == -1 ||
	    tender_argv_add(cmd, "%s", image) == -1 ||
	    (cmdline[0] != '\0' && (tender_argv_add(cmd, "--cmdline") == -1 ||
		tender_argv_add(cmd, "%s", cmdline) == -1)) ||
	    tender_argv_add(cmd, "--memory") == -1 ||
	    tender_argv_add(cmd, "size=%uM", spec->memory) == -1 ||
	    tender_argv_add(cmd, "--cpus") == -1 ||
	    tender_argv_add(cmd, "boot=1") == -1 ||
	    ch_devices(spec, cmd) == -1 ||
	    tender_argv_add(cmd, "--serial") == -1 ||
	    tender_argv_add(cmd, "tty") == -1 ||
	    tender_argv_add(cmd, "--console") == -1 ||
	    tender_argv_add(cmd, "off") == -1 ||
	    tender_argv_add(cmd, "--api-socket") == -1 ||
	    tender_argv_add(cmd, "fd=%d", TENDER_CONTROL_FD) == -1 ? -1 : 0;
	free(cmdline);
	if (rc == -1) {
		tender_cmd_free(cmd);
		return uerr_set(e, UERR_INTERNAL,
		    "vm '%s': cannot build the command: out of memory",
		    spec->name);
	}
	return 0;
}

const struct tender_driver tender_cloud_hypervisor = {
    .name = "cloud-hypervisor",
    .default_path = NULL, /* not packaged by Debian */
    .min_memory = CH_MIN_MEMORY,
    .stop_signal = SIGTERM, /* handled: the VMM shuts the VM down */
    .probe = ch_probe,
    .command = ch_command,
    .exit_reason = NULL,
    .nic_by_fd = true,
    .needs = TENDER_NEEDS(TENDER_DEVICE_KVM),
    .control_suffix = ".api",
};
