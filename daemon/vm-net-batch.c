/*
 * Batched TAP deletion (docs/design.md, "Deleting TAPs"). Deleting one TAP costs the kernel
 * about 20 ms; one RTM_DELLINK naming a netdev group deletes a whole batch
 * at well under a millisecond per TAP. So TAPs to delete (a VM's exit or
 * removal, a GC) are queued, and one deferred callback of the event loop
 * flushes the queue: several exits in one loop turn make one batch.
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
	struct event *ev;	/* the deferred flush */
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
	struct vm_net_batch *b = u->vm_net_batch, mine = {0};
	size_t i, kept = 0;

	if (b == NULL || b->n == 0)
		return;
	/* the VM's own entries move to a batch of their own, in order */
	for (i = 0; i < b->n; i++)
		if (strcmp(b->v[i].vm, vm) == 0)
			mine.n++;
	if (mine.n == 0)
		return;
	if ((mine.v = calloc(mine.n, sizeof(*mine.v))) == NULL) {
		vm_net_batch_run(u, b, NULL, NULL);	/* as it was: all now */
		return;
	}
	mine.n = 0;
	for (i = 0; i < b->n; i++) {
		if (strcmp(b->v[i].vm, vm) == 0)
			mine.v[mine.n++] = b->v[i];
		else
			b->v[kept++] = b->v[i];
	}
	b->n = kept;
	mine.warned = b->warned;
	vm_net_batch_run(u, &mine, NULL, NULL);
	b->warned = mine.warned;
	free(mine.v);
}

static void
vm_net_batch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	vm_net_batch_flush(arg, NULL, NULL);
}

void
vm_net_tap_queue(struct unikd *u, const char *tap, const char *vm,
    const char *nic)
{
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
	if (b->ev == NULL && u->base != NULL &&
	    (b->ev = event_new(u->base, -1, 0, vm_net_batch_cb, u)) == NULL)
		fatal("vm_net_tap_queue");
	if (b->ev == NULL)
		vm_net_batch_flush(u, NULL, NULL);
	else if (b->n == 1)
		event_active(b->ev, EV_TIMEOUT, 1);
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
