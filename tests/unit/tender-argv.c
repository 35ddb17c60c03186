/* What the tender unit tests assert on a built command (tender-argv.h). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tender-argv.h"

void
assert_argv(const struct tender_cmd *cmd, const char *const *expect)
{
	size_t i;

	for (i = 0; expect[i] != NULL; i++) {
		assert_non_null(cmd->argv[i]);
		assert_string_equal(cmd->argv[i], expect[i]);
	}
	assert_null(cmd->argv[i]);
	assert_int_equal(cmd->argc, i);
}
