/*
 * Solo5 tenders: solo5-spt (seccomp sandbox) and solo5-hvt (KVM).
 *
 *   solo5-spt [--mem=MIB] [--net:NAME=IFACE]... [--block:NAME=PATH]...
 *             [--] KERNEL [ARGS...]
 *
 * Only --mem is built for now: the NIC options (--net:NAME=TAP, always
 * with a stable --net-mac:NAME=MAC, TAPs by name since --net:NAME=@FD is
 * broken in every release since v0.10.0) come with networking, and the
 * --block:NAME=PATH options with block devices.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	char line[256];

	if (tender_run_version(path, "--version", line, sizeof(line)) == -1) {
		snprintf(buf, len, "%s", line);
		return -1;
	}
	if (strstr(line, "version") == NULL) {
		snprintf(buf, len, "%s --version: unexpected output: %s", path,
		    line);
		return -1;
	}
	snprintf(buf, len, "%s", line);
	return 0;
}

/* hvt also needs read-write access to /dev/kvm. */
static int
solo5_hvt_probe(const char *path, char *buf, size_t len)
{
	int fd;

	if (solo5_probe(path, buf, len) == -1)
		return -1;
	if ((fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(buf, len, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
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

/* PATH --mem=MIB -- IMAGE ARGS... */
static int
solo5_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, struct tender_cmd *cmd, struct uerr *e)
{
	char mem[32];
	size_t room = spec->nargs + 5, i;

	(void)tc;
	memset(cmd, 0, sizeof(*cmd));
	if (spec->memory < SOLO5_MIN_MEMORY)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'memory': %s needs at least %u MiB", spec->tender,
		    SOLO5_MIN_MEMORY);
	if ((cmd->argv = calloc(room, sizeof(char *))) == NULL)
		goto fail;
	snprintf(mem, sizeof(mem), "--mem=%u", spec->memory);
	if (solo5_argv_add(cmd, room, path) == -1 ||
	    solo5_argv_add(cmd, room, mem) == -1 ||
	    solo5_argv_add(cmd, room, "--") == -1 ||
	    solo5_argv_add(cmd, room, spec->image) == -1)
		goto fail;
	for (i = 0; i < spec->nargs; i++)
		if (solo5_argv_add(cmd, room, spec->args[i]) == -1)
			goto fail;
	return 0;
fail:
	tender_cmd_free(cmd);
	return uerr_set(e, UERR_INTERNAL,
	    "vm '%s': cannot build the command: "
	    "out of memory",
	    spec->name);
}

const struct tender_driver tender_solo5_spt = {
    .name = "solo5-spt",
    .default_path = NULL, /* Debian does not package Solo5 */
    .min_memory = SOLO5_MIN_MEMORY,
    .stop_signal = SIGTERM, /* no graceful stop: SIGTERM ends spt */
    .probe = solo5_probe,
    .command = solo5_command,
    .exit_reason = NULL,
};

const struct tender_driver tender_solo5_hvt = {
    .name = "solo5-hvt",
    .default_path = NULL,
    .min_memory = SOLO5_MIN_MEMORY,
    .stop_signal = SIGTERM, /* hvt exits 1 on SIGTERM */
    .probe = solo5_hvt_probe,
    .command = solo5_command,
    .exit_reason = NULL,
};
