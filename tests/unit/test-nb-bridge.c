/*
 * netbackend against the real kernel, bridges as unikd keeps them: made
 * again to their MTU and addresses, marked and known by identity, given
 * back as found when adopted, and NAT in unikd's own nftables table.
 * Needs root; runs in a private network namespace (nb-fixture.c).
 */
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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef HAVE_LIBNFTABLES
#include <nftables/libnftables.h>
#endif

#include "netbackend.h"
#include "nb-fixture.h"

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
		cmocka_unit_test(test_bridge_ensure),
		cmocka_unit_test(test_bridge_owned),
		cmocka_unit_test(test_bridge_give_back),
#ifdef HAVE_LIBNFTABLES
		cmocka_unit_test(test_nat),
#endif
	};

	return nb_fixture_run("test-nb-bridge", tests,
	    sizeof(tests) / sizeof(tests[0]));
}
