/*
 * Fuzz target: the daemon's config file. Whatever the bytes, reading
 * must not crash or leak, and must either accept the file or report
 * at least one problem.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct conf cf;
	FILE *sink;
	int fd, rc;

	if ((fd = memfd_create("fuzz-conf", MFD_CLOEXEC)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	sink = fopen("/dev/null", "w");
	conf_defaults(&cf);
	rc = conf_load(&cf, path, sink);
	if (rc < 0)
		abort();	/* a readable file is never "unreadable" */
	conf_free(&cf);
	fclose(sink);
	close(fd);
	return 0;
}
