/*
 * Placeholders for a VM's NICs in its args (and in the exec tender's argv
 * template): ${nic.NAME.ip}, ${nic.NAME.cidr} (ip/prefix),
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

/*
 * Expands every ${...} of in into *out (malloc'd); "$${" gives a literal
 * "${". An unknown placeholder, or an unterminated one, is a 422 naming
 * it. With strict, a placeholder whose value is empty is a 422 too (at
 * create time, so a VM is not made with an argument it cannot get).
 */
int placeholder_expand(const char *in, const struct vm_nic *nics,
    size_t nnics, bool strict, char **out, struct uerr *e);

#endif
