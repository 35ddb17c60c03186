/*
 * Plain fd I/O shared by unikd-monitor and unikd's side of the monitor
 * (monitor-client.c): whole writes, one protocol packet (monitor-proto.h)
 * with the fds it carries, connecting to a monitor's socket, and closing
 * every fd above a number before an exec.
 */
#ifndef UNIKD_MONITOR_IO_H
#define UNIKD_MONITOR_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes of buf, going on after EINTR; -1 with errno. */
int mon_io_write_all(int fd, const void *buf, size_t len);
/*
 * Sends one packet: the type byte, then len bytes of buf, with nfds fds
 * (at most MON_MAX_FDS) as SCM_RIGHTS. flags go to sendmsg(), which never
 * raises SIGPIPE. -1 with errno.
 */
int mon_io_send(int fd, char type, const void *buf, size_t len, const int *fds,
    size_t nfds, int flags);
/*
 * Receives one packet into buf (len bytes at most) and the fds it carries
 * (close-on-exec) into fds, at most maxfds: any beyond are closed. The
 * packet's length, 0 at end of file, or -1 with errno: EMSGSIZE when the
 * packet or its fds did not fit (the fds closed).
 */
ssize_t mon_io_recv(int fd, void *buf, size_t len, int *fds, size_t maxfds,
    size_t *nfds);
/* A non-blocking SEQPACKET socket connected to the monitor socket path
 * (ECONNREFUSED when no monitor listens; EAGAIN when its backlog is
 * full), or -1 with errno and nothing left open. */
int mon_io_connect(const char *path);
/* Closes every fd from first up. */
void mon_io_close_from(int first);

#endif
