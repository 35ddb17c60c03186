/*
 * The daemon context's own functions (see unikd.h): which tenders this
 * host has, found by driver name, probed at start and on SIGHUP (their
 * binaries, and the devices they need as the tender user).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "tender.h"
#include "unikd.h"

const struct unikd_tender *
unikd_tender_find(const struct unikd *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->ntenders; i++)
		if (strcmp(u->tenders[i].driver->name, name) == 0)
			return &u->tenders[i];
	return NULL;
}

/*
 * The devices a driver's tender opens itself, as the tender user:
 * /dev/kvm missing makes the driver unavailable, /dev/net/tun missing
 * refuses its VMs with NICs (a TAP opened by name).
 */
static void
unikd_probe_devices(struct unikd *u, struct unikd_tender *t,
    const int *errs)
{
	const struct tender_ids ids = {.uid = u->tender_uid,
	    .gid = u->tender_gid, .groups = u->tender_groups,
	    .ngroups = u->ntender_groups};
	unsigned needs = t->driver->needs;

	if ((needs & TENDER_NEEDS(TENDER_DEVICE_KVM)) &&
	    errs[TENDER_DEVICE_KVM] != 0) {
		t->available = false;
		tender_access_problem(&ids, u->cf.tender_user,
		    TENDER_DEVICE_KVM, errs[TENDER_DEVICE_KVM], t->reason,
		    sizeof(t->reason));
	}
	if ((needs & TENDER_NEEDS(TENDER_DEVICE_TUN)) &&
	    errs[TENDER_DEVICE_TUN] != 0)
		tender_access_problem(&ids, u->cf.tender_user,
		    TENDER_DEVICE_TUN, errs[TENDER_DEVICE_TUN], t->nic_reason,
		    sizeof(t->nic_reason));
}

void
unikd_probe_tenders(struct unikd *u)
{
	const struct tender_ids ids = {.uid = u->tender_uid,
	    .gid = u->tender_gid, .groups = u->tender_groups,
	    .ngroups = u->ntender_groups};
	const struct tender_driver *const *d;
	const struct conf_tender *tc;
	struct unikd_tender *t;
	int errs[TENDER_NDEVICES];
	const char *path;
	size_t i;

	/* one child for every driver: the devices are the same */
	if (tender_access_probe(&ids, errs) == -1) {
		log_warn("tender_user=%s action=probe-devices",
		    u->cf.tender_user);
		for (i = 0; i < TENDER_NDEVICES; i++)
			errs[i] = errno;
	}
	for (i = 0; i < TENDER_NDEVICES; i++)
		if (errs[i] != 0)
			log_info("tender_user=%s device=%s access=no "
			    "error=\"%s\"", u->cf.tender_user,
			    tender_device_paths[i], strerror(errs[i]));
	u->ntenders = 0;
	for (d = tender_drivers; *d != NULL; d++) {
		if (u->ntenders == sizeof(u->tenders) / sizeof(u->tenders[0]))
			break;
		t = &u->tenders[u->ntenders++];
		memset(t, 0, sizeof(*t));
		t->driver = *d;
		tc = conf_tender_find(&u->cf, (*d)->name);
		path = tc != NULL && tc->path != NULL ? tc->path :
		    (*d)->default_path;
		if (path == NULL) {
			snprintf(t->version, sizeof(t->version),
			    "no path configured ([tender.%s] path)",
			    (*d)->name);
			memcpy(t->reason, t->version, sizeof(t->version));
			continue;
		}
		snprintf(t->path, sizeof(t->path), "%s", path);
		t->available = (*d)->probe(path, t->version,
		    sizeof(t->version)) == 0;
		if (!t->available)	/* reason is the larger */
			memcpy(t->reason, t->version, sizeof(t->version));
		else
			unikd_probe_devices(u, t, errs);
		log_info("tender=%s path=%s available=%s version=\"%s\"%s%s%s",
		    (*d)->name, path, t->available ? "yes" : "no", t->version,
		    t->available ? "" : " reason=\"", t->available ? "" :
		    t->reason, t->available ? "" : "\"");
	}
}
