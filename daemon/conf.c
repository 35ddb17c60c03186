/*
 * The configuration file: INI read with libinih over the built-in
 * defaults. Every problem is reported as "PATH:LINE: message", all of them.
 *
 * inih is driven through our own line reader, which counts lines (inih's
 * handler has no line number), strips inline comments, and catches syntax
 * errors and unknown sections before inih sees the line. The reader also
 * strips leading blanks, so an indented key is a key and never one of
 * inih's multi-line continuations, and it hands inih a short stand-in for a
 * line longer than inih's line buffer (the handler then takes the value
 * the reader kept). The keys, their values and inih's handler are in
 * conf-keys.c.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ini.h>

#include "conf-internal.h"
#include "conf.h"
#include "log.h"

#ifndef UNIKD_LIBEXECDIR
#define UNIKD_LIBEXECDIR "/usr/local/libexec"
#endif

void
conf_problem(struct conf_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->lineno > 0)
		fprintf(p->errf, "%s:%d: ", p->path, p->lineno);
	else
		fprintf(p->errf, "%s: ", p->path);
	va_start(ap, fmt);
	vfprintf(p->errf, fmt, ap);
	va_end(ap);
	fputc('\n', p->errf);
	p->problems++;
}

char *
conf_strdup(const char *s)
{
	char *d;

	if ((d = strdup(s)) == NULL)
		fatal("strdup");
	return d;
}

void
conf_defaults(struct conf *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->socket = conf_strdup("/run/unikd/unikd.sock");
	cf->state_dir = conf_strdup("/var/lib/unikd");
	cf->run_dir = conf_strdup("/run/unikd");
	cf->admin_group = conf_strdup("unikd");
	cf->tender_user = conf_strdup("unikd-tender");
	cf->tender_group = conf_strdup("unikd-tender");
	cf->image_dirs[0] = conf_strdup("/var/lib/unikd/images");
	cf->image_dirs[1] = conf_strdup("/srv/unikernels");
	cf->n_image_dirs = 2;
	cf->log_level = LOG_LEVEL_INFO;
	cf->monitor = conf_strdup(UNIKD_LIBEXECDIR "/unikd-monitor");
	cf->max_vms = 0;	/* from the open-file limit (host-limits.c) */
	cf->max_block_size = (uint64_t)1 << 40;
	cf->max_body_size = (uint64_t)16 << 20;
	cf->max_connections = 256;
	cf->request_timeout = 10;
	cf->max_memory = 0; /* host RAM, resolved by the daemon */
	cf->stop_timeout = 10;
	cf->restart_backoff_ms = 500;
	cf->restart_backoff_max_ms = 60000;
	cf->restart_max_retries = 5;
	cf->console_max_size = (uint64_t)1 << 20;
	cf->console_files = 3;
	cf->events_max = 100000;
}

void
conf_free_dirs(struct conf *cf)
{
	size_t i;

	for (i = 0; i < cf->n_image_dirs; i++) {
		free(cf->image_dirs[i]);
		cf->image_dirs[i] = NULL;
	}
	cf->n_image_dirs = 0;
}

void
conf_free(struct conf *cf)
{
	size_t i;

	free(cf->socket);
	free(cf->state_dir);
	free(cf->run_dir);
	free(cf->admin_group);
	free(cf->tender_user);
	free(cf->tender_group);
	free(cf->monitor);
	free(cf->metrics_listen);
	conf_free_dirs(cf);
	for (i = 0; i < cf->n_tenders; i++) {
		free(cf->tenders[i].name);
		free(cf->tenders[i].path);
		free(cf->tenders[i].argv);
	}
	memset(cf, 0, sizeof(*cf));
}

const struct conf_tender *
conf_tender_find(const struct conf *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->n_tenders; i++)
		if (strcmp(cf->tenders[i].name, name) == 0)
			return &cf->tenders[i];
	return NULL;
}

/* Strips a UTF-8 BOM (line 1), the newline, blanks at both ends and a
 * comment: ';' or '#' at the start or after a blank. */
static char *
conf_clean_line(struct conf_parse *p, char *line)
{
	char *c;
	size_t n;

	if (p->lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	while (*line == ' ' || *line == '\t')
		line++;
	for (c = line; *c != '\0'; c++)
		if ((*c == ';' || *c == '#') &&
		    (c == line || c[-1] == ' ' || c[-1] == '\t')) {
			*c = '\0';
			break;
		}
	n = strlen(line);
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		line[--n] = '\0';
	return line;
}

/* A "[NAME]" line: checks the name, remembers whether it is known. */
static int
conf_read_section(struct conf_parse *p, char *line)
{
	char *end = strchr(line, ']');

	p->section_ok = false;
	if (end == NULL || end[1] != '\0') {
		conf_problem(
		    p, "syntax error: expected '[SECTION]', got '%s'", line);
		return -1;
	}
	*end = '\0';
	if (strncmp(line + 1, "tender.", 7) == 0 &&
	    !conf_driver_known(line + 8))
		conf_problem(p,
		    "unknown tender driver '%s' in [%s] (known: "
		    "solo5-spt, solo5-hvt, exec, qemu, firecracker, "
		    "cloud-hypervisor)",
		    line + 8, line + 1);
	else if (!conf_section_known(line + 1))
		conf_problem(p, "unknown section [%s]", line + 1);
	else
		p->section_ok = true;
	*end = ']';
	return 0;
}

/* A "key = value" line; -1 (reported) when it is not one. */
static int
conf_read_key(struct conf_parse *p, char *line, char *str, int num)
{
	size_t sep = strcspn(line, "=:"), klen = sep;
	const char *value;

	if (line[sep] == '\0') {
		conf_problem(p,
		    "syntax error: expected 'key = value', "
		    "'[section]' or a comment, got '%s'",
		    line);
		return -1;
	}
	while (klen > 0 && isspace((unsigned char)line[klen - 1]))
		klen--;
	if (klen == 0) {
		conf_problem(p, "syntax error: no key before '%c'", line[sep]);
		return -1;
	}
	if (strlen(line) < (size_t)num - 1) {
		memcpy(str, line, strlen(line) + 1);
		return 0;
	}
	/* Too long for inih's buffer: keep the value for the handler. */
	for (value = line + sep + 1; isspace((unsigned char)*value); value++)
		;
	p->long_value = conf_strdup(value);
	snprintf(str, (size_t)num, "%.*s=", (int)(klen < 64 ? klen : 64), line);
	return 0;
}

/* inih's fgets-style reader: one cleaned line per call. */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	char *line;

	free(p->long_value);
	p->long_value = NULL;
	errno = 0;
	if (getline(&p->buf, &p->bufsz, p->in) == -1) {
		p->read_errno = errno;
		return NULL;
	}
	p->lineno++;
	str[0] = '\0';
	line = conf_clean_line(p, p->buf);
	if (line[0] == '[') {
		if (conf_read_section(p, line) == 0 &&
		    strlen(line) < (size_t)num - 1)
			memcpy(str, line, strlen(line) + 1);
		else
			p->section_ok = false;
	} else if (line[0] != '\0')
		conf_read_key(p, line, str, num);
	return str;
}

int
conf_load(struct conf *cf, const char *path, FILE *errf)
{
	struct conf_parse p = {.cf = cf, .path = path, .errf = errf};
	int rc, saved;

	if ((p.in = fopen(path, "r")) == NULL) {
		saved = errno;
		fprintf(errf, "%s: cannot open: %s\n", path, strerror(saved));
		errno = saved;
		return -1;
	}
	rc = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	if (ferror(p.in)) {
		saved = p.read_errno != 0 ? p.read_errno : EIO;
		fprintf(errf, "%s: cannot read: %s\n", path, strerror(saved));
		p.problems = -1;
		errno = saved;
	} else if (rc != 0 && p.problems == 0) {
		/* Our reader catches syntax errors first; inih's own are a
		 * fallback. */
		p.lineno = rc > 0 ? rc : 0;
		conf_problem(&p, "syntax error");
	}
	if (p.problems == 0 &&
	    cf->restart_backoff_max_ms < cf->restart_backoff_ms) {
		p.lineno = 0;
		conf_problem(&p,
		    "vm.restart_backoff_max (%u) is less than "
		    "vm.restart_backoff (%u)",
		    cf->restart_backoff_max_ms, cf->restart_backoff_ms);
	}
	free(p.long_value);
	free(p.buf);
	fclose(p.in);
	return p.problems;
}
