/*
 * Links as the kernel reports them: one RTM_GETLINK dump (or one
 * request by name), deletion by name or by netdev group, IFLA_STATS64
 * (one link) and RTM_GETSTATS (every link),
 * and the RTM_NEWLINK/RTM_DELLINK notifications of the event socket.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>

#include <netlink/attr.h>
#include <netlink/handlers.h>
#include <netlink/socket.h>

#include "nb-internal.h"

/* A link seen in a dump, its master still an ifindex. */
struct nb_link_row {
	struct nb_link_info info;
	struct nb_link_stats stats;
	int master;
};

struct nb_dump {
	struct nb_link_row *rows;
	size_t n, cap;
	bool stats;
	int err;		/* ENOMEM while collecting */
};

static struct nla_policy nb_link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[IFLA_MTU] = { .type = NLA_U32 },
	[IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_GROUP] = { .type = NLA_U32 },
	[IFLA_IFALIAS] = { .type = NLA_STRING },
	[IFLA_ADDRESS] = { .minlen = 6 },
	[IFLA_LINKINFO] = { .type = NLA_NESTED },
	[IFLA_STATS64] = { .minlen = sizeof(struct rtnl_link_stats64) },
};

static void
nb_stats_copy(struct nlattr *a, struct nb_link_stats *out)
{
	struct rtnl_link_stats64 s;

	memcpy(&s, nla_data(a), sizeof(s));
	out->rx_bytes = s.rx_bytes;
	out->rx_packets = s.rx_packets;
	out->rx_errors = s.rx_errors;
	out->rx_dropped = s.rx_dropped;
	out->tx_bytes = s.tx_bytes;
	out->tx_packets = s.tx_packets;
	out->tx_errors = s.tx_errors;
	out->tx_dropped = s.tx_dropped;
}

static void
nb_link_kind(struct nlattr *linkinfo, char kind[16])
{
	struct nlattr *li[IFLA_INFO_MAX + 1];

	kind[0] = '\0';
	if (linkinfo == NULL ||
	    nla_parse_nested(li, IFLA_INFO_MAX, linkinfo, NULL) < 0 ||
	    li[IFLA_INFO_KIND] == NULL)
		return;
	snprintf(kind, 16, "%.*s", nla_len(li[IFLA_INFO_KIND]),
	    (char *)nla_data(li[IFLA_INFO_KIND]));
}

int
nb_link_parse(struct nlmsghdr *h, struct nb_link_info *info,
    struct nb_link_stats *stats, int *master)
{
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	/* AF_BRIDGE messages speak of bridge ports, not of links: a port
	 * leaving its bridge sends an AF_BRIDGE RTM_DELLINK. */
	if ((h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) ||
	    !nlmsg_valid_hdr(h, sizeof(*ifi)))
		return -1;
	ifi = nlmsg_data(h);
	if (ifi->ifi_family != AF_UNSPEC ||
	    nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, nb_link_policy) < 0 ||
	    tb[IFLA_IFNAME] == NULL)
		return -1;
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s",
	    nla_get_string(tb[IFLA_IFNAME]));
	info->ifindex = ifi->ifi_index;
	info->up = (ifi->ifi_flags & IFF_UP) != 0;
	if (tb[IFLA_MTU] != NULL)
		info->mtu = nla_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_IFALIAS] != NULL)
		snprintf(info->alias, sizeof(info->alias), "%s",
		    nla_get_string(tb[IFLA_IFALIAS]));
	if (tb[IFLA_ADDRESS] != NULL && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(info->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_GROUP] != NULL)
		info->group = (int)nla_get_u32(tb[IFLA_GROUP]);
	nb_link_kind(tb[IFLA_LINKINFO], info->kind);
	*master = tb[IFLA_MASTER] != NULL ? (int)nla_get_u32(tb[IFLA_MASTER])
					  : 0;
	if (stats != NULL) {
		memset(stats, 0, sizeof(*stats));
		if (tb[IFLA_STATS64] != NULL)
			nb_stats_copy(tb[IFLA_STATS64], stats);
	}
	return 0;
}

/* Room for one more row of size in *rows (n used of *cap); ENOMEM. */
static int
nb_rows_grow(void *rows, size_t n, size_t *cap, size_t size)
{
	void *nr;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 64 : *cap * 2;
	if ((nr = reallocarray(*(void **)rows, ncap, size)) == NULL)
		return ENOMEM;
	*(void **)rows = nr;
	*cap = ncap;
	return 0;
}

static int
nb_dump_row(struct nl_msg *msg, void *arg)
{
	struct nb_dump *d = arg;

	if (d->err != 0 ||	/* keep reading: the dump must be drained */
	    (d->err = nb_rows_grow(&d->rows, d->n, &d->cap,
	    sizeof(*d->rows))) != 0)
		return NL_OK;
	if (nb_link_parse(nlmsg_hdr(msg), &d->rows[d->n].info,
		&d->rows[d->n].stats, &d->rows[d->n].master) == 0)
		d->n++;
	return NL_OK;
}

/* Receives the answer to a request already sent, rows into d. */
static int
nb_dump_recv(struct nb *nb, struct nb_dump *d, const char *what)
{
	if (nb_recv_each(nb, nb_dump_row, d, what) == -1)
		return -1;
	if (d->err != 0)
		return nb_fail(nb, d->err, "%s: %s", what, strerror(d->err));
	return 0;
}

/* Sends msg (freed) whose answer the caller reads; -1 with the error. */
static int
nb_send(struct nb *nb, struct nl_msg *msg, const char *what)
{
	int rc = nl_send_auto(nb->sk, msg);

	nlmsg_free(msg);
	if (rc < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "%s: %s", what,
		    nl_geterror(rc));
	return 0;
}

/* RTM_GETLINK for name (one link) or for every link (name NULL). */
static int
nb_dump(struct nb *nb, const char *name, bool stats, struct nb_dump *d)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;
	int rc;

	memset(d, 0, sizeof(*d));
	nb->kerr = 0;
	msg = nlmsg_alloc_simple(RTM_GETLINK, name == NULL ? NLM_F_DUMP : 0);
	if (msg == NULL || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) ||
	    (name != NULL && nla_put_string(msg, IFLA_IFNAME, name)) ||
	    (!stats && nla_put_u32(msg, IFLA_EXT_MASK,
			   RTEXT_FILTER_SKIP_STATS))) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "RTM_GETLINK: no memory");
	}
	if (nb_send(nb, msg, "RTM_GETLINK") == -1)
		return -1;
	if (nb_dump_recv(nb, d, name != NULL ? name : "RTM_GETLINK") == -1)
		goto fail;
	/* A single answer is followed by the ack auto-ack asked for. */
	if (name != NULL && (rc = nl_wait_for_ack(nb->sk)) < 0) {
		nb_fail(nb, nb_nlerr(nb, rc), "%s: %s", name, nl_geterror(rc));
		goto fail;
	}
	if (name != NULL && d->n == 0) {
		nb_fail(nb, ENODEV, "%s: no such link", name);
		goto fail;
	}
	return 0;
fail:
	free(d->rows);
	d->rows = NULL;
	return -1;
}

/* Names the masters from the rows themselves, else by ifindex. */
static void
nb_dump_masters(struct nb *nb, struct nb_dump *d)
{
	size_t i, j;

	for (i = 0; i < d->n; i++) {
		if (d->rows[i].master == 0)
			continue;
		for (j = 0; j < d->n; j++)
			if (d->rows[j].info.ifindex == d->rows[i].master)
				break;
		if (j < d->n)
			memcpy(d->rows[i].info.master, d->rows[j].info.name,
			    NB_IFNAMSIZ);
		else
			nb_ifname(nb, d->rows[i].master,
			    d->rows[i].info.master);
	}
}

int
nb_link_foreach(struct nb *nb,
    int (*cb)(void *arg, const struct nb_link_info *link), void *arg)
{
	struct nb_dump d;
	size_t i;
	int rc = 0;

	if (nb_dump(nb, NULL, false, &d) == -1)
		return -1;
	nb_dump_masters(nb, &d);
	/* cb runs after the dump is drained, so it may call into nb. */
	for (i = 0; i < d.n && rc == 0; i++)
		rc = cb(arg, &d.rows[i].info);
	free(d.rows);
	return rc;
}

int
nb_link_get(struct nb *nb, const char *name, struct nb_link_info *out)
{
	struct nb_dump d;

	if (nb_dump(nb, name, false, &d) == -1)
		return -1;
	*out = d.rows[0].info;
	nb_ifname(nb, d.rows[0].master, out->master);
	free(d.rows);
	return 0;
}

int
nb_link_stats(struct nb *nb, const char *name, struct nb_link_stats *out)
{
	struct nb_dump d;

	if (nb_dump(nb, name, true, &d) == -1)
		return -1;
	*out = d.rows[0].stats;
	free(d.rows);
	return 0;
}

/* The counters of every link, by ifindex (an RTM_GETSTATS dump). */
struct nb_stats_dump {
	struct nb_stats_row {
		int ifindex;
		struct nb_link_stats stats;
	} *rows;
	size_t n, cap;
	int err;
};

static int
nb_stats_row(struct nl_msg *msg, void *arg)
{
	struct nb_stats_dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_STATS_MAX + 1];
	struct if_stats_msg *ism;

	if (d->err != 0 || h->nlmsg_type != RTM_NEWSTATS ||
	    !nlmsg_valid_hdr(h, sizeof(*ism)) ||
	    nlmsg_parse(h, sizeof(*ism), tb, IFLA_STATS_MAX, NULL) < 0 ||
	    tb[IFLA_STATS_LINK_64] == NULL ||
	    (d->err = nb_rows_grow(&d->rows, d->n, &d->cap,
	    sizeof(*d->rows))) != 0)
		return NL_OK;	/* keep reading: the dump must be drained */
	ism = nlmsg_data(h);
	d->rows[d->n].ifindex = (int)ism->ifindex;
	nb_stats_copy(tb[IFLA_STATS_LINK_64], &d->rows[d->n++].stats);
	return NL_OK;
}

/*
 * RTM_GETSTATS asking for IFLA_STATS_LINK_64 alone: a few hundred bytes
 * a link, where an RTM_GETLINK dump fills every attribute of every link
 * (bridge port, IPv6 and TAP details), most of a /metrics scrape's time
 * with 1000 TAPs. The names come after, one ioctl each.
 */
int
nb_link_stats_foreach(struct nb *nb,
    int (*cb)(void *arg, const char *name, const struct nb_link_stats *s),
    void *arg)
{
	struct if_stats_msg ism = {.family = AF_UNSPEC,
	    .filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64)};
	struct nb_stats_dump d = {0};
	struct nl_msg *msg;
	char name[NB_IFNAMSIZ];
	size_t i;
	int rc;

	nb->kerr = 0;
	msg = nlmsg_alloc_simple(RTM_GETSTATS, NLM_F_DUMP);
	if (msg == NULL || nlmsg_append(msg, &ism, sizeof(ism), NLMSG_ALIGNTO)) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "RTM_GETSTATS: no memory");
	}
	if (nb_send(nb, msg, "RTM_GETSTATS") == -1)
		return -1;
	rc = nb_recv_each(nb, nb_stats_row, &d, "RTM_GETSTATS");
	if (rc == 0 && d.err != 0)
		rc = nb_fail(nb, d.err, "RTM_GETSTATS: %s", strerror(d.err));
	for (i = 0; rc == 0 && i < d.n; i++) {
		nb_ifname(nb, d.rows[i].ifindex, name);
		if (name[0] != '\0')	/* not gone since */
			rc = cb(arg, name, &d.rows[i].stats);
	}
	free(d.rows);
	return rc;
}

/* RTM_DELLINK naming the link by ifindex (when > 0), by name, or a
 * whole netdev group. */
static int
nb_dellink(struct nb *nb, int ifindex, const char *name, int group,
    const char *what)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
	if (msg == NULL || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) ||
	    (ifindex <= 0 && name != NULL &&
		nla_put_string(msg, IFLA_IFNAME, name)) ||
	    (ifindex <= 0 && name == NULL &&
		nla_put_u32(msg, IFLA_GROUP, (uint32_t)group))) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", what);
	}
	return nb_request(nb, msg, what);
}

int
nb_link_delete(struct nb *nb, const char *name)
{
	if (strlen(name) >= NB_IFNAMSIZ)
		return nb_fail(nb, ENODEV, "%s: name too long", name);
	return nb_dellink(nb, 0, name, 0, name);
}

bool
nb_link_is(const struct nb_link_info *li, const struct nb_link_id *id)
{
	return li->ifindex == id->ifindex && memcmp(li->mac, id->mac, 6) == 0 &&
	    strcmp(li->alias, id->alias) == 0;
}

int
nb_link_delete_owned(struct nb *nb, const char *name,
    const struct nb_link_id *id)
{
	struct nb_link_info li;

	if (nb_link_get(nb, name, &li) == -1)
		return -1;
	if (!nb_link_is(&li, id))
		return nb_fail(nb, ESTALE, "%s: not the link unikd made "
		    "(ifindex %d, alias '%s')", name, li.ifindex, li.alias);
	/* By ifindex: a link made under the name since the check above
	 * has another one, and is not touched. */
	return nb_dellink(nb, li.ifindex, name, 0, name);
}

int
nb_link_delete_group(struct nb *nb, int group)
{
	char what[32];

	/* Group 0 is every link's default: lo, eth0... never that. */
	if (group <= 0)
		return nb_fail(nb, EINVAL, "group %d: not a unikd group", group);
	snprintf(what, sizeof(what), "group %d", group);
	return nb_dellink(nb, 0, NULL, group, what);
}

/* One RTM_NEWLINK on an existing link: its group and, with retire, down
 * and off its master. */
static int
nb_link_regroup(struct nb *nb, const char *name, int group, bool retire)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg;

	if (strlen(name) >= NB_IFNAMSIZ)
		return nb_fail(nb, ENODEV, "%s: name too long", name);
	if (group < 0)
		return nb_fail(nb, EINVAL, "%s: group %d", name, group);
	if (retire)
		ifi.ifi_change = IFF_UP;	/* and ifi_flags 0: down */
	/* no NLM_F_CREATE: an existing link only, ENODEV otherwise */
	msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	if (msg == NULL || nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) ||
	    nla_put_string(msg, IFLA_IFNAME, name) ||
	    nla_put_u32(msg, IFLA_GROUP, (uint32_t)group) ||
	    (retire && nla_put_u32(msg, IFLA_MASTER, 0))) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	}
	return nb_request(nb, msg, name);
}

int
nb_link_set_group(struct nb *nb, const char *name, int group)
{
	return nb_link_regroup(nb, name, group, false);
}

int
nb_link_retire(struct nb *nb, const char *name, int group)
{
	return nb_link_regroup(nb, name, group, true);
}

static void
nb_event_one(struct nb *nb, struct nlmsghdr *h,
    void (*cb)(void *, enum nb_link_event, const struct nb_link_info *),
    void *arg)
{
	struct nb_link_info info;
	int master;

	if (nb_link_parse(h, &info, NULL, &master) == -1)
		return;
	if (h->nlmsg_type == RTM_NEWLINK)
		nb_ifname(nb, master, info.master);
	cb(arg, h->nlmsg_type == RTM_DELLINK ? NB_LINK_DEL : NB_LINK_NEW,
	    &info);
}

int
nb_event_read(struct nb *nb,
    void (*cb)(void *arg, enum nb_link_event ev, const struct nb_link_info *link),
    void *arg)
{
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(nb_event_fd(nb), buf, sizeof(buf), MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		/* ENOBUFS: notifications were lost; the caller re-lists
		 * with nb_link_foreach. The socket goes on working. */
		if (n == -1)
			return nb_fail(nb, errno, "link notifications: %s",
			    strerror(errno));
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, len);
		     h = nlmsg_next(h, &len))
			nb_event_one(nb, h, cb, arg);
	}
}

struct nl_msg *
nb_link_msg(int type, int family, int ifindex, unsigned flags)
{
	struct ifinfomsg ifi = {
		.ifi_family = (unsigned char)family,
		.ifi_index = ifindex,
		.ifi_flags = flags,
		.ifi_change = flags,
	};
	struct nl_msg *msg;

	if ((msg = nlmsg_alloc_simple(type, 0)) == NULL)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}
