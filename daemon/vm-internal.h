/* What vm.c, vm-run.c and vm-console.c share; not for other modules. */
#ifndef UNIKD_VM_INTERNAL_H
#define UNIKD_VM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "vm.h"

/* run_dir/vm/NAME.sock, run_dir/vm/NAME.exit, state_dir/vms/NAME,
 * state_dir/vms/NAME/console.log */
void vm_path_socket(const struct vm *, char *buf, size_t len);
void vm_path_exit(const struct vm *, char *buf, size_t len);
void vm_path_dir(const struct vm *, char *buf, size_t len);
void vm_path_console(const struct vm *, char *buf, size_t len);

/* The runtime part of the VM, as the store keeps it (rt zeroed first,
 * padding too; exit_reason points into vm). */
struct store_vm_runtime;
void vm_runtime(const struct vm *, struct store_vm_runtime *rt);
/* Writes the runtime part of the VM to the store. */
void vm_save(struct vm *);
/* Stores the VM as starting: the intent of a start, on disk before
 * its monitor is spawned (vm-run.c). */
int vm_save_starting(struct vm *);
/* Calls every watch's done and detaches them all. */
void vm_watches_done(struct vm *);

/* vm-json.c: drops the VM's JSON text (its definition changed, or it
 * is freed). */
void vm_json_forget(struct vm *);
/* Starts (and stops) remaking stale texts when the loop is idle. */
int vm_json_init(struct unikd *);
void vm_json_shutdown(struct unikd *);

/* vm-problem.c */
struct store_vm_row;
/* Fills vm->spec from a stored definition (def may be NULL: unreadable),
 * setting vm->problem when it no longer validates; -1 when out of
 * memory. */
int vm_problem_load(struct vm *, const struct store_vm_row *row,
    json_t *def);
/* Before a start: checks a VM with a problem again; 0 when there is
 * none (any more), else -1 with e saying why (422). */
int vm_problem_recheck(struct vm *, struct uerr *e);

/* vm-uid.c */
int vm_uid_init(struct unikd *);
void vm_uid_free(struct unikd *);
/* Marks the uid a loaded VM holds. */
void vm_uid_mark(struct vm *);
/* Gives the VM a free uid of the range unless it holds one (409 when
 * none is free); with no range, makes it a tender_user VM. */
int vm_uid_take(struct vm *, struct uerr *e);
void vm_uid_release(struct vm *);

/* vm-run.c */
/* Builds the tender command once, to refuse a definition the driver
 * cannot run before anything is stored. */
int vm_run_check(struct vm *, struct uerr *e);
/* 503 unless a start fits in the open-file budget (host-limits.c). */
int vm_run_fits(struct vm *, struct uerr *e);
/* Spawns the monitor for a start; e filled on failure. */
int vm_run_spawn(struct vm *, struct uerr *e);
/* Connects to the monitor of a VM the store says is active. */
void vm_run_adopt(struct vm *);
/* vm-exit.c: the tender is gone (wstatus as from waitpid, reason NULL or
 * why unikd knows no better): records it and applies the restart policy. */
void vm_exited(struct vm *, int wstatus, int64_t finished_at,
    const char *reason);
/* Arms the timer of a restart the store says is pending (restart_at). */
void vm_run_resume_restart(struct vm *);
/* Ends the VM's monitor connection; the tender keeps running, and
 * when kill is true it is sent SIGKILL and its exit record removed. */
void vm_run_detach(struct vm *, bool kill);
void vm_timer_cancel(struct vm *);
/* Arms the VM's one timer (stop timeout or restart delay) for ms. */
void vm_timer_set(struct vm *, void (*cb)(int, short, void *), unsigned ms);

/* vm-control.c: drivers with nic_by_fd, control_suffix or stop */
struct tender_driver;
struct tender_cmd;
/* run_dir/vm/NAME.SUFFIX for the driver's control socket, or "". */
void vm_path_control(const struct vm *, char *buf, size_t len);
/* Adds the NICs' TAP fds (duplicated from nic_fds) and a new listening
 * control socket to cmd, as the driver takes them. */
int vm_control_start(struct vm *, const struct tender_driver *,
    struct tender_cmd *cmd, const int *nic_fds, struct uerr *e);
void vm_control_remove(struct vm *);
/* The driver's stop through the control socket, on the event loop: 0
 * once under way (should it fail later, the signal is sent then), -1
 * when the driver has none or it cannot start (then signals will do). */
int vm_control_stop(struct vm *, bool force);
/* Ends a stop under way on the control socket, if any, without its
 * fallback. */
void vm_control_cancel(struct vm *);

/* vm-console.c */
/* Removes the console log files and the VM's state directory. */
void vm_console_remove(struct vm *);
/* The console log file n: console.log (n = 0) or console.log.N. */
void vm_console_file(const struct vm *, unsigned n, char *buf, size_t len);

#endif
