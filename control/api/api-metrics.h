/*
 * Prometheus metrics (api-metrics.c): GET /metrics on the control socket
 * and, when [metrics] listen is set, on that TCP address too (a second
 * evhttp serving /metrics only, without other routes).
 */
#ifndef UNIKD_API_METRICS_H
#define UNIKD_API_METRICS_H

struct unikd;

/* Listens on [metrics] listen ("127.0.0.1:9464", "[::1]:9464"); 0 at
 * once when the key is not set. After api_start(). */
int api_metrics_start(struct unikd *);
/* Closes the TCP listener and frees the counters; before api_stop(). */
void api_metrics_stop(struct unikd *);

#endif
