/*
 * The store's generic statements (store_exec, store_query in store.h),
 * for the tables of store-KIND.c files: each SQL literal is prepared on
 * first use and kept in a small cache keyed by its address.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store-internal.h"

/* The cached statement for sql, prepared on first use: O(1) on average,
 * the slot found by the literal's address. */
static sqlite3_stmt *
store_cached_stmt(struct store *s, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) % STORE_CACHE_SIZE, i, slot;
	struct store_cached *c;

	for (i = 0; i < STORE_CACHE_SIZE; i++) {
		slot = (h + i) % STORE_CACHE_SIZE;
		c = &s->cache[slot];
		if (c->sql == sql)
			return c->stmt;
		if (c->sql == NULL)
			break;
	}
	if (i == STORE_CACHE_SIZE) {
		store_fail_errno(s, ENOSPC, "statement cache full");
		return NULL;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &c->stmt, NULL) != SQLITE_OK) {
		store_fail(s, SQLITE_ERROR);
		c->stmt = NULL;
		return NULL;
	}
	c->sql = sql;
	return c->stmt;
}

/* Binds ?1.. from ap as types says: 't' text (NULL binds NULL), 'i'
 * int64_t. */
static int
store_bind_va(sqlite3_stmt *st, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 0; types[i] != '\0' && rc == SQLITE_OK; i++) {
		if (types[i] == 't')
			rc = store_bind_text(
			    st, i + 1, va_arg(ap, const char *));
		else
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	return rc;
}

/* The cached statement for sql with ?1.. bound from ap; NULL with errno
 * on failure. */
static sqlite3_stmt *
store_stmt_bound(
    struct store *s, const char *sql, const char *types, va_list ap)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_cached_stmt(s, sql)) == NULL)
		return NULL;
	rc = store_bind_va(st, types, ap);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		store_fail(s, rc);
		return NULL;
	}
	return st;
}

int
store_exec(struct store *s, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, types);
	st = store_stmt_bound(s, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	if (store_write(s, st, 0) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

const char *
store_row_text(struct store_row *r, int col)
{
	return store_column_text((sqlite3_stmt *)r, col);
}

int64_t
store_row_int(struct store_row *r, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)r, col);
}

bool
store_row_null(struct store_row *r, int col)
{
	return sqlite3_column_type((sqlite3_stmt *)r, col) == SQLITE_NULL;
}

int
store_query(struct store *s, const char *sql, store_row_cb cb, void *arg,
    const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, ret = 0;

	va_start(ap, types);
	st = store_stmt_bound(s, sql, types, ap);
	va_end(ap);
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = cb(arg, (struct store_row *)st)) != 0)
			break;
	return store_rows_done(s, st, rc, ret);
}

int
store_rows_done(struct store *s, sqlite3_stmt *st, int rc, int ret)
{
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
