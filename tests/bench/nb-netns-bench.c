/*
 * nb-netns-bench: what a NIC in a container's namespace costs netbackend,
 * in private network namespaces: a second namespace stands for the
 * container's, with a link "eth0" (a bridge holding 10.9.0.2/24) the way
 * CNI leaves one. Each round does what unikd does for such a NIC, and
 * prints the medians of each step over N rounds:
 *   call    one nb_netns_call (a thread that joins the namespace, runs
 *           nothing, and ends): the price of going there at all
 *   open    nb_netns_open + nb_open_netns (netlink socket made there)
 *   iface   nb_iface_get (link, address and route dumps)
 *   tap     nb_tap_create with peer (TAP opened there, tc redirects)
 *   remove  nb_redirect_remove + nb_link_delete + nb_close
 * Needs root.
 *
 *   nb-netns-bench [-n ROUNDS]   (default 200)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netbackend.h"
#include "netns.h"

enum { CALL, OPEN, IFACE, TAP, REMOVE, NSTEPS };
static const char *const step_names[NSTEPS] = {
    "call", "open", "iface", "tap", "remove"};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
nothing(void *arg)
{
	(void)arg;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
die(const char *what)
{
	fprintf(stderr, "nb-netns-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One round: unikd's start and stop of one NIC in the namespace. */
static void
round_once(const char *path, double t[NSTEPS])
{
	struct nb_tap_params p = {
		.name = "ukb0", .alias = "unikd:bench:eth0", .uid = 65534,
		.gid = 65534, .persist = true, .peer = "eth0",
	};
	struct nb_netns_id id;
	struct nb_iface ifc;
	struct nb *nb;
	double t0;
	int fd, tapfd;

	t0 = now_us();
	if ((fd = nb_netns_open(path, &id)) == -1)
		die("nb_netns_open");
	if (nb_netns_call(fd, nothing, NULL) == -1)
		die("nb_netns_call");
	t[CALL] = now_us() - t0;
	t0 = now_us();
	if (nb_open_netns(fd, &nb) == -1)
		die("nb_open_netns");
	t[OPEN] = now_us() - t0;
	t0 = now_us();
	if (nb_iface_get(nb, "eth0", &ifc) == -1)
		die("nb_iface_get");
	t[IFACE] = now_us() - t0;
	t0 = now_us();
	p.mtu = ifc.link.mtu;
	nb_mac_host(ifc.link.mac, p.host_mac);
	if (nb_tap_create(nb, &p, &tapfd) == -1)
		die(nb_errmsg(nb));
	t[TAP] = now_us() - t0;
	t0 = now_us();
	if (nb_redirect_remove(nb, "eth0") == -1 ||
	    nb_link_delete(nb, "ukb0") == -1)
		die(nb_errmsg(nb));
	nb_close(nb);
	t[REMOVE] = now_us() - t0;
	close(fd);
}

int
main(int argc, char **argv)
{
	struct nb_bridge_params bp = {.name = "eth0", .ipv4 = "10.9.0.2/24"};
	char path[64];
	double *v[NSTEPS], t[NSTEPS];
	struct nb *nb;
	int n = 200, c, home, ns, i, s;

	while ((c = getopt(argc, argv, "n:")) != -1) {
		if (c != 'n' || (n = atoi(optarg)) <= 0) {
			fprintf(stderr, "usage: nb-netns-bench [-n ROUNDS]\n");
			return 2;
		}
	}
	if (test_netns_enter(false) == -1 ||
	    (home = open("/proc/thread-self/ns/net", O_RDONLY)) == -1 ||
	    unshare(CLONE_NEWNET) == -1 ||
	    (ns = open("/proc/thread-self/ns/net", O_RDONLY)) == -1 ||
	    setns(home, CLONE_NEWNET) == -1)
		die("namespaces");
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), ns);
	if (nb_open_netns(ns, &nb) == -1 || nb_bridge_create(nb, &bp) == -1)
		die("eth0 in the second namespace");
	nb_close(nb);
	for (s = 0; s < NSTEPS; s++)
		if ((v[s] = calloc((size_t)n, sizeof(double))) == NULL)
			die("calloc");
	for (i = 0; i < n; i++) {
		round_once(path, t);
		for (s = 0; s < NSTEPS; s++)
			v[s][i] = t[s];
	}
	printf("rounds %d, medians in us:\n", n);
	for (s = 0; s < NSTEPS; s++) {
		qsort(v[s], (size_t)n, sizeof(double), cmp_double);
		printf("  %-7s %9.1f\n", step_names[s], v[s][n / 2]);
		free(v[s]);
	}
	return 0;
}
