/*
 * The VM manager: the table of VMs (name -> vm in O(1)), their
 * definitions in the store, and the requests control/ makes of them.
 * Running a VM through its monitor, restart policies and exits are in
 * vm-run.c; console logs in vm-console.c.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "monitor.h"
#include "store.h"
#include "tender.h"
#include "timestamp.h"
#include "uerr.h"
#include "unikd.h"
#include "vm-cgroup.h"
#include "vm-internal.h"
#include "vm-net.h"

#define VM_TABLE_SIZE 4096	/* buckets; max_vms defaults to as many */

struct vm_table {
	struct vm *buckets[VM_TABLE_SIZE];
};

static const char *const vm_state_names[] = {
	[VM_CREATED] = "created",
	[VM_STARTING] = "starting",
	[VM_RUNNING] = "running",
	[VM_STOPPING] = "stopping",
	[VM_EXITED] = "exited",
	[VM_FAILED] = "failed",
};

const char *
vm_state_name(enum vm_state s)
{
	return vm_state_names[s];
}

static int
vm_state_parse(const char *name, enum vm_state *out)
{
	size_t i;

	for (i = 0; i < sizeof(vm_state_names) / sizeof(vm_state_names[0]);
	    i++) {
		if (strcmp(name, vm_state_names[i]) == 0) {
			*out = (enum vm_state)i;
			return 0;
		}
	}
	return -1;
}

const char *
vm_state_label(const struct vm *vm)
{
	if (vm->state == VM_EXITED && vm->restart_at != 0)
		return "restarting";
	return vm_state_name(vm->state);
}

bool
vm_is_active(const struct vm *vm)
{
	return vm->state == VM_STARTING || vm->state == VM_RUNNING ||
	    vm->state == VM_STOPPING;
}

bool
vm_is_final(const struct vm *vm)
{
	return vm->state == VM_CREATED || vm->state == VM_FAILED ||
	    (vm->state == VM_EXITED && vm->restart_at == 0);
}

/* FNV-1a */
static size_t
vm_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h % VM_TABLE_SIZE;
}

struct vm *
vm_find(struct unikd *u, const char *name)
{
	struct vm *vm;

	for (vm = u->vm_table->buckets[vm_hash(name)]; vm != NULL;
	    vm = vm->hash_next)
		if (strcmp(vm->spec.name, name) == 0)
			return vm;
	return NULL;
}

static void
vm_table_insert(struct unikd *u, struct vm *vm)
{
	size_t h = vm_hash(vm->spec.name);

	vm->hash_next = u->vm_table->buckets[h];
	u->vm_table->buckets[h] = vm;
	TAILQ_INSERT_TAIL(&u->vms, vm, entry);
	u->nvms++;
}

static void
vm_table_remove(struct unikd *u, struct vm *vm)
{
	struct vm **p = &u->vm_table->buckets[vm_hash(vm->spec.name)];

	while (*p != NULL && *p != vm)
		p = &(*p)->hash_next;
	if (*p != NULL)
		*p = vm->hash_next;
	TAILQ_REMOVE(&u->vms, vm, entry);
	u->nvms--;
}

static struct vm *
vm_new(struct unikd *u)
{
	struct vm *vm;

	if ((vm = calloc(1, sizeof(*vm))) == NULL)
		return NULL;
	vm->u = u;
	vm->exit_status = -1;
	vm->tender_status = -1;
	vm->netns_fd = -1;
	vm->stat_fd = -1;
	TAILQ_INIT(&vm->watches);
	return vm;
}

static void
vm_free(struct vm *vm)
{
	vm_timer_cancel(vm);
	if (vm->timer != NULL)
		event_free(vm->timer);
	vm_control_cancel(vm);
	if (vm->netns_fd != -1)
		close(vm->netns_fd);
	vm_spec_free(&vm->spec);
	json_decref(vm->def);
	vm_json_forget(vm);
	free(vm);
}

void
vm_path_socket(const struct vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vm/%s.sock", vm->u->cf.run_dir, vm->spec.name);
}

void
vm_path_exit(const struct vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vm/%s.exit", vm->u->cf.run_dir, vm->spec.name);
}

void
vm_path_dir(const struct vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vms/%s", vm->u->cf.state_dir, vm->spec.name);
}

void
vm_path_console(const struct vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vms/%s/console.log", vm->u->cf.state_dir,
	    vm->spec.name);
}

void
vm_runtime(const struct vm *vm, struct store_vm_runtime *rt)
{
	memset(rt, 0, sizeof(*rt));
	rt->state = vm_state_name(vm->state);
	rt->pid = vm->pid;
	rt->monitor_pid = vm->monitor_pid;
	rt->exit_status = vm->exit_status;
	rt->tender_status = vm->tender_status;
	rt->exit_reason = vm->exit_reason[0] != '\0' ? vm->exit_reason : NULL;
	rt->restarts = vm->restarts;
	rt->created_at = vm->created_at;
	rt->started_at = vm->started_at;
	rt->finished_at = vm->finished_at;
	rt->restart_at = vm->restart_at;
	rt->streak = vm->streak;
	rt->uid = vm->uid;
}

void
vm_save(struct vm *vm)
{
	struct store_vm_runtime rt;

	vm_runtime(vm, &rt);
	if (store_vm_update_runtime(vm->u->store, vm->spec.name, &rt) == -1)
		log_warnx("vm=%s action=save error=\"%s\"", vm->spec.name,
		    store_errmsg(vm->u->store));
}

int
vm_save_starting(struct vm *vm)
{
	struct store_vm_runtime rt;

	vm_runtime(vm, &rt);
	rt.state = vm_state_name(VM_STARTING);
	rt.pid = 0;
	rt.monitor_pid = 0;
	rt.restart_at = 0;
	rt.started_at = time(NULL);
	return store_vm_update_runtime(vm->u->store, vm->spec.name, &rt);
}

void
vm_watch_add(struct vm *vm, struct vm_watch *w)
{
	TAILQ_INSERT_TAIL(&vm->watches, w, entry);
}

void
vm_watch_remove(struct vm *vm, struct vm_watch *w)
{
	TAILQ_REMOVE(&vm->watches, w, entry);
}

void
vm_watches_done(struct vm *vm)
{
	struct vm_watch *w;

	while ((w = TAILQ_FIRST(&vm->watches)) != NULL) {
		TAILQ_REMOVE(&vm->watches, w, entry);
		w->done(w->arg, vm);
	}
}

int
vm_create(struct unikd *u, const json_t *def, bool start, struct vm **out,
    struct uerr *e)
{
	struct store_vm_runtime rt;
	struct vm *vm;
	json_t *spec_json;
	char *text;
	int rc;

	if ((vm = vm_new(u)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	if (vm_spec_from_json(&vm->spec, def, &u->cf, e) == -1 ||
	    vm_run_check(vm, e) == -1)
		goto fail;
	if (vm_find(u, vm->spec.name) != NULL) {
		uerr_set(e, UERR_CONFLICT, "vm '%s' already exists",
		    vm->spec.name);
		goto fail;
	}
	if (u->nvms >= u->cf.max_vms) {
		uerr_set(e, UERR_CONFLICT,
		    "vm '%s': the host already has %zu VMs (limits.max_vms)",
		    vm->spec.name, u->nvms);
		goto fail;
	}
	/* A create that also starts is refused whole when it cannot run. */
	if (start && (vm_run_fits(vm, e) == -1 ||
	                 vm_net_ports_check(vm, e) == -1))
		goto fail;
	if (vm_net_check(vm, e) == -1 || vm_uid_take(vm, e) == -1)
		goto fail;
	vm->created_at = time(NULL);
	vm->state = VM_CREATED;
	/* the VM, its leases and NICs in one transaction */
	if (store_begin(u->store) == -1) {
		uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
		    vm->spec.name, store_errmsg(u->store));
		goto fail;
	}
	if (vm_net_lease(vm, e) == -1)
		goto rollback;
	spec_json = vm_spec_to_json(&vm->spec);
	text = json_dumps(spec_json, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(spec_json);
	vm_runtime(vm, &rt);
	rc = text != NULL ? store_vm_insert(u->store, vm->spec.name, text, &rt)
	    : -1;
	free(text);
	if (rc == -1) {
		if (errno == EEXIST)
			uerr_set(e, UERR_CONFLICT, "vm '%s' already exists",
			    vm->spec.name);
		else
			uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
			    vm->spec.name, store_errmsg(u->store));
		goto rollback;
	}
	if (vm_net_record(vm, e) == -1)
		goto rollback;
	if (store_commit(u->store) == -1) {
		uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
		    vm->spec.name, store_errmsg(u->store));
		goto rollback;
	}
	vm_net_added(vm);
	vm_table_insert(u, vm);
	log_info("vm=%s action=create tender=%s image=%s", vm->spec.name,
	    vm->spec.tender, vm->spec.image);
	unikd_event(u, "vm.created", vm->spec.name, NULL);
	*out = vm;
	if (start && vm_start(vm, e) == -1)
		return -1;
	return 0;
rollback:
	vm_net_unlease(vm);	/* in the transaction: memory and rows */
	store_rollback(u->store);
fail:
	vm_uid_release(vm);
	vm_free(vm);
	return -1;
}

int
vm_start(struct vm *vm, struct uerr *e)
{
	if (vm_is_active(vm))
		return uerr_set(e, UERR_CONFLICT, "vm '%s' is already %s",
		    vm->spec.name, vm_state_name(vm->state));
	vm_timer_cancel(vm);	/* a pending restart is superseded */
	vm->restart_at = 0;
	vm->streak = 0;
	return vm_run_spawn(vm, e);
}

/* How long a tender asked to quit through its control socket has
 * before SIGKILL. */
#define VM_QUIT_GRACE_MS 3000

static void
vm_stop_kill(int fd, short what, void *arg)
{
	struct vm *vm = arg;

	(void)fd;
	(void)what;
	log_info("vm=%s action=stop-timeout signal=SIGKILL", vm->spec.name);
	vm_kill(vm, SIGKILL, NULL);
}

/* The stop timeout: a driver with a control socket is told to quit
 * (QEMU: QMP quit, a clean exit 0) and given a little more time. */
static void
vm_stop_timeout(int fd, short what, void *arg)
{
	struct vm *vm = arg;

	if (vm_control_stop(vm, true) == 0) {
		vm_timer_set(vm, vm_stop_kill, VM_QUIT_GRACE_MS);
		return;
	}
	vm_stop_kill(fd, what, arg);
}

int
vm_stop(struct vm *vm, int timeout, struct uerr *e)
{
	const struct tender_driver *d = tender_find(vm->spec.tender);

	if (vm->state == VM_EXITED && vm->restart_at != 0) {
		/* a stop during the backoff cancels the pending restart */
		vm_timer_cancel(vm);
		vm->restart_at = 0;
		vm_save(vm);
		unikd_event(vm->u, "vm.exited", vm->spec.name,
		    json_pack("{s:i, s:s, s:b}", "exit_status",
			vm->exit_status, "exit_reason", vm->exit_reason,
			"restart_cancelled", 1));
		vm_watches_done(vm);
		return 0;
	}
	if (!vm_is_active(vm))
		return uerr_set(e, UERR_CONFLICT, "vm '%s' is not running",
		    vm->spec.name);
	if (vm->state == VM_STOPPING)
		return 0;
	if (timeout < 0)
		timeout = (int)vm->spec.stop_timeout;
	vm->stop_requested = true;
	vm->state = VM_STOPPING;
	vm_save(vm);
	unikd_event(vm->u, "vm.stopping", vm->spec.name,
	    json_pack("{s:i}", "timeout", timeout));
	if (timeout == 0 || d == NULL)
		return vm_kill(vm, SIGKILL, e);
	log_info("vm=%s action=stop signal=%d timeout=%d", vm->spec.name,
	    d->stop != NULL ? 0 : d->stop_signal, timeout);
	if (vm_control_stop(vm, false) == -1 &&
	    monitor_signal(vm->monitor, d->stop_signal) == -1)
		log_warn("vm=%s action=stop", vm->spec.name);
	vm_timer_set(vm, vm_stop_timeout, (unsigned)timeout * 1000);
	return 0;
}

int
vm_kill(struct vm *vm, int sig, struct uerr *e)
{
	if (!vm_is_active(vm) || vm->monitor == NULL)
		return uerr_set(e, UERR_CONFLICT, "vm '%s' is not running",
		    vm->spec.name);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT ||
	    sig == SIGQUIT)
		vm->stop_requested = true;
	log_info("vm=%s action=kill signal=%d", vm->spec.name, sig);
	if (monitor_signal(vm->monitor, sig) == -1)
		return uerr_set(e, UERR_INTERNAL, "vm '%s': monitor: %s",
		    vm->spec.name, strerror(errno));
	if (sig == SIGKILL && vm->state != VM_STOPPING) {
		vm->state = VM_STOPPING;
		vm_save(vm);
	}
	return 0;
}

int
vm_restart(struct vm *vm, int timeout, struct uerr *e)
{
	if (!vm_is_active(vm))
		return vm_start(vm, e);
	if (vm_stop(vm, timeout, e) == -1)
		return -1;
	vm->restart_requested = true;
	return 0;
}

int
vm_remove(struct vm *vm, bool force, struct uerr *e)
{
	struct unikd *u = vm->u;
	char name[VM_NAME_MAX + 1];

	if ((vm_is_active(vm) || vm->restart_at != 0) && !force)
		return uerr_set(e, UERR_CONFLICT,
		    "vm '%s' is %s; stop it first or remove it with force",
		    vm->spec.name, vm_state_label(vm));
	if (store_vm_delete(u->store, vm->spec.name) == -1)
		return uerr_set(e, UERR_INTERNAL, "vm '%s': state store: %s",
		    vm->spec.name, store_errmsg(u->store));
	vm_run_detach(vm, true);
	vm_net_remove(vm);
	vm_console_remove(vm);
	vm_uid_release(vm);
	snprintf(name, sizeof(name), "%s", vm->spec.name);
	vm_table_remove(u, vm);
	log_info("vm=%s action=remove", name);
	vm_watches_done(vm);
	vm_free(vm);
	unikd_event(u, "vm.removed", name, NULL);
	unikd_trim_later(u);
	return 0;
}

/* The last exit: status, reason, the tender's raw status, its time. */
static json_t *
vm_exit_json(const struct vm *vm)
{
	json_t *o = json_object();

	json_object_set_new(o, "exit_status",
	    vm->exit_status >= 0 ? json_integer(vm->exit_status) : json_null());
	json_object_set_new(o, "exit_reason", vm->exit_reason[0] != '\0' ?
	    json_string(vm->exit_reason) : json_null());
	json_object_set_new(o, "tender_status", vm->tender_status >= 0 ?
	    json_integer(vm->tender_status) : json_null());
	json_object_set_new(o, "finished_at",
	    unikd_json_time(vm->finished_at));
	return o;
}

json_t *
vm_to_json(const struct vm *vm)
{
	uid_t uid;
	gid_t gid;
	static const char *const exit_keys[] = {"exit_status", "exit_reason",
	    "tender_status", "finished_at"};
	char path[4096];
	json_t *o = vm_spec_to_json(&vm->spec), *last, *v;
	bool exited = vm->exit_reason[0] != '\0' || vm->finished_at != 0;
	size_t i;

	vm_path_console(vm, path, sizeof(path));
	json_object_set_new(o, "state", json_string(vm_state_label(vm)));
	json_object_set_new(o, "pid",
	    vm->pid > 0 ? json_integer(vm->pid) : json_null());
	json_object_set_new(o, "monitor_pid",
	    vm->monitor_pid > 0 ? json_integer(vm->monitor_pid) : json_null());
	/* while a VM runs, the previous run's end is not its current one */
	last = exited ? vm_exit_json(vm) : json_null();
	for (i = 0; i < sizeof(exit_keys) / sizeof(exit_keys[0]); i++) {
		v = vm_is_active(vm) ? NULL : json_object_get(last,
		    exit_keys[i]);
		json_object_set(o, exit_keys[i], v != NULL ? v : json_null());
	}
	json_object_set_new(o, "last_exit", last);
	json_object_set_new(o, "restarts", json_integer(vm->restarts));
	json_object_set_new(o, "restart_at",
	    unikd_json_time(vm->restart_at / 1000));
	json_object_set_new(o, "created_at", unikd_json_time(vm->created_at));
	json_object_set_new(o, "started_at", unikd_json_time(vm->started_at));
	json_object_set_new(o, "console", json_string(path));
	json_object_set_new(o, "nics", vm_net_json(vm));
	vm_uid_creds(vm, &uid, &gid);
	json_object_set_new(o, "uid", json_integer(uid));
	json_object_set_new(o, "problem",
	    vm->problem[0] != '\0' ? json_string(vm->problem) : json_null());
	return o;
}

static int
vm_load_row(void *arg, const struct store_vm_row *row)
{
	struct unikd *u = arg;
	json_t *def;
	struct vm *vm;

	if ((vm = vm_new(u)) == NULL)
		return -1;
	/* Loaded even when it no longer validates: its monitor may run. */
	def = json_loads(row->spec, 0, NULL);
	if (vm_problem_load(vm, row, def) == -1) {
		json_decref(def);
		vm_free(vm);
		return -1;
	}
	json_decref(def);
	if (vm_state_parse(row->rt.state, &vm->state) == -1)
		vm->state = VM_EXITED;
	vm->pid = (pid_t)row->rt.pid;
	vm->monitor_pid = (pid_t)row->rt.monitor_pid;
	vm->exit_status = row->rt.exit_status;
	vm->tender_status = row->rt.tender_status;
	if (row->rt.exit_reason != NULL)
		snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s",
		    row->rt.exit_reason);
	vm->restarts = (unsigned)row->rt.restarts;
	vm->created_at = row->rt.created_at;
	vm->started_at = row->rt.started_at;
	vm->finished_at = row->rt.finished_at;
	vm->streak = (unsigned)row->rt.streak;
	vm->uid = (uint32_t)row->rt.uid;
	vm_uid_mark(vm);
	/* only an exited VM waits for a restart */
	if (vm->state == VM_EXITED)
		vm->restart_at = row->rt.restart_at;
	vm_table_insert(u, vm);
	return 0;
}

int
vm_init(struct unikd *u, bool boot)
{
	struct vm *vm, *next;
	struct uerr err;

	if ((u->vm_table = calloc(1, sizeof(*u->vm_table))) == NULL ||
	    vm_uid_init(u) == -1 || vm_json_init(u) == -1)
		return -1;
	if (store_vm_foreach(u->store, vm_load_row, u) != 0) {
		log_warnx("loading VMs: %s", store_errmsg(u->store));
		return -1;
	}
	vm_net_init(u);	/* MACs, TAPs of running VMs, GC of the rest */
	TAILQ_FOREACH_SAFE(vm, &u->vms, entry, next) {
		if (vm_is_active(vm))
			vm_run_adopt(vm);
		else if (vm->restart_at != 0)
			vm_run_resume_restart(vm);
		else if (boot && vm->spec.autostart && vm->state != VM_FAILED &&
		    vm->problem[0] == '\0') {
			log_info("vm=%s action=autostart", vm->spec.name);
			if (vm_start(vm, &err) == -1)
				log_warnx("vm=%s action=autostart error=\"%s\"",
				    vm->spec.name, err.message);
		}
	}
	log_info("action=load vms=%zu", u->nvms);
	return 0;
}

void
vm_shutdown(struct unikd *u)
{
	struct vm *vm;

	if (u->vm_table == NULL)
		return;
	vm_json_shutdown(u);
	while ((vm = TAILQ_FIRST(&u->vms)) != NULL) {
		vm_run_detach(vm, false);
		vm_watches_done(vm);
		vm_table_remove(u, vm);
		vm_free(vm);
	}
	free(u->vm_table);
	u->vm_table = NULL;
	vm_net_shutdown(u);
	vm_cgroup_free(u);
	vm_uid_free(u);
}
