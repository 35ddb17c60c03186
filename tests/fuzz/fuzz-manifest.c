/*
 * Fuzz target: an image file as the Solo5 manifest reader sees it.
 * Whatever the bytes, reading must not crash, read out of bounds or
 * leak, and a manifest that is accepted must be well-formed: at most 64
 * devices, each with a non-empty alphanumeric name and a known type.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "solo5-manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct solo5_manifest m;
	char err[256];
	size_t i, k;
	json_t *j;

	if (solo5_manifest_parse(data, size, &m, err, sizeof(err)) != 0)
		return 0;
	if (m.ndevices >= SOLO5_MFT_MAX_ENTRIES)
		abort();
	for (i = 0; i < m.ndevices; i++) {
		if (m.devices[i].name[0] == '\0')
			abort();
		for (k = 0; m.devices[i].name[k] != '\0'; k++)
			if (!isalnum((unsigned char)m.devices[i].name[k]))
				abort();
		if (m.devices[i].type != SOLO5_DEV_NET &&
		    m.devices[i].type != SOLO5_DEV_BLOCK)
			abort();
	}
	j = solo5_manifest_json(&m);
	if (j == NULL)
		abort();
	json_decref(j);
	return 0;
}
