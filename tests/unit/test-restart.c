/* Unit tests for restart policies and backoff (daemon/restart.c). */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "restart.h"

/* waitpid() statuses as the kernel encodes them. */
#define EXITED(code) (((code)&0xff) << 8)
#define KILLED(sig) ((sig)&0x7f)

#define BASE 500
#define CAP 60000

static enum restart_action
decide(const struct restart_policy *p, int wstatus, bool by_user,
    unsigned attempt, unsigned *delay)
{
	return restart_decide(p, wstatus, by_user, attempt, BASE, CAP, delay);
}

static void
test_status_macros(void **state)
{
	(void)state;
	assert_true(WIFEXITED(EXITED(3)));
	assert_int_equal(WEXITSTATUS(EXITED(3)), 3);
	assert_true(WIFSIGNALED(KILLED(SIGKILL)));
	assert_int_equal(WTERMSIG(KILLED(SIGKILL)), SIGKILL);
}

static void
test_kind_names(void **state)
{
	enum restart_kind k;

	(void)state;
	assert_int_equal(restart_kind_parse("no", &k), 0);
	assert_int_equal(k, RESTART_NO);
	assert_int_equal(restart_kind_parse("on-failure", &k), 0);
	assert_int_equal(k, RESTART_ON_FAILURE);
	assert_int_equal(restart_kind_parse("always", &k), 0);
	assert_int_equal(k, RESTART_ALWAYS);
	assert_int_equal(restart_kind_parse("On-Failure", &k), -1);
	assert_int_equal(restart_kind_parse("", &k), -1);
	assert_int_equal(restart_kind_parse("unless-stopped", &k), -1);
	assert_int_equal(restart_kind_parse(NULL, &k), -1);
	assert_string_equal(restart_kind_name(RESTART_NO), "no");
	assert_string_equal(
	    restart_kind_name(RESTART_ON_FAILURE), "on-failure");
	assert_string_equal(restart_kind_name(RESTART_ALWAYS), "always");
	assert_string_equal(
	    restart_kind_name((enum restart_kind)42), "unknown");
}

static void
test_no_never_restarts(void **state)
{
	struct restart_policy p = {.kind = RESTART_NO};
	unsigned d = 1;

	(void)state;
	assert_int_equal(
	    decide(&p, EXITED(0), false, 0, &d), RESTART_ACTION_NONE);
	assert_int_equal(d, 0);
	assert_int_equal(
	    decide(&p, EXITED(1), false, 0, &d), RESTART_ACTION_NONE);
	assert_int_equal(
	    decide(&p, KILLED(SIGSEGV), false, 0, &d), RESTART_ACTION_NONE);
}

static void
test_on_failure(void **state)
{
	struct restart_policy p = {.kind = RESTART_ON_FAILURE};
	unsigned d = 0;

	(void)state;
	/* a clean exit stays exited */
	assert_int_equal(
	    decide(&p, EXITED(0), false, 0, &d), RESTART_ACTION_NONE);
	/* a non-zero exit and any signal are failures */
	assert_int_equal(
	    decide(&p, EXITED(1), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, BASE);
	assert_int_equal(
	    decide(&p, EXITED(255), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, KILLED(SIGSYS), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, KILLED(SIGTERM), false, 0, &d), RESTART_ACTION_RESTART);
}

static void
test_on_failure_exit_codes(void **state)
{
	struct restart_policy p = {
	    .kind = RESTART_ON_FAILURE,
	    .exit_codes = {3, 139},
	    .n_exit_codes = 2,
	};
	unsigned d = 0;

	(void)state;
	assert_int_equal(
	    decide(&p, EXITED(3), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, EXITED(1), false, 0, &d), RESTART_ACTION_NONE);
	assert_int_equal(
	    decide(&p, EXITED(0), false, 0, &d), RESTART_ACTION_NONE);
	/* a signal matches as 128 + signal: SIGSEGV is 139 */
	assert_int_equal(
	    decide(&p, KILLED(SIGSEGV), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, KILLED(SIGKILL), false, 0, &d), RESTART_ACTION_NONE);
}

static void
test_always(void **state)
{
	struct restart_policy p = {.kind = RESTART_ALWAYS};
	unsigned d = 0;

	(void)state;
	assert_int_equal(
	    decide(&p, EXITED(0), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, BASE);
	assert_int_equal(
	    decide(&p, EXITED(7), false, 1, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, 2 * BASE);
	assert_int_equal(
	    decide(&p, KILLED(SIGKILL), false, 2, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, 4 * BASE);
}

static void
test_by_user_never_restarts(void **state)
{
	struct restart_policy always = {.kind = RESTART_ALWAYS};
	struct restart_policy onf = {.kind = RESTART_ON_FAILURE};
	unsigned d = 1;

	(void)state;
	assert_int_equal(
	    decide(&always, KILLED(SIGTERM), true, 0, &d), RESTART_ACTION_NONE);
	assert_int_equal(d, 0);
	assert_int_equal(
	    decide(&always, EXITED(0), true, 0, &d), RESTART_ACTION_NONE);
	assert_int_equal(
	    decide(&onf, KILLED(SIGKILL), true, 0, &d), RESTART_ACTION_NONE);
	/* even with retries exhausted: a user's stop is not a failure */
	onf.max_retries = 1;
	assert_int_equal(
	    decide(&onf, EXITED(1), true, 5, &d), RESTART_ACTION_NONE);
}

static void
test_give_up(void **state)
{
	struct restart_policy p = {
	    .kind = RESTART_ON_FAILURE, .max_retries = 3};
	unsigned d = 0;

	(void)state;
	assert_int_equal(
	    decide(&p, EXITED(1), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, EXITED(1), false, 2, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, 4 * BASE);
	assert_int_equal(
	    decide(&p, EXITED(1), false, 3, &d), RESTART_ACTION_GIVE_UP);
	assert_int_equal(d, 0);
	assert_int_equal(
	    decide(&p, EXITED(1), false, 4, &d), RESTART_ACTION_GIVE_UP);
	/* a clean exit is not a failure: nothing to give up on */
	assert_int_equal(
	    decide(&p, EXITED(0), false, 3, &d), RESTART_ACTION_NONE);

	p.kind = RESTART_ALWAYS;
	p.max_retries = 1;
	assert_int_equal(
	    decide(&p, EXITED(0), false, 0, &d), RESTART_ACTION_RESTART);
	assert_int_equal(
	    decide(&p, EXITED(0), false, 1, &d), RESTART_ACTION_GIVE_UP);
}

static void
test_no_limit(void **state)
{
	struct restart_policy p = {
	    .kind = RESTART_ON_FAILURE, .max_retries = 0};
	unsigned d = 0;

	(void)state;
	assert_int_equal(
	    decide(&p, EXITED(1), false, 1000, &d), RESTART_ACTION_RESTART);
	assert_int_equal(d, CAP);
	assert_int_equal(decide(&p, EXITED(1), false, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, CAP);
}

static void
test_backoff(void **state)
{
	struct restart_policy p = {.kind = RESTART_ALWAYS};
	unsigned expect[] = {
	    500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
	unsigned attempt, d;

	(void)state;
	for (attempt = 0; attempt < 10; attempt++) {
		d = 0;
		assert_int_equal(decide(&p, EXITED(0), false, attempt, &d),
		    RESTART_ACTION_RESTART);
		assert_int_equal(d, expect[attempt]);
	}
}

static void
test_backoff_overflow(void **state)
{
	struct restart_policy p = {.kind = RESTART_ALWAYS};
	unsigned d;

	(void)state;
	/* no wrap-around into a small delay */
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 31, 3, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, UINT32_MAX);
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 30, 3, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, 3u << 30);
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 31, 1, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, 1u << 31);
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 32, 1, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, UINT32_MAX);
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 64, 1, UINT32_MAX, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, UINT32_MAX);
	/* a base above the cap is the cap; a zero base is no delay */
	assert_int_equal(
	    restart_decide(&p, EXITED(0), false, 0, 9000, 1000, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, 1000);
	assert_int_equal(restart_decide(&p, EXITED(0), false, 5, 0, 1000, &d),
	    RESTART_ACTION_RESTART);
	assert_int_equal(d, 0);
	/* the delay pointer is optional */
	assert_int_equal(restart_decide(&p, EXITED(0), false, 0, 1, 1, NULL),
	    RESTART_ACTION_RESTART);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_macros),
	    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_no_never_restarts),
	    cmocka_unit_test(test_on_failure),
	    cmocka_unit_test(test_on_failure_exit_codes),
	    cmocka_unit_test(test_always),
	    cmocka_unit_test(test_by_user_never_restarts),
	    cmocka_unit_test(test_give_up),
	    cmocka_unit_test(test_no_limit),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_backoff_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
