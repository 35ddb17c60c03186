/*
 * A network on the host: its bridge made, adopted, checked, put back,
 * deleted or given back, and its NAT. unikd touches only what it made:
 * a bridge it makes carries the ifalias "unikd:net:NAME" and a MAC
 * derived from its name, and its ifindex and MAC are kept in the store;
 * a link of the name that is not that one is never changed or deleted
 * (the network is "degraded" instead), and an adopted bridge is given
 * back with the MTU, up/down state and addresses it was found with.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "lease.h"
#include "log.h"
#include "network.h"
#include "store-net.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"

#define NETWORK_ALIAS NB_ALIAS_PREFIX "net:"

/* "10.0.0.0/24" (which "10.0.0.1/24" with the gateway). */
void
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
	/* The mark goes on bridges unikd makes, never on adopted ones. */
	p->alias = net->adopted ? NULL : net->alias;
	p->mtu = net->mtu;
	if (net->has_subnet) {
		network_cidr(net, net->gateway, ipv4);
		p->ipv4 = ipv4;
	}
	if (net->ipv6_gateway[0] != '\0')
		p->ipv6 = net->ipv6_gateway;
}

void
network_alias_set(struct network *net)
{
	snprintf(net->alias, sizeof(net->alias), NETWORK_ALIAS "%s",
	    net->name);
}

/* 409 when the subnet overlaps an address or a connected route some
 * link already has in unikd's network namespace: guests would shadow
 * (or be shadowed by) hosts the host reaches there. The bridge being
 * adopted may carry the gateway already. */
int
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

/* A link unikd made for net: the identity recorded when it was made,
 * or, before one was recorded (a crash before the row was updated, a
 * row of an older unikd), a bridge with the MAC unikd gives it. */
static bool
network_link_ours(const struct network *net, const struct nb_link_info *li)
{
	uint8_t mac[6];

	if (net->own.ifindex > 0)
		return nb_link_is(li, &net->own);
	nb_bridge_mac(net->bridge, mac);
	return strcmp(li->kind, "bridge") == 0 && memcmp(li->mac, mac, 6) == 0 &&
	    (li->alias[0] == '\0' || strcmp(li->alias, net->alias) == 0);
}

/* Records who the bridge is now (and in the store, unless the row is
 * still being written by the caller). */
static int
network_identify(struct unikd *u, struct network *net, bool store)
{
	struct nb_link_info li;

	if (nb_link_get(u->nb, net->bridge, &li) == -1)
		return -1;
	net->own.ifindex = li.ifindex;
	memcpy(net->own.mac, li.mac, 6);
	snprintf(net->own.alias, sizeof(net->own.alias), "%s", li.alias);
	if (store)
		return network_store_phase(u, net, "ready");
	return 0;
}

int
network_host_prepare(struct unikd *u, struct network *net, struct uerr *e)
{
	struct nb_link_info li;

	network_alias_set(net);
	if (nb_link_get(u->nb, net->bridge, &li) == -1) {
		if (errno == ENODEV)
			return 0;
		return uerr_set(e, UERR_INTERNAL,
		    "cannot look up link '%s': %s", net->bridge,
		    network_nb_failed(u));
	}
	if (strcmp(li.kind, "bridge") != 0)
		return uerr_set(e, UERR_CONFLICT,
		    "a link named '%s' exists and is not a bridge (%s)",
		    net->bridge, li.kind[0] != '\0' ? li.kind : "no kind");
	/* Adopted: how it was found is kept before anything changes. */
	net->adopted = true;
	net->own.ifindex = li.ifindex;
	memcpy(net->own.mac, li.mac, 6);
	if (nb_bridge_save(u->nb, net->bridge, &net->found) == -1)
		return uerr_set(e, UERR_INTERNAL,
		    "cannot read bridge '%s': %s", net->bridge,
		    network_nb_failed(u));
	net->has_found = true;
	return 0;
}

int
network_host_make(struct unikd *u, struct network *net, struct uerr *e)
{
	struct nb_bridge_params p;
	char ipv4[24];

	network_bridge_params(net, &p, ipv4);
	if (net->adopted) {
		if (nb_bridge_ensure(u->nb, &p) == -1)
			return uerr_set(e, UERR_INTERNAL,
			    "cannot set up bridge '%s': %s", net->bridge,
			    network_nb_failed(u));
		return 0;
	}
	if (nb_bridge_create(u->nb, &p) == -1)
		return uerr_set(e,
		    errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
		    "cannot create bridge '%s': %s", net->bridge,
		    network_nb_failed(u));
	if (network_identify(u, net, false) == -1)
		return uerr_set(e, UERR_INTERNAL, "cannot read bridge '%s': %s",
		    net->bridge, network_nb_failed(u));
	return 0;
}

/*
 * IPv4 forwarding is a switch of the whole host (of unikd's network
 * namespace). The first NAT network turns it on, after what it was is
 * recorded in the store (so a crash cannot lose it); when the last NAT
 * network goes, it is put back as it was and the record dropped.
 */
static int
network_forward_hold(struct unikd *u)
{
	int was;

	if (u->forward_before == -1) {
		if (nb_ip_forward_get(u->nb, &was) == -1)
			return -1;
		if (store_net_forward_set(u->store, was) == -1 ||
		    unikd_commit(u) == -1) {
			log_warnx("action=record-ip-forward error=\"%s\"",
			    store_errmsg(u->store));
			errno = EIO;
			return -1;
		}
		u->forward_before = was;
		log_info("action=ip-forward before=%d now=1", was);
		fault_point("net-forward-recorded");
	}
	return nb_ip_forward_set(u->nb, 1);
}

void
network_forward_release(struct unikd *u)
{
	if (u->nnat > 0 || u->forward_before == -1 || u->nb == NULL)
		return;
	if (nb_ip_forward_set(u->nb, u->forward_before) == -1) {
		log_warnx("action=restore-ip-forward error=\"%s\"",
		    network_nb_failed(u));
		return;
	}
	log_info("action=ip-forward restored=%d", u->forward_before);
	if (store_net_forward_clear(u->store) == -1)
		log_warnx("action=restore-ip-forward error=\"%s\"",
		    store_errmsg(u->store));
	u->forward_before = -1;
}

int
network_nat_make(struct unikd *u, const struct network *net)
{
	char cidr[24];

	if (network_forward_hold(u) == -1)
		return -1;
	network_cidr(net, net->subnet.addr, cidr);
	return nb_nat_add(u->nb, net->name, cidr, net->bridge);
}

static void
network_nat_drop(struct unikd *u, const struct network *net)
{
	if (nb_nat_remove(u->nb, net->name) == -1 && errno != ENOENT)
		log_warnx("network=%s action=remove-nat error=\"%s\"",
		    net->name, network_nb_failed(u));
}

/* An adopted bridge back as it was found, if it is still the one. */
static void
network_give_back(struct unikd *u, struct network *net)
{
	struct nb_bridge_params p;
	struct nb_link_info li;
	char ipv4[24];

	if (!net->has_found || nb_link_get(u->nb, net->bridge, &li) == -1 ||
	    (net->own.ifindex > 0 && li.ifindex != net->own.ifindex)) {
		log_info("network=%s bridge=%s action=give-back result=\"not "
		         "the bridge found; left as it is\"",
		    net->name, net->bridge);
		return;
	}
	network_bridge_params(net, &p, ipv4);
	if (nb_bridge_give_back(u->nb, &p, &net->found) == -1)
		log_warnx("network=%s bridge=%s action=give-back error=\"%s\"",
		    net->name, net->bridge, network_nb_failed(u));
	else
		log_info("network=%s bridge=%s action=give-back mtu=%u up=%s",
		    net->name, net->bridge, net->found.mtu,
		    net->found.up ? "yes" : "no");
}

void
network_host_unmake(struct unikd *u, struct network *net)
{
	struct nb_link_info li;
	struct nb_link_id id;

	if (net->nat)
		network_nat_drop(u, net);
	if (net->adopted) {
		network_give_back(u, net);
		return;
	}
	if (nb_link_get(u->nb, net->bridge, &li) == -1)
		return;
	if (!network_link_ours(net, &li)) {
		log_warnx("network=%s bridge=%s action=delete-bridge "
		          "result=\"a link unikd did not make (ifindex %d); "
		          "left alone\"",
		    net->name, net->bridge, li.ifindex);
		return;
	}
	id.ifindex = li.ifindex;
	memcpy(id.mac, li.mac, 6);
	memcpy(id.alias, li.alias, sizeof(id.alias));
	if (nb_link_delete_owned(u->nb, net->bridge, &id) == -1 &&
	    errno != ENODEV)
		log_warnx("network=%s bridge=%s action=delete-bridge "
		          "error=\"%s\"",
		    net->name, net->bridge, network_nb_failed(u));
}

void
network_degrade(struct unikd *u, struct network *net, const char *fmt, ...)
{
	char problem[sizeof(net->problem)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	if (strcmp(problem, net->problem) == 0)
		return;
	/* Its NAT names the bridge: it would forward for someone else's. */
	if (net->nat)
		network_nat_drop(u, net);
	if (net->problem[0] == '\0')
		u->ndegraded++;
	memcpy(net->problem, problem, sizeof(problem));
	log_warnx("network=%s bridge=%s action=degraded problem=\"%s\"",
	    net->name, net->bridge, problem);
	unikd_event(u, "network.degraded", NULL,
	    json_pack("{s:s,s:s}", "network", net->name, "problem", problem));
}

static void
network_undegrade(struct unikd *u, struct network *net)
{
	if (net->problem[0] == '\0')
		return;
	net->problem[0] = '\0';
	u->ndegraded--;
	log_info("network=%s bridge=%s action=restored", net->name,
	    net->bridge);
	unikd_event(u, "network.restored", NULL,
	    json_pack("{s:s}", "network", net->name));
}

/* An existing link of the bridge's name: set up again if it is the
 * network's (0), left alone otherwise (1, the network degraded), -1 when
 * the netbackend failed. */
static int
network_restore_link(
    struct unikd *u, struct network *net, const struct nb_link_info *li)
{
	struct nb_bridge_params p;
	char ipv4[24];
	bool known = net->own.ifindex > 0;

	if (strcmp(li->kind, "bridge") != 0) {
		network_degrade(u, net,
		    "a %s link that unikd did not make holds the bridge's "
		    "name '%s'; left alone",
		    li->kind[0] != '\0' ? li->kind : "non-bridge", net->bridge);
		return 1;
	}
	if (!net->adopted && !network_link_ours(net, li)) {
		network_degrade(u, net,
		    "a bridge that unikd did not make holds the name '%s' "
		    "(ifindex %d, alias '%s'); left alone",
		    net->bridge, li->ifindex, li->alias);
		return 1;
	}
	network_bridge_params(net, &p, ipv4);
	if (nb_bridge_ensure(u->nb, &p) == -1)
		return -1;
	/* A row of an older unikd, or an adopted bridge its owner made
	 * again (after a reboot): who it is now is kept. */
	if (!known || li->ifindex != net->own.ifindex)
		return network_identify(u, net, true);
	return 0;
}

int
network_host_restore(struct unikd *u, struct network *net)
{
	struct nb_bridge_params p;
	struct nb_link_info li;
	char ipv4[24];
	int rc;

	network_alias_set(net);
	if (nb_link_get(u->nb, net->bridge, &li) == 0) {
		if ((rc = network_restore_link(u, net, &li)) == 1)
			return -1;
	} else if (errno == ENODEV && net->adopted) {
		network_degrade(u, net,
		    "the adopted bridge '%s' is gone; it is not unikd's to "
		    "make",
		    net->bridge);
		return -1;
	} else if (errno == ENODEV) {
		network_bridge_params(net, &p, ipv4);
		rc = nb_bridge_create(u->nb, &p);
		if (rc == 0) {
			log_info("network=%s bridge=%s action=re-create",
			    net->name, net->bridge);
			rc = network_identify(u, net, true);
		}
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
	network_undegrade(u, net);
	return 0;
}

/* --- the store's copy of the host side --- */

int
network_store_phase(struct unikd *u, const struct network *net,
    const char *phase)
{
	char mac[18];

	nb_mac_format(net->own.mac, mac);
	if (store_net_update(u->store, net->name, phase, net->own.ifindex,
	        net->own.ifindex > 0 ? mac : NULL) == -1) {
		log_warnx("network=%s action=store phase=%s error=\"%s\"",
		    net->name, phase, store_errmsg(u->store));
		return -1;
	}
	return 0;
}

char *
network_found_text(const struct network *net)
{
	json_t *j, *a;
	char *text;
	size_t i;

	if (!net->has_found)
		return NULL;
	a = json_array();
	for (i = 0; a != NULL && i < net->found.naddrs; i++)
		json_array_append_new(a, json_string(net->found.addrs[i]));
	j = json_pack("{s:i,s:b,s:o}", "mtu", (int)net->found.mtu, "up",
	    net->found.up, "addresses", a);
	text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return text;
}

void
network_row_host(struct network *net, const struct store_net_row *r)
{
	json_t *j, *v;
	size_t i;

	network_alias_set(net);
	if (r->ifindex > 0 && r->mac != NULL &&
	    nb_mac_parse(r->mac, net->own.mac) == 0) {
		net->own.ifindex = (int)r->ifindex;
		memcpy(net->own.alias, net->alias, sizeof(net->alias));
	}
	if (r->found == NULL || (j = json_loads(r->found, 0, NULL)) == NULL)
		return;
	net->found.mtu = (unsigned)json_integer_value(json_object_get(j, "mtu"));
	net->found.up = json_is_true(json_object_get(j, "up"));
	json_array_foreach(json_object_get(j, "addresses"), i, v)
	{
		if (!json_is_string(v) || net->found.naddrs == NB_SAVED_ADDRS)
			continue;
		snprintf(net->found.addrs[net->found.naddrs++], NB_ADDRSTRLEN,
		    "%s", json_string_value(v));
	}
	net->has_found = true;
	json_decref(j);
}
