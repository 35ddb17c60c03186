/*
 * Restart policies (see restart.h): whether an exited tender is started
 * again, after which delay, and when the daemon gives up.
 */
#include "config.h"

#include <sys/wait.h>

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "restart.h"

static const char *const restart_kind_names[] = {
    [RESTART_NO] = "no",
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ALWAYS] = "always",
};

#define RESTART_NKINDS                                                         \
	(sizeof(restart_kind_names) / sizeof(restart_kind_names[0]))

int
restart_kind_parse(const char *s, enum restart_kind *out)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < RESTART_NKINDS; i++) {
		if (strcmp(s, restart_kind_names[i]) == 0) {
			*out = (enum restart_kind)i;
			return 0;
		}
	}
	return -1;
}

const char *
restart_kind_name(enum restart_kind kind)
{
	if ((size_t)kind >= RESTART_NKINDS)
		return "unknown";
	return restart_kind_names[kind];
}

/* A failure is a non-zero exit or a death by signal. */
static bool
restart_is_failure(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus) != 0;
	return WIFSIGNALED(wstatus);
}

/*
 * Whether the exit matches the policy's exit_codes list (any failure when
 * the list is empty). A death by signal is matched as the shell numbers
 * it, 128 + signal, the number the API reports as exit_status.
 */
static bool
restart_code_listed(const struct restart_policy *p, int wstatus)
{
	int code;
	size_t i;

	if (p->n_exit_codes == 0)
		return true;
	if (WIFEXITED(wstatus))
		code = WEXITSTATUS(wstatus);
	else if (WIFSIGNALED(wstatus))
		code = 128 + WTERMSIG(wstatus);
	else
		return false;
	for (i = 0; i < p->n_exit_codes && i < RESTART_MAX_EXIT_CODES; i++)
		if (p->exit_codes[i] == code)
			return true;
	return false;
}

/* base_ms * 2^attempt, capped at max_ms, without overflowing. */
static unsigned
restart_delay(unsigned attempt, unsigned base_ms, unsigned max_ms)
{
	if (base_ms == 0)
		return 0;
	if (base_ms >= max_ms)
		return max_ms;
	if (attempt >= sizeof(unsigned) * CHAR_BIT ||
	    base_ms > (max_ms >> attempt))
		return max_ms;
	return base_ms << attempt;
}

enum restart_action
restart_decide(const struct restart_policy *p, int wstatus, bool by_user,
    unsigned attempt, unsigned base_ms, unsigned max_ms, unsigned *delay_ms)
{
	bool restart;

	if (delay_ms != NULL)
		*delay_ms = 0;
	if (by_user)
		return RESTART_ACTION_NONE;
	switch (p->kind) {
	case RESTART_ON_FAILURE:
		restart = restart_is_failure(wstatus) &&
		          restart_code_listed(p, wstatus);
		break;
	case RESTART_ALWAYS:
		restart = true;
		break;
	default:
		restart = false;
		break;
	}
	if (!restart)
		return RESTART_ACTION_NONE;
	if (p->max_retries != 0 && attempt >= p->max_retries)
		return RESTART_ACTION_GIVE_UP;
	if (delay_ms != NULL)
		*delay_ms = restart_delay(attempt, base_ms, max_ms);
	return RESTART_ACTION_RESTART;
}
