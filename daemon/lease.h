/*
 * Address leases of a network: which host addresses of its subnet are
 * taken, as a bitmap kept in memory (loaded from the store's leases table
 * when the network is loaded), so the lowest free address is found
 * without asking the store. The network, broadcast and gateway addresses
 * are never handed out. network_lease() and network_release_vm()
 * (network.h) persist each change in the store and then in the map.
 */
#ifndef UNIKD_LEASE_H
#define UNIKD_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Subnets with leases: a /16 is 65536 bits (8 KiB); a /30 has 2 hosts. */
#define LEASE_PREFIX_MIN 16
#define LEASE_PREFIX_MAX 30

struct unikd;
struct network;
struct lease_map;

/* A map of subnet (host byte order, host bits ignored) with prefix in
 * LEASE_PREFIX_MIN..LEASE_PREFIX_MAX; gateway 0 for none. NULL with
 * errno EINVAL or ENOMEM. */
struct lease_map *lease_map_new(
    uint32_t subnet, unsigned prefix, uint32_t gateway);
void lease_map_free(struct lease_map *);
/* Inside the subnet and not its network, broadcast or gateway address. */
bool lease_map_assignable(const struct lease_map *, uint32_t addr);
bool lease_map_used(const struct lease_map *, uint32_t addr);
/* Marks addr taken: EDOM when not assignable, EEXIST when taken. */
int lease_map_take(struct lease_map *, uint32_t addr);
/* Marks addr free again (nothing when it was not taken). */
void lease_map_put(struct lease_map *, uint32_t addr);
/* The lowest free assignable address, not taken yet; ENOSPC when none. */
int lease_map_lowest(struct lease_map *, uint32_t *addr);
/* Addresses taken by leases. */
size_t lease_map_count(const struct lease_map *);

/* "10.0.0.2" <-> host byte order; -1 EINVAL when malformed. */
int lease_ip_parse(const char *s, uint32_t *addr);
void lease_ip_format(uint32_t addr, char out[16]);

/* Builds net->leases from the store (networks with a subnet only). */
int lease_load(struct unikd *, struct network *);
void lease_unload(struct network *);

#endif
