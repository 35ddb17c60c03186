/*
 * A network's definition: POST /v1/networks bodies are validated here,
 * field by field, before anything is made on the host (400 for unknown,
 * missing or mistyped fields, 422 for values that cannot be honoured,
 * 409 for a clash with another network), and the store's JSON copy of a
 * network is written and read back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "network.h"
#include "uerr.h"
#include "unikd.h"
#include "vmspec.h"

struct network_field {
	const char *name;
	bool required;
	int (*parse)(struct network *, const json_t *, struct uerr *);
};

static const char *
network_string(const json_t *v)
{
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static int
network_f_name(struct network *net, const json_t *v, struct uerr *e)
{
	const char *name = network_string(v);

	if (name == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'name': must be a string");
	if (!vm_name_valid(name))
		return uerr_set(e, UERR_INVALID,
		    "field 'name': '%s' is not a "
		    "valid name ([a-z0-9][a-z0-9_-]{0,62})",
		    name);
	snprintf(net->name, sizeof(net->name), "%s", name);
	return 0;
}

static int
network_f_bridge(struct network *net, const json_t *v, struct uerr *e)
{
	const char *br = network_string(v);

	if (br == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'bridge': must be a string");
	if (!nb_ifname_valid(br))
		return uerr_set(e, UERR_INVALID,
		    "field 'bridge': '%s' is not "
		    "a valid interface name (1 to 15 bytes of A-Z, a-z, "
		    "0-9, '_', '.' and '-')",
		    br);
	snprintf(net->bridge, sizeof(net->bridge), "%s", br);
	return 0;
}

static int
network_f_mtu(struct network *net, const json_t *v, struct uerr *e)
{
	json_int_t mtu;

	if (!json_is_integer(v))
		return uerr_set(
		    e, UERR_INVALID, "field 'mtu': must be an integer");
	mtu = json_integer_value(v);
	if (mtu < NB_MTU_MIN || mtu > NB_MTU_MAX)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'mtu': %lld is "
		    "outside %d..%d",
		    (long long)mtu, NB_MTU_MIN, NB_MTU_MAX);
	net->mtu = (unsigned)mtu;
	return 0;
}

/* "A.B.C.D/N" into addr and prefix; -1 when malformed. */
static int
network_cidr_parse(const char *s, uint32_t *addr, unsigned *prefix)
{
	char ip[16], *end;
	const char *slash = strchr(s, '/');
	long n;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(ip) ||
	    slash[1] < '0' || slash[1] > '9')
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || n > 32 || lease_ip_parse(ip, addr) == -1)
		return -1;
	*prefix = (unsigned)n;
	return 0;
}

/* Ranges a bridge's subnet may not touch: their addresses never reach
 * a bridge's hosts the way a subnet's should (RFC 6890). */
static const struct {
	struct nb_ip4net net;
	const char *what;
} network_unusable[] = {
    {{0x00000000u, 8}, "the reserved range 0.0.0.0/8"},
    {{0x7f000000u, 8}, "the loopback range 127.0.0.0/8"},
    {{0xa9fe0000u, 16}, "the link-local range 169.254.0.0/16"},
    {{0xe0000000u, 4}, "the multicast range 224.0.0.0/4"},
    {{0xf0000000u, 4}, "the reserved range 240.0.0.0/4"},
};

static int
network_subnet_usable(const char *s, const struct nb_ip4net *net,
    struct uerr *e)
{
	size_t i;

	for (i = 0; i < sizeof(network_unusable) / sizeof(network_unusable[0]);
	     i++)
		if (nb_ip4net_overlap(net, &network_unusable[i].net))
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'subnet': '%s' overlaps %s", s,
			    network_unusable[i].what);
	return 0;
}

static int
network_f_subnet(struct network *net, const json_t *v, struct uerr *e)
{
	const char *s = network_string(v);
	uint32_t addr, mask;
	unsigned prefix;
	char ip[16];

	if (s == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'subnet': must be a string");
	if (network_cidr_parse(s, &addr, &prefix) == -1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'subnet': '%s' "
		    "is not an IPv4 prefix such as 10.0.0.0/24",
		    s);
	if (prefix < LEASE_PREFIX_MIN || prefix > LEASE_PREFIX_MAX)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'subnet': prefix "
		    "/%u is outside /%d../%d",
		    prefix, LEASE_PREFIX_MIN, LEASE_PREFIX_MAX);
	mask = ~(uint32_t)0 << (32 - prefix);
	if (addr & ~mask) {
		lease_ip_format(addr & mask, ip);
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'subnet': '%s' "
		    "has host bits set (the network is %s/%u)",
		    s, ip, prefix);
	}
	net->has_subnet = true;
	net->subnet.addr = addr;
	net->subnet.prefix = prefix;
	return network_subnet_usable(s, &net->subnet, e);
}

/* Checked against the subnet in the second pass. */
static int
network_f_gateway(struct network *net, const json_t *v, struct uerr *e)
{
	const char *s = network_string(v);

	if (s == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'gateway': must be a string");
	if (lease_ip_parse(s, &net->gateway) == -1 || net->gateway == 0)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'gateway': '%s' "
		    "is not an IPv4 address",
		    s);
	return 0;
}

static int
network_f_bool(const char *name, bool *out, const json_t *v, struct uerr *e)
{
	if (!json_is_boolean(v))
		return uerr_set(e, UERR_INVALID,
		    "field '%s': must be true or "
		    "false",
		    name);
	*out = json_is_true(v);
	return 0;
}

static int
network_f_nat(struct network *net, const json_t *v, struct uerr *e)
{
	return network_f_bool("nat", &net->nat, v, e);
}

static int
network_f_isolated(struct network *net, const json_t *v, struct uerr *e)
{
	return network_f_bool("isolated", &net->isolated, v, e);
}

static int
network_f_ipv6(struct network *net, const json_t *v, struct uerr *e)
{
	const char *s = network_string(v), *slash;
	struct in6_addr a;
	char ip[INET6_ADDRSTRLEN], *end;
	long n = -1;

	if (s == NULL)
		return uerr_set(
		    e, UERR_INVALID, "field 'ipv6_gateway': must be a string");
	if ((slash = strchr(s, '/')) != NULL &&
	    (size_t)(slash - s) < sizeof(ip)) {
		memcpy(ip, s, (size_t)(slash - s));
		ip[slash - s] = '\0';
		n = slash[1] >= '0' && slash[1] <= '9'
		        ? strtol(slash + 1, &end, 10)
		        : -1;
		if (n != -1 && *end != '\0')
			n = -1;
	}
	if (n < 1 || n > 128 || inet_pton(AF_INET6, ip, &a) != 1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'ipv6_gateway': "
		    "'%s' is not an IPv6 address with a prefix such as "
		    "fd00::1/64",
		    s);
	snprintf(net->ipv6_gateway, sizeof(net->ipv6_gateway), "%s", s);
	return 0;
}

static const struct network_field network_fields[] = {
    {"name", true, network_f_name},
    {"bridge", false, network_f_bridge},
    {"mtu", false, network_f_mtu},
    {"subnet", false, network_f_subnet},
    {"gateway", false, network_f_gateway},
    {"nat", false, network_f_nat},
    {"isolated", false, network_f_isolated},
    {"ipv6_gateway", false, network_f_ipv6},
};
#define NETWORK_NFIELDS (sizeof(network_fields) / sizeof(network_fields[0]))

/* Unknown, missing and malformed fields. */
static int
network_def_fields(struct network *net, const json_t *def, struct uerr *e)
{
	const char *key;
	json_t *val;
	const json_t *v;
	size_t i;

	if (!json_is_object(def))
		return uerr_set(e, UERR_INVALID,
		    "the body must be a JSON "
		    "object");
	json_object_foreach((json_t *)def, key, val)
	{
		for (i = 0; i < NETWORK_NFIELDS; i++)
			if (strcmp(key, network_fields[i].name) == 0)
				break;
		if (i == NETWORK_NFIELDS)
			return uerr_set(
			    e, UERR_INVALID, "unknown field '%s'", key);
	}
	for (i = 0; i < NETWORK_NFIELDS; i++) {
		v = json_object_get(def, network_fields[i].name);
		if (v == NULL ||
		    (json_is_null(v) && !network_fields[i].required)) {
			if (network_fields[i].required)
				return uerr_set(e, UERR_INVALID,
				    "field '%s' "
				    "is required",
				    network_fields[i].name);
			continue;
		}
		if (network_fields[i].parse(net, v, e) == -1)
			return -1;
	}
	return 0;
}

/* Defaults and the fields that depend on each other. */
static int
network_def_check(struct network *net, struct uerr *e)
{
	uint32_t size;
	char ip[16];

	if (net->bridge[0] == '\0') {
		/* "uk-" + the name, cut to the 15 bytes of an ifname. */
		size_t n = strnlen(net->name, NB_IFNAMSIZ - 4);

		memcpy(net->bridge, "uk-", 3);
		memcpy(net->bridge + 3, net->name, n);
		net->bridge[3 + n] = '\0';
	}
	if (net->mtu == 0)
		net->mtu = 1500;
	if (!net->has_subnet) {
		if (net->gateway != 0)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field "
			    "'gateway': the network has no subnet");
		if (net->nat)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'nat': "
			    "NAT needs a subnet");
		return 0;
	}
	size = UINT32_C(1) << (32 - net->subnet.prefix);
	if (net->gateway == 0)
		net->gateway = net->subnet.addr + 1;
	lease_ip_format(net->gateway, ip);
	if (net->gateway - net->subnet.addr >= size)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'gateway': %s is "
		    "outside the subnet",
		    ip);
	if (net->gateway == net->subnet.addr ||
	    net->gateway == net->subnet.addr + size - 1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'gateway': %s is "
		    "the %s address of the subnet",
		    ip,
		    net->gateway == net->subnet.addr ? "network" : "broadcast");
	return 0;
}

static bool
network_overlap(const struct network *a, const struct network *b)
{
	unsigned p = a->subnet.prefix < b->subnet.prefix ? a->subnet.prefix
	                                                 : b->subnet.prefix;
	uint32_t mask = ~(uint32_t)0 << (32 - p);

	return (a->subnet.addr & mask) == (b->subnet.addr & mask);
}

/* Clashes with the networks there are. */
static int
network_def_clash(struct unikd *u, const struct network *net, struct uerr *e)
{
	const struct network *o;
	char a[16], b[16];

	TAILQ_FOREACH(o, &u->networks, entry)
	{
		if (strcmp(o->name, net->name) == 0)
			return uerr_set(e, UERR_CONFLICT,
			    "network '%s' exists "
			    "already",
			    net->name);
		if (strcmp(o->bridge, net->bridge) == 0)
			return uerr_set(e, UERR_CONFLICT,
			    "bridge '%s' is the "
			    "bridge of network '%s' already (field 'bridge' "
			    "names another)",
			    net->bridge, o->name);
		if (net->has_subnet && o->has_subnet &&
		    network_overlap(net, o)) {
			lease_ip_format(net->subnet.addr, a);
			lease_ip_format(o->subnet.addr, b);
			return uerr_set(e, UERR_CONFLICT,
			    "subnet %s/%u "
			    "overlaps %s/%u of network '%s'",
			    a, net->subnet.prefix, b, o->subnet.prefix,
			    o->name);
		}
	}
	return 0;
}

int
network_from_def(
    struct unikd *u, const json_t *def, struct network *net, struct uerr *e)
{
	memset(net, 0, sizeof(*net));
	if (network_def_fields(net, def, e) == -1 ||
	    network_def_check(net, e) == -1 ||
	    network_def_clash(u, net, e) == -1)
		return -1;
	return 0;
}

json_t *
network_spec_json(const struct network *net)
{
	json_t *j;
	char sub[16], gw[16];

	j = json_pack("{s:s,s:s,s:i,s:b,s:b,s:b,s:I}", "name", net->name,
	    "bridge", net->bridge, "mtu", (int)net->mtu, "nat", net->nat,
	    "isolated", net->isolated, "adopted", net->adopted, "created_at",
	    (json_int_t)net->created_at);
	if (j == NULL)
		return NULL;
	if (net->has_subnet) {
		lease_ip_format(net->subnet.addr, sub);
		lease_ip_format(net->gateway, gw);
		json_object_set_new(j, "subnet",
		    json_sprintf("%s/%u", sub, net->subnet.prefix));
		json_object_set_new(j, "gateway", json_string(gw));
	}
	if (net->ipv6_gateway[0] != '\0')
		json_object_set_new(
		    j, "ipv6_gateway", json_string(net->ipv6_gateway));
	return j;
}

int
network_from_spec(struct network *net, const json_t *spec)
{
	const char *s;

	memset(net, 0, sizeof(*net));
	s = json_string_value(json_object_get(spec, "name"));
	snprintf(net->name, sizeof(net->name), "%s", s ? s : "");
	s = json_string_value(json_object_get(spec, "bridge"));
	snprintf(net->bridge, sizeof(net->bridge), "%s", s ? s : "");
	net->mtu = (unsigned)json_integer_value(json_object_get(spec, "mtu"));
	s = json_string_value(json_object_get(spec, "subnet"));
	if (s != NULL) {
		if (network_cidr_parse(
		        s, &net->subnet.addr, &net->subnet.prefix) == -1)
			goto fail;
		net->has_subnet = true;
	}
	s = json_string_value(json_object_get(spec, "gateway"));
	if (s != NULL && lease_ip_parse(s, &net->gateway) == -1)
		goto fail;
	s = json_string_value(json_object_get(spec, "ipv6_gateway"));
	snprintf(
	    net->ipv6_gateway, sizeof(net->ipv6_gateway), "%s", s ? s : "");
	net->nat = json_is_true(json_object_get(spec, "nat"));
	net->isolated = json_is_true(json_object_get(spec, "isolated"));
	net->adopted = json_is_true(json_object_get(spec, "adopted"));
	net->created_at =
	    json_integer_value(json_object_get(spec, "created_at"));
	/* A stored bridge name is only checked for length: one made under
	 * an older, wider rule still loads (and can be removed); the
	 * netbackend refuses to make a link of it. */
	if (!vm_name_valid(net->name) || net->bridge[0] == '\0' ||
	    strlen(net->bridge) >= NB_IFNAMSIZ ||
	    net->mtu < NB_MTU_MIN || net->mtu > NB_MTU_MAX)
		goto fail;
	return 0;
fail:
	errno = EINVAL;
	return -1;
}
