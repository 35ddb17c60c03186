/*
 * Console logs, as the monitor writes them: state_dir/vms/NAME/console.log
 * and the rotated console.log.1 (newest) .. console.log.N (oldest). They
 * outlive the VM's runs, so logs work on a stopped or crashed VM, and go
 * only when the VM is removed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "console-index.h"
#include "log.h"
#include "monitor.h"
#include "unikd.h"
#include "vm-internal.h"

#define VM_CONSOLE_MAX_FILES 100

void
vm_console_file(const struct vm *vm, unsigned n, char *buf, size_t len)
{
	char base[4096];

	vm_path_console(vm, base, sizeof(base));
	if (n == 0)
		snprintf(buf, len, "%s", base);
	else
		snprintf(buf, len, "%s.%u", base, n);
}

static int
vm_console_append(const char *path, struct evbuffer *out)
{
	char chunk[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		evbuffer_add(out, chunk, (size_t)n);
	close(fd);
	return n == -1 ? -1 : 0;
}

/* Drops everything before the last tail lines of buf. */
static void
vm_console_tail(struct evbuffer *buf, long tail)
{
	size_t len = evbuffer_get_length(buf), i;
	const unsigned char *p;
	long lines = 0;

	if (len == 0)
		return;
	if (tail == 0) {
		evbuffer_drain(buf, len);
		return;
	}
	p = evbuffer_pullup(buf, -1);
	/* a last line without its newline counts as a line */
	for (i = p[len - 1] == '\n' ? len - 1 : len; i > 0; i--) {
		if (p[i - 1] == '\n' && ++lines == tail) {
			evbuffer_drain(buf, i);
			return;
		}
	}
}

void
vm_console_sync(struct vm *vm)
{
	monitor_drain(vm->monitor);
}

int
vm_console_read(struct vm *vm, long tail, struct evbuffer *out,
    size_t *skipped)
{
	size_t len;
	struct evbuffer *all;
	char path[4096];
	unsigned n;
	int rc = 0;

	if ((all = evbuffer_new()) == NULL)
		return -1;
	for (n = vm->u->cf.console_files; n > 0 && rc == 0; n--) {
		vm_console_file(vm, n, path, sizeof(path));
		rc = vm_console_append(path, all);
	}
	if (rc == 0) {
		vm_console_file(vm, 0, path, sizeof(path));
		rc = vm_console_append(path, all);
	}
	if (rc == 0) {
		len = evbuffer_get_length(all);
		if (tail >= 0)
			vm_console_tail(all, tail);
		if (skipped != NULL)
			*skipped = len - evbuffer_get_length(all);
		evbuffer_add_buffer(out, all);
	} else
		log_warn(
		    "vm=%s action=console-read path=%s", vm->spec.name, path);
	evbuffer_free(all);
	return rc;
}

void
vm_console_remove(struct vm *vm)
{
	char path[4096], idx[4096];
	unsigned n;

	for (n = 0; n <= VM_CONSOLE_MAX_FILES; n++) {
		vm_console_file(vm, n, path, sizeof(path));
		console_idx_path(path, idx, sizeof(idx));
		unlink(idx);
		if (unlink(path) == -1 && errno == ENOENT &&
		    n > vm->u->cf.console_files)
			break;
	}
	vm_path_dir(vm, path, sizeof(path));
	if (rmdir(path) == -1 && errno != ENOENT)
		log_warn("vm=%s action=remove path=%s", vm->spec.name, path);
}
