/*
 * The "exec" tender: any program, run from an argv template given by the
 * operator in [tender.exec] argv, e.g.
 *
 *   argv = ${path} --mem=${memory} -- ${image} ${args}
 *
 * The template is split on blanks into tokens. Inside a token, ${path}
 * (the [tender.exec] binary), ${image}, ${memory} (MiB), ${name} (the
 * VM's name) and the NICs' ${nic.NAME.tap}, ${nic.NAME.mac} (and .ip,
 * .cidr, .gateway) are replaced (placeholder.c's expander, "$${" a literal
 * "${"); a token that is exactly ${args} becomes the VM's args, one argv
 * entry each, their own ${nic.*} filled in. The first token is what the
 * monitor executes. No shell is involved: quotes and $VAR mean nothing.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "placeholder.h"
#include "tender.h"
#include "uerr.h"
#include "vmspec.h"

#define EXEC_DEFAULT_ARGV "${path} ${image} ${args}"
#define EXEC_BLANKS " \t\r\n"
#define EXEC_KNOWN                                                             \
	"${path}, ${image}, ${memory}, ${name}, ${args}, "                     \
	"${nic.NAME.tap|mac|ip|cidr|gateway}"

/* The values placeholders stand for, for one VM. */
struct exec_vars {
	const struct vm_spec *spec;
	const char *path;
	const char *image;	/* /dev/fd/97, or the path in a dry run */
	char memory[16];
};

/*
 * An unknown program may not answer --version (or may start a VM when
 * asked): only check that it is an executable file.
 */
static int
exec_probe(const char *path, char *buf, size_t len)
{
	struct stat st;

	if (stat(path, &st) == -1 || access(path, X_OK) == -1) {
		snprintf(buf, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(buf, len, "%s: not a regular file", path);
		return -1;
	}
	snprintf(buf, len, "exec %s", path);
	return 0;
}

/* The value of placeholder NAME (len bytes), or NULL when unknown. */
static const char *
exec_var(void *arg, const char *name, size_t len)
{
	static const char *const names[] = {"path", "image", "memory", "name"};
	const struct exec_vars *v = arg;
	const char *values[] = {
	    v->path, v->image, v->memory, v->spec->name};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len &&
		    strncmp(name, names[i], len) == 0)
			return values[i];
	return placeholder_nic_value(v->spec->nics, v->spec->nnics, name, len);
}

/* Expands the placeholders of one token into *out (malloc'd). */
static int
exec_expand(
    const struct exec_vars *v, const char *tok, char **out, struct uerr *e)
{
	const struct placeholder_scope sc = {
	    .what = "[tender.exec] argv: ",
	    .known = EXEC_KNOWN,
	    .lookup = exec_var,
	    .arg = (void *)v,
	};

	if (strstr(tok, "${args}") != NULL)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "[tender.exec] argv: "
		    "'${args}' must be a whole token, not part of '%s'",
		    tok);
	return placeholder_subst(tok, &sc, out, e);
}

/* Appends a malloc'd string to cmd->argv, growing it. */
static int
exec_push(struct tender_cmd *cmd, char *arg, struct uerr *e)
{
	char **argv;

	argv = reallocarray(cmd->argv, cmd->argc + 2, sizeof(char *));
	if (argv == NULL) {
		free(arg);
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	}
	cmd->argv = argv;
	cmd->argv[cmd->argc++] = arg;
	cmd->argv[cmd->argc] = NULL;
	return 0;
}

/* One token of the template: ${args} splats, anything else expands. */
static int
exec_token(const struct exec_vars *v, const char *tok, struct tender_cmd *cmd,
    struct uerr *e)
{
	char *arg;
	size_t i;

	if (strcmp(tok, "${args}") == 0) {
		/* The program run is the operator's choice, not a client's. */
		if (cmd->argc == 0)
			return uerr_set(e, UERR_UNPROCESSABLE,
			    "[tender.exec] argv: the first token must name "
			    "the program, not ${args}");
		for (i = 0; i < v->spec->nargs; i++) {
			if (placeholder_expand(v->spec->args[i],
			    v->spec->nics, v->spec->nnics, false, &arg,
			    e) == -1)
				return -1;
			if (exec_push(cmd, arg, e) == -1)
				return -1;
		}
		return 0;
	}
	if (exec_expand(v, tok, &arg, e) == -1)
		return -1;
	return exec_push(cmd, arg, e);
}

static int
exec_command(const struct vm_spec *spec, const struct conf_tender *tc,
    const char *path, int image_fd, struct tender_cmd *cmd, struct uerr *e)
{
	struct exec_vars v = {.spec = spec, .path = path};
	char *tmpl, *tok, *save = NULL;

	memset(cmd, 0, sizeof(*cmd));
	if ((v.image = tender_image(cmd, spec, image_fd)) == NULL)
		return uerr_set(e, UERR_INTERNAL, "vm '%s': image fd: %s",
		    spec->name, strerror(errno));
	snprintf(v.memory, sizeof(v.memory), "%u", spec->memory);
	tmpl = strdup(
	    tc != NULL && tc->argv != NULL ? tc->argv : EXEC_DEFAULT_ARGV);
	if (tmpl == NULL) {
		tender_cmd_free(cmd);
		return uerr_set(e, UERR_INTERNAL, "out of memory");
	}
	for (tok = strtok_r(tmpl, EXEC_BLANKS, &save); tok != NULL;
	     tok = strtok_r(NULL, EXEC_BLANKS, &save))
		if (exec_token(&v, tok, cmd, e) == -1)
			goto fail;
	if (cmd->argc == 0 || cmd->argv[0][0] == '\0') {
		uerr_set(e, UERR_UNPROCESSABLE,
		    "[tender.exec] argv: "
		    "the template names no program");
		goto fail;
	}
	free(tmpl);
	return 0;
fail:
	free(tmpl);
	tender_cmd_free(cmd);
	return -1;
}

const struct tender_driver tender_exec = {
    .name = "exec",
    .default_path = NULL,
    .min_memory = 1,
    .stop_signal = SIGTERM,
    .probe = exec_probe,
    .command = exec_command,
    .exit_reason = NULL,
};
