/* The fixture of test-store (see store-fixture.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store-fixture.h"

int
fx_setup(void **state)
{
	struct fixture *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/unikd.db", f->dir);
	*state = f;
	return 0;
}

int
fx_teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	char p[512];
	DIR *d;

	store_close(f->store);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

void
open_ok(struct fixture *f)
{
	char err[512] = "";

	if (store_open(&f->store, f->path, err, sizeof(err)) == -1)
		fail_msg("store_open: %s", err);
}

void
reopen(struct fixture *f)
{
	store_close(f->store);
	f->store = NULL;
	open_ok(f);
}

struct store_vm_runtime
rt_none(void)
{
	struct store_vm_runtime rt = {
	    .state = "created",
	    .pid = 0,
	    .monitor_pid = 0,
	    .exit_status = -1,
	    .tender_status = -1,
	    .exit_reason = NULL,
	    .restarts = 0,
	    .created_at = 1700000000,
	    .started_at = 0,
	    .finished_at = 0,
	};

	return rt;
}

char *
peek(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	char *out = NULL;

	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			out = strdup("NULL");
		else
			out = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

void
assert_peek(const char *path, const char *sql, const char *want)
{
	char *got = peek(path, sql);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

void
exec_on(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(path, &db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

char *
slurp(const char *path, size_t *len)
{
	struct stat sb;
	char *buf;
	int fd;

	assert_int_not_equal(fd = open(path, O_RDONLY), -1);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_non_null(buf = malloc((size_t)sb.st_size + 1));
	assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return buf;
}

void
spew(const char *path, const char *buf, size_t len, off_t off)
{
	int fd;

	assert_int_not_equal(fd = open(path, O_WRONLY | O_CREAT, 0600), -1);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

int
file_exists(const char *dir, const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return access(p, F_OK) == 0;
}

void
assert_refused(struct fixture *f, const char *want)
{
	char err[512] = "", *before, *after;
	size_t blen, alen;

	before = slurp(f->path, &blen);
	assert_int_equal(store_open(&f->store, f->path, err, sizeof(err)), -1);
	assert_null(f->store);
	if (strstr(err, want) == NULL || strstr(err, f->path) == NULL)
		fail_msg("unexpected error message: %s", err);
	if (getenv("TEST_STORE_VERBOSE") != NULL)
		print_message("refused: %s\n", err);
	after = slurp(f->path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);
}

int
collect_vm(void *arg, const struct store_vm_row *row)
{
	struct vm_seen *seen = arg;

	snprintf(seen->names[seen->n], sizeof(seen->names[0]), "%s", row->name);
	seen->last = *row;
	seen->last.name = seen->last.spec = seen->last.rt.state = NULL;
	seen->last.rt.exit_reason = NULL;
	snprintf(seen->last_reason, sizeof(seen->last_reason), "%s",
	    row->rt.exit_reason != NULL ? row->rt.exit_reason : "(null)");
	seen->n++;
	return seen->n == seen->stop_at ? 7 : 0;
}
