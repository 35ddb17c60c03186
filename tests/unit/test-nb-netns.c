/*
 * netbackend in another network namespace, against the real kernel: the
 * checks of nb_netns_open, a handle made there (nb_open_netns), a link's
 * address and default route (nb_iface_get), and a TAP joined to a link by
 * tc redirects that go again without touching anyone else's filters.
 * Needs root. The test runs in a private namespace ("home") and makes a
 * second one ("ns"), standing for a container's, with a bridge "eth0"
 * holding 10.9.0.2/24 and a default route via 10.9.0.1. tc(8) and ip(8)
 * look at what is there, run in that namespace.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netbackend.h"
#include "netns.h"

static int home_fd = -1, ns_fd = -1;
static char ns_path[64];
static struct nb *home, *ns;

/* A shell command run in the second namespace: its exit status. */
static int
in_ns_run(void *arg)
{
	int st = system(arg);

	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int
in_ns(const char *cmd)
{
	return nb_netns_call(ns_fd, in_ns_run, (void *)cmd);
}

static void
test_open_checks(void **state)
{
	struct nb_netns_id id, self;
	char file[] = "/tmp/test-nb-netns.XXXXXX";
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(nb_netns_open("/nonexistent/ns", NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(nb_netns_open("proc/self/ns/net", NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nb_netns_open("/proc/self/ns/mnt", NULL), -1);
	assert_int_equal(errno, EMEDIUMTYPE);
	assert_true((fd = mkstemp(file)) >= 0);
	close(fd);
	assert_int_equal(nb_netns_open(file, NULL), -1);
	assert_int_equal(errno, EMEDIUMTYPE);
	unlink(file);
	assert_true((fd = nb_netns_open(ns_path, &id)) >= 0);
	assert_int_equal(fstat(ns_fd, &st), 0);
	assert_true(id.dev == (uint64_t)st.st_dev && id.ino == (uint64_t)st.st_ino);
	close(fd);
	assert_int_equal(nb_netns_self(&self), 0);
	assert_false(self.dev == id.dev && self.ino == id.ino);
}

static void
test_iface(void **state)
{
	struct nb_iface ifc;
	uint8_t mac[6];
	char ip[16];

	(void)state;
	assert_int_equal(nb_iface_get(ns, "eth0", &ifc), 0);
	nb_ip4_format(ifc.ip4, ip);
	assert_string_equal(ip, "10.9.0.2");
	assert_int_equal(ifc.prefix, 24);
	nb_ip4_format(ifc.gw4, ip);
	assert_string_equal(ip, "10.9.0.1");
	nb_bridge_mac("eth0", mac);
	assert_memory_equal(ifc.link.mac, mac, 6);
	/* the link is there, not here */
	assert_int_equal(nb_iface_get(home, "eth0", &ifc), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_iface_get(ns, "eth9", &ifc), -1);
	assert_int_equal(errno, ENODEV);
}

static void
tap_params(struct nb_tap_params *p, const char *name, const char *peer)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->alias = "unikd:web1:eth0";
	p->uid = p->gid = 65534;
	p->persist = true;
	p->peer = peer;
}

static void
test_redirect(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info info;
	int fd;

	(void)state;
	tap_params(&p, "ukt0", "eth0");
	assert_int_equal(nb_tap_create(ns, &p, &fd), 0);
	assert_int_equal(nb_link_get(ns, "ukt0", &info), 0);
	assert_string_equal(info.kind, "tun");
	assert_true(info.up);
	assert_int_equal(nb_link_get(home, "ukt0", &info), -1);
	/* both ways, at unikd's priority */
	assert_int_equal(in_ns("tc filter show dev eth0 ingress | grep -q "
	    "'pref 30059 u32.*' && tc filter show dev eth0 ingress | grep -q "
	    "'Egress Redirect to device ukt0'"), 0);
	assert_int_equal(in_ns("tc filter show dev ukt0 ingress | grep -q "
	    "'Egress Redirect to device eth0'"), 0);
	/* a second TAP on the link replaces the first one's filter */
	tap_params(&p, "ukt1", "eth0");
	assert_int_equal(nb_tap_create(ns, &p, &fd), 0);
	assert_int_equal(in_ns("test $(tc filter show dev eth0 ingress | "
	    "grep -c 'Egress Redirect') = 1"), 0);
	assert_int_equal(nb_link_delete(ns, "ukt1"), 0);
	assert_int_equal(nb_link_delete(ns, "ukt0"), 0);
	assert_int_equal(nb_redirect_remove(ns, "eth0"), 0);
	assert_int_equal(in_ns("test -z \"$(tc qdisc show dev eth0 ingress)"
	    "$(tc filter show dev eth0 ingress)\""), 0);
	/* removing again, or from a link with no qdisc, is fine */
	assert_int_equal(nb_redirect_remove(ns, "eth0"), 0);
	assert_int_equal(nb_redirect_remove(ns, "eth9"), -1);
	assert_int_equal(errno, ENODEV);
}

static void
test_redirect_leaves_others(void **state)
{
	struct nb_tap_params p;
	struct nb_link_info info;
	int fd;

	(void)state;
	assert_int_equal(in_ns("tc qdisc add dev eth0 ingress && tc filter "
	    "add dev eth0 ingress prio 7 protocol all u32 match u8 0 0 "
	    "classid 1:1"), 0);
	tap_params(&p, "ukt2", "eth0");
	assert_int_equal(nb_tap_create(ns, &p, &fd), 0);
	assert_int_equal(nb_link_delete(ns, "ukt2"), 0);
	assert_int_equal(nb_redirect_remove(ns, "eth0"), 0);
	assert_int_equal(in_ns("tc filter show dev eth0 ingress | grep -q "
	    "'pref 7 u32' && ! tc filter show dev eth0 ingress | grep -q "
	    "'pref 30059'"), 0);
	assert_int_equal(in_ns("tc qdisc del dev eth0 ingress"), 0);
	/* a peer that is not there: no TAP is left */
	tap_params(&p, "ukt3", "eth9");
	assert_int_equal(nb_tap_create(ns, &p, &fd), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nb_link_get(ns, "ukt3", &info), -1);
	assert_int_equal(errno, ENODEV);
}

/* home: a private namespace; ns: a second one, with eth0 set up. */
static int
setup_namespaces(void)
{
	struct nb_bridge_params bp = {
		.name = "eth0", .ipv4 = "10.9.0.2/24",
	};

	if (test_netns_enter(false) == -1 ||
	    (home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    unshare(CLONE_NEWNET) == -1 ||
	    (ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) == -1 ||
	    setns(home_fd, CLONE_NEWNET) == -1)
		return -1;
	snprintf(ns_path, sizeof(ns_path), "/proc/%d/fd/%d", (int)getpid(),
	    ns_fd);
	if (nb_open(&home) == -1 || nb_open_netns(ns_fd, &ns) == -1 ||
	    nb_bridge_create(ns, &bp) == -1 ||
	    in_ns("ip route add default via 10.9.0.1 dev eth0") != 0)
		return -1;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_checks),
		cmocka_unit_test(test_iface),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_redirect_leaves_others),
	};
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "test-nb-netns: needs root, skipped\n");
		return 77;
	}
	if (system("command -v tc >/dev/null && command -v ip >/dev/null")
	    != 0) {
		fprintf(stderr, "test-nb-netns: tc and ip are needed, "
		    "skipped\n");
		return 77;
	}
	if (setup_namespaces() == -1) {
		fprintf(stderr, "test-nb-netns: cannot set up the namespaces: "
		    "%s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	nb_close(ns);
	nb_close(home);
	close(ns_fd);
	close(home_fd);
	return rc;
}
