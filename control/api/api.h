/*
 * The control API: HTTP/1.1 + JSON on the UNIX control socket (evhttp).
 * Routes are a static table (api.c); one file per resource (api-vms.c,
 * api-info.c, api-events.c). Handlers translate HTTP/JSON into calls into
 * daemon/ and back; no business logic lives here.
 */
#ifndef UNIKD_API_H
#define UNIKD_API_H

struct unikd;

/*
 * Listens on fd when fd >= 0 (a socket handed over by systemd), else
 * creates cf.socket (mode 0660, group admin_group), refusing to take over
 * a socket another daemon still answers on. 0, or -1 with a logged reason.
 */
int api_start(struct unikd *u, int fd);
/* Stops accepting and closes every connection. */
void api_stop(struct unikd *u);

#endif
