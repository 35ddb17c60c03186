/*
 * The Solo5 manifest of a unikernel image: the devices it declares (an
 * ELF note "Solo5"/"MFT1") and the target it was built for (the note
 * "Solo5"/"ABI1": hvt, spt, virtio...). The image is untrusted: every
 * offset and size is checked against the file before it is read, and a
 * malformed note is an error, never a crash.
 */
#ifndef UNIKD_SOLO5_MANIFEST_H
#define UNIKD_SOLO5_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define SOLO5_MFT_MAX_ENTRIES 64	/* Solo5's own limit, reserved entry
					 * included */
#define SOLO5_MFT_NAME_MAX 67		/* characters */

enum solo5_dev_type {
	SOLO5_DEV_BLOCK = 1,	/* MFT_DEV_BLOCK_BASIC */
	SOLO5_DEV_NET = 2,	/* MFT_DEV_NET_BASIC */
};

struct solo5_device {
	char name[SOLO5_MFT_NAME_MAX + 1];
	enum solo5_dev_type type;
};

struct solo5_manifest {
	char target[16];	/* "hvt", "spt", "virtio", ...; "" if no ABI
				 * note */
	unsigned abi_version;
	struct solo5_device devices[SOLO5_MFT_MAX_ENTRIES];
	size_t ndevices;	/* the reserved first entry left out */
};

/*
 * Reads the manifest of the image open at fd (image-open.c opens it; the
 * file offset is not used). 0: m is filled. 1: the file is not a 64-bit
 * ELF or has no Solo5 manifest note (m zeroed). -1: the file cannot be
 * read, is not a regular file, or the ELF or note is malformed; err
 * says why.
 */
int solo5_manifest_read_fd(int fd, struct solo5_manifest *m, char *err,
    size_t errlen);
/* The same for an image held in memory. */
int solo5_manifest_parse(const void *buf, size_t len,
    struct solo5_manifest *m, char *err, size_t errlen);

/* "net" or "block". */
const char *solo5_dev_type_name(enum solo5_dev_type);
/* {"target": s|null, "abi_version": n, "devices": [{"name","type"}]} */
json_t *solo5_manifest_json(const struct solo5_manifest *m);
/* The manifest of the image open at fd as above; null when it has none,
 * {"error": "PATH: ..."} when it cannot be read or is malformed. */
json_t *solo5_manifest_fd_json(int fd, const char *path);

#endif
