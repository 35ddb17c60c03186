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
#include <string.h>

#include "restart.h"

#define VM_NAME_MAX 63
#define VM_MAX_ARGS 256
#define VM_MAX_CPUS 1024

#define VM_MAX_NICS 16
#define VM_NIC_NAME_MAX 32	/* Solo5 device names: alphanumeric */
#define VM_NETNS_MAX 255	/* a namespace's path */
#define VM_LINK_MAX 15		/* a link's name: IFNAMSIZ - 1 */
#define VM_CGROUP_MAX 1024	/* "cgroup.path" */

#define VM_MAX_LABELS 32
#define VM_LABEL_KEY_MAX 128
#define VM_LABEL_VALUE_MAX 1024

#define VM_MAX_BLOCKS 16
#define VM_BLOCK_NAME_MAX 32	/* Solo5 device names: alphanumeric */

struct conf;
struct uerr;

/* A block attached to the VM: the device name the unikernel declares and
 * the block (state_dir/blocks/BLOCK.img) behind it (vmspec-blocks.c). */
struct vm_block {
	char name[VM_BLOCK_NAME_MAX + 1];
	char block[VM_NAME_MAX + 1];
};

/*
 * A NIC: what the definition says ("nics": name, network, and mac/ip when
 * given), completed by vm-net.c (generated MAC, leased address, cidr and
 * gateway) and, while the VM runs, its TAP. The drivers read these to
 * build the command (--net:NAME=TAP, ${nic.NAME.ip} in args). A NIC in a
 * foreign namespace names netns and link instead of a network; its MAC
 * and addresses are the link's (vm-net-ns.c).
 */
struct vm_nic {
	char name[VM_NIC_NAME_MAX + 1];
	char network[64];	/* "" for a NIC in a namespace */
	char netns[VM_NETNS_MAX + 1];	/* "" for a NIC on a network */
	char link[VM_LINK_MAX + 1];
	uint64_t netns_dev, netns_ino;	/* that namespace while its TAP is
					 * there (nsfs identity), else 0 */
	char mac[18];		/* "aa:bb:cc:dd:ee:ff", "" until generated */
	char ip[16];		/* "" when the NIC has no address */
	char cidr[20];		/* "10.0.0.5/24", "" when none */
	char gateway[16];	/* the network's gateway, "" when none */
	char tap[16];		/* the TAP while the VM runs, else "" */
};

struct vm_spec {
	char name[VM_NAME_MAX + 1];
	char tender[32];
	char *image;		/* absolute path beneath an image dir */
	unsigned memory;	/* MiB */
	int *cpus;		/* pinning set, sorted, no duplicates */
	size_t ncpus;		/* 0: no pinning */
	char **args;		/* unikernel argv after the image */
	size_t nargs;
	struct restart_policy restart;
	bool autostart;
	unsigned stop_timeout;	/* seconds */
	struct vm_nic *nics;	/* "nics", in order (vmspec-nics.c) */
	size_t nnics;
	char *image_name;	/* a stored image's name, or NULL (a path) */
	struct vm_block blocks[VM_MAX_BLOCKS];	/* "blocks", in order */
	size_t nblocks;
	json_t *labels;		/* "labels": an object of strings, or NULL */
	char *cgroup_path;	/* "cgroup.path" (OCI cgroupsPath), or NULL */
	bool cgroup_systemd;	/* ... in the "slice:prefix:name" form */
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
/*
 * A stored definition, as far as it still validates: -1 (s left empty,
 * problem filled) when its shape is wrong; 1 when the host can no longer
 * honour it (image gone, tender unconfigured...): s then holds every
 * field as the definition gives it and problem says what is wrong; 0
 * when it is valid.
 */
int vm_spec_load(struct vm_spec *s, const json_t *def, const struct conf *cf,
    struct uerr *problem);
json_t *vm_spec_to_json(const struct vm_spec *s);
void vm_spec_free(struct vm_spec *s);
/* The value of a JSON string without NUL bytes, or NULL (the shape every
 * string field of a definition must have). Inline: vmspec-nics.c is also
 * linked without vmspec.c. */
static inline const char *
vm_spec_string(const json_t *v)
{
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* vmspec-host.c: the second pass of vm_spec_from_json(), on a spec whose
 * shape is checked: tender, image, memory, CPUs, blocks (422). */
int vm_spec_check_host(struct vm_spec *s, const json_t *def,
    const struct conf *cf, struct uerr *e);

/* vmspec-nics.c: the shape of "nics" (400; a multicast or zero MAC 422).
 * Networks, namespaces, uniqueness and addresses are checked by vm-net.c. */
int vm_spec_nics_parse(struct vm_spec *s, const json_t *v, struct uerr *e);
/* [{"name", "network", "mac"?, "ip"?} or {"name", "netns", "link"}],
 * or NULL */
json_t *vm_spec_nics_json(const struct vm_spec *s);

/* vmspec-labels.c: "labels", strings unikd keeps for a client (400
 * beyond VM_MAX_LABELS, for a bad key or a value too long). */
int vm_spec_labels_parse(struct vm_spec *s, const json_t *v, struct uerr *e);
/* the labels (an empty object when none), or NULL */
json_t *vm_spec_labels_json(const struct vm_spec *s);
/* vmspec-cgroup.c: the shape of "cgroup" (400). */
int vm_spec_cgroup_parse(struct vm_spec *s, const json_t *v, struct uerr *e);
/* {"path", "systemd"}, or JSON null */
json_t *vm_spec_cgroup_json(const struct vm_spec *s);
/* The cgroup below a hierarchy's root, without a leading '/': the path,
 * or for the systemd form "SLICE/.../prefix-name.scope". -1 when
 * malformed or too long. */
int vm_spec_cgroup_relpath(const struct vm_spec *s, char *buf, size_t size);

/* vmspec-blocks.c: the shape of "blocks" (400: names, duplicates, at most
 * VM_MAX_BLOCKS), then whether each block exists under cf's state_dir
 * (422). */
int vm_spec_blocks_parse(struct vm_spec *s, const json_t *v, struct uerr *e);
int vm_spec_blocks_check(const struct vm_spec *s, const struct conf *cf,
    struct uerr *e);
/* [{"name", "block"}], or NULL */
json_t *vm_spec_blocks_json(const struct vm_spec *s);
/* state_dir/blocks/NAME.img and state_dir/images/names/NAME: where
 * blocks live and how a stored image is found by name (block.c and
 * image.c keep them there). */
void vm_spec_block_path(const struct conf *cf, const char *block, char *buf,
    size_t len);
void vm_spec_image_link(const struct conf *cf, const char *name, char *buf,
    size_t len);

#endif
