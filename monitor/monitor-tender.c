/*
 * unikd-monitor's start of the tender: the spec from unikd (MON_SPEC with
 * the device fds), then clone(CLONE_VM|CLONE_VFORK), fds at their target
 * numbers, CPU affinity, the tender user's uid/gid, no_new_privs, and
 * exec. A child that cannot exec leaves the stage and errno in the memory
 * it shares with the monitor, so the monitor can tell unikd why the tender
 * did not start.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "monitor-internal.h"
#include "monitor-io.h"

/* What the tender child reports on the error pipe when it cannot exec. */
enum tender_stage {
	STAGE_EXEC,
	STAGE_AFFINITY,
	STAGE_FDS,
	STAGE_CREDS,
	STAGE_PRIVS,
	STAGE_NETNS,
	STAGE_CGROUP,
};

struct tender_failure {
	int stage;
	int err;
};

static const char *const tender_stage_names[] = {
    [STAGE_EXEC] = "exec",
    [STAGE_AFFINITY] = "cannot set CPU affinity",
    [STAGE_FDS] = "cannot set up fds",
    [STAGE_CREDS] = "cannot change uid/gid",
    [STAGE_PRIVS] = "cannot set no_new_privs/pdeathsig",
    [STAGE_NETNS] = "cannot join the network namespace",
    [STAGE_CGROUP] = "cannot join its cgroup",
};

/* Fills an array of strings pointing into the JSON; NULL-terminated. */
static char **
spec_strings(json_t *arr)
{
	char **v;
	size_t i;

	if (!json_is_array(arr) ||
	    (v = calloc(json_array_size(arr) + 1, sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < json_array_size(arr); i++) {
		if (!json_is_string(json_array_get(arr, i))) {
			free(v);
			return NULL;
		}
		v[i] = (char *)json_string_value(json_array_get(arr, i));
	}
	return v;
}

static int
spec_ints(json_t *arr, int *out, size_t max, size_t *n, int lo, int hi)
{
	json_int_t v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) > max)
		return -1;
	for (i = 0; i < json_array_size(arr); i++) {
		if (!json_is_integer(json_array_get(arr, i)))
			return -1;
		v = json_integer_value(json_array_get(arr, i));
		if (v < lo || v > hi)
			return -1;
		out[i] = (int)v;
	}
	*n = i;
	return 0;
}

/* The supplementary groups: an array of gids, absent for none. */
static int
spec_groups(json_t *arr, struct mon_spec *sp)
{
	json_t *v;
	json_int_t g;
	size_t i;

	sp->ngroups = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > MON_MAX_GROUPS)
		return -1;
	json_array_foreach(arr, i, v) {
		g = json_integer_value(v);
		if (!json_is_integer(v) || g < 0 || g > UINT32_MAX - 1)
			return -1;
		sp->groups[sp->ngroups++] = (gid_t)g;
	}
	return 0;
}

static int
spec_parse(struct mon_spec *sp, const char *text, size_t len, size_t nfds,
    char *err, size_t errlen)
{
	json_t *argv, *env, *fds, *cpus, *groups = NULL;
	json_int_t uid, gid, cmax, cfiles, ncg = 0;
	int netns = 0;
	int cpu[CPU_SETSIZE];
	size_t i, j, n;

	sp->netns_fd = -1;
	sp->json = json_loadb(text, len, 0, NULL);
	if (json_unpack(sp->json,
	        "{s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:s,"
	        " s:I, s:I, s:s, s:s, s?o, s?b, s?I}",
	        "vm", &sp->vm, "argv", &argv, "env", &env, "fds", &fds, "uid",
	        &uid, "gid", &gid, "cpus", &cpus, "console", &sp->console,
	        "console_max", &cmax, "console_files", &cfiles, "socket",
	        &sp->socket, "exit_file", &sp->exit_file, "groups",
	        &groups, "netns", &netns, "cgroups", &ncg) == -1)
		goto bad;
	if (ncg < 0 || ncg > MON_MAX_FDS)
		goto bad;
	if (spec_groups(groups, sp) == -1)
		goto bad;
	sp->argv = spec_strings(argv);
	sp->env = spec_strings(env);
	if (sp->argv == NULL || sp->argv[0] == NULL || sp->argv[0][0] == '\0' ||
	    sp->env == NULL || uid < 0 || uid > UINT32_MAX - 1 || gid < 0 ||
	    gid > UINT32_MAX - 1 || cmax < 0 || cfiles < 0 || cfiles > 1000)
		goto bad;
	if (spec_ints(fds, sp->targets, MON_MAX_FDS, &n, 3, MON_MAX_TARGET) ||
	    n + (netns ? 1 : 0) + (size_t)ncg != nfds)
		goto bad;
	sp->netns_fd = netns ? sp->fds[n] : -1;
	sp->ncgroups = (size_t)ncg;
	for (i = 0; i < sp->ncgroups; i++)
		sp->cgroup_fds[i] = sp->fds[n + (netns ? 1 : 0) + i];
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (sp->targets[i] == sp->targets[j])
				goto bad;
	if (spec_ints(cpus, cpu, CPU_SETSIZE, &sp->ncpus, 0, CPU_SETSIZE - 1))
		goto bad;
	CPU_ZERO(&sp->cpus);
	for (i = 0; i < sp->ncpus; i++)
		CPU_SET(cpu[i], &sp->cpus);
	sp->nfds = n;
	sp->uid = (uid_t)uid;
	sp->gid = (gid_t)gid;
	sp->console_max = (uint64_t)cmax;
	sp->console_files = (unsigned)cfiles;
	return 0;
bad:
	snprintf(err, errlen, "invalid spec (%zu fds received)", nfds);
	return -1;
}

int
mon_spec_recv(struct mon_spec *sp, char *err, size_t errlen)
{
	char buf[MON_MSG_MAX];
	size_t nfds;
	ssize_t n;

	n = mon_io_recv(MON_SPEC_FD, buf, sizeof(buf), sp->fds, MON_MAX_FDS,
	    &nfds);
	if (n == -1 && errno == EMSGSIZE) {
		snprintf(err, errlen, "invalid spec message");
		return -1;
	}
	if (n <= 0) {
		snprintf(err, errlen, "cannot receive spec: %s",
		    n == 0 ? "connection closed" : strerror(errno));
		return -1;
	}
	if (buf[0] != MON_SPEC) {
		snprintf(err, errlen, "invalid spec message");
		return -1;
	}
	return spec_parse(sp, buf + 1, (size_t)n - 1, nfds, err, errlen);
}

/* What the tender child shares with the monitor (same memory). */
struct tender_start {
	const struct mon_spec *sp;
	int out_w;
	pid_t monitor;
	struct tender_failure f; /* set by a child that cannot exec */
};

/*
 * In the child: puts the devices at their targets, /dev/null on stdin,
 * the console pipe on stdout and stderr, and closes the rest (the child
 * has a table of fds of its own: no CLONE_FILES).
 */
static int
tender_fds(const struct mon_spec *sp, int out_w)
{
	int src[MON_MAX_FDS], top = 2, nul, out, fd;
	size_t i;

	for (i = 0; i < sp->nfds; i++)
		if (sp->targets[i] > top)
			top = sp->targets[i];
	/* Everything moves above the targets first, so no dup2 below
	 * overwrites an fd still to be placed. */
	if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    (nul = fcntl(nul, F_DUPFD_CLOEXEC, top + 1)) == -1 ||
	    (out = fcntl(out_w, F_DUPFD_CLOEXEC, top + 1)) == -1)
		return -1;
	for (i = 0; i < sp->nfds; i++)
		if ((src[i] = fcntl(sp->fds[i], F_DUPFD_CLOEXEC, top + 1)) ==
		    -1)
			return -1;
	for (i = 0; i < sp->nfds; i++)
		if (dup2(src[i], sp->targets[i]) == -1)
			return -1;
	if (dup2(nul, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1)
		return -1;
	for (fd = 3; fd <= top; fd++) {
		for (i = 0; i < sp->nfds && sp->targets[i] != fd; i++)
			;
		if (i == sp->nfds)
			close(fd);
	}
	mon_io_close_from(top + 1);
	return 0;
}

/* Joins the cgroups (writing "0" to cgroup.procs moves the writer). */
static int
tender_cgroups(const struct mon_spec *sp)
{
	size_t i;
	int fd;

	for (i = 0; i < sp->ncgroups; i++) {
		if ((fd = openat(sp->cgroup_fds[i], "cgroup.procs",
		    O_WRONLY | O_CLOEXEC)) == -1)
			return -1;
		if (write(fd, "0", 1) != 1) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

/*
 * The child runs on tender_stack, not on a thread's stack: ASan's
 * instrumentation, which unpoisons "the stack" before a call that does
 * not return, would warn that it cannot tell which stack that is. These
 * two functions only make system calls, so they go uninstrumented.
 */
#define TENDER_CHILD __attribute__((no_sanitize_address))

static TENDER_CHILD __attribute__((noreturn)) void
tender_fail(struct tender_start *ts, int stage)
{
	ts->f.stage = stage;
	ts->f.err = errno;
	_exit(127);
}

/*
 * The tender child, between clone and exec. It shares the monitor's
 * memory (CLONE_VM) while the monitor waits (CLONE_VFORK), so it makes
 * raw system calls for the credentials: glibc's set*id() wrappers may
 * try to reach other threads. A failure is left in ts->f.
 */
static TENDER_CHILD int
tender_child(void *arg)
{
	struct tender_start *ts = arg;
	const struct mon_spec *sp = ts->sp;
	struct rlimit rl;
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setpgid(0, 0);
	if (sp->ncpus > 0 &&
	    sched_setaffinity(0, sizeof(sp->cpus), &sp->cpus) == -1)
		tender_fail(ts, STAGE_AFFINITY);
	/* While still root: joining needs CAP_SYS_ADMIN, and moving into a
	 * cgroup write access that the tender user does not have. */
	if (tender_cgroups(sp) == -1)
		tender_fail(ts, STAGE_CGROUP);
	if (sp->netns_fd != -1 && setns(sp->netns_fd, CLONE_NEWNET) == -1)
		tender_fail(ts, STAGE_NETNS);
	if (tender_fds(sp, ts->out_w) == -1)
		tender_fail(ts, STAGE_FDS);
	/* unikd raised its open-file limit, and so the monitor's; the
	 * tender gets the customary soft limit (select() needs fds below
	 * FD_SETSIZE). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > FD_SETSIZE) {
		rl.rlim_cur = FD_SETSIZE;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (geteuid() == 0 &&
	    (syscall(SYS_setgroups, sp->ngroups,
	         sp->ngroups > 0 ? sp->groups : NULL) == -1 ||
	        syscall(SYS_setgid, sp->gid) == -1 ||
	        syscall(SYS_setuid, sp->uid) == -1))
		tender_fail(ts, STAGE_CREDS);
	/* After the uid change, which clears the parent-death signal. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		tender_fail(ts, STAGE_PRIVS);
	if (getppid() != ts->monitor)
		_exit(127); /* the monitor died already */
	execve(sp->argv[0], sp->argv, sp->env);
	tender_fail(ts, STAGE_EXEC);
}

/* The child's stack: one tender per monitor, started once. */
static char tender_stack[64 * 1024] __attribute__((aligned(16)));

int
mon_tender_start(struct mon *m, char *err, size_t errlen)
{
	struct tender_start ts = {.sp = &m->spec,
	    .monitor = getpid(),
	    .f = {.stage = -1}};
	sigset_t all, old;
	int out[2];
	size_t i;

	if (pipe2(out, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	ts.out_w = out[1];
	m->started_at = time(NULL);
	/* No signal handler may run in the child, on shared memory. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	/* Like vfork: the monitor's memory is not copied, and clone()
	 * returns once the child exec'd or exited. */
	m->pid = clone(tender_child, tender_stack + sizeof(tender_stack),
	    CLONE_VM | CLONE_VFORK | SIGCHLD, &ts);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (m->pid == -1) {
		snprintf(err, errlen, "clone: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		return -1;
	}
	close(out[1]);
	for (i = 0; i < m->spec.nfds; i++)
		close(m->spec.fds[i]);
	if (m->spec.netns_fd != -1)
		close(m->spec.netns_fd);
	for (i = 0; i < m->spec.ncgroups; i++)
		close(m->spec.cgroup_fds[i]);
	m->pipe_fd = out[0];
	fcntl(m->pipe_fd, F_SETFL, O_NONBLOCK);
	if (ts.f.stage == -1)
		return 0;
	waitpid(m->pid, NULL, 0);
	if (ts.f.stage == STAGE_EXEC)
		snprintf(err, errlen, "cannot start %s: %s", m->spec.argv[0],
		    strerror(ts.f.err));
	else
		snprintf(err, errlen, "cannot start %s: %s: %s",
		    m->spec.argv[0], tender_stage_names[ts.f.stage],
		    strerror(ts.f.err));
	return -1;
}
