/*
 * Raw-byte requests to unikd (see ctl-data.h). JSON requests go through
 * ctl-client.c; these carry application/octet-stream bodies one way or
 * the other, a piece at a time, so neither side holds a whole block.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"
#include "ctl-data.h"

struct ctl_data {
	struct ctl *ctl;
	CURL *curl;
};

/* Where a GET's body goes: buf up to cap on success, err otherwise. */
struct ctl_data_sink {
	CURL *curl;
	char *buf;
	size_t cap, got;
	char *err;
	size_t errlen;
};

struct ctl_data *
ctl_data_open(struct ctl *c)
{
	struct ctl_data *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->curl = curl_easy_init()) == NULL) {
		ctl_errorf(c, "cannot create a libcurl handle");
		free(d);
		return NULL;
	}
	d->ctl = c;
	return d;
}

void
ctl_data_close(struct ctl_data *d)
{
	if (d == NULL)
		return;
	curl_easy_cleanup(d->curl);
	free(d);
}

static size_t
ctl_data_write(char *p, size_t size, size_t n, void *arg)
{
	struct ctl_data_sink *s = arg;
	long status = 0;
	char *e;

	n *= size;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299) {
		if (n > s->cap - s->got)
			return 0;	/* more than asked for: stop */
		memcpy(s->buf + s->got, p, n);
		s->got += n;
		return n;
	}
	if ((e = realloc(s->err, s->errlen + n + 1)) == NULL)
		return 0;
	memcpy(e + s->errlen, p, n);
	s->err = e;
	s->errlen += n;
	e[s->errlen] = '\0';
	return n;
}

static void
ctl_data_setup(struct ctl_data *d, const char *method, const char *path,
    struct ctl_data_sink *s)
{
	char url[2048];

	snprintf(url, sizeof(url), "http://unikd%s", path);
	curl_easy_reset(d->curl);
	curl_easy_setopt(d->curl, CURLOPT_UNIX_SOCKET_PATH,
	    d->ctl->ctl_socket);
	curl_easy_setopt(d->curl, CURLOPT_URL, url);
	curl_easy_setopt(d->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(d->curl, CURLOPT_USERAGENT,
	    "unikctl/" PACKAGE_VERSION);
	curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, ctl_data_write);
	curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, s);
	s->curl = d->curl;
}

/* The exit code of a finished request; prints what went wrong. */
static int
ctl_data_result(struct ctl_data *d, CURLcode rc, struct ctl_data_sink *s)
{
	long status = 0, oserr = 0;
	json_t *j, *msg;

	if (rc == CURLE_COULDNT_CONNECT) {
		curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &oserr);
		ctl_errorf(d->ctl, "cannot reach unikd at %s: %s",
		    d->ctl->ctl_socket, oserr ? strerror((int)oserr) :
		    curl_easy_strerror(rc));
		return CTL_EXIT_UNREACHABLE;
	}
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK && status >= 200 && status <= 299) {
		ctl_errorf(d->ctl, "request to unikd failed: %s",
		    curl_easy_strerror(rc));
		return CTL_EXIT_FAIL;
	}
	if (status >= 200 && status <= 299)
		return CTL_EXIT_OK;
	j = s->err != NULL ? json_loads(s->err, 0, NULL) : NULL;
	msg = json_object_get(json_object_get(j, "error"), "message");
	if (json_is_string(msg))
		ctl_errorf(d->ctl, "%s", json_string_value(msg));
	else
		ctl_errorf(d->ctl, "unikd replied with HTTP status %ld%s"
		    "%s", status, rc != CURLE_OK ? ": " : "",
		    rc != CURLE_OK ? curl_easy_strerror(rc) : "");
	json_decref(j);
	return CTL_EXIT_FAIL;
}

int
ctl_data_put(struct ctl_data *d, const char *path, const void *buf,
    size_t len, const char *range, json_t **reply)
{
	struct ctl_data_sink s = {0};
	struct curl_slist *hdrs = NULL;
	char hdr[128];
	char *out;
	int rc;

	*reply = NULL;
	/* room for the JSON answer; a piece's reply is small */
	if ((out = malloc(65536)) == NULL)
		return CTL_EXIT_FAIL;
	s.buf = out;
	s.cap = 65535;
	ctl_data_setup(d, "PUT", path, &s);
	hdrs = curl_slist_append(hdrs, "Expect:");
	hdrs = curl_slist_append(hdrs,
	    "Content-Type: application/octet-stream");
	if (range != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Range: %s", range);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, buf);
	curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len);
	rc = ctl_data_result(d, curl_easy_perform(d->curl), &s);
	if (rc == CTL_EXIT_OK)
		*reply = json_loadb(out, s.got, 0, NULL);
	curl_slist_free_all(hdrs);
	free(out);
	free(s.err);
	return rc;
}

int
ctl_data_get(struct ctl_data *d, const char *path, void *buf, size_t cap,
    size_t *got)
{
	struct ctl_data_sink s = {.buf = buf, .cap = cap};
	int rc;

	ctl_data_setup(d, "GET", path, &s);
	rc = ctl_data_result(d, curl_easy_perform(d->curl), &s);
	*got = s.got;
	free(s.err);
	return rc;
}

void
ctl_data_size(char *buf, size_t len, long long bytes)
{
	static const char units[] = "KMGTP";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%lld", bytes);
	else if (v == (long long)v)
		snprintf(buf, len, "%lld%c", (long long)v, units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}
