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

#include "fault.h"
#include "lease.h"
#include "log.h"
#include "network.h"
#include "store-net.h"
#include "store.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"

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
	if (net->nat)
		u->nnat++;
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
	if (net->nat)
		u->nnat--;
}

static void
network_free(struct network *net)
{
	lease_unload(net);
	free(net);
}

/* The intent: the row, in phase "creating", before the host is
 * changed; start-up undoes a network whose row never left that phase. */
static int
network_store(struct unikd *u, const struct network *net, struct uerr *e)
{
	json_t *spec = network_spec_json(net);
	char *text = spec ? json_dumps(spec, JSON_COMPACT) : NULL;
	char *found = network_found_text(net), mac[18];
	struct store_net_row r = {net->name, text, "creating",
	    net->own.ifindex, NULL, found};
	int rc;

	json_decref(spec);
	if (text == NULL) {
		free(found);
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	}
	if (net->own.ifindex > 0) {
		nb_mac_format(net->own.mac, mac);
		r.mac = mac;
	}
	rc = store_net_insert(u->store, &r);
	free(text);
	free(found);
	if (rc == 0)	/* on disk before the host changes */
		rc = unikd_commit(u);
	if (rc == -1)
		return uerr_set(e,
		    errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
		    "cannot store network '%s': %s", net->name,
		    store_errmsg(u->store));
	return 0;
}

int
network_create(
    struct unikd *u, const json_t *def, struct network **out, struct uerr *e)
{
	struct network *net;

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
	if (network_host_prepare(u, net, e) == -1 ||
	    network_store(u, net, e) == -1)
		goto fail;
	fault_point("net-create-intent");
	if (network_host_make(u, net, e) == -1)
		goto undo;
	fault_point("net-create-bridge");
	if (net->nat && network_nat_make(u, net) == -1) {
		uerr_set(e, UERR_INTERNAL, "cannot set up NAT for '%s': %s",
		    net->name, network_nb_failed(u));
		goto undo;
	}
	fault_point("net-create-nat");
	if (network_store_phase(u, net, "ready") == -1) {
		uerr_set(e, UERR_INTERNAL, "cannot store network '%s': %s",
		    net->name, store_errmsg(u->store));
		goto undo;
	}
	network_table_insert(u, net);
	if (net->adopted)	/* its ports are not in the counts yet */
		network_ports_recount(u);
	log_info("network=%s bridge=%s action=create adopted=%s nat=%s",
	    net->name, net->bridge, net->adopted ? "yes" : "no",
	    net->nat ? "yes" : "no");
	unikd_event(u, "network.created", NULL,
	    json_pack("{s:s}", "network", net->name));
	*out = net;
	return 0;
undo:
	network_host_unmake(u, net);
	if (store_net_delete(u->store, net->name) == -1)
		log_warnx("network=%s action=undo-create error=\"%s\"",
		    net->name, store_errmsg(u->store));
	network_forward_release(u);
fail:
	network_free(net);
	return -1;
}

/* The names of the VMs whose definition has a NIC on net. */
static json_t *
network_vms_json(struct unikd *u, const struct network *net)
{
	if (u->network_hooks == NULL)
		return json_array();
	return u->network_hooks->users(u, net);
}

/* Tells the VM layer that net's bridge was made again. */
static void
network_remade(struct unikd *u, struct network *net)
{
	if (u->network_hooks != NULL)
		u->network_hooks->remade(u, net);
}

int
network_remove(struct unikd *u, struct network *net, struct uerr *e)
{
	json_t *vms = network_vms_json(u, net);

	if (vms == NULL || json_array_size(vms) > 0) {
		uerr_set(e, UERR_CONFLICT, "network '%s' is in use by vm '%s'",
		    net->name,
		    json_array_size(vms) > 0
		        ? json_string_value(json_array_get(vms, 0))
		        : "?");
		json_decref(vms);
		return -1;
	}
	json_decref(vms);
	/* The intent first: a crash from here on is completed at start. */
	if (network_store_phase(u, net, "removing") == -1 ||
	    unikd_commit(u) == -1)
		return uerr_set(e, UERR_INTERNAL,
		    "cannot remove network '%s' from the store: %s", net->name,
		    store_errmsg(u->store));
	fault_point("net-remove-intent");
	network_table_remove(u, net);
	if (net->problem[0] != '\0')
		u->ndegraded--;
	network_ports_forget(u, net);
	network_host_unmake(u, net);
	if (store_net_delete(u->store, net->name) == -1)
		log_warnx("network=%s action=remove error=\"%s\"", net->name,
		    store_errmsg(u->store));
	network_forward_release(u);
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
	json_object_set_new(o, "state",
	    json_string(net->problem[0] != '\0' ? "degraded" : "ready"));
	json_object_set_new(o, "problem",
	    net->problem[0] != '\0' ? json_string(net->problem) : json_null());
	return o;
}

struct network *
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

	network_ports_event(u, ev == NB_LINK_DEL, link);
	/* A link appearing matters only to a degraded network (its adopted
	 * bridge back): no lookup while none is. */
	if (ev == NB_LINK_NEW && u->ndegraded > 0 &&
	    (net = network_find_bridge(u, link->name)) != NULL &&
	    net->problem[0] != '\0') {
		if (network_host_restore(u, net) == 0)
			network_remade(u, net);
		return;
	}
	if (ev != NB_LINK_DEL ||
	    (net = network_find_bridge(u, link->name)) == NULL)
		return;
	/* A bridge port's notification names the port, not the bridge;
	 * still, only a bridge that is really gone is made again. */
	if (nb_link_get(u->nb, net->bridge, &li) == 0)
		return;
	log_warnx("network=%s bridge=%s action=deleted-behind-unikd", net->name,
	    net->bridge);
	if (network_host_restore(u, net) == 0)
		network_remade(u, net);
}

/* Every bridge checked, after notifications may have been lost. */
static void
network_restore_all(struct unikd *u)
{
	struct network *net;

	TAILQ_FOREACH(net, &u->networks, entry)
	if (network_host_restore(u, net) == 0)
		network_remade(u, net);
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
	if (errno == ENOBUFS) {
		network_restore_all(u);
		network_ports_recount(u);
	}
}

struct network_load {
	struct unikd *u;
	TAILQ_HEAD(, network) unfinished;
};

/* A network whose row never reached "ready" (a crash while it was
 * made) or was being removed: whatever of it is on the host goes, and
 * so does the row. */
static void
network_load_finish(struct unikd *u, struct network *net)
{
	log_warnx("network=%s bridge=%s action=undo result=\"unfinished at "
	          "the last stop\"",
	    net->name, net->bridge);
	if (u->nb != NULL)
		network_host_unmake(u, net);
	if (store_net_delete(u->store, net->name) == -1)
		log_warnx("network=%s action=undo error=\"%s\"", net->name,
		    store_errmsg(u->store));
}

static int
network_load_row(void *arg, const struct store_net_row *r)
{
	struct network_load *l = arg;
	struct network *net;
	json_t *spec;

	spec = json_loads(r->spec, 0, NULL);
	if ((net = calloc(1, sizeof(*net))) == NULL) {
		json_decref(spec);
		return -1;
	}
	if (spec == NULL || network_from_spec(net, spec) == -1 ||
	    strcmp(net->name, r->name) != 0) {
		log_warnx("network=%s action=load result=\"unreadable "
		          "definition in the store, skipped\"",
		    r->name);
		json_decref(spec);
		free(net);
		return 0;
	}
	json_decref(spec);
	network_row_host(net, r);
	if (r->phase == NULL || strcmp(r->phase, "ready") != 0) {
		TAILQ_INSERT_TAIL(&l->unfinished, net, entry);
		return 0;
	}
	if (lease_load(l->u, net) == -1) {
		log_warn("network=%s action=load-leases", r->name);
		network_free(net);
		return -1;
	}
	network_table_insert(l->u, net);
	return 0;
}

int
network_init(struct unikd *u)
{
	struct network_load l = {.u = u};
	struct network *net;
	int rc;

	TAILQ_INIT(&u->networks);
	TAILQ_INIT(&l.unfinished);
	u->nnetworks = 0;
	u->ndegraded = 0;
	u->nnat = 0;
	if (store_net_forward_get(u->store, &u->forward_before) == -1)
		return -1;
	if ((u->network_table = calloc(1, sizeof(*u->network_table))) == NULL)
		return -1;
	rc = store_net_foreach(u->store, network_load_row, &l);
	/* The host is changed once the store is read, not while. */
	while ((net = TAILQ_FIRST(&l.unfinished)) != NULL) {
		TAILQ_REMOVE(&l.unfinished, net, entry);
		if (rc == 0)
			network_load_finish(u, net);
		free(net);
	}
	if (rc != 0) {
		log_warnx("action=load-networks error=\"%s\"",
		    store_errmsg(u->store));
		return -1;
	}
	if (u->nb == NULL)
		return 0;
	TAILQ_FOREACH(net, &u->networks, entry)
	network_host_restore(u, net);
	/* The last NAT network may have gone in a crash. */
	network_forward_release(u);
	network_ports_recount(u);
	u->nb_event = event_new(u->base, nb_event_fd(u->nb),
	    EV_READ | EV_PERSIST, network_on_event, u);
	if (u->nb_event == NULL || event_add(u->nb_event, NULL) == -1)
		return -1;
	log_info("action=load-networks networks=%zu degraded=%zu",
	    u->nnetworks, u->ndegraded);
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
	network_ports_free(u);
	while ((net = TAILQ_FIRST(&u->networks)) != NULL) {
		network_table_remove(u, net);
		network_free(net);
	}
	free(u->network_table);
	u->network_table = NULL;
}
