/*
 * The Solo5 manifest check before a start: every device the image
 * declares is given (a NIC for "net", a block for "block", by name), no
 * device is given that it does not declare, and the image was built for
 * the tender's target. Solo5 tenders refuse either mismatch with exit 1
 * and a terse line on stderr; unikd refuses it before any TAP is made,
 * with a message saying what to change.
 *
 * An image with no manifest (not ELF, or no Solo5 note: a Linux kernel,
 * the test guest's dummy images) is not checked: the tender will say.
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "solo5-manifest.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

/* Appends "; " and a printf'd part to the message being built. */
static void
manifest_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
manifest_msg(char *buf, size_t len, const char *fmt, ...)
{
	size_t have = strlen(buf);
	va_list ap;

	if (have + 3 >= len)
		return;
	if (have > 0) {
		memcpy(buf + have, "; ", 3);
		have += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + have, len - have, fmt, ap);
	va_end(ap);
}

static bool
manifest_declares(const struct solo5_manifest *m, enum solo5_dev_type t,
    const char *name)
{
	size_t i;

	for (i = 0; i < m->ndevices; i++)
		if (m->devices[i].type == t &&
		    strcmp(m->devices[i].name, name) == 0)
			return true;
	return false;
}

static bool
manifest_vm_has(const struct vm_spec *spec, enum solo5_dev_type t,
    const char *name)
{
	size_t i;

	if (t == SOLO5_DEV_NET) {
		for (i = 0; i < spec->nnics; i++)
			if (strcmp(spec->nics[i].name, name) == 0)
				return true;
		return false;
	}
	for (i = 0; i < spec->nblocks; i++)
		if (strcmp(spec->blocks[i].name, name) == 0)
			return true;
	return false;
}

/* Fills msg with every mismatch, declared-but-missing ones first. */
static void
manifest_devices(const struct vm_spec *spec, const struct solo5_manifest *m,
    char *msg, size_t len)
{
	const struct solo5_device *d;
	size_t i;

	for (i = 0; i < m->ndevices; i++) {
		d = &m->devices[i];
		if (!manifest_vm_has(spec, d->type, d->name))
			manifest_msg(msg, len,
			    "image declares %s '%s' but the VM has no %s "
			    "named '%s'", solo5_dev_type_name(d->type),
			    d->name, d->type == SOLO5_DEV_NET ? "NIC" : "block",
			    d->name);
	}
	for (i = 0; i < spec->nnics; i++)
		if (!manifest_declares(m, SOLO5_DEV_NET, spec->nics[i].name))
			manifest_msg(msg, len,
			    "VM NIC '%s' is not declared by the image",
			    spec->nics[i].name);
	for (i = 0; i < spec->nblocks; i++)
		if (!manifest_declares(m, SOLO5_DEV_BLOCK,
		    spec->blocks[i].name))
			manifest_msg(msg, len,
			    "VM block '%s' is not declared by the image",
			    spec->blocks[i].name);
}

int
tender_manifest_check(const struct vm_spec *spec, int image_fd,
    const char *target, struct uerr *e)
{
	struct solo5_manifest m;
	char err[256], msg[440] = "";
	int rc;

	rc = solo5_manifest_read_fd(image_fd, &m, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': image %s: bad Solo5 manifest: %s", spec->name,
		    spec->image, err);
	if (target != NULL && m.target[0] != '\0' &&
	    strcmp(m.target, target) != 0)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': image %s was built for the Solo5 '%s' target; "
		    "tender '%s' runs '%s' images", spec->name, spec->image,
		    m.target, spec->tender, target);
	manifest_devices(spec, &m, msg, sizeof(msg));
	if (msg[0] != '\0')
		return uerr_set(e, UERR_UNPROCESSABLE, "vm '%s': %s",
		    spec->name, msg);
	return 0;
}
