/*
 * A bundle's config.json as a unikd VM definition. process.args[0] is
 * the unikernel image inside the rootfs, opened beneath root.path the
 * way the container would see it (symlinks and ".." never leave the
 * rootfs); the other args are the guest's. Memory, CPUs, blocks and the
 * tender come from linux.resources and org.unikd.* annotations; the
 * network namespace the engine prepared gives a NIC on its eth0. What
 * a unikernel cannot honour (env, mounts, user, rlimits...) is listed
 * once in the log, never refused, so stock images and engines work.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

#define BUNDLE_ANN_TENDER "org.unikd.tender"
#define BUNDLE_ANN_MEMORY "org.unikd.memory"
#define BUNDLE_ANN_BLOCK "org.unikd.block."
#define BUNDLE_LINK "eth0" /* where CNI and netavark put the container */

/* The tenders unikd has drivers for, and the Solo5 targets they run. */
static const struct {
	const char *tender, *target;
} bundle_tenders[] = {
    {"solo5-spt", "spt"},
    {"solo5-hvt", "hvt"},
    {"qemu", "virtio"},
    {"firecracker", NULL},
    {"cloud-hypervisor", NULL},
};
#define BUNDLE_NTENDERS (sizeof(bundle_tenders) / sizeof(bundle_tenders[0]))

/* What CRI runtimes annotate a pod's sandbox container with. */
static const struct {
	const char *key, *value;
} bundle_sandbox_keys[] = {
    {"io.kubernetes.cri.container-type", "sandbox"},
    {"io.kubernetes.cri-o.ContainerType", "sandbox"},
};

/* The container's name, as each engine annotates it. */
static const char *const bundle_name_keys[] = {
    OCI_LABEL_NAME, /* podman has none of its own: --annotation */
    "io.kubernetes.cri.container-name",
    "io.kubernetes.container.name",
    "nerdctl/name",
};

const char *
oci_bundle_target_tender(const char *target)
{
	size_t i;

	for (i = 0; target != NULL && i < BUNDLE_NTENDERS; i++)
		if (bundle_tenders[i].target != NULL &&
		    strcmp(bundle_tenders[i].target, target) == 0)
			return bundle_tenders[i].tender;
	return NULL;
}

static const char *
bundle_str(const json_t *j, const char *path0, const char *path1)
{
	const json_t *v = json_object_get(j, path0);

	if (path1 != NULL)
		v = json_object_get(v, path1);
	return json_string_value(v);
}

/* "64" (MiB), "64M", "1G" or "65536K"; -1 when not one. */
static long long
bundle_mib(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v <= 0 || v > (1LL << 30))
		return -1;
	if (*end == '\0' || strcmp(end, "M") == 0 || strcmp(end, "Mi") == 0)
		return v;
	if (strcmp(end, "G") == 0 || strcmp(end, "Gi") == 0)
		return v * 1024;
	if ((strcmp(end, "K") == 0 || strcmp(end, "Ki") == 0) && v % 1024 == 0)
		return v / 1024;
	return -1;
}

static int
bundle_memory(const json_t *cfg, const json_t *ann, json_t *def)
{
	const json_t *limit;
	const char *s;
	long long mib;

	if ((s = json_string_value(json_object_get(ann, BUNDLE_ANN_MEMORY))) !=
	    NULL) {
		if ((mib = bundle_mib(s)) == -1)
			return oci_error("annotation %s: '%s' is not a size "
			                 "such as 64M or 1G",
			    BUNDLE_ANN_MEMORY, s);
	} else {
		limit = json_object_get(json_object_get(json_object_get(
		    json_object_get(cfg, "linux"), "resources"), "memory"),
		    "limit");
		if (!json_is_integer(limit) || json_integer_value(limit) <= 0)
			return 0; /* none, or -1: unikd's default */
		/* a limit smaller than a MiB still gets one */
		mib = (json_integer_value(limit) + (1 << 20) - 1) >> 20;
	}
	return json_object_set_new(def, "memory", json_integer(mib));
}

/* linux.resources.cpu.cpus, a cpuset list such as "0-3,6". */
static int
bundle_cpus(const json_t *cfg, json_t *def)
{
	const char *s, *p;
	json_t *cpus;
	long a, b;
	char *end;

	s = json_string_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(cfg, "linux"), "resources"), "cpu"), "cpus"));
	if (s == NULL || *s == '\0')
		return 0;
	if ((cpus = json_array()) == NULL)
		return -1;
	for (p = s; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		a = b = strtol(p, &end, 10);
		if (end == p || a < 0)
			goto bad;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a)
				goto bad;
		}
		if (*end != ',' && *end != '\0')
			goto bad;
		if (b - a > 1024)
			goto bad;
		for (; a <= b; a++)
			json_array_append_new(cpus, json_integer(a));
	}
	return json_object_set_new(def, "cpus", cpus);
bad:
	json_decref(cpus);
	return oci_error("linux.resources.cpu.cpus: '%s' is not a CPU list "
	                 "such as 0-3,6",
	    s);
}

/* org.unikd.block.NAME=BLOCK annotations. */
static int
bundle_blocks(const json_t *ann, json_t *def)
{
	json_t *blocks = json_array(), *v;
	const char *key;

	json_object_foreach((json_t *)ann, key, v)
	{
		if (strncmp(key, BUNDLE_ANN_BLOCK, strlen(BUNDLE_ANN_BLOCK)) != 0)
			continue;
		if (!json_is_string(v) ||
		    key[strlen(BUNDLE_ANN_BLOCK)] == '\0') {
			json_decref(blocks);
			return oci_error("annotation %s: want %sDEVICE=BLOCK",
			    key, BUNDLE_ANN_BLOCK);
		}
		json_array_append_new(blocks,
		    json_pack("{s:s, s:s}", "name",
		        key + strlen(BUNDLE_ANN_BLOCK), "block",
		        json_string_value(v)));
	}
	if (json_array_size(blocks) == 0) {
		json_decref(blocks);
		return 0;
	}
	return json_object_set_new(def, "blocks", blocks);
}

static int
bundle_tender(const json_t *ann, struct oci_bundle *b)
{
	const char *t = json_string_value(json_object_get(ann, BUNDLE_ANN_TENDER));
	char known[128] = "";
	size_t i, off = 0;

	if (t == NULL)
		return 0;
	for (i = 0; i < BUNDLE_NTENDERS; i++) {
		if (strcmp(t, bundle_tenders[i].tender) == 0) {
			snprintf(b->tender, sizeof(b->tender), "%s", t);
			return 0;
		}
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s",
		    i ? ", " : "", bundle_tenders[i].tender);
	}
	return oci_error("annotation %s: unknown tender '%.64s' (known: %s)",
	    BUNDLE_ANN_TENDER, t, known);
}

/*
 * Opens path beneath root as the container would (absolute symlinks and
 * ".." stop at root). A path that only resolves by leaving root is named
 * a symlink escape.
 */
static int
bundle_open_image(struct oci_bundle *b, const char *cwd, const char *arg0)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	char path[4096];
	struct stat st;
	int root, fd, err;

	if (arg0[0] == '/')
		snprintf(path, sizeof(path), "%s", arg0);
	else
		snprintf(path, sizeof(path), "%s/%s", cwd, arg0);
	snprintf(b->image, sizeof(b->image), "%s", path);
	if ((root = open(b->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return oci_error("root.path %s: %s", b->rootfs, strerror(errno));
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	err = errno;
	if (fd == -1 && err == ENOENT) {
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		if (syscall(SYS_openat2, root, path + (path[0] == '/'), &how,
		        sizeof(how)) == -1 &&
		    errno == EXDEV)
			err = EXDEV;
	}
	close(root);
	if (fd == -1) {
		if (err == EXDEV)
			return oci_error("process.args[0] %s: a symlink leads "
			                 "outside the bundle's rootfs %s",
			    path, b->rootfs);
		return oci_error("process.args[0] %s: not found in the "
		                 "bundle's rootfs %s: %s",
		    path, b->rootfs, strerror(err));
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return oci_error("process.args[0] %s: not a unikernel image "
		                 "(a regular file, not empty) in %s",
		    path, b->rootfs);
	}
	b->image_fd = fd;
	return 0;
}

/* Whether the namespace at path has BUNDLE_LINK: looked up from inside
 * it (setns there and back: this process has one thread). */
static int
bundle_netns_has_link(const char *path, bool *has)
{
	int self, ns, rc = -1;

	*has = false;
	if ((ns = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return oci_error("linux.namespaces: network namespace %s: %s",
		    path, strerror(errno));
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) == -1) {
		close(ns);
		return oci_error("cannot open /proc/self/ns/net: %s",
		    strerror(errno));
	}
	if (setns(ns, CLONE_NEWNET) == -1) {
		oci_error("linux.namespaces: %s is not a network namespace "
		          "unikd-oci can enter: %s",
		    path, strerror(errno));
		goto fail;
	}
	*has = if_nametoindex(BUNDLE_LINK) != 0;
	if (setns(self, CLONE_NEWNET) == -1) {
		oci_error("cannot return to unikd-oci's network namespace: %s",
		    strerror(errno));
		goto fail;
	}
	rc = 0;
fail:
	close(self);
	close(ns);
	return rc;
}

static int
bundle_netns(const json_t *cfg, struct oci_bundle *b)
{
	const json_t *ns;
	const char *path;
	bool has;
	size_t i;

	json_array_foreach(
	    json_object_get(json_object_get(cfg, "linux"), "namespaces"), i, ns)
	{
		if (!json_is_string(json_object_get(ns, "type")) ||
		    strcmp(bundle_str(ns, "type", NULL), "network") != 0)
			continue;
		/* no path: a fresh namespace, which would have no network */
		if ((path = bundle_str(ns, "path", NULL)) == NULL)
			return 0;
		if (bundle_netns_has_link(path, &has) == -1)
			return -1;
		if (has)
			snprintf(b->netns, sizeof(b->netns), "%s", path);
		return 0;
	}
	return 0;
}

/* What the spec asks that a unikernel cannot do, listed once. */
static void
bundle_ignored(const json_t *cfg)
{
	const json_t *proc = json_object_get(cfg, "process"), *user;
	char msg[512];
	size_t off = 0, n;

#define IGNORED(cond, ...)                                                    \
	do {                                                                  \
		if ((cond) && off < sizeof(msg))                              \
			off += (size_t)snprintf(msg + off, sizeof(msg) - off, \
			    "%s", off ? ", " : "");                           \
		if ((cond) && off < sizeof(msg))                              \
			off += (size_t)snprintf(                              \
			    msg + off, sizeof(msg) - off, __VA_ARGS__);       \
	} while (0)
	n = json_array_size(json_object_get(proc, "env"));
	IGNORED(n > 0, "process.env (%zu)", n);
	n = json_array_size(json_object_get(cfg, "mounts"));
	IGNORED(n > 0, "mounts (%zu)", n);
	user = json_object_get(proc, "user");
	IGNORED(json_integer_value(json_object_get(user, "uid")) != 0 ||
	        json_integer_value(json_object_get(user, "gid")) != 0,
	    "process.user");
	n = json_array_size(json_object_get(proc, "rlimits"));
	IGNORED(n > 0, "process.rlimits (%zu)", n);
	IGNORED(json_object_get(proc, "capabilities") != NULL,
	    "process.capabilities");
	IGNORED(json_object_get(cfg, "hooks") != NULL, "hooks");
	IGNORED(json_object_get(json_object_get(cfg, "linux"), "seccomp") !=
	        NULL,
	    "linux.seccomp");
#undef IGNORED
	if (off > 0)
		oci_log(OCI_INFO,
		    "ignored, a unikernel cannot honour them: %s", msg);
}

static int
bundle_args(const json_t *cfg, struct oci_bundle *b)
{
	const json_t *args = json_object_get(json_object_get(cfg, "process"),
	    "args");
	const char *cwd = bundle_str(cfg, "process", "cwd");
	json_t *guest, *v;
	size_t i;

	if (json_array_size(args) == 0 ||
	    !json_is_string(json_array_get(args, 0)))
		return oci_error("process.args: the unikernel image to run "
		                 "is missing");
	if (bundle_open_image(b, cwd != NULL ? cwd : "/",
	        json_string_value(json_array_get(args, 0))) == -1)
		return -1;
	guest = json_array();
	json_array_foreach(args, i, v)
	{
		if (!json_is_string(v)) {
			json_decref(guest);
			return oci_error("process.args[%zu]: not a string", i);
		}
		if (i > 0)
			json_array_append(guest, v);
	}
	return json_object_set_new(b->def, "args", guest);
}

static int
bundle_rootfs(const char *dir, const json_t *cfg, struct oci_bundle *b)
{
	const char *root = bundle_str(cfg, "root", "path");
	char path[4096];
	struct stat st;

	if (root == NULL)
		return oci_error("%s/config.json: root.path is missing", dir);
	if (root[0] == '/')
		snprintf(path, sizeof(path), "%s", root);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, root);
	if (realpath(path, b->rootfs) == NULL || stat(b->rootfs, &st) == -1 ||
	    !S_ISDIR(st.st_mode))
		return oci_error("root.path %s: no such directory", path);
	return 0;
}

static bool
bundle_is_sandbox(const json_t *ann)
{
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(bundle_sandbox_keys) /
	                    sizeof(bundle_sandbox_keys[0]);
	     i++) {
		v = json_string_value(
		    json_object_get(ann, bundle_sandbox_keys[i].key));
		if (v != NULL && strcmp(v, bundle_sandbox_keys[i].value) == 0)
			return true;
	}
	return false;
}

static void
bundle_name(struct oci_bundle *b)
{
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(bundle_name_keys) / sizeof(bundle_name_keys[0]);
	     i++) {
		s = json_string_value(
		    json_object_get(b->annotations, bundle_name_keys[i]));
		if (s != NULL) {
			snprintf(b->name, sizeof(b->name), "%s", s);
			return;
		}
	}
}

int
oci_bundle_load(const struct oci *o, const char *dir, struct oci_bundle *b)
{
	char path[4096];
	json_error_t jerr;
	json_t *cfg;

	(void)o;
	memset(b, 0, sizeof(*b));
	b->image_fd = -1;
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if ((cfg = json_load_file(path, 0, &jerr)) == NULL)
		return oci_error("%s: %s", path, jerr.text);
	b->def = json_object();
	b->annotations = json_incref(json_object_get(cfg, "annotations"));
	if (!json_is_object(b->annotations)) {
		json_decref(b->annotations);
		b->annotations = json_object();
	}
	b->terminal =
	    json_is_true(json_object_get(json_object_get(cfg, "process"),
	        "terminal"));
	bundle_name(b);
	/* the pod's sandbox holds its namespaces and runs nothing of ours:
	 * no image, no VM, a process that waits to be told to end */
	if ((b->sandbox = bundle_is_sandbox(b->annotations))) {
		if (bundle_rootfs(dir, cfg, b) == -1) {
			json_decref(cfg);
			oci_bundle_free(b);
			return -1;
		}
		json_decref(cfg);
		return 0;
	}
	snprintf(b->cgroup, sizeof(b->cgroup), "%s",
	    bundle_str(cfg, "linux", "cgroupsPath") != NULL
	        ? bundle_str(cfg, "linux", "cgroupsPath")
	        : "");
	if (bundle_rootfs(dir, cfg, b) == -1 || bundle_args(cfg, b) == -1 ||
	    bundle_tender(b->annotations, b) == -1 ||
	    bundle_memory(cfg, b->annotations, b->def) == -1 ||
	    bundle_cpus(cfg, b->def) == -1 ||
	    bundle_blocks(b->annotations, b->def) == -1 ||
	    bundle_netns(cfg, b) == -1) {
		json_decref(cfg);
		oci_bundle_free(b);
		return -1;
	}
	bundle_ignored(cfg);
	json_decref(cfg);
	return 0;
}

void
oci_bundle_free(struct oci_bundle *b)
{
	json_decref(b->def);
	json_decref(b->annotations);
	if (b->image_fd != -1)
		close(b->image_fd);
	b->def = b->annotations = NULL;
	b->image_fd = -1;
}
