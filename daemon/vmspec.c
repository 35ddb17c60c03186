/*
 * VM definitions (see vmspec.h). Validation runs in two passes: the shape
 * of every field first (types, required and unknown fields, fixed ranges:
 * 400), then what the host can honour (tender, image, memory, CPUs: 422;
 * vmspec-host.c), so a malformed request is always reported as malformed.
 */
#include "config.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "uerr.h"
#include "vmspec.h"

#define VM_DEFAULT_MEMORY 64
#define VM_ARG_MAX 4096
#define VM_STOP_TIMEOUT_MAX 3600

struct spec_field {
	const char *name;
	bool required;
	/*
	 * Checks the shape of the value and stores it in s (400 on error);
	 * NULL: an array, checked in the second pass.
	 */
	int (*parse)(struct vm_spec *s, const json_t *v, const struct conf *cf,
	    struct uerr *e);
};

bool
vm_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' || strlen(name) > VM_NAME_MAX)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') ||
	        (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (i = 1; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		        (name[i] >= '0' && name[i] <= '9') || name[i] == '_' ||
		        name[i] == '-'))
			return false;
	return true;
}

static int
spec_name(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	const char *name = vm_spec_string(v);

	(void)cf;
	if (name == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'name': must be a string");
	if (!vm_name_valid(name))
		return uerr_set(e, UERR_INVALID,
		    "field 'name': '%s' is not a valid name "
		    "([a-z0-9][a-z0-9_-]{0,62})",
		    name);
	snprintf(s->name, sizeof(s->name), "%s", name);
	return 0;
}

/* The name is looked up in the second pass (spec_check_tender). */
static int
spec_tender(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)s;
	(void)cf;
	if (vm_spec_string(v) == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'tender': must be a string");
	return 0;
}

/* The path is resolved in the second pass (spec_check_image). */
static int
spec_image(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	const char *image = vm_spec_string(v);

	(void)s;
	(void)cf;
	if (image == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'image': must be a string");
	if (image[0] != '/' && !vm_name_valid(image))
		return uerr_set(e, UERR_INVALID,
		    "field 'image': must be an image name or an absolute "
		    "path");
	if (strlen(image) >= PATH_MAX)
		return uerr_set(e, UERR_INVALID,
		    "field 'image': longer than %d bytes", PATH_MAX - 1);
	return 0;
}

/* Stored clamped to [0, UINT_MAX]; the range is checked against the host
 * and the driver in the second pass. */
static int
spec_memory(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	json_int_t m;

	(void)cf;
	if (!json_is_integer(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'memory': must be an integer (MiB)");
	m = json_integer_value(v);
	s->memory = m < 0 ? 0 : m > UINT_MAX ? UINT_MAX : (unsigned)m;
	return 0;
}

static int
spec_int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sorts a list of n ints; -1 and the duplicate in *dup if one repeats. */
static int
spec_sort_distinct(int *v, size_t n, int *dup)
{
	size_t i;

	if (n > 1)
		qsort(v, n, sizeof(int), spec_int_cmp);
	for (i = 1; i < n; i++) {
		if (v[i] == v[i - 1]) {
			*dup = v[i];
			return -1;
		}
	}
	return 0;
}

static int
spec_cpus(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	const json_t *c;
	json_int_t n;
	size_t i;
	int dup;

	(void)cf;
	if (!json_is_array(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'cpus': must be an array of CPU numbers");
	if (json_array_size(v) > VM_MAX_CPUS)
		return uerr_set(e, UERR_INVALID,
		    "field 'cpus': at most %d CPUs", VM_MAX_CPUS);
	if (json_array_size(v) == 0)
		return 0;
	if ((s->cpus = calloc(json_array_size(v), sizeof(int))) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	json_array_foreach(v, i, c)
	{
		n = json_is_integer(c) ? json_integer_value(c) : -1;
		if (n < 0 || n >= CPU_SETSIZE)
			return uerr_set(e, UERR_INVALID,
			    "field 'cpus[%zu]': must be a CPU number between 0 "
			    "and %d",
			    i, CPU_SETSIZE - 1);
		s->cpus[s->ncpus++] = (int)n;
	}
	if (spec_sort_distinct(s->cpus, s->ncpus, &dup) == -1)
		return uerr_set(e, UERR_INVALID,
		    "field 'cpus': cpu %d is listed twice", dup);
	return 0;
}

static int
spec_args(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	const json_t *a;
	const char *arg;
	size_t i;

	(void)cf;
	if (!json_is_array(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'args': must be an array of strings");
	if (json_array_size(v) > VM_MAX_ARGS)
		return uerr_set(e, UERR_INVALID,
		    "field 'args': at most %d arguments", VM_MAX_ARGS);
	if ((s->args = calloc(json_array_size(v) + 1, sizeof(char *))) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	json_array_foreach(v, i, a)
	{
		if ((arg = vm_spec_string(a)) == NULL)
			return uerr_set(e, UERR_INVALID,
			    "field 'args[%zu]': must be a string without NUL "
			    "bytes",
			    i);
		if (strlen(arg) > VM_ARG_MAX)
			return uerr_set(e, UERR_INVALID,
			    "field 'args[%zu]': longer than %d bytes", i,
			    VM_ARG_MAX);
		if ((s->args[i] = strdup(arg)) == NULL)
			return uerr_set(e, UERR_INTERNAL, "out of memory");
		s->nargs++;
	}
	return 0;
}

static int
spec_exit_codes(struct restart_policy *p, const json_t *v, struct uerr *e)
{
	const json_t *c;
	json_int_t n;
	size_t i;
	int dup;

	if (!json_is_array(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'restart.exit_codes': must be an array of exit "
		    "codes");
	if (json_array_size(v) > RESTART_MAX_EXIT_CODES)
		return uerr_set(e, UERR_INVALID,
		    "field 'restart.exit_codes': at most %d codes",
		    RESTART_MAX_EXIT_CODES);
	if (json_array_size(v) > 0 && p->kind != RESTART_ON_FAILURE)
		return uerr_set(e, UERR_INVALID,
		    "field 'restart.exit_codes': only allowed with policy "
		    "'on-failure'");
	json_array_foreach(v, i, c)
	{
		n = json_is_integer(c) ? json_integer_value(c) : -1;
		if (n < 0 || n > 255)
			return uerr_set(e, UERR_INVALID,
			    "field 'restart.exit_codes[%zu]': must be an "
			    "integer between 0 and 255",
			    i);
		p->exit_codes[p->n_exit_codes++] = (int)n;
	}
	if (spec_sort_distinct(p->exit_codes, p->n_exit_codes, &dup) == -1)
		return uerr_set(e, UERR_INVALID,
		    "field 'restart.exit_codes': %d is listed twice", dup);
	return 0;
}

static int
spec_restart(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	struct restart_policy *p = &s->restart;
	const json_t *policy, *retries, *codes;
	const char *key;
	json_t *val;

	if (!json_is_object(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'restart': must be an object {\"policy\", "
		    "\"max_retries\", \"exit_codes\"}");
	json_object_foreach((json_t *)v, key,
	    val) if (strcmp(key, "policy") != 0 &&
	             strcmp(key, "max_retries") != 0 &&
	             strcmp(key, "exit_codes") != 0) return uerr_set(e,
	    UERR_INVALID, "unknown field 'restart.%s'", key);
	if ((policy = json_object_get(v, "policy")) == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'restart.policy' is required");
	if (restart_kind_parse(vm_spec_string(policy), &p->kind) == -1)
		return uerr_set(e, UERR_INVALID,
		    "field 'restart.policy': must be one of no, on-failure, "
		    "always");
	p->max_retries =
	    p->kind == RESTART_ON_FAILURE ? cf->restart_max_retries : 0;
	retries = json_object_get(v, "max_retries");
	if (retries != NULL && !json_is_null(retries)) {
		if (!json_is_integer(retries) ||
		    json_integer_value(retries) < 0 ||
		    json_integer_value(retries) > UINT_MAX)
			return uerr_set(e, UERR_INVALID,
			    "field 'restart.max_retries': must be an integer "
			    ">= 0 (0: no limit)");
		p->max_retries = (unsigned)json_integer_value(retries);
	}
	codes = json_object_get(v, "exit_codes");
	if (codes != NULL && !json_is_null(codes))
		return spec_exit_codes(p, codes, e);
	return 0;
}

static int
spec_autostart(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)cf;
	if (!json_is_boolean(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'autostart': must be true or false");
	s->autostart = json_is_true(v);
	return 0;
}

static int
spec_stop_timeout(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	/* The configured default is always accepted back. */
	json_int_t max = cf->stop_timeout > VM_STOP_TIMEOUT_MAX
	                     ? cf->stop_timeout
	                     : VM_STOP_TIMEOUT_MAX;

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > max)
		return uerr_set(e, UERR_INVALID,
		    "field 'stop_timeout': must be an integer between 0 and "
		    "%lld seconds",
		    (long long)max);
	s->stop_timeout = (unsigned)json_integer_value(v);
	return 0;
}

static int
spec_nics(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)cf;
	return vm_spec_nics_parse(s, v, e);
}

static int
spec_blocks(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)cf;
	return vm_spec_blocks_parse(s, v, e);
}

static int
spec_labels(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)cf;
	return vm_spec_labels_parse(s, v, e);
}

static int
spec_cgroup(
    struct vm_spec *s, const json_t *v, const struct conf *cf, struct uerr *e)
{
	(void)cf;
	return vm_spec_cgroup_parse(s, v, e);
}

static const struct spec_field spec_fields[] = {
    {"name", true, spec_name},
    {"tender", true, spec_tender},
    {"image", true, spec_image},
    {"memory", false, spec_memory},
    {"cpus", false, spec_cpus},
    {"args", false, spec_args},
    {"restart", false, spec_restart},
    {"autostart", false, spec_autostart},
    {"stop_timeout", false, spec_stop_timeout},
    {"nics", false, spec_nics},
    {"blocks", false, spec_blocks},
    {"labels", false, spec_labels},
    {"cgroup", false, spec_cgroup},
};

#define SPEC_NFIELDS (sizeof(spec_fields) / sizeof(spec_fields[0]))

/* First pass: unknown, missing and malformed fields (400). */
static int
spec_parse(
    struct vm_spec *s, const json_t *def, const struct conf *cf, struct uerr *e)
{
	const json_t *v;
	const char *key;
	json_t *val;
	size_t i;

	json_object_foreach((json_t *)def, key, val)
	{
		for (i = 0; i < SPEC_NFIELDS; i++)
			if (strcmp(key, spec_fields[i].name) == 0)
				break;
		if (i == SPEC_NFIELDS)
			return uerr_set(
			    e, UERR_INVALID, "unknown field '%s'", key);
	}
	for (i = 0; i < SPEC_NFIELDS; i++) {
		v = json_object_get(def, spec_fields[i].name);
		if (v == NULL ||
		    (json_is_null(v) && !spec_fields[i].required)) {
			if (spec_fields[i].required)
				return uerr_set(e, UERR_INVALID,
				    "field '%s' is required",
				    spec_fields[i].name);
			continue;
		}
		if (spec_fields[i].parse == NULL && !json_is_array(v))
			return uerr_set(e, UERR_INVALID,
			    "field '%s': must be an array",
			    spec_fields[i].name);
		if (spec_fields[i].parse != NULL &&
		    spec_fields[i].parse(s, v, cf, e) == -1)
			return -1;
	}
	return 0;
}

/* The defaults, then the first pass; s is the caller's to free. */
static int
spec_shape(
    struct vm_spec *s, const json_t *def, const struct conf *cf, struct uerr *e)
{
	memset(s, 0, sizeof(*s));
	s->memory = VM_DEFAULT_MEMORY;
	s->restart.kind = RESTART_NO;
	s->stop_timeout = cf->stop_timeout;
	if (!json_is_object(def))
		return uerr_set(
		    e, UERR_INVALID, "the definition must be a JSON object");
	return spec_parse(s, def, cf, e);
}

int
vm_spec_from_json(
    struct vm_spec *s, const json_t *def, const struct conf *cf, struct uerr *e)
{
	if (spec_shape(s, def, cf, e) == -1 ||
	    vm_spec_check_host(s, def, cf, e) == -1) {
		vm_spec_free(s);
		return -1;
	}
	return 0;
}

int
vm_spec_load(struct vm_spec *s, const json_t *def, const struct conf *cf,
    struct uerr *problem)
{
	const char *image;

	if (spec_shape(s, def, cf, problem) == -1) {
		vm_spec_free(s);
		return -1;
	}
	if (vm_spec_check_host(s, def, cf, problem) == 0)
		return 0;
	/* What the check did not fill in, as the definition says it. */
	if (s->tender[0] == '\0')
		snprintf(s->tender, sizeof(s->tender), "%s",
		    json_string_value(json_object_get(def, "tender")));
	image = json_string_value(json_object_get(def, "image"));
	if (image[0] != '/' && s->image_name == NULL)
		s->image_name = strdup(image);
	if (s->image == NULL)
		s->image = strdup(image[0] == '/' ? image : "");
	if (s->image == NULL || (image[0] != '/' && s->image_name == NULL)) {
		vm_spec_free(s);
		return uerr_set(problem, UERR_INTERNAL, "out of memory");
	}
	return 1;
}

/* A JSON array of ints, or NULL. */
static json_t *
spec_int_array(const int *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++) {
		if (json_array_append_new(a, json_integer(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *
vm_spec_to_json(const struct vm_spec *s)
{
	json_t *cpus, *args, *codes, *nics = NULL, *blocks = NULL,
	       *labels = NULL, *o;
	size_t i;

	cpus = spec_int_array(s->cpus, s->ncpus);
	codes = spec_int_array(s->restart.exit_codes, s->restart.n_exit_codes);
	args = json_array();
	for (i = 0; args != NULL && i < s->nargs; i++)
		if (json_array_append_new(args, json_string(s->args[i])) == -1)
			goto fail;
	if (cpus == NULL || codes == NULL || args == NULL ||
	    (nics = vm_spec_nics_json(s)) == NULL ||
	    (blocks = vm_spec_blocks_json(s)) == NULL ||
	    (labels = vm_spec_labels_json(s)) == NULL)
		goto fail;
	o = json_pack(
	    "{s:s, s:s, s:s?, s:I, s:o, s:o, s:{s:s, s:I, s:o}, s:b, s:I, "
	    "s:o, s:o, s:o}",
	    "name", s->name, "tender", s->tender, "image",
	    s->image_name != NULL ? s->image_name : s->image, "memory",
	    (json_int_t)s->memory, "cpus", cpus, "args", args, "restart",
	    "policy", restart_kind_name(s->restart.kind), "max_retries",
	    (json_int_t)s->restart.max_retries, "exit_codes", codes,
	    "autostart", (int)s->autostart, "stop_timeout",
	    (json_int_t)s->stop_timeout, "nics", nics, "blocks", blocks,
	    "labels", labels);
	if (o != NULL && s->cgroup_path != NULL &&
	    json_object_set_new(o, "cgroup", vm_spec_cgroup_json(s)) == -1) {
		json_decref(o);
		return NULL;
	}
	return o;
fail:
	json_decref(cpus);
	json_decref(codes);
	json_decref(args);
	json_decref(nics);
	json_decref(blocks);
	json_decref(labels);
	return NULL;
}

void
vm_spec_free(struct vm_spec *s)
{
	size_t i;

	if (s == NULL)
		return;
	free(s->image);
	free(s->cpus);
	free(s->nics);
	free(s->image_name);
	json_decref(s->labels);
	free(s->cgroup_path);
	if (s->args != NULL) {
		for (i = 0; i < s->nargs; i++)
			free(s->args[i]);
		free(s->args);
	}
	memset(s, 0, sizeof(*s));
}
