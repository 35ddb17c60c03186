/*
 * The TAP ledger and its garbage collection. A TAP's row is written
 * before the TAP is made and removed after it is gone, so after any crash
 * every TAP unikd made is either in the ledger or carries the ifalias
 * "unikd:VM:NIC". The GC makes one dump of the host's links and deletes
 * every TAP so tagged whose VM is not running it; a link without the tag
 * is never touched, whatever its name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netbackend.h"
#include "network.h"
#include "store-links.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-net-internal.h"
#include "vm-net.h"
#include "vm.h"

/* A TAP as the ledger or an alias names it. */
struct gc_link {
	char tap[NB_IFNAMSIZ];
	char vm[VM_NAME_MAX + 1];
	char nic[VM_NIC_NAME_MAX + 1];
};

struct gc_list {
	struct gc_link *v;
	size_t n, cap;
};

/* One GC: the tagged TAPs to delete, the TAPs present, the ledger. */
struct gc_run {
	struct unikd *u;
	struct gc_list victims, present, ledger;
	json_t *removed;	/* what gc_sweep lists */
};

static int
gc_list_add(struct gc_list *l, const char *tap, const char *vm,
    const char *nic)
{
	struct gc_link *p;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		if ((p = reallocarray(l->v, l->cap, sizeof(*p))) == NULL)
			return -1;
		l->v = p;
	}
	p = &l->v[l->n++];
	snprintf(p->tap, sizeof(p->tap), "%s", tap);
	snprintf(p->vm, sizeof(p->vm), "%s", vm != NULL ? vm : "");
	snprintf(p->nic, sizeof(p->nic), "%s", nic != NULL ? nic : "");
	return 0;
}

static bool
gc_list_has(const struct gc_list *l, const char *tap)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].tap, tap) == 0)
			return true;
	return false;
}

static int
gc_link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gc_link *)a)->tap,
	    ((const struct gc_link *)b)->tap);
}

static bool
gc_present(const struct gc_run *r, const char *tap)
{
	struct gc_link key;

	if (r->present.n == 0)
		return false;
	snprintf(key.tap, sizeof(key.tap), "%s", tap);
	return bsearch(&key, r->present.v, r->present.n, sizeof(key),
	    gc_link_cmp) != NULL;
}

/* True when a running VM has this TAP on the NIC it names. */
static bool
gc_in_use(struct unikd *u, const char *vmname, const char *nic,
    const char *tap)
{
	struct vm *vm = vm_find(u, vmname);
	size_t i;

	if (vm == NULL || !vm_is_active(vm))
		return false;
	for (i = 0; i < vm->spec.nnics; i++)
		if (strcmp(vm->spec.nics[i].name, nic) == 0)
			return strcmp(vm->spec.nics[i].tap, tap) == 0;
	/* a running VM whose definition could not be read: its NICs are
	 * unknown, and the TAPs tagged with its name stay while it runs */
	return vm->spec_unread;
}

/* Splits "unikd:VM:NIC" (the prefix already checked). */
static void
gc_alias_split(const char *alias, char *vm, size_t vmlen, char *nic,
    size_t niclen)
{
	const char *p = alias + strlen(NB_ALIAS_PREFIX);
	const char *colon = strchr(p, ':');
	size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);

	snprintf(vm, vmlen, "%.*s", (int)(len < vmlen ? len : vmlen - 1), p);
	snprintf(nic, niclen, "%s", colon != NULL ? colon + 1 : "");
}

static int
gc_on_link(void *arg, const struct nb_link_info *link)
{
	struct gc_run *r = arg;
	char vm[VM_NAME_MAX + 1], nic[VM_NIC_NAME_MAX + 1];

	/* only TAPs: a bridge or anything else is never unikd's to GC */
	if (strcmp(link->kind, "tun") != 0)
		return 0;
	if (gc_list_add(&r->present, link->name, NULL, NULL) == -1)
		return -1;
	if (strncmp(link->alias, NB_ALIAS_PREFIX,
	    strlen(NB_ALIAS_PREFIX)) != 0)
		return 0;
	gc_alias_split(link->alias, vm, sizeof(vm), nic, sizeof(nic));
	if (gc_in_use(r->u, vm, nic, link->name))
		return 0;
	return gc_list_add(&r->victims, link->name, vm, nic);
}

static int
gc_on_row(void *arg, const char *tap, const char *vm, const char *nic)
{
	return gc_list_add(arg, tap, vm, nic);
}

int
vm_net_tap_delete(struct unikd *u, const char *tap, const char *vm,
    const char *nic)
{
	if (u->nb != NULL && nb_link_delete(u->nb, tap) == -1 &&
	    errno != ENODEV) {
		log_warnx("vm=%s nic=%s tap=%s action=delete error=\"%s\"", vm,
		    nic, tap, network_nb_failed(u));
		return -1;
	}
	if (store_link_delete(u->store, tap) == -1)
		log_warnx("tap=%s action=unledger error=\"%s\"", tap,
		    store_errmsg(u->store));
	log_info("vm=%s nic=%s tap=%s action=delete", vm, nic, tap);
	return 0;
}

static void
gc_list_removed(json_t *removed, const char *tap, const char *vm,
    const char *nic)
{
	json_array_append_new(removed, json_pack("{s:s, s:s, s:s}", "tap",
	    tap, "vm", vm, "nic", nic));
}

/* A TAP the batch deleted: listed when it is one of the victims. */
static void
gc_on_deleted(void *arg, const char *tap, const char *vm, const char *nic)
{
	struct gc_run *r = arg;

	if (!gc_list_has(&r->victims, tap))
		return;
	r->u->gc_removed_links++;
	gc_list_removed(r->removed, tap, vm, nic);
}

/* Deletes (or with dry_run lists) the victims in one batch; drops stale
 * rows. */
static void
gc_sweep(struct gc_run *r, bool dry_run, json_t *removed)
{
	const struct gc_link *l;
	size_t i;

	r->removed = removed;
	for (i = 0; i < r->victims.n; i++) {
		l = &r->victims.v[i];
		if (dry_run)
			gc_list_removed(removed, l->tap, l->vm, l->nic);
		else
			vm_net_tap_queue(r->u, l->tap, l->vm, l->nic);
	}
	if (!dry_run)
		vm_net_batch_flush(r->u, gc_on_deleted, r);
	for (i = 0; !dry_run && i < r->ledger.n; i++) {
		l = &r->ledger.v[i];
		if (gc_list_has(&r->victims, l->tap))
			continue;
		if (gc_present(r, l->tap) &&
		    gc_in_use(r->u, l->vm, l->nic, l->tap))
			continue;
		/* the link is gone, or is not ours any more */
		log_info("vm=%s nic=%s tap=%s action=unledger", l->vm, l->nic,
		    l->tap);
		store_link_delete(r->u->store, l->tap);
	}
}

int
vm_net_gc(struct unikd *u, bool dry_run, json_t **removed, struct uerr *e)
{
	struct gc_run r = {.u = u};
	int rc = -1;

	*removed = json_array();
	/* TAPs in other namespaces: their own ledger rows, not in the dump */
	if (vm_net_ns_gc(u, dry_run, *removed) == -1) {
		uerr_set(e, UERR_INTERNAL, "cannot read the TAP ledger: %s",
		    store_errmsg(u->store));
		goto out;
	}
	if (u->nb == NULL) {
		uerr_set(e, UERR_UNAVAILABLE,
		    "networking is not available on this host");
		goto out;
	}
	if (nb_link_foreach(u->nb, gc_on_link, &r) != 0) {
		uerr_set(e, UERR_INTERNAL, "cannot list the links: %s",
		    network_nb_failed(u));
		goto out;
	}
	if (store_link_foreach(u->store, gc_on_row, &r.ledger) != 0) {
		uerr_set(e, UERR_INTERNAL, "cannot read the TAP ledger: %s",
		    store_errmsg(u->store));
		goto out;
	}
	if (r.present.n > 0)
		qsort(r.present.v, r.present.n, sizeof(*r.present.v),
		    gc_link_cmp);
	gc_sweep(&r, dry_run, *removed);
	log_info("action=gc dry_run=%d removed=%zu", dry_run,
	    json_array_size(*removed));
	rc = 0;
out:
	free(r.victims.v);
	free(r.present.v);
	free(r.ledger.v);
	return rc;
}

/* A ledger row of a VM the store says is running: its NIC's TAP. */
static int
vm_net_init_row(void *arg, const char *tap, const char *vmname,
    const char *nic)
{
	struct vm *vm = vm_find(arg, vmname);
	size_t i;

	if (vm == NULL || !vm_is_active(vm))
		return 0;
	for (i = 0; i < vm->spec.nnics; i++)
		if (strcmp(vm->spec.nics[i].name, nic) == 0)
			snprintf(vm->spec.nics[i].tap,
			    sizeof(vm->spec.nics[i].tap), "%s", tap);
	return 0;
}

int
vm_net_init(struct unikd *u)
{
	struct vm *vm;
	struct vm_nic *n;
	struct uerr e = {0};
	json_t *removed = NULL;
	size_t i;

	u->network_hooks = &vm_net_hooks;
	TAILQ_FOREACH(vm, &u->vms, entry) {
		vm_net_added(vm);
		for (i = 0; i < vm->spec.nnics; i++) {
			n = &vm->spec.nics[i];
			if (n->netns[0] == '\0')
				vm_net_fill(network_find(u, n->network), n);
		}
	}
	if (store_link_foreach(u->store, vm_net_init_row, u) != 0)
		log_warnx("action=load-ledger error=\"%s\"",
		    store_errmsg(u->store));
	vm_net_ns_init(u);
	if (u->nb == NULL)
		return 0;
	if (vm_net_gc(u, false, &removed, &e) == -1)
		log_warnx("action=gc error=\"%s\"", e.message);
	json_decref(removed);
	return 0;
}
