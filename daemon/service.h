/*
 * unikd as a systemd service (service.c): the listening socket systemd
 * may hand over, and the notifications a Type=notify unit waits for.
 * Without libsystemd, or when not started by systemd, the notifications
 * are no-ops and there is no handed-over socket.
 */
#ifndef UNIKD_SERVICE_H
#define UNIKD_SERVICE_H

struct unikd;

/* How long READY=1 waits for re-adopted monitors to say hello. */
#define SERVICE_ADOPT_WAIT_MS 5000

/* The control socket systemd passed (socket activation), or -1. Call
 * before anything forks: it checks LISTEN_PID against getpid(). */
int service_listen_fd(void);

/*
 * Called once the store is open, the networks are in place, the monitors
 * of running VMs are reconnected and the API listens. READY=1 goes out as
 * soon as every re-adopted monitor has said hello or is found gone, or
 * after SERVICE_ADOPT_WAIT_MS at the latest. 0, or -1 with errno.
 */
int service_start(struct unikd *);

/* A VM changed state or finished its adoption: refreshes READY=1 and
 * STATUS=. Cheap: the work is done once per turn of the event loop. */
void service_changed(struct unikd *);

/* STOPPING=1, then frees what service_start made. */
void service_stop(struct unikd *);

#endif
