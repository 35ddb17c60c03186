/*
 * Blocks (see block.h): create, inspect, list, remove, resize and clone,
 * and the locks VMs hold (ranged import and export: block-import.c). Every request checks
 * everything before it touches a file; the store row of a block is
 * written before its file is made and removed with it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blockbackend.h"
#include "block.h"
#include "block-internal.h"
#include "fault.h"
#include "log.h"
#include "store.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"
#include "vm.h"

void
block_path(struct unikd *u, const char *name, char *buf, size_t len)
{
	vm_spec_block_path(&u->cf, name, buf, len);
}

/* state_dir/blocks: only root looks inside; tenders get their block as
 * an open fd and reopen it through /dev/fd/N, which needs no search
 * permission on the directory. */
static int
block_dir_make(struct unikd *u, struct uerr *e)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/blocks", u->cf.state_dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return uerr_set(e, UERR_INTERNAL, "mkdir %s: %s", dir,
		    strerror(errno));
	return 0;
}

static int
block_rec_row(void *arg, const char *name, const char *spec)
{
	struct block_rec *r = arg;

	(void)name;
	r->found = true;
	r->spec = json_loads(spec, 0, NULL);
	if (r->spec == NULL)
		r->spec = json_object();
	return 0;
}

/* Reads the record of name: 404 when there is none. */
int
block_rec_load(struct unikd *u, const char *name, struct block_rec *r,
    struct uerr *e)
{
	memset(r, 0, sizeof(*r));
	if (block_name_check("block", name, e) == -1)
		return -1;
	if (store_block_get(u->store, name, block_rec_row, r) != 0)
		return uerr_set(e, UERR_INTERNAL, "block '%s': state store: %s",
		    name, store_errmsg(u->store));
	if (!r->found)
		return uerr_set(e, UERR_NOT_FOUND, "block '%s' does not exist",
		    name);
	return 0;
}

int
block_rec_save(struct unikd *u, const char *name, const json_t *spec,
    struct uerr *e)
{
	char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = text != NULL ? store_block_update(u->store, name, text) : -1;

	free(text);
	if (rc == -1)
		return uerr_set(e, UERR_INTERNAL, "block '%s': state store: %s",
		    name, store_errmsg(u->store));
	return 0;
}

static bool
block_vm_uses(const struct vm *vm, const char *block)
{
	size_t i;

	for (i = 0; i < vm->spec.nblocks; i++)
		if (strcmp(vm->spec.blocks[i].block, block) == 0)
			return true;
	return false;
}

const struct vm *
block_holder(struct unikd *u, const char *block)
{
	const struct vm *vm;

	TAILQ_FOREACH(vm, &u->vms, entry)
		if (vm_is_active(vm) && block_vm_uses(vm, block))
			return vm;
	return NULL;
}

/* The VM definitions that use block, "'a', 'b'", in buf; false if none. */
static bool
block_users(struct unikd *u, const char *block, char *buf, size_t len)
{
	const struct vm *vm;
	size_t off = 0;

	buf[0] = '\0';
	TAILQ_FOREACH(vm, &u->vms, entry)
		if (block_vm_uses(vm, block) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s'%s'",
			    off > 0 ? ", " : "", vm->spec.name);
	return off > 0;
}

/* 409 for a block whose lock someone holds. */
static int
block_busy(struct unikd *u, const char *name, const struct vm *self,
    struct uerr *e)
{
	const struct vm *vm = block_holder(u, name);

	if (vm != NULL && vm != self)
		return uerr_set(e, UERR_CONFLICT,
		    "block '%s' is attached to vm '%s'", name, vm->spec.name);
	return uerr_set(e, UERR_CONFLICT,
	    "block '%s' is in use by another process (a tender still "
	    "running, or an import)", name);
}

/* Takes the block's lock for a change made by unikd itself. */
int
block_lock(struct unikd *u, const char *name, int *fd, struct uerr *e)
{
	char path[4096];

	block_path(u, name, path, sizeof(path));
	if (bb_block_lock(path, fd) == 0)
		return 0;
	if (errno == EBUSY)
		return block_busy(u, name, NULL, e);
	return uerr_set(e, UERR_INTERNAL, "block '%s': %s: %s", name, path,
	    strerror(errno));
}

static json_t *
block_to_json(struct unikd *u, const char *name, const json_t *spec)
{
	const struct vm *holder = block_holder(u, name), *vm;
	struct bb_block_info info = {0, 0};
	json_t *o, *users = json_array(), *imp;
	char path[4096];

	block_path(u, name, path, sizeof(path));
	if (bb_block_stat(path, &info) == -1)
		log_warn("block=%s path=%s action=stat", name, path);
	TAILQ_FOREACH(vm, &u->vms, entry)
		if (block_vm_uses(vm, name))
			json_array_append_new(users, json_string(vm->spec.name));
	imp = json_object_get(spec, "import");
	o = json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o}", "name", name,
	    "size", (json_int_t)info.size, "allocated",
	    (json_int_t)info.allocated, "path", path, "attached_to",
	    holder != NULL ? json_string(holder->spec.name) : json_null(),
	    "used_by", users, "created_at",
	    unikd_json_time(json_integer_value(
		json_object_get(spec, "created_at"))));
	if (o != NULL)
		json_object_set_new(o, "import", imp != NULL ?
		    json_pack("{s:O, s:O}", "next_offset",
			json_object_get(imp, "next_offset"), "total",
			json_object_get(imp, "total")) : json_null());
	return o;
}

int
block_reply(struct unikd *u, const char *name, const json_t *spec,
    json_t **out, struct uerr *e)
{
	if ((*out = block_to_json(u, name, spec)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	return 0;
}

int
block_get(struct unikd *u, const char *name, json_t **out, struct uerr *e)
{
	struct block_rec r;
	int rc;

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	rc = block_reply(u, name, r.spec, out, e);
	json_decref(r.spec);
	return rc;
}

struct block_walk {
	struct unikd *u;
	json_t *list;
};

static int
block_list_row(void *arg, const char *name, const char *spec)
{
	struct block_walk *w = arg;
	json_t *s = json_loads(spec, 0, NULL);

	json_array_append_new(w->list, block_to_json(w->u, name, s));
	json_decref(s);
	return 0;
}

int
block_list(struct unikd *u, json_t **out, struct uerr *e)
{
	struct block_walk w = {u, json_array()};

	if (store_block_foreach(u->store, block_list_row, &w) != 0) {
		json_decref(w.list);
		return uerr_set(e, UERR_INTERNAL, "state store: %s",
		    store_errmsg(u->store));
	}
	*out = json_pack("{s:o}", "blocks", w.list);
	return 0;
}

/* Writes the record of a new block, 409 when the name is taken: the
 * intent, marked "creating" until its file is made (block_rec_done), so
 * a start after a crash in between undoes it (block_recover). */
static int
block_rec_insert(struct unikd *u, const char *name, struct uerr *e)
{
	json_t *spec = json_pack("{s:I,s:b}", "created_at",
	    (json_int_t)time(NULL), "creating", 1);
	char *text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = text != NULL ? store_block_insert(u->store, name, text) : -1;

	free(text);
	json_decref(spec);
	if (rc == 0 && unikd_commit(u) == 0)	/* on disk before the file */
		return 0;
	if (rc == 0)
		return uerr_set(e, UERR_INTERNAL, "block '%s': state store: %s",
		    name, store_errmsg(u->store));
	if (errno == EEXIST)
		return uerr_set(e, UERR_CONFLICT, "block '%s' already exists",
		    name);
	return uerr_set(e, UERR_INTERNAL, "block '%s': state store: %s", name,
	    store_errmsg(u->store));
}

/* The block's file is made: the record loses its "creating" mark. */
static int
block_rec_done(struct unikd *u, const char *name, struct uerr *e)
{
	struct block_rec r;
	int rc;

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	json_object_del(r.spec, "creating");
	rc = block_rec_save(u, name, r.spec, e);
	json_decref(r.spec);
	return rc;
}

static int
block_recover_row(void *arg, const char *name, const char *spec)
{
	json_t *j = json_loads(spec, 0, NULL), **names = arg;

	if (json_is_true(json_object_get(j, "creating")))
		json_array_append_new(*names, json_string(name));
	json_decref(j);
	return 0;
}

void
block_recover(struct unikd *u)
{
	json_t *names = json_array(), *v;
	char path[4096];
	size_t i;

	if (store_block_foreach(u->store, block_recover_row, &names) != 0)
		log_warnx("action=recover-blocks error=\"%s\"",
		    store_errmsg(u->store));
	json_array_foreach(names, i, v)
	{
		block_path(u, json_string_value(v), path, sizeof(path));
		log_warnx("block=%s action=undo-create result=\"unfinished at "
		          "the last stop\"",
		    json_string_value(v));
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("block=%s path=%s action=unlink",
			    json_string_value(v), path);
		else if (store_block_delete(u->store, json_string_value(v)))
			log_warnx("block=%s action=undo-create error=\"%s\"",
			    json_string_value(v), store_errmsg(u->store));
	}
	json_decref(names);
}

int
block_create(struct unikd *u, const char *name, uint64_t size, json_t **out,
    struct uerr *e)
{
	char path[4096];

	if (block_name_check("block", name, e) == -1 ||
	    block_dir_make(u, e) == -1 || block_rec_insert(u, name, e) == -1)
		return -1;
	fault_point("block-create-intent");
	block_path(u, name, path, sizeof(path));
	/* With a uid per VM a block is root's until a VM runs with it. */
	if (bb_block_create(path, size, u->vm_uids != NULL ? 0 : u->tender_uid,
	    u->vm_uids != NULL ? 0 : u->tender_gid) == -1) {
		if (errno == EEXIST)
			uerr_set(e, UERR_CONFLICT,
			    "block '%s': %s exists already (not made by "
			    "unikd?)", name, path);
		else
			uerr_set(e, UERR_INTERNAL, "block '%s': %s: %s", name,
			    path, strerror(errno));
		store_block_delete(u->store, name);
		return -1;
	}
	fault_point("block-create-file");
	if (block_rec_done(u, name, e) == -1) {
		unlink(path);
		store_block_delete(u->store, name);
		return -1;
	}
	log_info("block=%s action=create size=%" PRIu64, name, size);
	return block_get(u, name, out, e);
}

int
block_remove(struct unikd *u, const char *name, struct uerr *e)
{
	const struct vm *vm;
	struct block_rec r;
	char path[4096], users[256];

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	json_decref(r.spec);
	if ((vm = block_holder(u, name)) != NULL)
		return uerr_set(e, UERR_CONFLICT,
		    "block '%s' is attached to vm '%s'", name, vm->spec.name);
	if (block_users(u, name, users, sizeof(users)))
		return uerr_set(e, UERR_CONFLICT,
		    "block '%s' is used by vm %s; remove those vms first",
		    name, users);
	block_path(u, name, path, sizeof(path));
	if (bb_block_delete(path) == -1 && errno != ENOENT) {
		if (errno == EBUSY)
			return block_busy(u, name, NULL, e);
		return uerr_set(e, UERR_INTERNAL, "block '%s': %s: %s", name,
		    path, strerror(errno));
	}
	if (store_block_delete(u->store, name) == -1)
		return uerr_set(e, UERR_INTERNAL, "block '%s': state store: %s",
		    name, store_errmsg(u->store));
	log_info("block=%s action=remove", name);
	return 0;
}

int
block_resize(struct unikd *u, const char *name, uint64_t size, bool force,
    json_t **out, struct uerr *e)
{
	struct bb_block_info info;
	struct block_rec r;
	char path[4096];

	if (block_rec_load(u, name, &r, e) == -1)
		return -1;
	json_decref(r.spec);
	block_path(u, name, path, sizeof(path));
	if (bb_block_stat(path, &info) == 0 && size < info.size && !force)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "block '%s': %" PRIu64 " bytes is smaller than its size "
		    "(%" PRIu64 " bytes); shrinking loses data, ask with "
		    "force", name, size, info.size);
	if (bb_block_resize(path, size, force) == -1) {
		if (errno == EBUSY)
			return block_busy(u, name, NULL, e);
		return uerr_set(e, UERR_INTERNAL, "block '%s': resize: %s",
		    name, strerror(errno));
	}
	log_info("block=%s action=resize size=%" PRIu64, name, size);
	return block_get(u, name, out, e);
}

int
block_clone(struct unikd *u, const char *src, const char *dst, json_t **out,
    struct uerr *e)
{
	char spath[4096], dpath[4096];
	struct block_rec r;
	int fd = -1;

	if (block_rec_load(u, src, &r, e) == -1)
		return -1;
	json_decref(r.spec);
	/* A running VM writes as we copy: the copy would be torn. */
	if (block_name_check("block", dst, e) == -1 ||
	    block_lock(u, src, &fd, e) == -1)
		return -1;
	if (block_rec_insert(u, dst, e) == -1)
		goto fail;
	block_path(u, src, spath, sizeof(spath));
	block_path(u, dst, dpath, sizeof(dpath));
	if (bb_block_clone(spath, dpath) == -1) {
		uerr_set(e, errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
		    "block '%s': clone to %s: %s", src, dpath,
		    strerror(errno));
		store_block_delete(u->store, dst);
		goto fail;
	}
	if (block_rec_done(u, dst, e) == -1) {
		unlink(dpath);
		store_block_delete(u->store, dst);
		goto fail;
	}
	close(fd);
	log_info("block=%s action=clone from=%s", dst, src);
	return block_get(u, dst, out, e);
fail:
	close(fd);
	return -1;
}

int
block_lock_vm(struct unikd *u, const struct vm *vm, int *fds,
    struct uerr *e)
{
	const char *name;
	char path[4096];
	uid_t uid;
	gid_t gid;
	size_t i;

	vm_uid_creds(vm, &uid, &gid);
	for (i = 0; i < vm->spec.nblocks; i++) {
		name = vm->spec.blocks[i].block;
		block_path(u, name, path, sizeof(path));
		if (bb_block_lock(path, &fds[i]) == 0) {
			/* The file (0600) is its tender's: Firecracker reopens
			 * it through /dev/fd/N, and no other VM's tender may. */
			if (fchown(fds[i], uid, gid) == 0)
				continue;
			uerr_set(e, UERR_INTERNAL, "vm '%s': block '%s': "
			    "chown: %s", vm->spec.name, name, strerror(errno));
			close(fds[i]);
		} else if (errno == EBUSY)
			block_busy(u, name, vm, e);
		else if (errno == ENOENT)
			uerr_set(e, UERR_UNPROCESSABLE,
			    "vm '%s': block '%s' does not exist",
			    vm->spec.name, name);
		else
			uerr_set(e, UERR_INTERNAL, "vm '%s': block '%s': %s",
			    vm->spec.name, name, strerror(errno));
		while (i > 0)
			close(fds[--i]);
		return -1;
	}
	return 0;
}
