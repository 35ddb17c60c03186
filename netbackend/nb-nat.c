/*
 * NAT through libnftables, in unikd's own table "inet unikd" only: per
 * network a postrouting chain "nat-NET" masquerading the subnet and a
 * forward chain "fwd-NET" accepting the bridge's traffic. Names and
 * subnets are checked before any command text is built, so nothing a
 * caller passes can be read by nft as syntax. No other table is ever
 * named in a command.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBNFTABLES
#include <nftables/libnftables.h>
#endif

#include "nb-internal.h"

#define NB_NFT_TABLE "inet unikd"
#define NB_NET_NAME_MAX 63

#ifdef HAVE_LIBNFTABLES

/* Network names as the daemon allows them: [a-z0-9][a-z0-9_-]{0,62}. */
static bool
nb_nat_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > NB_NET_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) ||
			isdigit((unsigned char)s[i]) || s[i] == '_' ||
			s[i] == '-'))
			return false;
	return true;
}

/* Runs cmd in one nft transaction; out (if not NULL) gets the listing. */
static int
nb_nft_run(struct nb *nb, const char *cmd, char *out, size_t outlen)
{
	struct nft_ctx *ctx;
	const char *text;
	int rc, err = EIO;

	if ((ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		return nb_fail(nb, ENOMEM, "nftables: no context");
	if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
		nft_ctx_free(ctx);
		return nb_fail(nb, ENOMEM, "nftables: no buffers");
	}
	rc = nft_run_cmd_from_buffer(ctx, cmd);
	if (rc == 0 && out != NULL)
		snprintf(out, outlen, "%s", nft_ctx_get_output_buffer(ctx));
	if (rc != 0) {
		text = nft_ctx_get_error_buffer(ctx);
		if (strstr(text, "No such file or directory") != NULL)
			err = ENOENT;
		else if (strstr(text, "Operation not permitted") != NULL)
			err = EPERM;
		else if (strstr(text, "not supported") != NULL)
			err = EOPNOTSUPP;
		nb_fail(nb, err, "nftables: %.*s", (int)strcspn(text, "\n"),
		    text);
	}
	nft_ctx_free(ctx);
	return rc == 0 ? 0 : -1;
}

int
nb_nat_add(struct nb *nb, const char *network, const char *subnet,
    const char *bridge)
{
	struct nb_ip4net net;
	char cmd[1024], addr[16];
	uint32_t mask;

	if (!nb_nat_name_ok(network))
		return nb_fail(nb, EINVAL, "bad network name");
	if (!nb_ifname_valid(bridge))
		return nb_fail(nb, EINVAL, "bad bridge name");
	if (strchr(subnet, '/') == NULL || nb_ip4net_parse(subnet, &net))
		return nb_fail(nb, EINVAL, "%s: not an IPv4 subnet", network);
	mask = net.prefix == 0 ? 0 : UINT32_MAX << (32 - net.prefix);
	nb_ip4_format(net.addr & mask, addr);
	/* Flushing the chains makes a second add replace, not append. */
	snprintf(cmd, sizeof(cmd),
	    "add table " NB_NFT_TABLE "\n"
	    "add chain " NB_NFT_TABLE " nat-%1$s"
	    " { type nat hook postrouting priority srcnat; }\n"
	    "flush chain " NB_NFT_TABLE " nat-%1$s\n"
	    "add rule " NB_NFT_TABLE " nat-%1$s"
	    " ip saddr %2$s/%3$u oifname != \"%4$s\" masquerade\n"
	    "add chain " NB_NFT_TABLE " fwd-%1$s"
	    " { type filter hook forward priority filter; }\n"
	    "flush chain " NB_NFT_TABLE " fwd-%1$s\n"
	    "add rule " NB_NFT_TABLE " fwd-%1$s iifname \"%4$s\" accept\n"
	    "add rule " NB_NFT_TABLE " fwd-%1$s oifname \"%4$s\" accept\n",
	    network, addr, net.prefix, bridge);
	return nb_nft_run(nb, cmd, NULL, 0);
}

int
nb_nat_remove(struct nb *nb, const char *network)
{
	char cmd[256], list[4096];

	if (!nb_nat_name_ok(network))
		return nb_fail(nb, EINVAL, "bad network name");
	snprintf(cmd, sizeof(cmd), "list chain " NB_NFT_TABLE " nat-%s",
	    network);
	if (nb_nft_run(nb, cmd, NULL, 0) == -1)
		return errno == ENOENT ? nb_fail(nb, ENOENT, "%s: no NAT",
					     network)
				       : -1;
	snprintf(cmd, sizeof(cmd), "delete chain " NB_NFT_TABLE " nat-%s",
	    network);
	if (nb_nft_run(nb, cmd, NULL, 0) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), "list chain " NB_NFT_TABLE " fwd-%s",
	    network);
	if (nb_nft_run(nb, cmd, NULL, 0) == 0) {
		snprintf(cmd, sizeof(cmd),
		    "delete chain " NB_NFT_TABLE " fwd-%s", network);
		if (nb_nft_run(nb, cmd, NULL, 0) == -1)
			return -1;
	}
	/* The table goes with its last chain (only unikd adds to it). */
	if (nb_nft_run(nb, "list table " NB_NFT_TABLE, list, sizeof(list)) ==
		0 &&
	    strstr(list, "chain ") == NULL &&
	    nb_nft_run(nb, "delete table " NB_NFT_TABLE, NULL, 0) == -1)
		return -1;
	return 0;
}

#else /* !HAVE_LIBNFTABLES */

int
nb_nat_add(struct nb *nb, const char *network, const char *subnet,
    const char *bridge)
{
	(void)network;
	(void)subnet;
	(void)bridge;
	return nb_fail(nb, ENOTSUP, "built without libnftables");
}

int
nb_nat_remove(struct nb *nb, const char *network)
{
	(void)network;
	return nb_fail(nb, ENOTSUP, "built without libnftables");
}

#endif

/* net.ipv4.ip_forward of the network namespace unikd runs in. */
#define NB_IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

int
nb_ip_forward_get(struct nb *nb, int *value)
{
	char buf[16];
	ssize_t n;
	int fd;

	if ((fd = open(NB_IP_FORWARD, O_RDONLY | O_CLOEXEC)) == -1)
		return nb_fail(nb, errno, "ip_forward: %s", strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return nb_fail(nb, EIO, "ip_forward: unreadable");
	buf[n] = '\0';
	*value = atoi(buf);
	return 0;
}

int
nb_ip_forward_set(struct nb *nb, int value)
{
	char buf[16];
	int fd, rc, len;

	if (value < 0)
		return nb_fail(nb, EINVAL, "ip_forward: %d", value);
	len = snprintf(buf, sizeof(buf), "%d\n", value);
	if ((fd = open(NB_IP_FORWARD, O_WRONLY | O_CLOEXEC)) == -1)
		return nb_fail(nb, errno, "ip_forward: %s", strerror(errno));
	rc = write(fd, buf, (size_t)len) == len ? 0 : -1;
	if (rc == -1)
		nb_fail(nb, errno, "ip_forward: %s", strerror(errno));
	close(fd);
	return rc;
}
