/*
 * Fuzz target: a VM definition as it arrives in a POST /v1/vms body.
 * Whatever the bytes, parsing must not crash or leak, and a definition
 * that is accepted must survive to_json -> from_json unchanged.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "uerr.h"
#include "vmspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf *
fuzz_conf(void)
{
	static struct conf cf;
	static int ready;

	if (!ready) {
		conf_defaults(&cf);
		free(cf.image_dirs[0]);
		cf.image_dirs[0] = strdup("/bin");
		cf.n_image_dirs = 1;
		cf.tenders[0].name = strdup("solo5-spt");
		cf.tenders[0].path = strdup("/bin/true");
		cf.n_tenders = 1;
		ready = 1;
	}
	return &cf;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_spec spec, again;
	struct uerr e;
	json_t *def, *out;
	char *a, *b;

	def = json_loadb((const char *)data, size, 0, NULL);
	if (def == NULL)
		return 0;
	memset(&spec, 0, sizeof(spec));
	if (vm_spec_from_json(&spec, def, fuzz_conf(), &e) == 0) {
		out = vm_spec_to_json(&spec);
		memset(&again, 0, sizeof(again));
		if (vm_spec_from_json(&again, out, fuzz_conf(), &e) != 0)
			abort();	/* an accepted spec must round-trip */
		a = json_dumps(out, JSON_SORT_KEYS);
		json_decref(out);
		out = vm_spec_to_json(&again);
		b = json_dumps(out, JSON_SORT_KEYS);
		if (a == NULL || b == NULL || strcmp(a, b) != 0)
			abort();
		free(a);
		free(b);
		json_decref(out);
		vm_spec_free(&again);
		vm_spec_free(&spec);
	} else if (e.status < 400 || e.status > 499 || e.message[0] == '\0')
		abort();	/* a refusal is a client error with a message */
	json_decref(def);
	return 0;
}
