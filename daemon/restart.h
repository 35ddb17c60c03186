/*
 * Restart policies: "no", "on-failure" (optionally only for listed exit
 * codes, at most max_retries times), "always"; exponential backoff with a
 * cap. Pure functions, no event loop.
 */
#ifndef UNIKD_RESTART_H
#define UNIKD_RESTART_H

#include <stdbool.h>
#include <stddef.h>

#define RESTART_MAX_EXIT_CODES 32

enum restart_kind {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
};

struct restart_policy {
	enum restart_kind kind;
	unsigned max_retries;	/* 0: no limit */
	int exit_codes[RESTART_MAX_EXIT_CODES];	/* on-failure only for these; */
	size_t n_exit_codes;	/* 0: any failure */
};

enum restart_action {
	RESTART_ACTION_NONE,	/* stays exited */
	RESTART_ACTION_RESTART,	/* restart after *delay_ms */
	RESTART_ACTION_GIVE_UP,	/* retries exhausted: the VM is failed */
};

/* "no", "on-failure", "always" <-> kind; -1 when unknown. */
int restart_kind_parse(const char *s, enum restart_kind *out);
const char *restart_kind_name(enum restart_kind);

/*
 * What to do when a tender exited. wstatus is waitpid()'s status;
 * by_user is true when the exit follows a stop or kill asked through the
 * API (never restarted); attempt is the number of restarts already made
 * in the current crash streak. A failure is a non-zero exit or any
 * signal. The delay is base_ms * 2^attempt, capped at max_ms.
 */
enum restart_action restart_decide(const struct restart_policy *p,
    int wstatus, bool by_user, unsigned attempt, unsigned base_ms,
    unsigned max_ms, unsigned *delay_ms);

/* A run that lasted at least this long ends the crash streak (the
 * attempt counter goes back to 0), as systemd and Docker do. */
#define RESTART_STREAK_RESET_SECONDS 10

#endif
