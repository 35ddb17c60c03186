/*
 * The netbackend handle: a libnl route socket for requests and dumps, a
 * second one subscribed to link notifications, and the one place where
 * libnl's NLE_* codes become errno.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/socket.h>

#include "nb-internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Link notifications come in bursts (a group delete of 1000 TAPs sends
 * 1000 of them): a large receive buffer keeps them from overrunning. */
#define NB_EVENT_RCVBUF (4 << 20)

/* libnl's codes, when the kernel's own errno was not seen. */
static const struct {
	int nle;
	int err;
} nb_nle_errno[] = {
	{ NLE_INTR, EINTR }, { NLE_BAD_SOCK, EBADF }, { NLE_AGAIN, EAGAIN },
	{ NLE_NOMEM, ENOMEM }, { NLE_EXIST, EEXIST }, { NLE_INVAL, EINVAL },
	{ NLE_RANGE, ERANGE }, { NLE_MSGSIZE, EMSGSIZE },
	{ NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_AF_NOSUPPORT, EAFNOSUPPORT },
	{ NLE_OBJ_NOTFOUND, ENOENT }, { NLE_NOATTR, ENOENT },
	{ NLE_MISSING_ATTR, EINVAL }, { NLE_AF_MISMATCH, EAFNOSUPPORT },
	{ NLE_SEQ_MISMATCH, EPROTO }, { NLE_MSG_OVERFLOW, EMSGSIZE },
	{ NLE_MSG_TRUNC, EMSGSIZE }, { NLE_NOADDR, EADDRNOTAVAIL },
	{ NLE_SRCRT_NOSUPPORT, EOPNOTSUPP }, { NLE_MSG_TOOSHORT, EPROTO },
	{ NLE_MSGTYPE_NOSUPPORT, EOPNOTSUPP }, { NLE_OBJ_MISMATCH, EINVAL },
	{ NLE_NOCACHE, ENOENT }, { NLE_BUSY, EBUSY },
	{ NLE_PROTO_MISMATCH, EPROTONOSUPPORT }, { NLE_NOACCESS, EACCES },
	{ NLE_PERM, EPERM }, { NLE_PKTLOC_FILE, ENOENT },
	{ NLE_PARSE_ERR, EINVAL }, { NLE_NODEV, ENODEV },
	{ NLE_IMMUTABLE, EPERM }, { NLE_DUMP_INTR, EINTR },
	{ NLE_ATTRSIZE, EINVAL },
};

int
nb_nlerr(struct nb *nb, int nle)
{
	size_t i;

	if (nb->kerr != 0)
		return nb->kerr;
	if (nle < 0)
		nle = -nle;
	for (i = 0; i < sizeof(nb_nle_errno) / sizeof(nb_nle_errno[0]); i++)
		if (nb_nle_errno[i].nle == nle)
			return nb_nle_errno[i].err;
	return EIO;
}

int
nb_fail(struct nb *nb, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(nb->errmsg, sizeof(nb->errmsg), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

const char *
nb_errmsg(const struct nb *nb)
{
	return nb->errmsg;
}

/* The kernel's NLMSG_ERROR: keep its errno, and the extended ack's text
 * (NLMSGERR_ATTR_MSG) when it sent one, for nb_errmsg. */
static int
nb_on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nb *nb = arg;
	struct nlmsghdr *hdr = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1], *tlv;
	size_t off;
	int len;

	(void)nla;
	nb->kerr = -e->error;
	nb->errmsg[0] = '\0';
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	off = NLMSG_HDRLEN + sizeof(*e);
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off >= hdr->nlmsg_len)
		return NL_STOP;
	tlv = (struct nlattr *)((char *)hdr + off);
	len = (int)(hdr->nlmsg_len - off);
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, tlv, len, NULL) == 0 &&
	    tb[NLMSGERR_ATTR_MSG] != NULL)
		snprintf(nb->errmsg, sizeof(nb->errmsg), "%.*s",
		    nla_len(tb[NLMSGERR_ATTR_MSG]) - 1,
		    (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

int
nb_request(struct nb *nb, struct nl_msg *msg, const char *what)
{
	char ext[sizeof(nb->errmsg)];
	int rc, err;

	nb->kerr = 0;
	rc = nl_send_auto(nb->sk, msg);
	nlmsg_free(msg);
	if (rc >= 0)
		rc = nl_wait_for_ack(nb->sk);
	if (rc >= 0)
		return 0;
	err = nb_nlerr(nb, rc);
	snprintf(ext, sizeof(ext), "%s", nb->kerr != 0 ? nb->errmsg : "");
	if (ext[0] != '\0')
		return nb_fail(nb, err, "%s: %s (%s)", what, strerror(err), ext);
	return nb_fail(nb, err, "%s: %s", what, strerror(err));
}

int
nb_recv_each(struct nb *nb, int (*row)(struct nl_msg *, void *), void *arg,
    const char *what)
{
	struct nl_cb *orig, *cb;
	int rc;

	/* nl_socket_get_cb() takes a reference: give it back */
	orig = nl_socket_get_cb(nb->sk);
	cb = nl_cb_clone(orig);
	nl_cb_put(orig);
	if (cb == NULL)
		return nb_fail(nb, ENOMEM, "%s: nl_cb_clone", what);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, row, arg);
	rc = nl_recvmsgs(nb->sk, cb);
	nl_cb_put(cb);
	if (rc < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "%s: %s", what,
		    strerror(nb_nlerr(nb, rc)));
	return 0;
}

int
nb_ifindex(struct nb *nb, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (strlen(name) >= sizeof(ifr.ifr_name))
		return 0;
	strcpy(ifr.ifr_name, name);
	/* Any socket answers SIOCGIFINDEX, the netlink one included. */
	if (ioctl(nl_socket_get_fd(nb->sk), SIOCGIFINDEX, &ifr) == -1)
		return 0;
	return ifr.ifr_ifindex;
}

void
nb_ifname(struct nb *nb, int ifindex, char name[NB_IFNAMSIZ])
{
	struct ifreq ifr;

	name[0] = '\0';
	if (ifindex <= 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = ifindex;
	if (ioctl(nl_socket_get_fd(nb->sk), SIOCGIFNAME, &ifr) == -1)
		return;
	snprintf(name, NB_IFNAMSIZ, "%.*s", NB_IFNAMSIZ - 1, ifr.ifr_name);
}

int
nb_open_request(struct nb *nb)
{
	int on = 1, fd, rc;

	if ((nb->sk = nl_socket_alloc()) == NULL)
		return nb_fail(nb, ENOMEM, "nl_socket_alloc");
	if ((rc = nl_connect(nb->sk, NETLINK_ROUTE)) < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "netlink connect: %s",
		    nl_geterror(rc));
	fd = nl_socket_get_fd(nb->sk);
	/* Short acks with the kernel's reason: not every kernel has them. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
	nl_socket_modify_err_cb(nb->sk, NL_CB_CUSTOM, nb_on_error, nb);
	return 0;
}

static int
nb_open_events(struct nb *nb)
{
	int size = NB_EVENT_RCVBUF, rc;

	if ((nb->ev = nl_socket_alloc()) == NULL)
		return nb_fail(nb, ENOMEM, "nl_socket_alloc");
	nl_socket_disable_seq_check(nb->ev);
	if ((rc = nl_connect(nb->ev, NETLINK_ROUTE)) < 0 ||
	    (rc = nl_socket_add_membership(nb->ev, RTNLGRP_LINK)) < 0 ||
	    (rc = nl_socket_set_nonblocking(nb->ev)) < 0)
		return nb_fail(nb, nb_nlerr(nb, rc), "netlink events: %s",
		    nl_geterror(rc));
	/* Past rmem_max with CAP_NET_ADMIN; the plain size otherwise. */
	if (setsockopt(nl_socket_get_fd(nb->ev), SOL_SOCKET, SO_RCVBUFFORCE,
		&size, sizeof(size)) == -1)
		(void)nl_socket_set_buffer_size(nb->ev, size, 0);
	return 0;
}

int
nb_open(struct nb **out)
{
	struct nb *nb;
	int saved;

	*out = NULL;
	if ((nb = calloc(1, sizeof(*nb))) == NULL)
		return -1;
	nb->nsfd = -1;
	if (nb_open_request(nb) == -1 || nb_open_events(nb) == -1)
		goto fail;
	*out = nb;
	return 0;
fail:
	saved = errno;
	nb_close(nb);
	errno = saved;
	return -1;
}

void
nb_close(struct nb *nb)
{
	if (nb == NULL)
		return;
	if (nb->sk != NULL)
		nl_socket_free(nb->sk);
	if (nb->ev != NULL)
		nl_socket_free(nb->ev);
	if (nb->nsfd != -1)
		close(nb->nsfd);
	free(nb);
}

int
nb_event_fd(struct nb *nb)
{
	if (nb->ev == NULL) {	/* a handle of nb_open_netns */
		errno = EBADF;
		return -1;
	}
	return nl_socket_get_fd(nb->ev);
}
