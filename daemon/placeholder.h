/*
 * Placeholders: one ${...} expander that asks a lookup what a name stands
 * for (the exec tender's argv template adds its own names), and the names
 * of a VM's NICs: ${nic.NAME.ip}, ${nic.NAME.cidr} (ip/prefix),
 * ${nic.NAME.gateway}, ${nic.NAME.mac} and ${nic.NAME.tap}, filled in at
 * start from the NICs' runtime. Pure functions: no daemon state.
 */
#ifndef UNIKD_PLACEHOLDER_H
#define UNIKD_PLACEHOLDER_H

#include <stdbool.h>
#include <stddef.h>

struct vm_nic;
struct uerr;

/*
 * The value of the placeholder named by name (len bytes, what lies
 * between "${" and "}", e.g. "nic.service.ip"); NULL when the NIC or the
 * field is unknown. The value is "" when the NIC has none (no address).
 */
const char *placeholder_nic_value(const struct vm_nic *nics, size_t nnics,
    const char *name, size_t len);

/* Where ${...} is expanded: what a name stands for, how errors read. */
struct placeholder_scope {
	const char *what;	/* the start of every message, or "" */
	const char *known;	/* the names, listed when one is unknown */
	/* The value of name (len bytes, between "${" and "}"); NULL when
	 * the name is unknown. */
	const char *(*lookup)(void *arg, const char *name, size_t len);
	void *arg;
	const char *empty;	/* NULL, or why an empty value is refused */
};

/*
 * Expands every ${...} of in into *out (malloc'd) by sc's lookup; "$${"
 * gives a literal "${". An unknown placeholder, an unterminated one, or
 * (with sc->empty) one whose value is empty is a 422 naming it.
 */
int placeholder_subst(const char *in, const struct placeholder_scope *sc,
    char **out, struct uerr *e);

/*
 * placeholder_subst() for the ${nic.*} of a VM's args. With strict, a
 * placeholder whose value is empty is a 422 too (at create time, so a VM
 * is not made with an argument it cannot get).
 */
int placeholder_expand(const char *in, const struct vm_nic *nics,
    size_t nnics, bool strict, char **out, struct uerr *e);

#endif
