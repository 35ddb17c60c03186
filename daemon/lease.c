/*
 * Leases: the bitmap of taken addresses of each network with a subnet,
 * and network_lease()/network_release_vm(), which write the leases table
 * first and the bitmap after, so the bitmap never claims less than the
 * store holds.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "log.h"
#include "network.h"
#include "store-net.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"

struct lease_map {
	uint32_t base; /* network address */
	uint32_t size; /* addresses in the subnet */
	unsigned prefix;
	uint32_t gateway; /* 0: none */
	size_t used;      /* leases, reserved addresses not counted */
	size_t hint;      /* no free bit in the words before it */
	size_t nwords;
	uint64_t bits[]; /* 1: taken or reserved */
};

static void
lease_bit_set(struct lease_map *m, uint32_t idx)
{
	m->bits[idx / 64] |= UINT64_C(1) << (idx % 64);
}

static bool
lease_bit_get(const struct lease_map *m, uint32_t idx)
{
	return (m->bits[idx / 64] >> (idx % 64)) & 1;
}

struct lease_map *
lease_map_new(uint32_t subnet, unsigned prefix, uint32_t gateway)
{
	struct lease_map *m;
	uint32_t size, idx;
	size_t nwords;

	if (prefix < LEASE_PREFIX_MIN || prefix > LEASE_PREFIX_MAX) {
		errno = EINVAL;
		return NULL;
	}
	size = UINT32_C(1) << (32 - prefix);
	nwords = (size + 63) / 64;
	if ((m = calloc(1, sizeof(*m) + nwords * sizeof(uint64_t))) == NULL)
		return NULL;
	m->base = subnet & ~(size - 1);
	m->size = size;
	m->prefix = prefix;
	m->gateway = gateway;
	m->nwords = nwords;
	/* Bits past the subnet (a /30 has 4 of 64) are never free. */
	for (idx = size; idx < nwords * 64; idx++)
		lease_bit_set(m, idx);
	lease_bit_set(m, 0);
	lease_bit_set(m, size - 1);
	if (gateway != 0 && gateway - m->base < size)
		lease_bit_set(m, gateway - m->base);
	return m;
}

void
lease_map_free(struct lease_map *m)
{
	free(m);
}

bool
lease_map_assignable(const struct lease_map *m, uint32_t addr)
{
	uint32_t idx = addr - m->base;

	return idx < m->size && idx != 0 && idx != m->size - 1 &&
	       addr != m->gateway;
}

bool
lease_map_used(const struct lease_map *m, uint32_t addr)
{
	return lease_map_assignable(m, addr) &&
	       lease_bit_get(m, addr - m->base);
}

int
lease_map_take(struct lease_map *m, uint32_t addr)
{
	if (!lease_map_assignable(m, addr)) {
		errno = EDOM;
		return -1;
	}
	if (lease_bit_get(m, addr - m->base)) {
		errno = EEXIST;
		return -1;
	}
	lease_bit_set(m, addr - m->base);
	m->used++;
	return 0;
}

void
lease_map_put(struct lease_map *m, uint32_t addr)
{
	uint32_t idx = addr - m->base;

	if (!lease_map_used(m, addr))
		return;
	m->bits[idx / 64] &= ~(UINT64_C(1) << (idx % 64));
	m->used--;
	if (idx / 64 < m->hint)
		m->hint = idx / 64;
}

int
lease_map_lowest(struct lease_map *m, uint32_t *addr)
{
	size_t w;

	for (w = m->hint; w < m->nwords; w++) {
		if (m->bits[w] != UINT64_MAX) {
			m->hint = w;
			*addr = m->base + (uint32_t)(w * 64) +
			        (uint32_t)__builtin_ctzll(~m->bits[w]);
			return 0;
		}
	}
	m->hint = m->nwords;
	errno = ENOSPC;
	return -1;
}

size_t
lease_map_count(const struct lease_map *m)
{
	return m->used;
}

int
lease_ip_parse(const char *s, uint32_t *addr)
{
	struct in_addr in;

	if (s == NULL || inet_pton(AF_INET, s, &in) != 1) {
		errno = EINVAL;
		return -1;
	}
	*addr = ntohl(in.s_addr);
	return 0;
}

void
lease_ip_format(uint32_t addr, char out[16])
{
	struct in_addr in = {.s_addr = htonl(addr)};

	if (inet_ntop(AF_INET, &in, out, 16) == NULL)
		snprintf(out, 16, "?");
}

static int
lease_load_row(void *arg, const char *ip, const char *vm, const char *nic)
{
	struct network *net = arg;
	uint32_t addr;

	if (lease_ip_parse(ip, &addr) == -1 ||
	    lease_map_take(net->leases, addr) == -1)
		log_warnx("network=%s ip=%s vm=%s nic=%s action=load-lease "
		          "result=\"%s, ignored\"",
		    net->name, ip ? ip : "", vm ? vm : "", nic ? nic : "",
		    errno == EEXIST ? "leased twice"
		                    : "not an address of the subnet");
	return 0;
}

int
lease_load(struct unikd *u, struct network *net)
{
	lease_unload(net);
	if (!net->has_subnet)
		return 0;
	net->leases =
	    lease_map_new(net->subnet.addr, net->subnet.prefix, net->gateway);
	if (net->leases == NULL)
		return -1;
	if (store_lease_foreach_net(u->store, net->name, lease_load_row, net) ==
	    -1) {
		lease_unload(net);
		return -1;
	}
	return 0;
}

void
lease_unload(struct network *net)
{
	lease_map_free(net->leases);
	net->leases = NULL;
}

/* "10.0.0.0/24" of net. */
static void
lease_cidr(const struct network *net, char out[24])
{
	char ip[16];

	lease_ip_format(net->subnet.addr, ip);
	snprintf(out, 24, "%s/%u", ip, net->subnet.prefix);
}

/* Checks an address asked for by hand; 0 when it is free. */
static int
lease_check_wanted(
    struct unikd *u, struct network *net, uint32_t want, struct uerr *e)
{
	char ip[16], cidr[24], vm[128], nic[128];

	lease_ip_format(want, ip);
	lease_cidr(net, cidr);
	if (!lease_map_assignable(net->leases, want)) {
		if (want - net->leases->base >= net->leases->size)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "ip %s is "
			    "outside network '%s' (%s)",
			    ip, net->name, cidr);
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "ip %s is the %s "
		    "address of network '%s'",
		    ip,
		    want == net->gateway       ? "gateway"
		    : want == net->subnet.addr ? "network"
		                               : "broadcast",
		    net->name);
	}
	if (!lease_map_used(net->leases, want))
		return 0;
	if (store_lease_holder(u->store, net->name, ip, vm, sizeof(vm), nic,
	        sizeof(nic)) == -1)
		return uerr_set(e, UERR_CONFLICT,
		    "ip %s on network '%s' is "
		    "leased already",
		    ip, net->name);
	return uerr_set(e, UERR_CONFLICT,
	    "ip %s on network '%s' is leased to "
	    "vm '%s' (nic '%s')",
	    ip, net->name, vm, nic);
}

/* Records a new lease of addr in the store, then in the map. */
static int
lease_record(struct unikd *u, struct network *net, const char *vm,
    const char *nic, uint32_t addr)
{
	char ip[16];

	lease_ip_format(addr, ip);
	if (store_lease_insert(u->store, net->name, ip, vm, nic) == -1) {
		if (errno == EEXIST) /* the store knew better: remember */
			lease_map_take(net->leases, addr);
		return -1;
	}
	lease_map_take(net->leases, addr);
	log_info("network=%s vm=%s nic=%s ip=%s action=lease", net->name, vm,
	    nic, ip);
	return 0;
}

/* The address vm+nic holds already, or 0. */
static uint32_t
lease_held(
    struct unikd *u, struct network *net, const char *vm, const char *nic)
{
	char ip[16];
	uint32_t addr;

	if (store_lease_find(u->store, net->name, vm, nic, ip, sizeof(ip)) ==
	        -1 ||
	    lease_ip_parse(ip, &addr) == -1)
		return 0;
	return addr;
}

/* Takes the lowest free address; a row the map missed is skipped. */
static int
lease_take_lowest(struct unikd *u, struct network *net, const char *vm,
    const char *nic, uint32_t *got, struct uerr *e)
{
	char cidr[24];

	for (;;) {
		if (lease_map_lowest(net->leases, got) == -1) {
			lease_cidr(net, cidr);
			return uerr_set(e, UERR_CONFLICT,
			    "network '%s' has no "
			    "free address in %s",
			    net->name, cidr);
		}
		if (lease_record(u, net, vm, nic, *got) == 0)
			return 0;
		if (errno != EEXIST)
			return uerr_set(e, UERR_INTERNAL,
			    "cannot record the "
			    "lease: %s",
			    store_errmsg(u->store));
	}
}

int
network_lease(struct unikd *u, struct network *net, const char *vm,
    const char *nic, uint32_t want, uint32_t *got, struct uerr *e)
{
	uint32_t held;
	char ip[16];

	if (!net->has_subnet || net->leases == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "network '%s' has no "
		    "subnet to lease addresses from",
		    net->name);
	held = lease_held(u, net, vm, nic);
	if (held != 0 && (want == 0 || want == held)) {
		*got = held;
		return 0;
	}
	if (want == 0) {
		if (lease_take_lowest(u, net, vm, nic, got, e) == -1)
			return -1;
	} else {
		if (lease_check_wanted(u, net, want, e) == -1)
			return -1;
		if (lease_record(u, net, vm, nic, want) == -1)
			return uerr_set(e,
			    errno == EEXIST ? UERR_CONFLICT : UERR_INTERNAL,
			    "cannot lease the address: %s",
			    store_errmsg(u->store));
		*got = want;
	}
	if (held != 0) { /* the NIC asked for another address */
		lease_ip_format(held, ip);
		if (store_lease_delete(u->store, net->name, ip) == 0)
			lease_map_put(net->leases, held);
	}
	return 0;
}

/* The leases of one VM, gathered before they are deleted. */
struct lease_release {
	struct unikd *u;
	struct {
		struct network *net;
		uint32_t addr;
	} * items;
	size_t n, cap;
};

static int
lease_release_row(
    void *arg, const char *netname, const char *ip, const char *nic)
{
	struct lease_release *r = arg;
	struct network *net;
	uint32_t addr;
	void *p;

	(void)nic;
	TAILQ_FOREACH(net, &r->u->networks, entry)
	if (strcmp(net->name, netname) == 0)
		break;
	if (net == NULL || net->leases == NULL ||
	    lease_ip_parse(ip, &addr) == -1)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		if ((p = reallocarray(r->items, r->cap, sizeof(*r->items))) ==
		    NULL)
			return -1;
		r->items = p;
	}
	r->items[r->n].net = net;
	r->items[r->n++].addr = addr;
	return 0;
}

int
network_release_vm(struct unikd *u, const char *vm)
{
	struct lease_release r = {.u = u};
	char ip[16];
	size_t i;
	int rc;

	rc = store_lease_foreach_vm(u->store, vm, lease_release_row, &r);
	if (rc == 0)
		rc = store_lease_delete_vm(u->store, vm);
	for (i = 0; rc == 0 && i < r.n; i++) {
		lease_map_put(r.items[i].net->leases, r.items[i].addr);
		lease_ip_format(r.items[i].addr, ip);
		log_info("network=%s vm=%s ip=%s action=release",
		    r.items[i].net->name, vm, ip);
	}
	free(r.items);
	if (rc != 0)
		log_warnx("vm=%s action=release-leases error=\"%s\"", vm,
		    store_errmsg(u->store));
	return rc == 0 ? 0 : -1;
}
