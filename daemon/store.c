/*
 * The state store: one SQLite database in WAL mode. On open the file is
 * checked (a file that is not a database, or is corrupt, is refused and
 * left as it is), then migrated step by step to STORE_SCHEMA_VERSION, one
 * transaction per step. Statements are prepared once at open. SQLite's
 * result codes are turned into errno here and go no further.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"

#define STORE_BUSY_TIMEOUT_MS 5000

/* migrations[i] takes a database from schema version i to i + 1. */
static const char *const store_migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE vms (name TEXT PRIMARY KEY, spec TEXT NOT NULL,"
    " state TEXT NOT NULL, pid INTEGER, monitor_pid INTEGER,"
    " exit_status INTEGER, exit_reason TEXT,"
    " restarts INTEGER NOT NULL DEFAULT 0, created_at INTEGER,"
    " started_at INTEGER, finished_at INTEGER);"
    "CREATE TABLE vm_nics (vm TEXT NOT NULL REFERENCES vms(name)"
    " ON DELETE CASCADE, name TEXT NOT NULL, network TEXT, mac TEXT,"
    " ip TEXT, tap TEXT, PRIMARY KEY (vm, name));"
    "CREATE TABLE vm_blocks (vm TEXT NOT NULL REFERENCES vms(name)"
    " ON DELETE CASCADE, name TEXT NOT NULL, block TEXT NOT NULL,"
    " PRIMARY KEY (vm, name));"
    "CREATE TABLE networks (name TEXT PRIMARY KEY, spec TEXT NOT NULL);"
    "CREATE TABLE leases (network TEXT NOT NULL, ip TEXT NOT NULL,"
    " vm TEXT, nic TEXT, PRIMARY KEY (network, ip));"
    /* The TAP ledger outlives its VM: GC deletes the link, then the row. */
    "CREATE TABLE links (tap TEXT PRIMARY KEY, vm TEXT NOT NULL,"
    " nic TEXT NOT NULL, created_at INTEGER);"
    "CREATE TABLE blocks (name TEXT PRIMARY KEY, spec TEXT NOT NULL);"
    "CREATE TABLE images (name TEXT PRIMARY KEY, digest TEXT,"
    " size INTEGER);"
    "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time_ms INTEGER NOT NULL, type TEXT NOT NULL, vm TEXT, data TEXT);"
    "CREATE INDEX events_vm ON events (vm, seq);",
    /* 2: a VM's leases found without scanning a network's (network.c). */
    "CREATE INDEX leases_vm ON leases (vm, nic);",
};

enum store_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_VM_INSERT,
	ST_VM_SPEC,
	ST_VM_RUNTIME,
	ST_VM_DELETE,
	ST_VM_LIST,
	ST_VM_COUNT,
	ST_EV_ADD,
	ST_EV_LIST,
	ST_EV_LIST_VM,
	ST_EV_PRUNE,
	ST_EV_LAST,
	ST_COUNT
};

#define VM_RT_COLS                                                             \
	"state, pid, monitor_pid, exit_status, exit_reason,"                   \
	" restarts, created_at, started_at, finished_at"

static const char *const store_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_VM_INSERT] = "INSERT INTO vms (name, spec, " VM_RT_COLS ")"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_VM_SPEC] = "UPDATE vms SET spec = ?2 WHERE name = ?1",
    [ST_VM_RUNTIME] = "UPDATE vms SET state = ?3, pid = ?4,"
                      " monitor_pid = ?5, exit_status = ?6, exit_reason = ?7,"
                      " restarts = ?8, created_at = ?9, started_at = ?10,"
                      " finished_at = ?11 WHERE name = ?1",
    [ST_VM_DELETE] = "DELETE FROM vms WHERE name = ?1",
    [ST_VM_LIST] = "SELECT name, spec, " VM_RT_COLS " FROM vms ORDER BY name",
    [ST_VM_COUNT] = "SELECT count(*) FROM vms",
    [ST_EV_ADD] = "INSERT INTO events (time_ms, type, vm, data)"
                  " VALUES (?1, ?2, ?3, ?4)",
    /* A negative LIMIT is no limit. */
    [ST_EV_LIST] = "SELECT seq, time_ms, type, vm, data FROM events"
                   " WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_EV_LIST_VM] = "SELECT seq, time_ms, type, vm, data FROM events"
                      " WHERE seq > ?1 AND vm = ?3 ORDER BY seq LIMIT ?2",
    [ST_EV_PRUNE] = "DELETE FROM events WHERE seq <= (SELECT seq FROM"
                    " events ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
    /* The highest seq ever given, even when those events were pruned. */
    [ST_EV_LAST] = "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
};

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
	sqlite3_stmt *stmt[ST_COUNT];
	struct store_cached cache[STORE_CACHE_SIZE];
	char errmsg[512];
};

static void __attribute__((format(printf, 3, 4)))
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Keeps SQLite's message; ENOENT/EEXIST/EIO as the header says. */
static int
store_fail(struct store *s, int rc)
{
	int ext = sqlite3_extended_errcode(s->db);

	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    rc == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    ext == SQLITE_CONSTRAINT_UNIQUE)
		errno = EEXIST;
	else
		errno = EIO;
	return -1;
}

static int
store_fail_errno(struct store *s, int errnum, const char *msg)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg);
	errno = errnum;
	return -1;
}

/* Steps a write statement to its end and resets it. */
static int
store_step_done(struct store *s, sqlite3_stmt *st)
{
	int rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		store_fail(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Runs one cached statement with no parameters and no rows. */
static int
store_run(struct store *s, enum store_stmt which)
{
	return store_step_done(s, s->stmt[which]);
}

/* Opens a transaction unless the caller already has one. */
static int
store_tx_open(struct store *s, int *own)
{
	*own = sqlite3_get_autocommit(s->db);
	if (!*own)
		return 0;
	return store_run(s, ST_BEGIN);
}

/* Ends a transaction store_tx_open opened: commits when rc is 0, else
 * (or when the commit fails) rolls back, keeping the first error. */
static int
store_tx_close(struct store *s, int own, int rc)
{
	char msg[sizeof(s->errmsg)];
	int saved;

	if (!own)
		return rc;
	if (rc == 0 && store_run(s, ST_COMMIT) == 0)
		return 0;
	saved = errno;
	memcpy(msg, s->errmsg, sizeof(msg));
	if (!sqlite3_get_autocommit(s->db) && store_run(s, ST_ROLLBACK) == -1)
		log_warnx("store=%s action=rollback error=\"%s\"", s->path,
		    s->errmsg);
	memcpy(s->errmsg, msg, sizeof(msg));
	errno = saved;
	return -1;
}

static int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Binds v, or NULL when v is the "none" value. */
static int
store_bind_opt(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
	if (v == none)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, v);
}

static int64_t
store_column_opt(sqlite3_stmt *st, int i, int64_t none)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return none;
	return sqlite3_column_int64(st, i);
}

static const char *
store_column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Binds a runtime as parameters 3..11 (VM_RT_COLS). */
static int
store_bind_runtime(sqlite3_stmt *st, const struct store_vm_runtime *rt)
{
	int rc = 0;

	rc |= store_bind_text(st, 3, rt->state);
	rc |= store_bind_opt(st, 4, rt->pid, 0);
	rc |= store_bind_opt(st, 5, rt->monitor_pid, 0);
	rc |= store_bind_opt(st, 6, rt->exit_status, -1);
	rc |= store_bind_text(st, 7, rt->exit_reason);
	rc |= sqlite3_bind_int64(st, 8, rt->restarts);
	rc |= sqlite3_bind_int64(st, 9, rt->created_at);
	rc |= store_bind_opt(st, 10, rt->started_at, 0);
	rc |= store_bind_opt(st, 11, rt->finished_at, 0);
	return rc;
}

/* Reads VM_RT_COLS starting at column first. */
static void
store_column_runtime(sqlite3_stmt *st, int first, struct store_vm_runtime *rt)
{
	rt->state = store_column_text(st, first);
	rt->pid = store_column_opt(st, first + 1, 0);
	rt->monitor_pid = store_column_opt(st, first + 2, 0);
	rt->exit_status = (int)store_column_opt(st, first + 3, -1);
	rt->exit_reason = store_column_text(st, first + 4);
	rt->restarts = store_column_opt(st, first + 5, 0);
	rt->created_at = store_column_opt(st, first + 6, 0);
	rt->started_at = store_column_opt(st, first + 7, 0);
	rt->finished_at = store_column_opt(st, first + 8, 0);
}

/* Runs a one-row, one-column query; *out is 0 when there is no row. */
static int
store_query_int(struct store *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		store_fail(s, rc);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Checks the file is a readable, sound SQLite database. */
static int
store_check_file(struct store *s, char *err, size_t errlen)
{
	const char *res = NULL;
	sqlite3_stmt *st = NULL;
	char line[256], *p;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		res = store_column_text(st, 0);
	if (res != NULL && strcmp(res, "ok") == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	if (res != NULL) {
		/* quick_check's report spans lines; keep the message on one. */
		snprintf(line, sizeof(line), "%s", res);
		for (p = line; (p = strchr(p, '\n')) != NULL; p++)
			*p = ' ';
		store_seterr(err, errlen,
		    "state store %s is corrupt (%s);"
		    " move it aside or restore a backup",
		    s->path, line);
	} else if ((rc & 0xff) == SQLITE_NOTADB)
		store_seterr(err, errlen,
		    "state store %s is not a SQLite"
		    " database (%s); move it aside or restore a backup",
		    s->path, sqlite3_errmsg(s->db));
	else if ((rc & 0xff) == SQLITE_CORRUPT)
		store_seterr(err, errlen,
		    "state store %s is corrupt (%s);"
		    " move it aside or restore a backup",
		    s->path, sqlite3_errmsg(s->db));
	else
		store_seterr(err, errlen, "cannot read state store %s: %s",
		    s->path, sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return -1;
}

/* The schema version; 0 for an empty database, -1 for someone else's. */
static int
store_read_version(struct store *s, int64_t *version)
{
	int64_t n;

	if (store_query_int(s,
	        "SELECT count(*) FROM sqlite_master WHERE"
	        " type = 'table' AND name = 'meta'",
	        &n) == -1)
		return -1;
	if (n == 1)
		return store_query_int(s,
		    "SELECT CAST(value AS INTEGER) FROM"
		    " meta WHERE key = 'schema_version'",
		    version);
	if (store_query_int(s, "SELECT count(*) FROM sqlite_master", &n) == -1)
		return -1;
	*version = n == 0 ? 0 : -1;
	return 0;
}

/* Refuses a database this build cannot use, before anything writes. */
static int
store_check_version(struct store *s, int64_t version, char *err, size_t errlen)
{
	if (version < 0)
		store_seterr(err, errlen,
		    "state store %s is a SQLite database"
		    " but not unikd's (no schema version); move it aside",
		    s->path);
	else if (version > STORE_SCHEMA_VERSION)
		store_seterr(err, errlen,
		    "state store %s has schema version"
		    " %lld, newer than this unikd knows (%d); run a newer unikd"
		    " or restore a backup",
		    s->path, (long long)version, STORE_SCHEMA_VERSION);
	else
		return 0;
	errno = EIO;
	return -1;
}

/* Applies one migration step from version v, in its own transaction. */
static int
store_migrate_step(struct store *s, int64_t v)
{
	char sql[128];

	if (sqlite3_exec(s->db, store_migrations[v], NULL, NULL, NULL) !=
	    SQLITE_OK)
		return store_fail(s, SQLITE_ERROR);
	snprintf(sql, sizeof(sql),
	    "INSERT OR REPLACE INTO meta (key, value)"
	    " VALUES ('schema_version', '%lld')",
	    (long long)v + 1);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, SQLITE_ERROR);
	log_info("store=%s action=migrate from=%lld to=%lld", s->path,
	    (long long)v, (long long)v + 1);
	return 0;
}

/* Migrates to STORE_SCHEMA_VERSION; each step re-reads the version
 * inside its own write transaction. */
static int
store_migrate(struct store *s, char *err, size_t errlen)
{
	int64_t v;
	int rc;

	for (;;) {
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail;
		if (store_read_version(s, &v) == -1)
			goto fail;
		if (store_check_version(s, v, err, errlen) == -1) {
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (v == STORE_SCHEMA_VERSION)
			break;
		rc = store_migrate_step(s, v);
		if (rc == -1 || sqlite3_exec(s->db, "COMMIT", NULL, NULL,
		                    NULL) != SQLITE_OK)
			goto fail;
	}
	s->version = (int)v;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
fail:
	store_seterr(err, errlen, "cannot migrate state store %s: %s", s->path,
	    sqlite3_errmsg(s->db));
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	errno = EIO;
	return -1;
}

static int
store_pragmas(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *mode = NULL;

	if (sqlite3_prepare_v2(
	        s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		mode = store_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		store_seterr(err, errlen,
		    "cannot put state store %s in WAL"
		    " mode: %s",
		    s->path, mode != NULL ? mode : sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(s->db,
	        "PRAGMA synchronous=NORMAL;"
	        "PRAGMA foreign_keys=ON",
	        NULL, NULL, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "cannot set up state store %s: %s",
		    s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}

static int
store_prepare(struct store *s, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
		        NULL) != SQLITE_OK) {
			store_seterr(err, errlen,
			    "state store %s: cannot"
			    " prepare \"%s\": %s",
			    s->path, store_sql[i], sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

/* Opens the connection; a file we may not write is refused too. */
static int
store_connect(struct store *s, char *err, size_t errlen)
{
	int rc;

	rc = sqlite3_open_v2(s->path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		store_seterr(err, errlen, "cannot open state store %s: %s",
		    s->path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		store_seterr(err, errlen,
		    "state store %s is read-only; check"
		    " its owner and mode",
		    s->path);
		return -1;
	}
	return 0;
}

int
store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	struct store *s;
	struct stat sb;
	int64_t v;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		store_seterr(
		    err, errlen, "state store %s: out of memory", path);
		free(s);
		errno = ENOMEM;
		return -1;
	}
	errno = EIO;
	if (store_connect(s, err, errlen) == -1)
		goto fail;
	/* Read before anything writes: a bad file must stay as it was. */
	if (stat(path, &sb) == 0 && sb.st_size > 0 &&
	    store_check_file(s, err, errlen) == -1)
		goto fail;
	if (store_read_version(s, &v) == -1) {
		store_seterr(err, errlen, "cannot read state store %s: %s",
		    path, s->errmsg);
		goto fail;
	}
	if (store_check_version(s, v, err, errlen) == -1 ||
	    store_pragmas(s, err, errlen) == -1 ||
	    store_migrate(s, err, errlen) == -1 ||
	    store_prepare(s, err, errlen) == -1)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	errno = EIO;
	return -1;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (i = 0; i < STORE_CACHE_SIZE; i++)
		sqlite3_finalize(s->cache[i].stmt);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store=%s action=close error=\"%s\"", s->path,
		    sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

const char *
store_errmsg(struct store *s)
{
	if (s == NULL)
		return "no state store";
	return s->errmsg[0] != '\0' ? s->errmsg : "no error";
}

int
store_schema_version(struct store *s)
{
	return s->version;
}

int
store_begin(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EBUSY, "a transaction is open");
	return store_run(s, ST_BEGIN);
}

int
store_commit(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EINVAL, "no transaction is open");
	if (store_run(s, ST_COMMIT) == -1) {
		log_warnx(
		    "store=%s action=commit error=\"%s\"", s->path, s->errmsg);
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EINVAL, "no transaction is open");
	if (store_run(s, ST_ROLLBACK) == -1) {
		log_warnx("store=%s action=rollback error=\"%s\"", s->path,
		    s->errmsg);
		return -1;
	}
	return 0;
}

/* Runs a prepared write in a transaction; ENOENT when no row changed. */
static int
store_write(struct store *s, sqlite3_stmt *st, int need_row)
{
	int own, rc;

	if (store_tx_open(s, &own) == -1) {
		sqlite3_clear_bindings(st);
		return -1;
	}
	rc = store_step_done(s, st);
	if (rc == 0 && need_row && sqlite3_changes(s->db) == 0)
		rc = store_fail_errno(s, ENOENT, "no such row");
	return store_tx_close(s, own, rc);
}

int
store_vm_insert(struct store *s, const char *name, const char *spec,
    const struct store_vm_runtime *rt)
{
	sqlite3_stmt *st = s->stmt[ST_VM_INSERT];

	if (name == NULL || spec == NULL || rt == NULL || rt->state == NULL)
		return store_fail_errno(
		    s, EINVAL, "missing name, spec or state");
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, spec);
	store_bind_runtime(st, rt);
	return store_write(s, st, 0);
}

int
store_vm_update_spec(struct store *s, const char *name, const char *spec)
{
	sqlite3_stmt *st = s->stmt[ST_VM_SPEC];

	if (name == NULL || spec == NULL)
		return store_fail_errno(s, EINVAL, "missing name or spec");
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, spec);
	return store_write(s, st, 1);
}

int
store_vm_update_runtime(
    struct store *s, const char *name, const struct store_vm_runtime *rt)
{
	sqlite3_stmt *st = s->stmt[ST_VM_RUNTIME];

	if (name == NULL || rt == NULL || rt->state == NULL)
		return store_fail_errno(s, EINVAL, "missing name or state");
	store_bind_text(st, 1, name);
	store_bind_runtime(st, rt);
	return store_write(s, st, 1);
}

int
store_vm_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st = s->stmt[ST_VM_DELETE];

	if (name == NULL)
		return store_fail_errno(s, EINVAL, "missing name");
	store_bind_text(st, 1, name);
	return store_write(s, st, 1);
}

int
store_vm_foreach(struct store *s, store_vm_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[ST_VM_LIST];
	struct store_vm_row row;
	int rc, ret = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.name = store_column_text(st, 0);
		row.spec = store_column_text(st, 1);
		store_column_runtime(st, 2, &row.rt);
		if ((ret = cb(arg, &row)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);
	return ret;
}

int
store_vm_count(struct store *s, int64_t *count)
{
	sqlite3_stmt *st = s->stmt[ST_VM_COUNT];
	int rc;

	*count = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		store_fail(s, rc);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int64_t
store_event_add(struct store *s, int64_t time_ms, const char *type,
    const char *vm, const char *data)
{
	sqlite3_stmt *st = s->stmt[ST_EV_ADD];
	int64_t seq;
	int own, rc;

	if (type == NULL)
		return store_fail_errno(s, EINVAL, "missing event type");
	if (store_tx_open(s, &own) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, time_ms);
	store_bind_text(st, 2, type);
	store_bind_text(st, 3, vm);
	store_bind_text(st, 4, data);
	rc = store_step_done(s, st);
	seq = sqlite3_last_insert_rowid(s->db);
	if (store_tx_close(s, own, rc) == -1)
		return -1;
	return seq;
}

int
store_event_foreach(struct store *s, int64_t since, const char *vm,
    int64_t limit, store_event_cb cb, void *arg)
{
	sqlite3_stmt *st = s->stmt[vm != NULL ? ST_EV_LIST_VM : ST_EV_LIST];
	struct store_event_row row;
	int rc, ret = 0;

	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
	if (vm != NULL)
		store_bind_text(st, 3, vm);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(st, 0);
		row.time_ms = sqlite3_column_int64(st, 1);
		row.type = store_column_text(st, 2);
		row.vm = store_column_text(st, 3);
		row.data = store_column_text(st, 4);
		if ((ret = cb(arg, &row)) != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int
store_event_prune(struct store *s, int64_t max_count)
{
	sqlite3_stmt *st = s->stmt[ST_EV_PRUNE];

	if (max_count < 0)
		return store_fail_errno(s, EINVAL, "negative event count");
	sqlite3_bind_int64(st, 1, max_count);
	return store_write(s, st, 0);
}

int64_t
store_event_last_seq(struct store *s)
{
	sqlite3_stmt *st = s->stmt[ST_EV_LAST];
	int64_t seq = 0;
	int rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		seq = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		seq = store_fail(s, rc);
	sqlite3_reset(st);
	return seq;
}

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
			rc = store_bind_text(st, i + 1, va_arg(ap, const char *));
		else
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	return rc;
}

int
store_exec(struct store *s, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	if ((st = store_cached_stmt(s, sql)) == NULL)
		return -1;
	va_start(ap, types);
	rc = store_bind_va(st, types, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return store_fail(s, rc);
	}
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

	if ((st = store_cached_stmt(s, sql)) == NULL)
		return -1;
	va_start(ap, types);
	rc = store_bind_va(st, types, ap);
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return store_fail(s, rc);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((ret = cb(arg, (struct store_row *)st)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_fail(s, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}
