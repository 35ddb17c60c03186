/*
 * Unit tests of the state store, against real SQLite files in a fresh
 * temporary directory per test (the fixture: store-fixture.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store-fixture.h"
#include "store-internal.h"

static void
test_open_creates_wal(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	char want[16];

	open_ok(f);
	assert_int_equal(store_schema_version(f->store), STORE_SCHEMA_VERSION);
	assert_int_equal(store_vm_insert(f->store, "web1", "{}", &rt), 0);
	assert_true(file_exists(f->dir, "unikd.db-wal"));
	assert_peek(f->path, "PRAGMA journal_mode", "wal");
	snprintf(want, sizeof(want), "%d", STORE_SCHEMA_VERSION);
	assert_peek(f->path,
	    "SELECT value FROM meta WHERE"
	    " key = 'schema_version'",
	    want);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	struct vm_seen seen = {0};

	open_ok(f);
	assert_int_equal(
	    store_vm_insert(f->store, "web1", "{\"a\":1}", &rt), 0);
	assert_int_equal(
	    store_event_add(f->store, 5, "vm.created", "web1", "{}"), 1);
	reopen(f);
	assert_int_equal(store_schema_version(f->store), STORE_SCHEMA_VERSION);
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "web1");
	assert_int_equal(store_event_last_seq(f->store), 1);
}

static void
test_vm_crud(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	int64_t n;

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	errno = 0;
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_vm_update_spec(f->store, "a", "{\"v\":2}"), 0);
	assert_peek(
	    f->path, "SELECT spec FROM vms WHERE name = 'a'", "{\"v\":2}");
	rt.state = "running";
	assert_int_equal(store_vm_update_runtime(f->store, "a", &rt), 0);
	assert_peek(
	    f->path, "SELECT state FROM vms WHERE name = 'a'", "running");
	errno = 0;
	assert_int_equal(store_vm_update_spec(f->store, "zz", "{}"), -1);
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_int_equal(store_vm_update_runtime(f->store, "zz", &rt), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_vm_count(f->store, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_vm_delete(f->store, "a"), 0);
	errno = 0;
	assert_int_equal(store_vm_delete(f->store, "a"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(store_vm_count(f->store, &n), 0);
	assert_int_equal(n, 0);
	/* The name is free again. */
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
}

static void
test_vm_foreach_order_and_stop(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	struct vm_seen seen = {0};

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "c", "{}", &rt), 0);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	assert_int_equal(store_vm_insert(f->store, "b", "{}", &rt), 0);
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.names[0], "a");
	assert_string_equal(seen.names[1], "b");
	assert_string_equal(seen.names[2], "c");
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 2;
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 7);
	assert_int_equal(seen.n, 2);
	/* A stopped walk leaves the next one whole. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.n, 3);
}

/* A walk may write: loading VMs marks some of them as it goes. */
static int
mark_failed(void *arg, const struct store_vm_row *row)
{
	struct store *s = arg;
	struct store_vm_runtime rt = row->rt;

	rt.state = "failed";
	return store_vm_update_runtime(s, row->name, &rt);
}

static void
test_vm_foreach_may_write(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	assert_int_equal(store_vm_insert(f->store, "b", "{}", &rt), 0);
	assert_int_equal(store_vm_foreach(f->store, mark_failed, f->store), 0);
	assert_peek(
	    f->path, "SELECT group_concat(state) FROM vms", "failed,failed");
}

static void
test_runtime_null_round_trip(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	struct vm_seen seen = {0};

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "v", "{}", &rt), 0);
	assert_peek(f->path,
	    "SELECT quote(pid) || quote(monitor_pid) ||"
	    " quote(exit_status) || quote(exit_reason) || quote(started_at) ||"
	    " quote(finished_at) FROM vms",
	    "NULLNULLNULLNULLNULLNULL");
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.last.rt.pid, 0);
	assert_int_equal(seen.last.rt.monitor_pid, 0);
	assert_int_equal(seen.last.rt.exit_status, -1);
	assert_string_equal(seen.last_reason, "(null)");
	assert_int_equal(seen.last.rt.created_at, 1700000000);
	assert_int_equal(seen.last.rt.started_at, 0);
	assert_int_equal(seen.last.rt.finished_at, 0);

	rt = (struct store_vm_runtime){.state = "exited",
	    .pid = 4242,
	    .monitor_pid = 4241,
	    .exit_status = 0,
	    .tender_status = 83,
	    .exit_reason = "exited 0",
	    .restarts = 3,
	    .created_at = 1700000000,
	    .started_at = 1700000010,
	    .finished_at = 1700000020};
	assert_int_equal(store_vm_update_runtime(f->store, "v", &rt), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.last.rt.pid, 4242);
	assert_int_equal(seen.last.rt.monitor_pid, 4241);
	assert_int_equal(seen.last.rt.exit_status, 0);
	assert_int_equal(seen.last.rt.tender_status, 83);
	assert_string_equal(seen.last_reason, "exited 0");
	assert_int_equal(seen.last.rt.restarts, 3);
	assert_int_equal(seen.last.rt.started_at, 1700000010);
	assert_int_equal(seen.last.rt.finished_at, 1700000020);
}

/* A pending restart (unix ms) and its crash streak; none is NULL, 0. */
static void
test_restart_round_trip(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	struct vm_seen seen = {0};

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "v", "{}", &rt), 0);
	assert_peek(f->path, "SELECT quote(restart_at) || ' ' || streak"
	    " FROM vms", "NULL 0");
	rt.state = "exited";
	rt.restart_at = 1700000030123;
	rt.streak = 2;
	assert_int_equal(store_vm_update_runtime(f->store, "v", &rt), 0);
	reopen(f);
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.last.rt.restart_at, 1700000030123);
	assert_int_equal(seen.last.rt.streak, 2);
	rt.restart_at = 0;
	assert_int_equal(store_vm_update_runtime(f->store, "v", &rt), 0);
	assert_peek(f->path, "SELECT quote(restart_at) || ' ' || streak"
	    " FROM vms", "NULL 2");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.last.rt.restart_at, 0);
}

/* A v2 database (before restart_at and streak) with a VM keeps it, with
 * no restart pending and no streak. It is made by undoing step 3. */
static void
test_migrate_v2_with_rows(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	struct vm_seen seen = {0};

	open_ok(f);
	rt.state = "exited";
	rt.exit_status = 3;
	rt.exit_reason = "failed 3";
	rt.restarts = 4;
	assert_int_equal(store_vm_insert(f->store, "old", "{}", &rt), 0);
	store_close(f->store);
	f->store = NULL;
	exec_on(f->path, "ALTER TABLE vms DROP COLUMN restart_at;"
	    "ALTER TABLE vms DROP COLUMN streak;"
	    "ALTER TABLE networks DROP COLUMN phase;"
	    "ALTER TABLE networks DROP COLUMN ifindex;"
	    "ALTER TABLE networks DROP COLUMN mac;"
	    "ALTER TABLE networks DROP COLUMN found;"
	    "INSERT INTO networks (name, spec) VALUES ('lan', '{}');"
	    "ALTER TABLE vms DROP COLUMN tender_status;"
	    "ALTER TABLE links DROP COLUMN netns;"
	    "ALTER TABLE links DROP COLUMN netns_dev;"
	    "ALTER TABLE links DROP COLUMN netns_ino;"
	    "ALTER TABLE links DROP COLUMN peer;"
	    "ALTER TABLE vms DROP COLUMN uid;"
	    "UPDATE meta SET value = '2' WHERE key = 'schema_version'");
	assert_peek(f->path, "SELECT count(*) FROM pragma_table_info('vms')"
	    " WHERE name IN ('restart_at', 'streak')", "0");
	open_ok(f);
	assert_int_equal(store_schema_version(f->store), STORE_SCHEMA_VERSION);
	assert_peek(f->path, "SELECT value FROM meta WHERE"
	    " key = 'schema_version'", "7");
	/* schema 7: a VM of an older unikd has no uid of its own */
	assert_peek(f->path, "SELECT uid IS NULL FROM vms", "1");
	/* schema 4: a network of an older unikd is ready, its bridge's
	 * identity not known yet */
	assert_peek(f->path, "SELECT phase || ' ' || (ifindex IS NULL) ||"
	    " (mac IS NULL) || (found IS NULL) FROM networks", "ready 111");
	assert_peek(f->path, "SELECT count(*) FROM pragma_table_info('links')"
	    " WHERE name IN ('netns', 'netns_dev', 'netns_ino', 'peer')", "4");
	assert_int_equal(store_vm_foreach(f->store, collect_vm, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "old");
	assert_string_equal(seen.last_reason, "failed 3");
	assert_int_equal(seen.last.rt.restarts, 4);
	assert_int_equal(seen.last.rt.restart_at, 0);
	assert_int_equal(seen.last.rt.streak, 0);
	assert_int_equal(seen.last.rt.tender_status, -1);
	/* and the new columns take writes */
	rt.restart_at = 1700000040000;
	rt.streak = 1;
	assert_int_equal(store_vm_update_runtime(f->store, "old", &rt), 0);
	assert_peek(f->path, "SELECT restart_at || ' ' || streak FROM vms",
	    "1700000040000 1");
}

struct ev_seen {
	int64_t seq[16];
	char vm[16][16];
	int n;
};

static int
collect_ev(void *arg, const struct store_event_row *row)
{
	struct ev_seen *seen = arg;

	seen->seq[seen->n] = row->seq;
	snprintf(seen->vm[seen->n], sizeof(seen->vm[0]), "%s",
	    row->vm != NULL ? row->vm : "-");
	seen->n++;
	return 0;
}

static void
list_events(struct fixture *f, int64_t since, const char *vm, int64_t limit,
    struct ev_seen *seen)
{
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(
	    store_event_foreach(f->store, since, vm, limit, collect_ev, seen),
	    0);
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	struct ev_seen seen;
	int64_t i;

	open_ok(f);
	assert_int_equal(store_event_last_seq(f->store), 0);
	for (i = 1; i <= 5; i++)
		assert_int_equal(
		    store_event_add(f->store, 1000 * i, "vm.running",
		        i % 2 ? "a" : "b", "{\"x\":1}"),
		    i);
	assert_int_equal(
	    store_event_add(f->store, 6000, "host", NULL, NULL), 6);
	assert_int_equal(store_event_last_seq(f->store), 6);

	list_events(f, 0, NULL, 0, &seen);
	assert_int_equal(seen.n, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(seen.seq[i], i + 1);
	assert_string_equal(seen.vm[5], "-");
	list_events(f, 4, NULL, 0, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.seq[0], 5);
	list_events(f, 0, "b", 0, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.seq[0], 2);
	assert_int_equal(seen.seq[1], 4);
	list_events(f, 1, NULL, 2, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.seq[0], 2);
	assert_int_equal(seen.seq[1], 3);

	assert_int_equal(store_event_prune(f->store, 2), 0);
	list_events(f, 0, NULL, 0, &seen);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.seq[0], 5);
	assert_int_equal(seen.seq[1], 6);
	assert_int_equal(store_event_prune(f->store, 10), 0);
	list_events(f, 0, NULL, 0, &seen);
	assert_int_equal(seen.n, 2);

	/* Sequence numbers are never given twice, even across a reopen. */
	assert_int_equal(store_event_prune(f->store, 0), 0);
	list_events(f, 0, NULL, 0, &seen);
	assert_int_equal(seen.n, 0);
	reopen(f);
	assert_int_equal(store_event_last_seq(f->store), 6);
	assert_int_equal(
	    store_event_add(f->store, 7000, "vm.exited", "a", "{}"), 7);
}

static void
test_garbage_refused(void **state)
{
	struct fixture *f = *state;
	char junk[8192];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)("not a database, just some bytes\n"[i % 32]);
	spew(f->path, junk, sizeof(junk), 0);
	assert_refused(f, "is not a SQLite database");
	assert_false(file_exists(f->dir, "unikd.db-wal"));
}

static void
test_corrupt_refused(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	char name[32], junk[512];
	int i;

	open_ok(f);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "vm%03d", i);
		assert_int_equal(store_vm_insert(f->store, name,
		                     "{\"padding\":\".........................."
		                     "............\"}",
		                     &rt),
		    0);
	}
	store_close(f->store);
	f->store = NULL;
	/* Scribble over the middle of the file, past the header page. */
	memset(junk, 0x5a, sizeof(junk));
	spew(f->path, junk, sizeof(junk), 4096 * 3);
	assert_refused(f, "is corrupt (*** in database main *** Page");
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;

	open_ok(f);
	store_close(f->store);
	f->store = NULL;
	exec_on(f->path, "UPDATE meta SET value = '999' WHERE"
	                 " key = 'schema_version'");
	assert_refused(f, "newer than this unikd knows");
}

static void
test_foreign_db_refused(void **state)
{
	struct fixture *f = *state;

	exec_on(f->path, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	assert_refused(f, "not unikd's");
}

static void
test_missing_dir(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[256];

	snprintf(path, sizeof(path), "%s/no/such/unikd.db", f->dir);
	assert_int_equal(store_open(&f->store, path, err, sizeof(err)), -1);
	assert_null(f->store);
	assert_non_null(strstr(err, "cannot open state store"));
	/* A directory where the file should be. */
	err[0] = '\0';
	assert_int_equal(store_open(&f->store, f->dir, err, sizeof(err)), -1);
	assert_null(f->store);
	assert_non_null(strstr(err, f->dir));
}

static void
test_transactions(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	int64_t n;

	open_ok(f);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	assert_int_equal(
	    store_event_add(f->store, 1, "vm.created", "a", "{}"), 1);
	errno = 0;
	assert_int_equal(store_begin(f->store), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(store_rollback(f->store), 0);
	assert_int_equal(store_vm_count(f->store, &n), 0);
	assert_int_equal(n, 0);

	/* A failed call inside a transaction leaves it open and usable. */
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), -1);
	assert_int_equal(store_vm_insert(f->store, "b", "{}", &rt), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_peek(f->path, "SELECT count(*) FROM vms", "2");

	errno = 0;
	assert_int_equal(store_commit(f->store), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_rollback(f->store), -1);
}

static int
collect_network(void *arg, struct store_row *row)
{
	char *out = arg;

	snprintf(out + strlen(out), 64, "%s=%s%s;", store_row_text(row, 0),
	    store_row_null(row, 1) ? "NULL" : store_row_text(row, 1),
	    store_row_int(row, 2) == 7 ? "+7" : "");
	return 0;
}

static int
stop_at_first(void *arg, struct store_row *row)
{
	(void)arg;
	(void)row;
	return 5;
}

/* store_exec/store_query: the generic access the other tables use. */
static void
test_generic_exec_query(void **state)
{
	struct fixture *f = *state;
	static const char ins[] = "INSERT INTO networks (name, spec)"
				  " VALUES (?1, ?2)";
	static const char sel[] = "SELECT name, spec, ?1 FROM networks"
				  " ORDER BY name";
	char out[256] = "";

	open_ok(f);
	if (store_exec(f->store, ins, "tt", "lan", "{}") != 1)
		fail_msg("store_exec: %s", store_errmsg(f->store));
	if (store_exec(f->store, ins, "tt", "dmz", "{\"a\":1}") != 1)
		fail_msg("store_exec: %s", store_errmsg(f->store));
	errno = 0;
	assert_int_equal(store_exec(f->store, ins, "tt", "lan", "{}"), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(store_query(f->store, sel, collect_network, out, "i",
			     (int64_t)7),
	    0);
	assert_string_equal(out, "dmz={\"a\":1}+7;lan={}+7;");
	assert_int_equal(
	    store_query(f->store, sel, stop_at_first, NULL, "i", (int64_t)0),
	    5);
	assert_int_equal(store_exec(f->store,
			     "DELETE FROM networks WHERE name = ?1", "t", "x"),
	    0);
	/* inside an explicit transaction, a rollback undoes it */
	assert_int_equal(store_begin(f->store), 0);
	if (store_exec(f->store, ins, "tt", "tmp", "{}") != 1)
		fail_msg("store_exec: %s", store_errmsg(f->store));
	assert_int_equal(store_rollback(f->store), 0);
	assert_peek(f->path, "SELECT count(*) FROM networks", "2");
}

static void
count_opened(void *arg)
{
	(*(int *)arg)++;
}

/* Group mode: writes wait for store_flush(), one BEGIN for all; a
 * store_begin() scope that rolls back undoes its own rows only. */
static void
test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	int opened = 0;

	open_ok(f);
	store_group(f->store, count_opened, &opened);
	assert_false(store_pending(f->store));
	assert_int_equal(store_flush(f->store), 0);	/* nothing to do */
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	assert_int_equal(
	    store_event_add(f->store, 1, "vm.created", "a", "{}"), 1);
	assert_true(store_pending(f->store));
	assert_int_equal(opened, 1);
	/* another connection sees the file: nothing yet */
	assert_peek(f->path, "SELECT count(*) FROM vms", "0");

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_vm_insert(f->store, "b", "{}", &rt), 0);
	errno = 0;
	assert_int_equal(store_begin(f->store), -1);
	assert_int_equal(errno, EBUSY);
	errno = 0;
	assert_int_equal(store_flush(f->store), -1);	/* inside a scope */
	assert_int_equal(errno, EBUSY);
	assert_int_equal(store_rollback(f->store), 0);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_vm_insert(f->store, "c", "{}", &rt), 0);
	assert_int_equal(store_commit(f->store), 0);
	/* a failed statement undoes itself only */
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(opened, 1);
	assert_peek(f->path, "SELECT count(*) FROM vms", "0");

	assert_int_equal(store_flush(f->store), 0);
	assert_false(store_pending(f->store));
	assert_peek(f->path, "SELECT group_concat(name) FROM vms", "a,c");
	assert_peek(f->path, "SELECT count(*) FROM events", "1");
	/* the next write opens the next group */
	assert_int_equal(store_vm_delete(f->store, "c"), 0);
	assert_int_equal(opened, 2);
	store_close(f->store);	/* no flush: the group is lost */
	f->store = NULL;
	assert_peek(f->path, "SELECT group_concat(name) FROM vms", "a,c");
}

static int
refuse_commit(void *arg)
{
	(void)arg;
	return 1;
}

/* A commit that fails loses the group, and every later write fails:
 * the caller's memory is no longer the store's. */
static void
test_group_commit_fails(void **state)
{
	struct fixture *f = *state;
	struct store_vm_runtime rt = rt_none();
	int opened = 0;

	open_ok(f);
	assert_int_equal(store_vm_insert(f->store, "kept", "{}", &rt), 0);
	store_group(f->store, count_opened, &opened);
	assert_int_equal(store_vm_insert(f->store, "a", "{}", &rt), 0);
	/* what a full disk does to the COMMIT, as SQLite lets us */
	sqlite3_commit_hook(f->store->db, refuse_commit, NULL);
	errno = 0;
	assert_int_equal(store_flush(f->store), -1);
	assert_int_equal(errno, EIO);
	assert_false(store_pending(f->store));
	sqlite3_commit_hook(f->store->db, NULL, NULL);
	errno = 0;
	assert_int_equal(store_vm_insert(f->store, "b", "{}", &rt), -1);
	assert_int_equal(errno, EIO);
	assert_non_null(strstr(store_errmsg(f->store), "a commit failed"));
	assert_int_equal(store_flush(f->store), 0);
	assert_peek(f->path, "SELECT group_concat(name) FROM vms", "kept");
}

#define STORE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    STORE_TEST(test_open_creates_wal),
	    STORE_TEST(test_reopen_keeps_data),
	    STORE_TEST(test_vm_crud),
	    STORE_TEST(test_vm_foreach_order_and_stop),
	    STORE_TEST(test_vm_foreach_may_write),
	    STORE_TEST(test_runtime_null_round_trip),
	    STORE_TEST(test_restart_round_trip),
	    STORE_TEST(test_migrate_v2_with_rows),
	    STORE_TEST(test_events),
	    STORE_TEST(test_garbage_refused),
	    STORE_TEST(test_corrupt_refused),
	    STORE_TEST(test_newer_schema_refused),
	    STORE_TEST(test_foreign_db_refused),
	    STORE_TEST(test_missing_dir),
	    STORE_TEST(test_transactions),
	    STORE_TEST(test_group_commit),
	    STORE_TEST(test_group_commit_fails),
	    STORE_TEST(test_generic_exec_query),
	};

	log_init("test-store", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
