/*
 * unikctl stats: CPU time, CPU use, RSS and network traffic of VMs
 * (GET /v1/vms/NAME/stats, or GET /v1/stats for all running VMs). With
 * --watch the table is redrawn every 2 seconds, like `docker stats`,
 * until interrupted; CPU % needs two samples, so it shows from the
 * second one.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define STATS_PERIOD_MS 2000
#define STATS_NCOLS 9

/* The last sample of each VM, for CPU %. */
struct stats_prev {
	char name[64];
	double cpu;   /* user + system seconds */
	double taken; /* monotonic seconds */
};

struct stats_watch {
	struct stats_prev *prev;
	size_t nprev;
	int all; /* -a: every VM, not just the active ones */
};

static volatile sig_atomic_t stats_stop;

static void
stats_sigint(int sig)
{
	(void)sig;
	stats_stop = 1;
}

static double
stats_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1536 -> "1.5KiB" */
static void
stats_bytes(char *buf, size_t size, double v)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u == 0 ? "%.0f%s" : "%.1f%s", v, unit[u]);
}

static double
stats_num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* Sums a NIC counter over the VM's NICs; -1 when it has none. */
static double
stats_nic_sum(const json_t *vm, const char *key)
{
	const json_t *nics = json_object_get(vm, "nics"), *nic;
	double sum = -1;
	size_t i;

	json_array_foreach(nics, i, nic)
	{
		if (json_object_get(nic, key) == NULL)
			continue;
		sum = (sum < 0 ? 0 : sum) + stats_num(nic, key);
	}
	return sum;
}

/* CPU % since the previous sample of the VM; remembers this one. */
static void
stats_cpu_pct(
    struct stats_watch *w, const char *name, double cpu, char *buf, size_t size)
{
	double now = stats_clock();
	struct stats_prev *p = NULL, *np;
	size_t i;

	snprintf(buf, size, "-");
	for (i = 0; i < w->nprev; i++)
		if (strcmp(w->prev[i].name, name) == 0)
			p = &w->prev[i];
	if (p != NULL && now > p->taken && cpu >= p->cpu)
		snprintf(buf, size, "%.1f%%",
		    100.0 * (cpu - p->cpu) / (now - p->taken));
	if (p == NULL) {
		np = realloc(w->prev, (w->nprev + 1) * sizeof(*np));
		if (np == NULL)
			return;
		w->prev = np;
		p = &w->prev[w->nprev++];
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
	p->cpu = cpu;
	p->taken = now;
}

static void
stats_row(struct ctl_table *t, struct stats_watch *w, const json_t *vm)
{
	char up[24] = "-", cpu[24] = "-", pct[24] = "-", rss[24] = "-";
	char rx[24] = "-", tx[24] = "-", restarts[24], state[48];
	const char *row[STATS_NCOLS];
	const json_t *u = json_object_get(vm, "uptime_seconds");
	double c, n;

	if (json_is_integer(u))
		ctl_duration(up, sizeof(up), (long long)json_integer_value(u));
	if (json_is_number(json_object_get(vm, "cpu_user_seconds"))) {
		c = stats_num(vm, "cpu_user_seconds") +
		    stats_num(vm, "cpu_system_seconds");
		snprintf(cpu, sizeof(cpu), "%.2fs", c);
		stats_cpu_pct(w, ctl_jstr(vm, "name"), c, pct, sizeof(pct));
	}
	if (json_is_integer(json_object_get(vm, "memory_rss_bytes")))
		stats_bytes(
		    rss, sizeof(rss), stats_num(vm, "memory_rss_bytes"));
	if ((n = stats_nic_sum(vm, "rx_bytes")) >= 0)
		stats_bytes(rx, sizeof(rx), n);
	if ((n = stats_nic_sum(vm, "tx_bytes")) >= 0)
		stats_bytes(tx, sizeof(tx), n);
	snprintf(restarts, sizeof(restarts), "%lld",
	    (long long)json_integer_value(json_object_get(vm, "restarts")));
	row[0] = ctl_jstr(vm, "name");
	ctl_state_cell(state, sizeof(state), vm);
	row[1] = state;
	row[2] = up;
	row[3] = cpu;
	row[4] = pct;
	row[5] = rss;
	row[6] = rx;
	row[7] = tx;
	row[8] = restarts;
	ctl_table_add(t, row);
}

static void
stats_print(struct stats_watch *w, const json_t *vms)
{
	static const char *const header[STATS_NCOLS] = {"NAME", "STATE",
	    "UPTIME", "CPU TIME", "CPU %", "RSS", "NET RX", "NET TX",
	    "RESTARTS"};
	struct ctl_table *t;
	const json_t *vm;
	size_t i;

	if ((t = ctl_table_new(STATS_NCOLS, header)) == NULL)
		return;
	json_array_foreach(vms, i, vm)
	{
		if (w->all || json_array_size(vms) == 1 || ctl_state_live(ctl_jstr(vm, "state")))
			stats_row(t, w, vm);
	}
	ctl_table_print(t, stdout);
	ctl_table_free(t);
}

/* One sample: fetched, then printed as a table or JSON. */
static int
stats_once(struct ctl *c, struct stats_watch *w, const char *path, int one)
{
	json_t *reply, *vms;
	int rc;

	if ((rc = ctl_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	if (c->ctl_json) {
		ctl_print_json(reply);
	} else if (one) {
		vms = json_array();
		json_array_append(vms, reply);
		stats_print(w, vms);
		json_decref(vms);
	} else
		stats_print(w, json_object_get(reply, "vms"));
	fflush(stdout);
	json_decref(reply);
	return CTL_EXIT_OK;
}

/* Redraws every STATS_PERIOD_MS until SIGINT or SIGTERM. */
static int
stats_watch(struct ctl *c, struct stats_watch *w, const char *path, int one)
{
	struct timespec period = {
	    STATS_PERIOD_MS / 1000, (STATS_PERIOD_MS % 1000) * 1000000L};
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stats_sigint;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stats_stop) {
		if (!c->ctl_json)
			fputs("\033[H\033[2J", stdout); /* home, clear */
		if ((rc = stats_once(c, w, path, one)) != CTL_EXIT_OK)
			return rc;
		if (nanosleep(&period, NULL) == -1 && errno != EINTR)
			break;
	}
	return CTL_EXIT_OK;
}

static int
stats_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"watch", no_argument, NULL, 'w'},
	    {NULL, 0, NULL, 0},
	};
	struct stats_watch w = {0};
	char path[512] = "/v1/stats";
	int ch, watch = 0, rc;

	while ((ch = getopt_long(argc, argv, ":aw", opts, NULL)) != -1) {
		if (ch == 'a')
			w.all = 1;
		else if (ch == 'w')
			watch = 1;
		else
			return ctl_bad_option(&ctl_cmd_stats, ch, argv);
	}
	if (optind + 1 < argc)
		return ctl_usage_error(&ctl_cmd_stats, "only one VM, please");
	if (optind < argc &&
	    ctl_vm_path(path, sizeof(path), argv[optind], "/stats") == -1)
		return CTL_EXIT_FAIL;
	if (watch)
		rc = stats_watch(c, &w, path, optind < argc);
	else
		rc = stats_once(c, &w, path, optind < argc);
	free(w.prev);
	return rc;
}

const struct ctl_cmd ctl_cmd_stats = {
    .name = "stats",
    .usage = "[-a] [-w] [VM]",
    .summary = "show CPU, memory and network use of VMs (-w: watch)",
    .help = "  -a, --all            every VM, not only running and restarting\n"
	    "  -w, --watch          redraw every 2 s until interrupted\n",
    .exec = stats_exec,
};
