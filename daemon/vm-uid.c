/*
 * One uid per VM. With [unikd] tender_uids = FIRST-LAST each VM is given
 * the lowest uid of the range no other VM holds, at create; it is kept
 * in the store with the VM (runtime column uid) and freed when the VM is
 * removed. The tender runs as that uid and as the gid of the same
 * number, so one tender cannot open another's /proc/PID/fd (ptrace
 * access needs the same uid) nor its block (chowned to its VM at each
 * start) nor its TAP (TUNSETOWNER). Without tender_uids every tender is
 * tender_user, as before. A bitmap of the range makes a pick O(range/8)
 * at worst and a release O(1).
 */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-internal.h"

struct vm_uid_map {
	uint32_t first, count;
	uint8_t bits[];
};

int
vm_uid_range_check(const struct conf *cf, FILE *errf)
{
	uint32_t first = cf->tender_uid_first, last = cf->tender_uid_last;
	struct passwd *pw;
	struct group *gr;
	int problems = 0;

	if (first == 0)
		return 0;
	/* One pass over the accounts, whatever the size of the range. */
	setpwent();
	while ((pw = getpwent()) != NULL)
		if (pw->pw_uid >= first && pw->pw_uid <= last) {
			fprintf(errf, "unikd.tender_uids: %u-%u holds the uid "
			    "%u of user '%s'; choose a range no account uses\n",
			    first, last, (unsigned)pw->pw_uid, pw->pw_name);
			problems++;
			break;
		}
	endpwent();
	setgrent();
	while ((gr = getgrent()) != NULL)
		if (gr->gr_gid >= first && gr->gr_gid <= last) {
			fprintf(errf, "unikd.tender_uids: %u-%u holds the gid "
			    "%u of group '%s'; choose a range no group uses\n",
			    first, last, (unsigned)gr->gr_gid, gr->gr_name);
			problems++;
			break;
		}
	endgrent();
	return problems;
}

static bool
vm_uid_in_map(const struct vm_uid_map *m, uint32_t uid)
{
	return m != NULL && uid >= m->first && uid - m->first < m->count;
}

static void
vm_uid_set(struct vm_uid_map *m, uint32_t uid, bool on)
{
	uint32_t i = uid - m->first;

	if (on)
		m->bits[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		m->bits[i / 8] &= (uint8_t)~(1u << (i % 8));
}

int
vm_uid_init(struct unikd *u)
{
	uint32_t count;

	if (u->cf.tender_uid_first == 0)
		return 0;
	count = u->cf.tender_uid_last - u->cf.tender_uid_first + 1;
	if ((u->vm_uids = calloc(1, sizeof(*u->vm_uids) + (count + 7) / 8)) ==
	    NULL)
		return -1;
	u->vm_uids->first = u->cf.tender_uid_first;
	u->vm_uids->count = count;
	return 0;
}

void
vm_uid_free(struct unikd *u)
{
	free(u->vm_uids);
	u->vm_uids = NULL;
}

void
vm_uid_mark(struct vm *vm)
{
	if (vm_uid_in_map(vm->u->vm_uids, vm->uid))
		vm_uid_set(vm->u->vm_uids, vm->uid, true);
}

int
vm_uid_take(struct vm *vm, struct uerr *e)
{
	struct vm_uid_map *m = vm->u->vm_uids;
	uint32_t i;

	if (m == NULL) {
		vm->uid = 0;	/* tender_user */
		return 0;
	}
	if (vm_uid_in_map(m, vm->uid))
		return 0;	/* it has one already */
	for (i = 0; i < m->count; i++) {
		if (i % 8 == 0 && m->bits[i / 8] == 0xff) {
			i += 7;	/* a full byte */
			continue;
		}
		if (!(m->bits[i / 8] & (1u << (i % 8))))
			break;
	}
	if (i == m->count)
		return uerr_set(e, UERR_CONFLICT,
		    "vm '%s': every uid of tender_uids (%u-%u) is taken",
		    vm->spec.name, m->first, m->first + m->count - 1);
	vm->uid = m->first + i;
	vm_uid_set(m, vm->uid, true);
	return 0;
}

void
vm_uid_release(struct vm *vm)
{
	if (vm_uid_in_map(vm->u->vm_uids, vm->uid))
		vm_uid_set(vm->u->vm_uids, vm->uid, false);
	vm->uid = 0;
}

void
vm_uid_creds(const struct vm *vm, uid_t *uid, gid_t *gid)
{
	if (vm->uid != 0) {
		*uid = (uid_t)vm->uid;
		*gid = (gid_t)vm->uid;
	} else {
		*uid = vm->u->tender_uid;
		*gid = vm->u->tender_gid;
	}
}
