/*
 * Open files as a first-class limit. unikd holds one fd per running VM
 * (its monitor connection) and, while a start is under way, a few more
 * (TAPs, blocks, the spawn socketpair, the pidfd that reaps the
 * monitor's first process). Instead of learning the limit from an
 * EMFILE half way through a start, which would leave a VM that starts
 * and is then `monitor lost`, every start is checked against a budget:
 * the fds unikd held once ready, the monitors it holds now, the start's
 * own and a headroom for API clients and the store's journal files.
 */
#include "config.h"

#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "host-limits.h"
#include "log.h"
#include "monitor.h"
#include "uerr.h"
#include "unikd.h"

/* API connections, event and console followers, SQLite's journal and
 * WAL files, a netlink dump, a QMP connection. */
#define LIMITS_FD_HEADROOM 64
/* The default max_vms never exceeds the VM table's size. */
#define LIMITS_MAX_VMS_CAP 4096

void
limits_raise_nofile(struct unikd *u)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		u->fd_limit = 1024;
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("setrlimit RLIMIT_NOFILE");
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	u->fd_limit = rl.rlim_cur == RLIM_INFINITY ? 1ULL << 20 : rl.rlim_cur;
}

/* Once, at start: the only walk of /proc/self/fd. */
static uint64_t
limits_count_fds(void)
{
	uint64_t n = 0;
	struct dirent *de;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 32;	/* a guess; the headroom covers it */
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

void
limits_settle(struct unikd *u)
{
	uint64_t held = limits_count_fds(), mons = monitor_fds(), spare;

	u->fd_base = held > mons ? held - mons : 0;
	spare = u->fd_limit > u->fd_base + LIMITS_FD_HEADROOM
	    ? u->fd_limit - u->fd_base - LIMITS_FD_HEADROOM : 0;
	u->default_max_vms = spare < LIMITS_MAX_VMS_CAP ? spare
	                                                : LIMITS_MAX_VMS_CAP;
	if (u->default_max_vms == 0)
		u->default_max_vms = 1;
	if (u->cf.max_vms == 0)
		u->cf.max_vms = u->default_max_vms;
	log_info("action=limits open_files=%llu held=%llu max_vms=%llu",
	    (unsigned long long)u->fd_limit, (unsigned long long)u->fd_base,
	    (unsigned long long)u->cf.max_vms);
}

int
limits_fds_check(struct unikd *u, const char *vm, size_t transient,
    struct uerr *e)
{
	uint64_t need;

	need = u->fd_base + u->fd_kept + monitor_fds() + transient + 1 +
	    LIMITS_FD_HEADROOM;
	if (need <= u->fd_limit)
		return 0;
	return uerr_set(e, UERR_UNAVAILABLE,
	    "vm '%s': host limit: open files (unikd may open %llu and holds "
	    "one per running VM; raise LimitNOFILE)",
	    vm, (unsigned long long)u->fd_limit);
}

bool
limits_fd_keep(struct unikd *u)
{
	if (u->fd_base + u->cf.max_vms + u->fd_kept + 1 + LIMITS_FD_HEADROOM >
	    u->fd_limit)
		return false;
	u->fd_kept++;
	return true;
}

void
limits_fd_unkeep(struct unikd *u)
{
	if (u->fd_kept > 0)
		u->fd_kept--;
}
