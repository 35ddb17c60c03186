/*
 * UNIKD_FAULT: see fault.h. The variable is read once; the kill is
 * SIGKILL and not exit(), so nothing of unikd's own shutdown runs, as
 * with a real kill -9.
 */
#include "config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"

void
fault_point(const char *step)
{
	static const char *want;
	static bool read;

	if (!read) {
		want = getenv("UNIKD_FAULT");
		read = true;
	}
	if (want == NULL || strcmp(want, step) != 0)
		return;
	log_warnx("action=fault step=%s result=\"UNIKD_FAULT: killed\"", step);
	kill(getpid(), SIGKILL);
	_exit(137);	/* not reached */
}
