/*
 * What the drivers share to build a command: a growing argv, the fd map,
 * and the guest's kernel command line made from its args.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "placeholder.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

#define TENDER_XSTR(x) #x
#define TENDER_STR(x) TENDER_XSTR(x)

int
tender_argv_add(struct tender_cmd *cmd, const char *fmt, ...)
{
	char **argv, *arg;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&arg, fmt, ap);
	va_end(ap);
	if (rc == -1)
		return -1;
	argv = reallocarray(cmd->argv, cmd->argc + 2, sizeof(char *));
	if (argv == NULL) {
		free(arg);
		return -1;
	}
	cmd->argv = argv;
	cmd->argv[cmd->argc++] = arg;
	cmd->argv[cmd->argc] = NULL;
	return 0;
}

int
tender_fd_add(struct tender_cmd *cmd, int fd, int target)
{
	if (cmd->nfds >= TENDER_MAX_FDS) {
		close(fd);
		errno = EMFILE;
		return -1;
	}
	cmd->fds[cmd->nfds] = fd;
	cmd->fd_targets[cmd->nfds++] = target;
	return 0;
}

const char *
tender_image(struct tender_cmd *cmd, const struct vm_spec *spec, int image_fd)
{
	int fd;

	if (image_fd == -1)
		return spec->image;
	if ((fd = fcntl(image_fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    tender_fd_add(cmd, fd, TENDER_IMAGE_FD) == -1)
		return NULL;
	return "/dev/fd/" TENDER_STR(TENDER_IMAGE_FD);
}

/* What a guest's command-line parser would split or choke on. */
static int
tender_cmdline_arg_ok(const char *arg)
{
	const unsigned char *p;

	for (p = (const unsigned char *)arg; *p != '\0'; p++)
		if (isspace(*p) || iscntrl(*p) || *p == '"' || *p == '\'' ||
		    *p == '\\')
			return 0;
	return 1;
}

int
tender_cmdline(const struct vm_spec *spec, char **out, struct uerr *e)
{
	char *line = NULL, *arg = NULL;
	size_t len = 0, n, i;

	if ((line = calloc(1, TENDER_CMDLINE_MAX + 1)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	for (i = 0; i < spec->nargs; i++) {
		if (placeholder_expand(spec->args[i], spec->nics, spec->nnics,
		    false, &arg, e) == -1)
			goto fail;
		if (!tender_cmdline_arg_ok(arg)) {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'args': argument %zu ('%.64s') holds a "
			    "blank, a quote, a backslash or a control "
			    "character, which tender '%s' cannot pass on its "
			    "kernel command line", i, arg, spec->tender);
			goto fail;
		}
		if ((n = strlen(arg)) == 0) {	/* would vanish anyway */
			free(arg);
			arg = NULL;
			continue;
		}
		if (len + (len > 0) + n > TENDER_CMDLINE_MAX) {
			uerr_set(e, UERR_UNPROCESSABLE,
			    "field 'args': the kernel command line would be "
			    "longer than %d bytes", TENDER_CMDLINE_MAX);
			goto fail;
		}
		if (len > 0)
			line[len++] = ' ';
		memcpy(line + len, arg, n + 1);
		len += n;
		free(arg);
		arg = NULL;
	}
	*out = line;
	return 0;
fail:
	free(arg);
	free(line);
	return -1;
}
