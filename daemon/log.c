/*
 * Logging to stderr. Under systemd (JOURNAL_STREAM set) each line starts
 * with the syslog priority in angle brackets so journald files it at the
 * right level; on a terminal a short level word is printed instead.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "unikd";
static int log_level = LOG_LEVEL_INFO;
static int log_journal = -1;

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it connected to
 * stderr; a child whose stderr went elsewhere inherits the variable, so
 * the stream itself is compared (systemd.exec(5)). */
static int
log_to_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, int level)
{
	log_ident = ident;
	log_level = level;
	log_journal = log_to_journal();
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{"err", LOG_LEVEL_ERR}, {"error", LOG_LEVEL_ERR},
		{"warn", LOG_LEVEL_WARN}, {"warning", LOG_LEVEL_WARN},
		{"info", LOG_LEVEL_INFO}, {"debug", LOG_LEVEL_DEBUG},
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static void __attribute__((format(printf, 3, 0)))
log_vline(int level, int errnum, const char *fmt, va_list ap)
{
	char msg[2048];
	const char *word;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal == 1) {
		if (errnum != 0)
			fprintf(stderr, "<%d>%s: %s\n", level, msg,
			    strerror(errnum));
		else
			fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	switch (level) {
	case LOG_LEVEL_ERR:
		word = "error";
		break;
	case LOG_LEVEL_WARN:
		word = "warn";
		break;
	case LOG_LEVEL_DEBUG:
		word = "debug";
		break;
	default:
		word = "info";
		break;
	}
	if (errnum != 0)
		fprintf(stderr, "%s: %s: %s: %s\n", log_ident, word, msg,
		    strerror(errnum));
	else
		fprintf(stderr, "%s: %s: %s\n", log_ident, word, msg);
}

#define LOG_BODY(level, errnum)                                            \
	do {                                                                \
		va_list ap;                                                 \
		int saved = errno;                                          \
		va_start(ap, fmt);                                          \
		log_vline((level), (errnum), fmt, ap);                      \
		va_end(ap);                                                 \
		errno = saved;                                              \
	} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, errno);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_WARN, 0);
}

void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERR, errno);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LEVEL_ERR, 0);
	exit(1);
}
