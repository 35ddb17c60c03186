/*
 * The images table: one row per image name, with the sha256 digest of
 * its bytes (the file state_dir/images/sha256/DIGEST) and its size.
 */
#include "config.h"

#include "image.h"
#include "store.h"

struct store_image_walk {
	store_image_cb cb;
	void *arg;
};

static int
store_image_row(void *arg, struct store_row *row)
{
	struct store_image_walk *w = arg;

	return w->cb(w->arg, store_row_text(row, 0), store_row_text(row, 1),
	    store_row_int(row, 2));
}

int
store_image_insert(struct store *s, const char *name, const char *digest,
    int64_t size)
{
	return store_exec(s,
	    "INSERT INTO images (name, digest, size) VALUES (?1, ?2, ?3)",
	    "tti", name, digest, size) == -1 ? -1 : 0;
}

int
store_image_delete(struct store *s, const char *name)
{
	return store_exec(s, "DELETE FROM images WHERE name = ?1", "t",
	    name) == -1 ? -1 : 0;
}

int
store_image_get(struct store *s, const char *name, store_image_cb cb,
    void *arg)
{
	struct store_image_walk w = {cb, arg};

	return store_query(s,
	    "SELECT name, digest, size FROM images WHERE name = ?1",
	    store_image_row, &w, "t", name);
}

int
store_image_foreach(struct store *s, store_image_cb cb, void *arg)
{
	struct store_image_walk w = {cb, arg};

	return store_query(s,
	    "SELECT name, digest, size FROM images ORDER BY name",
	    store_image_row, &w, "");
}

static int
store_image_count_row(void *arg, struct store_row *row)
{
	*(int64_t *)arg = store_row_int(row, 0);
	return 0;
}

int
store_image_digest_count(struct store *s, const char *digest,
    int64_t *count)
{
	*count = 0;
	return store_query(s, "SELECT count(*) FROM images WHERE digest = ?1",
	    store_image_count_row, count, "t", digest);
}
