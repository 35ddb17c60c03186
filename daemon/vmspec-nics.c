/*
 * The "nics" field of a VM definition: its shape only (types, unknown
 * keys, names, MAC and IPv4 syntax, namespace paths and link names: 400;
 * a MAC no NIC can use: 422).
 * Whether the network exists, and whether the MAC and address are free,
 * needs the daemon: vm-net.c checks that before anything is stored.
 */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uerr.h"
#include "vmspec.h"

/* Solo5 device names are alphanumeric (its manifest's rule). */
static bool
nic_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > VM_NIC_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) || (name[i] & 0x80))
			return false;
	return true;
}

/* "aa:bb:cc:dd:ee:ff" (either case) into bytes; -1 when malformed. */
static int
nic_mac_parse(const char *s, unsigned char mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[i * 3]) ||
		    !isxdigit((unsigned char)s[i * 3 + 1]) ||
		    (i < 5 && s[i * 3 + 2] != ':'))
			return -1;
		hi = tolower((unsigned char)s[i * 3]);
		lo = tolower((unsigned char)s[i * 3 + 1]);
		hi = isdigit(hi) ? hi - '0' : hi - 'a' + 10;
		lo = isdigit(lo) ? lo - '0' : lo - 'a' + 10;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int
nic_parse_mac(struct vm_nic *n, size_t i, const json_t *v, struct uerr *e)
{
	const char *s = vm_spec_string(v);
	unsigned char mac[6];

	if (s == NULL || nic_mac_parse(s, mac) == -1)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].mac': must be a MAC address "
		    "aa:bb:cc:dd:ee:ff",
		    i);
	if (mac[0] & 1)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].mac': %s is a multicast address", i, s);
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].mac': the zero address is not usable",
		    i);
	if (mac[0] == 0xfe)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'nics[%zu].mac': %s begins with fe, which unikd "
		    "keeps for the host side of TAPs",
		    i, s);
	snprintf(n->mac, sizeof(n->mac), "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return 0;
}

static int
nic_parse_ip(struct vm_nic *n, size_t i, const json_t *v, struct uerr *e)
{
	const char *s = vm_spec_string(v);
	struct in_addr a;

	if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].ip': must be an IPv4 address such as "
		    "10.0.0.5",
		    i);
	inet_ntop(AF_INET, &a, n->ip, sizeof(n->ip));
	return 0;
}

/* A link's name as the kernel takes it: 1 to 15 bytes, no '/', ':' or
 * white space, not "." or "..". */
static bool
nic_link_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len > VM_LINK_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' ||
		    isspace((unsigned char)name[i]) ||
		    !isprint((unsigned char)name[i]))
			return false;
	return true;
}

/* "netns" and "link": a NIC joined to a link of another namespace. Its
 * MAC and address are the link's, so "mac" and "ip" are refused. */
static int
nic_parse_netns(struct vm_nic *n, size_t i, const json_t *o, struct uerr *e)
{
	const char *ns = vm_spec_string(json_object_get(o, "netns"));
	const char *link = vm_spec_string(json_object_get(o, "link"));

	if (json_object_get(o, "network") != NULL)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu]': give either 'network' or 'netns' "
		    "and 'link', not both",
		    i);
	if (json_object_get(o, "mac") != NULL ||
	    json_object_get(o, "ip") != NULL)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].%s': a NIC in a namespace has its "
		    "link's MAC and address",
		    i, json_object_get(o, "mac") != NULL ? "mac" : "ip");
	if (ns == NULL || ns[0] != '/' || strlen(ns) > VM_NETNS_MAX)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].netns': must be the absolute path of a "
		    "network namespace (at most %d bytes), such as "
		    "/run/netns/NAME",
		    i, VM_NETNS_MAX);
	if (link == NULL || !nic_link_valid(link))
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].link': must be the name of a link in "
		    "the namespace (1 to %d bytes, no '/', ':' or spaces)",
		    i, VM_LINK_MAX);
	snprintf(n->netns, sizeof(n->netns), "%s", ns);
	snprintf(n->link, sizeof(n->link), "%s", link);
	return 0;
}

static bool
nic_key_known(const char *key)
{
	static const char *const keys[] = {
	    "name", "network", "mac", "ip", "netns", "link"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static int
nic_parse_one(struct vm_spec *s, size_t i, const json_t *o, struct uerr *e)
{
	struct vm_nic *n = &s->nics[i];
	const char *key, *name, *net;
	json_t *val;
	size_t j;

	if (!json_is_object(o))
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu]': must be an object {\"name\", "
		    "\"network\", \"mac\"?, \"ip\"?} or {\"name\", \"netns\", "
		    "\"link\"}",
		    i);
	json_object_foreach((json_t *)o, key, val)
	{
		if (!nic_key_known(key))
			return uerr_set(e, UERR_INVALID,
			    "unknown field 'nics[%zu].%s'", i, key);
	}
	name = vm_spec_string(json_object_get(o, "name"));
	if (name == NULL || !nic_name_valid(name))
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].name': must be the device name of the "
		    "unikernel's manifest (1 to %d letters and digits)",
		    i, VM_NIC_NAME_MAX);
	for (j = 0; j < i; j++)
		if (strcmp(s->nics[j].name, name) == 0)
			return uerr_set(e, UERR_INVALID,
			    "field 'nics[%zu].name': duplicate NIC name '%s'",
			    i, name);
	snprintf(n->name, sizeof(n->name), "%s", name);
	if (json_object_get(o, "netns") != NULL ||
	    json_object_get(o, "link") != NULL)
		return nic_parse_netns(n, i, o, e);
	net = vm_spec_string(json_object_get(o, "network"));
	if (net == NULL || net[0] == '\0' || strlen(net) >= sizeof(n->network))
		return uerr_set(e, UERR_INVALID,
		    "field 'nics[%zu].network': must be a network's name "
		    "(or give 'netns' and 'link')", i);
	snprintf(n->network, sizeof(n->network), "%s", net);
	val = json_object_get(o, "mac");
	if (val != NULL && !json_is_null(val) &&
	    nic_parse_mac(n, i, val, e) == -1)
		return -1;
	val = json_object_get(o, "ip");
	if (val != NULL && !json_is_null(val) &&
	    nic_parse_ip(n, i, val, e) == -1)
		return -1;
	return 0;
}

int
vm_spec_nics_parse(struct vm_spec *s, const json_t *v, struct uerr *e)
{
	size_t i, n = json_array_size(v);

	if (!json_is_array(v))
		return uerr_set(e, UERR_INVALID,
		    "field 'nics': must be an array of NICs");
	if (n > VM_MAX_NICS)
		return uerr_set(e, UERR_INVALID,
		    "field 'nics': at most %d NICs", VM_MAX_NICS);
	if (n == 0)
		return 0;
	if ((s->nics = calloc(n, sizeof(*s->nics))) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		s->nnics = i + 1;
		if (nic_parse_one(s, i, json_array_get(v, i), e) == -1)
			return -1;
	}
	return 0;
}

json_t *
vm_spec_nics_json(const struct vm_spec *s)
{
	const struct vm_nic *n;
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; a != NULL && i < s->nnics; i++) {
		n = &s->nics[i];
		if (n->netns[0] != '\0')	/* MAC and address: the link's */
			o = json_pack("{s:s, s:s, s:s}", "name", n->name,
			    "netns", n->netns, "link", n->link);
		else
			o = json_pack("{s:s, s:s}", "name", n->name, "network",
			    n->network);
		if (o != NULL && n->netns[0] == '\0' && n->mac[0] != '\0')
			json_object_set_new(o, "mac", json_string(n->mac));
		if (o != NULL && n->netns[0] == '\0' && n->ip[0] != '\0')
			json_object_set_new(o, "ip", json_string(n->ip));
		if (o == NULL || json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}
