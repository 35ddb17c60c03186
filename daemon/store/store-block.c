/*
 * The blocks table: one row per block, its name and a JSON object with
 * what the file cannot say (created_at, an import under way).
 */
#include "config.h"

#include "block.h"
#include "store.h"

struct store_block_walk {
	store_block_cb cb;
	void *arg;
};

static int
store_block_row(void *arg, struct store_row *row)
{
	struct store_block_walk *w = arg;

	return w->cb(w->arg, store_row_text(row, 0), store_row_text(row, 1));
}

int
store_block_insert(struct store *s, const char *name, const char *spec)
{
	return store_exec(s, "INSERT INTO blocks (name, spec) VALUES (?1, ?2)",
	    "tt", name, spec) == -1 ? -1 : 0;
}

int
store_block_update(struct store *s, const char *name, const char *spec)
{
	return store_exec(s, "UPDATE blocks SET spec = ?2 WHERE name = ?1",
	    "tt", name, spec) == -1 ? -1 : 0;
}

int
store_block_delete(struct store *s, const char *name)
{
	return store_exec(s, "DELETE FROM blocks WHERE name = ?1", "t",
	    name) == -1 ? -1 : 0;
}

int
store_block_get(struct store *s, const char *name, store_block_cb cb,
    void *arg)
{
	struct store_block_walk w = {cb, arg};

	return store_query(s, "SELECT name, spec FROM blocks WHERE name = ?1",
	    store_block_row, &w, "t", name);
}

int
store_block_foreach(struct store *s, store_block_cb cb, void *arg)
{
	struct store_block_walk w = {cb, arg};

	return store_query(s, "SELECT name, spec FROM blocks ORDER BY name",
	    store_block_row, &w, "");
}
