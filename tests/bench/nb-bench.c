/*
 * nb-bench: create and tear down N bridged TAPs three ways, in a private
 * network namespace, and print medians and ratios:
 *   nb   netbackend (nb_tap_create with persist + group, one
 *        nb_link_delete_group)
 *   raw  the same kernel calls with hand-built netlink messages, no libnl
 *        (the floor netbackend is held to: within 1.5x)
 *   ip   what scripts do: `ip tuntap add`, `ip link set` (MTU, MAC,
 *        alias, group, addrgenmode), `ip link set master up`, and
 *        `ip link del` per TAP (netbackend must be >= 20x faster)
 * Only this benchmark forks `ip`, as the baseline. Needs root.
 *
 *   nb-bench [-n TAPS] [-r RUNS] [-i IP_RUNS]   (defaults 1000, 3, 1)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netbackend.h"
#include "netns.h"

#define BENCH_BR "ukbench"
#define BENCH_GROUP 9
#define BENCH_UID 65534

extern char **environ;

struct result {
	double create_s;	/* all N creations */
	double delete_s;	/* teardown */
	double median_us;	/* one creation */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
tap_mac(int i, uint8_t host[6])
{
	uint8_t guest[6];
	char nic[16];

	snprintf(nic, sizeof(nic), "n%d", i);
	nb_mac_generate("bench", nic, 0, guest);
	nb_mac_host(guest, host);
}

/* --- netbackend --- */

/* The same bridge for every way, made by netbackend, not timed. */
static int
bridge(bool create)
{
	struct nb_bridge_params bp = { .name = BENCH_BR, .mtu = 1500 };
	struct nb *nb;
	int rc;

	if (nb_open(&nb) == -1)
		return -1;
	rc = create ? nb_bridge_create(nb, &bp) : nb_link_delete(nb, BENCH_BR);
	if (rc == -1)
		fprintf(stderr, "bridge: %s\n", nb_errmsg(nb));
	nb_close(nb);
	return rc;
}

static int
run_nb(int n, double *each, struct result *r)
{
	struct nb_tap_params p = {
		.uid = BENCH_UID, .gid = BENCH_UID, .bridge = BENCH_BR,
		.persist = true, .group = BENCH_GROUP, .mtu = 1500,
	};
	char name[NB_IFNAMSIZ], alias[32];
	struct nb *nb;
	double t0, t;
	int i, fd;

	if (nb_open(&nb) == -1)
		goto fail;
	p.name = name;
	p.alias = alias;
	t0 = now();
	for (i = 0; i < n; i++) {
		nb_tap_name((uint64_t)i + 1, name);
		snprintf(alias, sizeof(alias), "unikd:bench:n%d", i);
		tap_mac(i, p.host_mac);
		t = now();
		if (nb_tap_create(nb, &p, &fd) == -1)
			goto fail;
		each[i] = now() - t;
	}
	r->create_s = now() - t0;
	t0 = now();
	if (nb_link_delete_group(nb, BENCH_GROUP) == -1)
		goto fail;
	r->delete_s = now() - t0;
	nb_close(nb);
	r->median_us = median(each, n) * 1e6;
	return 0;
fail:
	fprintf(stderr, "nb: %s\n", nb != NULL ? nb_errmsg(nb) : "nb_open");
	return -1;
}

/* --- bare netlink: messages built by hand, no libnl --- */

struct rawmsg {
	char buf[1024] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
};

static struct ifinfomsg *
raw_start(struct rawmsg *m, int type, int flags, int family, int index)
{
	struct ifinfomsg *ifi;

	memset(m->buf, 0, sizeof(m->buf));
	m->h = (struct nlmsghdr *)m->buf;
	m->h->nlmsg_type = (unsigned short)type;
	m->h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	m->h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	ifi = NLMSG_DATA(m->h);
	ifi->ifi_family = (unsigned char)family;
	ifi->ifi_index = index;
	return ifi;
}

static struct nlattr *
raw_put(struct rawmsg *m, int type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + NLMSG_ALIGN(m->h->nlmsg_len));

	a->nla_type = (unsigned short)type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	if (len > 0)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	m->h->nlmsg_len = NLMSG_ALIGN(m->h->nlmsg_len) + NLA_ALIGN(a->nla_len);
	return a;
}

static void
raw_end(struct rawmsg *m, struct nlattr *nest)
{
	nest->nla_len = (unsigned short)(m->buf + m->h->nlmsg_len - (char *)nest);
}

/* Sends m and reads its ack; -1 with errno from the kernel. */
static int
raw_talk(int sk, struct rawmsg *m)
{
	static unsigned seq;
	char ack[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h = (struct nlmsghdr *)ack;
	struct nlmsgerr *e;

	m->h->nlmsg_seq = ++seq;
	if (send(sk, m->buf, m->h->nlmsg_len, 0) == -1)
		return -1;
	for (;;) {
		if (recv(sk, ack, sizeof(ack), 0) == -1)
			return -1;
		if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq)
			continue;
		e = NLMSG_DATA(h);
		errno = -e->error;
		return e->error == 0 ? 0 : -1;
	}
}

static int
raw_ifindex(int sk, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	return ioctl(sk, SIOCGIFINDEX, &ifr) == -1 ? 0 : ifr.ifr_ifindex;
}

static int
raw_tap(int sk, int master, const char *name, const char *alias,
    const uint8_t mac[6])
{
	struct ifreq ifr;
	struct rawmsg m;
	struct ifinfomsg *ifi;
	struct nlattr *spec, *inet6;
	uint32_t mtu = 1500, group = BENCH_GROUP, idx = (uint32_t)master;
	uint8_t none = 1;	/* IN6_ADDR_GEN_MODE_NONE */
	int fd, index;

	if ((fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL;
	if (ioctl(fd, TUNSETIFF, &ifr) == -1 ||
	    ioctl(fd, TUNSETOWNER, (unsigned long)BENCH_UID) == -1 ||
	    ioctl(fd, TUNSETGROUP, (unsigned long)BENCH_UID) == -1 ||
	    (index = raw_ifindex(sk, name)) == 0)
		goto fail;
	raw_start(&m, RTM_NEWLINK, 0, AF_UNSPEC, index);
	raw_put(&m, IFLA_MTU, &mtu, 4);
	raw_put(&m, IFLA_ADDRESS, mac, 6);
	raw_put(&m, IFLA_IFALIAS, alias, strlen(alias) + 1);
	raw_put(&m, IFLA_GROUP, &group, 4);
	spec = raw_put(&m, IFLA_AF_SPEC, NULL, 0);
	inet6 = raw_put(&m, AF_INET6, NULL, 0);
	raw_put(&m, IFLA_INET6_ADDR_GEN_MODE, &none, 1);
	raw_end(&m, inet6);
	raw_end(&m, spec);
	if (raw_talk(sk, &m) == -1)
		goto fail;
	ifi = raw_start(&m, RTM_NEWLINK, 0, AF_UNSPEC, index);
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	raw_put(&m, IFLA_MASTER, &idx, 4);
	if (raw_talk(sk, &m) == -1 || ioctl(fd, TUNSETPERSIST, 1UL) == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}

static int
run_raw(int n, double *each, struct result *r)
{
	char name[NB_IFNAMSIZ], alias[32];
	uint8_t mac[6];
	struct rawmsg m;
	uint32_t group = BENCH_GROUP;
	double t0, t;
	int sk, i, master;

	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (sk == -1 || (master = raw_ifindex(sk, BENCH_BR)) == 0)
		goto fail;
	t0 = now();
	for (i = 0; i < n; i++) {
		nb_tap_name((uint64_t)i + 1, name);
		snprintf(alias, sizeof(alias), "unikd:bench:n%d", i);
		tap_mac(i, mac);
		t = now();
		if (raw_tap(sk, master, name, alias, mac) == -1)
			goto fail;
		each[i] = now() - t;
	}
	r->create_s = now() - t0;
	t0 = now();
	raw_start(&m, RTM_DELLINK, 0, AF_UNSPEC, 0);
	raw_put(&m, IFLA_GROUP, &group, 4);
	if (raw_talk(sk, &m) == -1)
		goto fail;
	r->delete_s = now() - t0;
	close(sk);
	r->median_us = median(each, n) * 1e6;
	return 0;
fail:
	perror("raw");
	return -1;
}

/* --- ip(8) --- */

static int
ip(const char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "ip", NULL, NULL, (char *const *)argv,
		environ) != 0 ||
	    waitpid(pid, &st, 0) == -1)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
run_ip(int n, double *each, struct result *r)
{
	char name[NB_IFNAMSIZ], alias[32], mac[18];
	uint8_t host[6];
	double t0, t;
	int i;

	t0 = now();
	for (i = 0; i < n; i++) {
		nb_tap_name((uint64_t)i + 1, name);
		snprintf(alias, sizeof(alias), "unikd:bench:n%d", i);
		tap_mac(i, host);
		nb_mac_format(host, mac);
		t = now();
		if (ip((const char *const[]){ "ip", "tuntap", "add", "dev",
			name, "mode", "tap", "user", "65534", "group",
			"65534", NULL }) == -1 ||
		    ip((const char *const[]){ "ip", "link", "set", "dev", name,
			"mtu", "1500", "address", mac, "alias", alias,
			"group", "9", "addrgenmode", "none", NULL }) == -1 ||
		    ip((const char *const[]){ "ip", "link", "set", "dev", name,
			"master", BENCH_BR, "up", NULL }) == -1)
			goto fail;
		each[i] = now() - t;
	}
	r->create_s = now() - t0;
	t0 = now();
	for (i = 0; i < n; i++) {
		nb_tap_name((uint64_t)i + 1, name);
		if (ip((const char *const[]){ "ip", "link", "del", "dev", name,
			NULL }) == -1)
			goto fail;
	}
	r->delete_s = now() - t0;
	r->median_us = median(each, n) * 1e6;
	return 0;
fail:
	fprintf(stderr, "ip: a command failed\n");
	return -1;
}

/* --- driver --- */

struct way {
	const char *name;
	int (*run)(int, double *, struct result *);
	int runs;
	struct result med;
};

/* Runs a way `runs` times (interleaving is done by the caller) and keeps
 * the medians of each measure. */
static void
summarise(struct way *w, struct result *rs)
{
	double c[64], d[64], m[64];
	int i;

	for (i = 0; i < w->runs; i++) {
		c[i] = rs[i].create_s;
		d[i] = rs[i].delete_s;
		m[i] = rs[i].median_us;
	}
	w->med.create_s = median(c, w->runs);
	w->med.delete_s = median(d, w->runs);
	w->med.median_us = median(m, w->runs);
}

int
main(int argc, char **argv)
{
	struct way ways[] = {
		{ "nb", run_nb, 3, { 0, 0, 0 } },
		{ "raw", run_raw, 3, { 0, 0, 0 } },
		{ "ip", run_ip, 1, { 0, 0, 0 } },
	};
	struct result rs[3][64];
	double *each;
	int n = 1000, opt, i, w, maxruns;

	while ((opt = getopt(argc, argv, "n:r:i:")) != -1) {
		switch (opt) {
		case 'n':
			n = atoi(optarg);
			break;
		case 'r':
			ways[0].runs = ways[1].runs = atoi(optarg);
			break;
		case 'i':
			ways[2].runs = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: nb-bench [-n TAPS] [-r RUNS] "
					"[-i IP_RUNS]\n");
			return 2;
		}
	}
	if (n < 1 || n > 1000 || ways[0].runs < 1 || ways[0].runs > 64 ||
	    ways[2].runs < 0 || ways[2].runs > 64) {
		fprintf(stderr, "nb-bench: 1..1000 TAPs (a bridge takes "
				"1023 ports), 1..64 runs\n");
		return 2;
	}
	if (test_netns_enter(false) == -1) {
		perror("nb-bench: unshare(CLONE_NEWNET) (needs root)");
		return 1;
	}
	if ((each = calloc((size_t)n, sizeof(*each))) == NULL)
		return 1;
	maxruns = ways[0].runs > ways[2].runs ? ways[0].runs : ways[2].runs;
	/* Interleaved, so a drift of the machine hits every way alike. */
	for (i = 0; i < maxruns; i++)
		for (w = 0; w < 3; w++)
			if (i < ways[w].runs &&
			    (bridge(true) == -1 ||
				ways[w].run(n, each, &rs[w][i]) == -1 ||
				bridge(false) == -1))
				return 1;
	printf("%d bridged TAPs (persist, group, MAC, alias, MTU, "
	       "addrgenmode none), medians\n", n);
	printf("%-4s %5s %12s %12s %12s %14s\n", "way", "runs", "create s",
	    "teardown s", "total s", "per create us");
	for (w = 0; w < 3; w++) {
		if (ways[w].runs == 0)
			continue;
		summarise(&ways[w], rs[w]);
		printf("%-4s %5d %12.3f %12.3f %12.3f %14.1f\n", ways[w].name,
		    ways[w].runs, ways[w].med.create_s, ways[w].med.delete_s,
		    ways[w].med.create_s + ways[w].med.delete_s,
		    ways[w].med.median_us);
	}
	printf("nb/raw: create %.2fx, teardown %.2fx, total %.2fx\n",
	    ways[0].med.create_s / ways[1].med.create_s,
	    ways[0].med.delete_s / ways[1].med.delete_s,
	    (ways[0].med.create_s + ways[0].med.delete_s) /
		(ways[1].med.create_s + ways[1].med.delete_s));
	if (ways[2].runs > 0)
		printf("ip/nb:  create %.1fx, teardown %.1fx, total %.1fx\n",
		    ways[2].med.create_s / ways[0].med.create_s,
		    ways[2].med.delete_s / ways[0].med.delete_s,
		    (ways[2].med.create_s + ways[2].med.delete_s) /
			(ways[0].med.create_s + ways[0].med.delete_s));
	free(each);
	return 0;
}
