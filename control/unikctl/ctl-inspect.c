/*
 * unikctl inspect: a VM as unikd knows it (GET /v1/vms/NAME), as pretty
 * JSON: the object for one VM, an array of them for several.
 */
#include "config.h"

#include <stdio.h>

#include "ctl.h"

static int
inspect_exec(struct ctl *c, int argc, char **argv)
{
	char path[512];
	json_t *all, *vm;
	int i, rc, ret = CTL_EXIT_OK;

	if (argc < 2)
		return ctl_usage_error(&ctl_cmd_inspect, "no VM given");
	if (argv[1][0] == '-' && argv[1][1] != '\0')
		return ctl_usage_error(
		    &ctl_cmd_inspect, "unknown option: %s", argv[1]);
	all = json_array();
	for (i = 1; i < argc; i++) {
		if (ctl_vm_path(path, sizeof(path), argv[i], "") == -1) {
			ret = CTL_EXIT_FAIL;
			continue;
		}
		rc = ctl_call(c, "GET", path, NULL, &vm);
		if (rc == CTL_EXIT_UNREACHABLE) {
			json_decref(all);
			return rc;
		}
		if (rc != 0)
			ret = rc;
		else
			json_array_append_new(all, vm);
	}
	if (argc == 2 && json_array_size(all) == 1)
		ctl_print_json(json_array_get(all, 0));
	else if (argc > 2)
		ctl_print_json(all);
	json_decref(all);
	return ret;
}

const struct ctl_cmd ctl_cmd_inspect = {
    .name = "inspect",
    .usage = "VM...",
    .summary = "show VMs as JSON",
    .exec = inspect_exec,
};
