#!/usr/bin/env python3
# The engine's side of --console-socket: listen on SOCKET, take the pty
# master unikd-oci sends (SCM_RIGHTS), and copy what the container
# writes to it into OUT until EOF (the container's end).
#
# usage: oci-console.py SOCKET OUT
import os
import socket
import sys

path, out_file = sys.argv[1:3]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
if len(fds) != 1:
    sys.exit("no fd received")
with open(out_file + ".name", "w") as f:
    f.write(msg.decode())
with open(out_file, "wb", buffering=0) as out:
    while True:
        try:
            data = os.read(fds[0], 4096)
        except OSError:  # EIO: the slave side closed
            break
        if not data:
            break
        out.write(data)
