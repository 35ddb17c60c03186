/*
 * unik-testguest: a stand-in unikernel for the tests and the demo. It takes
 * the solo5-spt command line (tender options, then IMAGE, then the guest's
 * own ARGS), validates it as Solo5 does, prints boot lines on stdout as a
 * Solo5 unikernel would, then behaves as its ARGS say: tick, exit with a
 * code after a while, crash, or handle/ignore SIGTERM.
 *
 * Devices: NICs (--net:NAME=IFACE, --net-mac:NAME=MAC) and blocks
 * (--block:NAME=PATH) are parsed into small tables and checked for syntax
 * only; guest_nics_attach() and guest_blocks_attach() are where opening the
 * TAPs and block files goes.
 *
 * Plain C, no libraries: it must run as the unprivileged tender user.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define TG_NAME "unik-testguest"
#define TG_VERSION                                                           \
	"unik-testguest (solo5-spt compatible tender), version v0.1.0 / "    \
	"ABI version 2"
#define TG_MAX_NICS 16
#define TG_MAX_BLOCKS 16
#define TG_DEVNAME_MAX 67	/* Solo5's MFT_NAME_SIZE */

struct guest_nic {
	char name[TG_DEVNAME_MAX + 1];
	const char *iface;	/* --net:NAME=IFACE */
	const char *mac;	/* --net-mac:NAME=MAC, or NULL */
};

struct guest_block {
	char name[TG_DEVNAME_MAX + 1];
	const char *path;	/* --block:NAME=PATH */
	unsigned long sector_size;	/* --block-sector-size:NAME=N, 512 */
};

/* What the tender options say. */
struct guest_tender {
	unsigned long mem_mib;	/* --mem=MIB, default 512 as in Solo5 */
	struct guest_nic nics[TG_MAX_NICS];
	size_t n_nics;
	struct guest_block blocks[TG_MAX_BLOCKS];
	size_t n_blocks;
	const char *image;
};

/* What the guest's own ARGS say. */
struct guest_args {
	double exit_after;	/* seconds; < 0: run until a signal */
	int exit_code;
	long print_every_ms;	/* 0: no ticks */
	bool crash;
	bool ignore_term;
	int term_exit;		/* the code on SIGTERM (solo5-hvt: 1) */
};

static volatile sig_atomic_t got_term;

void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Tender errors go to stderr, as solo5-spt's do, and exit 1. */
void
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, TG_NAME ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: " TG_NAME " [ TENDER OPTIONS ] [ -- ] IMAGE [ ARGS ]\n"
	    "TENDER OPTIONS:\n"
	    "  [ --mem=MIB ] (guest memory; default: 512 MiB)\n"
	    "  [ --net:NAME=IFACE | @NN ] (attach tap at IFACE to NAME)\n"
	    "  [ --net-mac:NAME=HWADDR ] (set HWADDR for NAME)\n"
	    "  [ --block:NAME=PATH ] (attach block device at PATH to NAME)\n"
	    "  [ --block-sector-size:NAME=N ] (sector size, default 512)\n"
	    "  [ --version ] (print version and exit)\n"
	    "ARGS:\n"
	    "  --exit-after=SECONDS --exit-code=N --print-every=MS\n"
	    "  --ipv4=ADDR/PREFIX --ipv4-gateway=ADDR --udp-echo=PORT\n"
	    "  --udp-to=ADDR:PORT\n"
	    "  --crash --ignore-term --term-exit=N\n");
	exit(1);
}

int
guest_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Splits "NAME=VALUE" (what follows "--net:" and friends). Solo5 device
 * names are alphanumeric; copies NAME into name and returns VALUE, or
 * exits with the tender's message.
 */
static const char *
parse_devspec(const char *opt, const char *spec, char *name)
{
	const char *eq = strchr(spec, '=');
	size_t len, i;

	if (eq == NULL || eq == spec || eq[1] == '\0')
		die("malformed argument to %s", opt);
	len = (size_t)(eq - spec);
	if (len > TG_DEVNAME_MAX)
		die("%s: device name too long", opt);
	for (i = 0; i < len; i++) {
		char c = spec[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9')))
			die("%s: device name '%.*s' is not alphanumeric", opt,
			    (int)len, spec);
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	return eq + 1;
}

static struct guest_nic *
nic_get(struct guest_tender *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_nics; i++)
		if (strcmp(t->nics[i].name, name) == 0)
			return &t->nics[i];
	if (t->n_nics == TG_MAX_NICS)
		die("too many network devices (max %d)", TG_MAX_NICS);
	memset(&t->nics[t->n_nics], 0, sizeof(t->nics[0]));
	strcpy(t->nics[t->n_nics].name, name);
	return &t->nics[t->n_nics++];
}

static struct guest_block *
block_get(struct guest_tender *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_blocks; i++)
		if (strcmp(t->blocks[i].name, name) == 0)
			return &t->blocks[i];
	if (t->n_blocks == TG_MAX_BLOCKS)
		die("too many block devices (max %d)", TG_MAX_BLOCKS);
	memset(&t->blocks[t->n_blocks], 0, sizeof(t->blocks[0]));
	strcpy(t->blocks[t->n_blocks].name, name);
	t->blocks[t->n_blocks].sector_size = 512;
	return &t->blocks[t->n_blocks++];
}

/* "xx:xx:xx:xx:xx:xx", hex digits either case. */
static bool
mac_valid(const char *s)
{
	int i;

	for (i = 0; i < 17; i++) {
		char c = s[i];

		if (i % 3 == 2) {
			if (c != ':')
				return false;
		} else if (!isxdigit((unsigned char)c)) {
			return false;
		}
	}
	return s[17] == '\0';
}

/* One tender option (argv[i] begins with "--"); exits on a bad one. */
static void
parse_tender_opt(struct guest_tender *t, const char *a)
{
	char name[TG_DEVNAME_MAX + 1];
	const char *v;
	unsigned long n;

	if (strncmp(a, "--mem=", 6) == 0) {
		/* spt needs at least 2 MiB. */
		if (guest_parse_ulong(a + 6, 1UL << 20, &n) == -1 || n < 2)
			die("--mem: invalid memory size '%s'", a + 6);
		t->mem_mib = n;
	} else if (strncmp(a, "--net:", 6) == 0) {
		v = parse_devspec("--net", a + 6, name);
		nic_get(t, name)->iface = v;
	} else if (strncmp(a, "--net-mac:", 10) == 0) {
		v = parse_devspec("--net-mac", a + 10, name);
		if (!mac_valid(v))
			die("--net-mac: malformed MAC address '%s'", v);
		nic_get(t, name)->mac = v;
	} else if (strncmp(a, "--block:", 8) == 0) {
		v = parse_devspec("--block", a + 8, name);
		block_get(t, name)->path = v;
	} else if (strncmp(a, "--block-sector-size:", 20) == 0) {
		v = parse_devspec("--block-sector-size", a + 20, name);
		if (guest_parse_ulong(v, 1UL << 20, &n) == -1 || n < 512 ||
		    (n & (n - 1)) != 0)
			die("--block-sector-size: invalid size '%s'", v);
		block_get(t, name)->sector_size = n;
	} else if (strcmp(a, "--help") == 0) {
		usage();
	} else {
		fprintf(stderr, TG_NAME ": invalid option: '%s'\n", a);
		usage();
	}
}

/* Tender options, then IMAGE; returns the index of the first guest arg. */
static int
parse_tender(struct guest_tender *t, int argc, char **argv)
{
	struct stat st;
	size_t i;
	int ai = 1;

	memset(t, 0, sizeof(*t));
	t->mem_mib = 512;
	for (; ai < argc && strncmp(argv[ai], "--", 2) == 0; ai++) {
		if (strcmp(argv[ai], "--") == 0) {
			ai++;
			break;
		}
		if (strcmp(argv[ai], "--version") == 0) {
			printf("%s\n", TG_VERSION);
			exit(0);
		}
		parse_tender_opt(t, argv[ai]);
	}
	if (ai >= argc)
		die("missing IMAGE");
	t->image = argv[ai++];
	/* Solo5 opens and reads the image before anything else. */
	if (stat(t->image, &st) == -1)
		die("%s: %s", t->image, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file", t->image);
	if (access(t->image, R_OK) == -1)
		die("%s: %s", t->image, strerror(errno));
	for (i = 0; i < t->n_nics; i++)
		if (t->nics[i].iface == NULL)
			die("--net-mac:%s given without --net:%s",
			    t->nics[i].name, t->nics[i].name);
	for (i = 0; i < t->n_blocks; i++)
		if (t->blocks[i].path == NULL)
			die("--block-sector-size:%s given without --block:%s",
			    t->blocks[i].name, t->blocks[i].name);
	return ai;
}

/* The guest's own arguments; unknown ones are left to future devices. */
static void
parse_guest_args(struct guest_args *g, int argc, char **argv, int first)
{
	unsigned long n;
	char *end;
	int i;

	g->exit_after = -1;
	g->exit_code = 0;
	g->print_every_ms = 0;
	g->crash = false;
	g->ignore_term = false;
	g->term_exit = 0;
	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--exit-after=", 13) == 0) {
			errno = 0;
			g->exit_after = strtod(a + 13, &end);
			if (errno != 0 || end == a + 13 || *end != '\0' ||
			    !isfinite(g->exit_after) || g->exit_after < 0 ||
			    g->exit_after > 1e9)
				die("--exit-after: invalid duration '%s'",
				    a + 13);
		} else if (strncmp(a, "--exit-code=", 12) == 0) {
			if (guest_parse_ulong(a + 12, 255, &n) == -1)
				die("--exit-code: invalid code '%s'", a + 12);
			g->exit_code = (int)n;
		} else if (strncmp(a, "--print-every=", 14) == 0) {
			if (guest_parse_ulong(a + 14, 86400000UL, &n) == -1 ||
			    n == 0)
				die("--print-every: invalid period '%s'",
				    a + 14);
			g->print_every_ms = (long)n;
		} else if (strcmp(a, "--crash") == 0) {
			g->crash = true;
		} else if (strncmp(a, "--term-exit=", 12) == 0) {
			if (guest_parse_ulong(a + 12, 255, &n) == -1)
				die("--term-exit: invalid code '%s'", a + 12);
			g->term_exit = (int)n;
		} else if (strcmp(a, "--ignore-term") == 0) {
			g->ignore_term = true;
		}
	}
}

/* Opens the TAPs as solo5-spt does (guest-net.c). */
static void
guest_nics_attach(const struct guest_tender *t, struct guest_net *net)
{
	size_t i;

	for (i = 0; i < t->n_nics; i++)
		guest_net_attach(net, t->nics[i].name, t->nics[i].iface,
		    t->nics[i].mac);
	guest_net_start(net);
}

/* Opens each block file as Solo5 does and counts the boot on it. */
static void
guest_blocks_attach(const struct guest_tender *t)
{
	size_t i;

	for (i = 0; i < t->n_blocks; i++)
		guest_block_attach(t->blocks[i].name, t->blocks[i].path,
		    t->blocks[i].sector_size);
}

static void
on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* Blocks SIGTERM outside ppoll() so that none is lost between checks. */
static void
signals_setup(const struct guest_args *g, sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = g->ignore_term ? SIG_IGN : on_term;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction: %s", strerror(errno));
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		die("sigprocmask: %s", strerror(errno));
	sigdelset(waitmask, SIGTERM);
}

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Ticks on a fixed schedule (no drift) until exit-after or SIGTERM;
 * the NICs are served while it waits. */
static int
guest_run(const struct guest_args *g, struct guest_net *net,
    const sigset_t *waitmask)
{
	int64_t start = now_ns(), end = INT64_MAX, next = INT64_MAX;
	int64_t period = (int64_t)g->print_every_ms * 1000000;
	unsigned long tick = 0;

	if (g->exit_after >= 0)
		end = start + (int64_t)(g->exit_after * 1e9 + 0.5);
	if (period > 0)
		next = start + period;
	for (;;) {
		int64_t now = now_ns();

		if (got_term) {
			say("testguest: SIGTERM, halting");
			return g->term_exit;
		}
		if (now >= end) {
			say("testguest: exiting with code %d", g->exit_code);
			return g->exit_code;
		}
		if (now >= next) {
			say("testguest: tick %lu", ++tick);
			next += period;
			continue;
		}
		guest_net_wait(net, next < end ? next : end, waitmask);
	}
}

/* An image handed over as an open fd (/dev/fd/N) is named with the file
 * behind it, so tests see which file the tender got. */
static void
say_image(const char *image)
{
	char link[64], file[4096];
	ssize_t n;

	if (strncmp(image, "/dev/fd/", 8) != 0) {
		say("testguest: booting image %s", image);
		return;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%s", image + 8);
	if ((n = readlink(link, file, sizeof(file) - 1)) == -1)
		n = 0;
	file[n] = '\0';
	say("testguest: booting image %s (file %s)", image, file);
}

int
main(int argc, char **argv)
{
	struct guest_tender t;
	struct guest_args g;
	struct guest_net *net;
	sigset_t waitmask;
	int first, i, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	first = parse_tender(&t, argc, argv);
	parse_guest_args(&g, argc, argv, first);
	net = guest_net_new(argc, argv, first);
	signals_setup(&g, &waitmask);

	say("Solo5: Memory map: %lu MB addressable", t.mem_mib);
	guest_nics_attach(&t, net);
	guest_blocks_attach(&t);
	say_image(t.image);
	for (i = first; i < argc; i++)
		say("testguest: arg[%d]=%s", i - first, argv[i]);
	say("testguest: ready");
	if (g.crash) {
		say("testguest: crashing");
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	rc = guest_run(&g, net, &waitmask);
	guest_net_free(net);
	return rc;
}
