/*
 * Fuzz target: a request on the control API, as the bytes a client sends
 * (method, URL, headers, body), through evhttp, the route table and the
 * real handlers of a daemon context with its own state dir, store and
 * socket in /tmp. Whatever the bytes, unikd must not crash or leak, and
 * must answer or close. No tender is probed (u->tenders is empty), so no
 * VM ever starts; run as root, it first moves into a network namespace
 * of its own, so the networks a request makes touch nothing of the
 * host's.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <ftw.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "api-metrics.h"
#include "conf.h"
#include "log.h"
#include "netbackend.h"
#include "network.h"
#include "store.h"
#include "unikd.h"
#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The daemon under test lives as long as the fuzzer. */
static struct unikd fz;
static char fz_dir[64];

static char *
fz_path(const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", fz_dir, rel) == -1)
		abort();
	return p;
}

static int
fz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fz_teardown(void)
{
	api_metrics_stop(&fz);
	api_stop(&fz);
	vm_shutdown(&fz);
	network_shutdown(&fz);
	if (fz.nb != NULL)
		nb_close(fz.nb);
	store_close(fz.store);
	event_base_free(fz.base);
	conf_free(&fz.cf);
	nftw(fz_dir, fz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void
fz_conf(void)
{
	struct conf *cf = &fz.cf;
	size_t i;

	conf_defaults(cf);
	free(cf->socket);
	free(cf->state_dir);
	free(cf->run_dir);
	free(cf->monitor);
	for (i = 0; i < cf->n_image_dirs; i++)
		free(cf->image_dirs[i]);
	cf->socket = fz_path("run/unikd.sock");
	cf->state_dir = fz_path("state");
	cf->run_dir = fz_path("run");
	cf->monitor = strdup("/nonexistent/unikd-monitor");
	cf->image_dirs[0] = fz_path("images");
	cf->n_image_dirs = 1;
	/* what a request may make stays small */
	cf->max_vms = 64;
	cf->max_block_size = 1 << 20;
	cf->max_body_size = 64 << 10;
}

static void
fz_setup(void)
{
	static const char *const dirs[] = {"state", "state/vms", "run",
	    "run/vm", "images"};
	char err[256], *p;
	size_t i;

	snprintf(fz_dir, sizeof(fz_dir), "/tmp/unikd-fuzz-http.XXXXXX");
	if (mkdtemp(fz_dir) == NULL)
		abort();
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == -1) {
		perror("fuzz-http: unshare(CLONE_NEWNET)");
		exit(1);
	}
	log_init("fuzz-http", LOG_LEVEL_ERR);
	fz_conf();
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		p = fz_path(dirs[i]);
		if (mkdir(p, 0700) == -1)
			abort();
		free(p);
	}
	TAILQ_INIT(&fz.vms);
	TAILQ_INIT(&fz.event_subs);
	fz.lock_fd = -1;
	p = fz_path("state/unikd.db");
	if (store_open(&fz.store, p, err, sizeof(err)) == -1) {
		fprintf(stderr, "fuzz-http: %s\n", err);
		abort();
	}
	free(p);
	if (nb_open(&fz.nb) == -1)
		abort();
	if ((fz.base = event_base_new()) == NULL ||
	    network_init(&fz) == -1 || vm_init(&fz, true) == -1 ||
	    api_start(&fz, -1) == -1)
		abort();
	atexit(fz_teardown);
}

/* A connection to the daemon's socket, not blocking. */
static int
fz_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int c;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fz.cf.socket);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c == -1 || connect(c, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		abort();
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	int c, i, quiet = 0, shown = 0;

	if (fz.base == NULL)
		fz_setup();
	c = fz_connect();
	/* Sends, runs the loop, reads: until unikd closes, or goes quiet
	 * once everything is sent (a stream, a request still incomplete). */
	for (i = 0; i < 1000 && quiet < 3; i++) {
		if (off < size && (n = send(c, data + off, size - off,
		    MSG_NOSIGNAL)) > 0)
			off += (size_t)n;
		event_base_loop(fz.base, EVLOOP_NONBLOCK);
		if ((n = recv(c, buf, sizeof(buf) - 1, 0)) == 0)
			break;
		/* FUZZ_HTTP_SHOW=1: the status lines, to check a corpus */
		if (n > 0 && !shown++ && getenv("FUZZ_HTTP_SHOW") != NULL) {
			buf[n] = '\0';
			fprintf(stderr, "%.*s\n", (int)strcspn(buf, "\r\n"),
			    buf);
		}
		if (n > 0 || off < size)
			quiet = 0;
		else if (errno == EAGAIN)
			quiet++;
		else
			break;
	}
	close(c);
	/* unikd hears of the close and frees what the request held */
	for (i = 0; i < 3; i++)
		event_base_loop(fz.base, EVLOOP_NONBLOCK);
	return 0;
}
