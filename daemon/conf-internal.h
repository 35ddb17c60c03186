/* What conf.c (the file reader) and conf-keys.c (the keys and their
 * values) share; not for other modules. */
#ifndef UNIKD_CONF_INTERNAL_H
#define UNIKD_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* The state of one conf_load, shared by the reader and the handler. */
struct conf_parse {
	struct conf *cf;
	const char *path;
	FILE *errf;
	FILE *in;
	char *buf; /* getline's buffer */
	size_t bufsz;
	int lineno;
	int problems;
	bool section_ok;  /* the current section is known */
	char *long_value; /* the value of a line too long for inih */
	int read_errno;   /* errno of a failed read, or 0 */
};

/* Reports a problem as "PATH:LINE: message" and counts it. */
void conf_problem(struct conf_parse *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* strdup, fatal when out of memory. */
char *conf_strdup(const char *);
void conf_free_dirs(struct conf *);
/* A driver name of [tender.NAME]; a section name the key table knows. */
bool conf_driver_known(const char *name);
bool conf_section_known(const char *name);
/* inih's handler: sets one key, reporting a bad or unknown one. */
int conf_handler(
    void *user, const char *section, const char *name, const char *value);

#endif
