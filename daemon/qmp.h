/*
 * A minimal QMP client (QEMU's JSON control protocol on a UNIX socket):
 * connect, read the greeting, leave capabilities negotiation, run one
 * command and read its answer. Blocking, with a short overall deadline,
 * as stops are rare and QEMU answers a local socket in microseconds.
 */
#ifndef UNIKD_QMP_H
#define UNIKD_QMP_H

#include <stddef.h>

/* How long one qmp_execute() may take in all. */
#define QMP_TIMEOUT_MS 1000

/*
 * Runs command ("system_powerdown", "quit") on the QMP socket at path.
 * 0 when QEMU answered {"return": ...} (for "quit", also when it closed
 * the connection first); -1 with errno and a reason in err.
 */
int qmp_execute(const char *path, const char *command, char *err,
    size_t errlen);

#endif
