/*
 * Batched TAP deletion (docs/design.md, "Deleting TAPs"). Deleting one
 * TAP costs the kernel about 20 ms; one RTM_DELLINK naming a netdev group
 * deletes a whole batch at well under a millisecond per TAP. So TAPs to
 * delete (a VM's exit or removal, a GC) are queued, and a short timer
 * (VM_NET_BATCH_MS) flushes the queue: the exits and removals of those
 * milliseconds, even one request at a time, make one batch, and no reply
 * waits for the kernel's unregister. The timer is long enough that the
 * flush's dump of every link stays a small part of each removal. A queued TAP found to be unikd's (one RTM_GETLINK by name)
 * is at once taken down, off its bridge and into the group (one
 * RTM_NEWLINK), so no frame passes it after the reply.
 *
 * No link but unikd's is ever deleted. A flush makes one dump of the
 * links: only queued TAPs that are there with the alias "unikd:VM:NIC"
 * of their VM and NIC are moved, by name, into unikd's reserved group
 * (one cheap RTM_NEWLINK each), and the group is deleted only when no
 * other link is in it; otherwise they go one by one, as they do when a
 * move or the group delete fails. A ledger row goes once its TAP is gone.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "netbackend.h"
#include "network.h"
#include "store-links.h"
#include "store.h"
#include "unikd.h"
#include "vm-net-internal.h"
#include "vm.h"

#define VM_NET_GROUP 0x756b	/* "uk": unikd's reserved netdev group */
#define VM_NET_BATCH_MS 100	/* see above */

/* A queued TAP, and what the flush found of it. */
struct vm_net_doomed {
	char tap[NB_IFNAMSIZ];
	char vm[VM_NAME_MAX + 1];
	char nic[VM_NIC_NAME_MAX + 1];
	bool present;		/* the dump has a link of that name */
	bool ours;		/* ... a TAP with this VM's and NIC's alias */
	bool grouped;		/* ... in the reserved group */
	bool gone;		/* deleted (or found gone) */
};

struct vm_net_batch {
	struct vm_net_doomed *v;
	size_t n, cap;
	struct event *ev;	/* the flush timer */
	bool foreign;		/* a foreign link sits in the group */
	bool warned;
};

static struct vm_net_batch *
vm_net_batch_get(struct unikd *u)
{
	if (u->vm_net_batch == NULL &&
	    (u->vm_net_batch = calloc(1, sizeof(*u->vm_net_batch))) == NULL)
		fatal("vm_net_batch");
	return u->vm_net_batch;
}

static struct vm_net_doomed *
vm_net_batch_find(struct vm_net_batch *b, const char *tap)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->v[i].tap, tap) == 0)
			return &b->v[i];
	return NULL;
}

static int
vm_net_batch_on_link(void *arg, const struct nb_link_info *link)
{
	struct vm_net_batch *b = arg;
	struct vm_net_doomed *d = vm_net_batch_find(b, link->name);
	char alias[sizeof(link->alias)];

	if (d == NULL) {
		if (link->group == VM_NET_GROUP)
			b->foreign = true;
		return 0;
	}
	snprintf(alias, sizeof(alias), NB_ALIAS_PREFIX "%s:%s", d->vm,
	    d->nic);
	d->present = true;
	d->ours = strcmp(link->kind, "tun") == 0 &&
	    strcmp(link->alias, alias) == 0;
	d->grouped = link->group == VM_NET_GROUP;
	if (d->grouped && !d->ours)
		b->foreign = true;
	return 0;
}

/* Moves the TAPs found ours into the group, then deletes the group. */
static void
vm_net_batch_group(struct unikd *u, struct vm_net_batch *b)
{
	struct vm_net_doomed *d;
	size_t i, moved = 0;

	for (i = 0; i < b->n; i++) {
		d = &b->v[i];
		if (!d->present || !d->ours)
			continue;
		if (!d->grouped &&
		    nb_link_set_group(u->nb, d->tap, VM_NET_GROUP) == -1) {
			d->gone = errno == ENODEV;
			continue;
		}
		d->grouped = true;
		moved++;
	}
	if (moved == 0)
		return;
	if (nb_link_delete_group(u->nb, VM_NET_GROUP) == -1 &&
	    errno != ENODEV) {
		log_warnx("action=delete-batch taps=%zu error=\"%s\"", moved,
		    network_nb_failed(u));
		return;
	}
	for (i = 0; i < b->n; i++)
		if (b->v[i].grouped)
			b->v[i].gone = true;
}

/* Deletes what the group did not, drops the rows of what is gone. */
static void
vm_net_batch_finish(struct unikd *u, struct vm_net_batch *b,
    void (*done)(void *, const char *, const char *, const char *),
    void *arg)
{
	struct vm_net_doomed *d;
	size_t i;
	bool tx;

	tx = store_begin(u->store) == 0;	/* one commit for the rows */
	for (i = 0; i < b->n; i++) {
		d = &b->v[i];
		if (d->present && !d->ours) {
			log_warnx("vm=%s nic=%s tap=%s action=delete "
			    "error=\"the link is not unikd's: left alone\"",
			    d->vm, d->nic, d->tap);
			store_link_delete(u->store, d->tap);
			continue;
		}
		if (!d->gone) {
			if (vm_net_tap_delete(u, d->tap, d->vm, d->nic) == 0 &&
			    done != NULL)
				done(arg, d->tap, d->vm, d->nic);
			continue;
		}
		if (store_link_delete(u->store, d->tap) == -1)
			log_warnx("tap=%s action=unledger error=\"%s\"", d->tap,
			    store_errmsg(u->store));
		log_info("vm=%s nic=%s tap=%s action=delete", d->vm, d->nic,
		    d->tap);
		if (done != NULL)
			done(arg, d->tap, d->vm, d->nic);
	}
	if (tx && store_commit(u->store) == -1)
		log_warnx("action=unledger error=\"%s\"",
		    store_errmsg(u->store));
}

/* Deletes the TAPs queued in b (one dump, one group delete). */
static void
vm_net_batch_run(struct unikd *u, struct vm_net_batch *b,
    void (*done)(void *arg, const char *tap, const char *vm, const char *nic),
    void *arg)
{
	size_t i, n;

	if (b->n == 0)
		return;
	n = b->n;
	b->foreign = false;
	if (nb_link_foreach(u->nb, vm_net_batch_on_link, b) != 0) {
		log_warnx("action=delete-batch error=\"cannot list the links: "
		    "%s\"", network_nb_failed(u));
		/* unknown: one by one, by name, as without batches */
		for (i = 0; i < b->n; i++)
			b->v[i].present = b->v[i].ours = true;
	} else {
		if (b->foreign && !b->warned)
			log_warnx("action=delete-batch group=%d error=\"a link "
			    "that is not unikd's is in the group: deleting "
			    "TAPs one by one\"", VM_NET_GROUP);
		b->warned = b->foreign;
		if (!b->foreign)
			vm_net_batch_group(u, b);
	}
	vm_net_batch_finish(u, b, done, arg);
	b->n = 0;
	log_debug("action=delete-batch taps=%zu", n);
}

void
vm_net_batch_flush(struct unikd *u,
    void (*done)(void *arg, const char *tap, const char *vm, const char *nic),
    void *arg)
{
	if (u->vm_net_batch != NULL)
		vm_net_batch_run(u, u->vm_net_batch, done, arg);
}

void
vm_net_batch_flush_vm(struct unikd *u, const char *vm)
{
	struct vm_net_batch *b = u->vm_net_batch;
	size_t i;

	if (b == NULL)
		return;
	/* Its queued TAPs already sit in the group with the others', and a
	 * group delete takes them all: the whole queue goes, in one batch. */
	for (i = 0; i < b->n; i++)
		if (strcmp(b->v[i].vm, vm) == 0) {
			vm_net_batch_run(u, b, NULL, NULL);
			return;
		}
}

static void
vm_net_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	vm_net_batch_flush(arg, NULL, NULL);
}

/* Down, off its bridge and into the group at once, if it is unikd's TAP
 * (checked as the flush's dump does, on this one link). */
static void
vm_net_tap_retire(struct unikd *u, struct vm_net_doomed *d)
{
	struct nb_link_info li;
	char alias[sizeof(li.alias)];

	if (nb_link_get(u->nb, d->tap, &li) == -1)
		return;	/* gone, or the flush will say */
	snprintf(alias, sizeof(alias), NB_ALIAS_PREFIX "%s:%s", d->vm,
	    d->nic);
	if (strcmp(li.kind, "tun") != 0 || strcmp(li.alias, alias) != 0)
		return;
	if (nb_link_retire(u->nb, d->tap, VM_NET_GROUP) == -1)
		log_warnx("vm=%s nic=%s tap=%s action=retire error=\"%s\"",
		    d->vm, d->nic, d->tap, network_nb_failed(u));
}

void
vm_net_tap_queue(struct unikd *u, const char *tap, const char *vm,
    const char *nic)
{
	const struct timeval delay = {0, VM_NET_BATCH_MS * 1000};
	struct vm_net_batch *b;
	struct vm_net_doomed *d;

	if (u->nb == NULL) {
		vm_net_tap_delete(u, tap, vm, nic);	/* the row only */
		return;
	}
	b = vm_net_batch_get(u);
	if (vm_net_batch_find(b, tap) != NULL)
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		if ((d = reallocarray(b->v, b->cap, sizeof(*d))) == NULL)
			fatal("vm_net_tap_queue");
		b->v = d;
	}
	d = &b->v[b->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->tap, sizeof(d->tap), "%s", tap);
	snprintf(d->vm, sizeof(d->vm), "%s", vm);
	snprintf(d->nic, sizeof(d->nic), "%s", nic);
	vm_net_tap_retire(u, d);
	if (b->ev == NULL && u->base != NULL &&
	    (b->ev = evtimer_new(u->base, vm_net_batch_cb, u)) == NULL)
		fatal("vm_net_tap_queue");
	if (b->ev == NULL)
		vm_net_batch_flush(u, NULL, NULL);
	else if (!evtimer_pending(b->ev, NULL))
		evtimer_add(b->ev, &delay);
}

void
vm_net_batch_free(struct unikd *u)
{
	struct vm_net_batch *b = u->vm_net_batch;

	if (b == NULL)
		return;
	vm_net_batch_flush(u, NULL, NULL);
	if (b->ev != NULL)
		event_free(b->ev);
	free(b->v);
	free(b);
	u->vm_net_batch = NULL;
}
