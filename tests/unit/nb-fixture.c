/* What the netbackend kernel tests share (see nb-fixture.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "nb-fixture.h"
#include "netns.h"

struct nb *nb;

void
bridge_up(void)
{
	struct nb_bridge_params bp = {
		.name = BR, .mtu = 9000, .ipv4 = "10.99.0.1/24",
	};

	if (nb_bridge_create(nb, &bp) == -1)
		assert_int_equal(errno, EEXIST);
}

void
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

void
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

bool
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

int
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

int
nb_fixture_run(const char *name, const struct CMUnitTest *tests, size_t n)
{
	int rc;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: needs root, skipped\n", name);
		return 77;
	}
	if (test_netns_enter(true) == -1) {
		fprintf(stderr, "%s: no private netns (%s), skipped\n", name,
		    strerror(errno));
		return 77;
	}
	if (nb_open(&nb) == -1) {
		fprintf(stderr, "nb_open: %s\n", strerror(errno));
		return 1;
	}
	rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	nb_close(nb);
	return rc;
}
