/*
 * The QMP client (qmp.h). QEMU sends one JSON object per line: the
 * greeting {"QMP": {...}}, then for each command {"return": ...} or
 * {"error": {"class", "desc"}}, with asynchronous {"event": ...} lines
 * (POWERDOWN, SHUTDOWN...) interleaved, which are skipped here.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "qmp.h"

struct qmp_conn {
	int fd;
	struct timespec deadline;
	char buf[4096];
	size_t have;
	char *err;
	size_t errlen;
};

static int
qmp_ms_left(const struct qmp_conn *c)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (c->deadline.tv_sec - now.tv_sec) * 1000 +
	    (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : (int)ms;
}

/* One line into line (NUL-terminated, newline dropped); -1 on EOF,
 * timeout or error, errno ECONNRESET for EOF. */
static int
qmp_read_line(struct qmp_conn *c, char *line, size_t len)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	char *nl;
	ssize_t n;
	size_t l;
	int rc;

	while ((nl = memchr(c->buf, '\n', c->have)) == NULL) {
		if (c->have == sizeof(c->buf)) {
			snprintf(c->err, c->errlen, "QMP line too long");
			errno = EPROTO;
			return -1;
		}
		rc = poll(&pfd, 1, qmp_ms_left(c));
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc <= 0) {
			snprintf(c->err, c->errlen, "no QMP answer within "
			    "%d ms", QMP_TIMEOUT_MS);
			errno = ETIMEDOUT;
			return -1;
		}
		n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(c->err, c->errlen, "QMP connection closed");
			errno = n == 0 ? ECONNRESET : errno;
			return -1;
		}
		c->have += (size_t)n;
	}
	l = (size_t)(nl - c->buf);
	snprintf(line, len, "%.*s", (int)l, c->buf);
	memmove(c->buf, nl + 1, c->have - l - 1);
	c->have -= l + 1;
	return 0;
}

/* Reads lines up to the answer to the last command (or the greeting). */
static int
qmp_answer(struct qmp_conn *c, const char *want)
{
	char line[4096];
	json_t *o, *error;
	bool found;

	for (;;) {
		if (qmp_read_line(c, line, sizeof(line)) == -1)
			return -1;
		if ((o = json_loads(line, 0, NULL)) == NULL)
			continue;
		found = json_object_get(o, want) != NULL;
		error = json_object_get(o, "error");
		if (error != NULL) {
			snprintf(c->err, c->errlen, "QMP error: %s",
			    json_string_value(json_object_get(error, "desc")) ?
			    json_string_value(json_object_get(error, "desc")) :
			    "(no description)");
			json_decref(o);
			errno = EPROTO;
			return -1;
		}
		json_decref(o);
		if (found)
			return 0;
	}
}

static int
qmp_send(struct qmp_conn *c, const char *command)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "{\"execute\": \"%s\"}\n", command);

	if (send(c->fd, msg, (size_t)n, MSG_NOSIGNAL) != n) {
		snprintf(c->err, c->errlen, "QMP send: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
qmp_connect(struct qmp_conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(c->err, c->errlen, "%s: path too long", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		snprintf(c->err, c->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
qmp_execute(const char *path, const char *command, char *err, size_t errlen)
{
	struct qmp_conn c = {.fd = -1, .err = err, .errlen = errlen};
	bool quit = strcmp(command, "quit") == 0;
	int rc = -1, saved;

	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += QMP_TIMEOUT_MS / 1000;
	c.deadline.tv_nsec += (QMP_TIMEOUT_MS % 1000) * 1000000L;
	if (c.deadline.tv_nsec >= 1000000000L) {
		c.deadline.tv_sec++;
		c.deadline.tv_nsec -= 1000000000L;
	}
	if (qmp_connect(&c, path) == -1 || qmp_answer(&c, "QMP") == -1 ||
	    qmp_send(&c, "qmp_capabilities") == -1 ||
	    qmp_answer(&c, "return") == -1 || qmp_send(&c, command) == -1)
		goto out;
	rc = qmp_answer(&c, "return");
	/* QEMU may close the connection on quit before it answers */
	if (rc == -1 && quit && errno == ECONNRESET)
		rc = 0;
out:
	saved = errno;
	if (c.fd != -1)
		close(c.fd);
	errno = saved;
	return rc;
}
