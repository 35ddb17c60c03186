/*
 * Names, MACs and IPv4 prefixes: pure functions, no kernel, no state.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "netbackend.h"

#define NB_FNV_OFFSET 0xcbf29ce484222325ULL
#define NB_FNV_PRIME 0x100000001b3ULL
/* Ids past 13 hex digits would not fit "uk" + id in IFNAMSIZ - 1. */
#define NB_TAP_ID_MASK ((UINT64_C(1) << 52) - 1)

bool
nb_ifname_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= NB_IFNAMSIZ || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

void
nb_tap_name(uint64_t id, char name[NB_IFNAMSIZ])
{
	snprintf(name, NB_IFNAMSIZ, "uk%" PRIx64, id & NB_TAP_ID_MASK);
}

static uint64_t
nb_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= NB_FNV_PRIME;
	}
	return h;
}

/* A finaliser (splitmix64's) so that every input bit reaches every
 * output bit: FNV-1a alone leaves its last bytes weakly mixed. */
static uint64_t
nb_mix64(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void
nb_mac_generate(const char *vm, const char *nic, unsigned attempt,
    uint8_t mac[6])
{
	unsigned char a[4];
	uint64_t h = NB_FNV_OFFSET;
	int i;

	/* The NULs keep ("ab","c") and ("a","bc") apart. */
	h = nb_fnv1a(h, vm, strlen(vm) + 1);
	h = nb_fnv1a(h, nic, strlen(nic) + 1);
	a[0] = attempt & 0xff;
	a[1] = (attempt >> 8) & 0xff;
	a[2] = (attempt >> 16) & 0xff;
	a[3] = (attempt >> 24) & 0xff;
	h = nb_mix64(nb_fnv1a(h, a, sizeof(a)));
	/* Locally administered (bit 1), unicast (bit 0 clear), and never
	 * 0xFE first: that prefix is the host side's. */
	while ((((h >> 56) & 0xfc) | 0x02) == 0xfe)
		h = nb_mix64(h + NB_FNV_PRIME);
	mac[0] = ((h >> 56) & 0xfc) | 0x02;
	for (i = 1; i < 6; i++)
		mac[i] = (h >> (56 - 8 * i)) & 0xff;
}

void
nb_mac_host(const uint8_t guest[6], uint8_t host[6])
{
	host[0] = 0xfe;
	memcpy(host + 1, guest + 1, 5);
}

static int
nb_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
nb_mac_parse(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17)
		goto fail;
	for (i = 0; i < 6; i++) {
		hi = nb_hexval(s[3 * i]);
		lo = nb_hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			goto fail;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

void
nb_mac_format(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5]);
}

bool
nb_mac_is_multicast(const uint8_t mac[6])
{
	return (mac[0] & 0x01) != 0;
}

bool
nb_mac_is_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return memcmp(mac, zero, 6) == 0;
}

int
nb_ip4_parse(const char *s, uint32_t *addr)
{
	struct in_addr in;

	/* inet_pton takes only the dotted quad: no "10.1", no hex. */
	if (inet_pton(AF_INET, s, &in) != 1) {
		errno = EINVAL;
		return -1;
	}
	*addr = ntohl(in.s_addr);
	return 0;
}

int
nb_ip4net_parse(const char *s, struct nb_ip4net *net)
{
	char host[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/'), *p;
	size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned prefix = 32;

	if (len >= sizeof(host))
		goto fail;
	memcpy(host, s, len);
	host[len] = '\0';
	if (slash != NULL) {
		p = slash + 1;
		if (*p == '\0' || strlen(p) > 2)
			goto fail;
		for (prefix = 0; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				goto fail;
			prefix = prefix * 10 + (unsigned)(*p - '0');
		}
		if (prefix > 32)
			goto fail;
	}
	if (nb_ip4_parse(host, &net->addr) == -1)
		goto fail;
	net->prefix = prefix;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}

void
nb_ip4_format(uint32_t addr, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff,
	    (addr >> 8) & 0xff, addr & 0xff);
}

static uint32_t
nb_ip4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

bool
nb_ip4net_contains(const struct nb_ip4net *net, uint32_t addr)
{
	uint32_t mask = nb_ip4_mask(net->prefix);

	return (addr & mask) == (net->addr & mask);
}

bool
nb_ip4net_overlap(const struct nb_ip4net *a, const struct nb_ip4net *b)
{
	unsigned prefix = a->prefix < b->prefix ? a->prefix : b->prefix;
	uint32_t mask = nb_ip4_mask(prefix);

	return (a->addr & mask) == (b->addr & mask);
}
