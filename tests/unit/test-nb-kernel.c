/*
 * netbackend against the real kernel: bridges, TAPs, deletion, stats,
 * notifications and NAT. Needs root; everything happens in a private
 * network namespace (with its own sysfs) that vanishes with the process.
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

#ifdef HAVE_LIBNFTABLES
#include <nftables/libnftables.h>
#endif

#include "netbackend.h"
#include "netns.h"

#define BR "ukbr0"
#define NOBODY 65534

static struct nb *nb;

static void
bridge_up(void)
{
	struct nb_bridge_params bp = {
		.name = BR, .mtu = 9000, .ipv4 = "10.99.0.1/24",
	};

	if (nb_bridge_create(nb, &bp) == -1)
		assert_int_equal(errno, EEXIST);
}

static void
tap_params(struct nb_tap_params *p, const char *name, bool persist)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->alias = "unikd:web1:service";
	p->uid = NOBODY;
	p->gid = NOBODY;
	p->bridge = BR;
	p->persist = persist;
	nb_mac_host((const uint8_t[6]){ 0x02, 1, 2, 3, 4, 5 }, p->host_mac);
}

/* The first line of a sysfs file of link name, "" when missing. */
static void
sysfs_read(const char *name, const char *file, char *out, size_t len)
{
	char path[256];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", name, file);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(out, (int)len, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static bool
has_inet6(const char *name)
{
	char line[256], dev[32];
	bool found = false;
	FILE *f;

	if ((f = fopen("/proc/net/if_inet6", "r")) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %*s %*s %*s %*s %31s", dev) == 1 &&
		    strcmp(dev, name) == 0)
			found = true;
	fclose(f);
	return found;
}

/* Opens an existing TAP by name, as solo5-spt does. */
static int
tap_open(const char *name)
{
	struct ifreq ifr;
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	return fd;
}

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

static int
find_stats(void *arg, const char *name, const struct nb_link_stats *s)
{
	(void)s;
	if (strcmp(name, "uk8") == 0)
		*(bool *)arg = true;
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
	assert_int_equal(nb_link_stats_foreach(nb, find_stats, &seen), 0);
	assert_true(seen);
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

static void
test_bridge_ensure(void **state)
{
	struct nb_bridge_params bp = { .name = "uk9", .mtu = 1500 };
	struct nb_tap_params p;
	struct nb_link_info li;
	int fd;

	(void)state;
	tap_params(&p, "uk9", true);
	p.bridge = NULL;
	assert_int_equal(nb_tap_create(nb, &p, &fd), 0);
	assert_int_equal(nb_bridge_ensure(nb, &bp), -1);
	assert_int_equal(errno, EMEDIUMTYPE);
	assert_int_equal(nb_link_get(nb, "uk9", &li), 0);
	assert_string_equal(li.kind, "tun");
	bp.name = "nosuchbr";
	assert_int_equal(nb_bridge_ensure(nb, &bp), -1);
	assert_int_equal(errno, ENODEV);
	/* An existing bridge is brought back to its MTU and address. */
	bridge_up();
	bp.name = BR;
	bp.mtu = 9000;
	bp.ipv4 = "10.99.0.1/24";
	bp.ipv6 = "fd99::1/64";
	assert_int_equal(nb_bridge_ensure(nb, &bp), 0);
	assert_int_equal(nb_bridge_ensure(nb, &bp), 0);
	assert_int_equal(nb_link_get(nb, BR, &li), 0);
	assert_int_equal(li.mtu, 9000);
	assert_true(li.up);
	assert_int_equal(nb_link_delete(nb, "uk9"), 0);
}

#ifdef HAVE_LIBNFTABLES
/* Runs an nft command; the listing into out. */
static int
nft(const char *cmd, char *out, size_t len)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	assert_non_null(ctx);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, cmd);
	if (out != NULL)
		snprintf(out, len, "%s", nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return rc;
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static void
test_nat(void **state)
{
	char out[8192], buf[8];
	int fd, fwd;

	(void)state;
	bridge_up();
	assert_int_equal(nft("add table inet other\n"
			     "add chain inet other keep\n", NULL, 0), 0);
	assert_int_equal(nb_nat_add(nb, "lan", "10.99.0.1/24", BR), 0);
	assert_int_equal(nb_nat_add(nb, "lan", "10.99.0.0/24", BR), 0);
	assert_int_equal(nft("list table inet unikd", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "ip saddr 10.99.0.0/24 oifname != \""
				    BR "\" masquerade"));
	assert_int_equal(count(out, "masquerade"), 1);	/* idempotent */
	assert_non_null(strstr(out, "chain fwd-lan"));
	/* Forwarding is the caller's, read and written as it was. */
	assert_int_equal(nb_ip_forward_set(nb, 0), 0);
	assert_int_equal(nb_ip_forward_get(nb, &fwd), 0);
	assert_int_equal(fwd, 0);
	assert_int_equal(nb_ip_forward_set(nb, 1), 0);
	fd = open("/proc/sys/net/ipv4/ip_forward", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, 1), 1);
	assert_int_equal(buf[0], '1');
	close(fd);
	assert_int_equal(nb_ip_forward_get(nb, &fwd), 0);
	assert_int_equal(fwd, 1);
	/* Nothing a caller passes becomes nft syntax. */
	assert_int_equal(nb_nat_add(nb, "x\ndelete table inet other",
			     "10.98.0.0/24", BR), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_nat_add(nb, "lan2",
			     "10.98.0.0/24 accept; delete table inet other",
			     BR), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_nat_add(nb, "lan2", "10.98.0.0/24",
			     "br\" accept"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_nat_remove(nb, "lan"), 0);
	assert_int_not_equal(nft("list table inet unikd", NULL, 0), 0);
	assert_int_equal(nft("list table inet other", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "chain keep"));
	assert_int_equal(nb_nat_remove(nb, "lan"), -1);
	assert_int_equal(errno, ENOENT);
}
#endif

/* A bridge unikd makes carries its mark; only that very link is deleted
 * by identity, and an address or route in use is found. */
static void
test_bridge_owned(void **state)
{
	struct nb_bridge_params bp = {
		.name = "ukown0", .alias = "unikd:net:own", .mtu = 1500,
		.ipv4 = "10.97.0.1/24",
	};
	struct nb_link_info li;
	struct nb_link_id id;
	struct nb_ip4_user who;
	struct nb_ip4net want;
	uint8_t mac[6];

	(void)state;
	assert_int_equal(nb_bridge_create(nb, &bp), 0);
	assert_int_equal(nb_link_get(nb, "ukown0", &li), 0);
	assert_string_equal(li.alias, "unikd:net:own");
	nb_bridge_mac("ukown0", mac);
	assert_memory_equal(li.mac, mac, 6);

	assert_int_equal(nb_ip4net_parse("10.97.0.128/25", &want), 0);
	assert_int_equal(nb_ip4_in_use(nb, &want, NULL, &who), 1);
	assert_string_equal(who.link, "ukown0");
	assert_string_equal(who.what, "address");
	assert_int_equal(nb_ip4_in_use(nb, &want, "ukown0", &who), 0);
	assert_int_equal(nb_ip4net_parse("10.96.0.0/24", &want), 0);
	assert_int_equal(nb_ip4_in_use(nb, &want, NULL, &who), 0);

	id.ifindex = li.ifindex;
	memcpy(id.mac, li.mac, 6);
	snprintf(id.alias, sizeof(id.alias), "%s", "unikd:net:other");
	assert_int_equal(nb_link_delete_owned(nb, "ukown0", &id), -1);
	assert_int_equal(errno, ESTALE);
	assert_int_equal(nb_link_get(nb, "ukown0", &li), 0);
	snprintf(id.alias, sizeof(id.alias), "%s", "unikd:net:own");
	id.ifindex = li.ifindex + 1000;
	assert_int_equal(nb_link_delete_owned(nb, "ukown0", &id), -1);
	assert_int_equal(errno, ESTALE);
	id.ifindex = li.ifindex;
	assert_int_equal(nb_link_delete_owned(nb, "ukown0", &id), 0);
	assert_int_equal(nb_link_get(nb, "ukown0", &li), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_link_delete_owned(nb, "ukown0", &id), -1);
	assert_int_equal(errno, ENODEV);
	/* '%' never reaches the kernel, which would expand it */
	bp.name = "ukx%d";
	assert_int_equal(nb_bridge_create(nb, &bp), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_link_get(nb, "ukx0", &li), -1);
}

/* IFF_UP off, as an admin would with `ip link set NAME down`. */
static void
link_down(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags &= ~IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

/* A bridge found down with an MTU and an address is given back so. */
static void
test_bridge_give_back(void **state)
{
	struct nb_bridge_params mine = {
		.name = "ukfound0", .mtu = 1400,
	};
	struct nb_bridge_params ours = {
		.name = "ukfound0", .mtu = 9000, .ipv4 = "10.95.0.1/24",
	};
	struct nb_link_saved st;
	struct nb_link_info li;
	struct nb_ip4_user who;
	struct nb_ip4net want;

	(void)state;
	/* made "by hand": up with an address, then brought down */
	mine.ipv4 = "10.94.0.1/24";
	assert_int_equal(nb_bridge_create(nb, &mine), 0);
	assert_int_equal(nb_link_get(nb, "ukfound0", &li), 0);
	link_down("ukfound0");
	assert_int_equal(nb_bridge_save(nb, "ukfound0", &st), 0);
	assert_int_equal(st.mtu, 1400);
	assert_false(st.up);
	assert_int_equal(st.naddrs, 1);
	assert_string_equal(st.addrs[0], "10.94.0.1/24");

	assert_int_equal(nb_bridge_ensure(nb, &ours), 0);
	assert_int_equal(nb_link_get(nb, "ukfound0", &li), 0);
	assert_int_equal(li.mtu, 9000);
	assert_true(li.up);
	assert_int_equal(nb_bridge_give_back(nb, &ours, &st), 0);
	assert_int_equal(nb_link_get(nb, "ukfound0", &li), 0);
	assert_int_equal(li.mtu, 1400);
	assert_false(li.up);
	assert_int_equal(nb_ip4net_parse("10.95.0.0/24", &want), 0);
	assert_int_equal(nb_ip4_in_use(nb, &want, NULL, &who), 0);
	assert_int_equal(nb_ip4net_parse("10.94.0.0/24", &want), 0);
	assert_int_equal(nb_ip4_in_use(nb, &want, NULL, &who), 1);
	assert_int_equal(nb_link_delete(nb, "ukfound0"), 0);
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
		cmocka_unit_test(test_bridge_ensure),
		cmocka_unit_test(test_bridge_owned),
		cmocka_unit_test(test_bridge_give_back),
#ifdef HAVE_LIBNFTABLES
		cmocka_unit_test(test_nat),
#endif
	};
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "test-nb-kernel: needs root, skipped\n");
		return 77;
	}
	if (test_netns_enter(true) == -1) {
		fprintf(stderr, "test-nb-kernel: no private netns (%s), "
				"skipped\n", strerror(errno));
		return 77;
	}
	if (nb_open(&nb) == -1) {
		fprintf(stderr, "nb_open: %s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nb_close(nb);
	return rc;
}
