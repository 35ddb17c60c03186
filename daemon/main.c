/*
 * unikd: the host daemon. Reads the config, opens the state store,
 * re-adopts the monitors of running VMs, serves the control API and runs
 * the event loop. SIGTERM/SIGINT stop it and leave every VM running under
 * its monitor; SIGHUP re-reads what can be re-read of the config.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "api-metrics.h"
#include "block.h"
#include "host-limits.h"
#include "image.h"
#include "log.h"
#include "network.h"
#include "service.h"
#include "store.h"
#include "unikd.h"
#include "vm.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: unikd [-dnv] [-f FILE]\n"
	    "       unikd -h | --help | --version\n\n"
	    "  -d             stay in the foreground, log to stderr\n"
	    "  -f FILE        the configuration (default %s, if it exists;\n"
	    "                 see unikd.conf(5))\n"
	    "  -n             check the configuration and exit\n"
	    "  -v             log debug messages\n"
	    "  -h, --help     this help\n"
	    "  --version      print the version\n\n"
	    "VMs are managed with unikctl(1); see unikd(8).\n",
	    CONF_DEFAULT_PATH);
}

/* The commands that make tender_user, tender_group or admin_group. */
static void
unikd_missing_id(FILE *errf)
{
	fprintf(errf, "  make them with systemd-sysusers (the package's "
	    "sysusers.d/unikd.conf), or by hand:\n"
	    "    groupadd --system unikd\n"
	    "    useradd --system --user-group --no-create-home "
	    "--shell /usr/sbin/nologin unikd-tender\n"
	    "    usermod -aG kvm unikd-tender    # for /dev/kvm\n"
	    "  or name existing ones in unikd.conf(5)\n");
}

/* The supplementary groups of tender_user (its group list as of now),
 * so a tender reaches /dev/kvm through the kvm group. None when the list
 * cannot be read or is too long (then the tender runs with none). */
static void
unikd_tender_groups(struct unikd *u)
{
	int n = UNIKD_TENDER_GROUPS_MAX;

	u->ntender_groups = 0;
	if (getgrouplist(u->cf.tender_user, u->tender_gid, u->tender_groups,
	    &n) == -1) {
		log_warnx("tender_user=%s action=groups error=\"more than %d "
		    "groups\"", u->cf.tender_user, UNIKD_TENDER_GROUPS_MAX);
		return;
	}
	u->ntender_groups = (size_t)n;
}

/* Resolves tender_user, tender_group and admin_group; each missing one
 * is reported on errf. Returns the number of problems. */
static int
unikd_resolve_ids(struct unikd *u, FILE *errf)
{
	struct passwd *pw;
	struct group *gr;
	int problems = 0, missing = 0;

	if ((pw = getpwnam(u->cf.tender_user)) == NULL) {
		missing++;
		fprintf(errf, "unikd.tender_user: no such user '%s'\n",
		    u->cf.tender_user);
		problems++;
	} else
		u->tender_uid = pw->pw_uid;
	if ((gr = getgrnam(u->cf.tender_group)) == NULL) {
		missing++;
		fprintf(errf, "unikd.tender_group: no such group '%s'\n",
		    u->cf.tender_group);
		problems++;
	} else
		u->tender_gid = gr->gr_gid;
	/* A tender is the VM's first line of defence against its guest: as
	 * root, a guest that breaks out of it owns the host. */
	if (pw != NULL && u->tender_uid == 0 && !u->cf.allow_root_tender) {
		fprintf(errf, "unikd.tender_user: '%s' is uid 0: tenders would "
		    "run as root (set allow_root_tender = true to allow it)\n",
		    u->cf.tender_user);
		problems++;
	}
	if (gr != NULL && u->tender_gid == 0 && !u->cf.allow_root_tender) {
		fprintf(errf, "unikd.tender_group: '%s' is gid 0: tenders would "
		    "run in root's group (set allow_root_tender = true to "
		    "allow it)\n", u->cf.tender_group);
		problems++;
	}
	problems += vm_uid_range_check(&u->cf, errf);
	if ((gr = getgrnam(u->cf.admin_group)) == NULL) {
		fprintf(errf, "unikd.admin_group: no such group '%s'\n",
		    u->cf.admin_group);
		problems++;
		missing++;
	} else
		u->admin_gid = gr->gr_gid;
	if (missing > 0)
		unikd_missing_id(errf);
	return problems;
}

static void
unikd_read_conf(struct unikd *u, const char *path, bool check)
{
	int problems;

	conf_defaults(&u->cf);
	if (path == NULL && access(CONF_DEFAULT_PATH, F_OK) == 0)
		path = CONF_DEFAULT_PATH;
	if (path != NULL) {
		problems = conf_load(&u->cf, path, stderr);
		if (problems != 0)
			exit(1);
		u->conf_path = strdup(path);
	}
	problems = unikd_resolve_ids(u, stderr);
	if (problems != 0)
		exit(1);
	if (check) {
		printf("configuration OK\n");
		exit(0);
	}
	if (u->cf.max_memory == 0) {
		struct sysinfo si;

		if (sysinfo(&si) == 0)
			u->cf.max_memory = (uint64_t)si.totalram *
			    si.mem_unit / (1024 * 1024);
	}
}

static void
unikd_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		fatal("mkdir %s", path);
}

/* Makes the directories, takes the daemon lock; true when this is the
 * first start since the host booted (run_dir is on tmpfs). */
static bool
unikd_prepare_dirs(struct unikd *u)
{
	char path[4096];
	bool boot;
	int fd;

	unikd_mkdir(u->cf.state_dir, 0700);
	/* clients reach the socket in it (umask is 077) */
	if (mkdir(u->cf.run_dir, 0755) == 0)
		chmod(u->cf.run_dir, 0755);
	else if (errno != EEXIST)
		fatal("mkdir %s", u->cf.run_dir);
	snprintf(path, sizeof(path), "%s/vms", u->cf.state_dir);
	unikd_mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/vm", u->cf.run_dir);
	unikd_mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/unikd.lock", u->cf.run_dir);
	u->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (u->lock_fd == -1)
		fatal("open %s", path);
	if (flock(u->lock_fd, LOCK_EX | LOCK_NB) == -1)
		fatalx("another unikd is running (it holds %s)", path);
	snprintf(path, sizeof(path), "%s/booted", u->cf.run_dir);
	boot = access(path, F_OK) == -1;
	if (boot && (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
	    0644)) != -1)
		close(fd);
	return boot;
}

static void
unikd_keep(const char *key, char **fresh, char **current)
{
	char *tmp;

	if (strcmp(*fresh, *current) != 0)
		log_warnx("reload: %s changed; it takes effect at restart",
		    key);
	tmp = *fresh;
	*fresh = *current;
	*current = tmp;
}

static void
unikd_reload(struct unikd *u)
{
	struct conf fresh;
	uint64_t max_memory = u->cf.max_memory;

	if (u->conf_path == NULL) {
		log_info("action=reload result=\"no config file\"");
		return;
	}
	conf_defaults(&fresh);
	if (conf_load(&fresh, u->conf_path, stderr) != 0) {
		log_warnx("action=reload result=\"kept the running "
		    "configuration\"");
		conf_free(&fresh);
		return;
	}
	unikd_keep("unikd.socket", &fresh.socket, &u->cf.socket);
	unikd_keep("unikd.state_dir", &fresh.state_dir, &u->cf.state_dir);
	unikd_keep("unikd.run_dir", &fresh.run_dir, &u->cf.run_dir);
	unikd_keep("unikd.admin_group", &fresh.admin_group,
	    &u->cf.admin_group);
	unikd_keep("unikd.tender_user", &fresh.tender_user,
	    &u->cf.tender_user);
	unikd_keep("unikd.tender_group", &fresh.tender_group,
	    &u->cf.tender_group);
	if (fresh.tender_uid_first != u->cf.tender_uid_first ||
	    fresh.tender_uid_last != u->cf.tender_uid_last) {
		log_warnx("reload: unikd.tender_uids changed; it takes effect "
		    "at restart");
		fresh.tender_uid_first = u->cf.tender_uid_first;
		fresh.tender_uid_last = u->cf.tender_uid_last;
	}
	conf_free(&u->cf);
	u->cf = fresh;
	if (u->cf.max_memory == 0)
		u->cf.max_memory = max_memory;
	if (u->cf.max_vms == 0)
		u->cf.max_vms = u->default_max_vms;
	log_set_level(u->cf.log_level);
	unikd_tender_groups(u);
	unikd_probe_tenders(u);
	log_info("action=reload result=ok");
}

static void
unikd_signal(evutil_socket_t sig, short what, void *arg)
{
	struct unikd *u = arg;

	(void)what;
	switch (sig) {
	case SIGHUP:
		unikd_reload(u);
		break;
	default:
		log_info("action=shutdown signal=%d vms=\"left running\"",
		    (int)sig);
		u->shutting_down = true;
		event_base_loopbreak(u->base);
		break;
	}
}

int
main(int argc, char *argv[])
{
	struct unikd u = {0};
	struct event *sigs[3];
	const int signos[3] = {SIGTERM, SIGINT, SIGHUP};
	const char *conf_path = NULL;
	char dbpath[4096], err[1024];
	bool check = false, foreground = false, boot;
	int ch, verbose = 0, listen_fd;
	size_t i;

	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};

	while ((ch = getopt_long(argc, argv, "df:hnv", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("unikd %s\n", PACKAGE_VERSION);
			exit(0);
		case 'd':
			foreground = true;
			break;
		case 'f':
			conf_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "unikd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		exit(2);
	}
	log_init("unikd", LOG_LEVEL_INFO);
	/* Nothing unikd makes is for other users unless it says so (a
	 * chmod): definitions, logs and blocks are root's alone. */
	umask(077);
	unikd_read_conf(&u, conf_path, check);
	limits_raise_nofile(&u);
	log_set_level(verbose > 0 ? LOG_LEVEL_DEBUG : u.cf.log_level);
	TAILQ_INIT(&u.vms);
	TAILQ_INIT(&u.event_subs);
	TAILQ_INIT(&u.afters);
	signal(SIGPIPE, SIG_IGN);
	listen_fd = service_listen_fd();
	if (!foreground && daemon(0, 1) == -1)
		fatal("daemon");
	boot = unikd_prepare_dirs(&u);
	/* before the store is opened: SQLite gives its -wal and -shm files
	 * the mode of the database */
	unikd_state_protect(&u);
	snprintf(dbpath, sizeof(dbpath), "%s/unikd.db", u.cf.state_dir);
	if (store_open(&u.store, dbpath, err, sizeof(err)) == -1)
		fatalx("%s", err);
	unikd_state_protect(&u);
	if (nb_open(&u.nb) == -1)
		fatal("cannot open netlink (unikd needs CAP_NET_ADMIN to "
		    "manage bridges and TAPs)");
	/* 3 priorities, 1 the default: the API's queued requests run at 2,
	 * in turns of the loop with nothing else to do (api-defer.c) */
	if ((u.base = event_base_new()) == NULL ||
	    event_base_priority_init(u.base, 3) == -1)
		fatalx("cannot make the event loop");
	for (i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(u.base, signos[i], unikd_signal, &u);
		evsignal_add(sigs[i], NULL);
	}
	u.started_at = time(NULL);
	unikd_tender_groups(&u);
	unikd_probe_tenders(&u);
	/* Before the VMs: their TAPs go on the networks' bridges. */
	if (network_init(&u) == -1)
		fatalx("cannot load the networks from %s", dbpath);
	/* Blocks and images a crash left half made: undone or finished
	 * before anything can use them (images after the definitions that
	 * may name their files). */
	block_recover(&u);
	if (vm_init(&u, boot) == -1)
		fatalx("cannot load the VMs from %s", dbpath);
	image_recover(&u);
	/* Start-up's writes are committed one by one; from here on, one
	 * transaction a turn of the loop. */
	if (unikd_commit_start(&u) == -1)
		fatalx("cannot make the event loop's commit event");
	if (api_start(&u, listen_fd) == -1)
		fatalx("cannot serve the control API");
	if (api_metrics_start(&u) == -1)
		fatalx("cannot serve metrics on %s", u.cf.metrics_listen);
	limits_settle(&u);
	log_info("action=serve pid=%d socket=%s state_dir=%s vms=%zu",
	    (int)getpid(), u.cf.socket, u.cf.state_dir, u.nvms);
	/* READY=1 once the re-adopted monitors have said hello */
	if (service_start(&u) == -1)
		fatal("systemd notifications");
	event_base_dispatch(u.base);

	/* what a SIGTERM cut short of the last turn */
	unikd_commit_stop(&u);
	service_stop(&u);
	api_metrics_stop(&u);
	api_stop(&u);
	vm_shutdown(&u);
	network_shutdown(&u);
	nb_close(u.nb);
	unikd_trim_free(&u);
	store_close(u.store);
	for (i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(u.base);
	conf_free(&u.cf);
	free(u.conf_path);
	close(u.lock_fd);
	/* systemd restarts a unikd that exits with a failure */
	return u.store_failed ? 1 : 0;
}
