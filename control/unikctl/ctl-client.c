/*
 * HTTP/1.1 to unikd over its UNIX socket with libcurl: one easy handle per
 * request, JSON in and out, and a streaming GET for console and events
 * follow. Errors are printed here, once, as "unikctl: <message>".
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "ctl.h"

#define CTL_URL_MAX 2048

volatile sig_atomic_t ctl_interrupts;
void (*ctl_interrupt_hook)(int n, void *arg);
void *ctl_interrupt_arg;
static int ctl_interrupts_seen;

/*
 * Called by libcurl at least once a second, and as data moves: a
 * SIGINT/SIGTERM counted since the last call runs the hook, from here,
 * while a request or stream goes on.
 */
static int
client_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	int n = ctl_interrupts;

	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (ctl_interrupt_hook != NULL && n > ctl_interrupts_seen) {
		ctl_interrupts_seen = n;	/* before: the hook makes requests */
		ctl_interrupt_hook(n, ctl_interrupt_arg);
	}
	return 0;
}

struct ctl_buf {
	char *data;
	size_t len;
};

/* The state of a streaming GET: 2xx bodies go to sink, others to err. */
struct ctl_flow {
	CURL *curl;
	ctl_sink sink;
	void *arg;
	int aborted;
	struct ctl_buf err;
	const char *header;	/* a response header wanted, or NULL */
	char *value;		/* its value, "" when absent */
	size_t vlen;
};

/* Keeps the value of the response header f->header. */
static size_t
flow_header(char *p, size_t size, size_t n, void *arg)
{
	struct ctl_flow *f = arg;
	size_t len = size * n, hl = strlen(f->header), vl;

	if (len > hl + 1 && strncasecmp(p, f->header, hl) == 0 &&
	    p[hl] == ':') {
		p += hl + 1;
		vl = len - hl - 1;
		while (vl > 0 && (*p == ' ' || *p == '\t'))
			p++, vl--;
		while (vl > 0 && (p[vl - 1] == '\r' || p[vl - 1] == '\n'))
			vl--;
		snprintf(f->value, f->vlen, "%.*s", (int)vl, p);
	}
	return len;
}

static int
buf_append(struct ctl_buf *b, const char *p, size_t n)
{
	char *d;

	if ((d = realloc(b->data, b->len + n + 1)) == NULL)
		return -1;
	memcpy(d + b->len, p, n);
	b->data = d;
	b->len += n;
	d[b->len] = '\0';
	return 0;
}

static size_t
buf_write(char *p, size_t size, size_t n, void *arg)
{
	if (buf_append(arg, p, size * n) == -1)
		return 0;
	return size * n;
}

static size_t
flow_write(char *p, size_t size, size_t n, void *arg)
{
	struct ctl_flow *f = arg;
	long status = 0;

	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return buf_write(p, size, n, &f->err);
	if (f->sink(p, size * n, f->arg) == -1) {
		f->aborted = 1;
		return 0;
	}
	return size * n;
}

int
ctl_sink_stdout(const char *buf, size_t len, void *arg)
{
	(void)arg;
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) == EOF)
		return -1;
	return 0;
}

void
ctl_errorf(const struct ctl *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->ctl_error != NULL)
		c->ctl_error(msg);
	else
		fprintf(stderr, "unikctl: %s\n", msg);
}

static CURL *
client_open(struct ctl *c, const char *method, const char *path)
{
	char url[CTL_URL_MAX];
	CURL *curl;

	if ((size_t)snprintf(url, sizeof(url), "http://unikd%s", path) >=
	    sizeof(url)) {
		ctl_errorf(c, "request path too long");
		return NULL;
	}
	if ((curl = curl_easy_init()) == NULL) {
		ctl_errorf(c, "cannot create a libcurl handle");
		return NULL;
	}
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->ctl_socket);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "unikctl/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, client_progress);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	return curl;
}

/* Prints why curl failed; returns the exit code that goes with it. */
static int
client_fail(struct ctl *c, CURL *curl, CURLcode rc)
{
	long oserr = 0;

	if (rc == CURLE_COULDNT_CONNECT) {
		curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
		if (c->ctl_quiet)
			return CTL_EXIT_UNREACHABLE;
		ctl_errorf(c,
		    "cannot reach unikd at %s: %s "
		    "(is unikd running? another socket: -s PATH or "
		    "UNIKD_SOCKET)",
		    c->ctl_socket,
		    oserr ? strerror((int)oserr) : curl_easy_strerror(rc));
		return CTL_EXIT_UNREACHABLE;
	}
	/* the connection broke: unikd restarting, or killed */
	if (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR ||
	    rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR) {
		if (!c->ctl_quiet)
			ctl_errorf(c, "connection to unikd at %s broke: %s",
			    c->ctl_socket, curl_easy_strerror(rc));
		return CTL_EXIT_UNREACHABLE;
	}
	ctl_errorf(c, "request to unikd at %s failed: %s",
	    c->ctl_socket, curl_easy_strerror(rc));
	return CTL_EXIT_FAIL;
}

/* Prints the message of an error reply ({"error": {"message": ..}}). */
static void
client_print_error(const struct ctl *c, long status, const json_t *reply)
{
	json_t *msg;

	msg = json_object_get(json_object_get(reply, "error"), "message");
	if (json_is_string(msg))
		ctl_errorf(c, "%s", json_string_value(msg));
	else
		ctl_errorf(c, "unikd replied with HTTP status %ld",
		    status);
}

int
ctl_request(struct ctl *c, const char *method, const char *path, json_t *body,
    long *status, json_t **reply)
{
	struct curl_slist *hdrs = NULL;
	struct ctl_buf resp = {0};
	char *text = NULL;
	CURL *curl;
	CURLcode rc;
	int ret = CTL_EXIT_FAIL;

	*reply = NULL;
	if ((curl = client_open(c, method, path)) == NULL)
		return CTL_EXIT_FAIL;
	/* evhttp and "Expect: 100-continue" do not mix; send bodies at once */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body != NULL) {
		if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
			goto fail;
		hdrs =
		    curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	if ((rc = curl_easy_perform(curl)) != CURLE_OK) {
		ret = client_fail(c, curl, rc);
		goto fail;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	if (resp.len > 0)
		*reply = json_loadb(resp.data, resp.len, 0, NULL);
	ret = 0;
fail:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	free(resp.data);
	free(text);
	return ret;
}

int
ctl_call(struct ctl *c, const char *method, const char *path, json_t *body,
    json_t **reply)
{
	long status = 0;
	int rc;

	if ((rc = ctl_request(c, method, path, body, &status, reply)) != 0)
		return rc;
	if (status >= 200 && status <= 299)
		return CTL_EXIT_OK;
	client_print_error(c, status, *reply);
	json_decref(*reply);
	*reply = NULL;
	return CTL_EXIT_FAIL;
}

int
ctl_stream(struct ctl *c, const char *path, ctl_sink sink, void *arg)
{
	return ctl_stream_header(c, path, sink, arg, NULL, NULL, 0);
}

void
ctl_backoff(long *ms)
{
	struct timespec ts = {*ms / 1000, (*ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	*ms = *ms * 2 > CTL_BACKOFF_MAX_MS ? CTL_BACKOFF_MAX_MS : *ms * 2;
}

int
ctl_stream_header(struct ctl *c, const char *path, ctl_sink sink, void *arg,
    const char *header, char *value, size_t vlen)
{
	struct ctl_flow f = {.sink = sink, .arg = arg, .header = header,
	    .value = value, .vlen = vlen};
	json_t *j;
	long status = 0;
	CURLcode rc;
	int ret = CTL_EXIT_OK;

	if ((f.curl = client_open(c, "GET", path)) == NULL)
		return CTL_EXIT_FAIL;
	curl_easy_setopt(f.curl, CURLOPT_WRITEFUNCTION, flow_write);
	curl_easy_setopt(f.curl, CURLOPT_WRITEDATA, &f);
	if (header != NULL && vlen > 0) {
		value[0] = '\0';
		curl_easy_setopt(f.curl, CURLOPT_HEADERFUNCTION, flow_header);
		curl_easy_setopt(f.curl, CURLOPT_HEADERDATA, &f);
	}
	/* hand bytes over as they come, not in 16 KiB blocks */
	curl_easy_setopt(f.curl, CURLOPT_BUFFERSIZE, 1024L);
	rc = curl_easy_perform(f.curl);
	curl_easy_getinfo(f.curl, CURLINFO_RESPONSE_CODE, &status);
	if (f.aborted) {
		ctl_errorf(c, "cannot write output");
		ret = CTL_EXIT_FAIL;
	} else if (rc != CURLE_OK) {
		ret = client_fail(c, f.curl, rc);
	} else if (status < 200 || status > 299) {
		j = NULL;
		if (f.err.len > 0)
			j = json_loadb(f.err.data, f.err.len, 0, NULL);
		client_print_error(c, status, j);
		json_decref(j);
		ret = CTL_EXIT_FAIL;
	}
	curl_easy_cleanup(f.curl);
	free(f.err.data);
	return ret;
}

int
ctl_escape(char *buf, size_t size, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (n + 4 > size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~", ch) != NULL) {
			buf[n++] = (char)ch;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	if (n + 1 > size)
		return -1;
	buf[n] = '\0';
	return 0;
}

int
ctl_vm_path(char *buf, size_t size, const char *vm, const char *suffix)
{
	char name[256];

	if (ctl_escape(name, sizeof(name), vm) == -1 ||
	    (size_t)snprintf(buf, size, "/v1/vms/%s%s", name, suffix) >= size) {
		fprintf(stderr, "unikctl: VM name '%.40s...' is too long\n",
		    vm);
		return -1;
	}
	return 0;
}
