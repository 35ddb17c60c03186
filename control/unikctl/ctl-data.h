/*
 * unikctl's raw-byte requests (ctl-data.c): the pieces of a block import
 * or export and an image push, with one libcurl handle kept for a whole
 * transfer so its connection is reused from piece to piece.
 */
#ifndef UNIKD_CTL_DATA_H
#define UNIKD_CTL_DATA_H

#include <stddef.h>

#include <jansson.h>

struct ctl;
struct ctl_data;

struct ctl_data *ctl_data_open(struct ctl *);
void ctl_data_close(struct ctl_data *);

/*
 * PUTs len bytes of buf to path, with a Content-Range header when range
 * is not NULL. 0 and the JSON reply of a 2xx answer in *reply; else the
 * error is printed and an exit code returned (1, or 3 when unikd cannot
 * be reached).
 */
int ctl_data_put(struct ctl_data *, const char *path, const void *buf,
    size_t len, const char *range, json_t **reply);
/* GETs path into buf (at most cap bytes, *got of them); 0, or an exit
 * code after printing the error. */
int ctl_data_get(struct ctl_data *, const char *path, void *buf, size_t cap,
    size_t *got);

/* "64M", "1.5G", "512" (bytes) for a human table. */
void ctl_data_size(char *buf, size_t len, long long bytes);

#endif
