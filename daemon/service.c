/*
 * unikd under systemd: socket activation and sd_notify (libsystemd).
 * READY=1 means what the unit's dependents care about: the store is open,
 * networks are in place, the API listens and every VM that ran before a
 * restart is re-adopted, i.e. its monitor answered the reconnection with
 * its hello (or was found gone and the VM's exit recorded). STATUS= tells
 * `systemctl status` how many VMs run; it is sent when the count changes,
 * counted at most once per turn of the event loop.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/event.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "log.h"
#include "service.h"
#include "unikd.h"
#include "vm.h"

struct service {
	struct unikd *u;
	struct event *update;	/* made active by service_changed */
	struct event *deadline;	/* the bound on waiting for hellos */
	bool notify;		/* NOTIFY_SOCKET is set */
	bool ready;		/* READY=1 sent */
	bool waited_out;	/* the deadline passed before every hello */
	size_t running;		/* in the last STATUS= sent */
	bool status_sent;
	struct unikd_event_sub sub; /* every VM state change is an event */
};

int
service_listen_fd(void)
{
#ifdef HAVE_LIBSYSTEMD
	int n = sd_listen_fds(1);

	if (n < 0) {
		errno = -n;
		log_warn("systemd: sd_listen_fds");
		return -1;
	}
	if (n == 0)
		return -1;
	if (n > 1)
		log_warnx("systemd passed %d sockets; using the first", n);
	if (sd_is_socket(SD_LISTEN_FDS_START, AF_UNIX, SOCK_STREAM, 1) <= 0) {
		log_warnx("systemd: fd %d is not a listening UNIX stream "
		    "socket; making our own", SD_LISTEN_FDS_START);
		return -1;
	}
	return SD_LISTEN_FDS_START;
#else
	return -1;
#endif
}

static void
service_send(const struct service *s, const char *text)
{
#ifdef HAVE_LIBSYSTEMD
	int rc;

	if (!s->notify)
		return;
	if ((rc = sd_notify(0, text)) < 0) {
		errno = -rc;
		log_warn("systemd: sd_notify");
	}
#else
	(void)s;
	(void)text;
#endif
}

static void
service_update(int fd, short what, void *arg)
{
	struct service *s = arg;
	const struct vm *vm;
	size_t running = 0, adopting = 0;
	char text[128];

	(void)fd;
	(void)what;
	TAILQ_FOREACH(vm, &s->u->vms, entry) {
		if (vm_is_active(vm))
			running++;
		if (vm->adopting)
			adopting++;
	}
	if (!s->ready && adopting > 0 && !s->waited_out) {
		snprintf(text, sizeof(text), "STATUS=re-adopting %zu VM%s",
		    adopting, adopting == 1 ? "" : "s");
		service_send(s, text);
		return;
	}
	if (s->ready && s->status_sent && running == s->running)
		return;
	snprintf(text, sizeof(text), "%sSTATUS=%zu VM%s running",
	    s->ready ? "" : "READY=1\n", running, running == 1 ? "" : "s");
	service_send(s, text);
	if (!s->ready) {
		log_info("action=ready vms=%zu running=%zu not_adopted=%zu",
		    s->u->nvms, running, adopting);
		evtimer_del(s->deadline);
	}
	s->ready = true;
	s->status_sent = true;
	s->running = running;
}

static void
service_on_event(void *arg, int64_t seq, const char *line)
{
	struct service *s = arg;

	(void)seq;
	(void)line;
	service_changed(s->u);
}

static void
service_deadline(int fd, short what, void *arg)
{
	struct service *s = arg;

	(void)fd;
	(void)what;
	if (s->ready)
		return;
	log_warnx("action=ready wait_ms=%d error=\"some re-adopted monitors "
	    "did not say hello in time\"", SERVICE_ADOPT_WAIT_MS);
	s->waited_out = true;
	service_update(-1, 0, s);
}

int
service_start(struct unikd *u)
{
	struct timeval tv = {
		.tv_sec = SERVICE_ADOPT_WAIT_MS / 1000,
		.tv_usec = (SERVICE_ADOPT_WAIT_MS % 1000) * 1000,
	};
	struct service *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	s->u = u;
	s->notify = getenv("NOTIFY_SOCKET") != NULL;
	s->update = event_new(u->base, -1, 0, service_update, s);
	s->deadline = evtimer_new(u->base, service_deadline, s);
	if (s->update == NULL || s->deadline == NULL) {
		if (s->update != NULL)
			event_free(s->update);
		free(s);
		errno = ENOMEM;
		return -1;
	}
	evtimer_add(s->deadline, &tv);
	u->service = s;
	s->sub.cb = service_on_event;
	s->sub.arg = s;
	unikd_event_subscribe(u, &s->sub);
	service_update(-1, 0, s);
	return 0;
}

void
service_changed(struct unikd *u)
{
	struct service *s = u->service;

	if (s == NULL || (!s->notify && s->ready))
		return;
	/* an event already active stays so once: the count is made once
	 * per turn of the loop however many VMs changed in it */
	event_active(s->update, EV_TIMEOUT, 1);
}

void
service_stop(struct unikd *u)
{
	struct service *s = u->service;

	if (s == NULL)
		return;
	service_send(s, "STOPPING=1");
	unikd_event_unsubscribe(u, &s->sub);
	event_free(s->update);
	event_free(s->deadline);
	free(s);
	u->service = NULL;
}
