/*
 * What unikd-monitor keeps of root once its tender runs. From then on
 * it only relays the console to a log it already has open (and rotates
 * it in a directory root owns), accepts unikd on its socket, signals the
 * tender and writes the exit record in run_dir/vm (root's, 0700): none
 * of that needs a capability as uid 0 owner, but for signals: the tender
 * runs as another uid, so CAP_KILL stays. Everything else is dropped,
 * from the bounding set too where the monitor may (CAP_SETPCAP), and
 * no_new_privs keeps an exec from giving any of it back.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/syscall.h>

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "monitor-internal.h"

/* No libcap: the raw capget/capset of <linux/capability.h>, version 3
 * (two 32-bit words per set). */
static int
privs_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
	    .version = _LINUX_CAPABILITY_VERSION_3};

	return (int)syscall(SYS_capget, &h, d);
}

static int
privs_set(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {
	    .version = _LINUX_CAPABILITY_VERSION_3};

	return (int)syscall(SYS_capset, &h, d);
}

int
mon_privs_drop(char *err, size_t errlen)
{
	struct __user_cap_data_struct d[2];
	bool kill_cap;
	int cap;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    privs_get(d) == -1)
		goto fail;
	kill_cap = (d[0].permitted & (1u << CAP_KILL)) != 0;
	/* Up to the kernel's last capability: EINVAL past it. Without
	 * CAP_SETPCAP (unikd's unit leaves it out of the bounding set)
	 * the set is already the unit's, and no_new_privs holds. */
	if (d[0].effective & (1u << CAP_SETPCAP))
		for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
		     cap++)
			if (cap != CAP_KILL &&
			    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1)
				goto fail;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		goto fail;
	memset(d, 0, sizeof(struct __user_cap_data_struct) * 2);
	if (kill_cap)
		d[0].effective = d[0].permitted = 1u << CAP_KILL;
	if (privs_set(d) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot drop privileges: %s", strerror(errno));
	return -1;
}
