/*
 * Timed reads of a VM's console (vm-console-time.h). The log files are
 * read oldest first (console.log.N .. console.log) into one buffer and
 * their index records are shifted by where each file starts in it, so
 * one pass over the lines finds each line's time.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "console-index.h"
#include "log.h"
#include "unikd.h"
#include "vm-console-time.h"
#include "vm-internal.h"

/* Every console file of a VM, concatenated, and where its chunks start. */
struct vm_console_text {
	char *buf;
	size_t len, cap;
	struct console_idx_rec *recs;
	size_t nrecs, caprecs;
};

/* One line that passed the since filter. */
struct vm_console_line {
	size_t start, len;
	int64_t ms;
};

void
vm_console_time_format(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (int)(ms % 1000));
}

static int
vm_console_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap > 0 ? *cap : 16;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
vm_console_add_rec(struct vm_console_text *t, uint64_t off, int64_t ms)
{
	if (vm_console_grow((void **)&t->recs, &t->caprecs, t->nrecs + 1,
	        sizeof(*t->recs)) == -1)
		return -1;
	t->recs[t->nrecs].offset = off;
	t->recs[t->nrecs++].time_ms = ms;
	return 0;
}

/* Appends the records of the index at path, shifted by base. */
static int
vm_console_load_index(
    struct vm_console_text *t, const char *path, size_t base, size_t loglen)
{
	struct console_idx_rec rec;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	while (read(fd, &rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
		if (rec.offset >= loglen)
			break; /* written, but its bytes were not */
		if (vm_console_add_rec(t, base + rec.offset, rec.time_ms)) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* Appends the log file at path (a missing one is empty) and its index;
 * a file without index records takes its modification time. */
static int
vm_console_load(struct vm_console_text *t, const char *path)
{
	char idx[4096];
	size_t base = t->len, nrecs = t->nrecs;
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	for (;;) {
		if (vm_console_grow(
		        (void **)&t->buf, &t->cap, t->len + 65536, 1) == -1)
			goto fail;
		n = read(fd, t->buf + t->len, t->cap - t->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		t->len += (size_t)n;
	}
	close(fd);
	if (n == -1)
		return -1;
	console_idx_path(path, idx, sizeof(idx));
	if (vm_console_load_index(t, idx, base, t->len - base) == -1)
		return -1;
	if (t->nrecs == nrecs && t->len > base &&
	    vm_console_add_rec(t, base, (int64_t)st.st_mtime * 1000) == -1)
		return -1;
	return 0;
fail:
	close(fd);
	return -1;
}

/* The lines of t read at or after since; *out is malloc'd. */
static int
vm_console_lines(const struct vm_console_text *t, int64_t since,
    struct vm_console_line **out, size_t *nout)
{
	struct vm_console_line *lines = NULL;
	size_t n = 0, cap = 0, pos = 0, k = 0, len;
	const char *nl;
	int64_t ms;

	while (pos < t->len) {
		while (k + 1 < t->nrecs && t->recs[k + 1].offset <= pos)
			k++;
		ms = t->nrecs > 0 ? t->recs[k].time_ms : 0;
		nl = memchr(t->buf + pos, '\n', t->len - pos);
		len = nl != NULL ? (size_t)(nl - (t->buf + pos)) + 1
		                 : t->len - pos;
		if (ms >= since) {
			if (vm_console_grow((void **)&lines, &cap, n + 1,
			        sizeof(*lines)) == -1) {
				free(lines);
				return -1;
			}
			lines[n++] = (struct vm_console_line){pos, len, ms};
		}
		pos += len;
	}
	*out = lines;
	*nout = n;
	return 0;
}

static void
vm_console_emit(const struct vm_console_text *t,
    const struct vm_console_line *lines, size_t n, long tail, bool stamps,
    struct evbuffer *out)
{
	char when[40];
	size_t i = tail >= 0 && (size_t)tail < n ? n - (size_t)tail : 0;

	for (; i < n; i++) {
		if (stamps) {
			vm_console_time_format(lines[i].ms, when, sizeof(when));
			evbuffer_add_printf(out, "%s ", when);
		}
		evbuffer_add(out, t->buf + lines[i].start, lines[i].len);
	}
}

int
vm_console_read_timed(struct vm *vm, long tail, int64_t since_ms, bool stamps,
    struct evbuffer *out)
{
	struct vm_console_text t = {0};
	struct vm_console_line *lines = NULL;
	char path[4096];
	size_t n = 0;
	unsigned i;
	int rc = 0;

	for (i = vm->u->cf.console_files + 1; i > 0 && rc == 0; i--) {
		vm_console_file(vm, i - 1, path, sizeof(path));
		rc = vm_console_load(&t, path);
	}
	if (rc == 0)
		rc = vm_console_lines(&t, since_ms, &lines, &n);
	if (rc == 0)
		vm_console_emit(&t, lines, n, tail, stamps, out);
	else
		log_warn(
		    "vm=%s action=console-read path=%s", vm->spec.name, path);
	free(lines);
	free(t.buf);
	free(t.recs);
	return rc;
}

void
vm_console_stamp(
    struct evbuffer *out, const void *buf, size_t len, int64_t ms, bool *bol)
{
	const char *p = buf, *nl;
	char when[40];
	size_t n;

	vm_console_time_format(ms, when, sizeof(when));
	while (len > 0) {
		if (*bol)
			evbuffer_add_printf(out, "%s ", when);
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		evbuffer_add(out, p, n);
		*bol = nl != NULL;
		p += n;
		len -= n;
	}
}
