/*
 * The TAP ledger and the vm_nics table in the state store (see
 * store-links.h). Every query is a string literal, prepared once.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "store-links.h"
#include "store.h"

static int
store_link_id_row(void *arg, struct store_row *row)
{
	*(int64_t *)arg = store_row_int(row, 0);
	return 1;
}

int
store_link_next_id(struct store *s, uint64_t *id)
{
	int64_t v = 0;

	if (store_exec(s,
	    "INSERT INTO meta (key, value) VALUES ('next_tap_id', '1') "
	    "ON CONFLICT (key) DO UPDATE SET value = "
	    "CAST(CAST(value AS INTEGER) + 1 AS TEXT)", "") == -1)
		return -1;
	if (store_query(s,
	    "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'next_tap_id'",
	    store_link_id_row, &v, "") == -1)
		return -1;
	if (v <= 0) {
		errno = EIO;
		return -1;
	}
	*id = (uint64_t)v;
	return 0;
}

int
store_link_insert(struct store *s, const char *tap, const char *vm,
    const char *nic, int64_t created_at)
{
	return store_exec(s,
	    "INSERT INTO links (tap, vm, nic, created_at) "
	    "VALUES (?1, ?2, ?3, ?4)", "ttti", tap, vm, nic, created_at) == -1
	    ? -1 : 0;
}

int
store_link_delete(struct store *s, const char *tap)
{
	return store_exec(s, "DELETE FROM links WHERE tap = ?1", "t", tap) ==
	    -1 ? -1 : 0;
}

struct store_link_walk {
	int (*cb)(void *arg, const char *tap, const char *vm, const char *nic);
	void *arg;
};

static int
store_link_row(void *arg, struct store_row *row)
{
	struct store_link_walk *w = arg;

	return w->cb(w->arg, store_row_text(row, 0), store_row_text(row, 1),
	    store_row_text(row, 2));
}

int
store_link_foreach(struct store *s,
    int (*cb)(void *arg, const char *tap, const char *vm, const char *nic),
    void *arg)
{
	struct store_link_walk w = {cb, arg};

	return store_query(s, "SELECT tap, vm, nic FROM links ORDER BY rowid",
	    store_link_row, &w, "");
}

int
store_vm_nic_insert(struct store *s, const char *vm, const char *nic,
    const char *network, const char *mac, const char *ip)
{
	return store_exec(s,
	    "INSERT OR REPLACE INTO vm_nics (vm, name, network, mac, ip) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", "ttttt", vm, nic, network, mac,
	    ip[0] != '\0' ? ip : NULL) == -1 ? -1 : 0;
}

int
store_vm_nic_delete_vm(struct store *s, const char *vm)
{
	return store_exec(s, "DELETE FROM vm_nics WHERE vm = ?1", "t", vm) ==
	    -1 ? -1 : 0;
}
