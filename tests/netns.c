/* A network namespace of the test's own (see netns.h). */
#include "config.h"

#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns.h"

/* A fresh namespace has lo down: 127.0.0.1 would not answer. */
static void
lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	if (s >= 0)
		close(s);
}

int
test_netns_enter(bool sysfs)
{
	if (unshare(CLONE_NEWNET | (sysfs ? CLONE_NEWNS : 0)) == -1)
		return -1;
	/* sysfs shows the links of the netns of whoever mounted it. */
	if (sysfs && (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) == -1))
		return -1;
	lo_up();
	return 0;
}
