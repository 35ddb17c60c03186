/*
 * unikctl events: the daemon's event log (GET /v1/events, one JSON object
 * per line), as "SEQ TIME TYPE VM key=value..." or, with --json, the raw
 * lines; -f keeps following new events.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Bytes of the current, unfinished line. */
struct events_out {
	struct ctl *ctl;
	char *line;
	size_t len;
	long long seq;	/* of the last event printed; -1: none yet */
	int got;	/* this connection brought an event */
};

static const char *const events_fixed[] = {"seq", "time", "type", "vm"};

static int
events_is_fixed(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(events_fixed) / sizeof(events_fixed[0]); i++)
		if (strcmp(key, events_fixed[i]) == 0)
			return 1;
	return 0;
}

/* Prints a value for key=value: strings bare unless they hold blanks. */
static void
events_value(const json_t *v)
{
	const char *s = json_string_value(v);

	if (s != NULL && strpbrk(s, " \t\"=") == NULL && *s != '\0')
		fputs(s, stdout);
	else
		json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void
events_print(struct events_out *o, const char *line, size_t len)
{
	const char *key;
	json_t *ev;
	void *it;

	if ((ev = json_loadb(line, len, 0, NULL)) == NULL) {
		printf("%.*s\n", (int)len, line);
		return;
	}
	if (json_is_integer(json_object_get(ev, "seq")))
		o->seq = json_integer_value(json_object_get(ev, "seq"));
	o->got = 1;
	if (o->ctl->ctl_json) {	/* as unikd sent it */
		printf("%.*s\n", (int)len, line);
		json_decref(ev);
		return;
	}
	printf("%lld %s %s %s",
	    (long long)json_integer_value(json_object_get(ev, "seq")),
	    ctl_jstr(ev, "time"), ctl_jstr(ev, "type"), ctl_jstr(ev, "vm"));
	for (it = json_object_iter(ev); it;
	     it = json_object_iter_next(ev, it)) {
		key = json_object_iter_key(it);
		if (events_is_fixed(key))
			continue;
		printf(" %s=", key);
		events_value(json_object_iter_value(it));
	}
	putchar('\n');
	json_decref(ev);
}

static int
events_sink(const char *buf, size_t len, void *arg)
{
	struct events_out *o = arg;
	const char *nl;
	char *p;

	if ((p = realloc(o->line, o->len + len)) == NULL)
		return -1;
	memcpy(p + o->len, buf, len);
	o->line = p;
	o->len += len;
	while ((nl = memchr(o->line, '\n', o->len)) != NULL) {
		size_t n = (size_t)(nl - o->line);

		if (n > 0)
			events_print(o, o->line, n);
		o->len -= n + 1;
		memmove(o->line, nl + 1, o->len);
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

/* Builds the path with its query; 0, or 2 after a usage message. */
static int
events_path(
    char *buf, size_t size, const char *since, const char *vm, int follow)
{
	const char *sep = "?";
	char esc[256];
	long long seq;
	size_t n = (size_t)snprintf(buf, size, "/v1/events");

	if (since != NULL) {
		if (ctl_parse_uint(since, (1LL << 62), &seq) == -1)
			return ctl_usage_error(&ctl_cmd_events,
			    "--since wants an event number, not '%s'", since);
		n += (size_t)snprintf(
		    buf + n, size - n, "%ssince=%lld", sep, seq);
		sep = "&";
	}
	if (vm != NULL) {
		if (ctl_escape(esc, sizeof(esc), vm) == -1)
			return ctl_usage_error(
			    &ctl_cmd_events, "VM name too long");
		n += (size_t)snprintf(buf + n, size - n, "%svm=%s", sep, esc);
		sep = "&";
	}
	if (follow)
		snprintf(buf + n, size - n, "%sfollow=true", sep);
	return 0;
}

/*
 * events -f outlives a restart of unikd: the stream never ends by itself,
 * so when it does (or breaks) the follower connects again with back-off,
 * from the last event it printed: no gap, no event twice.
 */
static int
events_follow_again(struct ctl *c, struct events_out *o, const char *vm,
    const char *since0, int rc)
{
	long back = CTL_BACKOFF_START_MS;
	char path[512], since[32];
	int said = 0;

	c->ctl_quiet = 1;
	while (rc == CTL_EXIT_OK || rc == CTL_EXIT_UNREACHABLE) {
		if (!said++)
			fprintf(stderr, "unikctl: lost unikd; following "
			    "again once it is back\n");
		ctl_backoff(&back);
		o->len = 0;	/* a cut line comes again */
		o->got = 0;
		snprintf(since, sizeof(since), "%lld", o->seq);
		if ((rc = events_path(path, sizeof(path),
		    o->seq >= 0 ? since : since0, vm, 1)) != 0)
			return rc;
		rc = ctl_stream(c, path, events_sink, o);
		if (o->got)
			back = CTL_BACKOFF_START_MS;
	}
	return rc;
}

static int
events_exec(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, 'S'},
	    {"vm", required_argument, NULL, 'v'},
	    {"follow", no_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct events_out o = {.ctl = c, .seq = -1};
	const char *since = NULL, *vm = NULL;
	char path[512];
	int ch, rc, follow = 0;

	while ((ch = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		if (ch == 'S')
			since = optarg;
		else if (ch == 'v')
			vm = optarg;
		else if (ch == 'f')
			follow = 1;
		else
			return ctl_bad_option(&ctl_cmd_events, ch, argv);
	}
	if (optind < argc)
		return ctl_usage_error(
		    &ctl_cmd_events, "unexpected argument '%s'", argv[optind]);
	rc = events_path(path, sizeof(path), since, vm, follow);
	if (rc != 0)
		return rc;
	rc = ctl_stream(c, path, events_sink, &o);
	/* reached once (an event, or a stream that ended well) */
	if (follow && (o.got || rc == CTL_EXIT_OK))
		rc = events_follow_again(c, &o, vm, since, rc);
	if (rc == 0 && o.len > 0)
		events_print(&o, o.line, o.len);
	free(o.line);
	return rc;
}

const struct ctl_cmd ctl_cmd_events = {
    .name = "events",
    .usage = "[--since SEQ] [--vm VM] [-f]",
    .summary = "print the event log (-f: follow new events)",
    .help = "  --since SEQ          only events after number SEQ\n"
	    "  --vm VM              only the events of VM\n"
	    "  -f, --follow         keep printing new events (across a restart\n"
	    "                       of unikd, from the last one printed)\n",
    .exec = events_exec,
};
