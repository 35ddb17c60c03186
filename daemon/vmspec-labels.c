/*
 * The "labels" of a VM definition: {"org.unikd.oci.id": "..."}, strings
 * an orchestrator attaches to its VMs to find them again (unikd-oci
 * keeps the container's ID and name there). unikd stores and returns
 * them and acts on none; `unikctl ps` shows org.unikd.oci.name.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "uerr.h"
#include "vmspec.h"

static bool
spec_label_key_valid(const char *key)
{
	size_t i, n = strlen(key);

	if (n == 0 || n > VM_LABEL_KEY_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)key[i]) &&
		    strchr("._/-", key[i]) == NULL)
			return false;
	return true;
}

int
vm_spec_labels_parse(struct vm_spec *s, const json_t *v, struct uerr *e)
{
	const char *key;
	json_t *val;

	if (!json_is_object(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'labels': must be an object of strings");
	if (json_object_size(v) > VM_MAX_LABELS)
		return uerr_set(e, UERR_INVALID,
		    "field 'labels': at most %d labels", VM_MAX_LABELS);
	json_object_foreach((json_t *)v, key, val)
	{
		if (!spec_label_key_valid(key))
			return uerr_set(e, UERR_INVALID,
			    "field 'labels': key '%.40s' must be 1 to %d "
			    "letters, digits or ._/-",
			    key, VM_LABEL_KEY_MAX);
		if (!json_is_string(val) ||
		    json_string_length(val) > VM_LABEL_VALUE_MAX ||
		    strlen(json_string_value(val)) != json_string_length(val))
			return uerr_set(e, UERR_INVALID,
			    "field 'labels': '%s' must be a string of at most "
			    "%d bytes",
			    key, VM_LABEL_VALUE_MAX);
	}
	s->labels = json_deep_copy(v);
	return s->labels == NULL ? uerr_set(e, UERR_INTERNAL, "out of memory")
	                         : 0;
}

json_t *
vm_spec_labels_json(const struct vm_spec *s)
{
	return s->labels != NULL ? json_deep_copy(s->labels) : json_object();
}
