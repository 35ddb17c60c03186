/* What the store's files share (store.c, store-query.c, store-vm.c,
 * store-event.c); not for other modules. */
#ifndef UNIKD_STORE_INTERNAL_H
#define UNIKD_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* The statements prepared at open: store.c's transactions, and each
 * file's table of its own (store_vm_sql, store_event_sql). */
enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,	/* a request's scope in the group's transaction */
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_TX_STMTS
};

enum store_vm_stmt {
	ST_VM_INSERT,
	ST_VM_SPEC,
	ST_VM_RUNTIME,
	ST_VM_DELETE,
	ST_VM_LIST,
	ST_VM_COUNT,
	ST_VM_STMTS
};

enum store_event_stmt {
	ST_EV_ADD,
	ST_EV_LIST,
	ST_EV_LIST_VM,
	ST_EV_PRUNE,
	ST_EV_LAST,
	ST_EV_STMTS
};

extern const char *const store_vm_sql[ST_VM_STMTS];
extern const char *const store_event_sql[ST_EV_STMTS];

#define STORE_CACHE_SIZE 128

/* Statements of store_exec()/store_query(), by the address of their SQL
 * text (a string literal in the caller), prepared on first use. */
struct store_cached {
	const char *sql;
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	char *path;
	int version;
	sqlite3_stmt *stmt[ST_TX_STMTS];
	sqlite3_stmt *vm_stmt[ST_VM_STMTS];
	sqlite3_stmt *event_stmt[ST_EV_STMTS];
	struct store_cached cache[STORE_CACHE_SIZE];
	char errmsg[512];

	/* Group commit (store_group()): writes join one transaction that
	 * store_flush() commits. */
	void (*group_cb)(void *);	/* told when the group opens */
	void *group_arg;
	bool group_open;	/* BEGIN done, COMMIT not yet */
	bool group_lost;	/* SQLite rolled the group back */
	bool failed;		/* a commit failed: no more writes */
	bool scope;		/* store_begin()'s savepoint is open */
	char lostmsg[512];	/* why the group was lost */
};

/* Keeps SQLite's message in s->errmsg; errno EEXIST for a duplicate key,
 * else EIO; returns -1. */
int store_fail(struct store *s, int rc);
/* Sets s->errmsg to msg and errno to errnum; returns -1. */
int store_fail_errno(struct store *s, int errnum, const char *msg);
/* Ends a read loop whose last sqlite3_step() gave rc and whose callback
 * gave ret: an error unless rc is a row or the end; resets st for reuse.
 * Returns ret, or -1 after store_fail(). */
int store_rows_done(struct store *s, sqlite3_stmt *st, int rc, int ret);
/* Steps a write statement to its end and resets it. */
int store_step_done(struct store *s, sqlite3_stmt *st);
/* Opens a transaction unless the caller already has one (*own = 0);
 * in group mode, joins (or opens) the group's and *own is 0: a single
 * statement that fails undoes only itself. */
int store_tx_open(struct store *s, int *own);
/* Ends a transaction store_tx_open opened: commits when rc is 0, else
 * (or when the commit fails) rolls back, keeping the first error. */
int store_tx_close(struct store *s, int own, int rc);
/* Runs a prepared write in a transaction; ENOENT when need_row and no
 * row changed. */
int store_write(struct store *s, sqlite3_stmt *st, int need_row);
/* Binds v as text, or NULL when v is NULL. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
const char *store_column_text(sqlite3_stmt *st, int i);

#endif
