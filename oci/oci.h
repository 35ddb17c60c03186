/*
 * unikd-oci: a runc-compatible OCI runtime that runs each container as a
 * unikd VM. main() (oci.c) parses runc's global options and dispatches
 * through a table of commands; oci-bundle.c turns a bundle into a VM
 * definition, oci-state.c keeps a container's state under --root,
 * oci-create.c makes the VM and the container process, oci-proc.c is
 * that process (it lives exactly as long as the VM), oci-cmds.c the other
 * commands. Requests go to unikd through unikctl's client (ctl-client.c).
 */
#ifndef UNIKD_OCI_H
#define UNIKD_OCI_H

#include <sys/types.h>

#include <stdbool.h>

#include <jansson.h>

#include "ctl.h"

#define OCI_DEFAULT_ROOT "/run/unikd-oci"
#define OCI_VERSION "1.1.0" /* the runtime-spec version we follow */
#define OCI_ID_MAX 1024
#define OCI_VM_PREFIX "oci-"
/* the labels that tie a unikd VM to its container */
#define OCI_LABEL_ID "org.unikd.oci.id"
#define OCI_LABEL_NAME "org.unikd.oci.name"

struct oci {
	const char *oci_root;  /* --root: one directory per container */
	const char *oci_log;   /* --log FILE, or NULL */
	bool oci_log_json;     /* --log-format json */
	bool oci_systemd;      /* --systemd-cgroup */
	bool oci_debug;        /* --debug */
	bool oci_quiet;        /* errors to the log only: the container
	                        * process's stdio is the container's */
	struct ctl oci_ctl;    /* unikd's socket */
};

struct oci_cmd {
	const char *name;
	const char *usage;
	/* argv[0] is the command name; returns the exit code. */
	int (*exec)(struct oci *, int argc, char **argv);
};

extern const struct oci_cmd oci_cmd_create, oci_cmd_start, oci_cmd_state,
    oci_cmd_kill, oci_cmd_delete, oci_cmd_ps, oci_cmd_features;

/* oci.c: the log (--log, --log-format) and the command line. */
enum oci_level { OCI_DEBUG, OCI_INFO, OCI_WARN, OCI_ERROR };
/* Writes one line to the log; errors also go to stderr. */
void oci_log(enum oci_level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* oci_log(OCI_ERROR, ...); returns -1 (main() makes it exit code 1). */
int oci_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "unikd-oci CMD: <msg>" and the usage line; returns 2. */
int oci_usage(const struct oci_cmd *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* runc's rule for IDs: [A-Za-z0-9_+.-]+, not "." or "..". */
bool oci_id_valid(const char *id);

/* oci-state.c: ROOT/ID/state.json and ROOT/ID/exec.fifo. */
enum oci_status { OCI_CREATED, OCI_RUNNING, OCI_STOPPED };
struct oci_state {
	char id[OCI_ID_MAX + 1];
	char vm[64];             /* the unikd VM (and image) name; "" for a
	                          * pod's sandbox, which has none */
	char bundle[4096];
	char rootfs[4096];
	pid_t pid;               /* the container process */
	unsigned long long pid_start; /* its start time, against pid reuse */
	char created[40];        /* RFC 3339 */
	json_t *annotations;     /* the bundle's, an object */
};
int oci_state_dir(const struct oci *, const char *id, const char *file,
    char *buf, size_t len);
/* Loads the state of id; -1 with errno ENOENT when there is none. */
int oci_state_load(const struct oci *, const char *id, struct oci_state *);
/* Writes it atomically (a temporary file renamed over state.json). */
int oci_state_save(const struct oci *, const struct oci_state *);
void oci_state_free(struct oci_state *);
/* Removes ROOT/ID and what it holds. */
void oci_state_remove(const struct oci *, const char *id);
enum oci_status oci_state_status(const struct oci *, const struct oci_state *);
const char *oci_status_name(enum oci_status);
/* The start time of pid (field 22 of /proc/PID/stat); 0 when gone. */
unsigned long long oci_pid_start(pid_t pid);
/* Loads id or reports `container "ID" does not exist` (runc's words,
 * which engines look for). */
int oci_state_find(const struct oci *, const char *id, struct oci_state *);

/* A pidfd of the container process (oci-start.c); -1 when it is gone. */
int oci_pidfd(const struct oci_state *);

/* oci-bundle.c: a bundle's config.json as a VM definition. */
struct oci_bundle {
	json_t *def;        /* the VM definition, without name and image */
	int image_fd;       /* process.args[0], opened beneath the rootfs */
	char image[4096];   /* process.args[0] as the container sees it */
	char rootfs[4096];
	char tender[32];    /* from org.unikd.tender, or "" (the manifest) */
	json_t *annotations;
	char name[256];     /* the container's name, from its annotations */
	char netns[4096];   /* linux.namespaces network path, or "" */
	char cgroup[4096];  /* linux.cgroupsPath, or "" */
	bool terminal;      /* process.terminal */
	bool sandbox;       /* a Kubernetes pod's sandbox ("pause") */
};
/* Reads BUNDLE/config.json; -1 after logging what is wrong. */
int oci_bundle_load(const struct oci *, const char *dir, struct oci_bundle *);
void oci_bundle_free(struct oci_bundle *);
/* The tender for a Solo5 manifest target (spt, hvt, virtio), or NULL. */
const char *oci_bundle_target_tender(const char *target);

/* oci-vm.c: the VM behind a container, through unikd's API. */
/* Picks "oci-" + a part of id no other container's VM has. */
int oci_vm_name(struct oci *, const char *id, char *buf, size_t len);
/* Sends the image, picks the tender, creates the VM (not started); on
 * failure nothing is left in unikd. */
int oci_vm_create(struct oci *, const char *vm, const char *id,
    struct oci_bundle *);
/* Removes the VM (stopping it first with force) and its image; a VM
 * that is already gone is not an error. */
int oci_vm_remove(struct oci *, const char *vm, bool force);
/* GET /v1/vms/VM: 0 and *reply, or -1 with *status (404: gone). */
int oci_vm_get(struct oci *, const char *vm, long *status, json_t **reply);
/* POST /v1/vms/VM/ACTION[?query]; 0 when unikd answered 2xx, else -1
 * with *status set (0: unikd unreachable) and unikd's message in err, or
 * logged when err is NULL. */
int oci_vm_post(struct oci *, const char *vm, const char *action,
    long *status, char *err, size_t errlen);
/* Sends a signal to the VM: TERM and INT a graceful stop, others a
 * kill with that signal; a VM that no longer runs is not an error. -1
 * when unikd cannot be reached. */
int oci_vm_signal(struct oci *, const char *vm, int sig);

/* oci-proc.c: the container process, forked by create. */
struct oci_proc {
	const char *vm;
	const char *fifo;  /* ROOT/ID/exec.fifo */
	int preserve_fds;  /* fds 3 .. 3+N-1 stay open */
};
/* Waits for start, starts the VM, copies its console to stdout until it
 * ends and exits with its status: never returns. */
void oci_proc_run(struct oci *, const struct oci_proc *)
    __attribute__((noreturn));
/* The signal number for "TERM", "SIGTERM" or "15"; -1 if none. */
int oci_signal_parse(const char *s);
const char *oci_signal_name(int sig);

#endif
