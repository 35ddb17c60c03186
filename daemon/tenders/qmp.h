/*
 * A minimal QMP client (QEMU's JSON control protocol on a UNIX socket)
 * that runs on the daemon's event loop and never blocks it: connect, read
 * the greeting, leave capabilities negotiation, run one command and wait
 * for its answer, each step bounded by a one-shot timer.
 */
#ifndef UNIKD_QMP_H
#define UNIKD_QMP_H

#include <stddef.h>

struct event_base;
struct qmp_session;

/* How long QEMU has to answer each step (greeting, capabilities, the
 * command) before the session gives up. */
#define QMP_STEP_TIMEOUT_MS 1000

/*
 * Called once when the session ends: rc 0 when QEMU answered the command
 * with {"return": ...} (for "quit", also when it closed the connection
 * first), -1 with a reason in err otherwise. The session is already
 * freed.
 */
typedef void (*qmp_done_cb)(int rc, const char *err, void *arg);

/*
 * Starts running command ("system_powerdown", "quit") on the QMP socket
 * at path, on base. NULL with a reason in err when it cannot connect
 * (done is not called then); done is never called from within here.
 */
struct qmp_session *qmp_start(struct event_base *base, const char *path,
    const char *command, qmp_done_cb done, void *arg, char *err,
    size_t errlen);
/* The same on a connected stream socket fd, which the session owns from
 * now on (closed on failure too). */
struct qmp_session *qmp_start_fd(struct event_base *base, int fd,
    const char *command, qmp_done_cb done, void *arg, char *err,
    size_t errlen);
/* Ends a session early, without calling done. */
void qmp_cancel(struct qmp_session *);

#endif
