/*
 * Running VMs: a start builds the tender's command through its driver and
 * hands it to a new unikd-monitor; the monitor reports the tender's pid,
 * console output and exit; an exit goes through the restart policy
 * (vm-exit.c). A restarted unikd re-adopts running monitors through their sockets, and
 * reads the exit record of one whose tender ended while unikd was down.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "block.h"
#include "host-limits.h"
#include "image-open.h"
#include "log.h"
#include "monitor.h"
#include "restart.h"
#include "service.h"
#include "store.h"
#include "tender.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-cgroup.h"
#include "vm-internal.h"
#include "vm-net.h"
#include "vm-stats.h"

static void vm_on_hello(void *, pid_t, pid_t, int64_t);
static void vm_on_error(void *, const char *);
static void vm_on_output(void *, const void *, size_t);
static void vm_on_exit(void *, const struct monitor_exit *);
static void vm_on_lost(void *);

static const struct monitor_cbs vm_monitor_cbs = {
	.hello = vm_on_hello,
	.error = vm_on_error,
	.output = vm_on_output,
	.exit = vm_on_exit,
	.lost = vm_on_lost,
};

void
vm_timer_cancel(struct vm *vm)
{
	if (vm->timer != NULL)
		evtimer_del(vm->timer);
}

void
vm_timer_set(struct vm *vm, void (*cb)(int, short, void *), unsigned ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	if (vm->timer != NULL)
		event_free(vm->timer);
	vm->timer = evtimer_new(vm->u->base, cb, vm);
	if (vm->timer == NULL)
		fatalx("vm=%s: cannot make a timer", vm->spec.name);
	evtimer_add(vm->timer, &tv);
}

static int
vm_mkdirs(struct vm *vm, struct uerr *e)
{
	char dir[4096];

	vm_path_dir(vm, dir, sizeof(dir));
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		return uerr_set(e, UERR_INTERNAL, "vm '%s': mkdir %s: %s",
		    vm->spec.name, dir, strerror(errno));
	return 0;
}

/* The VM's image, opened once beneath its image dir (image-open.c): the
 * check reads this fd and the tender gets it; -1 with e filled. */
static int
vm_run_image(struct vm *vm, struct uerr *e)
{
	struct uerr ie;
	int fd;

	if ((fd = image_open(&vm->u->cf, vm->spec.image, &ie)) == -1)
		return uerr_set(e, ie.status, "vm '%s': %s", vm->spec.name,
		    ie.message);
	return fd;
}

/* The VM's driver and the host's tender for it, known and available
 * (its binary answers, the tender user opens /dev/kvm where needed):
 * the probe's findings, not a new one. */
static int
vm_run_tender(struct vm *vm, const struct tender_driver **dp,
    const struct unikd_tender **tp, struct uerr *e)
{
	*dp = tender_find(vm->spec.tender);
	*tp = unikd_tender_find(vm->u, vm->spec.tender);
	if (*dp == NULL || *tp == NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': unknown tender '%s'", vm->spec.name,
		    vm->spec.tender);
	if (!(*tp)->available)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': tender '%s' is not available: %s",
		    vm->spec.name, vm->spec.tender, (*tp)->reason);
	return 0;
}

/*
 * The image and its manifest against the VM's devices, then whether the
 * tender user can open the VM's TAPs: what the definition says is judged
 * before what the host lacks. -1 with e filled.
 */
static int
vm_run_devices(struct vm *vm, const struct tender_driver *d,
    const struct unikd_tender *t, int image_fd, struct uerr *e)
{
	if (d->check != NULL && d->check(&vm->spec, image_fd, e) == -1)
		return -1;
	if (vm->spec.nnics > 0 && t->nic_reason[0] != '\0')
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': tender '%s' cannot open its TAPs: %s",
		    vm->spec.name, vm->spec.tender, t->nic_reason);
	return 0;
}

int
vm_run_check(struct vm *vm, struct uerr *e)
{
	const struct tender_driver *d;
	const struct unikd_tender *t;
	struct tender_cmd cmd = {0};
	int rc, image_fd;

	if (vm_run_tender(vm, &d, &t, e) == -1 ||
	    (image_fd = vm_run_image(vm, e)) == -1)
		return -1;
	rc = vm_run_devices(vm, d, t, image_fd, e);
	if (rc == 0)
		rc = d->command(&vm->spec, conf_tender_find(&vm->u->cf,
		    d->name), t->path[0] != '\0' ? t->path : d->name,
		    image_fd, &cmd, e);
	close(image_fd);
	tender_cmd_free(&cmd);
	return rc;
}

/*
 * Locks the VM's blocks and adds them to the command at their fd numbers.
 * The tender is then the only holder of each lock (the monitor closes its
 * copies once the tender runs, unikd when the command is freed), so the
 * lock lives exactly as long as the tender: it outlives a restart of
 * unikd and ends when the tender does, however it is killed.
 */
static int
vm_run_blocks(struct vm *vm, struct tender_cmd *cmd, struct uerr *e)
{
	int fds[VM_MAX_BLOCKS];
	size_t i;

	if (cmd->nfds + vm->spec.nblocks > TENDER_MAX_FDS)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "vm '%s': too many devices", vm->spec.name);
	if (block_lock_vm(vm->u, vm, fds, e) == -1)
		return -1;
	for (i = 0; i < vm->spec.nblocks; i++) {
		cmd->fds[cmd->nfds] = fds[i];
		cmd->fd_targets[cmd->nfds++] = TENDER_BLOCK_FD(i);
	}
	return 0;
}

/*
 * 503 when the start would not fit in the open-file budget: while it
 * runs it holds the image, the TAPs, the blocks, a control socket and a
 * QMP connection, the spawn socketpair and the reaping pidfd.
 */
int
vm_run_fits(struct vm *vm, struct uerr *e)
{
	return limits_fds_check(vm->u, vm->spec.name,
	    vm->spec.nnics + vm->spec.nblocks + 6, e);
}

/* The tender's uid from tender_uids: one is taken at the first start of
 * a VM made without (or since the range changed), and kept. */
static int
vm_run_uid(struct vm *vm, struct uerr *e)
{
	uint32_t had = vm->uid;

	if (vm_uid_take(vm, e) == -1)
		return -1;
	if (vm->uid != had)
		vm_save(vm);
	return 0;
}

/* tender_user's supplementary groups (kvm...), but with a uid per VM
 * not tender_group: tenders share nothing by group. */
static size_t
vm_run_groups(const struct vm *vm, gid_t *out)
{
	const struct unikd *u = vm->u;
	size_t i, n = 0;

	for (i = 0; i < u->ntender_groups; i++)
		if (vm->uid == 0 || u->tender_groups[i] != u->tender_gid)
			out[n++] = u->tender_groups[i];
	return n;
}

int
vm_run_spawn(struct vm *vm, struct uerr *e)
{
	struct unikd *u = vm->u;
	const struct tender_driver *d;
	const struct unikd_tender *t;
	struct tender_cmd cmd = {0};
	struct monitor_spec ms = {0};
	char sock[4096], exitp[4096], console[4096], err[512];
	gid_t groups[UNIKD_TENDER_GROUPS_MAX];
	static char env_path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	char *env[] = {env_path, NULL};
	int nic_fds[VM_MAX_NICS], cg_fds[VM_CGROUP_MAX_FDS];
	size_t i, ncg = 0;
	int rc, image_fd;

	if (vm_problem_recheck(vm, e) == -1 ||
	    vm_run_tender(vm, &d, &t, e) == -1 || vm_run_fits(vm, e) == -1 ||
	    vm_run_uid(vm, e) == -1)
		return -1;
	/* the image against the devices, before any TAP is made */
	if ((image_fd = vm_run_image(vm, e)) == -1)
		return -1;
	if (vm_run_devices(vm, d, t, image_fd, e) == -1) {
		close(image_fd);
		return -1;
	}
	/* the TAPs first: the command names them */
	for (i = 0; i < VM_MAX_NICS; i++)
		nic_fds[i] = -1;
	/* the intent: a start under way */
	if (vm_save_starting(vm) == -1) {
		close(image_fd);
		return uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
		    vm->spec.name, store_errmsg(u->store));
	}
	if (vm_net_start_fds(vm, d->nic_by_fd ? nic_fds : NULL, e) == -1) {
		close(image_fd);
		vm_save(vm);	/* not starting after all */
		return -1;
	}
	/* On disk before the monitor runs (the TAPs' ledger rows commit
	 * it with them): a restart adopts the VM or finds it lost, and
	 * never leaves a monitor running unknown. */
	if (unikd_commit(u) == -1) {
		close(image_fd);
		for (i = 0; i < VM_MAX_NICS; i++)
			if (nic_fds[i] != -1)
				close(nic_fds[i]);
		uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
		    vm->spec.name, store_errmsg(u->store));
		goto fail;
	}
	rc = d->command(&vm->spec, conf_tender_find(&u->cf, d->name), t->path,
	    image_fd, &cmd, e);
	close(image_fd);	/* cmd holds a copy */
	if (rc == 0)
		rc = vm_control_start(vm, d, &cmd, nic_fds, e);
	for (i = 0; i < VM_MAX_NICS; i++)	/* cmd holds copies */
		if (nic_fds[i] != -1)
			close(nic_fds[i]);
	if (rc == -1 || vm_run_blocks(vm, &cmd, e) == -1)
		goto fail;
	if (vm_mkdirs(vm, e) == -1 || vm_cgroup_open(vm, cg_fds, &ncg, e) == -1)
		goto fail;
	vm_path_socket(vm, sock, sizeof(sock));
	vm_path_exit(vm, exitp, sizeof(exitp));
	vm_path_console(vm, console, sizeof(console));
	unlink(exitp);	/* a record of an earlier run, already counted */
	ms.vm = vm->spec.name;
	ms.argv = cmd.argv;
	ms.env = env;
	ms.fds = cmd.fds;
	ms.fd_targets = cmd.fd_targets;
	ms.nfds = cmd.nfds;
	vm_uid_creds(vm, &ms.uid, &ms.gid);
	ms.ngroups = vm_run_groups(vm, groups);
	ms.groups = groups;
	ms.cpus = vm->spec.cpus;
	ms.ncpus = vm->spec.ncpus;
	ms.console = console;
	ms.console_max = u->cf.console_max_size;
	ms.console_files = u->cf.console_files;
	ms.socket = sock;
	ms.exit_file = exitp;
	ms.monitor_path = u->cf.monitor;
	ms.netns = vm->netns_fd != -1;
	ms.netns_fd = vm->netns_fd;
	ms.cgroup_fds = cg_fds;
	ms.ncgroups = ncg;
	rc = monitor_spawn(u->base, &ms, &vm_monitor_cbs, vm, &vm->monitor,
	    err, sizeof(err));
	if (vm->netns_fd != -1) {	/* the monitor has its own now */
		close(vm->netns_fd);
		vm->netns_fd = -1;
	}
	for (i = 0; i < ncg; i++)
		close(cg_fds[i]);
	if (rc == -1) {
		if (errno == EMFILE || errno == ENFILE)
			uerr_set(e, UERR_UNAVAILABLE,
			    "vm '%s': host limit: open files (%s)",
			    vm->spec.name, err);
		else
			uerr_set(e, UERR_INTERNAL,
			    "vm '%s': cannot start its monitor: %s",
			    vm->spec.name, err);
		goto fail;
	}
	tender_cmd_free(&cmd);
	vm->state = VM_STARTING;
	vm->pid = 0;
	vm->monitor_pid = 0;
	vm->stop_requested = false;
	vm->restart_requested = false;
	vm->restart_at = 0;
	vm->started_at = time(NULL);
	vm_save(vm);
	log_info("vm=%s action=start tender=%s", vm->spec.name, d->name);
	unikd_event(u, "vm.starting", vm->spec.name, NULL);
	return 0;
fail:
	tender_cmd_free(&cmd);
	vm_save(vm);	/* not starting after all */
	vm_net_stop(vm);
	vm_control_remove(vm);
	vm_cgroup_remove(vm);
	return -1;
}

void
vm_run_adopt(struct vm *vm)
{
	char sock[4096];

	vm_path_socket(vm, sock, sizeof(sock));
	if (monitor_connect(vm->u->base, sock, &vm_monitor_cbs, vm,
	    &vm->monitor) == 0) {
		log_info("vm=%s action=adopt pid=%d", vm->spec.name,
		    (int)vm->pid);
		vm->adopting = true;
		if (vm->state == VM_STOPPING) {
			/* the stop timer died with the previous unikd */
			vm->stop_requested = true;
			vm_kill(vm, SIGKILL, NULL);
		}
		return;
	}
	log_info("vm=%s action=adopt monitor=gone", vm->spec.name);
	vm_on_lost(vm);
}

/* Someone killed by force-removal: wait for its exit, then tidy up. */
struct vm_reaper {
	struct monitor *monitor;
	char exit_path[4096];
	struct unikd *u;
	char cgroup[VM_CGROUP_MAX + 64];	/* "" when none */
};

static void
vm_reaper_end(void *arg)
{
	struct vm_reaper *r = arg;

	unlink(r->exit_path);
	if (r->cgroup[0] != '\0')	/* empty now that the tender is gone */
		vm_cgroup_rmdir(r->u, r->cgroup);
	monitor_free(r->monitor);
	free(r);
}

static void
vm_reaper_exit(void *arg, const struct monitor_exit *ex)
{
	(void)ex;
	vm_reaper_end(arg);
}

static void
vm_reaper_error(void *arg, const char *msg)
{
	(void)msg;
	vm_reaper_end(arg);
}

static const struct monitor_cbs vm_reaper_cbs = {
	.exit = vm_reaper_exit,
	.error = vm_reaper_error,
	.lost = vm_reaper_end,
};

/* monitor.h gives no way to re-point callbacks, so the reaper opens its
 * own connection before unikd's is closed. */
void
vm_run_detach(struct vm *vm, bool kill)
{
	struct vm_reaper *r;
	char sock[4096];

	vm_timer_cancel(vm);
	vm_stats_forget(vm);
	if (vm->monitor == NULL)
		goto unlink_exit;
	if (kill) {
		vm_path_socket(vm, sock, sizeof(sock));
		if ((r = calloc(1, sizeof(*r))) != NULL) {
			vm_path_exit(vm, r->exit_path, sizeof(r->exit_path));
			r->u = vm->u;
			if (vm_cgroup_rel(vm, r->cgroup, sizeof(r->cgroup)) ==
			    -1)
				r->cgroup[0] = '\0';
			if (monitor_connect(vm->u->base, sock, &vm_reaper_cbs,
			    r, &r->monitor) == -1) {
				free(r);
				r = NULL;
			}
		}
		monitor_signal(vm->monitor, SIGKILL);
	}
	monitor_free(vm->monitor);
	vm->monitor = NULL;
unlink_exit:
	if (kill) {
		vm_path_exit(vm, sock, sizeof(sock));
		unlink(sock);
	}
}

static void
vm_on_hello(void *arg, pid_t pid, pid_t monitor_pid, int64_t started_at)
{
	struct vm *vm = arg;
	bool starting = vm->state == VM_STARTING;

	if (vm->adopting) {
		log_info("vm=%s action=adopted pid=%d monitor=%d",
		    vm->spec.name, (int)pid, (int)monitor_pid);
		vm->adopting = false;
		service_changed(vm->u);
	}
	vm->pid = pid;
	vm->monitor_pid = monitor_pid;
	vm->started_at = started_at;
	if (starting)
		vm->state = VM_RUNNING;
	vm_save(vm);
	if (starting) {
		log_info("vm=%s action=running pid=%d monitor=%d",
		    vm->spec.name, (int)pid, (int)monitor_pid);
		unikd_event(vm->u, "vm.running", vm->spec.name,
		    json_pack("{s:i, s:i}", "pid", (int)pid, "monitor_pid",
			(int)monitor_pid));
	}
}

static void
vm_on_output(void *arg, const void *buf, size_t len)
{
	struct vm *vm = arg;
	struct vm_watch *w, *next;

	TAILQ_FOREACH_SAFE(w, &vm->watches, entry, next)
		if (w->output != NULL)
			w->output(w->arg, buf, len);
}

static void
vm_on_exit(void *arg, const struct monitor_exit *ex)
{
	vm_exited(arg, ex->wstatus, ex->finished_at, NULL);
}

static void
vm_on_error(void *arg, const char *message)
{
	struct vm *vm = arg;

	vm_timer_cancel(vm);
	if (vm->monitor != NULL) {
		monitor_free(vm->monitor);
		vm->monitor = NULL;
	}
	vm->state = VM_FAILED;
	vm->adopting = false;
	vm_net_stop(vm);
	vm_control_remove(vm);
	vm_cgroup_remove(vm);
	vm->pid = 0;
	vm->monitor_pid = 0;
	vm->exit_status = -1;
	vm->tender_status = -1;
	vm->finished_at = time(NULL);
	snprintf(vm->exit_reason, sizeof(vm->exit_reason),
	    "start failed: %.200s", message);
	vm_save(vm);
	log_warnx("vm=%s action=failed reason=\"%s\"", vm->spec.name,
	    vm->exit_reason);
	unikd_event(vm->u, "vm.failed", vm->spec.name,
	    json_pack("{s:s}", "exit_reason", vm->exit_reason));
	vm_watches_done(vm);
}

/*
 * The monitor's connection closed with no exit message: either the tender
 * ended while unikd was away (the exit record says how), or the monitor
 * itself died, taking the tender with it (PR_SET_PDEATHSIG).
 */
static void
vm_on_lost(void *arg)
{
	struct vm *vm = arg;
	struct monitor_exit ex;
	char path[4096];

	vm_path_exit(vm, path, sizeof(path));
	if (monitor_read_exit(path, &ex) == 0) {
		vm_exited(vm, ex.wstatus, ex.finished_at, NULL);
		return;
	}
	vm_exited(vm, SIGKILL, time(NULL), "monitor lost");
}
