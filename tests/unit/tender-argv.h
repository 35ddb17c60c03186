/* What the tender unit tests assert on a built command. */
#ifndef UNIKD_TEST_TENDER_ARGV_H
#define UNIKD_TEST_TENDER_ARGV_H

#include "tender.h"

/* cmd's argv is exactly expect (NULL-terminated), and argc its length. */
void assert_argv(const struct tender_cmd *cmd, const char *const *expect);

#endif
