/*
 * The store's event log (table events): appended, listed after a seq,
 * pruned to a count; seqs are never reused (AUTOINCREMENT).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store-internal.h"

const char *const store_event_sql[ST_EV_STMTS] = {
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

int64_t
store_event_add(struct store *s, int64_t time_ms, const char *type,
    const char *vm, const char *data)
{
	sqlite3_stmt *st = s->event_stmt[ST_EV_ADD];
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
	sqlite3_stmt *st =
	    s->event_stmt[vm != NULL ? ST_EV_LIST_VM : ST_EV_LIST];
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
	return store_rows_done(s, st, rc, ret);
}

int
store_event_prune(struct store *s, int64_t max_count)
{
	sqlite3_stmt *st = s->event_stmt[ST_EV_PRUNE];

	if (max_count < 0)
		return store_fail_errno(s, EINVAL, "negative event count");
	sqlite3_bind_int64(st, 1, max_count);
	return store_write(s, st, 0);
}

int64_t
store_event_last_seq(struct store *s)
{
	sqlite3_stmt *st = s->event_stmt[ST_EV_LAST];
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
