/*
 * Networks: the table of them (a list in creation order and a hash by
 * name), their life cycle on the host (bridge made or adopted, NAT) and
 * in the store, and the watch on link notifications that puts back a
 * bridge deleted behind unikd's back and re-attaches its TAPs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lease.h"
#include "log.h"
#include "network.h"
#include "store-net.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"
#include "vm.h"

#define NETWORK_TABLE_SIZE 256

struct network_table {
	struct network *buckets[NETWORK_TABLE_SIZE];
};

/* FNV-1a. */
static size_t
network_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name != '\0')
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h % NETWORK_TABLE_SIZE;
}

const char *
network_nb_failed(struct unikd *u)
{
	u->netlink_errors++;
	return nb_errmsg(u->nb);
}

struct network *
network_find(struct unikd *u, const char *name)
{
	struct network *net;

	if (u->network_table == NULL)
		return NULL;
	for (net = u->network_table->buckets[network_hash(name)]; net != NULL;
	     net = net->hash_next)
		if (strcmp(net->name, name) == 0)
			return net;
	return NULL;
}

static void
network_table_insert(struct unikd *u, struct network *net)
{
	size_t h = network_hash(net->name);

	net->hash_next = u->network_table->buckets[h];
	u->network_table->buckets[h] = net;
	TAILQ_INSERT_TAIL(&u->networks, net, entry);
	u->nnetworks++;
}

static void
network_table_remove(struct unikd *u, struct network *net)
{
	struct network **p =
	    &u->network_table->buckets[network_hash(net->name)];

	while (*p != NULL && *p != net)
		p = &(*p)->hash_next;
	if (*p != NULL)
		*p = net->hash_next;
	TAILQ_REMOVE(&u->networks, net, entry);
	u->nnetworks--;
}

static void
network_free(struct network *net)
{
	lease_unload(net);
	free(net);
}

/* "10.0.0.0/24" (which "10.0.0.1/24" with the gateway). */
static void
network_cidr(const struct network *net, uint32_t addr, char out[24])
{
	char ip[16];

	lease_ip_format(addr, ip);
	snprintf(out, 24, "%s/%u", ip, net->subnet.prefix);
}

static void
network_bridge_params(
    const struct network *net, struct nb_bridge_params *p, char ipv4[24])
{
	memset(p, 0, sizeof(*p));
	p->name = net->bridge;
	p->mtu = net->mtu;
	if (net->has_subnet) {
		network_cidr(net, net->gateway, ipv4);
		p->ipv4 = ipv4;
	}
	if (net->ipv6_gateway[0] != '\0')
		p->ipv6 = net->ipv6_gateway;
}

/* A new network's bridge: adopted when a bridge of that name is there,
 * made otherwise; *made says which. */
static int
network_bridge_make(
    struct unikd *u, struct network *net, bool *made, struct uerr *e)
{
	struct nb_bridge_params p;
	struct nb_link_info li;
	char ipv4[24];

	*made = false;
	network_bridge_params(net, &p, ipv4);
	if (nb_link_get(u->nb, net->bridge, &li) == 0) {
		if (strcmp(li.kind, "bridge") != 0)
			return uerr_set(e, UERR_CONFLICT,
			    "a link named '%s' "
			    "exists and is not a bridge (%s)",
			    net->bridge,
			    li.kind[0] != '\0' ? li.kind : "no kind");
		net->adopted = true;
		if (nb_bridge_ensure(u->nb, &p) == -1)
			return uerr_set(e, UERR_INTERNAL,
			    "cannot set up bridge "
			    "'%s': %s",
			    net->bridge, network_nb_failed(u));
		return 0;
	}
	if (errno != ENODEV)
		return uerr_set(e, UERR_INTERNAL,
		    "cannot look up link '%s': "
		    "%s",
		    net->bridge, network_nb_failed(u));
	if (nb_bridge_create(u->nb, &p) == -1)
		return uerr_set(e,
		    errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
		    "cannot create bridge '%s': %s", net->bridge,
		    network_nb_failed(u));
	*made = true;
	return 0;
}

static int
network_nat_make(struct unikd *u, const struct network *net)
{
	char cidr[24];

	network_cidr(net, net->subnet.addr, cidr);
	return nb_nat_add(u->nb, net->name, cidr, net->bridge);
}

static int
network_store(struct unikd *u, const struct network *net, struct uerr *e)
{
	json_t *spec = network_spec_json(net);
	char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	int rc;

	json_decref(spec);
	if (text == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	rc = store_net_insert(u->store, net->name, text);
	free(text);
	if (rc == -1)
		return uerr_set(e,
		    errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
		    "cannot store network '%s': %s", net->name,
		    store_errmsg(u->store));
	return 0;
}

/* 409 when the subnet overlaps an address or a connected route some
 * link already has in unikd's network namespace: guests would shadow
 * (or be shadowed by) hosts the host reaches there. The bridge being
 * adopted may carry the gateway already. */
static int
network_host_clash(struct unikd *u, const struct network *net, struct uerr *e)
{
	struct nb_ip4_user who;
	char a[16], b[16];
	int rc;

	if (!net->has_subnet)
		return 0;
	if ((rc = nb_ip4_in_use(u->nb, &net->subnet, net->bridge, &who)) == -1)
		return uerr_set(e, UERR_INTERNAL,
		    "cannot list the host's addresses: %s",
		    network_nb_failed(u));
	if (rc == 0)
		return 0;
	lease_ip_format(net->subnet.addr, a);
	lease_ip_format(who.net.addr, b);
	return uerr_set(e, UERR_CONFLICT,
	    "subnet %s/%u overlaps %s %s/%u of interface '%s'", a,
	    net->subnet.prefix, who.what, b, who.net.prefix, who.link);
}

int
network_create(
    struct unikd *u, const json_t *def, struct network **out, struct uerr *e)
{
	struct network *net;
	bool made = false;

	if ((net = calloc(1, sizeof(*net))) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	if (network_from_def(u, def, net, e) == -1)
		goto fail;
	if (u->nb == NULL) {
		uerr_set(e, UERR_UNAVAILABLE, "networking is not available");
		goto fail;
	}
	if (network_host_clash(u, net, e) == -1)
		goto fail;
	net->created_at = time(NULL);
	if (lease_load(u, net) == -1) {
		uerr_set(e, UERR_INTERNAL, "cannot load the leases of '%s'",
		    net->name);
		goto fail;
	}
	if (network_bridge_make(u, net, &made, e) == -1)
		goto fail;
	if (net->nat && network_nat_make(u, net) == -1) {
		uerr_set(e, UERR_INTERNAL, "cannot set up NAT for '%s': %s",
		    net->name, network_nb_failed(u));
		goto undo;
	}
	if (network_store(u, net, e) == -1)
		goto undo;
	network_table_insert(u, net);
	log_info("network=%s bridge=%s action=create adopted=%s nat=%s",
	    net->name, net->bridge, net->adopted ? "yes" : "no",
	    net->nat ? "yes" : "no");
	unikd_event(u, "network.created", NULL,
	    json_pack("{s:s}", "network", net->name));
	*out = net;
	return 0;
undo:
	if (net->nat)
		nb_nat_remove(u->nb, net->name);
	if (made && nb_link_delete(u->nb, net->bridge) == -1)
		log_warn("network=%s bridge=%s action=undo-create", net->name,
		    net->bridge);
fail:
	network_free(net);
	return -1;
}

/* The names of the VMs whose definition has a NIC on net. */
static json_t *
network_vms_json(struct unikd *u, const struct network *net)
{
	json_t *names = json_array(), *spec, *nic;
	const struct vm *vm;
	size_t i;

	TAILQ_FOREACH(vm, &u->vms, entry)
	{
		spec = vm_spec_to_json(&vm->spec);
		json_array_foreach(json_object_get(spec, "nics"), i, nic)
		{
			if (json_is_string(json_object_get(nic, "network")) &&
			    strcmp(json_string_value(
			               json_object_get(nic, "network")),
			        net->name) == 0) {
				json_array_append_new(
				    names, json_string(vm->spec.name));
				break;
			}
		}
		json_decref(spec);
	}
	return names;
}

int
network_remove(struct unikd *u, struct network *net, struct uerr *e)
{
	json_t *vms;

	if (vm_net_uses(u, net)) {
		vms = network_vms_json(u, net);
		uerr_set(e, UERR_CONFLICT, "network '%s' is in use by vm '%s'",
		    net->name,
		    json_array_size(vms) > 0
		        ? json_string_value(json_array_get(vms, 0))
		        : "?");
		json_decref(vms);
		return -1;
	}
	if (store_net_delete(u->store, net->name) == -1)
		return uerr_set(e, UERR_INTERNAL,
		    "cannot remove network '%s' "
		    "from the store: %s",
		    net->name, store_errmsg(u->store));
	network_table_remove(u, net);
	if (net->nat && nb_nat_remove(u->nb, net->name) == -1 &&
	    errno != ENOENT)
		log_warnx("network=%s action=remove-nat error=\"%s\"",
		    net->name, network_nb_failed(u));
	if (!net->adopted && nb_link_delete(u->nb, net->bridge) == -1 &&
	    errno != ENODEV)
		log_warnx("network=%s bridge=%s action=delete-bridge "
		          "error=\"%s\"",
		    net->name, net->bridge, network_nb_failed(u));
	log_info("network=%s bridge=%s action=remove bridge_kept=%s", net->name,
	    net->bridge, net->adopted ? "yes" : "no");
	unikd_event(u, "network.removed", NULL,
	    json_pack("{s:s}", "network", net->name));
	network_free(net);
	return 0;
}

static int
network_lease_json(void *arg, const char *ip, const char *vm, const char *nic)
{
	json_array_append_new(
	    arg, json_pack("{s:s,s:s?,s:s?}", "ip", ip, "vm", vm, "nic", nic));
	return 0;
}

json_t *
network_to_json(struct unikd *u, const struct network *net)
{
	json_t *o, *leases = json_array();
	char cidr[24], gw[16];

	o = json_pack("{s:s,s:s,s:i,s:n,s:n,s:n,s:b,s:b,s:b,s:o,s:o}", "name",
	    net->name, "bridge", net->bridge, "mtu", (int)net->mtu, "subnet",
	    "gateway", "ipv6_gateway", "nat", net->nat, "isolated",
	    net->isolated, "adopted", net->adopted, "created_at",
	    unikd_json_time(net->created_at), "vms", network_vms_json(u, net));
	if (o == NULL) {
		json_decref(leases);
		return NULL;
	}
	if (net->has_subnet) {
		network_cidr(net, net->subnet.addr, cidr);
		lease_ip_format(net->gateway, gw);
		json_object_set_new(o, "subnet", json_string(cidr));
		json_object_set_new(o, "gateway", json_string(gw));
		store_lease_foreach_net(
		    u->store, net->name, network_lease_json, leases);
	}
	if (net->ipv6_gateway[0] != '\0')
		json_object_set_new(
		    o, "ipv6_gateway", json_string(net->ipv6_gateway));
	json_object_set_new(o, "leases", leases);
	return o;
}

/*
 * Makes sure net's bridge is on the host with its MTU and addresses, and
 * its NAT rule. A missing bridge unikd made is made again; a missing
 * adopted one is someone else's to make, and only reported.
 */
static int
network_restore(struct unikd *u, struct network *net)
{
	struct nb_bridge_params p;
	struct nb_link_info li;
	char ipv4[24];
	int rc;

	network_bridge_params(net, &p, ipv4);
	if (nb_link_get(u->nb, net->bridge, &li) == 0)
		rc = nb_bridge_ensure(u->nb, &p);
	else if (errno == ENODEV && net->adopted) {
		log_warnx("network=%s bridge=%s action=restore result=\"the "
		          "adopted bridge is gone; it is not unikd's to make\"",
		    net->name, net->bridge);
		return -1;
	} else if (errno == ENODEV) {
		rc = nb_bridge_create(u->nb, &p);
		if (rc == 0)
			log_info("network=%s bridge=%s action=re-create",
			    net->name, net->bridge);
	} else
		rc = -1;
	if (rc == -1) {
		log_warnx("network=%s bridge=%s action=restore error=\"%s\"",
		    net->name, net->bridge, network_nb_failed(u));
		return -1;
	}
	if (net->nat && network_nat_make(u, net) == -1) {
		log_warnx("network=%s action=restore-nat error=\"%s\"",
		    net->name, network_nb_failed(u));
		return -1;
	}
	return 0;
}

static struct network *
network_find_bridge(struct unikd *u, const char *bridge)
{
	struct network *net;

	TAILQ_FOREACH(net, &u->networks, entry)
	if (strcmp(net->bridge, bridge) == 0)
		return net;
	return NULL;
}

static void
network_link_changed(
    void *arg, enum nb_link_event ev, const struct nb_link_info *link)
{
	struct unikd *u = arg;
	struct nb_link_info li;
	struct network *net;

	if (ev != NB_LINK_DEL ||
	    (net = network_find_bridge(u, link->name)) == NULL)
		return;
	/* A bridge port's notification names the port, not the bridge;
	 * still, only a bridge that is really gone is made again. */
	if (nb_link_get(u->nb, net->bridge, &li) == 0)
		return;
	log_warnx("network=%s bridge=%s action=deleted-behind-unikd", net->name,
	    net->bridge);
	if (network_restore(u, net) == 0)
		vm_net_reattach(u, net);
}

/* Every bridge checked, after notifications may have been lost. */
static void
network_restore_all(struct unikd *u)
{
	struct network *net;

	TAILQ_FOREACH(net, &u->networks, entry)
	if (network_restore(u, net) == 0)
		vm_net_reattach(u, net);
}

static void
network_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct unikd *u = arg;

	(void)fd;
	(void)what;
	if (nb_event_read(u->nb, network_link_changed, u) == 0)
		return;
	log_warnx("action=read-link-events error=\"%s\"", network_nb_failed(u));
	/* The socket's buffer overflowed: a deletion may have been missed. */
	if (errno == ENOBUFS)
		network_restore_all(u);
}

static int
network_load_row(void *arg, const char *name, const char *text)
{
	struct unikd *u = arg;
	struct network *net;
	json_t *spec;

	spec = json_loads(text, 0, NULL);
	if ((net = calloc(1, sizeof(*net))) == NULL) {
		json_decref(spec);
		return -1;
	}
	if (spec == NULL || network_from_spec(net, spec) == -1 ||
	    strcmp(net->name, name) != 0) {
		log_warnx("network=%s action=load result=\"unreadable "
		          "definition in the store, skipped\"",
		    name);
		json_decref(spec);
		free(net);
		return 0;
	}
	json_decref(spec);
	if (lease_load(u, net) == -1) {
		log_warn("network=%s action=load-leases", name);
		network_free(net);
		return -1;
	}
	network_table_insert(u, net);
	if (u->nb != NULL)
		network_restore(u, net);
	return 0;
}

int
network_init(struct unikd *u)
{
	TAILQ_INIT(&u->networks);
	u->nnetworks = 0;
	if ((u->network_table = calloc(1, sizeof(*u->network_table))) == NULL)
		return -1;
	if (store_net_foreach(u->store, network_load_row, u) != 0) {
		log_warnx("action=load-networks error=\"%s\"",
		    store_errmsg(u->store));
		return -1;
	}
	if (u->nb == NULL)
		return 0;
	u->nb_event = event_new(u->base, nb_event_fd(u->nb),
	    EV_READ | EV_PERSIST, network_on_event, u);
	if (u->nb_event == NULL || event_add(u->nb_event, NULL) == -1)
		return -1;
	log_info("action=load-networks networks=%zu", u->nnetworks);
	return 0;
}

void
network_shutdown(struct unikd *u)
{
	struct network *net;

	if (u->nb_event != NULL) {
		event_free(u->nb_event);
		u->nb_event = NULL;
	}
	while ((net = TAILQ_FIRST(&u->networks)) != NULL) {
		network_table_remove(u, net);
		network_free(net);
	}
	free(u->network_table);
	u->network_table = NULL;
}
