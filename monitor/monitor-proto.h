/*
 * The protocol between unikd and unikd-monitor.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, one message per packet, at most
 * MON_MSG_MAX bytes. The first byte is the message type; the rest is the
 * payload (JSON text, or raw bytes for MON_OUTPUT).
 *
 * unikd starts a monitor by posix_spawn'ing unikd-monitor, which forks
 * and lets its first process exit (so the monitor is reparented at once
 * and never unikd's child), with one end of a socketpair as fd
 * MON_SPEC_FD; or, the same without an exec, by sending that end to its
 * zygote (`unikd-monitor --zygote`, monitor-zygote.c), whose child goes
 * on as the exec'd process would. The first packet on it is MON_SPEC,
 * carrying the devices as SCM_RIGHTS fds in the order of "fds". That
 * socketpair then stays open as unikd's first connection; a restarted
 * unikd connects again to the per-VM listening socket named in the spec.
 *
 * monitor -> unikd:
 *   MON_HELLO  {"vm": s, "pid": n, "monitor_pid": n, "started_at": n}
 *              once the tender was exec'd, and to each new connection
 *   MON_ERROR  {"error": s}  the tender could not be started; the monitor
 *              exits after sending it (and writes no exit file)
 *   MON_OUTPUT raw console bytes, as appended to the console log
 *   MON_EXIT   {"pid": n, "wstatus": n, "finished_at": n}
 *              the tender was reaped; the same JSON was first written
 *              (tmp + rename) to the exit file; the monitor then unlinks
 *              its socket and exits
 * unikd -> monitor:
 *   MON_SPEC   (first packet only) {"vm": s, "argv": [s], "env": [s],
 *              "fds": [target fd numbers], "uid": n, "gid": n,
 *              "groups": [n] (the tender's supplementary groups; empty
 *              or absent: none), "cpus": [n] (may be empty), "console": path,
 *              "console_max": n, "console_files": n, "socket": path,
 *              "exit_file": path, "netns"?: true, "cgroups"?: n}
 *              After the fds of "fds" come, when "netns" is true, a
 *              network namespace the tender is made to join (setns), then
 *              "cgroups" cgroup directories it joins (cgroup.procs),
 *              both before it leaves root.
 *   MON_SIGNAL {"signal": n}  sent to the tender's process group
 * unikd -> zygote (its own socketpair, at the zygote's MON_SPEC_FD):
 *   MON_FORK   the VM's name (raw bytes, at most MON_TITLE_MAX, for the
 *              process title), with the spec socket as one SCM_RIGHTS fd
 *
 * Times are unix seconds. wstatus is the raw status from waitpid().
 */
#ifndef UNIKD_MONITOR_PROTO_H
#define UNIKD_MONITOR_PROTO_H

#define MON_MSG_MAX 65536
#define MON_MAX_FDS 64
#define MON_SPEC_FD 3
#define MON_MAX_GROUPS 64	/* supplementary groups of a tender */
#define MON_TITLE_MAX 255	/* a MON_FORK's name */

enum mon_msg_type {
	MON_SPEC = 'S',
	MON_HELLO = 'H',
	MON_ERROR = 'E',
	MON_OUTPUT = 'O',
	MON_EXIT = 'X',
	MON_SIGNAL = 'K',
	MON_FORK = 'F',
};

#endif
