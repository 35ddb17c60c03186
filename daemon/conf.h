/*
 * The daemon's configuration file (INI, read with libinih). The keys of
 * unikd.conf(5) are a contract (operators' files rely on them): renamed
 * never, every one documented there.
 */
#ifndef UNIKD_CONF_H
#define UNIKD_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_DEFAULT_PATH "/etc/unikd/unikd.conf"
#define CONF_MAX_TENDERS 16
#define CONF_MAX_IMAGE_DIRS 16

/* One [tender.DRIVER] section. */
struct conf_tender {
	char *name;		/* driver name: "solo5-spt", "exec", ... */
	char *path;		/* path = binary */
	char *argv;		/* argv = template (exec driver only), or NULL */
};

struct conf {
	/* [unikd] */
	char *socket;		/* /run/unikd/unikd.sock */
	char *state_dir;	/* /var/lib/unikd */
	char *run_dir;		/* /run/unikd; at most CONF_RUN_DIR_MAX bytes */
	char *admin_group;	/* unikd */
	char *tender_user;	/* unikd-tender */
	char *tender_group;	/* unikd-tender */
	bool allow_root_tender;	/* tender_user/group may be root; false */
	/* tender_uids = FIRST-LAST: one uid (and gid) per VM from it;
	 * 0-0 (unset): every tender runs as tender_user */
	uint32_t tender_uid_first, tender_uid_last;
	char *image_dirs[CONF_MAX_IMAGE_DIRS];	/* absolute, no trailing / */
	size_t n_image_dirs;
	int log_level;		/* LOG_LEVEL_* from log.h */
	char *monitor;		/* path of unikd-monitor; default from build */

	/* [tender.DRIVER] */
	struct conf_tender tenders[CONF_MAX_TENDERS];
	size_t n_tenders;

	/* [limits] */
	uint64_t max_vms;		/* 0: from RLIMIT_NOFILE, at most 4096 */
	uint64_t max_block_size;	/* bytes, 1T */
	uint64_t max_body_size;		/* bytes, 16M */
	uint64_t max_memory;		/* MiB a VM may ask for; default: host RAM */
	unsigned max_connections;	/* API connections at once, 256 */
	unsigned request_timeout;	/* seconds to send a request, 10 */

	/* [vm] defaults for VM definitions */
	unsigned stop_timeout;		/* seconds, 10 */
	unsigned restart_backoff_ms;	/* first delay, 500 */
	unsigned restart_backoff_max_ms;/* cap, 60000 */
	unsigned restart_max_retries;	/* default max_retries for on-failure, 5 */

	/* [console] */
	uint64_t console_max_size;	/* bytes per file, 1M */
	unsigned console_files;		/* rotated files kept besides the live one, 3 */

	/* [events] */
	uint64_t events_max;		/* events kept in the store, 100000 */
	uint64_t events_max_age;	/* seconds an event is kept; 0: no limit */

	/* [metrics] */
	char *metrics_listen;		/* "127.0.0.1:9464", or NULL: off */
};

/* Room for "/vm/" + a 63-byte name + ".sock" inside sun_path[108]. */
#define CONF_RUN_DIR_MAX 35
/* The most uids tender_uids may span (a bitmap of 128 KiB). */
#define CONF_TENDER_UIDS_MAX (1u << 20)

/* Fills cf with the built-in defaults (every pointer owned by cf). */
void conf_defaults(struct conf *cf);

/*
 * Reads path over the defaults. Each problem is written to errf as
 * "PATH:LINE: message" (or "PATH: message"), and every one is reported,
 * not just the first. Returns the number of problems (0 when the file is
 * good) or -1 when the file cannot be read (message written to errf too).
 * Unknown sections and keys are problems.
 */
int conf_load(struct conf *cf, const char *path, FILE *errf);

/* Frees what cf owns; cf itself is the caller's. */
void conf_free(struct conf *cf);

/* The [tender.NAME] section, or NULL. */
const struct conf_tender *conf_tender_find(const struct conf *cf,
    const char *name);

/* "512M", "1G", "4096" (bytes), "1T": 0 on success, -1 on bad input. */
int conf_parse_size(const char *s, uint64_t *out);

#endif
