/*
 * Addresses and connected routes as the kernel reports them: whether an
 * IPv4 prefix is already in use in this network namespace (one
 * RTM_GETADDR and one RTM_GETROUTE dump, asked once per network
 * creation, never per packet or per request of other kinds), and the
 * addresses of one link (what an adopted bridge had), and what a link in
 * a container's namespace says about itself: its first IPv4 address and
 * the gateway of the default route through it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_addr.h>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "nb-internal.h"

/* An nl_addr of AF_INET as a host-order prefix. */
static bool
nb_nladdr_ip4(struct nl_addr *a, unsigned prefix, struct nb_ip4net *out)
{
	uint32_t v;

	if (a == NULL || nl_addr_get_family(a) != AF_INET ||
	    nl_addr_get_len(a) != 4)
		return false;
	memcpy(&v, nl_addr_get_binary_addr(a), 4);
	out->addr = ntohl(v);
	out->prefix = prefix;
	return true;
}

struct nb_in_use {
	struct nb *nb;
	const struct nb_ip4net *want;
	const char *except;
	struct nb_ip4_user *out;
	bool found;
};

/* Records the first user of a prefix that overlaps the one asked for. */
static void
nb_in_use_hit(struct nb_in_use *w, int ifindex, const struct nb_ip4net *got,
    const char *what)
{
	char name[NB_IFNAMSIZ];

	if (w->found || !nb_ip4net_overlap(w->want, got))
		return;
	nb_ifname(w->nb, ifindex, name);
	if (w->except != NULL && strcmp(name, w->except) == 0)
		return;
	w->found = true;
	snprintf(w->out->link, sizeof(w->out->link), "%s",
	    name[0] != '\0' ? name : "?");
	w->out->net = *got;
	w->out->what = what;
}

static void
nb_in_use_addr(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nb_in_use *w = arg;
	struct nb_ip4net got;

	if (nb_nladdr_ip4(rtnl_addr_get_local(a),
		(unsigned)rtnl_addr_get_prefixlen(a), &got))
		nb_in_use_hit(w, rtnl_addr_get_ifindex(a), &got, "address");
}

/* Connected routes only: the main table's scope-link unicast routes
 * (what an address or `ip route add PREFIX dev LINK` puts there), not
 * a default route or one through a gateway. */
static void
nb_in_use_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct nb_in_use *w = arg;
	struct rtnl_nexthop *nh;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct nb_ip4net got;

	if (rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_scope(r) != RT_SCOPE_LINK ||
	    rtnl_route_get_type(r) != RTN_UNICAST || dst == NULL ||
	    !nb_nladdr_ip4(dst, (unsigned)nl_addr_get_prefixlen(dst), &got) ||
	    (nh = rtnl_route_nexthop_n(r, 0)) == NULL)
		return;
	nb_in_use_hit(w, rtnl_route_nh_get_ifindex(nh), &got, "route");
}

/* One dump of every address into a cache (nl_cache_free()). */
static int
nb_addr_cache(struct nb *nb, struct nl_cache **cache)
{
	int rc;

	nb->kerr = 0;
	if ((rc = rtnl_addr_alloc_cache(nb->sk, cache)) < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "RTM_GETADDR: %s",
		    nl_geterror(rc));
	return 0;
}

int
nb_ip4_in_use(struct nb *nb, const struct nb_ip4net *net, const char *except,
    struct nb_ip4_user *out)
{
	struct nb_in_use w = { nb, net, except, out, false };
	struct nl_cache *cache;
	int rc;

	if (nb_addr_cache(nb, &cache) == -1)
		return -1;
	nl_cache_foreach(cache, nb_in_use_addr, &w);
	nl_cache_free(cache);
	if (w.found)
		return 1;
	nb->kerr = 0;
	if ((rc = rtnl_route_alloc_cache(nb->sk, AF_INET, 0, &cache)) < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "RTM_GETROUTE: %s",
		    nl_geterror(rc));
	nl_cache_foreach(cache, nb_in_use_route, &w);
	nl_cache_free(cache);
	return w.found ? 1 : 0;
}

struct nb_addrs_walk {
	int ifindex;
	struct nb_link_saved *st;
};

static void
nb_addrs_one(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nb_addrs_walk *w = arg;
	struct nl_addr *local = rtnl_addr_get_local(a);
	char ip[INET6_ADDRSTRLEN];
	int family;

	if (rtnl_addr_get_ifindex(a) != w->ifindex || local == NULL ||
	    w->st->naddrs == NB_SAVED_ADDRS)
		return;
	family = nl_addr_get_family(local);
	if ((family != AF_INET && family != AF_INET6) ||
	    inet_ntop(family, nl_addr_get_binary_addr(local), ip,
		sizeof(ip)) == NULL)
		return;
	snprintf(w->st->addrs[w->st->naddrs++], NB_ADDRSTRLEN, "%s/%d", ip,
	    rtnl_addr_get_prefixlen(a));
}

int
nb_link_addrs(struct nb *nb, int ifindex, struct nb_link_saved *st)
{
	struct nb_addrs_walk w = { ifindex, st };
	struct nl_cache *cache;

	if (nb_addr_cache(nb, &cache) == -1)
		return -1;
	st->naddrs = 0;
	nl_cache_foreach(cache, nb_addrs_one, &w);
	nl_cache_free(cache);
	return 0;
}

/* The first primary IPv4 address of ifindex into out (0 when none). */
static void
nb_iface_addr(struct nl_object *obj, void *arg)
{
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	struct nb_iface *out = arg;
	struct nb_ip4net got;

	if (out->ip4 != 0 || rtnl_addr_get_ifindex(a) != out->link.ifindex ||
	    (rtnl_addr_get_flags(a) & IFA_F_SECONDARY) ||
	    !nb_nladdr_ip4(rtnl_addr_get_local(a),
		(unsigned)rtnl_addr_get_prefixlen(a), &got))
		return;
	out->ip4 = got.addr;
	out->prefix = got.prefix;
}

/* The gateway of the main table's IPv4 default route through the link. */
static void
nb_iface_route(struct nl_object *obj, void *arg)
{
	struct rtnl_route *r = (struct rtnl_route *)obj;
	struct nb_iface *out = arg;
	struct nl_addr *dst = rtnl_route_get_dst(r);
	struct rtnl_nexthop *nh;
	struct nb_ip4net gw;

	if (out->gw4 != 0 || rtnl_route_get_table(r) != RT_TABLE_MAIN ||
	    rtnl_route_get_type(r) != RTN_UNICAST ||
	    (dst != NULL && nl_addr_get_prefixlen(dst) != 0) ||
	    (nh = rtnl_route_nexthop_n(r, 0)) == NULL ||
	    rtnl_route_nh_get_ifindex(nh) != out->link.ifindex ||
	    !nb_nladdr_ip4(rtnl_route_nh_get_gateway(nh), 32, &gw))
		return;
	out->gw4 = gw.addr;
}

int
nb_iface_get(struct nb *nb, const char *name, struct nb_iface *out)
{
	struct nl_cache *cache;
	int rc;

	memset(out, 0, sizeof(*out));
	if (nb_link_get(nb, name, &out->link) == -1 ||
	    nb_addr_cache(nb, &cache) == -1)
		return -1;
	nl_cache_foreach(cache, nb_iface_addr, out);
	nl_cache_free(cache);
	nb->kerr = 0;
	if ((rc = rtnl_route_alloc_cache(nb->sk, AF_INET, 0, &cache)) < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "RTM_GETROUTE: %s",
		    nl_geterror(rc));
	nl_cache_foreach(cache, nb_iface_route, out);
	nl_cache_free(cache);
	return 0;
}
