/*
 * The test guest's side of a TAP, opened the way solo5-spt opens it, and
 * the NIC's MAC address as Solo5 chooses it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest.h"

/*
 * solo5-spt's checks, in its order: the TAP must exist (ENOENT) and be UP
 * (ENETDOWN) before TUNSETIFF, which then fails EBUSY when someone else
 * has it open and EINVAL for a TUN or a multi-queue TAP. TUNSETIFF on a
 * missing name would create a new TAP, hence the checks first.
 */
int
guest_tap_open(const char *iface, unsigned *mtu)
{
	struct ifreq ifr;
	int fd = -1, sock, saved;

	if (strlen(iface) >= IFNAMSIZ) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, iface);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock == -1)
		return -1;
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) == -1) {
		if (errno == ENODEV)
			errno = ENOENT;
		goto fail;
	}
	if ((ifr.ifr_flags & IFF_UP) == 0) {
		errno = ENETDOWN;
		goto fail;
	}
	if (ioctl(sock, SIOCGIFMTU, &ifr) == -1)
		goto fail;
	*mtu = (unsigned)ifr.ifr_mtu;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, iface);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) == -1)
		goto fail;
	/* A name like "tap%d" would make the kernel pick another device. */
	if (strcmp(ifr.ifr_name, iface) != 0) {
		errno = EINVAL;
		goto fail;
	}
	close(sock);
	return fd;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	close(sock);
	errno = saved;
	return -1;
}

void
guest_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3],
		&v[4], &v[5]) != 6)
		die("--net-mac: malformed MAC address '%s'", s);
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
}

/* Without --net-mac Solo5 makes a random locally administered MAC. */
void
guest_mac_random(uint8_t mac[6])
{
	if (getrandom(mac, 6, 0) != 6)
		die("getrandom: %s", strerror(errno));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}
