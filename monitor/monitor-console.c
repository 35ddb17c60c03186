/*
 * The monitor's console log and its index (monitor-console.h). Every
 * chunk read from the tender gets one index record, written before the
 * bytes: a crash between the two leaves a record that points at the end
 * of the log, which readers treat as "no line starts here".
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console-index.h"
#include "log.h"
#include "monitor-console.h"
#include "monitor-io.h"

static int64_t
mon_console_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
mon_console_init(struct mon_console *c, const char *vm, const char *path,
    uint64_t max, unsigned files)
{
	memset(c, 0, sizeof(*c));
	c->vm = vm;
	c->path = path;
	c->max = max;
	c->files = files;
	c->log_fd = -1;
	c->idx_fd = -1;
}

int
mon_console_is_open(const struct mon_console *c)
{
	return c->log_fd != -1;
}

int
mon_console_open(struct mon_console *c)
{
	char idx[PATH_MAX];
	struct stat st;

	c->log_fd =
	    open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (c->log_fd == -1)
		return -1;
	c->log_size = fstat(c->log_fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	console_idx_path(c->path, idx, sizeof(idx));
	c->idx_fd = open(idx, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (c->idx_fd == -1)
		log_warn("vm=%s action=open file=%s", c->vm, idx);
	return 0;
}

static void
mon_console_close(struct mon_console *c)
{
	if (c->log_fd != -1)
		close(c->log_fd);
	if (c->idx_fd != -1)
		close(c->idx_fd);
	c->log_fd = c->idx_fd = -1;
}

/* FILE.(N-1) -> FILE.N, ..., FILE -> FILE.1 (FILE removed when files is
 * 0), for the log or for its index. */
static void
mon_console_shift(const struct mon_console *c, const char *path)
{
	char from[PATH_MAX], to[PATH_MAX];
	unsigned i;

	for (i = c->files; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", path, i);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("vm=%s action=rotate file=%s", c->vm, from);
	}
	snprintf(to, sizeof(to), "%s.1", path);
	if ((c->files == 0 ? unlink(path) : rename(path, to)) == -1 &&
	    errno != ENOENT)
		log_warn("vm=%s action=rotate file=%s", c->vm, path);
}

static void
mon_console_rotate(struct mon_console *c)
{
	char idx[PATH_MAX];

	mon_console_close(c);
	console_idx_path(c->path, idx, sizeof(idx));
	mon_console_shift(c, c->path);
	mon_console_shift(c, idx);
	if (mon_console_open(c) == -1)
		log_warn("vm=%s action=reopen file=%s", c->vm, c->path);
}

/* Notes that a chunk read at ms starts at the log's current end. */
static void
mon_console_index(struct mon_console *c, int64_t ms)
{
	struct console_idx_rec rec = {.offset = c->log_size, .time_ms = ms};

	if (c->idx_fd == -1)
		return;
	if (mon_io_write_all(c->idx_fd, &rec, sizeof(rec)) == -1) {
		log_warn("vm=%s action=write file=console index", c->vm);
		close(c->idx_fd);
		c->idx_fd = -1;
	}
}

void
mon_console_append(struct mon_console *c, const char *buf, size_t len)
{
	int64_t now = mon_console_now_ms();
	size_t n;

	while (len > 0) {
		if (c->log_fd == -1 && mon_console_open(c) == -1) {
			log_warn("vm=%s action=open file=%s", c->vm, c->path);
			return;
		}
		if (c->max > 0 && c->log_size >= c->max) {
			mon_console_rotate(c);
			continue;
		}
		n = len;
		if (c->max > 0 && n > c->max - c->log_size)
			n = (size_t)(c->max - c->log_size);
		mon_console_index(c, now);
		if (mon_io_write_all(c->log_fd, buf, n) == -1) {
			/* Disk full: the bytes are lost, the VM runs on. */
			log_warn("vm=%s action=write file=%s", c->vm, c->path);
			return;
		}
		c->log_size += n;
		buf += n;
		len -= n;
	}
}
