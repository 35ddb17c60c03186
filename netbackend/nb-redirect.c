/*
 * A TAP joined to another link by tc instead of a bridge (the way Kata
 * Containers' "tcfilter" mode joins a VM to a CNI veth): an ingress qdisc
 * on each, and on each a u32 filter matching every frame whose mirred
 * action redirects it to the other's egress. Frames pass unchanged, so
 * the guest must use the link's MAC; the kernel's own stack in that
 * namespace never sees them. unikd's filters sit at their own priority
 * (NB_REDIRECT_PRIO), so removing them never touches anyone else's.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/attr.h>

#include "nb-internal.h"

#define NB_INGRESS_HANDLE TC_H_MAKE(TC_H_INGRESS, 0)	/* ffff: */

static struct nl_msg *
nb_tc_msg(int type, int flags, int ifindex, uint32_t parent, uint32_t handle,
    uint32_t info)
{
	struct tcmsg tcm = {
		.tcm_family = AF_UNSPEC,
		.tcm_ifindex = ifindex,
		.tcm_handle = handle,
		.tcm_parent = parent,
		.tcm_info = info,
	};
	struct nl_msg *msg;

	if ((msg = nlmsg_alloc_simple(type, flags)) == NULL)
		return NULL;
	if (nlmsg_append(msg, &tcm, sizeof(tcm), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The ingress qdisc on ifindex; one already there is fine. */
static int
nb_ingress_add(struct nb *nb, int ifindex, const char *name)
{
	struct nl_msg *msg;

	msg = nb_tc_msg(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex,
	    TC_H_INGRESS, NB_INGRESS_HANDLE, 0);
	if (msg == NULL || nla_put_string(msg, TCA_KIND, "ingress") < 0) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	}
	if (nb_request(nb, msg, name) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* u32 "match u8 0 0" with a terminal action: every frame matches. */
static int
nb_put_u32_all(struct nl_msg *msg, int to)
{
	struct {
		struct tc_u32_sel sel;
		struct tc_u32_key key;
	} sel;
	struct tc_mirred mirred;
	struct nlattr *opts, *acts, *act, *aopts;

	memset(&sel, 0, sizeof(sel));
	sel.sel.nkeys = 1;
	sel.sel.flags = TC_U32_TERMINAL;
	memset(&mirred, 0, sizeof(mirred));
	mirred.action = TC_ACT_STOLEN;
	mirred.eaction = TCA_EGRESS_REDIR;
	mirred.ifindex = (uint32_t)to;
	if (nla_put_string(msg, TCA_KIND, "u32") < 0 ||
	    (opts = nla_nest_start(msg, TCA_OPTIONS)) == NULL ||
	    nla_put(msg, TCA_U32_SEL, sizeof(sel), &sel) < 0 ||
	    (acts = nla_nest_start(msg, TCA_U32_ACT)) == NULL ||
	    (act = nla_nest_start(msg, 1)) == NULL ||
	    nla_put_string(msg, TCA_ACT_KIND, "mirred") < 0 ||
	    (aopts = nla_nest_start(msg, TCA_ACT_OPTIONS)) == NULL ||
	    nla_put(msg, TCA_MIRRED_PARMS, sizeof(mirred), &mirred) < 0)
		return -1;
	nla_nest_end(msg, aopts);
	nla_nest_end(msg, act);
	nla_nest_end(msg, acts);
	nla_nest_end(msg, opts);
	return 0;
}

/* Every frame arriving on from leaves through to. */
static int
nb_mirred_add(struct nb *nb, int from, int to, const char *name)
{
	struct nl_msg *msg;

	msg = nb_tc_msg(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, from,
	    NB_INGRESS_HANDLE, 0,
	    TC_H_MAKE((uint32_t)NB_REDIRECT_PRIO << 16, htons(ETH_P_ALL)));
	if (msg == NULL || nb_put_u32_all(msg, to) == -1) {
		nlmsg_free(msg);
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	}
	return nb_request(nb, msg, name);
}

static int
nb_mirred_del(struct nb *nb, int ifindex, const char *name)
{
	struct nl_msg *msg;

	msg = nb_tc_msg(RTM_DELTFILTER, 0, ifindex, NB_INGRESS_HANDLE, 0,
	    TC_H_MAKE((uint32_t)NB_REDIRECT_PRIO << 16, htons(ETH_P_ALL)));
	if (msg == NULL)
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	return nb_request(nb, msg, name);
}

static int
nb_count_row(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(*(size_t *)arg)++;
	return NL_OK;
}

/* How many filters the ingress qdisc of ifindex holds. */
static int
nb_ingress_filters(struct nb *nb, int ifindex, const char *name, size_t *n)
{
	struct nl_msg *msg;
	int rc;

	*n = 0;
	nb->kerr = 0;
	msg = nb_tc_msg(RTM_GETTFILTER, NLM_F_DUMP, ifindex,
	    NB_INGRESS_HANDLE, 0, 0);
	if (msg == NULL)
		return nb_fail(nb, ENOMEM, "%s: no memory", name);
	rc = nl_send_auto(nb->sk, msg);
	nlmsg_free(msg);
	if (rc < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "%s: filters: %s", name,
		    nl_geterror(rc));
	return nb_recv_each(nb, nb_count_row, n, name);
}

int
nb_redirect_add(struct nb *nb, const char *tap, const char *link)
{
	int t, l, saved;

	if ((t = nb_ifindex(nb, tap)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such link", tap);
	if ((l = nb_ifindex(nb, link)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such link", link);
	/* a filter of an earlier TAP (since deleted) would come first */
	if (nb_mirred_del(nb, l, link) == -1 && errno != ENOENT &&
	    errno != EINVAL)
		return -1;
	if (nb_ingress_add(nb, t, tap) == -1 ||
	    nb_ingress_add(nb, l, link) == -1 ||
	    nb_mirred_add(nb, t, l, tap) == -1)
		return -1;
	if (nb_mirred_add(nb, l, t, link) == -1) {
		saved = errno;
		(void)nb_mirred_del(nb, t, tap);
		errno = saved;
		return -1;
	}
	return 0;
}

int
nb_redirect_remove(struct nb *nb, const char *link)
{
	struct nl_msg *msg;
	size_t n;
	int l;

	if ((l = nb_ifindex(nb, link)) == 0)
		return nb_fail(nb, ENODEV, "%s: no such link", link);
	/* ENOENT/EINVAL: no filter of ours, or no ingress qdisc at all */
	if (nb_mirred_del(nb, l, link) == -1 && errno != ENOENT &&
	    errno != EINVAL)
		return -1;
	if (nb_ingress_filters(nb, l, link, &n) == -1)
		return errno == EINVAL || errno == ENOENT ? 0 : -1;
	if (n > 0)	/* someone else's filters: the qdisc stays */
		return 0;
	msg = nb_tc_msg(RTM_DELQDISC, 0, l, TC_H_INGRESS, NB_INGRESS_HANDLE,
	    0);
	if (msg == NULL)
		return nb_fail(nb, ENOMEM, "%s: no memory", link);
	if (nb_request(nb, msg, link) == -1 && errno != ENOENT &&
	    errno != EINVAL)
		return -1;
	return 0;
}
