/*
 * Networks and leases in the state store: one row per network (its
 * definition as JSON) and one per leased address. Every query is a
 * string literal, prepared once by store.c and cached.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "store-net.h"
#include "store.h"

int
store_net_insert(struct store *s, const struct store_net_row *r)
{
	return store_exec(s,
	           "INSERT INTO networks (name, spec, phase, ifindex, mac, "
	           "found) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	           "tttitt", r->name, r->spec, r->phase, r->ifindex, r->mac,
	           r->found) == -1
	           ? -1
	           : 0;
}

int
store_net_update(struct store *s, const char *name, const char *phase,
    int64_t ifindex, const char *mac)
{
	return store_exec(s,
	           "UPDATE networks SET phase = ?2, ifindex = ?3, mac = ?4 "
	           "WHERE name = ?1",
	           "ttit", name, phase, ifindex, mac) == -1
	           ? -1
	           : 0;
}

int
store_net_delete(struct store *s, const char *name)
{
	int saved;

	if (store_begin(s) == -1)
		return -1;
	if (store_exec(s, "DELETE FROM leases WHERE network = ?1", "t", name) ==
	        -1 ||
	    store_exec(s, "DELETE FROM networks WHERE name = ?1", "t", name) ==
	        -1)
		goto fail;
	return store_commit(s);
fail:
	saved = errno;
	store_rollback(s);
	errno = saved;
	return -1;
}

struct store_net_walk {
	int (*cb)(void *arg, const struct store_net_row *);
	void *arg;
};

static int
store_net_row(void *arg, struct store_row *row)
{
	struct store_net_walk *w = arg;
	struct store_net_row r = {
	    .name = store_row_text(row, 0),
	    .spec = store_row_text(row, 1),
	    .phase = store_row_text(row, 2),
	    .ifindex = store_row_int(row, 3),
	    .mac = store_row_text(row, 4),
	    .found = store_row_text(row, 5),
	};

	return w->cb(w->arg, &r);
}

int
store_net_foreach(struct store *s,
    int (*cb)(void *arg, const struct store_net_row *), void *arg)
{
	struct store_net_walk w = {cb, arg};

	return store_query(s,
	    "SELECT name, spec, phase, ifindex, mac, found FROM networks "
	    "ORDER BY name",
	    store_net_row, &w, "");
}

static int
store_net_forward_row(void *arg, struct store_row *row)
{
	*(int *)arg = (int)store_row_int(row, 0);
	return 1;
}

int
store_net_forward_get(struct store *s, int *value)
{
	*value = -1;
	return store_query(s,
	           "SELECT CAST(value AS INTEGER) FROM meta WHERE key = "
	           "'ip_forward_before'",
	           store_net_forward_row, value, "") == -1
	           ? -1
	           : 0;
}

int
store_net_forward_set(struct store *s, int value)
{
	return store_exec(s,
	           "INSERT OR REPLACE INTO meta (key, value) VALUES "
	           "('ip_forward_before', CAST(?1 AS TEXT))",
	           "i", (int64_t)value) == -1
	           ? -1
	           : 0;
}

int
store_net_forward_clear(struct store *s)
{
	return store_exec(s,
	           "DELETE FROM meta WHERE key = 'ip_forward_before'", "") == -1
	           ? -1
	           : 0;
}

int
store_lease_insert(struct store *s, const char *net, const char *ip,
    const char *vm, const char *nic)
{
	return store_exec(s,
	           "INSERT INTO leases (network, ip, vm, nic) VALUES (?1, ?2, "
	           "?3, ?4)",
	           "tttt", net, ip, vm, nic) == -1
	           ? -1
	           : 0;
}

int
store_lease_delete(struct store *s, const char *net, const char *ip)
{
	return store_exec(s,
	           "DELETE FROM leases WHERE network = ?1 AND ip = ?2", "tt",
	           net, ip) == -1
	           ? -1
	           : 0;
}

/* Copies up to two text columns of the first row into bufs. */
struct store_lease_cols {
	char *a;
	size_t alen;
	char *b;
	size_t blen;
	bool found;
};

static int
store_lease_copy(void *arg, struct store_row *row)
{
	struct store_lease_cols *c = arg;
	const char *t;

	t = store_row_text(row, 0);
	snprintf(c->a, c->alen, "%s", t != NULL ? t : "");
	if (c->b != NULL) {
		t = store_row_text(row, 1);
		snprintf(c->b, c->blen, "%s", t != NULL ? t : "");
	}
	c->found = true;
	return 1;
}

static int
store_lease_found(int rc, const struct store_lease_cols *c)
{
	if (rc == -1)
		return -1;
	if (!c->found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
store_lease_find(struct store *s, const char *net, const char *vm,
    const char *nic, char *ip, size_t iplen)
{
	struct store_lease_cols c = {ip, iplen, NULL, 0, false};
	int rc;

	rc = store_query(s,
	    "SELECT ip FROM leases WHERE network = ?1 AND vm = ?2 AND nic = ?3",
	    store_lease_copy, &c, "ttt", net, vm, nic);
	return store_lease_found(rc, &c);
}

int
store_lease_holder(struct store *s, const char *net, const char *ip, char *vm,
    size_t vmlen, char *nic, size_t niclen)
{
	struct store_lease_cols c = {vm, vmlen, nic, niclen, false};
	int rc;

	rc = store_query(s,
	    "SELECT vm, nic FROM leases WHERE network = ?1 AND ip = ?2",
	    store_lease_copy, &c, "tt", net, ip);
	return store_lease_found(rc, &c);
}

struct store_lease_walk {
	int (*cb)(void *arg, const char *a, const char *b, const char *c);
	void *arg;
};

static int
store_lease_row(void *arg, struct store_row *row)
{
	struct store_lease_walk *w = arg;

	return w->cb(w->arg, store_row_text(row, 0), store_row_text(row, 1),
	    store_row_text(row, 2));
}

int
store_lease_foreach_net(struct store *s, const char *net,
    int (*cb)(void *arg, const char *ip, const char *vm, const char *nic),
    void *arg)
{
	struct store_lease_walk w = {cb, arg};

	return store_query(s,
	    "SELECT ip, vm, nic FROM leases WHERE network = ?1 ORDER BY ip",
	    store_lease_row, &w, "t", net);
}

int
store_lease_foreach_vm(struct store *s, const char *vm,
    int (*cb)(void *arg, const char *net, const char *ip, const char *nic),
    void *arg)
{
	struct store_lease_walk w = {cb, arg};

	return store_query(s,
	    "SELECT network, ip, nic FROM leases WHERE vm = ?1",
	    store_lease_row, &w, "t", vm);
}

int
store_lease_delete_vm(struct store *s, const char *vm)
{
	return store_exec(s, "DELETE FROM leases WHERE vm = ?1", "t", vm) == -1
	           ? -1
	           : 0;
}
