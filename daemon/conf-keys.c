/*
 * The configuration's keys: the table of every [section] key with its
 * kind and bounds, the value parsers, and inih's handler that sets a key
 * in struct conf or reports why it cannot (conf.c reads the file).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf-internal.h"
#include "conf.h"
#include "log.h"

/* sizeof(sun_path) - 1: a socket path and its NUL fit in sockaddr_un. */
#define CONF_SOCKET_MAX 107

/* The driver names a [tender.NAME] section may carry. */
static const char *const conf_drivers[] = {
    "solo5-spt",
    "solo5-hvt",
    "exec",
    "qemu",
    "firecracker",
    "cloud-hypervisor",
};
#define CONF_NDRIVERS (sizeof(conf_drivers) / sizeof(conf_drivers[0]))

enum conf_kind {
	CONF_STR,  /* non-empty string */
	CONF_PATH, /* absolute path, at most max bytes */
	CONF_DIR,  /* absolute path, trailing slashes removed */
	CONF_DIRS, /* colon-separated absolute directories */
	CONF_LOGLEVEL,
	CONF_U64,  /* integer in [min, max] */
	CONF_UINT, /* integer in [min, max], stored as unsigned */
	CONF_SIZE, /* bytes, with an optional K/M/G/T suffix, >= min */
	CONF_MIB,  /* MiB, or a size with a suffix in whole MiB */
	CONF_BOOL, /* true/false, yes/no, on/off, 1/0 */
	CONF_UIDS, /* FIRST-LAST, two uint32_t from off */
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_kind kind;
	size_t off; /* offset in struct conf */
	uint64_t min;
	uint64_t max; /* bound, or the longest path in bytes */
};

#define OFF(m) offsetof(struct conf, m)

static const struct conf_key conf_keys[] = {
    {"unikd", "socket", CONF_PATH, OFF(socket), 0, CONF_SOCKET_MAX},
    {"unikd", "state_dir", CONF_DIR, OFF(state_dir), 0, PATH_MAX - 1},
    {"unikd", "run_dir", CONF_DIR, OFF(run_dir), 0, CONF_RUN_DIR_MAX},
    {"unikd", "admin_group", CONF_STR, OFF(admin_group), 0, 0},
    {"unikd", "tender_user", CONF_STR, OFF(tender_user), 0, 0},
    {"unikd", "tender_group", CONF_STR, OFF(tender_group), 0, 0},
    {"unikd", "allow_root_tender", CONF_BOOL, OFF(allow_root_tender), 0, 0},
    {"unikd", "tender_uids", CONF_UIDS, OFF(tender_uid_first), 1,
        INT32_MAX - 1},
    {"unikd", "image_dirs", CONF_DIRS, OFF(image_dirs), 0, PATH_MAX - 1},
    {"unikd", "log_level", CONF_LOGLEVEL, OFF(log_level), 0, 0},
    {"unikd", "monitor", CONF_PATH, OFF(monitor), 0, PATH_MAX - 1},
    {"limits", "max_vms", CONF_U64, OFF(max_vms), 1, UINT64_MAX},
    {"limits", "max_block_size", CONF_SIZE, OFF(max_block_size), 1, 0},
    {"limits", "max_body_size", CONF_SIZE, OFF(max_body_size), 1, 0},
    {"limits", "max_memory", CONF_MIB, OFF(max_memory), 0, 0},
    {"limits", "max_connections", CONF_UINT, OFF(max_connections), 1, 65536},
    {"limits", "request_timeout", CONF_UINT, OFF(request_timeout), 1, 3600},
    {"vm", "stop_timeout", CONF_UINT, OFF(stop_timeout), 0, 86400},
    {"vm", "restart_backoff", CONF_UINT, OFF(restart_backoff_ms), 1, 86400000},
    {"vm", "restart_backoff_max", CONF_UINT, OFF(restart_backoff_max_ms), 1,
        86400000},
    {"vm", "restart_max_retries", CONF_UINT, OFF(restart_max_retries), 0,
        UINT_MAX},
    {"console", "max_size", CONF_SIZE, OFF(console_max_size), 1, 0},
    {"console", "files", CONF_UINT, OFF(console_files), 0, 100},
    {"events", "max_count", CONF_U64, OFF(events_max), 1, UINT64_MAX},
    {"events", "max_age", CONF_U64, OFF(events_max_age), 0, 3153600000},
    {"metrics", "listen", CONF_STR, OFF(metrics_listen), 0, 0},
};

static void
conf_set_str(char **slot, const char *value)
{
	char *d = conf_strdup(value);

	free(*slot);
	*slot = d;
}

int
conf_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgt";
	const char *unit;
	unsigned shift = 0;
	uint64_t v;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		goto fail;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		goto fail;
	if (*end != '\0') {
		unit = strchr(units, tolower((unsigned char)*end));
		if (unit == NULL || end[1] != '\0')
			goto fail;
		shift = 10 * (unsigned)(unit - units + 1);
		if (v > (UINT64_MAX >> shift))
			goto fail;
	}
	*out = v << shift;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

/* A decimal integer, digits only; -1 on anything else or overflow. */
static int
conf_parse_uint(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	return 0;
}

bool
conf_driver_known(const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NDRIVERS; i++)
		if (strcmp(conf_drivers[i], name) == 0)
			return true;
	return false;
}

bool
conf_section_known(const char *name)
{
	size_t i;

	if (strncmp(name, "tender.", 7) == 0)
		return conf_driver_known(name + 7);
	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (strcmp(conf_keys[i].section, name) == 0)
			return true;
	return false;
}

/* Removes the trailing slashes of a path, but keeps "/" itself. */
static void
conf_trim_slashes(char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
}

/* Checks an absolute path of at most max bytes; 0 or -1 (reported). */
static int
conf_check_path(
    struct conf_parse *p, const char *what, const char *value, uint64_t max)
{
	if (value[0] != '/') {
		conf_problem(
		    p, "%s: expected an absolute path, got '%s'", what, value);
		return -1;
	}
	if (strlen(value) > max) {
		conf_problem(p,
		    "%s: '%s' is %zu bytes long, at most %llu "
		    "are allowed",
		    what, value, strlen(value), (unsigned long long)max);
		return -1;
	}
	return 0;
}

static void
conf_set_dirs(
    struct conf_parse *p, const char *what, const char *value, uint64_t max)
{
	char *copy, *dir, *save = NULL;
	char *dirs[CONF_MAX_IMAGE_DIRS];
	size_t n = 0, i;
	int bad = 0;

	copy = conf_strdup(value);
	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		conf_trim_slashes(dir);
		if (conf_check_path(p, what, dir, max) == -1)
			bad = 1;
		else if (n == CONF_MAX_IMAGE_DIRS) {
			conf_problem(p, "%s: more than %d directories", what,
			    CONF_MAX_IMAGE_DIRS);
			bad = 1;
			break;
		} else
			dirs[n++] = dir;
	}
	if (!bad) {
		conf_free_dirs(p->cf);
		for (i = 0; i < n; i++)
			p->cf->image_dirs[i] = conf_strdup(dirs[i]);
		p->cf->n_image_dirs = n;
	}
	free(copy);
}

static void
conf_bad_int(struct conf_parse *p, const char *what, const char *value,
    uint64_t min, uint64_t max)
{
	if (max == UINT64_MAX || max == UINT_MAX)
		conf_problem(p, "%s: expected a %s integer, got '%s'", what,
		    min > 0 ? "positive" : "non-negative", value);
	else
		conf_problem(p,
		    "%s: expected an integer from %llu to %llu, "
		    "got '%s'",
		    what, (unsigned long long)min, (unsigned long long)max,
		    value);
}

/* max_memory: MiB, or a size with a suffix that is whole MiB. */
static int
conf_parse_mib(const char *value, uint64_t *out)
{
	size_t n = strlen(value);
	uint64_t bytes;

	if (n > 0 && isdigit((unsigned char)value[n - 1]))
		return conf_parse_uint(value, out);
	if (conf_parse_size(value, &bytes) == -1 || bytes % (1 << 20) != 0)
		return -1;
	*out = bytes >> 20;
	return 0;
}

static void
conf_set_number(struct conf_parse *p, const struct conf_key *k,
    const char *what, const char *value)
{
	char *slot = (char *)p->cf + k->off;
	uint64_t v;

	switch (k->kind) {
	case CONF_SIZE:
		if (conf_parse_size(value, &v) == -1 || v < k->min)
			conf_problem(p,
			    "%s: expected a size in bytes with an "
			    "optional K, M, G or T suffix, got '%s'",
			    what, value);
		else
			*(uint64_t *)(void *)slot = v;
		break;
	case CONF_MIB:
		if (conf_parse_mib(value, &v) == -1)
			conf_problem(p,
			    "%s: expected MiB or a size in whole "
			    "MiB (e.g. 8G), got '%s'",
			    what, value);
		else
			*(uint64_t *)(void *)slot = v;
		break;
	case CONF_U64:
	case CONF_UINT:
		if (conf_parse_uint(value, &v) == -1 || v < k->min ||
		    v > k->max)
			conf_bad_int(p, what, value, k->min, k->max);
		else if (k->kind == CONF_U64)
			*(uint64_t *)(void *)slot = v;
		else
			*(unsigned *)(void *)slot = (unsigned)v;
		break;
	default:
		break;
	}
}

/* 1, 0, or -1 when value is not a boolean. */
static int
conf_parse_bool(const char *value)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* "FIRST-LAST": uids in [min, max], at most CONF_TENDER_UIDS_MAX. */
static void
conf_set_uids(struct conf_parse *p, const struct conf_key *k,
    const char *what, const char *value)
{
	uint32_t *slot = (uint32_t *)(void *)((char *)p->cf + k->off);
	const char *dash = strchr(value, '-');
	uint64_t first, last;
	char head[32];

	if (dash == NULL || (size_t)(dash - value) >= sizeof(head))
		goto bad;
	snprintf(head, sizeof(head), "%.*s", (int)(dash - value), value);
	if (conf_parse_uint(head, &first) == -1 ||
	    conf_parse_uint(dash + 1, &last) == -1 || first < k->min ||
	    last > k->max || first > last)
		goto bad;
	if (last - first + 1 > CONF_TENDER_UIDS_MAX) {
		conf_problem(p, "%s: '%s' spans more than %u uids", what,
		    value, CONF_TENDER_UIDS_MAX);
		return;
	}
	slot[0] = (uint32_t)first;
	slot[1] = (uint32_t)last;
	return;
bad:
	conf_problem(p, "%s: expected FIRST-LAST, uids from %llu to %llu with "
	    "FIRST <= LAST, got '%s'", what, (unsigned long long)k->min,
	    (unsigned long long)k->max, value);
}

static void
conf_set(struct conf_parse *p, const struct conf_key *k, const char *value)
{
	char *slot = (char *)p->cf + k->off;
	char what[64], *path;
	int level, b;

	snprintf(what, sizeof(what), "%s.%s", k->section, k->name);
	switch (k->kind) {
	case CONF_STR:
		if (*value == '\0')
			conf_problem(p, "%s: expected a name, got ''", what);
		else
			conf_set_str((char **)(void *)slot, value);
		break;
	case CONF_PATH:
	case CONF_DIR:
		path = conf_strdup(value);
		if (k->kind == CONF_DIR)
			conf_trim_slashes(path);
		if (conf_check_path(p, what, path, k->max) == 0)
			conf_set_str((char **)(void *)slot, path);
		free(path);
		break;
	case CONF_DIRS:
		conf_set_dirs(p, what, value, k->max);
		break;
	case CONF_LOGLEVEL:
		if ((level = log_level_parse(value)) == -1)
			conf_problem(p,
			    "%s: expected err, warn, info or debug, "
			    "got '%s'",
			    what, value);
		else
			p->cf->log_level = level;
		break;
	case CONF_UIDS:
		conf_set_uids(p, k, what, value);
		break;
	case CONF_BOOL:
		if ((b = conf_parse_bool(value)) == -1)
			conf_problem(p, "%s: expected true or false, got '%s'",
			    what, value);
		else
			*(bool *)(void *)slot = b == 1;
		break;
	default:
		conf_set_number(p, k, what, value);
		break;
	}
}

/* The [tender.DRIVER] entry, made on its first key. */
static struct conf_tender *
conf_tender_get(struct conf *cf, const char *driver)
{
	struct conf_tender *t;

	if ((t = (struct conf_tender *)conf_tender_find(cf, driver)) != NULL)
		return t;
	if (cf->n_tenders == CONF_MAX_TENDERS)
		return NULL;
	t = &cf->tenders[cf->n_tenders++];
	memset(t, 0, sizeof(*t));
	t->name = conf_strdup(driver);
	return t;
}

static void
conf_set_tender(struct conf_parse *p, const char *section, const char *name,
    const char *value)
{
	const char *driver = section + 7;
	struct conf_tender *t;
	char what[96];

	snprintf(what, sizeof(what), "%s.%s", section, name);
	if (strcmp(name, "path") != 0 && strcmp(name, "argv") != 0) {
		conf_problem(
		    p, "unknown key '%s' in section [%s]", name, section);
		return;
	}
	if (strcmp(name, "argv") == 0 && strcmp(driver, "exec") != 0) {
		conf_problem(p,
		    "%s: only the exec driver takes an argv "
		    "template",
		    what);
		return;
	}
	if ((t = conf_tender_get(p->cf, driver)) == NULL) {
		conf_problem(p, "%s: too many tender sections", what);
		return;
	}
	if (strcmp(name, "argv") == 0) {
		if (*value == '\0')
			conf_problem(
			    p, "%s: expected a command line, got ''", what);
		else
			conf_set_str(&t->argv, value);
	} else if (conf_check_path(p, what, value, PATH_MAX - 1) == 0)
		conf_set_str(&t->path, value);
}

int
conf_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	size_t i;

	if (p->long_value != NULL)
		value = p->long_value;
	if (*section == '\0') {
		conf_problem(p, "key '%s' is outside any section", name);
		return 1;
	}
	if (!p->section_ok)
		return 1; /* the section header was reported */
	if (strncmp(section, "tender.", 7) == 0) {
		conf_set_tender(p, section, name, value);
		return 1;
	}
	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++)
		if (strcmp(conf_keys[i].section, section) == 0 &&
		    strcmp(conf_keys[i].name, name) == 0) {
			conf_set(p, &conf_keys[i], value);
			return 1;
		}
	conf_problem(p, "unknown key '%s' in section [%s]", name, section);
	return 1;
}
