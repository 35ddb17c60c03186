/*
 * Time as unikd stores and shows it: now in milliseconds since the epoch,
 * and unix seconds as an RFC 3339 UTC string in JSON. Below everything
 * that stamps or shows a time (events, VMs, blocks, networks, the API).
 */
#ifndef UNIKD_TIMESTAMP_H
#define UNIKD_TIMESTAMP_H

#include <stdint.h>

#include <jansson.h>

/* CLOCK_REALTIME in milliseconds. */
int64_t unikd_now_ms(void);
/* CLOCK_MONOTONIC in seconds: how long things take. */
double unikd_clock(void);
/* "2024-05-01T12:00:00Z" for unix seconds, or JSON null when secs is 0. */
json_t *unikd_json_time(int64_t secs);

#endif
