/*
 * The "blocks" of a VM definition: [{"name": "storage", "block": "data1"}].
 * name is the device name the unikernel's manifest declares (Solo5 takes
 * only alphanumeric names); block names a block made with POST /v1/blocks,
 * a file state_dir/blocks/BLOCK.img. The shape is checked first (400),
 * whether the blocks exist in the second pass (422).
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "uerr.h"
#include "vmspec.h"

void
vm_spec_block_path(const struct conf *cf, const char *block, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/blocks/%s.img", cf->state_dir, block);
}

void
vm_spec_image_link(const struct conf *cf, const char *name, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s/images/names/%s", cf->state_dir, name);
}

/* Solo5 refuses a device name that is not alphanumeric. */
static bool
spec_device_name_valid(const char *name)
{
	size_t i;

	if (name[0] == '\0' || strlen(name) > VM_BLOCK_NAME_MAX)
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]))
			return false;
	return true;
}

static int
spec_block_parse(struct vm_spec *s, size_t i, const json_t *o, struct uerr *e)
{
	const char *key, *name, *block;
	json_t *val;
	size_t j;

	if (!json_is_object(o))
		return uerr_set(e, UERR_INVALID,
		    "field 'blocks[%zu]': must be an object {\"name\", "
		    "\"block\"}", i);
	json_object_foreach((json_t *)o, key, val)
	{
		if (strcmp(key, "name") != 0 && strcmp(key, "block") != 0)
			return uerr_set(e, UERR_INVALID,
			    "unknown field 'blocks[%zu].%s'", i, key);
	}
	name = vm_spec_string(json_object_get(o, "name"));
	block = vm_spec_string(json_object_get(o, "block"));
	if (name == NULL || !spec_device_name_valid(name))
		return uerr_set(e, UERR_INVALID,
		    "field 'blocks[%zu].name': must be the device name of the "
		    "unikernel (letters and digits, at most %d)",
		    i, VM_BLOCK_NAME_MAX);
	if (block == NULL || !vm_name_valid(block))
		return uerr_set(e, UERR_INVALID,
		    "field 'blocks[%zu].block': must be a block name "
		    "([a-z0-9][a-z0-9_-]{0,62})", i);
	for (j = 0; j < s->nblocks; j++) {
		if (strcmp(s->blocks[j].name, name) == 0)
			return uerr_set(e, UERR_INVALID,
			    "field 'blocks[%zu].name': device '%s' is listed "
			    "twice", i, name);
		if (strcmp(s->blocks[j].block, block) == 0)
			return uerr_set(e, UERR_INVALID,
			    "field 'blocks[%zu].block': block '%s' is listed "
			    "twice", i, block);
	}
	snprintf(s->blocks[s->nblocks].name, sizeof(s->blocks[0].name), "%s",
	    name);
	snprintf(s->blocks[s->nblocks].block, sizeof(s->blocks[0].block),
	    "%s", block);
	s->nblocks++;
	return 0;
}

int
vm_spec_blocks_parse(struct vm_spec *s, const json_t *v, struct uerr *e)
{
	const json_t *o;
	size_t i;

	if (!json_is_array(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'blocks': must be an array of {\"name\", "
		    "\"block\"}");
	if (json_array_size(v) > VM_MAX_BLOCKS)
		return uerr_set(e, UERR_INVALID,
		    "field 'blocks': at most %d blocks", VM_MAX_BLOCKS);
	json_array_foreach(v, i, o)
	{
		if (spec_block_parse(s, i, o, e) == -1)
			return -1;
	}
	return 0;
}

int
vm_spec_blocks_check(const struct vm_spec *s, const struct conf *cf,
    struct uerr *e)
{
	char path[4096];
	struct stat st;
	size_t i;

	for (i = 0; i < s->nblocks; i++) {
		vm_spec_block_path(cf, s->blocks[i].block, path, sizeof(path));
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'blocks[%zu].block': block '%s' does not "
			    "exist", i, s->blocks[i].block);
	}
	return 0;
}

json_t *
vm_spec_blocks_json(const struct vm_spec *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < s->nblocks; i++) {
		if (json_array_append_new(a, json_pack("{s:s, s:s}", "name",
		    s->blocks[i].name, "block", s->blocks[i].block)) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
