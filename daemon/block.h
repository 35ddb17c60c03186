/*
 * Blocks: the block files VMs store data on, state_dir/blocks/NAME.img
 * (sparse, a whole number of 512-byte sectors, owned by the tender user,
 * mode 0600), their records in the store, and the policy around them:
 * which VM holds which block, what may change while a VM runs (nothing),
 * and ranged import and export. The file work is blockbackend/'s.
 *
 * A block is attached to a VM while that VM's tender holds an OFD lock on
 * it: vm-run.c takes the lock at start (block_lock_vm) and hands the
 * locked fd to the tender, so the lock ends with the tender, whoever
 * kills it, and survives a restart of unikd.
 */
#ifndef UNIKD_BLOCK_H
#define UNIKD_BLOCK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct unikd;
struct uerr;
struct vm;

/* --- the input rules, pure (block-input.c) --- */

/* The size of a create or resize: a string ("512M", "1G", "4096") or an
 * integer of bytes, a whole number of 512-byte sectors, at most max.
 * 400 for a malformed one, 422 over max. */
int block_size_from_json(const json_t *v, uint64_t max, uint64_t *out,
    struct uerr *e);
/* Block and image names follow the VM name rule; 400 naming what. */
int block_name_check(const char *what, const char *name, struct uerr *e);
/* "bytes START-END/TOTAL" (END inclusive, TOTAL may be "*": 0): 0, or
 * -1 when malformed. */
int block_content_range_parse(const char *s, uint64_t *start, uint64_t *end,
    uint64_t *total);

/* --- blocks (block.c) --- */

/* Each returns 0 and a JSON object in *out (the block as GET shows it),
 * or -1 with e filled; a refused request changes nothing on disk. */
/* At start: undoes the blocks whose creation a crash cut short (their
 * record still says "creating"): the file and the record go. */
void block_recover(struct unikd *);
int block_create(struct unikd *, const char *name, uint64_t size,
    json_t **out, struct uerr *e);
int block_get(struct unikd *, const char *name, json_t **out, struct uerr *e);
int block_list(struct unikd *, json_t **out, struct uerr *e);
int block_remove(struct unikd *, const char *name, struct uerr *e);
int block_resize(struct unikd *, const char *name, uint64_t size, bool force,
    json_t **out, struct uerr *e);
int block_clone(struct unikd *, const char *src, const char *dst,
    json_t **out, struct uerr *e);

/*
 * Writes len bytes at offset (one piece of an import). total, when not 0,
 * is the size of the whole import: the piece that ends it gets "sha256"
 * of bytes [0, total) in *out. Between pieces "import": {"next_offset"}
 * is kept in the store, so a client cut off resumes there.
 */
int block_import(struct unikd *, const char *name, uint64_t offset,
    uint64_t total, const void *buf, size_t len, json_t **out,
    struct uerr *e);
/*
 * An export of up to len bytes at offset: *fd is the block, open and
 * locked (the lock goes when it is closed, so a VM cannot start and
 * write while the bytes are sent), and *n how many to send from offset:
 * 0 at the end. An offset past the end is a 416.
 */
int block_export(struct unikd *, const char *name, uint64_t offset,
    uint64_t len, int *fd, uint64_t *n, struct uerr *e);

/*
 * Locks every block of vm's definition, in order, into fds[i] (open
 * O_RDWR). A block another VM holds: 409 naming it; nothing stays
 * locked on failure.
 */
int block_lock_vm(struct unikd *, const struct vm *vm, int *fds,
    struct uerr *e);
/* The active VM whose definition uses block, or NULL. */
const struct vm *block_holder(struct unikd *, const char *block);

/* --- the store (store-block.c): rows of the blocks table --- */

struct store;
typedef int (*store_block_cb)(void *arg, const char *name, const char *spec);

int store_block_insert(struct store *, const char *name, const char *spec);
int store_block_update(struct store *, const char *name, const char *spec);
int store_block_delete(struct store *, const char *name);
/* Calls cb with the row of name (1 row) or of every block, by name. */
int store_block_get(struct store *, const char *name, store_block_cb cb,
    void *arg);
int store_block_foreach(struct store *, store_block_cb cb, void *arg);

#endif
