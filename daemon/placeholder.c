/*
 * ${nic.NAME.FIELD} placeholders (see placeholder.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"
#include "uerr.h"
#include "vmspec.h"

#define PLACEHOLDER_KNOWN                                                      \
	"${nic.NAME.ip}, ${nic.NAME.cidr}, ${nic.NAME.gateway}, "              \
	"${nic.NAME.mac}, ${nic.NAME.tap}"

/* The field of n named f (flen bytes), or NULL. */
static const char *
placeholder_field(const struct vm_nic *n, const char *f, size_t flen)
{
	static const char *const names[] = {
	    "ip", "cidr", "gateway", "mac", "tap"};
	const char *values[] = {n->ip, n->cidr, n->gateway, n->mac, n->tap};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == flen && strncmp(f, names[i], flen) == 0)
			return values[i];
	return NULL;
}

const char *
placeholder_nic_value(
    const struct vm_nic *nics, size_t nnics, const char *name, size_t len)
{
	const char *nic, *dot;
	size_t i, niclen;

	if (len < 4 || strncmp(name, "nic.", 4) != 0)
		return NULL;
	nic = name + 4;
	dot = memchr(nic, '.', len - 4);
	if (dot == NULL)
		return NULL;
	niclen = (size_t)(dot - nic);
	for (i = 0; i < nnics; i++)
		if (strlen(nics[i].name) == niclen &&
		    strncmp(nics[i].name, nic, niclen) == 0)
			return placeholder_field(&nics[i], dot + 1,
			    len - 4 - niclen - 1);
	return NULL;
}

/* The NICs a ${nic.*} lookup sees. */
struct placeholder_nics {
	const struct vm_nic *nics;
	size_t nnics;
};

static const char *
placeholder_nic_lookup(void *arg, const char *name, size_t len)
{
	const struct placeholder_nics *pn = arg;

	return placeholder_nic_value(pn->nics, pn->nnics, name, len);
}

/* "${name}" as it stands in the input, cut short for a message. */
#define PLACEHOLDER_SHOWN(len) ((int)((len) > 100 ? 100 : (len) + 3))

/* One ${...} at p (in is the whole input): its value written to f. */
static int
placeholder_one(const char *in, const char **pp,
    const struct placeholder_scope *sc, FILE *f, struct uerr *e)
{
	const char *p = *pp, *end, *val;
	size_t len;

	if ((end = strchr(p + 2, '}')) == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "%sunterminated placeholder in '%.200s'", sc->what, in);
	len = (size_t)(end - p - 2);
	if ((val = sc->lookup(sc->arg, p + 2, len)) == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "%sunknown placeholder '%.*s' (known: %s)", sc->what,
		    PLACEHOLDER_SHOWN(len), p, sc->known);
	if (sc->empty != NULL && val[0] == '\0')
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "%splaceholder '%.*s' has no value: %s", sc->what,
		    PLACEHOLDER_SHOWN(len), p, sc->empty);
	fputs(val, f);
	*pp = end + 1;
	return 0;
}

int
placeholder_subst(const char *in, const struct placeholder_scope *sc,
    char **out, struct uerr *e)
{
	const char *p = in;
	size_t size;
	FILE *f;

	*out = NULL;
	if ((f = open_memstream(out, &size)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	while (*p != '\0') {
		if (strncmp(p, "$${", 3) == 0) {
			fputs("${", f);
			p += 3;
		} else if (p[0] == '$' && p[1] == '{') {
			if (placeholder_one(in, &p, sc, f, e) == -1)
				goto fail;
		} else
			fputc(*p++, f);
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	}
	return 0;
fail:
	fclose(f);
	free(*out);
	*out = NULL;
	return -1;
}

int
placeholder_expand(const char *in, const struct vm_nic *nics, size_t nnics,
    bool strict, char **out, struct uerr *e)
{
	struct placeholder_nics pn = {nics, nnics};
	const struct placeholder_scope sc = {
	    .what = "",
	    .known = PLACEHOLDER_KNOWN ", NAME a NIC of the VM",
	    .lookup = placeholder_nic_lookup,
	    .arg = &pn,
	    .empty = strict ? "the NIC has no address (its network has no "
	                      "subnet or gateway)"
	                    : NULL,
	};

	return placeholder_subst(in, &sc, out, e);
}
