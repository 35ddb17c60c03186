/*
 * What block.c and block-import.c share: the store's record of a block,
 * its path and lock, and the JSON a request answers with.
 */
#ifndef UNIKD_BLOCK_INTERNAL_H
#define UNIKD_BLOCK_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct uerr;
struct unikd;

/* The store's record of one block. */
struct block_rec {
	bool found;
	json_t *spec;	/* {"created_at", "import"?} */
};

void block_path(struct unikd *, const char *name, char *buf, size_t len);
/* Reads the record of name: 404 when there is none. */
int block_rec_load(struct unikd *, const char *name, struct block_rec *r,
    struct uerr *e);
int block_rec_save(struct unikd *, const char *name, const json_t *spec,
    struct uerr *e);
/* Takes the block's lock for a change made by unikd itself. */
int block_lock(struct unikd *, const char *name, int *fd, struct uerr *e);
/* *out: the block as GET /v1/blocks/NAME shows it. */
int block_reply(struct unikd *, const char *name, const json_t *spec,
    json_t **out, struct uerr *e);

#endif
