/*
 * VMs whose stored definition no longer validates: an image deleted or a
 * tender unconfigured while unikd was down, a limit lowered. Such a VM
 * is loaded all the same, with its state as the store has it, so a
 * monitor still running is adopted and its VM stays controllable (stop,
 * kill, rm; its TAPs and blocks kept while it runs). What is wrong is the
 * VM's `problem`; it blocks only the next start, which checks the
 * definition again (the image may be back).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-internal.h"

int
vm_problem_load(struct vm *vm, const struct store_vm_row *row,
    json_t *def)
{
	struct uerr problem = {0};
	int rc = -1;

	if (def == NULL)
		uerr_set(&problem, UERR_INTERNAL, "unreadable JSON");
	else
		rc = vm_spec_load(&vm->spec, def, &vm->u->cf, &problem);
	if (rc == 0)
		return 0;
	if (rc == -1) {
		/* Not even its shape: only the name is known. */
		vm->spec_unread = true;
		snprintf(vm->spec.name, sizeof(vm->spec.name), "%s",
		    row->name);
		vm->spec.image = strdup("");
		vm->spec.args = calloc(1, sizeof(char *));
		if (vm->spec.image == NULL || vm->spec.args == NULL)
			return -1;
	}
	snprintf(vm->problem, sizeof(vm->problem),
	    "invalid definition: %.200s", problem.message);
	vm->def = json_incref(def);
	log_warnx("vm=%s action=load problem=\"%s\"", row->name,
	    problem.message);
	return 0;
}

int
vm_problem_recheck(struct vm *vm, struct uerr *e)
{
	struct vm_spec fresh;
	struct uerr why = {0};
	char *tmp;

	if (vm->problem[0] == '\0')
		return 0;
	if (vm->def == NULL || vm_spec_from_json(&fresh, vm->def,
	    &vm->u->cf, &why) == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s' cannot start: invalid definition: %s",
		    vm->spec.name, vm->def == NULL ?
		    vm->problem + strlen("invalid definition: ") : why.message);
	/* Valid again. The definition is the same, so only what the host
	 * checks resolved differs; the rest of the spec (NIC TAPs, the
	 * MAC set's pointers) stays as it is. */
	snprintf(vm->spec.tender, sizeof(vm->spec.tender), "%s",
	    fresh.tender);
	tmp = vm->spec.image;
	vm->spec.image = fresh.image;
	fresh.image = tmp;
	tmp = vm->spec.image_name;
	vm->spec.image_name = fresh.image_name;
	fresh.image_name = tmp;
	vm_spec_free(&fresh);
	json_decref(vm->def);
	vm->def = NULL;
	vm->problem[0] = '\0';
	vm_json_forget(vm);
	log_info("vm=%s action=recheck problem=none", vm->spec.name);
	return 0;
}
