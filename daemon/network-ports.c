/*
 * Bridge ports, counted. A Linux bridge takes at most 1023 ports
 * (BR_MAX_PORTS less port 0) and says so only once the TAP exists
 * ("Exchange full"). So unikd counts each network's ports: one link dump
 * at start (and again when link notifications were lost), then every
 * link notification moves a port between counts, through a map from
 * ifindex to the network whose bridge it is on. A start checks the count
 * before it makes any TAP; a start that races a port added by hand still
 * gets the kernel's refusal, and its TAP is then deleted.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "network.h"
#include "uerr.h"
#include "unikd.h"

#define PORTS_BUCKETS 1024	/* a power of two */

struct port {
	int ifindex;
	struct network *net;
	struct port *next;
};

struct network_ports {
	struct port *bucket[PORTS_BUCKETS];
};

static struct port **
ports_slot(struct network_ports *p, int ifindex)
{
	struct port **pp = &p->bucket[(unsigned)ifindex & (PORTS_BUCKETS - 1)];

	while (*pp != NULL && (*pp)->ifindex != ifindex)
		pp = &(*pp)->next;
	return pp;
}

/* ifindex now on net's bridge (NULL: on no bridge of unikd's). */
static void
ports_move(struct network_ports *p, int ifindex, struct network *net)
{
	struct port **pp = ports_slot(p, ifindex), *port = *pp;

	if (port != NULL && port->net == net)
		return;
	if (port != NULL) {
		port->net->nports--;
		*pp = port->next;
		free(port);
	}
	if (net == NULL || (port = malloc(sizeof(*port))) == NULL)
		return;
	port->ifindex = ifindex;
	port->net = net;
	port->next = p->bucket[(unsigned)ifindex & (PORTS_BUCKETS - 1)];
	p->bucket[(unsigned)ifindex & (PORTS_BUCKETS - 1)] = port;
	net->nports++;
}

void
network_ports_event(
    struct unikd *u, bool deleted, const struct nb_link_info *link)
{
	if (u->network_ports == NULL || link->ifindex <= 0)
		return;
	ports_move(u->network_ports, link->ifindex,
	    deleted || link->master[0] == '\0'
	        ? NULL
	        : network_find_bridge(u, link->master));
}

static void
ports_clear(struct network_ports *p, const struct network *only)
{
	struct port **pp, *port;
	size_t i;

	for (i = 0; i < PORTS_BUCKETS; i++)
		for (pp = &p->bucket[i]; (port = *pp) != NULL;) {
			if (only != NULL && port->net != only) {
				pp = &port->next;
				continue;
			}
			port->net->nports--;
			*pp = port->next;
			free(port);
		}
}

static int
ports_count_one(void *arg, const struct nb_link_info *link)
{
	network_ports_event(arg, false, link);
	return 0;
}

void
network_ports_recount(struct unikd *u)
{
	if (u->nb == NULL)
		return;
	if (u->network_ports == NULL &&
	    (u->network_ports = calloc(1, sizeof(*u->network_ports))) == NULL)
		return;
	ports_clear(u->network_ports, NULL);
	if (nb_link_foreach(u->nb, ports_count_one, u) == -1)
		log_warnx("action=count-bridge-ports error=\"%s\"",
		    network_nb_failed(u));
}

void
network_ports_forget(struct unikd *u, const struct network *net)
{
	if (u->network_ports != NULL)
		ports_clear(u->network_ports, net);
}

void
network_ports_free(struct unikd *u)
{
	if (u->network_ports == NULL)
		return;
	ports_clear(u->network_ports, NULL);
	free(u->network_ports);
	u->network_ports = NULL;
}

int
network_ports_check(const struct network *net, unsigned want,
    struct uerr *e)
{
	if (net->nports + want <= NETWORK_MAX_PORTS)
		return 0;
	return uerr_set(e, UERR_CONFLICT, "network %s is full (%u ports)",
	    net->name, NETWORK_MAX_PORTS);
}
