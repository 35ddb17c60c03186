/*
 * The fixture of test-store: a fresh temporary directory per test, the
 * store opened in it, and ways to look at the file from outside.
 */
#ifndef UNIKD_TEST_STORE_FIXTURE_H
#define UNIKD_TEST_STORE_FIXTURE_H

#include <sys/types.h>

#include <stddef.h>

#include "store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *store;
};

/* cmocka setup and teardown: the directory, and all in it. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Opens f->path, failing the test when it cannot; reopen closes first. */
void open_ok(struct fixture *f);
void reopen(struct fixture *f);
/* The runtime of a VM just created. */
struct store_vm_runtime rt_none(void);
/* Runs one query on a second connection and returns its first column
 * ("NULL" for NULL; NULL without a row). */
char *peek(const char *path, const char *sql);
void assert_peek(const char *path, const char *sql, const char *want);
void exec_on(const char *path, const char *sql);
/* Reads a whole file into a malloc'd buffer; writes len bytes at off. */
char *slurp(const char *path, size_t *len);
void spew(const char *path, const char *buf, size_t len, off_t off);
int file_exists(const char *dir, const char *name);
/* Opening a bad file fails with a message holding want and the path, and
 * leaves the file byte for byte. */
void assert_refused(struct fixture *f, const char *want);

/* What collect_vm saw; it returns 7 at the stop_at-th row. */
struct vm_seen {
	char names[8][32];
	struct store_vm_row last;
	char last_reason[64];
	int n;
	int stop_at;
};

int collect_vm(void *arg, const struct store_vm_row *row);

#endif
