/*
 * Per-VM statistics (vm-stats.h). Everything is read when asked: the
 * tender's /proc/PID/stat (one small read) and, for NICs, one dump of
 * every link's IFLA_STATS64 shared by all the VMs of a request.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "host-limits.h"
#include "log.h"
#include "network.h"
#include "unikd.h"
#include "vm-net.h"
#include "vm-stats.h"
#include "vm.h"
#include "vmspec.h"

struct vm_stats_link {
	char name[NB_IFNAMSIZ];
	struct nb_link_stats st;
};

struct vm_stats_links {
	struct unikd *u;
	bool loaded;
	struct vm_stats_link *links; /* sorted by name */
	size_t n, cap;
};

/*
 * /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and
 * parentheses, so fields are counted from the last ')'. utime and stime
 * are fields 14 and 15 (clock ticks), rss field 24 (pages).
 */
static int
vm_stats_parse_stat(const char *text, struct vm_proc_stats *out)
{
	const char *p = strrchr(text, ')');
	unsigned long long utime = 0, stime = 0;
	long long rss = 0;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	int field;
	char *end;

	if (p == NULL || ticks <= 0 || page <= 0)
		goto bad;
	for (field = 2; *p != '\0' && field < 24;) {
		if (*p++ != ' ')
			continue;
		field++;
		if (field == 14)
			utime = strtoull(p, &end, 10);
		else if (field == 15)
			stime = strtoull(p, &end, 10);
		else if (field == 24)
			rss = strtoll(p, &end, 10);
	}
	if (field != 24)
		goto bad;
	out->cpu_user = (double)utime / (double)ticks;
	out->cpu_system = (double)stime / (double)ticks;
	out->rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int
vm_stats_open(pid_t pid)
{
	char path[64];

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* One read of an open stat file, from its start. */
static int
vm_stats_read(int fd, struct vm_proc_stats *out)
{
	char text[1024];
	ssize_t n;

	do
		n = pread(fd, text, sizeof(text) - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		errno = ESRCH;
		return -1;
	}
	text[n] = '\0';
	return vm_stats_parse_stat(text, out);
}

int
vm_stats_proc(pid_t pid, struct vm_proc_stats *out)
{
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if ((fd = vm_stats_open(pid)) == -1) {
		errno = ESRCH;
		return -1;
	}
	rc = vm_stats_read(fd, out);
	close(fd);
	return rc;
}

/*
 * Kept stat files. A /metrics scrape of 1000 VMs spent a third of its
 * time opening and closing /proc/PID/stat (the path walk, the procfs
 * lookup); a kept file is one pread. A file stays bound to its process,
 * so one whose tender was replaced (a restart) or is gone is closed and
 * opened again for the current pid. It is kept only while the open-file
 * budget leaves room for every VM that may still start
 * (limits_fd_keep()); else the file is opened and closed each time.
 */
void
vm_stats_forget(struct vm *vm)
{
	if (vm->stat_fd == -1)
		return;
	close(vm->stat_fd);
	vm->stat_fd = -1;
	limits_fd_unkeep(vm->u);
}

int
vm_stats_proc_vm(struct vm *vm, struct vm_proc_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!vm_is_active(vm) || vm->pid <= 0) {
		vm_stats_forget(vm);
		errno = ESRCH;
		return -1;
	}
	if (vm->stat_fd != -1 && vm->stat_pid == vm->pid &&
	    vm_stats_read(vm->stat_fd, out) == 0)
		return 0;
	vm_stats_forget(vm);
	if (!limits_fd_keep(vm->u))
		return vm_stats_proc(vm->pid, out);
	if ((vm->stat_fd = vm_stats_open(vm->pid)) == -1) {
		limits_fd_unkeep(vm->u);
		errno = ESRCH;
		return -1;
	}
	vm->stat_pid = vm->pid;
	if (vm_stats_read(vm->stat_fd, out) == 0)
		return 0;
	vm_stats_forget(vm);
	errno = ESRCH;
	return -1;
}

struct vm_stats_links *
vm_stats_links_new(struct unikd *u)
{
	struct vm_stats_links *l = calloc(1, sizeof(*l));

	if (l != NULL)
		l->u = u;
	return l;
}

void
vm_stats_links_free(struct vm_stats_links *l)
{
	if (l == NULL)
		return;
	free(l->links);
	free(l);
}

static int
vm_stats_link_add(void *arg, const char *name, const struct nb_link_stats *s)
{
	struct vm_stats_links *l = arg;
	struct vm_stats_link *nl;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap > 0 ? l->cap * 2 : 64;
		if ((nl = realloc(l->links, cap * sizeof(*nl))) == NULL)
			return -1;
		l->links = nl;
		l->cap = cap;
	}
	snprintf(l->links[l->n].name, sizeof(l->links[l->n].name), "%s", name);
	l->links[l->n++].st = *s;
	return 0;
}

static int
vm_stats_link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vm_stats_link *)a)->name,
	    ((const struct vm_stats_link *)b)->name);
}

/* The one dump of a request. */
static void
vm_stats_links_load(struct vm_stats_links *l)
{
	l->loaded = true;
	if (l->u->nb == NULL)
		return;
	if (nb_link_stats_foreach(l->u->nb, vm_stats_link_add, l) != 0) {
		log_warnx(
		    "action=link-stats error=\"%s\"", network_nb_failed(l->u));
		l->n = 0;
		return;
	}
	if (l->n > 0)
		qsort(l->links, l->n, sizeof(*l->links), vm_stats_link_cmp);
}

const struct nb_link_stats *
vm_stats_link_find(struct vm_stats_links *l, const char *name)
{
	struct vm_stats_link key, *found;

	if (l == NULL || name == NULL || name[0] == '\0')
		return NULL;
	if (!l->loaded)
		vm_stats_links_load(l);
	if (l->n == 0)
		return NULL;
	snprintf(key.name, sizeof(key.name), "%s", name);
	found =
	    bsearch(&key, l->links, l->n, sizeof(*l->links), vm_stats_link_cmp);
	return found != NULL ? &found->st : NULL;
}

int
vm_stats_nics_foreach(struct vm *vm, struct vm_stats_links *l,
    int (*cb)(
        void *arg, const struct vm_nic *nic, const struct nb_link_stats *st),
    void *arg)
{
	const struct vm_nic *nic;
	struct nb_link_stats st;
	size_t i;
	int rc;

	for (i = 0; i < vm->spec.nnics; i++) {
		nic = &vm->spec.nics[i];
		if (nic->tap[0] == '\0')
			continue;
		if (nic->netns[0] != '\0')	/* not in this namespace's dump */
			rc = cb(arg, nic,
			    vm_net_ns_stats(nic, &st) == 0 ? &st : NULL);
		else
			rc = cb(arg, nic, vm_stats_link_find(l, nic->tap));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
vm_stats_nic_json(
    void *arg, const struct vm_nic *nic, const struct nb_link_stats *st)
{
	json_t *nics = arg, *o;

	o = nic->netns[0] != '\0'
	    ? json_pack("{s:s, s:n, s:s, s:s}", "name", nic->name, "network",
		  "netns", nic->netns, "tap", nic->tap)
	    : json_pack("{s:s, s:s, s:s}", "name", nic->name, "network",
		  nic->network, "tap", nic->tap);
	if (o == NULL)
		return -1;
	if (st != NULL)
		json_object_update_new(
		    o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		           "rx_bytes", (json_int_t)st->rx_bytes, "rx_packets",
		           (json_int_t)st->rx_packets, "rx_errors",
		           (json_int_t)st->rx_errors, "rx_dropped",
		           (json_int_t)st->rx_dropped, "tx_bytes",
		           (json_int_t)st->tx_bytes, "tx_packets",
		           (json_int_t)st->tx_packets, "tx_errors",
		           (json_int_t)st->tx_errors, "tx_dropped",
		           (json_int_t)st->tx_dropped));
	return json_array_append_new(nics, o);
}

/* The VM's blocks: [{"name", "block", "size", "allocated"}]; size and
 * allocated are null when the file cannot be read. */
static json_t *
vm_stats_blocks_json(struct vm *vm)
{
	struct bb_block_info info;
	char path[4096];
	json_t *blocks = json_array(), *o;
	bool ok;
	size_t i;

	for (i = 0; blocks != NULL && i < vm->spec.nblocks; i++) {
		vm_spec_block_path(
		    &vm->u->cf, vm->spec.blocks[i].block, path, sizeof(path));
		ok = bb_block_stat(path, &info) == 0;
		o = json_pack("{s:s, s:s, s:o, s:o}", "name",
		    vm->spec.blocks[i].name, "block", vm->spec.blocks[i].block,
		    "size",
		    ok ? json_integer((json_int_t)info.size) : json_null(),
		    "allocated",
		    ok ? json_integer((json_int_t)info.allocated)
		       : json_null());
		json_array_append_new(blocks, o);
	}
	return blocks != NULL ? blocks : json_array();
}

struct vm_stats_block_walk {
	struct unikd *u;
	int (*cb)(void *arg, const char *block, const struct bb_block_info *);
	void *arg;
};

static int
vm_stats_block_row(void *arg, const char *name, const char *spec)
{
	struct vm_stats_block_walk *w = arg;
	struct bb_block_info info;
	char path[4096];

	(void)spec;
	vm_spec_block_path(&w->u->cf, name, path, sizeof(path));
	if (bb_block_stat(path, &info) == -1)
		return 0;
	return w->cb(w->arg, name, &info);
}

int
vm_stats_blocks_foreach(struct unikd *u,
    int (*cb)(void *arg, const char *block, const struct bb_block_info *),
    void *arg)
{
	struct vm_stats_block_walk w = {u, cb, arg};

	return store_block_foreach(u->store, vm_stats_block_row, &w);
}

/* The tender's CPU time and RSS, null when it does not run. */
static void
vm_stats_proc_json(struct vm *vm, json_t *o)
{
	struct vm_proc_stats ps;
	bool have = vm_stats_proc_vm(vm, &ps) == 0;

	json_object_set_new(
	    o, "cpu_user_seconds", have ? json_real(ps.cpu_user) : json_null());
	json_object_set_new(o, "cpu_system_seconds",
	    have ? json_real(ps.cpu_system) : json_null());
	json_object_set_new(o, "memory_rss_bytes",
	    have ? json_integer((json_int_t)ps.rss_bytes) : json_null());
}

json_t *
vm_stats_json(struct vm *vm, struct vm_stats_links *l)
{
	bool active = vm_is_active(vm) && vm->started_at > 0;
	json_t *o, *nics;

	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:o, s:o}", "name",
	    vm->spec.name, "tender", vm->spec.tender, "state",
	    vm_state_label(vm), "pid",
	    vm->pid > 0 ? json_integer(vm->pid) : json_null(), "uptime_seconds",
	    active ? json_integer(time(NULL) - vm->started_at) : json_null(),
	    "restarts", (json_int_t)vm->restarts, "exit_status",
	    vm->exit_status >= 0 ? json_integer(vm->exit_status) : json_null(),
	    "exit_reason",
	    vm->exit_reason[0] != '\0' ? json_string(vm->exit_reason)
	                               : json_null());
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "restart_at",
	    unikd_json_time(vm->restart_at / 1000));
	vm_stats_proc_json(vm, o);
	nics = json_array();
	if (nics != NULL)
		vm_stats_nics_foreach(vm, l, vm_stats_nic_json, nics);
	json_object_set_new(o, "nics", nics != NULL ? nics : json_array());
	json_object_set_new(o, "blocks", vm_stats_blocks_json(vm));
	return o;
}
