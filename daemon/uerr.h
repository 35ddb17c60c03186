/*
 * A client-facing error: HTTP status, a short machine code and a message
 * that names the object or field at fault. daemon/ fills it, control/
 * turns it into {"error": {"code": .., "message": ..}}.
 */
#ifndef UNIKD_UERR_H
#define UNIKD_UERR_H

struct uerr {
	int status;		/* 400, 403, 404, 409, 413, 416, 422, 500, 503 */
	const char *code;	/* "invalid", "not_found", "conflict", ... */
	char message[512];
};

/* Codes, one per status. */
#define UERR_INVALID 400	/* "invalid" */
#define UERR_FORBIDDEN 403	/* "forbidden" */
#define UERR_NOT_FOUND 404	/* "not_found" */
#define UERR_CONFLICT 409	/* "conflict" */
#define UERR_TOO_LARGE 413	/* "too_large" */
#define UERR_RANGE 416		/* "out_of_range" */
#define UERR_UNPROCESSABLE 422	/* "unprocessable" */
#define UERR_INTERNAL 500	/* "internal" */
#define UERR_UNAVAILABLE 503	/* "unavailable" */

/* Sets status, the code that goes with it, and the message; returns -1. */
int uerr_set(struct uerr *, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The code string for a status ("invalid" for 400, ...). */
const char *uerr_code(int status);

#endif
