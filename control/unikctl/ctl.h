/*
 * unikctl: the command-line client of unikd. main() (ctl.c) parses the
 * global options and dispatches through a static table of commands, one
 * file per command group (ctl-run.c, ctl-vm.c, ...). ctl-client.c speaks
 * HTTP/JSON to unikd over its UNIX socket with libcurl.
 */
#ifndef UNIKD_CTL_H
#define UNIKD_CTL_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Exit codes (documented in unikctl(1)). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1        /* unikd refused or failed the request */
#define CTL_EXIT_USAGE 2       /* bad command line, nothing was sent */
#define CTL_EXIT_UNREACHABLE 3 /* cannot reach unikd, or it went away */

#define CTL_DEFAULT_SOCKET "/run/unikd/unikd.sock"

struct ctl {
	const char *ctl_socket; /* path of unikd's control socket */
	int ctl_json;           /* --json: machine output */
	/* where request errors go; NULL: "unikctl: MSG" on stderr */
	void (*ctl_error)(const char *msg);
	int ctl_quiet;          /* no message when unikd is unreachable */
};

/* A subcommand of a command group (net, block, image). */
struct ctl_sub {
	const char *name;
	/* argv[0] is the subcommand name; returns an exit code. */
	int (*exec)(struct ctl *, int argc, char **argv);
};

struct ctl_cmd {
	const char *name;
	const char *usage;   /* arguments, after the command name */
	const char *summary; /* one line for usage() */
	const char *help;    /* its options explained, for help CMD, or NULL */
	/* argv[0] is the command name; returns an exit code. NULL for a
	 * group: argv[1] names a row of subs. */
	int (*exec)(struct ctl *, int argc, char **argv);
	const struct ctl_sub *subs;
	size_t nsubs;
};

/* A kind of object unikd keeps by name (networks, images, blocks). */
struct ctl_kind {
	const struct ctl_cmd *cmd; /* whose usage a mistake prints */
	const char *what;          /* "network", in messages */
	const char *collection;    /* "/v1/networks" */
	const char *arg;           /* "NET", in usage errors */
};

/* The commands, one per row of the table in ctl.c. */
extern const struct ctl_cmd ctl_cmd_info, ctl_cmd_ps, ctl_cmd_inspect,
    ctl_cmd_run, ctl_cmd_create, ctl_cmd_start, ctl_cmd_stop, ctl_cmd_kill,
    ctl_cmd_restart, ctl_cmd_rm, ctl_cmd_wait, ctl_cmd_logs, ctl_cmd_events;
extern const struct ctl_cmd ctl_cmd_net;
extern const struct ctl_cmd ctl_cmd_block, ctl_cmd_image;
extern const struct ctl_cmd ctl_cmd_gc;
extern const struct ctl_cmd ctl_cmd_stats;

/*
 * ctl-run-follow.c: run after unikd started the VM: without attach or rm,
 * wait until it has run for settle_ms (0: return at once); with attach,
 * stream its console; with attach or rm, wait for its end (Ctrl-C stops
 * it, a second kills it), then remove it with rm. The exit code.
 */
int ctl_run_after(struct ctl *, const char *name, int attach, int rm,
    long settle_ms);

/* ctl.c: command-line helpers. */
/* Prints "unikctl CMD: <msg>" and the command's usage; returns 2. */
int ctl_usage_error(const struct ctl_cmd *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports a getopt_long() error ('?' or ':'); returns 2. */
int ctl_bad_option(const struct ctl_cmd *, int c, char **argv);
/* Parses a non-negative integer no larger than max; -1 when not one. */
int ctl_parse_uint(const char *s, long long max, long long *out);
/* The string member key of obj, or "-" when missing or null. */
const char *ctl_jstr(const json_t *obj, const char *key);
/* Prints json pretty on stdout. */
void ctl_print_json(const json_t *);
/* Checks the arguments after a subcommand: none may be an option (a '-'
 * then a digit is a number), and there must be exactly n (n < 0: at least
 * one); what names them in the message. 0, or 2 after a message. */
int ctl_args(
    const struct ctl_cmd *, int argc, char **argv, int n, const char *what);
/* "COLLECTION/NAME" + suffix, the name percent-encoded; -1 (message
 * printed) when it does not fit. */
int ctl_kind_path(char *buf, size_t size, const struct ctl_kind *,
    const char *name, const char *suffix);
/*
 * inspect (GET: prints the JSON) or rm (DELETE: prints the name, or the
 * JSON with --json) of each name in argv[1..], n of them as ctl_args()
 * wants. 1 if any failed; 3 at once when unikd cannot be reached.
 */
int ctl_each(struct ctl *, const struct ctl_kind *, int n, int argc,
    char **argv, const char *method);

/* ctl-client.c: requests to unikd. */
/*
 * SIGINT/SIGTERM seen (a handler counts them). While a request or stream
 * runs, each new one calls ctl_interrupt_hook (when set) with the count,
 * within a second; the hook may make requests of its own.
 */
extern volatile sig_atomic_t ctl_interrupts;
extern void (*ctl_interrupt_hook)(int n, void *arg);
extern void *ctl_interrupt_arg;
/* Reports a request error through c->ctl_error (or on stderr). */
void ctl_errorf(const struct ctl *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * Sends one request (body may be NULL). Returns 0 when unikd answered,
 * whatever the status, with *status set and *reply the parsed JSON body
 * (NULL when there was none); else prints why and returns
 * CTL_EXIT_UNREACHABLE or CTL_EXIT_FAIL.
 */
int ctl_request(struct ctl *, const char *method, const char *path,
    json_t *body, long *status, json_t **reply);
/* ctl_request() that also prints a non-2xx reply and returns 1 for it. */
int ctl_call(struct ctl *, const char *method, const char *path, json_t *body,
    json_t **reply);

/* Receives streamed bytes; returns 0, or -1 to stop the stream. */
typedef int (*ctl_sink)(const char *buf, size_t len, void *arg);
/*
 * GETs path and passes the body to sink as it arrives. Returns an exit
 * code: 0 when the stream ended cleanly, 1 (error printed) or 3.
 */
int ctl_stream(struct ctl *, const char *path, ctl_sink sink, void *arg);
/* ctl_stream() that also keeps the value of the response header named
 * header in value ("" when it has none). */
int ctl_stream_header(struct ctl *, const char *path, ctl_sink sink,
    void *arg, const char *header, char *value, size_t vlen);
/* Sleeps *ms, then doubles it up to CTL_BACKOFF_MAX_MS: a follower's
 * pause before it connects again to a unikd that went away. */
#define CTL_BACKOFF_START_MS 100
#define CTL_BACKOFF_MAX_MS 2000
void ctl_backoff(long *ms);
/* A sink that writes to stdout at once (arg unused). */
int ctl_sink_stdout(const char *buf, size_t len, void *arg);

/*
 * Writes "/v1/vms/<vm, percent-encoded><suffix>" into buf; -1 (message
 * printed) when it does not fit.
 */
int ctl_vm_path(char *buf, size_t size, const char *vm, const char *suffix);
/* Percent-encodes s into buf; -1 when it does not fit. */
int ctl_escape(char *buf, size_t size, const char *s);

/* ctl-table.c: aligned human tables. */
struct ctl_table;
struct ctl_table *ctl_table_new(size_t ncols, const char *const *header);
/* Adds a row of ncols cells (copied); -1 on ENOMEM. */
int ctl_table_add(struct ctl_table *, const char *const *cells);
void ctl_table_print(const struct ctl_table *, FILE *);
void ctl_table_free(struct ctl_table *);
/*
 * GET path and print the array under key: as JSON with --json (an
 * absent array prints as []), else as a table of ncols columns, one row
 * per element made by row. The exit code for the command.
 */
int ctl_list(struct ctl *, const char *path, const char *key,
    const char *const *header, size_t ncols,
    int (*row)(struct ctl_table *, const json_t *));

/* ctl-table.c: time. */
/* Parses an RFC 3339 UTC time ("2024-05-01T12:00:00[.123]Z"); -1 if not. */
int ctl_time_parse(const char *s, long long *epoch);
/* Formats a duration in seconds as "5s", "3m", "2h" or "4d". */
void ctl_duration(char *buf, size_t size, long long secs);
/* The states ps and stats list without -a, as a ?state= filter. */
#define CTL_LIVE_STATES "starting,running,stopping,restarting"
/* True when a VM's state is one of CTL_LIVE_STATES. */
int ctl_state_live(const char *state);
/* A VM's STATE cell: its state, "restarting in 2s" for a pending one. */
void ctl_state_cell(char *buf, size_t size, const json_t *vm);

#endif
