/*
 * TAPs: TUNSETIFF on /dev/net/tun for a plain TAP, ownership for the
 * tender, then rtnetlink for everything else. The order is the kernel's:
 * MTU, MAC, alias, group and IPv6 address generation in a first
 * RTM_NEWLINK (the MTU must be right before the bridge sees the port,
 * and addr_gen_mode must be off before the link goes up or the
 * link-local address is already made); master and IFF_UP in a second;
 * port isolation last, as a bridge-port attribute only exists once the
 * port does.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include <netlink/attr.h>

#include "nb-internal.h"

#ifndef IN6_ADDR_GEN_MODE_NONE
#define IN6_ADDR_GEN_MODE_NONE 1
#endif

/* Opens a new TAP named name; EEXIST when any link has that name. */
static int
nb_tun_open(struct nb *nb, const char *name, uid_t uid, gid_t gid)
{
	struct ifreq ifr;
	int fd, err;

	if ((fd = nb_tun_file(nb)) == -1)
		return nb_fail(nb, errno, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* Without IFF_TUN_EXCL the kernel would attach to an existing
	 * persistent TAP of that name instead of failing. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
		err = errno == EBUSY ? EEXIST : errno;
		close(fd);
		return nb_fail(nb, err, "%s: TUNSETIFF: %s", name, strerror(err));
	}
	if (ioctl(fd, TUNSETOWNER, (unsigned long)uid) == -1 ||
	    ioctl(fd, TUNSETGROUP, (unsigned long)gid) == -1) {
		err = errno;
		close(fd);	/* not persistent yet: the TAP goes with it */
		return nb_fail(nb, err, "%s: TUNSETOWNER: %s", name,
		    strerror(err));
	}
	return fd;
}

/* Puts IFLA_AF_SPEC { AF_INET6 { IFLA_INET6_ADDR_GEN_MODE none } }. */
static int
nb_put_addrgen_none(struct nl_msg *msg)
{
	struct nlattr *spec, *inet6;

	if ((spec = nla_nest_start(msg, IFLA_AF_SPEC)) == NULL ||
	    (inet6 = nla_nest_start(msg, AF_INET6)) == NULL ||
	    nla_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE,
		IN6_ADDR_GEN_MODE_NONE) < 0)
		return -1;
	nla_nest_end(msg, inet6);
	nla_nest_end(msg, spec);
	return 0;
}

/* The first RTM_NEWLINK: MTU, MAC, alias, group, addr_gen_mode. */
static int
nb_tap_setup(struct nb *nb, int ifindex, const struct nb_tap_params *p,
    unsigned mtu)
{
	static const uint8_t zero[6];
	struct nl_msg *msg;

	msg = nb_link_msg(RTM_NEWLINK, AF_UNSPEC, ifindex,
	    p->bridge == NULL ? IFF_UP : 0);
	if (msg == NULL || (mtu != 0 && nla_put_u32(msg, IFLA_MTU, mtu)) ||
	    (memcmp(p->host_mac, zero, 6) != 0 &&
		nla_put(msg, IFLA_ADDRESS, 6, p->host_mac)) ||
	    (p->alias != NULL && nla_put_string(msg, IFLA_IFALIAS, p->alias)) ||
	    (p->group != 0 && nla_put_u32(msg, IFLA_GROUP, (uint32_t)p->group)) ||
	    ((p->bridge != NULL || p->peer != NULL) &&
		nb_put_addrgen_none(msg) == -1)) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", p->name);
	}
	return nb_request(nb, msg, p->name);
}

/* Enslaves and brings up in one RTM_NEWLINK (the kernel applies the
 * flags, then the master). */
static int
nb_tap_enslave(struct nb *nb, const char *tap, int ifindex, int master)
{
	struct nl_msg *msg;

	msg = nb_link_msg(RTM_NEWLINK, AF_UNSPEC, ifindex, IFF_UP);
	if (msg == NULL || nla_put_u32(msg, IFLA_MASTER, (uint32_t)master)) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", tap);
	}
	return nb_request(nb, msg, tap);
}

/* IFLA_BRPORT_ISOLATED through the bridge's own RTM_SETLINK. */
static int
nb_tap_isolate(struct nb *nb, const char *tap, int ifindex, bool isolated)
{
	struct nlattr *prot;
	struct nl_msg *msg;

	msg = nb_link_msg(RTM_SETLINK, AF_BRIDGE, ifindex, 0);
	if (msg == NULL || (prot = nla_nest_start(msg, IFLA_PROTINFO)) == NULL ||
	    nla_put_u8(msg, IFLA_BRPORT_ISOLATED, isolated ? 1 : 0) < 0) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", tap);
	}
	nla_nest_end(msg, prot);
	return nb_request(nb, msg, tap);
}

/* The MTU a TAP gets: the one asked for, else its bridge's. */
static int
nb_tap_mtu(struct nb *nb, const struct nb_tap_params *p, unsigned *mtu)
{
	struct nb_link_info br;

	*mtu = p->mtu;
	if (p->mtu != 0 && (p->mtu < NB_MTU_MIN || p->mtu > NB_MTU_MAX))
		return nb_fail(nb, EINVAL, "%s: MTU %u out of range", p->name,
		    p->mtu);
	if (p->mtu != 0 || p->bridge == NULL)
		return 0;
	if (nb_link_get(nb, p->bridge, &br) == -1)
		return -1;
	*mtu = br.mtu;
	return 0;
}

int
nb_tap_create(struct nb *nb, const struct nb_tap_params *p, int *fd)
{
	int tapfd = -1, ifindex, master = 0, saved;
	char msg[sizeof(nb->errmsg)];
	unsigned mtu;

	*fd = -1;
	if (p->name == NULL || !nb_ifname_valid(p->name) ||
	    (p->bridge != NULL && !nb_ifname_valid(p->bridge)))
		return nb_fail(nb, EINVAL, "bad TAP or bridge name");
	if (nb_tap_mtu(nb, p, &mtu) == -1)
		return -1;
	if (p->bridge != NULL && (master = nb_ifindex(nb, p->bridge)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such bridge", p->bridge);
	if ((tapfd = nb_tun_open(nb, p->name, p->uid, p->gid)) == -1)
		return -1;
	if ((ifindex = nb_ifindex(nb, p->name)) == 0) {
		nb_fail(nb, ENODEV, "%s: gone after TUNSETIFF", p->name);
		goto fail;
	}
	if (nb_tap_setup(nb, ifindex, p, mtu) == -1 ||
	    (master != 0 && nb_tap_enslave(nb, p->name, ifindex, master) == -1) ||
	    (master != 0 && p->isolated &&
		nb_tap_isolate(nb, p->name, ifindex, true) == -1))
		goto fail;
	if (p->peer != NULL && nb_redirect_add(nb, p->name, p->peer) == -1)
		goto unpeer;
	if (p->persist) {
		if (ioctl(tapfd, TUNSETPERSIST, 1UL) == -1) {
			nb_fail(nb, errno, "%s: TUNSETPERSIST: %s", p->name,
			    strerror(errno));
			goto unpeer;
		}
		close(tapfd);
		tapfd = -1;
	}
	*fd = tapfd;
	return 0;
unpeer:
	saved = errno;
	if (p->peer != NULL) {
		snprintf(msg, sizeof(msg), "%s", nb->errmsg);
		(void)nb_redirect_remove(nb, p->peer);
		snprintf(nb->errmsg, sizeof(nb->errmsg), "%s", msg);
	}
	errno = saved;
fail:
	/* Not persistent until the very end: closing the fd deletes it. */
	saved = errno;
	close(tapfd);
	errno = saved;
	return -1;
}

int
nb_tap_attach(struct nb *nb, const char *tap, const char *bridge,
    bool isolated)
{
	int ifindex, master;

	if ((ifindex = nb_ifindex(nb, tap)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such link", tap);
	if ((master = nb_ifindex(nb, bridge)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such bridge", bridge);
	if (nb_tap_enslave(nb, tap, ifindex, master) == -1 ||
	    nb_tap_isolate(nb, tap, ifindex, isolated) == -1)
		return -1;
	return 0;
}
