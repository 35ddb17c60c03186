/*
 * A VM's definition, as posted to /v1/vms and kept in the store as JSON.
 * vm_spec_from_json() validates every field before anything is created
 * and names the field at fault; vm_spec_to_json() is its inverse.
 */
#ifndef UNIKD_VMSPEC_H
#define UNIKD_VMSPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "restart.h"

#define VM_NAME_MAX 63
#define VM_MAX_ARGS 256
#define VM_MAX_CPUS 1024

struct conf;
struct uerr;

struct vm_spec {
	char name[VM_NAME_MAX + 1];
	char tender[32];
	char *image;		/* absolute path, resolved, under an image dir */
	unsigned memory;	/* MiB */
	int *cpus;		/* pinning set, sorted, no duplicates */
	size_t ncpus;		/* 0: no pinning */
	char **args;		/* unikernel argv after the image */
	size_t nargs;
	struct restart_policy restart;
	bool autostart;
	unsigned stop_timeout;	/* seconds */
};

/* [a-z0-9][a-z0-9_-]{0,62} */
bool vm_name_valid(const char *name);

/*
 * Validates a definition against the config (known tender, image under
 * an allowed directory, memory within limits...). On error returns -1
 * with e filled (400 for malformed or unknown fields, 422 for values the
 * host cannot honour) and s left empty.
 */
int vm_spec_from_json(struct vm_spec *s, const json_t *def,
    const struct conf *cf, struct uerr *e);
json_t *vm_spec_to_json(const struct vm_spec *s);
void vm_spec_free(struct vm_spec *s);

#endif
