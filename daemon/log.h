/*
 * Logging: one line per event on stderr, key=value fields, with a syslog
 * level prefix (<3>..<7>) that journald understands when running under it.
 */
#ifndef UNIKD_LOG_H
#define UNIKD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARN = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* ident: program name; level: the most verbose level printed. */
void log_init(const char *ident, int level);
void log_set_level(int level);
int log_get_level(void);
/* Parse "err", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name);

/* The plain variants append ": strerror(errno)". */
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
