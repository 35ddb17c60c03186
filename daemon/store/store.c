/*
 * The state store: one SQLite database in WAL mode. On open the file is
 * checked (a file that is not a database, or is corrupt, is refused and
 * left as it is), then migrated step by step to STORE_SCHEMA_VERSION, one
 * transaction per step. Statements are prepared once at open. SQLite's
 * result codes are turned into errno here and go no further. The tables
 * of VMs and events have their own files (store-vm.c, store-event.c);
 * store_exec/store_query for the other tables are in store-query.c.
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
#include "store-internal.h"

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
    /* 3: a pending restart and its crash streak outlive unikd (vm-run.c). */
    "ALTER TABLE vms ADD COLUMN restart_at INTEGER;"
    "ALTER TABLE vms ADD COLUMN streak INTEGER NOT NULL DEFAULT 0;",
    /* 4: a network's row is its intent, written before the host is
     * changed (phase), and who its bridge is (network-host.c). */
    "ALTER TABLE networks ADD COLUMN phase TEXT NOT NULL DEFAULT 'ready';"
    "ALTER TABLE networks ADD COLUMN ifindex INTEGER;"
    "ALTER TABLE networks ADD COLUMN mac TEXT;"
    "ALTER TABLE networks ADD COLUMN found TEXT;",
    /* 5: the tender's raw status beside the exit users read (vm-run.c). */
    "ALTER TABLE vms ADD COLUMN tender_status INTEGER;",
    /* 6: a TAP made in another network namespace: which one (its path
     * and nsfs identity) and the link it is joined to (vm-net-ns.c). */
    "ALTER TABLE links ADD COLUMN netns TEXT;"
    "ALTER TABLE links ADD COLUMN netns_dev INTEGER;"
    "ALTER TABLE links ADD COLUMN netns_ino INTEGER;"
    "ALTER TABLE links ADD COLUMN peer TEXT;",
    /* 7: the uid of its own a VM's tender runs as (vm-uid.c). */
    "ALTER TABLE vms ADD COLUMN uid INTEGER;",
};

static const char *const store_sql[ST_TX_STMTS] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT req",
    [ST_RELEASE] = "RELEASE req",
    [ST_ROLLBACK_TO] = "ROLLBACK TO req",
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
int
store_fail(struct store *s, int rc)
{
	int ext = sqlite3_extended_errcode(s->db);

	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	/* SQLITE_FULL, IOERR, NOMEM... may roll back the whole transaction:
	 * then every write of the group is gone, not only this one. */
	if (s->group_open && !s->group_lost && sqlite3_get_autocommit(s->db)) {
		s->group_lost = true;
		snprintf(s->lostmsg, sizeof(s->lostmsg), "%s", s->errmsg);
	}
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    rc == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    ext == SQLITE_CONSTRAINT_UNIQUE)
		errno = EEXIST;
	else
		errno = EIO;
	return -1;
}

int
store_fail_errno(struct store *s, int errnum, const char *msg)
{
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", msg);
	errno = errnum;
	return -1;
}

/* Steps a write statement to its end and resets it. */
int
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

/* Makes sure the group's transaction is open; tells group_cb when it
 * opens it. */
static int
store_group_join(struct store *s)
{
	if (s->failed || s->group_lost)
		return store_fail_errno(s, EIO, s->lostmsg);
	if (s->group_open)
		return 0;
	if (store_run(s, ST_BEGIN) == -1)
		return -1;
	s->group_open = true;
	s->group_cb(s->group_arg);
	return 0;
}

/* Opens a transaction unless the caller already has one. */
int
store_tx_open(struct store *s, int *own)
{
	if (s->group_cb != NULL) {
		*own = 0;
		return store_group_join(s);
	}
	*own = sqlite3_get_autocommit(s->db);
	if (!*own)
		return 0;
	return store_run(s, ST_BEGIN);
}

/* Ends a transaction store_tx_open opened: commits when rc is 0, else
 * (or when the commit fails) rolls back, keeping the first error. */
int
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

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

const char *
store_column_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
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
store_prepare_table(struct store *s, const char *const *sql,
    sqlite3_stmt **stmt, int n, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
		        SQLITE_PREPARE_PERSISTENT, &stmt[i],
		        NULL) != SQLITE_OK) {
			store_seterr(err, errlen,
			    "state store %s: cannot"
			    " prepare \"%s\": %s",
			    s->path, sql[i], sqlite3_errmsg(s->db));
			return -1;
		}
	}
	return 0;
}

static int
store_prepare(struct store *s, char *err, size_t errlen)
{
	if (store_prepare_table(
	        s, store_sql, s->stmt, ST_TX_STMTS, err, errlen) == -1 ||
	    store_prepare_table(
	        s, store_vm_sql, s->vm_stmt, ST_VM_STMTS, err, errlen) == -1 ||
	    store_prepare_table(s, store_event_sql, s->event_stmt, ST_EV_STMTS,
	        err, errlen) == -1)
		return -1;
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
	for (i = 0; i < ST_TX_STMTS; i++)
		sqlite3_finalize(s->stmt[i]);
	for (i = 0; i < ST_VM_STMTS; i++)
		sqlite3_finalize(s->vm_stmt[i]);
	for (i = 0; i < ST_EV_STMTS; i++)
		sqlite3_finalize(s->event_stmt[i]);
	for (i = 0; i < STORE_CACHE_SIZE; i++)
		sqlite3_finalize(s->cache[i].stmt);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store=%s action=close error=\"%s\"", s->path,
		    sqlite3_errmsg(s->db));
	free(s->path);
	free(s);
}

void
store_release_memory(struct store *s)
{
	if (s != NULL && s->db != NULL)
		sqlite3_db_release_memory(s->db);
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
	if (s->group_cb != NULL) {
		if (s->scope)
			return store_fail_errno(s, EBUSY,
			    "a transaction is open");
		if (store_group_join(s) == -1 ||
		    store_run(s, ST_SAVEPOINT) == -1)
			return -1;
		s->scope = true;
		return 0;
	}
	if (!sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EBUSY, "a transaction is open");
	return store_run(s, ST_BEGIN);
}

int
store_commit(struct store *s)
{
	if (s->group_cb != NULL) {
		if (!s->scope)
			return store_fail_errno(s, EINVAL,
			    "no transaction is open");
		if (s->group_lost)
			return store_fail_errno(s, EIO, s->lostmsg);
		if (store_run(s, ST_RELEASE) == -1)
			return -1;
		s->scope = false;	/* its rows wait for store_flush() */
		return 0;
	}
	if (sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EINVAL, "no transaction is open");
	if (store_run(s, ST_COMMIT) == -1) {
		log_warnx(
		    "store=%s action=commit error=\"%s\"", s->path, s->errmsg);
		return -1;
	}
	return 0;
}

/* Undoes the scope's rows only: the group keeps the others'. */
static int
store_rollback_scope(struct store *s)
{
	if (!s->scope)
		return store_fail_errno(s, EINVAL, "no transaction is open");
	s->scope = false;
	if (s->group_lost)	/* gone with the whole group */
		return 0;
	if (store_run(s, ST_ROLLBACK_TO) == -1 ||
	    store_run(s, ST_RELEASE) == -1) {
		log_warnx("store=%s action=rollback error=\"%s\"", s->path,
		    s->errmsg);
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *s)
{
	if (s->group_cb != NULL)
		return store_rollback_scope(s);
	if (sqlite3_get_autocommit(s->db))
		return store_fail_errno(s, EINVAL, "no transaction is open");
	if (store_run(s, ST_ROLLBACK) == -1) {
		log_warnx("store=%s action=rollback error=\"%s\"", s->path,
		    s->errmsg);
		return -1;
	}
	return 0;
}

void
store_group(struct store *s, void (*opened)(void *), void *arg)
{
	s->group_cb = opened;
	s->group_arg = arg;
}

bool
store_pending(struct store *s)
{
	return s->group_open;
}

/*
 * Commits the group. A failure (SQLITE_FULL or an I/O error, in WAL mode
 * at the COMMIT) loses every write of the group; the store then refuses
 * writes, since the caller's memory no longer matches the file.
 */
int
store_flush(struct store *s)
{
	char msg[sizeof(s->errmsg)];

	if (!s->group_open)
		return 0;
	if (s->scope)
		return store_fail_errno(s, EBUSY, "a transaction is open");
	s->group_open = false;
	if (!s->group_lost && store_run(s, ST_COMMIT) == 0)
		return 0;
	if (!s->group_lost)
		snprintf(s->lostmsg, sizeof(s->lostmsg), "%s", s->errmsg);
	memcpy(msg, s->lostmsg, sizeof(msg));
	if (!sqlite3_get_autocommit(s->db) && store_run(s, ST_ROLLBACK) == -1)
		log_warnx("store=%s action=rollback error=\"%s\"", s->path,
		    s->errmsg);
	s->group_lost = false;
	s->failed = true;
	snprintf(s->lostmsg, sizeof(s->lostmsg),
	    "a commit failed (%s); unikd restarts", msg);
	log_warnx("store=%s action=commit error=\"%s\"", s->path, msg);
	return store_fail_errno(s, EIO, msg);
}

/* Runs a prepared write in a transaction; ENOENT when no row changed. */
int
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
