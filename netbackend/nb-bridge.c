/*
 * Bridges: create one (up, MTU, gateway addresses) or bring an existing
 * one, made earlier or adopted by name, back to what the network says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>

#include <netlink/addr.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "nb-internal.h"

/* A libnl call's result, its NLE_* code turned into errno. */
static int
nb_nlcall(struct nb *nb, int rc, const char *what)
{
	int err;

	if (rc >= 0)
		return 0;
	err = nb_nlerr(nb, rc);
	return nb_fail(nb, err, "%s: %s", what, strerror(err));
}

/* "a.b.c.d/p" or "x::y/p" -> address bytes and prefix; -1 EINVAL. */
static int
nb_addr_parse(const char *s, int family, unsigned char bytes[16],
    unsigned *prefix)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned max = family == AF_INET ? 32 : 128;
	char *end;
	unsigned long p;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(host))
		goto fail;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (inet_pton(family, host, bytes) != 1 || slash[1] < '0' ||
	    slash[1] > '9')
		goto fail;
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || p > max)
		goto fail;
	*prefix = (unsigned)p;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

/* The IPv4 broadcast of addr/prefix, none for /31 and /32. */
static struct nl_addr *
nb_addr_broadcast(const unsigned char a[4], unsigned prefix)
{
	uint32_t v, mask;

	if (prefix >= 31)
		return NULL;
	memcpy(&v, a, 4);
	mask = prefix == 0 ? 0 : htonl(UINT32_MAX << (32 - prefix));
	v |= ~mask;
	return nl_addr_build(AF_INET, &v, 4);
}

/* Adds (or replaces, so it is idempotent) one address on ifindex. */
static int
nb_addr_put(struct nb *nb, int ifindex, int family, const char *s)
{
	unsigned char bytes[16];
	struct nl_addr *local = NULL, *bcast = NULL;
	struct rtnl_addr *addr = NULL;
	unsigned prefix;
	int rc = -1;

	if (nb_addr_parse(s, family, bytes, &prefix) == -1)
		return nb_fail(nb, EINVAL, "%s: not an address/prefix", s);
	if ((addr = rtnl_addr_alloc()) == NULL ||
	    (local = nl_addr_build(family, bytes,
		 family == AF_INET ? 4 : 16)) == NULL) {
		nb_fail(nb, ENOMEM, "%s: no memory", s);
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	rtnl_addr_set_prefixlen(addr, (int)prefix);
	if (family == AF_INET &&
	    (bcast = nb_addr_broadcast(bytes, prefix)) != NULL)
		rtnl_addr_set_broadcast(addr, bcast);
	/* The gateway is ours alone: no duplicate detection delay. */
	if (family == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	nb->kerr = 0;
	rc = nb_nlcall(nb, rtnl_addr_add(nb->sk, addr, NLM_F_REPLACE), s);
out:
	nl_addr_put(bcast);
	nl_addr_put(local);
	rtnl_addr_put(addr);
	return rc;
}

/* MTU (0: leave it), ifalias (NULL: leave it) and IFF_UP (or down) in
 * one RTM_NEWLINK. */
static int
nb_link_setup(struct nb *nb, int ifindex, unsigned mtu, const char *alias,
    bool up, const char *what)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = up ? IFF_UP : 0,
		.ifi_change = IFF_UP,
	};
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (msg == NULL || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) ||
	    (mtu != 0 && nla_put_u32(msg, IFLA_MTU, mtu)) ||
	    (alias != NULL && nla_put_string(msg, IFLA_IFALIAS, alias))) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", what);
	}
	return nb_request(nb, msg, what);
}

static int
nb_bridge_check(struct nb *nb, const struct nb_bridge_params *p)
{
	if (p->name == NULL || !nb_ifname_valid(p->name))
		return nb_fail(nb, EINVAL, "bad bridge name");
	if (p->mtu != 0 && (p->mtu < NB_MTU_MIN || p->mtu > NB_MTU_MAX))
		return nb_fail(nb, EINVAL, "%s: MTU %u out of range", p->name,
		    p->mtu);
	return 0;
}

/* The bridge's MTU (set as a change, so the bridge keeps it when ports
 * of another MTU join), alias when given, addresses and IFF_UP. */
static int
nb_bridge_apply(struct nb *nb, const struct nb_bridge_params *p, int ifindex)
{
	if (nb_link_setup(nb, ifindex, p->mtu, p->alias, true, p->name) == -1 ||
	    (p->ipv4 != NULL && nb_addr_put(nb, ifindex, AF_INET, p->ipv4)) ||
	    (p->ipv6 != NULL && nb_addr_put(nb, ifindex, AF_INET6, p->ipv6)))
		return -1;
	return 0;
}

/*
 * A MAC of its own, derived from the name: a bridge without one takes
 * the lowest MAC of its ports and changes it as ports come and go, which
 * walks every port on each join (the creation of the 1000th TAP costs
 * twice the 100th's) and changes the gateway's MAC under the guests' ARP
 * caches. Derived from the name, it stays the same when the bridge is
 * made again.
 */
void
nb_bridge_mac(const char *name, uint8_t mac[6])
{
	nb_mac_generate("bridge:", name, 0, mac);
}

/*
 * Multicast snooping off. With it on, every port that joins or leaves
 * makes the kernel re-arm the multicast timers of every other port
 * (br_port_state_selection), so a TAP's join and leave grow with the
 * bridge: measured at 800 ports, a join cost 0.6-1.0 ms with snooping and
 * 0.6 ms without, a leave 0.8-0.9 ms and 0.45-0.5 ms. Without snooping
 * the bridge floods multicast to every port, as a switch without IGMP/MLD
 * snooping does, which is also what it does with snooping for guests that
 * send no membership reports (most unikernels).
 */
static int
nb_bridge_no_snooping(struct nb *nb, const char *name, int ifindex)
{
	struct nlattr *info, *data;
	struct nl_msg *msg;

	msg = nb_link_msg(RTM_NEWLINK, AF_UNSPEC, ifindex, 0);
	if (msg == NULL || (info = nla_nest_start(msg, IFLA_LINKINFO)) == NULL ||
	    nla_put_string(msg, IFLA_INFO_KIND, "bridge") < 0 ||
	    (data = nla_nest_start(msg, IFLA_INFO_DATA)) == NULL ||
	    nla_put_u8(msg, IFLA_BR_MCAST_SNOOPING, 0) < 0) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	}
	nla_nest_end(msg, data);
	nla_nest_end(msg, info);
	return nb_request(nb, msg, name);
}

int
nb_bridge_create(struct nb *nb, const struct nb_bridge_params *p)
{
	struct rtnl_link *link;
	struct nl_addr *addr;
	int ifindex, rc, saved;
	char msg[sizeof(nb->errmsg)];
	uint8_t mac[6];

	if (nb_bridge_check(nb, p) == -1)
		return -1;
	nb_bridge_mac(p->name, mac);
	if ((link = rtnl_link_bridge_alloc()) == NULL ||
	    (addr = nl_addr_build(AF_LLC, mac, 6)) == NULL) {
		rtnl_link_put(link);
		return nb_fail(nb, ENOMEM, "%s: no memory", p->name);
	}
	rtnl_link_set_name(link, p->name);
	/* In the creating request: the kernel takes no ifalias there. */
	rtnl_link_set_addr(link, addr);
	nl_addr_put(addr);
	nb->kerr = 0;
	rc = rtnl_link_add(nb->sk, link, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(link);
	if (nb_nlcall(nb, rc, p->name) == -1)
		return -1;
	if ((ifindex = nb_ifindex(nb, p->name)) == 0) {
		nb_fail(nb, ENODEV, "%s: gone after creation", p->name);
		goto fail;
	}
	if (nb_bridge_no_snooping(nb, p->name, ifindex) == -1 ||
	    nb_bridge_apply(nb, p, ifindex) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	snprintf(msg, sizeof(msg), "%s", nb->errmsg);
	(void)nb_link_delete(nb, p->name);
	nb_fail(nb, saved, "%s", msg);
	return -1;
}

/* The existing bridge p names; EMEDIUMTYPE when the link is another
 * kind. */
static int
nb_bridge_get(struct nb *nb, const struct nb_bridge_params *p,
    struct nb_link_info *info)
{
	if (nb_bridge_check(nb, p) == -1 || nb_link_get(nb, p->name, info))
		return -1;
	if (strcmp(info->kind, "bridge") != 0)
		return nb_fail(nb, EMEDIUMTYPE, "%s: a %s, not a bridge",
		    p->name, info->kind[0] != '\0' ? info->kind : "device");
	return 0;
}

int
nb_bridge_ensure(struct nb *nb, const struct nb_bridge_params *p)
{
	struct nb_link_info info;

	if (nb_bridge_get(nb, p, &info) == -1)
		return -1;
	/* An adopted bridge keeps its MAC: it is not unikd's to change. */
	return nb_bridge_apply(nb, p, info.ifindex);
}

/* Whether address s ("a/p" of family) is in the saved list. */
static bool
nb_saved_has(const struct nb_link_saved *st, int family, const char *s)
{
	unsigned char a[16], b[16];
	unsigned pa, pb;
	size_t i;

	if (nb_addr_parse(s, family, a, &pa) == -1)
		return false;
	for (i = 0; i < st->naddrs; i++)
		if (nb_addr_parse(st->addrs[i], family, b, &pb) == 0 &&
		    pa == pb &&
		    memcmp(a, b, family == AF_INET ? 4 : 16) == 0)
			return true;
	return false;
}

/* Deletes address s from ifindex; one that is not there is no error. */
static int
nb_addr_drop(struct nb *nb, int ifindex, int family, const char *s)
{
	unsigned char bytes[16];
	struct nl_addr *local;
	struct rtnl_addr *addr;
	unsigned prefix;
	int rc;

	if (nb_addr_parse(s, family, bytes, &prefix) == -1)
		return nb_fail(nb, EINVAL, "%s: not an address/prefix", s);
	if ((addr = rtnl_addr_alloc()) == NULL ||
	    (local = nl_addr_build(family, bytes,
		 family == AF_INET ? 4 : 16)) == NULL) {
		rtnl_addr_put(addr);
		return nb_fail(nb, ENOMEM, "%s: no memory", s);
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_local(addr, local);
	rtnl_addr_set_prefixlen(addr, (int)prefix);
	nb->kerr = 0;
	rc = rtnl_addr_delete(nb->sk, addr, 0);
	nl_addr_put(local);
	rtnl_addr_put(addr);
	if (rc < 0 && nb_nlerr(nb, rc) == EADDRNOTAVAIL)
		return 0;
	return nb_nlcall(nb, rc, s);
}

int
nb_bridge_save(struct nb *nb, const char *name, struct nb_link_saved *out)
{
	struct nb_link_info info;

	memset(out, 0, sizeof(*out));
	if (nb_link_get(nb, name, &info) == -1)
		return -1;
	out->mtu = info.mtu;
	out->up = info.up;
	return nb_link_addrs(nb, info.ifindex, out);
}

int
nb_bridge_give_back(struct nb *nb, const struct nb_bridge_params *p,
    const struct nb_link_saved *st)
{
	struct nb_link_info info;

	if (nb_bridge_get(nb, p, &info) == -1)
		return -1;
	if ((p->ipv4 != NULL && !nb_saved_has(st, AF_INET, p->ipv4) &&
		nb_addr_drop(nb, info.ifindex, AF_INET, p->ipv4) == -1) ||
	    (p->ipv6 != NULL && !nb_saved_has(st, AF_INET6, p->ipv6) &&
		nb_addr_drop(nb, info.ifindex, AF_INET6, p->ipv6) == -1))
		return -1;
	return nb_link_setup(nb, info.ifindex, st->mtu, NULL, st->up, p->name);
}
