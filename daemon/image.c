/*
 * Images (see image.h): push, inspect, list and remove. A push writes the
 * bytes to a temporary file in state_dir/images, hashes them on the way,
 * hands the file to bb_image_store() (which keeps one file per digest),
 * then records the row and links the name to it. A push cut short by a
 * crash is finished or undone at the next start (image_recover).
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "block.h"
#include "image.h"
#include "fault.h"
#include "log.h"
#include "image-open.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm.h"

struct image_row {
	bool found;
	char digest[65];
	int64_t size;
};

static void
image_dir(struct unikd *u, char *buf, size_t len)
{
	snprintf(buf, len, "%s/images", u->cf.state_dir);
}

static void
image_file(struct unikd *u, const char *digest, char *buf, size_t len)
{
	char dir[4096];

	image_dir(u, dir, sizeof(dir));
	bb_image_path(dir, digest, buf, len);
}

/* state_dir/images and images/names, root's alone: tenders get their
 * image as an open fd. */
static int
image_dirs_make(struct unikd *u, struct uerr *e)
{
	char dir[4096];

	image_dir(u, dir, sizeof(dir));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	snprintf(dir, sizeof(dir), "%s/images/names", u->cf.state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	return uerr_set(e, UERR_INTERNAL, "mkdir %s: %s", dir,
	    strerror(errno));
}

static int
image_row_cb(void *arg, const char *name, const char *digest, int64_t size)
{
	struct image_row *r = arg;

	(void)name;
	r->found = true;
	snprintf(r->digest, sizeof(r->digest), "%s", digest ? digest : "");
	r->size = size;
	return 0;
}

static int
image_load(struct unikd *u, const char *name, struct image_row *r,
    struct uerr *e)
{
	memset(r, 0, sizeof(*r));
	if (block_name_check("image", name, e) == -1)
		return -1;
	if (store_image_get(u->store, name, image_row_cb, r) != 0)
		return uerr_set(e, UERR_INTERNAL, "image '%s': state store: %s",
		    name, store_errmsg(u->store));
	if (!r->found)
		return uerr_set(e, UERR_NOT_FOUND, "image '%s' does not exist",
		    name);
	return 0;
}

static bool
image_vm_uses(const struct vm *vm, const char *name)
{
	return vm->spec.image_name != NULL &&
	    strcmp(vm->spec.image_name, name) == 0;
}

static json_t *
image_to_json(struct unikd *u, const char *name, const char *digest,
    int64_t size)
{
	json_t *users = json_array();
	const struct vm *vm;
	char path[4096];

	image_file(u, digest, path, sizeof(path));
	TAILQ_FOREACH(vm, &u->vms, entry)
		if (image_vm_uses(vm, name))
			json_array_append_new(users, json_string(vm->spec.name));
	return json_pack("{s:s, s:I, s:s, s:s, s:o}", "name", name, "size",
	    (json_int_t)size, "digest", digest, "path", path, "used_by",
	    users);
}

int
image_get(struct unikd *u, const char *name, json_t **out, struct uerr *e)
{
	struct image_row r;

	char path[4096];

	if (image_load(u, name, &r, e) == -1)
		return -1;
	*out = image_to_json(u, name, r.digest, r.size);
	image_file(u, r.digest, path, sizeof(path));
	json_object_set_new(*out, "manifest",
	    image_manifest_json(&u->cf, path));
	return 0;
}

struct image_walk {
	struct unikd *u;
	json_t *list;
};

static int
image_list_row(void *arg, const char *name, const char *digest, int64_t size)
{
	struct image_walk *w = arg;

	json_array_append_new(w->list, image_to_json(w->u, name,
	    digest ? digest : "", size));
	return 0;
}

int
image_list(struct unikd *u, json_t **out, struct uerr *e)
{
	struct image_walk w = {u, json_array()};

	if (store_image_foreach(u->store, image_list_row, &w) != 0) {
		json_decref(w.list);
		return uerr_set(e, UERR_INTERNAL, "state store: %s",
		    store_errmsg(u->store));
	}
	*out = json_pack("{s:o}", "images", w.list);
	return 0;
}

/* Writes buf to a new temporary file in the image directory. */
static int
image_write_tmp(struct unikd *u, const void *buf, size_t len, char *tmp,
    size_t tmplen, struct uerr *e)
{
	const char *p = buf;
	ssize_t n;
	int fd;

	snprintf(tmp, tmplen, "%s/images/.push-XXXXXX", u->cf.state_dir);
	if ((fd = mkstemp(tmp)) == -1)
		return uerr_set(e, UERR_INTERNAL, "image: %s: %s", tmp,
		    strerror(errno));
	if (fchmod(fd, 0644) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	uerr_set(e, UERR_INTERNAL, "image: %s: %s", tmp, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* names/NAME -> ../sha256/DIGEST, made under a temporary name and renamed
 * into place so a reader never sees half a link. */
static int
image_link(struct unikd *u, const char *name, const char *digest,
    struct uerr *e)
{
	char link[4096], tmp[4200], target[128];

	vm_spec_image_link(&u->cf, name, link, sizeof(link));
	snprintf(tmp, sizeof(tmp), "%s.tmp", link);
	snprintf(target, sizeof(target), "../sha256/%s", digest);
	unlink(tmp);
	if (symlink(target, tmp) == -1 || rename(tmp, link) == -1) {
		uerr_set(e, UERR_INTERNAL, "image '%s': link %s: %s", name,
		    link, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Drops the file of digest when no name points to it any more. */
static void
image_file_release(struct unikd *u, const char *digest)
{
	const struct vm *vm;
	char path[4096];
	int64_t n = 0;

	if (store_image_digest_count(u->store, digest, &n) != 0 || n > 0)
		return;
	image_file(u, digest, path, sizeof(path));
	/* a definition may name the stored file by its path */
	TAILQ_FOREACH(vm, &u->vms, entry)
		if (vm->spec.image != NULL && strcmp(vm->spec.image, path) == 0)
			return;
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("image digest=%s path=%s action=unlink", digest, path);
}

static int
image_record(struct unikd *u, const char *name, const char *hex, size_t len,
    struct uerr *e)
{
	int rc = store_image_insert(u->store, name, hex, (int64_t)len);

	if (rc == 0 && unikd_commit(u) == 0)	/* on disk before the link */
		return 0;
	if (rc == 0)
		return uerr_set(e, UERR_INTERNAL, "image '%s': state store: %s",
		    name, store_errmsg(u->store));
	if (errno == EEXIST)
		return uerr_set(e, UERR_CONFLICT, "image '%s' already exists",
		    name);
	return uerr_set(e, UERR_INTERNAL, "image '%s': state store: %s", name,
	    store_errmsg(u->store));
}

/* Removes the entries of dir whose names start with prefix or end with
 * suffix: files a push cut short left. */
static void
image_sweep(const char *dir, const char *prefix, const char *suffix)
{
	struct dirent *de;
	size_t n, m = suffix != NULL ? strlen(suffix) : 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if ((prefix != NULL &&
		        strncmp(de->d_name, prefix, strlen(prefix)) == 0) ||
		    (suffix != NULL && n > m &&
		        strcmp(de->d_name + n - m, suffix) == 0)) {
			log_warnx("action=recover-images path=%s/%s "
			          "result=\"left by a push cut short; removed\"",
			    dir, de->d_name);
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

/* A row whose name link is missing: the link is made (the push had
 * stored and recorded the file) or, without the file, the row goes. */
static int
image_recover_row(void *arg, const char *name, const char *digest,
    int64_t size)
{
	struct unikd *u = ((void **)arg)[0];
	json_t *gone = ((void **)arg)[1];
	char link[4096], path[4096];
	struct stat st;
	struct uerr e;

	(void)size;
	vm_spec_image_link(&u->cf, name, link, sizeof(link));
	if (lstat(link, &st) == 0 || digest == NULL)
		return 0;
	image_file(u, digest, path, sizeof(path));
	if (stat(path, &st) == -1) {
		json_array_append_new(gone, json_string(name));
		return 0;
	}
	log_warnx("image=%s action=recover result=\"push cut short before "
	          "its name was linked; linked\"",
	    name);
	if (image_link(u, name, digest, &e) == -1)
		log_warnx("image=%s action=recover error=\"%s\"", name,
		    e.message);
	return 0;
}

void
image_recover(struct unikd *u)
{
	json_t *gone = json_array(), *v;
	void *arg[2] = {u, gone};
	char dir[4096], sub[4200];
	struct dirent *de;
	size_t i;
	DIR *d;

	image_dir(u, dir, sizeof(dir));
	image_sweep(dir, ".push-", NULL);
	snprintf(sub, sizeof(sub), "%s/names", dir);
	image_sweep(sub, NULL, ".tmp");
	if (store_image_foreach(u->store, image_recover_row, arg) != 0)
		log_warnx("action=recover-images error=\"%s\"",
		    store_errmsg(u->store));
	json_array_foreach(gone, i, v)
	{
		log_warnx("image=%s action=recover result=\"its file is "
		          "gone; removed\"",
		    json_string_value(v));
		store_image_delete(u->store, json_string_value(v));
	}
	json_decref(gone);
	/* Files stored by a push cut short before its row was written:
	 * released like the last name's, unless a definition names one. */
	snprintf(sub, sizeof(sub), "%s/sha256", dir);
	if ((d = opendir(sub)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strlen(de->d_name) == 64 &&
		    strspn(de->d_name, "0123456789abcdef") == 64)
			image_file_release(u, de->d_name);
	closedir(d);
}

int
image_push(struct unikd *u, const char *name, const void *buf, size_t len,
    int *status, json_t **out, struct uerr *e)
{
	char dir[4096], tmp[4200], hex[65];
	struct image_row r;
	struct bb_sha256 d;

	if (block_name_check("image", name, e) == -1)
		return -1;
	if (len == 0)
		return uerr_set(e, UERR_INVALID,
		    "image '%s': the body is empty; send the image's bytes",
		    name);
	bb_sha256_init(&d);
	bb_sha256_update(&d, buf, len);
	bb_sha256_final(&d, hex);
	if (image_load(u, name, &r, e) == 0) {
		if (strcmp(r.digest, hex) != 0)
			return uerr_set(e, UERR_CONFLICT,
			    "image '%s' already exists with other content "
			    "(sha256 %s); remove it first", name, r.digest);
		*status = 200;
		return image_get(u, name, out, e);
	}
	if (e->status != UERR_NOT_FOUND || image_dirs_make(u, e) == -1 ||
	    image_write_tmp(u, buf, len, tmp, sizeof(tmp), e) == -1)
		return -1;
	fault_point("image-push-tmp");
	image_dir(u, dir, sizeof(dir));
	if (bb_image_store(dir, tmp, hex) == -1) {
		uerr_set(e, UERR_INTERNAL, "image '%s': store: %s", name,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	fault_point("image-push-stored");
	if (image_record(u, name, hex, len, e) == -1) {
		image_file_release(u, hex);
		return -1;
	}
	fault_point("image-push-recorded");
	if (image_link(u, name, hex, e) == -1) {
		store_image_delete(u->store, name);
		image_file_release(u, hex);
		return -1;
	}
	log_info("image=%s action=push size=%zu sha256=%s", name, len, hex);
	*status = 201;
	return image_get(u, name, out, e);
}

int
image_remove(struct unikd *u, const char *name, struct uerr *e)
{
	const struct vm *vm;
	struct image_row r;
	char link[4096];

	if (image_load(u, name, &r, e) == -1)
		return -1;
	TAILQ_FOREACH(vm, &u->vms, entry)
		if (image_vm_uses(vm, name))
			return uerr_set(e, UERR_CONFLICT,
			    "image '%s' is used by vm '%s'; remove the vm "
			    "first", name, vm->spec.name);
	if (store_image_delete(u->store, name) == -1)
		return uerr_set(e, UERR_INTERNAL, "image '%s': state store: %s",
		    name, store_errmsg(u->store));
	vm_spec_image_link(&u->cf, name, link, sizeof(link));
	if (unlink(link) == -1 && errno != ENOENT)
		log_warn("image=%s link=%s action=unlink", name, link);
	image_file_release(u, r.digest);
	log_info("image=%s action=remove sha256=%s", name, r.digest);
	return 0;
}
