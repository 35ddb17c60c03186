/*
 * The input rules of blocks and images, as pure functions (no store, no
 * files) so the unit tests check them alone: sizes, names and the
 * Content-Range of an import piece.
 *
 * A size that is not a whole number of 512-byte sectors is refused, not
 * rounded: every tender wants whole sectors (docs/tenders.md), and a silently
 * larger block would surprise whoever checks the size they asked for.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockbackend.h"
#include "block.h"
#include "uerr.h"
#include "vmspec.h"

#define BLOCK_SIZE_RULE                                                  \
	"a positive number of bytes that is a multiple of 512, or a size "  \
	"such as 64M, 1G"

static int
block_size_max(uint64_t size, uint64_t max, struct uerr *e)
{
	if (size > max)
		return uerr_set(e, UERR_UNPROCESSABLE,
		    "field 'size': %" PRIu64 " bytes is more than the "
		    "largest block allowed (limits.max_block_size = %" PRIu64
		    " bytes)", size, max);
	return 0;
}

int
block_size_from_json(const json_t *v, uint64_t max, uint64_t *out,
    struct uerr *e)
{
	const char *s;
	json_int_t n;
	uint64_t size;

	if (json_is_integer(v)) {
		n = json_integer_value(v);
		if (n <= 0 || n % BB_SECTOR != 0)
			return uerr_set(e, UERR_INVALID,
			    "field 'size': %lld is not %s", (long long)n,
			    BLOCK_SIZE_RULE);
		size = (uint64_t)n;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v))
			return uerr_set(e, UERR_INVALID,
			    "field 'size': must be %s", BLOCK_SIZE_RULE);
		if (bb_size_parse(s, &size) == -1) {
			if (errno == ERANGE)
				return uerr_set(e, UERR_UNPROCESSABLE,
				    "field 'size': '%.64s' is more than the "
				    "largest block allowed "
				    "(limits.max_block_size = %" PRIu64
				    " bytes)", s, max);
			return uerr_set(e, UERR_INVALID,
			    "field 'size': '%.64s' is not %s", s,
			    BLOCK_SIZE_RULE);
		}
	} else {
		return uerr_set(e, UERR_INVALID,
		    "field 'size' is required: %s", BLOCK_SIZE_RULE);
	}
	if (block_size_max(size, max, e) == -1)
		return -1;
	*out = size;
	return 0;
}

int
block_name_check(const char *what, const char *name, struct uerr *e)
{
	if (name == NULL)
		return uerr_set(e, UERR_INVALID, "field 'name' is required");
	if (!vm_name_valid(name))
		return uerr_set(e, UERR_INVALID,
		    "%s name '%.80s' is not valid ([a-z0-9][a-z0-9_-]{0,62})",
		    what, name);
	return 0;
}

/* A decimal number at *p, advancing p; -1 when none or it overflows. */
static int
block_range_number(const char **p, uint64_t *out)
{
	uint64_t v = 0;

	if (**p < '0' || **p > '9')
		return -1;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		if (v > (UINT64_MAX - (uint64_t)(**p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(**p - '0');
	}
	*out = v;
	return 0;
}

int
block_content_range_parse(const char *s, uint64_t *start, uint64_t *end,
    uint64_t *total)
{
	const char *p = s;

	if (strncmp(p, "bytes ", 6) != 0)
		return -1;
	p += 6;
	if (block_range_number(&p, start) == -1 || *p++ != '-' ||
	    block_range_number(&p, end) == -1 || *p++ != '/' ||
	    *end < *start)
		return -1;
	if (strcmp(p, "*") == 0) {
		*total = 0;
		return 0;
	}
	if (block_range_number(&p, total) == -1 || *p != '\0' ||
	    *end >= *total)
		return -1;
	return 0;
}
