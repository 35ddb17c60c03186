/*
 * GET /metrics, the per-object series (see api-metrics.c): per VM (state,
 * restarts, CPU time, RSS, uptime), per NIC (the counters of its TAP, from
 * one link dump for the whole scrape) and per block file (size, allocated).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "api-internal.h"
#include "unikd.h"
#include "vm-stats.h"
#include "vm.h"

/* Per-VM facts gathered once per scrape. */
struct api_metrics_vm {
	struct vm *vm;
	bool proc; /* ps is valid */
	struct vm_proc_stats ps;
};

static void
api_metrics_vm_state(
    struct evbuffer *b, const struct api_metrics_vm *vms, size_t n)
{
	const char *l[7] = {"vm", NULL, "tender", NULL, "state", NULL, NULL};
	size_t i;

	api_metrics_head(b, "unikd_vm_info", "gauge",
	    "A VM defined on this host, with its tender and state.");
	for (i = 0; i < n; i++) {
		l[1] = vms[i].vm->spec.name;
		l[3] = vms[i].vm->spec.tender;
		l[5] = vm_state_label(vms[i].vm);
		api_metrics_int(b, "unikd_vm_info", l, 1);
	}
	l[2] = NULL;
	api_metrics_head(b, "unikd_vm_up", "gauge",
	    "1 when the VM's tender is running, else 0.");
	for (i = 0; i < n; i++) {
		l[1] = vms[i].vm->spec.name;
		api_metrics_int(
		    b, "unikd_vm_up", l, vms[i].vm->state == VM_RUNNING);
	}
	api_metrics_head(b, "unikd_vm_restarts_total", "counter",
	    "Restarts made under the VM's restart policy.");
	for (i = 0; i < n; i++) {
		l[1] = vms[i].vm->spec.name;
		api_metrics_int(
		    b, "unikd_vm_restarts_total", l, vms[i].vm->restarts);
	}
}

static void
api_metrics_vm_proc(
    struct evbuffer *b, const struct api_metrics_vm *vms, size_t n)
{
	const char *l[5] = {"vm", NULL, "mode", NULL, NULL};
	time_t now = time(NULL);
	size_t i;

	api_metrics_head(b, "unikd_vm_cpu_seconds_total", "counter",
	    "CPU time of the VM's tender process, by mode.");
	for (i = 0; i < n; i++) {
		if (!vms[i].proc)
			continue;
		l[1] = vms[i].vm->spec.name;
		l[3] = "user";
		api_metrics_real(
		    b, "unikd_vm_cpu_seconds_total", l, vms[i].ps.cpu_user);
		l[3] = "system";
		api_metrics_real(
		    b, "unikd_vm_cpu_seconds_total", l, vms[i].ps.cpu_system);
	}
	l[2] = NULL;
	api_metrics_head(b, "unikd_vm_memory_rss_bytes", "gauge",
	    "Resident memory of the VM's tender process.");
	for (i = 0; i < n; i++) {
		if (!vms[i].proc)
			continue;
		l[1] = vms[i].vm->spec.name;
		api_metrics_int(
		    b, "unikd_vm_memory_rss_bytes", l, vms[i].ps.rss_bytes);
	}
	api_metrics_head(b, "unikd_vm_uptime_seconds", "gauge",
	    "Seconds since the VM's tender started, for active VMs.");
	for (i = 0; i < n; i++) {
		if (!vm_is_active(vms[i].vm) || vms[i].vm->started_at == 0)
			continue;
		l[1] = vms[i].vm->spec.name;
		api_metrics_int(b, "unikd_vm_uptime_seconds", l,
		    (uint64_t)(now - vms[i].vm->started_at));
	}
}

/* The NICs with counters, each looked up once for all the families. */
struct api_metrics_nic {
	const char *vm;
	const struct vm_nic *nic;
	struct nb_link_stats st;
};

struct api_metrics_nic_set {
	struct api_metrics_nic *v;
	size_t n, cap;
	const char *vm;
};

static int
api_metrics_nic_add(
    void *arg, const struct vm_nic *nic, const struct nb_link_stats *st)
{
	struct api_metrics_nic_set *s = arg;
	struct api_metrics_nic *nv;
	size_t cap;

	if (st == NULL)
		return 0;
	if (s->n == s->cap) {
		cap = s->cap > 0 ? s->cap * 2 : 64;
		if ((nv = reallocarray(s->v, cap, sizeof(*nv))) == NULL)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n].vm = s->vm;
	s->v[s->n].nic = nic;
	s->v[s->n++].st = *st;
	return 0;
}

#define NIC_FAMILY(n, f, h)                                                    \
	{                                                                      \
		n, offsetof(struct nb_link_stats, f), h                        \
	}

static const struct {
	const char *name;
	size_t off;
	const char *help;
} api_metrics_nic_families[] = {
    NIC_FAMILY("unikd_nic_receive_bytes_total", rx_bytes,
        "Bytes received on the NIC's TAP (sent by the guest)."),
    NIC_FAMILY("unikd_nic_receive_packets_total", rx_packets,
        "Packets received on the NIC's TAP (sent by the guest)."),
    NIC_FAMILY("unikd_nic_receive_errors_total", rx_errors,
        "Receive errors on the NIC's TAP."),
    NIC_FAMILY("unikd_nic_receive_dropped_total", rx_dropped,
        "Packets dropped on receive on the NIC's TAP."),
    NIC_FAMILY("unikd_nic_transmit_bytes_total", tx_bytes,
        "Bytes transmitted on the NIC's TAP (towards the guest)."),
    NIC_FAMILY("unikd_nic_transmit_packets_total", tx_packets,
        "Packets transmitted on the NIC's TAP (towards the guest)."),
    NIC_FAMILY("unikd_nic_transmit_errors_total", tx_errors,
        "Transmit errors on the NIC's TAP."),
    NIC_FAMILY("unikd_nic_transmit_dropped_total", tx_dropped,
        "Packets dropped on transmit on the NIC's TAP (guest too slow)."),
};

static int
api_metrics_nics(struct evbuffer *b, struct api_metrics_vm *vms, size_t n,
    struct vm_stats_links *links)
{
	struct api_metrics_nic_set s = {0};
	const struct api_metrics_nic *nic;
	const char *l[7] = {"vm", NULL, "nic", NULL, "network", NULL, NULL};
	const char *name;
	uint64_t v;
	size_t i, k;

	for (i = 0; i < n; i++) {
		s.vm = vms[i].vm->spec.name;
		if (vm_stats_nics_foreach(
		    vms[i].vm, links, api_metrics_nic_add, &s) != 0) {
			free(s.v);
			return -1;
		}
	}
	for (k = 0; k < sizeof(api_metrics_nic_families) /
	                    sizeof(api_metrics_nic_families[0]);
	     k++) {
		name = api_metrics_nic_families[k].name;
		api_metrics_head(
		    b, name, "counter", api_metrics_nic_families[k].help);
		for (i = 0; i < s.n; i++) {
			nic = &s.v[i];
			l[1] = nic->vm;
			l[3] = nic->nic->name;
			l[5] = nic->nic->network;
			memcpy(&v, (const char *)&nic->st +
			    api_metrics_nic_families[k].off, sizeof(v));
			api_metrics_int(b, name, l, v);
		}
	}
	free(s.v);
	return 0;
}

struct api_metrics_block_family {
	struct evbuffer *b;
	const char *name;
	bool allocated; /* else the size */
};

static int
api_metrics_block_sample(
    void *arg, const char *block, const struct bb_block_info *info)
{
	struct api_metrics_block_family *f = arg;
	const char *l[3] = {"block", block, NULL};

	api_metrics_int(
	    f->b, f->name, l, f->allocated ? info->allocated : info->size);
	return 0;
}

static void
api_metrics_blocks(struct evbuffer *b, struct unikd *u)
{
	struct api_metrics_block_family f = {
	    b, "unikd_block_size_bytes", false};

	api_metrics_head(b, f.name, "gauge", "Size of the block file.");
	vm_stats_blocks_foreach(u, api_metrics_block_sample, &f);
	f.name = "unikd_block_allocated_bytes";
	f.allocated = true;
	api_metrics_head(
	    b, f.name, "gauge", "Bytes the sparse block file takes on disk.");
	vm_stats_blocks_foreach(u, api_metrics_block_sample, &f);
}

int
api_metrics_vms(struct evbuffer *b, struct unikd *u)
{
	struct vm_stats_links *links;
	struct api_metrics_vm *vms;
	struct vm *vm;
	size_t n = 0;
	int rc;

	vms = calloc(u->nvms > 0 ? u->nvms : 1, sizeof(*vms));
	if (vms == NULL || (links = vm_stats_links_new(u)) == NULL) {
		free(vms);
		return -1;
	}
	TAILQ_FOREACH(vm, &u->vms, entry)
	{
		if (n == u->nvms)
			break;
		vms[n].vm = vm;
		vms[n].proc = vm_stats_proc_vm(vm, &vms[n].ps) == 0;
		n++;
	}
	api_metrics_vm_state(b, vms, n);
	api_metrics_vm_proc(b, vms, n);
	rc = api_metrics_nics(b, vms, n, links);
	if (rc == 0)
		api_metrics_blocks(b, u);
	vm_stats_links_free(links);
	free(vms);
	return rc;
}
