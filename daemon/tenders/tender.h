/*
 * Tender drivers: one small table of functions per tender (solo5-spt,
 * solo5-hvt, exec, ...), one file each (tender-*.c), listed in tender.c.
 * A driver checks its binary, builds the argv and fd map handed to the
 * monitor, says how to stop the tender gracefully, and names exits.
 */
#ifndef UNIKD_TENDER_H
#define UNIKD_TENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct vm_spec;
struct conf_tender;
struct uerr;
struct event_base;
struct tender_stop;	/* a driver's stop under way (qmp.h for qemu) */

/* Devices a tender opens itself, as the tender user (tender-access.c). */
enum tender_device {
	TENDER_DEVICE_KVM,	/* /dev/kvm */
	TENDER_DEVICE_TUN,	/* /dev/net/tun, to open a TAP by name */
	TENDER_NDEVICES,
};
#define TENDER_NEEDS(dev) (1u << (dev))
extern const char *const tender_device_paths[TENDER_NDEVICES];

/* The ids a tender runs with. */
struct tender_ids {
	uid_t uid;
	gid_t gid;
	const gid_t *groups;	/* supplementary */
	size_t ngroups;
};

/* How a driver's stop through the control socket ended (tender_driver's
 * stop): rc 0 or -1 with a reason in err. */
typedef void (*tender_stop_done)(int rc, const char *err, void *arg);

#define TENDER_MAX_FDS 64
/*
 * Block i of a VM's definition reaches the tender open, read-write and
 * locked, at this fd number (vm-run.c adds it to the command); a driver
 * names it in its argv (Solo5: --block:NAME=/dev/fd/N).
 */
#define TENDER_BLOCK_FD(i) (200 + (int)(i))
/*
 * NIC i of a driver with nic_by_fd reaches the tender as its open TAP
 * at this fd (vm-net.c makes the TAP non-persistent and vm-run.c adds
 * it): it goes away with the tender's last descriptor.
 */
#define TENDER_NIC_FD(i) (100 + (int)(i))
/* The listening control socket of a driver with control_suffix. */
#define TENDER_CONTROL_FD 99
/* A config file a driver hands over as a sealed memfd (firecracker). */
#define TENDER_CONFIG_FD 98
/*
 * The image, opened once by unikd beneath its image dir (image-open.c),
 * reaches the tender at this fd and is named /dev/fd/97 where a tender
 * takes a path: the file checked is the file run (tender_image()).
 */
#define TENDER_IMAGE_FD 97

/* What a driver builds for one start of a VM. */
struct tender_cmd {
	char **argv;		/* NULL-terminated, malloc'd */
	size_t argc;
	int fds[TENDER_MAX_FDS];	/* open fds to hand over ... */
	int fd_targets[TENDER_MAX_FDS];	/* ... at these numbers */
	size_t nfds;
};

struct tender_driver {
	const char *name;		/* "solo5-spt" */
	const char *default_path;	/* when the config names none, or NULL */
	unsigned min_memory;		/* MiB */
	int stop_signal;		/* sent first by a graceful stop */
	/*
	 * Runs the binary's version query (at start-up and on SIGHUP only,
	 * never per request). 0 and a one-line version in buf, or -1 with
	 * a reason in buf.
	 */
	int (*probe)(const char *path, char *buf, size_t len);
	/*
	 * Builds the command for spec. tc is the [tender.NAME] section (path,
	 * argv template). image_fd is the open image (read with pread only),
	 * or -1 for a command that only names spec->image (tests). -1 with e
	 * filled (422) on a mismatch.
	 */
	int (*command)(const struct vm_spec *spec, const struct conf_tender *tc,
	    const char *path, int image_fd, struct tender_cmd *cmd,
	    struct uerr *e);
	/* Names an exit; NULL to use tender_exit_reason(). */
	void (*exit_reason)(int wstatus, char *buf, size_t len);
	/*
	 * True when a non-zero status is the guest's own clean end (QEMU's
	 * isa-debug-exit 83 for a Solo5 virtio guest): exit_status 0, never
	 * a failure for the restart policy. NULL: only 0 is clean.
	 */
	bool (*clean_exit)(int wstatus);
	/* NICs as open TAP fds at TENDER_NIC_FD(i), not TAP names. */
	bool nic_by_fd;
	/*
	 * TENDER_NEEDS() of the devices the tender opens itself: without
	 * TENDER_DEVICE_KVM the driver is unavailable; without
	 * TENDER_DEVICE_TUN, VMs with NICs are refused.
	 */
	unsigned needs;
	/*
	 * When set (".qmp"), unikd makes a listening UNIX socket at
	 * run_dir/vm/NAME.SUFFIX before each start and hands it to the
	 * tender at TENDER_CONTROL_FD; unikd connects there to stop it.
	 */
	const char *control_suffix;
	/*
	 * Checks the image against the definition (the Solo5 manifest)
	 * before anything is made, at create and at each start; NULL: none.
	 * -1 with e filled (422) naming what to change.
	 */
	int (*check)(const struct vm_spec *spec, int image_fd, struct uerr *e);
	/*
	 * Asks the tender to stop through its control socket: a request
	 * the guest may act on (force false: ACPI power button), or an end
	 * now (force true). Runs on base without blocking: returns the
	 * stop under way, which later calls done once (rc 0: the tender
	 * took it; -1 with err: the caller falls back to stop_signal /
	 * SIGKILL) and frees itself; stop_cancel ends it without done.
	 * NULL with err when it cannot start. NULL stop: signals only.
	 */
	struct tender_stop *(*stop)(struct event_base *base,
	    const char *control_path, bool force, tender_stop_done done,
	    void *arg, char *err, size_t errlen);
	void (*stop_cancel)(struct tender_stop *);
};

const struct tender_driver *tender_find(const char *name);
/* The table, NULL-terminated. */
extern const struct tender_driver *const tender_drivers[];

/* "exited 0", "failed 1", "aborted 255", "killed by SIGKILL". */
void tender_exit_reason(int wstatus, char *buf, size_t len);
/* The shell's number for an exit: the code, or 128 + the signal. */
int tender_exit_status(int wstatus);

void tender_cmd_free(struct tender_cmd *cmd);

/*
 * tender-access.c: whether ids may open each device read-write, tried by
 * a child that drops to them. errs[i]: 0 or why device i cannot be
 * opened. 0, or -1 with errno when the child could not tell.
 */
int tender_access_probe(const struct tender_ids *ids,
    int errs[TENDER_NDEVICES]);
/* "tender_user U (uid N, gid N) cannot open DEV: why; the fix". */
void tender_access_problem(const struct tender_ids *ids, const char *user,
    enum tender_device dev, int err, char *buf, size_t len);

/* tender-args.c: building commands. */
/* Appends a printf-formatted argument to cmd->argv (kept NULL-ended). */
int tender_argv_add(struct tender_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands fd (owned by cmd from now on) to the tender at target. */
int tender_fd_add(struct tender_cmd *cmd, int fd, int target);
/*
 * The image as a tender's argv names it: a copy of image_fd handed over
 * at TENDER_IMAGE_FD and "/dev/fd/97", or spec->image when image_fd is
 * -1. NULL when the fd cannot be copied.
 */
const char *tender_image(struct tender_cmd *cmd, const struct vm_spec *spec,
    int image_fd);
/* The longest kernel command line built from a VM's args. */
#define TENDER_CMDLINE_MAX 2048
/*
 * The VM's args, placeholders filled, joined by single spaces into one
 * kernel command line (qemu -append, firecracker boot_args, cloud-
 * hypervisor --cmdline): the guest splits it on blanks again, so an arg
 * that holds a blank, a control character, a quote or a backslash is a
 * 422 (an empty one is left out). *out is malloc'd, "" when there are no args.
 */
int tender_cmdline(const struct vm_spec *spec, char **out, struct uerr *e);

/*
 * tender-manifest.c: the Solo5 manifest of spec's image against its NICs
 * and blocks. target: the ABI the tender runs ("spt", "hvt", "virtio").
 * An image without a manifest (not ELF, or no Solo5 note) passes. -1 and
 * a 422 naming the devices on a mismatch or a malformed manifest.
 */
int tender_manifest_check(const struct vm_spec *spec, int image_fd,
    const char *target, struct uerr *e);

/* Runs path with one argument and captures the first line of its output,
 * with a time limit; used by the probes. */
int tender_run_version(const char *path, const char *arg, char *buf,
    size_t len);
/* A probe: runs `path arg` and accepts its first line when it holds
 * needle; 0 with that line in buf, or -1 with why in buf. */
int tender_probe_version(const char *path, const char *arg,
    const char *needle, char *buf, size_t len);

#endif
