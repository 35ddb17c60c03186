/*
 * NICs on VMs: checks and leases at create, TAPs at start and after exit,
 * the host's set of guest MACs (see vm-net.h). The ledger and GC are in
 * vm-net-gc.c, batched TAP deletion in vm-net-batch.c.
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
#include "network.h"
#include "placeholder.h"
#include "store-links.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-net-internal.h"
#include "vm-net.h"
#include "vm.h"

#define VM_NET_MAC_BUCKETS 8192
#define VM_NET_MAC_ATTEMPTS 1024	/* generated MACs tried per NIC */
#define VM_NET_TAP_ATTEMPTS 16		/* TAP names tried (EEXIST) */

/* One guest MAC on the host, and the NIC that has it. */
struct vm_mac_entry {
	uint64_t mac;
	const struct vm *vm;
	const char *nic;
	struct vm_mac_entry *next;
};

struct vm_mac_set {
	struct vm_mac_entry *buckets[VM_NET_MAC_BUCKETS];
};

static uint64_t
vm_net_mac_key(const char *s)
{
	uint8_t m[6];
	uint64_t k = 0;
	int i;

	if (nb_mac_parse(s, m) == -1)
		return 0;
	for (i = 0; i < 6; i++)
		k = k << 8 | m[i];
	return k;
}

static size_t
vm_net_mac_hash(uint64_t k)
{
	return (size_t)((k * 0x9e3779b97f4a7c15ULL) >> 51) %
	    VM_NET_MAC_BUCKETS;
}

/* The entry holding mac, or NULL. */
static struct vm_mac_entry *
vm_net_mac_find(struct unikd *u, uint64_t mac)
{
	struct vm_mac_entry *m;

	if (u->vm_macs == NULL)
		return NULL;
	for (m = u->vm_macs->buckets[vm_net_mac_hash(mac)]; m != NULL;
	    m = m->next)
		if (m->mac == mac)
			return m;
	return NULL;
}

static void
vm_net_mac_add(struct unikd *u, const struct vm *vm, const struct vm_nic *n)
{
	struct vm_mac_entry *m;
	uint64_t k = vm_net_mac_key(n->mac);
	size_t h = vm_net_mac_hash(k);

	if (u->vm_macs == NULL &&
	    (u->vm_macs = calloc(1, sizeof(*u->vm_macs))) == NULL)
		fatal("vm_net_mac_add");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("vm_net_mac_add");
	m->mac = k;
	m->vm = vm;
	m->nic = n->name;
	m->next = u->vm_macs->buckets[h];
	u->vm_macs->buckets[h] = m;
}

static void
vm_net_mac_del(struct unikd *u, const struct vm *vm, const struct vm_nic *n)
{
	struct vm_mac_entry **p, *m;
	uint64_t k = vm_net_mac_key(n->mac);

	if (u->vm_macs == NULL)
		return;
	for (p = &u->vm_macs->buckets[vm_net_mac_hash(k)]; *p != NULL;
	    p = &(*p)->next) {
		m = *p;
		if (m->mac == k && m->vm == vm) {
			*p = m->next;
			free(m);
			return;
		}
	}
}

/* True when mac is taken on the host or by an earlier NIC of the VM. */
static bool
vm_net_mac_taken(struct vm *vm, size_t i, uint64_t k, struct uerr *e)
{
	struct vm_mac_entry *m = vm_net_mac_find(vm->u, k);
	const struct vm_nic *n = &vm->spec.nics[i];
	size_t j;

	if (m != NULL) {
		uerr_set(e, UERR_CONFLICT,
		    "field 'nics[%zu].mac': %s is used by vm '%s' (nic '%s')",
		    i, n->mac, m->vm->spec.name, m->nic);
		return true;
	}
	for (j = 0; j < i; j++) {
		if (vm_net_mac_key(vm->spec.nics[j].mac) == k) {
			uerr_set(e, UERR_CONFLICT,
			    "field 'nics[%zu].mac': %s is used by nic '%s' of "
			    "the same vm",
			    i, n->mac, vm->spec.nics[j].name);
			return true;
		}
	}
	return false;
}

/* A generated MAC that no one on the host has: stable per VM and NIC
 * (attempt 0), stepping past collisions. */
static int
vm_net_mac_pick(struct vm *vm, size_t i, struct uerr *e)
{
	struct vm_nic *n = &vm->spec.nics[i];
	struct uerr ignored;
	uint8_t mac[6];
	unsigned attempt;

	for (attempt = 0; attempt < VM_NET_MAC_ATTEMPTS; attempt++) {
		nb_mac_generate(vm->spec.name, n->name, attempt, mac);
		nb_mac_format(mac, n->mac);
		if (!vm_net_mac_taken(vm, i, vm_net_mac_key(n->mac), &ignored))
			return 0;
	}
	n->mac[0] = '\0';
	return uerr_set(e, UERR_CONFLICT,
	    "field 'nics[%zu].mac': no free MAC address found", i);
}

void
vm_net_fill(struct network *net, struct vm_nic *n)
{
	uint32_t addr;

	n->cidr[0] = n->gateway[0] = '\0';
	if (net == NULL)
		return;
	if (net->gateway != 0)
		nb_ip4_format(net->gateway, n->gateway);
	if (n->ip[0] != '\0' && nb_ip4_parse(n->ip, &addr) == 0)
		snprintf(n->cidr, sizeof(n->cidr), "%s/%u", n->ip,
		    net->subnet.prefix);
}

/* The args with every placeholder given a value where one will exist at
 * start (strict: a placeholder with none is refused now). */
static int
vm_net_check_args(struct vm *vm, struct uerr *e)
{
	struct vm_nic *nics;
	struct network *net;
	char *out;
	size_t i;
	int rc = 0;

	if (vm->spec.nargs == 0)
		return 0;
	if (vm->spec.nnics > 0 &&
	    (nics = calloc(vm->spec.nnics, sizeof(*nics))) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	if (vm->spec.nnics == 0)
		nics = NULL;
	for (i = 0; i < vm->spec.nnics; i++) {
		nics[i] = vm->spec.nics[i];
		snprintf(nics[i].tap, sizeof(nics[i].tap), "tap");
		if (nics[i].netns[0] != '\0')	/* the link's, read already */
			continue;
		net = network_find(vm->u, nics[i].network);
		if (nics[i].ip[0] == '\0' && net != NULL && net->has_subnet)
			snprintf(nics[i].ip, sizeof(nics[i].ip), "0.0.0.0");
		vm_net_fill(net, &nics[i]);
	}
	for (i = 0; rc == 0 && i < vm->spec.nargs; i++) {
		rc = placeholder_expand(vm->spec.args[i], nics, vm->spec.nnics,
		    true, &out, e);
		if (rc == -1)
			uerr_set(e, UERR_UNPROCESSABLE, "field 'args[%zu]': %.400s",
			    i, e->message);
		free(out);
	}
	free(nics);
	return rc;
}

/* The network NIC i is on: a 422 naming the field when there is none. */
static struct network *
vm_net_network(struct vm *vm, size_t i, struct uerr *e)
{
	const char *name = vm->spec.nics[i].network;
	struct network *net = network_find(vm->u, name);

	if (net == NULL)
		uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].network': network '%s' does not exist", i,
		    name);
	return net;
}

int
vm_net_check(struct vm *vm, struct uerr *e)
{
	struct vm_nic *n;
	struct network *net;
	size_t i;

	for (i = 0; i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		if (n->netns[0] != '\0') {
			if (vm_net_ns_check(vm, i, e) == -1)
				return -1;
			continue;
		}
		if ((net = vm_net_network(vm, i, e)) == NULL)
			return -1;
		if (n->ip[0] != '\0' && !net->has_subnet)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nics[%zu].ip': network '%s' has no subnet "
			    "to take %s from",
			    i, net->name, n->ip);
		if (n->mac[0] != '\0') {
			if (vm_net_mac_taken(vm, i, vm_net_mac_key(n->mac), e))
				return -1;
		} else if (vm_net_mac_pick(vm, i, e) == -1)
			return -1;
	}
	return vm_net_check_args(vm, e);
}

int
vm_net_lease(struct vm *vm, struct uerr *e)
{
	struct vm_nic *n;
	struct network *net;
	uint32_t want, got;
	struct uerr le = {0};
	size_t i;

	for (i = 0; i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		if (n->netns[0] != '\0')	/* the link has its address */
			continue;
		if ((net = vm_net_network(vm, i, e)) == NULL)
			return -1;
		if (net->has_subnet) {
			want = 0;
			if (n->ip[0] != '\0' && nb_ip4_parse(n->ip, &want) == -1)
				return uerr_set(e, UERR_INVALID,
				    "field 'nics[%zu].ip': not an address", i);
			if (network_lease(vm->u, net, vm->spec.name, n->name,
			    want, &got, &le) == -1)
				return uerr_set(e, le.status,
				    "field 'nics[%zu].ip': %s", i, le.message);
			nb_ip4_format(got, n->ip);
		}
		vm_net_fill(net, n);
	}
	return 0;
}

int
vm_net_record(struct vm *vm, struct uerr *e)
{
	const struct vm_nic *n;
	size_t i;

	for (i = 0; i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		if (store_vm_nic_insert(vm->u->store, vm->spec.name, n->name,
		    n->network, n->mac, n->ip) == -1)
			return uerr_set(e, UERR_INTERNAL,
			    "vm '%s': state store: %s", vm->spec.name,
			    store_errmsg(vm->u->store));
	}
	return 0;
}

void
vm_net_unlease(struct vm *vm)
{
	if (vm->spec.nnics > 0)
		network_release_vm(vm->u, vm->spec.name);
}

void
vm_net_added(struct vm *vm)
{
	size_t i;

	/* a MAC in another namespace is another L2 domain's business */
	for (i = 0; i < vm->spec.nnics; i++)
		if (vm->spec.nics[i].netns[0] == '\0')
			vm_net_mac_add(vm->u, vm, &vm->spec.nics[i]);
}

/* Makes the TAP of one NIC: a new name, its ledger row, then the link.
 * With fdp, the TAP is not persistent and *fdp gets its open fd. */
static int
vm_net_tap_make(struct vm *vm, struct network *net, struct vm_nic *n,
    int *fdp, struct uerr *e)
{
	struct unikd *u = vm->u;
	struct nb_tap_params p = {0};
	char alias[128], tap[NB_IFNAMSIZ];
	uint8_t guest[6];
	uint64_t id;
	int attempt, fd, saved;

	snprintf(alias, sizeof(alias), NB_ALIAS_PREFIX "%s:%s", vm->spec.name,
	    n->name);
	if (nb_mac_parse(n->mac, guest) == -1)
		return uerr_set(e, UERR_INTERNAL, "vm '%s': nic '%s': bad MAC",
		    vm->spec.name, n->name);
	p.alias = alias;
	vm_uid_creds(vm, &p.uid, &p.gid);	/* TUNSETOWNER */
	p.mtu = net->mtu;
	p.bridge = net->bridge;
	p.isolated = net->isolated;
	/* Solo5 opens its TAP by name; qemu takes the fd, and the TAP
	 * goes with its last descriptor */
	p.persist = fdp == NULL;
	nb_mac_host(guest, p.host_mac);
	for (attempt = 0; attempt < VM_NET_TAP_ATTEMPTS; attempt++) {
		if (store_link_next_id(u->store, &id) == -1)
			break;
		nb_tap_name(id, tap);
		/* the ledger row comes first, on disk, so a crash leaves
		 * no link unikd does not know of */
		if (store_link_insert(u->store, tap, vm->spec.name, n->name,
		    (int64_t)time(NULL)) == -1 || unikd_commit(u) == -1)
			break;
		p.name = tap;
		if (nb_tap_create(u->nb, &p, &fd) == 0) {
			if (fdp != NULL)
				*fdp = fd;
			snprintf(n->tap, sizeof(n->tap), "%s", tap);
			log_info("vm=%s nic=%s tap=%s action=create bridge=%s "
			    "mac=%s", vm->spec.name, n->name, tap, net->bridge,
			    n->mac);
			return 0;
		}
		saved = errno;
		store_link_delete(u->store, tap);
		if (saved == EXFULL)	/* a port added since the count */
			return network_ports_check(net, NETWORK_MAX_PORTS + 1,
			    e);
		if (saved != EEXIST)	/* EEXIST: a link of ours' name */
			return uerr_set(e, UERR_INTERNAL,
			    "vm '%s': nic '%s': cannot make TAP %s on bridge "
			    "%s: %s",
			    vm->spec.name, n->name, tap, net->bridge,
			    network_nb_failed(u));
	}
	return uerr_set(e, UERR_INTERNAL,
	    "vm '%s': nic '%s': cannot make a TAP: %s", vm->spec.name, n->name,
	    attempt < VM_NET_TAP_ATTEMPTS ? store_errmsg(u->store)
	                                  : "every name tried is taken");
}

int
vm_net_ports_check(struct vm *vm, struct uerr *e)
{
	struct network *net;
	unsigned want;
	size_t i, j;

	for (i = 0; i < vm->spec.nnics; i++) {
		if ((net = network_find(vm->u, vm->spec.nics[i].network)) ==
		    NULL)
			continue;	/* said below */
		for (want = 0, j = 0; j < vm->spec.nnics; j++)
			want += strcmp(vm->spec.nics[j].network,
			            vm->spec.nics[i].network) == 0;
		if (network_ports_check(net, want, e) == -1)
			return -1;
	}
	return 0;
}

int
vm_net_start(struct vm *vm, struct uerr *e)
{
	return vm_net_start_fds(vm, NULL, e);
}

int
vm_net_start_fds(struct vm *vm, int *fds, struct uerr *e)
{
	struct network *net;
	struct vm_nic *n;
	size_t i;

	if (vm->spec.nnics == 0)
		return 0;
	if (vm->spec.nics[0].netns[0] != '\0')
		return vm_net_ns_start(vm, fds, e);
	if (vm->u->nb == NULL)
		return uerr_set(e, UERR_UNAVAILABLE,
		    "vm '%s': networking is not available on this host",
		    vm->spec.name);
	if (vm_net_ports_check(vm, e) == -1)
		return -1;
	/* the VM's own TAPs still queued go first, as they did when
	 * deleted at once; other VMs' wait for the deferred flush */
	vm_net_batch_flush_vm(vm->u, vm->spec.name);
	for (i = 0; i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		if ((net = network_find(vm->u, n->network)) == NULL) {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "vm '%s': nic '%s': network '%s' does not exist",
			    vm->spec.name, n->name, n->network);
			goto fail;
		}
		if (net->problem[0] != '\0') {
			uerr_set(e, UERR_CONFLICT,
			    "vm '%s': nic '%s': network '%s' is degraded: %s",
			    vm->spec.name, n->name, n->network, net->problem);
			goto fail;
		}
		vm_net_fill(net, n);
		if (n->tap[0] != '\0')	/* a TAP left from an earlier run */
			vm_net_tap_queue(vm->u, n->tap, vm->spec.name,
			    n->name);
		n->tap[0] = '\0';
		if (vm_net_tap_make(vm, net, n, fds != NULL ? &fds[i] : NULL,
		    e) == -1)
			goto fail;
	}
	return 0;
fail:
	while (fds != NULL && i-- > 0)
		close(fds[i]);
	vm_net_stop(vm);
	return -1;
}

void
vm_net_stop(struct vm *vm)
{
	struct vm_nic *n;
	size_t i;

	if (vm->netns_fd != -1) {
		close(vm->netns_fd);
		vm->netns_fd = -1;
	}
	for (i = 0; i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		if (n->tap[0] == '\0')
			continue;
		if (n->netns[0] != '\0') {
			vm_net_ns_stop_nic(vm, n);
			continue;
		}
		vm_net_tap_queue(vm->u, n->tap, vm->spec.name, n->name);
		n->tap[0] = '\0';
	}
}

void
vm_net_remove(struct vm *vm)
{
	size_t i;

	if (vm->spec.nnics == 0)
		return;
	vm_net_stop(vm);
	for (i = 0; i < vm->spec.nnics; i++)
		if (vm->spec.nics[i].netns[0] == '\0')
			vm_net_mac_del(vm->u, vm, &vm->spec.nics[i]);
	network_release_vm(vm->u, vm->spec.name);
	if (store_vm_nic_delete_vm(vm->u->store, vm->spec.name) == -1)
		log_warnx("vm=%s action=remove-nics error=\"%s\"",
		    vm->spec.name, store_errmsg(vm->u->store));
}

void
vm_net_shutdown(struct unikd *u)
{
	struct vm_mac_entry *m;
	size_t i;

	vm_net_batch_free(u);
	if (u->vm_macs == NULL)
		return;
	for (i = 0; i < VM_NET_MAC_BUCKETS; i++) {
		while ((m = u->vm_macs->buckets[i]) != NULL) {
			u->vm_macs->buckets[i] = m->next;
			free(m);
		}
	}
	free(u->vm_macs);
	u->vm_macs = NULL;
}

static json_t *
vm_net_str(const char *s)
{
	return s[0] != '\0' ? json_string(s) : json_null();
}

json_t *
vm_net_json(const struct vm *vm)
{
	const struct vm_nic *n;
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < vm->spec.nnics; i++) {
		n = &vm->spec.nics[i];
		json_array_append_new(a,
		    json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"name", n->name, "network", vm_net_str(n->network),
			"netns", vm_net_str(n->netns), "link",
			vm_net_str(n->link), "mac", vm_net_str(n->mac), "ip",
			vm_net_str(n->ip), "cidr", vm_net_str(n->cidr),
			"gateway", vm_net_str(n->gateway), "tap",
			vm_net_str(n->tap)));
	}
	return a;
}

/* network_hooks: net's bridge was made again. */
static void
vm_net_reattach(struct unikd *u, struct network *net)
{
	struct vm *vm;
	struct vm_nic *n;
	size_t i;

	TAILQ_FOREACH(vm, &u->vms, entry) {
		if (!vm_is_active(vm))
			continue;
		for (i = 0; i < vm->spec.nnics; i++) {
			n = &vm->spec.nics[i];
			if (n->tap[0] == '\0' ||
			    strcmp(n->network, net->name) != 0)
				continue;
			if (nb_tap_attach(u->nb, n->tap, net->bridge,
			    net->isolated) == -1)
				log_warnx("vm=%s nic=%s tap=%s action=attach "
				    "bridge=%s error=\"%s\"", vm->spec.name,
				    n->name, n->tap, net->bridge,
				    network_nb_failed(u));
			else
				log_info("vm=%s nic=%s tap=%s action=attach "
				    "bridge=%s", vm->spec.name, n->name, n->tap,
				    net->bridge);
		}
	}
}

/* network_hooks: the VMs with a NIC on net. */
static json_t *
vm_net_users(struct unikd *u, const struct network *net)
{
	json_t *names = json_array();
	struct vm *vm;
	size_t i;

	TAILQ_FOREACH(vm, &u->vms, entry)
		for (i = 0; names != NULL && i < vm->spec.nnics; i++)
			if (strcmp(vm->spec.nics[i].network, net->name) == 0) {
				json_array_append_new(
				    names, json_string(vm->spec.name));
				break;
			}
	return names;
}

const struct network_hooks vm_net_hooks = {
    .remade = vm_net_reattach,
    .users = vm_net_users,
};
