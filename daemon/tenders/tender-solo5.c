/*
 * Solo5 tenders: solo5-spt (seccomp sandbox) and solo5-hvt (KVM).
 *
 *   solo5-spt [--mem=MIB] [--net:NAME=IFACE]... [--block:NAME=PATH]...
 *             [--] KERNEL [ARGS...]
 *
 * NICs are --net:NAME=TAP, always with a stable --net-mac:NAME=MAC (else
 * the tender makes a random MAC at every start); TAPs go by name since
 * --net:NAME=@FD is broken in every release since v0.10.0. The
 * --block:NAME=PATH options come with block devices. ${nic.NAME.ip} and
 * friends in the guest's args are filled in (placeholder.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "placeholder.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

/* The spt and hvt tenders refuse less than 2 MiB of guest memory. */
#define SOLO5_MIN_MEMORY 2

/*
 * `solo5-spt --version` prints "solo5-spt tender, version v0.12.1 / ABI
 * version 2" and exits 0 (`--help` exits 1, so it is no probe).
 */
static int
solo5_probe(const char *path, char *buf, size_t len)
{
	return tender_probe_version(path, "--version", "version", buf, len);
}

static int
solo5_argv_add(struct tender_cmd *cmd, size_t room, const char *arg)
{
	if (cmd->argc + 1 >= room)
		return -1;
	if ((cmd->argv[cmd->argc] = strdup(arg)) == NULL)
		return -1;
	cmd->argc++;
	return 0;
}

/* --net:NAME=TAP --net-mac:NAME=MAC for each NIC, in order. */
static int
solo5_nics(const struct vm_spec *spec, struct tender_cmd *cmd, size_t room)
{
	char opt[128];
	size_t i;

	for (i = 0; i < spec->nnics; i++) {
		snprintf(opt, sizeof(opt), "--net:%s=%s", spec->nics[i].name,
		    spec->nics[i].tap);
		if (solo5_argv_add(cmd, room, opt) == -1)
			return -1;
		snprintf(opt, sizeof(opt), "--net-mac:%s=%s",
		    spec->nics[i].name, spec->nics[i].mac);
		if (solo5_argv_add(cmd, room, opt) == -1)
			return -1;
	}
	return 0;
}

/* One guest argument, its placeholders filled in. */
static int
solo5_arg(const struct vm_spec *spec, struct tender_cmd *cmd, size_t room,
    const char *arg, struct uerr *e)
{
	char *out;
	int rc;

	if (placeholder_expand(arg, spec->nics, spec->nnics, false, &out, e) ==
	    -1)
		return -1;
	rc = solo5_argv_add(cmd, room, out);
	free(out);
	if (rc == -1)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	return 0;
}

/* --block:NAME=/dev/fd/N for each block: unikd passes the file open and
 * locked at fd N, and Solo5 opens a block by path ("/dev/fd/N works"). */
static int
solo5_blocks(const struct vm_spec *spec, struct tender_cmd *cmd, size_t room)
{
	char opt[128];
	size_t i;

	for (i = 0; i < spec->nblocks; i++) {
		snprintf(opt, sizeof(opt), "--block:%s=/dev/fd/%d",
		    spec->blocks[i].name, TENDER_BLOCK_FD(i));
		if (solo5_argv_add(cmd, room, opt) == -1)
			return -1;
	}
	return 0;
}

/* PATH --mem=MIB [--net:NAME=TAP --net-mac:NAME=MAC]... -- IMAGE ARGS... */
static int
solo5_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, int image_fd, struct tender_cmd *cmd, struct uerr *e)
{
	const char *image;
	char mem[32];
	size_t room = spec->nargs + 5 + 2 * spec->nnics + spec->nblocks, i;

	(void)tc;
	memset(cmd, 0, sizeof(*cmd));
	if (spec->memory < SOLO5_MIN_MEMORY)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'memory': %s needs at least %u MiB", spec->tender,
		    SOLO5_MIN_MEMORY);
	if ((cmd->argv = calloc(room, sizeof(char *))) == NULL ||
	    (image = tender_image(cmd, spec, image_fd)) == NULL)
		goto fail;
	snprintf(mem, sizeof(mem), "--mem=%u", spec->memory);
	if (solo5_argv_add(cmd, room, path) == -1 ||
	    solo5_argv_add(cmd, room, mem) == -1 ||
	    solo5_nics(spec, cmd, room) == -1 ||
	    solo5_blocks(spec, cmd, room) == -1 ||
	    solo5_argv_add(cmd, room, "--") == -1 ||
	    solo5_argv_add(cmd, room, image) == -1)
		goto fail;
	for (i = 0; i < spec->nargs; i++) {
		if (solo5_arg(spec, cmd, room, spec->args[i], e) == -1) {
			tender_cmd_free(cmd);
			return -1;
		}
	}
	return 0;
fail:
	tender_cmd_free(cmd);
	return uerr_set(e, UERR_INTERNAL,
	    "vm '%s': cannot build the command: "
	    "out of memory",
	    spec->name);
}

/* The image's manifest against the VM's devices (tender-manifest.c). */
static int
solo5_spt_check(const struct vm_spec *spec, int image_fd, struct uerr *e)
{
	return tender_manifest_check(spec, image_fd, "spt", e);
}

static int
solo5_hvt_check(const struct vm_spec *spec, int image_fd, struct uerr *e)
{
	return tender_manifest_check(spec, image_fd, "hvt", e);
}

const struct tender_driver tender_solo5_spt = {
    .name = "solo5-spt",
    .default_path = NULL, /* Debian does not package Solo5 */
    .min_memory = SOLO5_MIN_MEMORY,
    .stop_signal = SIGTERM, /* no graceful stop: SIGTERM ends spt */
    .probe = solo5_probe,
    .command = solo5_command,
    .exit_reason = NULL,
    .needs = TENDER_NEEDS(TENDER_DEVICE_TUN),
    .check = solo5_spt_check,
};

const struct tender_driver tender_solo5_hvt = {
    .name = "solo5-hvt",
    .default_path = NULL,
    .min_memory = SOLO5_MIN_MEMORY,
    .stop_signal = SIGTERM, /* hvt exits 1 on SIGTERM */
    .probe = solo5_probe,
    .command = solo5_command,
    .exit_reason = NULL,
    /* /dev/kvm as the tender user: unikd's own access proves nothing */
    .needs = TENDER_NEEDS(TENDER_DEVICE_KVM) |
	TENDER_NEEDS(TENDER_DEVICE_TUN),
    .check = solo5_hvt_check,
};
