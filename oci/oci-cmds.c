/*
 * unikd-oci state, delete, ps and features: what engines ask between
 * start and the end. state prints runtime-spec's state (and runc's extra
 * fields, which some engines read); delete removes the VM, its image and
 * the state directory, and with --force stops a running VM first.
 */
#include "config.h"

#include <sys/syscall.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

#define DELETE_GRACE_MS 3000 /* for the container process to end itself */

static void
cmds_print(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2));

	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

static int
state_exec(struct oci *o, int argc, char **argv)
{
	struct oci_state st;
	enum oci_status status;

	if (argc != 2)
		return oci_usage(&oci_cmd_state, "one container ID, please");
	if (oci_state_find(o, argv[1], &st) == -1)
		return 1;
	status = oci_state_status(o, &st);
	cmds_print(json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:O}",
	    "ociVersion", OCI_VERSION, "id", st.id, "pid",
	    (json_int_t)(status == OCI_STOPPED ? 0 : st.pid), "status",
	    oci_status_name(status), "bundle", st.bundle, "rootfs", st.rootfs,
	    "created", st.created, "owner", "", "annotations", st.annotations));
	oci_state_free(&st);
	return 0;
}

const struct oci_cmd oci_cmd_state = {
    .name = "state",
    .usage = "ID",
    .exec = state_exec,
};

/* Ends the container process: it goes by itself once its VM is gone;
 * one that lingers (or still waits for start) is killed. */
static void
delete_process(const struct oci_state *st)
{
	struct pollfd pfd = {.events = POLLIN};

	if ((pfd.fd = oci_pidfd(st)) == -1)
		return;
	if (poll(&pfd, 1, DELETE_GRACE_MS) == 0)
		syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0);
	close(pfd.fd);
}

static int
delete_exec(struct oci *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct oci_state st;
	enum oci_status status;
	char path[4096];
	bool force = false;
	int c;

	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c != 'f')
			return oci_usage(&oci_cmd_delete, "bad option");
		force = true;
	}
	if (optind != argc - 1)
		return oci_usage(&oci_cmd_delete, "one container ID, please");
	/* runc: --force of a container that does not exist is fine */
	if (force && oci_id_valid(argv[optind]) &&
	    oci_state_dir(o, argv[optind], "state.json", path,
	        sizeof(path)) == 0 &&
	    access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (oci_state_find(o, argv[optind], &st) == -1)
		return 1;
	status = oci_state_status(o, &st);
	if (status == OCI_RUNNING && !force) {
		oci_state_free(&st);
		return oci_error("cannot delete container %s that is not "
		                 "stopped: running",
		    st.id);
	}
	if (status == OCI_CREATED && kill(st.pid, SIGKILL) == -1)
		oci_log(OCI_WARN, "kill %d: %s", (int)st.pid, strerror(errno));
	if (status == OCI_RUNNING && st.vm[0] == '\0' &&
	    kill(st.pid, SIGKILL) == -1)
		oci_log(OCI_WARN, "kill %d: %s", (int)st.pid, strerror(errno));
	if (st.vm[0] != '\0' &&
	    oci_vm_remove(o, st.vm, force || status == OCI_CREATED) == -1) {
		oci_state_free(&st);
		return 1;
	}
	if (status != OCI_STOPPED)
		delete_process(&st);
	oci_state_remove(o, st.id);
	oci_log(OCI_INFO, "container %s: vm %s removed", st.id, st.vm);
	oci_state_free(&st);
	return 0;
}

const struct oci_cmd oci_cmd_delete = {
    .name = "delete",
    .usage = "[--force] ID",
    .exec = delete_exec,
};

/* The container process and the tender: the processes of a container. */
static int
ps_exec(struct oci *o, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct oci_state st;
	bool json = false;
	json_t *pids, *vm = NULL;
	size_t i;
	long status;
	int c;

	while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (c != 'f' || (strcmp(optarg, "json") != 0 &&
		                    strcmp(optarg, "table") != 0))
			return oci_usage(&oci_cmd_ps, "--format table|json");
		json = strcmp(optarg, "json") == 0;
	}
	if (optind != argc - 1)
		return oci_usage(&oci_cmd_ps, "one container ID, please");
	if (oci_state_find(o, argv[optind], &st) == -1)
		return 1;
	pids = json_array();
	if (oci_state_status(o, &st) != OCI_STOPPED) {
		json_array_append_new(pids, json_integer(st.pid));
		if (st.vm[0] != '\0' &&
		    oci_vm_get(o, st.vm, &status, &vm) == 0 &&
		    json_is_integer(json_object_get(vm, "pid")))
			json_array_append(pids, json_object_get(vm, "pid"));
		json_decref(vm);
	}
	if (json) {
		cmds_print(pids);
	} else {
		printf("PID\n");
		for (i = 0; i < json_array_size(pids); i++)
			printf("%lld\n", (long long)json_integer_value(
			                     json_array_get(pids, i)));
		json_decref(pids);
	}
	oci_state_free(&st);
	return 0;
}

const struct oci_cmd oci_cmd_ps = {
    .name = "ps",
    .usage = "[--format table|json] ID",
    .exec = ps_exec,
};

/* runtime-spec's features document: what engines may ask of us. */
static int
features_exec(struct oci *o, int argc, char **argv)
{
	(void)o;
	(void)argv;
	if (argc != 1)
		return oci_usage(&oci_cmd_features, "no arguments, please");
	cmds_print(json_pack("{s:s, s:s, s:[], s:[], s:{s:[s], s:{s:b}}, "
	                     "s:{s:s, s:s, s:s, s:s}}",
	    "ociVersionMin", "1.0.0", "ociVersionMax", OCI_VERSION, "hooks",
	    "mountOptions", "linux", "namespaces", "network", "cgroup", "v2",
	    true, "annotations", "org.unikd.tender",
	    "solo5-spt|solo5-hvt|qemu|firecracker|cloud-hypervisor",
	    "org.unikd.memory", "the VM's memory, e.g. 64M (else "
	    "linux.resources.memory.limit)",
	    "org.unikd.block.DEVICE", "a unikd block for the manifest's "
	    "block device DEVICE",
	    "org.unikd.oci.version", PACKAGE_VERSION));
	return 0;
}

const struct oci_cmd oci_cmd_features = {
    .name = "features",
    .usage = "",
    .exec = features_exec,
};
