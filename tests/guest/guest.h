/*
 * What the test guest's files share: testguest.c (command line, boot
 * lines, the main loop) and guest-net.c (its NICs).
 */
#ifndef UNIK_GUEST_H
#define UNIK_GUEST_H

#include <signal.h>
#include <stdint.h>

/* A console line on stdout (the guest's output). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A tender error on stderr, then exit 1, as solo5-spt does. */
void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);

/* --- blocks (guest-block.c) --- */

/* Opens the block at path O_RDWR as solo5-spt does (exits 1 when its size
 * is not a multiple of sector_size), prints its boot line, then bumps the
 * boot counter in its first sector and prints "testguest: block NAME boot
 * count N". */
void guest_block_attach(const char *name, const char *path,
    unsigned long sector_size);

/* An unsigned decimal number that fills the whole string, at most max
 * (testguest.c); -1 when it is not one. */
int guest_parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* --- TAPs (guest-tap.c) --- */

/* Opens the TAP iface as solo5-spt does: it must exist (ENOENT), be UP
 * (ENETDOWN) and not be open elsewhere (EBUSY); *mtu is its MTU. */
int guest_tap_open(const char *iface, unsigned *mtu);
/* "aa:bb:cc:dd:ee:ff" (exits 1 when malformed), or a random locally
 * administered MAC as Solo5 makes one. */
void guest_mac_parse(const char *s, uint8_t mac[6]);
void guest_mac_random(uint8_t mac[6]);

/* --- networking (guest-net.c) --- */

struct guest_net;

/* Reads the networking ARGS (--ipv4=, --ipv4-gateway=, --udp-echo=,
 * --udp-to=) from argv[first..]; exits 1 on a malformed one. */
struct guest_net *guest_net_new(int argc, char **argv, int first);
/* Frees what guest_net_new made (the TAP fds close with the process). */
void guest_net_free(struct guest_net *);
/* Opens the TAP iface by name as solo5-spt does (exits 1 when it is
 * missing, down or busy) and prints its boot line. mac may be NULL. */
void guest_net_attach(struct guest_net *, const char *name,
    const char *iface, const char *mac);
/* After every NIC is attached: checks the ARGS against them. */
void guest_net_start(struct guest_net *);
/* Handles traffic and sends what is due until deadline (monotonic ns)
 * or until a signal in waitmask arrives. */
void guest_net_wait(struct guest_net *, int64_t deadline,
    const sigset_t *waitmask);

#endif
