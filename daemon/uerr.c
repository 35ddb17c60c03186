/* Client-facing errors (see uerr.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "uerr.h"

const char *
uerr_code(int status)
{
	switch (status) {
	case 400:
		return "invalid";
	case 403:
		return "forbidden";
	case 404:
		return "not_found";
	case 409:
		return "conflict";
	case 413:
		return "too_large";
	case 416:
		return "out_of_range";
	case 422:
		return "unprocessable";
	case 503:
		return "unavailable";
	default:
		return "internal";
	}
}

int
uerr_set(struct uerr *e, int status, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->status = status;
	e->code = uerr_code(status);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}
