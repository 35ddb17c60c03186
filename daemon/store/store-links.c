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

	return store_query(s,
	    "SELECT tap, vm, nic FROM links WHERE netns IS NULL ORDER BY rowid",
	    store_link_row, &w, "");
}

int
store_link_ns_insert(struct store *s, const struct store_link_ns *l,
    int64_t created_at)
{
	return store_exec(s,
	    "INSERT INTO links (tap, vm, nic, created_at, netns, netns_dev, "
	    "netns_ino, peer) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    "tttitiit", l->tap, l->vm, l->nic, created_at, l->netns,
	    (int64_t)l->dev, (int64_t)l->ino, l->peer) == -1 ? -1 : 0;
}

struct store_link_ns_walk {
	int (*cb)(void *arg, const struct store_link_ns *l);
	void *arg;
};

static int
store_link_ns_row(void *arg, struct store_row *row)
{
	struct store_link_ns_walk *w = arg;
	struct store_link_ns l = {
		.tap = store_row_text(row, 0),
		.vm = store_row_text(row, 1),
		.nic = store_row_text(row, 2),
		.netns = store_row_text(row, 3),
		.dev = (uint64_t)store_row_int(row, 4),
		.ino = (uint64_t)store_row_int(row, 5),
		.peer = store_row_text(row, 6),
	};

	if (l.peer == NULL)
		l.peer = "";
	return w->cb(w->arg, &l);
}

int
store_link_ns_foreach(struct store *s,
    int (*cb)(void *arg, const struct store_link_ns *l), void *arg)
{
	struct store_link_ns_walk w = {cb, arg};

	return store_query(s,
	    "SELECT tap, vm, nic, netns, netns_dev, netns_ino, peer FROM links "
	    "WHERE netns IS NOT NULL ORDER BY rowid",
	    store_link_ns_row, &w, "");
}

int
store_link_ns_get(struct store *s, const char *tap,
    int (*cb)(void *arg, const struct store_link_ns *l), void *arg)
{
	struct store_link_ns_walk w = {cb, arg};

	return store_query(s,
	    "SELECT tap, vm, nic, netns, netns_dev, netns_ino, peer FROM links "
	    "WHERE tap = ?1 AND netns IS NOT NULL",
	    store_link_ns_row, &w, "t", tap);
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
