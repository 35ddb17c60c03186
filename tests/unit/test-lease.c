/*
 * Unit tests of address leases: the bitmap alone (lowest free address,
 * the network, broadcast and gateway addresses never handed out,
 * exhaustion) and network_lease()/network_release_vm() against a real
 * store in a temporary directory (same address for the same VM and NIC,
 * an address held by another VM refused naming it, leases kept across a
 * reload, freed on release). No root needed.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "log.h"
#include "network.h"
#include "store.h"
#include "uerr.h"
#include "unikd.h"

#define IP(a, b, c, d)                                                         \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

struct fixture {
	char dir[64];
	char path[128];
	struct unikd u;
	struct network net;
};

static void
fixture_open(struct fixture *f)
{
	char err[256];

	assert_int_equal(store_open(&f->u.store, f->path, err, sizeof(err)), 0);
	assert_int_equal(lease_load(&f->u, &f->net), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-lease.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/unikd.db", f->dir);
	TAILQ_INIT(&f->u.networks);
	snprintf(f->net.name, sizeof(f->net.name), "lan");
	f->net.has_subnet = true;
	f->net.subnet.addr = IP(10, 0, 0, 0);
	f->net.subnet.prefix = 29; /* .1 gateway, .2 to .6 for VMs */
	f->net.gateway = IP(10, 0, 0, 1);
	TAILQ_INSERT_TAIL(&f->u.networks, &f->net, entry);
	fixture_open(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[256];

	lease_unload(&f->net);
	store_close(f->u.store);
	snprintf(p, sizeof(p), "%s/unikd.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/unikd.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/unikd.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Each subnet: the first address handed out, and how many there are
 * before ENOSPC (network, broadcast and gateway never). */
static void
test_map_capacity(void **state)
{
	static const struct {
		uint32_t subnet;
		unsigned prefix;
		uint32_t gateway, first, capacity;
	} cases[] = {
	    {IP(192, 168, 7, 0), 24, IP(192, 168, 7, 1), IP(192, 168, 7, 2),
		253},
	    /* a gateway that is not the first host leaves .1 free */
	    {IP(10, 9, 0, 0), 16, IP(10, 9, 255, 254), IP(10, 9, 0, 1),
		65533},
	    {IP(10, 0, 0, 4), 30, IP(10, 0, 0, 5), IP(10, 0, 0, 6), 1},
	};
	struct lease_map *m;
	uint32_t a, i;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		m = lease_map_new(
		    cases[k].subnet, cases[k].prefix, cases[k].gateway);
		assert_non_null(m);
		assert_int_equal(lease_map_lowest(m, &a), 0);
		assert_int_equal(a, cases[k].first);
		for (i = 0; lease_map_lowest(m, &a) == 0; i++)
			assert_int_equal(lease_map_take(m, a), 0);
		assert_int_equal(i, cases[k].capacity);
		assert_int_equal(errno, ENOSPC);
		assert_int_equal(lease_map_count(m), cases[k].capacity);
		lease_map_free(m);
	}
	assert_null(lease_map_new(IP(10, 0, 0, 0), 8, 0));
	assert_null(lease_map_new(IP(10, 0, 0, 0), 31, 0));
}

static void
test_map_take_and_put(void **state)
{
	struct lease_map *m =
	    lease_map_new(IP(192, 168, 7, 0), 24, IP(192, 168, 7, 1));
	uint32_t a;

	(void)state;
	assert_non_null(m);
	assert_false(lease_map_assignable(m, IP(192, 168, 7, 0)));
	assert_false(lease_map_assignable(m, IP(192, 168, 7, 1)));
	assert_false(lease_map_assignable(m, IP(192, 168, 7, 255)));
	assert_false(lease_map_assignable(m, IP(192, 168, 8, 2)));
	assert_true(lease_map_assignable(m, IP(192, 168, 7, 254)));
	assert_int_equal(lease_map_take(m, IP(192, 168, 7, 1)), -1);
	assert_int_equal(errno, EDOM);
	assert_int_equal(lease_map_take(m, IP(192, 168, 7, 2)), 0);
	assert_int_equal(lease_map_take(m, IP(192, 168, 7, 2)), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lease_map_lowest(m, &a), 0);
	assert_int_equal(a, IP(192, 168, 7, 3));
	/* a freed address is the lowest again */
	assert_int_equal(lease_map_take(m, IP(192, 168, 7, 3)), 0);
	assert_int_equal(lease_map_take(m, IP(192, 168, 7, 77)), 0);
	lease_map_put(m, IP(192, 168, 7, 77));
	assert_int_equal(lease_map_lowest(m, &a), 0);
	assert_int_equal(a, IP(192, 168, 7, 4));
	lease_map_put(m, IP(192, 168, 7, 2));
	assert_int_equal(lease_map_lowest(m, &a), 0);
	assert_int_equal(a, IP(192, 168, 7, 2));
	lease_map_free(m);
}

static uint32_t
lease_ok(struct fixture *f, const char *vm, const char *nic, uint32_t want)
{
	struct uerr e = {0};
	uint32_t got = 0;

	if (network_lease(&f->u, &f->net, vm, nic, want, &got, &e) != 0)
		fail_msg("lease %s/%s: %s", vm, nic, e.message);
	return got;
}

static void
test_lease_exhaustion(void **state)
{
	struct fixture *f = *state;
	struct uerr e = {0};
	char vm[16];
	uint32_t got, i;

	for (i = 0; i < 5; i++) {
		snprintf(vm, sizeof(vm), "vm%u", i);
		assert_int_equal(
		    lease_ok(f, vm, "service", 0), IP(10, 0, 0, 2 + i));
	}
	assert_int_equal(
	    network_lease(&f->u, &f->net, "vm9", "service", 0, &got, &e), -1);
	assert_int_equal(e.status, 409);
	assert_string_equal(
	    e.message, "network 'lan' has no free address in 10.0.0.0/29");
}

static void
test_lease_same_vm_nic(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lease_ok(f, "web", "service", 0), IP(10, 0, 0, 2));
	assert_int_equal(lease_ok(f, "web", "admin", 0), IP(10, 0, 0, 3));
	assert_int_equal(lease_ok(f, "web", "service", 0), IP(10, 0, 0, 2));
	assert_int_equal(
	    lease_ok(f, "web", "service", IP(10, 0, 0, 2)), IP(10, 0, 0, 2));
	assert_int_equal(lease_map_count(f->net.leases), 2);
}

static void
test_lease_explicit(void **state)
{
	static const struct {
		uint32_t ip;
		int status;
		const char *message; /* NULL: not checked */
	} refused[] = {
	    {IP(10, 0, 0, 5), 409,
		"ip 10.0.0.5 on network 'lan' is leased to vm 'db' (nic "
		"'service')"},
	    {IP(10, 0, 1, 5), 422,
		"ip 10.0.1.5 is outside network 'lan' (10.0.0.0/29)"},
	    {IP(10, 0, 0, 1), 422,
		"ip 10.0.0.1 is the gateway address of network 'lan'"},
	    {IP(10, 0, 0, 7), 422, NULL}, /* the broadcast address */
	};
	struct fixture *f = *state;
	struct uerr e;
	uint32_t got;
	size_t i;

	assert_int_equal(
	    lease_ok(f, "db", "service", IP(10, 0, 0, 5)), IP(10, 0, 0, 5));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(network_lease(&f->u, &f->net, "web",
		                     "service", refused[i].ip, &got, &e),
		    -1);
		assert_int_equal(e.status, refused[i].status);
		if (refused[i].message != NULL)
			assert_string_equal(e.message, refused[i].message);
	}
	/* The automatic lease goes around the explicit one. */
	assert_int_equal(lease_ok(f, "web", "service", 0), IP(10, 0, 0, 2));
}

/* Leases survive a restart of unikd; releasing a VM frees its own. */
static void
test_lease_reload_and_release(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(lease_ok(f, "a", "n0", 0), IP(10, 0, 0, 2));
	assert_int_equal(lease_ok(f, "b", "n0", 0), IP(10, 0, 0, 3));
	assert_int_equal(lease_ok(f, "a", "n1", 0), IP(10, 0, 0, 4));
	lease_unload(&f->net);
	store_close(f->u.store);
	fixture_open(f);
	assert_int_equal(lease_map_count(f->net.leases), 3);
	assert_int_equal(lease_ok(f, "c", "n0", 0), IP(10, 0, 0, 5));
	assert_int_equal(network_release_vm(&f->u, "a"), 0);
	assert_int_equal(lease_map_count(f->net.leases), 2);
	assert_int_equal(lease_ok(f, "d", "n0", 0), IP(10, 0, 0, 2));
	assert_int_equal(lease_ok(f, "e", "n0", 0), IP(10, 0, 0, 4));
	assert_int_equal(lease_ok(f, "b", "n0", 0), IP(10, 0, 0, 3));
	lease_unload(&f->net);
	store_close(f->u.store);
	fixture_open(f);
	assert_int_equal(lease_map_count(f->net.leases), 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_capacity),
	    cmocka_unit_test(test_map_take_and_put),
	    cmocka_unit_test_setup_teardown(
	        test_lease_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lease_same_vm_nic, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lease_explicit, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lease_reload_and_release, setup, teardown),
	};

	log_init("test-lease", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
