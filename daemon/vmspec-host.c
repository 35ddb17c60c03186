/*
 * VM definitions, the second pass (see vmspec.c): what the host can
 * honour once the shape is right, a known tender with a binary, an image
 * inside the image directories, memory and CPUs this machine has, blocks
 * that exist (422).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysinfo.h>

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "image-open.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

/* "exec, solo5-hvt, solo5-spt": the drivers, for error messages. */
static void
spec_known_tenders(char *buf, size_t len)
{
	const struct tender_driver *const *d;
	size_t off = 0;

	buf[0] = '\0';
	for (d = tender_drivers; *d != NULL && off < len; d++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    d == tender_drivers ? "" : ", ", (*d)->name);
}

/* Second pass: a known driver with a binary to run. */
static int
spec_check_tender(struct vm_spec *s, const json_t *def, const struct conf *cf,
    const struct tender_driver **dp, struct uerr *e)
{
	const char *name = json_string_value(json_object_get(def, "tender"));
	const struct tender_driver *d = tender_find(name);
	const struct conf_tender *tc;
	char known[256];

	if (d == NULL) {
		spec_known_tenders(known, sizeof(known));
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'tender': unknown tender '%s' (known: %s)", name,
		    known);
	}
	tc = conf_tender_find(cf, d->name);
	if ((tc == NULL || tc->path == NULL) && d->default_path == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'tender': tender '%s' has no binary configured "
		    "(path in [tender.%s])",
		    d->name, d->name);
	snprintf(s->tender, sizeof(s->tender), "%s", d->name);
	*dp = d;
	return 0;
}

static bool
spec_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The image, opened as a start will open it (image-open.c). */
static int
spec_image_opens(struct vm_spec *s, const struct conf *cf, struct uerr *e)
{
	struct uerr ie;
	int fd;

	if ((fd = image_open(cf, s->image, &ie)) == -1)
		return uerr_set(e, ie.status, "field 'image': %s", ie.message);
	close(fd);
	return 0;
}

/* An image pushed with PUT /v1/images/NAME: image.c keeps a link
 * state_dir/images/names/NAME to the file stored by digest. The link
 * is unikd's own, in a directory only root writes: it is followed. */
static int
spec_check_image_name(struct vm_spec *s, const char *name,
    const struct conf *cf, struct uerr *e)
{
	char link[4096];

	vm_spec_image_link(cf, name, link, sizeof(link));
	if ((s->image = realpath(link, NULL)) == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'image': '%s' is neither a stored image (none "
		    "of that name: push one with PUT /v1/images/%s) nor a "
		    "path (a path is absolute)", name, name);
	if ((s->image_name = strdup(name)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	return spec_image_opens(s, cf, e);
}

/*
 * A path must lie beneath an image dir by its text, before any file is
 * looked at (so the answer tells nothing of files elsewhere), then open
 * there as a regular file with no symlink on the way.
 */
static int
spec_check_image(
    struct vm_spec *s, const json_t *def, const struct conf *cf, struct uerr *e)
{
	const char *image = json_string_value(json_object_get(def, "image"));
	char dirs[512] = "";
	size_t i, off = 0;

	if (image[0] != '/')
		return spec_check_image_name(s, image, cf, e);
	if (strstr(image, "/./") != NULL || strstr(image, "/../") != NULL ||
	    spec_ends_with(image, "/.") || spec_ends_with(image, "/.."))
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'image': %s: '.' and '..' are not followed; give "
		    "the path of the file itself", image);
	if (!image_path_allowed(cf, image)) {
		for (i = 0; i < cf->n_image_dirs && off < sizeof(dirs); i++)
			off += (size_t)snprintf(dirs + off, sizeof(dirs) - off,
			    "%s%s", i == 0 ? "" : ":", cf->image_dirs[i]);
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'image': %s is outside the image directories "
		    "(image_dirs = %s)",
		    image, dirs);
	}
	if ((s->image = strdup(image)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	return spec_image_opens(s, cf, e);
}

/* The most memory a VM may have, in MiB: [limits] max_memory or RAM. */
static uint64_t
spec_memory_limit(const struct conf *cf)
{
	struct sysinfo si;

	if (cf->max_memory != 0)
		return cf->max_memory;
	if (sysinfo(&si) == -1)
		return UINT_MAX;
	return (uint64_t)si.totalram * si.mem_unit >> 20;
}

static int
spec_check_memory(struct vm_spec *s, const struct tender_driver *d,
    const struct conf *cf, struct uerr *e)
{
	uint64_t max = spec_memory_limit(cf);

	if (s->memory < d->min_memory || s->memory > max)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'memory': must be an integer between %u and %llu "
		    "MiB",
		    d->min_memory, (unsigned long long)max);
	return 0;
}

/* Pinned CPUs must be ones unikd itself may run on. */
static int
spec_check_cpus(const struct vm_spec *s, struct uerr *e)
{
	cpu_set_t set;
	long online = -1;
	size_t i;

	if (sched_getaffinity(0, sizeof(set), &set) == -1)
		online = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < s->ncpus; i++)
		if (online >= 0 ? s->cpus[i] >= online
		                : !CPU_ISSET(s->cpus[i], &set))
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'cpus': cpu %d is not online or not "
			    "available to unikd",
			    s->cpus[i]);
	return 0;
}

int
vm_spec_check_host(
    struct vm_spec *s, const json_t *def, const struct conf *cf, struct uerr *e)
{
	const struct tender_driver *d = NULL;

	if (spec_check_tender(s, def, cf, &d, e) == -1 ||
	    spec_check_image(s, def, cf, e) == -1 ||
	    spec_check_memory(s, d, cf, e) == -1 ||
	    spec_check_cpus(s, e) == -1 ||
	    vm_spec_blocks_check(s, cf, e) == -1)
		return -1;
	return 0;
}
