/*
 * Cgroups of tenders (see vm-cgroup.h). The hierarchies are read once
 * from /proc/self/mountinfo: every "cgroup2" mount and every "cgroup"
 * (v1) mount, one per superblock (a hierarchy mounted twice is joined
 * once). A v1 cpuset cgroup starts with no CPUs and no memory nodes, and
 * a process cannot join it so: a new one gets its parent's, as runc does.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-cgroup.h"
#include "vm.h"

struct vm_hierarchy {
	char mount[256];	/* where it is mounted */
	char dev[32];		/* major:minor of its superblock */
	bool cpuset;		/* v1 with the cpuset controller */
	bool warned;		/* a failure was logged already */
};

struct vm_cgroups {
	struct vm_hierarchy h[VM_CGROUP_MAX_FDS];
	size_t n;
	bool warned;		/* "no hierarchy" was logged */
};

/* One mountinfo line: fields 3 (dev), 5 (mount point), after " - " the
 * type and the super options. */
static void
vm_cgroup_line(struct vm_cgroups *c, char *line)
{
	char *f[6], *sep, *type, *opts, *save = NULL;
	struct vm_hierarchy *h;
	size_t i;

	if ((sep = strstr(line, " - ")) == NULL)
		return;
	*sep = '\0';
	for (i = 0; i < 6; i++)
		if ((f[i] = strtok_r(i == 0 ? line : NULL, " ", &save)) == NULL)
			return;
	type = strtok_r(sep + 3, " ", &save);
	(void)strtok_r(NULL, " ", &save);	/* the source */
	opts = strtok_r(NULL, " \n", &save);
	if (type == NULL || (strcmp(type, "cgroup2") != 0 &&
	    strcmp(type, "cgroup") != 0) || strcmp(f[3], "/") != 0)
		return;
	for (i = 0; i < c->n; i++)
		if (strcmp(c->h[i].dev, f[2]) == 0)
			return;
	if (c->n == VM_CGROUP_MAX_FDS || strchr(f[4], '\\') != NULL)
		return;	/* mountinfo escapes odd characters: not ours */
	h = &c->h[c->n++];
	snprintf(h->mount, sizeof(h->mount), "%s", f[4]);
	snprintf(h->dev, sizeof(h->dev), "%s", f[2]);
	h->cpuset = strcmp(type, "cgroup") == 0 && opts != NULL &&
	    (strcmp(opts, "cpuset") == 0 || strstr(opts, ",cpuset") != NULL ||
		strncmp(opts, "cpuset,", 7) == 0);
}

static struct vm_cgroups *
vm_cgroups_get(struct unikd *u)
{
	struct vm_cgroups *c = u->cgroups;
	char line[1024];
	FILE *f;

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("vm_cgroups_get");
	if ((f = fopen("/proc/self/mountinfo", "re")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			vm_cgroup_line(c, line);
		fclose(f);
	}
	u->cgroups = c;
	return c;
}

/* Copies the parent's cpuset.cpus/mems into dir when empty there. */
static void
vm_cgroup_cpuset(const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char path[4096], parent[4096], buf[1024];
	ssize_t n;
	size_t i;
	int fd;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 1)	/* set already */
			continue;
		snprintf(parent, sizeof(parent), "%s/../%s", dir, files[i]);
		if ((fd = open(parent, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0 || (fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
			continue;
		(void)!write(fd, buf, (size_t)n);
		close(fd);
	}
}

/* mkdir -p mount/rel, cpusets filled on the way; -1 with errno. */
static int
vm_cgroup_mkdir(const struct vm_hierarchy *h, const char *rel)
{
	char path[4096];
	size_t len, i;

	len = (size_t)snprintf(path, sizeof(path), "%s/%s", h->mount, rel);
	if (len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = strlen(h->mount) + 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		if (h->cpuset)
			vm_cgroup_cpuset(path);
		if (i < len)
			path[i] = '/';
	}
	return 0;
}

int
vm_cgroup_open(struct vm *vm, int *fds, size_t *n, struct uerr *e)
{
	struct vm_cgroups *c;
	struct vm_hierarchy *h;
	char rel[VM_CGROUP_MAX + 64], path[4096];
	size_t i;
	int fd;

	*n = 0;
	if (vm->spec.cgroup_path == NULL)
		return 0;
	if (vm_cgroup_rel(vm, rel, sizeof(rel)) == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': bad cgroup path '%s'", vm->spec.name,
		    vm->spec.cgroup_path);
	c = vm_cgroups_get(vm->u);
	if (c->n == 0 && !c->warned) {
		log_warnx("vm=%s cgroup=%s action=join error=\"no cgroup "
		    "hierarchy is mounted in unikd's view: tenders run in "
		    "unikd's own cgroups\"", vm->spec.name, rel);
		c->warned = true;
	}
	for (i = 0; i < c->n; i++) {
		h = &c->h[i];
		snprintf(path, sizeof(path), "%s/%s", h->mount, rel);
		if (vm_cgroup_mkdir(h, rel) == -1 ||
		    (fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1) {
			if (!h->warned)
				log_warn("vm=%s cgroup=%s action=join "
				    "hierarchy=%s: skipped", vm->spec.name,
				    path, h->mount);
			h->warned = true;
			continue;
		}
		fds[(*n)++] = fd;
	}
	log_debug("vm=%s cgroup=%s action=join hierarchies=%zu",
	    vm->spec.name, rel, *n);
	return 0;
}

void
vm_cgroup_rmdir(struct unikd *u, const char *rel)
{
	struct vm_cgroups *c = vm_cgroups_get(u);
	char path[4096];
	size_t i;

	for (i = 0; i < c->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->h[i].mount, rel);
		if (rmdir(path) == -1 && errno != ENOENT)
			log_debug("cgroup=%s action=remove error=\"%s\"", path,
			    strerror(errno));
	}
}

int
vm_cgroup_rel(const struct vm *vm, char *buf, size_t size)
{
	if (vm->spec.cgroup_path == NULL)
		return -1;
	return vm_spec_cgroup_relpath(&vm->spec, buf, size);
}

void
vm_cgroup_remove(struct vm *vm)
{
	char rel[VM_CGROUP_MAX + 64];

	if (vm_cgroup_rel(vm, rel, sizeof(rel)) == 0)
		vm_cgroup_rmdir(vm->u, rel);
}

void
vm_cgroup_free(struct unikd *u)
{
	free(u->cgroups);
	u->cgroups = NULL;
}
