/*
 * What a start and a stop need beyond the argv for drivers that say so
 * (tender.h): the TAPs as open fds, a listening control socket made by
 * unikd (run_dir/vm/NAME.SUFFIX, root only: the tender user cannot
 * create files there, and no other user may reach it), and a stop sent
 * through that socket instead of a signal, on the event loop; when it
 * fails, the signal is sent after all.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "monitor.h"
#include "tender.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-internal.h"
#include "vm-net.h"

void
vm_path_control(const struct vm *vm, char *buf, size_t len)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);

	buf[0] = '\0';
	if (d != NULL && d->control_suffix != NULL)
		snprintf(buf, len, "%s/vm/%s%s", vm->u->cf.run_dir,
		    vm->spec.name, d->control_suffix);
}

/* A listening socket at path, replacing a stale one; 0600. */
static int
vm_control_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	unlink(path);
	mask = umask(0077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 4) == -1) {
		err = errno;
		umask(mask);
		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	umask(mask);
	return fd;
}

int
vm_control_start(struct vm *vm, const struct tender_driver *d,
    struct tender_cmd *cmd, const int *nic_fds, struct uerr *e)
{
	char path[4096];
	size_t i;
	int fd;

	for (i = 0; d->nic_by_fd && i < vm->spec.nnics; i++) {
		if ((fd = dup(nic_fds[i])) == -1 ||
		    tender_fd_add(cmd, fd, TENDER_NIC_FD(i)) == -1)
			return uerr_set(e, UERR_INTERNAL,
			    "vm '%s': nic '%s': cannot hand over its TAP: %s",
			    vm->spec.name, vm->spec.nics[i].name,
			    strerror(errno));
	}
	if (d->control_suffix == NULL)
		return 0;
	vm_path_control(vm, path, sizeof(path));
	if ((fd = vm_control_listen(path)) == -1 ||
	    tender_fd_add(cmd, fd, TENDER_CONTROL_FD) == -1)
		return uerr_set(e, UERR_INTERNAL,
		    "vm '%s': control socket %s: %s", vm->spec.name, path,
		    strerror(errno));
	return 0;
}

void
vm_control_remove(struct vm *vm)
{
	char path[4096];

	vm_control_cancel(vm);	/* the tender is gone */
	vm_path_control(vm, path, sizeof(path));
	if (path[0] != '\0')
		unlink(path);
}

void
vm_control_cancel(struct vm *vm)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);

	if (vm->control_stop != NULL && d != NULL && d->stop_cancel != NULL)
		d->stop_cancel(vm->control_stop);
	vm->control_stop = NULL;
}

/* The end of a stop on the control socket; when it failed, the signal
 * a stop would have sent without one (a quit: SIGKILL). */
static void
vm_control_done(struct vm *vm, bool force, int rc, const char *err)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);
	const char *action = force ? "quit" : "powerdown";

	vm->control_stop = NULL;
	if (rc == 0) {
		log_info("vm=%s action=%s result=answered", vm->spec.name,
		    action);
		return;
	}
	log_warnx("vm=%s action=%s error=\"%s\"", vm->spec.name, action,
	    err);
	if (!vm_is_active(vm) || vm->monitor == NULL || d == NULL)
		return;
	if (force)
		vm_kill(vm, SIGKILL, NULL);
	else if (monitor_signal(vm->monitor, d->stop_signal) == -1)
		log_warn("vm=%s action=stop signal=%d", vm->spec.name,
		    d->stop_signal);
}

static void
vm_control_powerdown_done(int rc, const char *err, void *arg)
{
	vm_control_done(arg, false, rc, err);
}

static void
vm_control_quit_done(int rc, const char *err, void *arg)
{
	vm_control_done(arg, true, rc, err);
}

int
vm_control_stop(struct vm *vm, bool force)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);
	char path[4096], err[256];

	if (d == NULL || d->stop == NULL)
		return -1;
	vm_control_cancel(vm);	/* a quit supersedes a powerdown */
	vm_path_control(vm, path, sizeof(path));
	vm->control_stop = d->stop(vm->u->base, path, force,
	    force ? vm_control_quit_done : vm_control_powerdown_done, vm,
	    err, sizeof(err));
	if (vm->control_stop == NULL) {
		log_warnx("vm=%s action=%s control=%s error=\"%s\"",
		    vm->spec.name, force ? "quit" : "powerdown", path, err);
		return -1;
	}
	log_info("vm=%s action=%s control=%s", vm->spec.name,
	    force ? "quit" : "powerdown", path);
	return 0;
}
