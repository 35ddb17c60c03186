/*
 * Inside netbackend: the handle and the netlink plumbing the other
 * nb-*.c files share. Nothing here crosses the library's boundary.
 */
#ifndef UNIKD_NB_INTERNAL_H
#define UNIKD_NB_INTERNAL_H

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "netbackend.h"

struct nb {
	struct nl_sock *sk;	/* requests and dumps */
	struct nl_sock *ev;	/* RTNLGRP_LINK notifications, non-blocking */
	int kerr;		/* errno of the last kernel NLMSG_ERROR */
	int nsfd;		/* the namespace of nb_open_netns, else -1 */
	char errmsg[256];
};

/* Connects the request socket, in the calling thread's namespace. */
int nb_open_request(struct nb *);
/* /dev/net/tun opened in the handle's namespace (nb-netns.c). */
int nb_tun_file(struct nb *);

/* Records a failure: errno = err, message "what: detail". Returns -1. */
int nb_fail(struct nb *, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Turns a libnl return code (negative NLE_*) into an errno value,
 * preferring the kernel's own errno when the kernel sent one. */
int nb_nlerr(struct nb *, int nle);
/* Sends msg (freed here) on the request socket and waits for its ack. */
int nb_request(struct nb *, struct nl_msg *msg, const char *what);
/* An RTM_*LINK message for ifindex, setting flags (ifi_change = flags:
 * 0 changes none, IFF_UP brings it up); NULL without memory. */
struct nl_msg *nb_link_msg(int type, int family, int ifindex,
    unsigned flags);
/* Receives the answer to a dump already sent, calling row for each
 * message, until its end. */
int nb_recv_each(struct nb *, int (*row)(struct nl_msg *, void *),
    void *arg, const char *what);
/* The ifindex of name in the current network namespace, 0 when none. */
int nb_ifindex(struct nb *, const char *name);
/* Parses one RTM_NEWLINK/RTM_DELLINK; stats may be NULL. 0, or -1 when
 * the message is not a link or is malformed. Master stays an index in
 * *master (0: none); the caller resolves it. */
int nb_link_parse(struct nlmsghdr *, struct nb_link_info *,
    struct nb_link_stats *, int *master);
/* The addresses of ifindex (IPv4 and IPv6, "a/p") into st->addrs. */
int nb_link_addrs(struct nb *, int ifindex, struct nb_link_saved *st);
/* Resolves an ifindex to a name, "" when unknown. */
void nb_ifname(struct nb *, int ifindex, char name[NB_IFNAMSIZ]);

#endif
