/*
 * NICs in a foreign network namespace (an OCI container's, set up by CNI
 * or netavark): the definition names the namespace's path and a link
 * there (a veth "eth0" with an address and a default route). At start
 * unikd makes the TAP inside that namespace and joins it to the link with
 * tc redirects both ways (netbackend's nb_redirect_add); the guest gets
 * the link's MAC, and ${nic.NAME.ip}, .cidr, .gateway, .mac come from the
 * link's address and default route. The tender runs in the namespace
 * (the monitor joins it before exec), since Solo5 opens its TAP by name.
 * Nothing changes in unikd's own namespace.
 *
 * The ledger row of such a TAP names the namespace by path and nsfs
 * identity (device, inode) and the link, so the TAP and the link's filter
 * are removed after a crash too, and never in a namespace that merely
 * took the path over: a namespace that is gone took its TAP with it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netbackend.h"
#include "store-links.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-net-internal.h"
#include "vm-net.h"
#include "vm.h"

#define VM_NET_NS_TAP_ATTEMPTS 16

/* Opens the namespace at path for NIC i: the fd, or -1 and e says why
 * in the user's terms. */
static int
vm_net_ns_open(const struct vm *vm, size_t i, struct nb_netns_id *id,
    struct uerr *e)
{
	const struct vm_nic *n = &vm->spec.nics[i];
	struct nb_netns_id self;
	int fd;

	if ((fd = nb_netns_open(n->netns, id)) == -1) {
		if (errno == EMEDIUMTYPE)
			uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].netns': %s is not a network "
			    "namespace", i, n->netns);
		else if (errno == ENOENT)
			uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].netns': %s does not exist", i,
			    n->netns);
		else
			uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].netns': %s: %s", i, n->netns,
			    strerror(errno));
		return -1;
	}
	if (nb_netns_self(&self) == 0 && self.dev == id->dev &&
	    self.ino == id->ino) {
		close(fd);
		uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].netns': %s is unikd's own network "
		    "namespace: use a network instead", i, n->netns);
		return -1;
	}
	return fd;
}

/* The link's MAC and addresses into n (for placeholders and inspect). */
static void
vm_net_ns_fill(struct vm_nic *n, const struct nb_iface *ifc)
{
	nb_mac_format(ifc->link.mac, n->mac);
	n->ip[0] = n->cidr[0] = n->gateway[0] = '\0';
	if (ifc->ip4 != 0) {
		nb_ip4_format(ifc->ip4, n->ip);
		snprintf(n->cidr, sizeof(n->cidr), "%s/%u", n->ip, ifc->prefix);
	}
	if (ifc->gw4 != 0)
		nb_ip4_format(ifc->gw4, n->gateway);
}

/* The link of NIC i in the namespace nsfd: it must be there, with a MAC
 * a guest can use. */
static int
vm_net_ns_iface(struct vm *vm, size_t i, struct nb *nb, struct nb_iface *ifc,
    struct uerr *e)
{
	struct vm_nic *n = &vm->spec.nics[i];

	if (nb_iface_get(nb, n->link, ifc) == -1) {
		if (errno == ENODEV)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].link': there is no link '%s' in "
			    "%s", i, n->link, n->netns);
		return uerr_set(e, UERR_INTERNAL,
		    "nic '%s': cannot read link %s in %s: %s", n->name,
		    n->link, n->netns, nb_errmsg(nb));
	}
	if (nb_mac_is_zero(ifc->link.mac) || nb_mac_is_multicast(ifc->link.mac))
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].link': %s in %s has no unicast MAC "
		    "address to give the guest", i, n->link, n->netns);
	if (strcmp(ifc->link.kind, "tun") == 0 &&
	    strncmp(ifc->link.alias, NB_ALIAS_PREFIX,
		strlen(NB_ALIAS_PREFIX)) == 0)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].link': %s in %s is a TAP of unikd's",
		    i, n->link, n->netns);
	vm_net_ns_fill(n, ifc);
	return 0;
}

int
vm_net_ns_check(struct vm *vm, size_t i, struct uerr *e)
{
	struct vm_nic *n = &vm->spec.nics[i];
	struct nb_netns_id id;
	struct nb_iface ifc;
	struct nb *nb;
	size_t j;
	int fd, rc;

	for (j = 0; j < vm->spec.nnics; j++) {
		if (vm->spec.nics[j].netns[0] == '\0')
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu]': a VM's NICs are either all in "
			    "one namespace or all on networks (its tender runs "
			    "in the namespace)", n->netns[0] != '\0' ? j : i);
		if (strcmp(vm->spec.nics[j].netns, n->netns) != 0)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].netns': every NIC of a VM must "
			    "be in the same namespace (%s)", j, n->netns);
		if (j < i && strcmp(vm->spec.nics[j].link, n->link) == 0)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].link': link %s is already "
			    "nics[%zu]'s", i, n->link, j);
	}
	if ((fd = vm_net_ns_open(vm, i, &id, e)) == -1)
		return -1;
	if (nb_open_netns(fd, &nb) == -1) {
		close(fd);
		return uerr_set(e, UERR_INTERNAL,
		    "nic '%s': cannot open netlink in %s: %s", n->name,
		    n->netns, strerror(errno));
	}
	rc = vm_net_ns_iface(vm, i, nb, &ifc, e);
	nb_close(nb);
	close(fd);
	return rc;
}

/* Another active VM with a TAP on the same link of the same namespace,
 * or NULL: a link's frames can go to one TAP only. */
static const struct vm *
vm_net_ns_user(struct vm *vm, const struct vm_nic *n,
    const struct nb_netns_id *id)
{
	const struct vm_nic *o;
	struct vm *v;
	size_t i;

	TAILQ_FOREACH(v, &vm->u->vms, entry) {
		if (v == vm || !vm_is_active(v))
			continue;
		for (i = 0; i < v->spec.nnics; i++) {
			o = &v->spec.nics[i];
			if (o->tap[0] != '\0' && o->netns_dev == id->dev &&
			    o->netns_ino == id->ino &&
			    strcmp(o->link, n->link) == 0)
				return v;
		}
	}
	return NULL;
}

/* One NIC's TAP in the namespace: ledger row, TAP, redirects. */
static int
vm_net_ns_make(struct vm *vm, size_t i, struct nb *nb,
    const struct nb_netns_id *id, int *fdp, struct uerr *e)
{
	struct unikd *u = vm->u;
	struct vm_nic *n = &vm->spec.nics[i];
	struct nb_tap_params p = {0};
	struct store_link_ns l = {0};
	struct nb_iface ifc;
	char alias[128], tap[NB_IFNAMSIZ];
	const struct vm *other;
	uint64_t tapid;
	int attempt, fd;

	if (vm_net_ns_iface(vm, i, nb, &ifc, e) == -1)
		return -1;
	if ((other = vm_net_ns_user(vm, n, id)) != NULL)
		return uerr_set(e, UERR_CONFLICT,
		    "vm '%s': nic '%s': link %s in %s is used by vm '%s'",
		    vm->spec.name, n->name, n->link, n->netns,
		    other->spec.name);
	snprintf(alias, sizeof(alias), NB_ALIAS_PREFIX "%s:%s", vm->spec.name,
	    n->name);
	p.alias = alias;
	vm_uid_creds(vm, &p.uid, &p.gid);	/* TUNSETOWNER */
	p.mtu = ifc.link.mtu;
	p.peer = n->link;
	p.persist = fdp == NULL;
	nb_mac_host(ifc.link.mac, p.host_mac);
	l.vm = vm->spec.name;
	l.nic = n->name;
	l.netns = n->netns;
	l.dev = id->dev;
	l.ino = id->ino;
	l.peer = n->link;
	for (attempt = 0; attempt < VM_NET_NS_TAP_ATTEMPTS; attempt++) {
		if (store_link_next_id(u->store, &tapid) == -1)
			break;
		nb_tap_name(tapid, tap);
		l.tap = tap;
		/* on disk before the TAP, as in vm-net.c */
		if (store_link_ns_insert(u->store, &l, (int64_t)time(NULL)) ==
		    -1 || unikd_commit(u) == -1)
			break;
		p.name = tap;
		if (nb_tap_create(nb, &p, &fd) == 0) {
			if (fdp != NULL)
				*fdp = fd;
			snprintf(n->tap, sizeof(n->tap), "%s", tap);
			n->netns_dev = id->dev;
			n->netns_ino = id->ino;
			log_info("vm=%s nic=%s tap=%s action=create netns=%s "
			    "link=%s mac=%s", vm->spec.name, n->name, tap,
			    n->netns, n->link, n->mac);
			return 0;
		}
		store_link_delete(u->store, tap);
		if (errno != EEXIST)
			return uerr_set(e, UERR_INTERNAL,
			    "vm '%s': nic '%s': cannot make TAP %s in %s "
			    "joined to %s: %s", vm->spec.name, n->name, tap,
			    n->netns, n->link, nb_errmsg(nb));
	}
	return uerr_set(e, UERR_INTERNAL,
	    "vm '%s': nic '%s': cannot make a TAP: %s", vm->spec.name, n->name,
	    attempt < VM_NET_NS_TAP_ATTEMPTS ? store_errmsg(u->store)
	                                     : "every name tried is taken");
}

int
vm_net_ns_start(struct vm *vm, int *fds, struct uerr *e)
{
	struct nb_netns_id id;
	struct nb *nb;
	size_t i;
	int fd;

	if ((fd = vm_net_ns_open(vm, 0, &id, e)) == -1)
		return -1;
	if (nb_open_netns(fd, &nb) == -1) {
		close(fd);
		return uerr_set(e, UERR_INTERNAL,
		    "vm '%s': cannot open netlink in %s: %s", vm->spec.name,
		    vm->spec.nics[0].netns, strerror(errno));
	}
	for (i = 0; i < vm->spec.nnics; i++) {
		vm_net_ns_stop_nic(vm, &vm->spec.nics[i]);
		if (vm_net_ns_make(vm, i, nb, &id,
		    fds != NULL ? &fds[i] : NULL, e) == -1)
			goto fail;
	}
	nb_close(nb);
	vm->netns_fd = fd;	/* for the monitor, which joins it */
	return 0;
fail:
	while (fds != NULL && i-- > 0)
		close(fds[i]);
	nb_close(nb);
	close(fd);
	for (i = 0; i < vm->spec.nnics; i++)
		vm_net_ns_stop_nic(vm, &vm->spec.nics[i]);
	return -1;
}

/* Removes a TAP in a namespace and the link's filter, then its row. */
static int
vm_net_ns_unmake(struct unikd *u, const struct store_link_ns *l)
{
	struct nb_netns_id id;
	struct nb_link_info info;
	struct nb *nb = NULL;
	char alias[256];
	int fd, rc = -1;

	fd = nb_netns_open(l->netns, &id);
	if (fd == -1 || id.dev != l->dev || id.ino != l->ino) {
		/* the namespace is gone (a namespace that took its path
		 * over is not it): its links went with it */
		log_info("vm=%s nic=%s tap=%s action=delete netns=%s "
		    "gone=1", l->vm, l->nic, l->tap, l->netns);
		rc = 0;
		goto out;
	}
	if (nb_open_netns(fd, &nb) == -1) {
		log_warn("vm=%s nic=%s tap=%s action=delete netns=%s", l->vm,
		    l->nic, l->tap, l->netns);
		goto out;
	}
	if (l->peer[0] != '\0' && nb_redirect_remove(nb, l->peer) == -1 &&
	    errno != ENODEV)
		log_warnx("vm=%s nic=%s tap=%s action=unredirect link=%s "
		    "error=\"%s\"", l->vm, l->nic, l->tap, l->peer,
		    nb_errmsg(nb));
	snprintf(alias, sizeof(alias), NB_ALIAS_PREFIX "%s:%s", l->vm, l->nic);
	if (nb_link_get(nb, l->tap, &info) == 0 &&
	    (strcmp(info.kind, "tun") != 0 || strcmp(info.alias, alias) != 0))
		log_warnx("vm=%s nic=%s tap=%s action=delete netns=%s "
		    "error=\"the link is not unikd's: left alone\"", l->vm,
		    l->nic, l->tap, l->netns);
	else if (nb_link_delete(nb, l->tap) == -1 && errno != ENODEV) {
		log_warnx("vm=%s nic=%s tap=%s action=delete netns=%s "
		    "error=\"%s\"", l->vm, l->nic, l->tap, l->netns,
		    nb_errmsg(nb));
		goto out;
	}
	log_info("vm=%s nic=%s tap=%s action=delete netns=%s link=%s", l->vm,
	    l->nic, l->tap, l->netns, l->peer);
	rc = 0;
out:
	if (rc == 0 && store_link_delete(u->store, l->tap) == -1)
		log_warnx("tap=%s action=unledger error=\"%s\"", l->tap,
		    store_errmsg(u->store));
	nb_close(nb);
	if (fd != -1)
		close(fd);
	return rc;
}

/* The ledger row of one TAP (copied out: the walk's text is gone after
 * the callback). */
struct vm_net_ns_row {
	char tap[NB_IFNAMSIZ], vm[VM_NAME_MAX + 1], nic[VM_NIC_NAME_MAX + 1];
	char netns[VM_NETNS_MAX + 1], peer[VM_LINK_MAX + 1];
	uint64_t dev, ino;
};

struct vm_net_ns_rows {
	struct vm_net_ns_row *v;
	size_t n, cap;
};

static int
vm_net_ns_collect(void *arg, const struct store_link_ns *l)
{
	struct vm_net_ns_rows *r = arg;
	struct vm_net_ns_row *p;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		if ((p = reallocarray(r->v, r->cap, sizeof(*p))) == NULL)
			return -1;
		r->v = p;
	}
	p = &r->v[r->n++];
	snprintf(p->tap, sizeof(p->tap), "%s", l->tap);
	snprintf(p->vm, sizeof(p->vm), "%s", l->vm);
	snprintf(p->nic, sizeof(p->nic), "%s", l->nic);
	snprintf(p->netns, sizeof(p->netns), "%s", l->netns);
	snprintf(p->peer, sizeof(p->peer), "%s", l->peer);
	p->dev = l->dev;
	p->ino = l->ino;
	return 0;
}

/* The rows of every TAP in a namespace, or (tap not NULL) of that one. */
static int
vm_net_ns_rows(struct unikd *u, const char *tap, struct vm_net_ns_rows *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = tap != NULL
	    ? store_link_ns_get(u->store, tap, vm_net_ns_collect, r)
	    : store_link_ns_foreach(u->store, vm_net_ns_collect, r);
	if (rc != 0) {
		free(r->v);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

static int
vm_net_ns_unmake_row(struct unikd *u, const struct vm_net_ns_row *p)
{
	struct store_link_ns l = {p->tap, p->vm, p->nic, p->netns, p->dev,
	    p->ino, p->peer};

	return vm_net_ns_unmake(u, &l);
}

void
vm_net_ns_stop_nic(struct vm *vm, struct vm_nic *n)
{
	struct vm_net_ns_rows r;
	size_t i;

	if (n->tap[0] == '\0')
		return;
	/* its one row, by the TAP's name */
	if (vm_net_ns_rows(vm->u, n->tap, &r) == -1)
		log_warnx("vm=%s nic=%s tap=%s action=delete error=\"cannot "
		    "read the ledger: %s\"", vm->spec.name, n->name, n->tap,
		    store_errmsg(vm->u->store));
	for (i = 0; i < r.n; i++)
		vm_net_ns_unmake_row(vm->u, &r.v[i]);
	free(r.v);
	n->tap[0] = '\0';
	n->netns_dev = n->netns_ino = 0;
}

/* True when an active VM has this TAP on the NIC the row names. */
static bool
vm_net_ns_in_use(struct unikd *u, const struct vm_net_ns_row *p)
{
	struct vm *vm = vm_find(u, p->vm);
	size_t i;

	if (vm == NULL || !vm_is_active(vm))
		return false;
	for (i = 0; i < vm->spec.nnics; i++)
		if (strcmp(vm->spec.nics[i].name, p->nic) == 0)
			return strcmp(vm->spec.nics[i].tap, p->tap) == 0;
	return false;
}

int
vm_net_ns_gc(struct unikd *u, bool dry_run, json_t *removed)
{
	struct vm_net_ns_rows r;
	size_t i;

	if (vm_net_ns_rows(u, NULL, &r) == -1)
		return -1;
	for (i = 0; i < r.n; i++) {
		if (vm_net_ns_in_use(u, &r.v[i]))
			continue;
		if (!dry_run && vm_net_ns_unmake_row(u, &r.v[i]) == -1)
			continue;
		json_array_append_new(removed, json_pack("{s:s, s:s, s:s, "
		    "s:s}", "tap", r.v[i].tap, "vm", r.v[i].vm, "nic",
		    r.v[i].nic, "netns", r.v[i].netns));
	}
	free(r.v);
	return 0;
}

int
vm_net_ns_stats(const struct vm_nic *n, struct nb_link_stats *st)
{
	struct nb *nb;
	int fd, rc = -1;

	if ((fd = nb_netns_open(n->netns, NULL)) == -1)
		return -1;
	if (nb_open_netns(fd, &nb) == 0) {
		rc = nb_link_stats(nb, n->tap, st);
		nb_close(nb);
	}
	close(fd);
	return rc;
}

/* A restarted unikd: the TAPs of running VMs from the ledger, and their
 * links' addresses as they are now. */
void
vm_net_ns_init(struct unikd *u)
{
	struct vm_net_ns_rows r;
	struct nb_iface ifc;
	struct vm *vm;
	struct vm_nic *n;
	struct nb *nb;
	size_t i, j;
	int fd;

	if (vm_net_ns_rows(u, NULL, &r) == -1) {
		log_warnx("action=load-ledger error=\"%s\"",
		    store_errmsg(u->store));
		return;
	}
	for (i = 0; i < r.n; i++) {
		if ((vm = vm_find(u, r.v[i].vm)) == NULL || !vm_is_active(vm))
			continue;
		for (j = 0; j < vm->spec.nnics; j++) {
			n = &vm->spec.nics[j];
			if (strcmp(n->name, r.v[i].nic) != 0)
				continue;
			snprintf(n->tap, sizeof(n->tap), "%s", r.v[i].tap);
			n->netns_dev = r.v[i].dev;
			n->netns_ino = r.v[i].ino;
			if ((fd = nb_netns_open(n->netns, NULL)) == -1)
				continue;
			if (nb_open_netns(fd, &nb) == 0) {
				if (nb_iface_get(nb, n->link, &ifc) == 0)
					vm_net_ns_fill(n, &ifc);
				nb_close(nb);
			}
			close(fd);
		}
	}
	free(r.v);
}
