/*
 * The "cgroup" field of a VM definition: where the tender is placed, as
 * an OCI runtime is told (linux.cgroupsPath). Either a cgroupfs path, or
 * with "systemd": true the "slice:prefix:name" form, which names the scope
 * prefix-name.scope under the slice (nested slices spelled as systemd
 * does: a-b.slice lives in a.slice). Only the shape is checked here (400);
 * which hierarchies exist is vm-cgroup.c's business at start.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uerr.h"
#include "vmspec.h"

#define SLICE_SUFFIX ".slice"

/* No "." or ".." component, no control characters or white space. */
static bool
cgroup_path_valid(const char *p)
{
	const char *c, *end;
	size_t len;

	for (c = p; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c))
			return false;
	for (c = p; *c != '\0'; c = *end == '\0' ? end : end + 1) {
		end = strchrnul(c, '/');
		len = (size_t)(end - c);
		if ((len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

/* "a-b.slice" -> "a.slice/a-b.slice" into buf; "" and "-.slice" are the
 * root. -1 when the name is not a slice systemd would accept. */
static int
cgroup_slice_expand(const char *slice, size_t len, char *buf, size_t size)
{
	size_t stem, i, off = 0;
	int n;

	buf[0] = '\0';
	if (len == 0 || (len == 7 && strncmp(slice, "-" SLICE_SUFFIX, 7) == 0))
		return 0;
	if (len <= strlen(SLICE_SUFFIX) ||
	    strncmp(slice + len - strlen(SLICE_SUFFIX), SLICE_SUFFIX,
		strlen(SLICE_SUFFIX)) != 0)
		return -1;
	stem = len - strlen(SLICE_SUFFIX);
	if (slice[0] == '-' || slice[stem - 1] == '-')
		return -1;
	for (i = 0; i <= stem; i++) {
		if (i < stem && slice[i] != '-')
			continue;
		if (i < stem && slice[i + 1] == '-')
			return -1;
		n = snprintf(buf + off, size - off, "%s%.*s" SLICE_SUFFIX,
		    off > 0 ? "/" : "", (int)i, slice);
		if (n < 0 || (size_t)n >= size - off)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

int
vm_spec_cgroup_relpath(const struct vm_spec *s, char *buf, size_t size)
{
	const char *p = s->cgroup_path, *c1, *c2;
	char slice[VM_CGROUP_MAX + 1];
	int n;

	if (p == NULL)
		return -1;
	if (!s->cgroup_systemd) {
		while (*p == '/')
			p++;
		n = snprintf(buf, size, "%s", p);
		return n < 0 || (size_t)n >= size || buf[0] == '\0' ? -1 : 0;
	}
	if ((c1 = strchr(p, ':')) == NULL || (c2 = strchr(c1 + 1, ':')) == NULL ||
	    strchr(c2 + 1, ':') != NULL || c2[1] == '\0')
		return -1;
	if (memchr(p, '/', strlen(p)) != NULL)
		return -1;
	if (cgroup_slice_expand(p, (size_t)(c1 - p), slice, sizeof(slice)) ==
	    -1)
		return -1;
	if (c1 == p)	/* no slice: systemd's default for services */
		snprintf(slice, sizeof(slice), "system" SLICE_SUFFIX);
	n = snprintf(buf, size, "%s%s%.*s%s%s.scope", slice,
	    slice[0] != '\0' ? "/" : "", (int)(c2 - c1 - 1), c1 + 1,
	    c2 > c1 + 1 ? "-" : "", c2 + 1);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
vm_spec_cgroup_parse(struct vm_spec *s, const json_t *v, struct uerr *e)
{
	const char *key, *path;
	json_t *val, *sd;
	char rel[VM_CGROUP_MAX + 64];

	if (!json_is_object(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'cgroup': must be an object {\"path\", "
		    "\"systemd\"?}");
	json_object_foreach((json_t *)v, key, val)
	{
		if (strcmp(key, "path") != 0 && strcmp(key, "systemd") != 0)
			return uerr_set(e, UERR_INVALID,
			    "unknown field 'cgroup.%s'", key);
	}
	val = json_object_get(v, "path");
	sd = json_object_get(v, "systemd");
	if (sd != NULL && !json_is_boolean(sd))
		return uerr_set(e, UERR_INVALID,
		    "field 'cgroup.systemd': must be true or false");
	path = json_is_string(val) &&
	    strlen(json_string_value(val)) == json_string_length(val)
	    ? json_string_value(val) : NULL;
	if (path == NULL || path[0] == '\0' || strlen(path) > VM_CGROUP_MAX ||
	    !cgroup_path_valid(path))
		return uerr_set(e, UERR_INVALID,
		    "field 'cgroup.path': must be a cgroup path (at most %d "
		    "bytes, no '.' or '..' components, no spaces)",
		    VM_CGROUP_MAX);
	if ((s->cgroup_path = strdup(path)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	s->cgroup_systemd = json_is_true(sd);
	if (vm_spec_cgroup_relpath(s, rel, sizeof(rel)) == -1)
		return uerr_set(e, UERR_INVALID,
		    "field 'cgroup.path': %s",
		    s->cgroup_systemd
			? "must be \"slice:prefix:name\" (the slice \"\" or "
			  "NAME.slice, no '/')"
			: "must name a cgroup below the root");
	return 0;
}

json_t *
vm_spec_cgroup_json(const struct vm_spec *s)
{
	if (s->cgroup_path == NULL)
		return json_null();
	return json_pack("{s:s, s:b}", "path", s->cgroup_path, "systemd",
	    (int)s->cgroup_systemd);
}
