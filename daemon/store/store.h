/*
 * The state store: one SQLite database in WAL mode under the state
 * directory, schema versioned and migrated on open. One table per kind of
 * object. Every write is in a transaction. SQLite's error codes stop here:
 * functions return 0 / -1 with errno set (ENOENT for a missing row, EEXIST
 * for a duplicate, EIO for anything else) and keep the last SQLite message
 * for store_errmsg().
 */
#ifndef UNIKD_STORE_H
#define UNIKD_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define STORE_SCHEMA_VERSION 7

struct store;

/* What unikd knows of a VM beyond its definition. */
struct store_vm_runtime {
	const char *state;	/* "created", "running", ... */
	int64_t pid;		/* tender pid, 0 when none */
	int64_t monitor_pid;	/* 0 when none */
	int exit_status;	/* -1 when none yet */
	int tender_status;	/* the tender's raw status; -1 when none */
	const char *exit_reason;/* NULL when none yet */
	int64_t restarts;
	int64_t created_at;	/* unix seconds */
	int64_t started_at;	/* 0 when never */
	int64_t finished_at;	/* 0 when never */
	int64_t restart_at;	/* unix ms of a pending restart, 0 when none */
	int64_t streak;		/* restarts in the current crash streak */
	int64_t uid;		/* the VM's own tender uid; 0 when none */
};

/* One row of the vms table as read back. Strings live until the callback returns. */
struct store_vm_row {
	const char *name;
	const char *spec;	/* the definition, JSON text */
	struct store_vm_runtime rt;
};

struct store_event_row {
	int64_t seq;
	int64_t time_ms;	/* unix milliseconds */
	const char *type;	/* "vm.running", ... */
	const char *vm;		/* NULL when not about a VM */
	const char *data;	/* JSON object text */
};

typedef int (*store_vm_cb)(void *arg, const struct store_vm_row *row);
typedef int (*store_event_cb)(void *arg, const struct store_event_row *row);

/*
 * Opens (creating if missing) the database at path, sets WAL mode, checks
 * it is a database unikd can use and migrates it to STORE_SCHEMA_VERSION.
 * A file that is not a database, is corrupt, or has a newer schema is an
 * error with a message in err; it is never replaced.
 */
int store_open(struct store **out, const char *path, char *err,
    size_t errlen);
void store_close(struct store *);
/* Drops the pages SQLite keeps cached; they are read again on use. */
void store_release_memory(struct store *);
const char *store_errmsg(struct store *);
int store_schema_version(struct store *);

/* Explicit transactions, for changes that span several calls. Calls
 * made outside one run in their own transaction. Nesting is an error.
 * In group mode they are a savepoint in the group's transaction:
 * store_commit() keeps the rows for store_flush(), store_rollback()
 * undoes only them. */
int store_begin(struct store *);
int store_commit(struct store *);
int store_rollback(struct store *);

/*
 * Group commit. Once store_group() is called, writes no longer commit
 * one by one: the first opens a transaction (BEGIN IMMEDIATE) and calls
 * opened(arg), and every write joins it until store_flush() commits it
 * (unikd does at the end of each turn of its event loop, and before a
 * change of the host that needs its intent on disk). store_pending()
 * is true while writes wait for a flush. A failed flush loses the whole
 * group, and every later write fails (EIO): the caller's memory no
 * longer matches the store.
 */
void store_group(struct store *, void (*opened)(void *arg), void *arg);
bool store_pending(struct store *);
int store_flush(struct store *);

/* VMs. vm_insert fails with EEXIST when the name is taken. */
int store_vm_insert(struct store *, const char *name, const char *spec,
    const struct store_vm_runtime *rt);
int store_vm_update_spec(struct store *, const char *name, const char *spec);
int store_vm_update_runtime(struct store *, const char *name,
    const struct store_vm_runtime *rt);
int store_vm_delete(struct store *, const char *name);
/* Calls cb for each VM, by name; a non-zero return from cb stops and is returned. */
int store_vm_foreach(struct store *, store_vm_cb cb, void *arg);
int store_vm_count(struct store *, int64_t *count);

/* Events: returns the new event's sequence number (> 0), or -1. */
int64_t store_event_add(struct store *, int64_t time_ms, const char *type,
    const char *vm, const char *data);
/* Events with seq > since, oldest first; vm filters when not NULL; at
 * most limit rows when limit > 0. */
int store_event_foreach(struct store *, int64_t since, const char *vm,
    int64_t limit, store_event_cb cb, void *arg);
/* Keeps the newest max_count events. */
int store_event_prune(struct store *, int64_t max_count);
int64_t store_event_last_seq(struct store *);

/*
 * Generic access for the other tables (networks, leases, links, blocks,
 * images, vm_nics, vm_blocks), so each kind of object keeps its queries
 * in a file of its own (store-KIND.c). sql must be a string literal: its
 * statement is prepared once and cached by its address. Parameters ?1..
 * are bound from the variadic arguments as types says: 't' const char *
 * (NULL binds NULL), 'i' int64_t (pass int64_t, not int).
 */
struct store_row;
typedef int (*store_row_cb)(void *arg, struct store_row *row);

/* A write in a transaction (its own unless one is open): the number of
 * rows changed, or -1 with errno (EEXIST on a duplicate key). */
int store_exec(struct store *, const char *sql, const char *types, ...);
/* Calls cb for each row; a non-zero return stops and is returned. */
int store_query(struct store *, const char *sql, store_row_cb cb, void *arg,
    const char *types, ...);
/* Columns of the current row, from 0; text lives until cb returns. */
const char *store_row_text(struct store_row *, int col);
int64_t store_row_int(struct store_row *, int col);
bool store_row_null(struct store_row *, int col);

#endif
