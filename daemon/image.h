/*
 * Images: unikernel images pushed by name (PUT /v1/images/NAME), stored
 * once by content under state_dir/images/sha256/DIGEST (blockbackend/),
 * with a link state_dir/images/names/NAME -> ../sha256/DIGEST through
 * which a VM definition's "image": NAME is resolved (vmspec.c) and a row
 * (name, digest, size) in the store. The directories and files are world
 * readable: the tender, running as the tender user, opens the image.
 */
#ifndef UNIKD_IMAGE_H
#define UNIKD_IMAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct unikd;
struct uerr;
struct store;

/* Stores len bytes as image name: 201 (*status) for a new image, 200
 * when name already holds these very bytes; 409 when it holds others. */
int image_push(struct unikd *, const char *name, const void *buf, size_t len,
    int *status, json_t **out, struct uerr *e);
int image_get(struct unikd *, const char *name, json_t **out, struct uerr *e);
int image_list(struct unikd *, json_t **out, struct uerr *e);
/* 409 while a VM definition uses the image; the file goes with the
 * last name that points to its digest. */
int image_remove(struct unikd *, const char *name, struct uerr *e);

/* At start, after the VM definitions are loaded: what a push cut short
 * left is removed (temporary files, a stored file no row names and no
 * definition uses), and a recorded image whose name link is missing is
 * linked. */
void image_recover(struct unikd *);

/* --- the store (store-image.c): rows of the images table --- */

typedef int (*store_image_cb)(void *arg, const char *name,
    const char *digest, int64_t size);

int store_image_insert(struct store *, const char *name, const char *digest,
    int64_t size);
int store_image_delete(struct store *, const char *name);
int store_image_get(struct store *, const char *name, store_image_cb cb,
    void *arg);
int store_image_foreach(struct store *, store_image_cb cb, void *arg);
/* How many names point to digest. */
int store_image_digest_count(struct store *, const char *digest,
    int64_t *count);

#endif
