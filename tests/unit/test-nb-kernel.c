/*
 * netbackend against the real kernel: bridges, TAPs, deletion, stats and
 * notifications (bridges as unikd keeps them, and NAT: test-nb-bridge.c).
 * Needs root; everything happens in a private network namespace (with its
 * own sysfs) that vanishes with the process (nb-fixture.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "netbackend.h"
#include "nb-fixture.h"

static void
test_bridge(void **state)
{
	struct nb_bridge_params bp = { .name = BR, .mtu = 9000 };
	struct nb_link_info li;
	struct ifaddrs *ifa, *i;
	bool found = false;

	(void)state;
	bridge_up();
	assert_int_equal(nb_link_get(nb, BR, &li), 0);
	assert_string_equal(li.kind, "bridge");
	assert_int_equal(li.mtu, 9000);
	assert_true(li.up);
	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i != NULL; i = i->ifa_next)
		if (i->ifa_addr != NULL && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, BR) == 0 &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			htonl(0x0a630001))
			found = true;
	freeifaddrs(ifa);
	assert_true(found);
	/* A second create is refused and leaves the first alone. */
	assert_int_equal(nb_bridge_create(nb, &bp), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(nb_link_get(nb, BR, &li), 0);
	assert_int_equal(li.mtu, 9000);
}

static void
test_tap_bridged(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	char buf[64], mac[18], brmac[64];
	int fd;

	(void)state;
	bridge_up();
	sysfs_read(BR, "address", brmac, sizeof(brmac));
	tap_params(&p, "uk1", true);
	p.isolated = true;
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	/* The gateway's MAC does not move when a port joins. */
	sysfs_read(BR, "address", buf, sizeof(buf));
	assert_string_equal(buf, brmac);
	assert_true(strncmp(brmac, "fe:", 3) != 0);
	assert_int_equal(fd, -1);
	assert_int_equal(nb_link_get(nb, "uk1", &li), 0);
	assert_string_equal(li.kind, "tun");
	assert_string_equal(li.master, BR);
	assert_string_equal(li.alias, "unikd:web1:service");
	assert_int_equal(li.mtu, 9000);	/* the bridge's */
	assert_true(li.up);
	sysfs_read("uk1", "address", buf, sizeof(buf));
	nb_mac_format(p.host_mac, mac);
	assert_string_equal(buf, mac);
	assert_string_equal(mac, "fe:01:02:03:04:05");
	sysfs_read("uk1", "brport/isolated", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	sysfs_read("uk1", "owner", buf, sizeof(buf));
	assert_string_equal(buf, "65534");
	sysfs_read("uk1", "group", buf, sizeof(buf));
	assert_string_equal(buf, "65534");
	/* A tender opening it gives it carrier: still no IPv6 address. */
	fd = tap_open("uk1");
	usleep(50000);
	assert_false(has_inet6("uk1"));
	close(fd);
}

static void
test_tap_unbridged_has_inet6(void **state)
{
	struct nb_tap_params p;
	int fd;

	(void)state;
	/* The control for the check above: a TAP outside any bridge keeps
	 * the kernel's default and gets its link-local address. */
	tap_params(&p, "uk2", false);
	p.bridge = NULL;
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	assert_true(fd >= 0);
	usleep(50000);
	assert_true(has_inet6("uk2"));
	close(fd);
}

static void
test_tap_exists(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	bridge_up();
	tap_params(&p, "uk4", true);
	p.mtu = 1500;
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	tap_params(&p, "uk4", true);
	p.alias = "unikd:other:nic";
	p.mtu = 4000;
	p.bridge = NULL;
	assert_int_equal(nb_tap_create(nb, &p, &fd), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(fd, -1);
	assert_int_equal(nb_link_get(nb, "uk4", &li), 0);
	assert_string_equal(li.alias, "unikd:web1:service");
	assert_string_equal(li.master, BR);
	assert_int_equal(li.mtu, 1500);
	/* The bridge's own name is taken too. */
	tap_params(&p, BR, true);
	assert_int_equal(nb_tap_create(nb, &p, &fd), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(nb_link_delete(nb, "uk4"), 0);
}

static void
test_tap_failures_leave_nothing(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	tap_params(&p, "uk5", true);
	p.bridge = "nosuchbr";
	assert_int_equal(nb_tap_create(nb, &p, &fd), -1);
	assert_int_equal(errno, ENODEV);
	p.bridge = NULL;
	p.mtu = 40;
	assert_int_equal(nb_tap_create(nb, &p, &fd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_link_get(nb, "uk5", &li), -1);
	assert_int_equal(errno, ENODEV);
}

static void
test_tap_nonpersistent(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	bridge_up();
	tap_params(&p, "uk3", false);
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(nb_link_get(nb, "uk3", &li), 0);
	assert_string_equal(li.master, BR);
	close(fd);
	assert_int_equal(nb_link_get(nb, "uk3", &li), -1);
	assert_int_equal(errno, ENODEV);
}

static void
test_link_delete(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	bridge_up();
	tap_params(&p, "uk6", true);
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	assert_int_equal(nb_link_delete(nb, "uk6"), 0);
	assert_int_equal(nb_link_get(nb, "uk6", &li), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_link_delete(nb, "uk6"), -1);
	assert_int_equal(errno, ENODEV);
	assert_true(strlen(nb_errmsg(nb)) > 0);
}

static int
count_group_taps(void *arg, const struct nb_link_info *li)
{
	if (strncmp(li->name, "ukg", 3) == 0 && strcmp(li->master, BR) == 0)
		(*(int *)arg)++;
	return 0;
}

static void
test_group_delete(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	char name[NB_IFNAMSIZ];
	int fd, i, n = 0;

	(void)state;
	bridge_up();
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "ukg%d", i);
		tap_params(&p, name, true);
		p.group = 7;
		assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	}
	assert_int_equal(nb_link_foreach(nb, count_group_taps, &n), 0);
	assert_int_equal(n, 50);
	assert_int_equal(nb_link_delete_group(nb, 7), 0);
	n = 0;
	assert_int_equal(nb_link_foreach(nb, count_group_taps, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(nb_link_get(nb, BR, &li), 0);
	assert_int_equal(nb_link_get(nb, "lo", &li), 0);
	assert_int_equal(nb_link_delete_group(nb, 0), -1);
	assert_int_equal(errno, EINVAL);
}

/* Only the links moved into a group go with it. */
static void
test_set_group(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	bridge_up();
	tap_params(&p, "uks1", true);
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	tap_params(&p, "uks2", true);
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	assert_int_equal(nb_link_get(nb, "uks1", &li), 0);
	assert_int_equal(li.group, 0);
	assert_int_equal(nb_link_set_group(nb, "uks1", 9), 0);
	assert_int_equal(nb_link_get(nb, "uks1", &li), 0);
	assert_int_equal(li.group, 9);
	assert_string_equal(li.master, BR);
	assert_int_equal(nb_link_delete_group(nb, 9), 0);
	assert_int_equal(nb_link_get(nb, "uks1", &li), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_link_get(nb, "uks2", &li), 0);
	assert_int_equal(li.group, 0);
	assert_int_equal(nb_link_set_group(nb, "uks1", 9), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_link_delete(nb, "uks2"), 0);
}

/* uk7's counters as the dump of every link gives them. */
static int
find_stats(void *arg, const char *name, const struct nb_link_stats *s)
{
	if (strcmp(name, "uk7") == 0)
		*(struct nb_link_stats *)arg = *s;
	return 0;
}

static void
test_stats(void **state)
{
	/* A broadcast ARP request from 02:01:02:03:04:05. */
	static const uint8_t frame[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 1, 2, 3, 4, 5,
		0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1,
		0x02, 1, 2, 3, 4, 5, 10, 99, 0, 2,
		0, 0, 0, 0, 0, 0, 10, 99, 0, 1,
	};
	struct nb_link_stats a0, a1, b0, b1;
	struct pollfd pfd = { .events = POLLIN };
	uint8_t got[2048];
	int tries;
	struct nb_tap_params p;
	int fa, fb;
	bool seen = false;

	(void)state;
	bridge_up();
	tap_params(&p, "uk7", false);
	assert_int_equal(nb_tap_create(nb, &p, &fa), 0);
	tap_params(&p, "uk8", false);
	assert_int_equal(nb_tap_create(nb, &p, &fb), 0);
	usleep(20000);
	assert_int_equal(nb_link_stats(nb, "uk7", &a0), 0);
	assert_int_equal(nb_link_stats(nb, "uk8", &b0), 0);
	pfd.fd = fb;
	/* What the guest writes, the host receives: rx on uk7; the bridge
	 * floods the broadcast out of uk8: tx there. */
	assert_int_equal(write(fa, frame, sizeof(frame)), sizeof(frame));
	/* tun counts tx when the reader takes the frame. */
	for (tries = 0; tries < 20 && !seen; tries++) {
		assert_int_equal(poll(&pfd, 1, 2000), 1);
		/* The bridge's own IPv6 chatter may come first. */
		seen = read(fb, got, sizeof(got)) == sizeof(frame) &&
		    memcmp(got, frame, sizeof(frame)) == 0;
	}
	assert_true(seen);
	seen = false;
	assert_int_equal(nb_link_stats(nb, "uk7", &a1), 0);
	assert_int_equal(nb_link_stats(nb, "uk8", &b1), 0);
	assert_int_equal(a1.rx_packets, a0.rx_packets + 1);
	assert_true(a1.rx_bytes >= a0.rx_bytes + sizeof(frame));
	assert_true(b1.tx_packets >= b0.tx_packets + 1);
	/* the guest sent nothing since: uk7's rx is as read alone */
	memset(&a0, 0, sizeof(a0));
	assert_int_equal(nb_link_stats_foreach(nb, find_stats, &a0), 0);
	assert_int_equal(a0.rx_packets, a1.rx_packets);
	assert_int_equal(a0.rx_bytes, a1.rx_bytes);
	close(fa);
	close(fb);
}

struct seen_event {
	const char *name;
	bool del;
	bool other;
};

static void
on_event(void *arg, enum nb_link_event ev, const struct nb_link_info *li)
{
	struct seen_event *s = arg;

	if (ev == NB_LINK_DEL && strcmp(li->name, s->name) == 0)
		s->del = true;
	else
		s->other = true;
}

static void
test_events(void **state)
{
	struct nb_bridge_params bp = { .name = "ukbr9" };
	struct seen_event s = { .name = "ukbr9" };
	struct pollfd pfd = { .fd = nb_event_fd(nb), .events = POLLIN };
	int tries;

	(void)state;
	assert_int_equal(nb_event_read(nb, on_event, &s), 0);
	assert_int_equal(nb_bridge_create(nb, &bp), 0);
	assert_int_equal(nb_link_delete(nb, "ukbr9"), 0);
	for (tries = 0; tries < 20 && !s.del; tries++) {
		assert_true(poll(&pfd, 1, 500) >= 0);
		assert_int_equal(nb_event_read(nb, on_event, &s), 0);
	}
	assert_true(s.del);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bridge),
		cmocka_unit_test(test_tap_bridged),
		cmocka_unit_test(test_tap_unbridged_has_inet6),
		cmocka_unit_test(test_tap_exists),
		cmocka_unit_test(test_tap_failures_leave_nothing),
		cmocka_unit_test(test_tap_nonpersistent),
		cmocka_unit_test(test_link_delete),
		cmocka_unit_test(test_group_delete),
		cmocka_unit_test(test_set_group),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_events),
	};

	return nb_fixture_run("test-nb-kernel", tests,
	    sizeof(tests) / sizeof(tests[0]));
}
