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

int
placeholder_expand(const char *in, const struct vm_nic *nics, size_t nnics,
    bool strict, char **out, struct uerr *e)
{
	const char *p = in, *end, *val;
	size_t size, len;
	FILE *f;

	*out = NULL;
	if ((f = open_memstream(out, &size)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	while (*p != '\0') {
		if (strncmp(p, "$${", 3) == 0) {
			fputs("${", f);
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			fputc(*p++, f);
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL) {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "unterminated placeholder in '%.200s'", in);
			goto fail;
		}
		len = (size_t)(end - p - 2);
		if ((val = placeholder_nic_value(nics, nnics, p + 2, len)) ==
		    NULL) {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "unknown placeholder '%.*s' (known: "
			    PLACEHOLDER_KNOWN ", NAME a NIC of the VM)",
			    (int)(len > 100 ? 100 : len + 3), p);
			goto fail;
		}
		if (strict && val[0] == '\0') {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "placeholder '%.*s' has no value: the NIC has no "
			    "address (its network has no subnet or gateway)",
			    (int)(len > 100 ? 100 : len + 3), p);
			goto fail;
		}
		fputs(val, f);
		p = end + 1;
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
