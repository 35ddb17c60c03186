/*
 * The store's VMs (table vms): definition and runtime of each VM, written
 * through statements prepared at open (store.c).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store-internal.h"

#define VM_RT_COLS                                                             \
	"state, pid, monitor_pid, exit_status, exit_reason,"                   \
	" restarts, created_at, started_at, finished_at, restart_at,"          \
	" streak, tender_status, uid"

const char *const store_vm_sql[ST_VM_STMTS] = {
    [ST_VM_INSERT] = "INSERT INTO vms (name, spec, " VM_RT_COLS ")"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                     " ?12, ?13, ?14, ?15)",
    [ST_VM_SPEC] = "UPDATE vms SET spec = ?2 WHERE name = ?1",
    [ST_VM_RUNTIME] = "UPDATE vms SET state = ?3, pid = ?4,"
                      " monitor_pid = ?5, exit_status = ?6, exit_reason = ?7,"
                      " restarts = ?8, created_at = ?9, started_at = ?10,"
                      " finished_at = ?11, restart_at = ?12,"
                      " streak = ?13, tender_status = ?14, uid = ?15"
                      " WHERE name = ?1",
    [ST_VM_DELETE] = "DELETE FROM vms WHERE name = ?1",
    [ST_VM_LIST] = "SELECT name, spec, " VM_RT_COLS " FROM vms ORDER BY name",
    [ST_VM_COUNT] = "SELECT count(*) FROM vms",
};

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

/* Binds a runtime as parameters 3..15 (VM_RT_COLS). */
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
	rc |= store_bind_opt(st, 12, rt->restart_at, 0);
	rc |= sqlite3_bind_int64(st, 13, rt->streak);
	rc |= store_bind_opt(st, 14, rt->tender_status, -1);
	rc |= store_bind_opt(st, 15, rt->uid, 0);
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
	rt->restart_at = store_column_opt(st, first + 9, 0);
	rt->streak = store_column_opt(st, first + 10, 0);
	rt->tender_status = (int)store_column_opt(st, first + 11, -1);
	rt->uid = store_column_opt(st, first + 12, 0);
}

int
store_vm_insert(struct store *s, const char *name, const char *spec,
    const struct store_vm_runtime *rt)
{
	sqlite3_stmt *st = s->vm_stmt[ST_VM_INSERT];

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
	sqlite3_stmt *st = s->vm_stmt[ST_VM_SPEC];

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
	sqlite3_stmt *st = s->vm_stmt[ST_VM_RUNTIME];

	if (name == NULL || rt == NULL || rt->state == NULL)
		return store_fail_errno(s, EINVAL, "missing name or state");
	store_bind_text(st, 1, name);
	store_bind_runtime(st, rt);
	return store_write(s, st, 1);
}

int
store_vm_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st = s->vm_stmt[ST_VM_DELETE];

	if (name == NULL)
		return store_fail_errno(s, EINVAL, "missing name");
	store_bind_text(st, 1, name);
	return store_write(s, st, 1);
}

int
store_vm_foreach(struct store *s, store_vm_cb cb, void *arg)
{
	sqlite3_stmt *st = s->vm_stmt[ST_VM_LIST];
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
	sqlite3_stmt *st = s->vm_stmt[ST_VM_COUNT];
	int rc;

	*count = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else
		store_fail(s, rc);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}
