#!/usr/bin/env python3
# What conmon and the containerd shim do around `unikd-oci create`: be a
# subreaper, run create with the container's stdout and stderr going to
# OUT, then wait for the pid create wrote to PIDFILE (our descendant, not
# our child) and write its exit status to STATUS ("exit N" or "signal N";
# "create N" when create itself failed).
#
# usage: oci-reap.py STATUS OUT PIDFILE CREATE-COMMAND...
import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36

status_file, out_file, pid_file = sys.argv[1:4]
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")


def done(text):
    with open(status_file + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(status_file + ".tmp", status_file)


with open(out_file, "wb") as out:
    rc = subprocess.run(sys.argv[4:], stdout=out, stderr=out).returncode
if rc != 0:
    done("create %d" % rc)
    sys.exit(0)
with open(pid_file) as f:
    pid = int(f.read())
while True:
    got, st = os.waitpid(-1, 0)
    if got == pid:
        break
if os.WIFSIGNALED(st):
    done("signal %d" % os.WTERMSIG(st))
else:
    done("exit %d" % os.WEXITSTATUS(st))
