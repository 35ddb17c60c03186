/*
 * A container's state under --root, as runc keeps it: ROOT/ID/state.json
 * (what create learnt: the VM's name, the bundle, the container
 * process's pid and start time) and ROOT/ID/exec.fifo, which exists from
 * create until start. The status is not stored but read from the world:
 * the container process lives exactly as long as the VM, so "running"
 * is that process being alive (the same pid *and* start time, never a
 * reused pid) after start, "created" the same before it.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci.h"

int
oci_state_dir(const struct oci *o, const char *id, const char *file,
    char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%s/%s%s%s", o->oci_root, id,
	    file != NULL ? "/" : "", file != NULL ? file : "");
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

unsigned long long
oci_pid_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and ')': fields follow the last */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* p+2 is field 3 (state): a zombie has ended */
	if (p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (field = 3, p += 2; field < 22 && p != NULL; field++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p != NULL)
		start = strtoull(p, NULL, 10);
	return start;
}

static int
state_str(const json_t *j, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (s == NULL || strlen(s) >= len)
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

int
oci_state_load(const struct oci *o, const char *id, struct oci_state *st)
{
	char path[4096];
	json_t *j;

	memset(st, 0, sizeof(*st));
	if (oci_state_dir(o, id, "state.json", path, sizeof(path)) == -1)
		return -1;
	if ((j = json_load_file(path, 0, NULL)) == NULL) {
		if (access(path, F_OK) == 0)
			errno = EINVAL;
		else
			errno = ENOENT;
		return -1;
	}
	if (state_str(j, "id", st->id, sizeof(st->id)) == -1 ||
	    state_str(j, "vm", st->vm, sizeof(st->vm)) == -1 ||
	    state_str(j, "bundle", st->bundle, sizeof(st->bundle)) == -1 ||
	    state_str(j, "rootfs", st->rootfs, sizeof(st->rootfs)) == -1 ||
	    state_str(j, "created", st->created, sizeof(st->created)) == -1) {
		json_decref(j);
		errno = EINVAL;
		return -1;
	}
	st->pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	st->pid_start = (unsigned long long)json_integer_value(
	    json_object_get(j, "pid_start"));
	st->annotations = json_incref(json_object_get(j, "annotations"));
	if (!json_is_object(st->annotations)) {
		json_decref(st->annotations);
		st->annotations = json_object();
	}
	json_decref(j);
	return 0;
}

int
oci_state_find(const struct oci *o, const char *id, struct oci_state *st)
{
	if (!oci_id_valid(id)) {
		oci_error("invalid container ID '%.64s'", id);
		return -1;
	}
	if (oci_state_load(o, id, st) == 0)
		return 0;
	if (errno == ENOENT)
		oci_error("container \"%s\" does not exist", id);
	else
		oci_error("container \"%s\": cannot read its state: %s", id,
		    strerror(errno));
	return -1;
}

int
oci_state_save(const struct oci *o, const struct oci_state *st)
{
	char path[4096], tmp[4096];
	json_t *j;
	int rc;

	if (oci_state_dir(o, st->id, "state.json", path, sizeof(path)) == -1 ||
	    oci_state_dir(o, st->id, "state.json.tmp", tmp, sizeof(tmp)) == -1)
		return -1;
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:O}", "id", st->id,
	    "vm", st->vm, "bundle", st->bundle, "rootfs", st->rootfs, "pid",
	    (json_int_t)st->pid, "pid_start", (json_int_t)st->pid_start,
	    "created", st->created, "annotations", st->annotations);
	if (j == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = json_dump_file(j, tmp, JSON_COMPACT);
	json_decref(j);
	if (rc == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

void
oci_state_free(struct oci_state *st)
{
	json_decref(st->annotations);
	st->annotations = NULL;
}

void
oci_state_remove(const struct oci *o, const char *id)
{
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	DIR *d;

	if (oci_state_dir(o, id, NULL, dir, sizeof(dir)) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) == -1 && errno != ENOENT)
		oci_log(OCI_WARN, "cannot remove %s: %s", dir, strerror(errno));
}

enum oci_status
oci_state_status(const struct oci *o, const struct oci_state *st)
{
	char fifo[4096];

	if (st->pid <= 0 || oci_pid_start(st->pid) != st->pid_start)
		return OCI_STOPPED;
	if (oci_state_dir(o, st->id, "exec.fifo", fifo, sizeof(fifo)) == 0 &&
	    access(fifo, F_OK) == 0)
		return OCI_CREATED;
	return OCI_RUNNING;
}

const char *
oci_status_name(enum oci_status s)
{
	switch (s) {
	case OCI_CREATED:
		return "created";
	case OCI_RUNNING:
		return "running";
	case OCI_STOPPED:
		break;
	}
	return "stopped";
}
