/*
 * unikd-oci create: validates the bundle (nothing is made for a bad
 * one), makes the VM in unikd (not started), then the container
 * process: a child of create that conmon or the containerd shim (both
 * subreapers) inherit when create exits. It waits on ROOT/ID/exec.fifo
 * until start, as runc's init does, so nothing of the guest runs before.
 * With --console-socket the container's stdio is a new pty whose master
 * goes to that socket (SCM_RIGHTS), as runtime-spec says.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"

struct create_req {
	const char *id;
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	int preserve_fds;
	char vm[64];
	char bundle_abs[4096];
	int console_fd;   /* connected to --console-socket, or -1 */
	int pty_master;   /* -1 without a console */
	int pty_slave;
};

static int
create_console_connect(struct create_req *r)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (strlen(r->console_socket) >= sizeof(sun.sun_path))
		return oci_error("--console-socket %s: path too long",
		    r->console_socket);
	strcpy(sun.sun_path, r->console_socket);
	if ((r->console_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
	        -1 ||
	    connect(r->console_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return oci_error("--console-socket %s: %s", r->console_socket,
		    strerror(errno));
	return 0;
}

/* A new pty; its master goes to the console socket with the slave's
 * name as the message (what runc sends). */
static int
create_console_send(struct create_req *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {0};
	struct cmsghdr *cm;
	struct iovec iov;
	char *name;

	if ((r->pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC)) ==
	        -1 ||
	    grantpt(r->pty_master) == -1 || unlockpt(r->pty_master) == -1 ||
	    (name = ptsname(r->pty_master)) == NULL ||
	    (r->pty_slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) == -1)
		return oci_error("cannot make a pty: %s", strerror(errno));
	iov.iov_base = name;
	iov.iov_len = strlen(name);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &r->pty_master, sizeof(int));
	if (sendmsg(r->console_fd, &msg, MSG_NOSIGNAL) == -1)
		return oci_error("--console-socket %s: cannot send the pty: %s",
		    r->console_socket, strerror(errno));
	return 0;
}

static int
create_write_pid(const char *path, pid_t pid)
{
	char tmp[4096];
	FILE *f;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return oci_error("--pid-file %s: path too long", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return oci_error("--pid-file %s: %s", tmp, strerror(errno));
	fprintf(f, "%d", (int)pid);
	if (fclose(f) == EOF || rename(tmp, path) == -1) {
		unlink(tmp);
		return oci_error("--pid-file %s: %s", path, strerror(errno));
	}
	return 0;
}

/* In the child: the container's stdio, nothing else of create's. */
static void
create_child_setup(const struct create_req *r)
{
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (r->pty_slave != -1) {
		ioctl(r->pty_slave, TIOCSCTTY, 0);
		for (fd = 0; fd < 3; fd++)
			dup2(r->pty_slave, fd);
	}
	closefrom(3 + r->preserve_fds);
}

static void
create_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

/* The state directory, the FIFO and the container process. */
static int
create_process(struct oci *o, struct create_req *r, struct oci_bundle *b)
{
	struct oci_state st = {0};
	struct oci_proc p = {0};
	char dir[4096], fifo[4096];
	pid_t pid;

	if (oci_state_dir(o, r->id, NULL, dir, sizeof(dir)) == -1 ||
	    oci_state_dir(o, r->id, "exec.fifo", fifo, sizeof(fifo)) == -1)
		return oci_error("--root %s: path too long", o->oci_root);
	if (mkdir(dir, 0700) == -1)
		return oci_error("%s: %s", dir, strerror(errno));
	if (mkfifo(fifo, 0600) == -1) {
		oci_error("%s: %s", fifo, strerror(errno));
		goto fail;
	}
	p.vm = r->vm;
	p.fifo = fifo;
	p.preserve_fds = r->preserve_fds;
	if ((pid = fork()) == -1) {
		oci_error("cannot fork the container process: %s",
		    strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		create_child_setup(r);
		oci_proc_run(o, &p);
	}
	snprintf(st.id, sizeof(st.id), "%s", r->id);
	snprintf(st.vm, sizeof(st.vm), "%s", r->vm);
	snprintf(st.bundle, sizeof(st.bundle), "%s", r->bundle_abs);
	snprintf(st.rootfs, sizeof(st.rootfs), "%s", b->rootfs);
	create_now(st.created, sizeof(st.created));
	st.pid = pid;
	st.pid_start = oci_pid_start(pid);
	st.annotations = b->annotations;
	if (oci_state_save(o, &st) == -1) {
		oci_error("%s/state.json: %s", dir, strerror(errno));
		goto kill;
	}
	if (r->pid_file != NULL && create_write_pid(r->pid_file, pid) == -1)
		goto kill;
	return 0;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
fail:
	oci_state_remove(o, r->id);
	return -1;
}

static int
create_args(struct create_req *r, int argc, char **argv)
{
	enum { OPT_PID = 256, OPT_CONSOLE, OPT_PRESERVE, OPT_FLAG };
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, OPT_PID},
	    {"console-socket", required_argument, NULL, OPT_CONSOLE},
	    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
	    /* runc's, with nothing to do for a VM */
	    {"no-pivot", no_argument, NULL, OPT_FLAG},
	    {"no-new-keyring", no_argument, NULL, OPT_FLAG},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	long n;
	int c;

	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			r->bundle = optarg;
			break;
		case OPT_PID:
			r->pid_file = optarg;
			break;
		case OPT_CONSOLE:
			r->console_socket = optarg;
			break;
		case OPT_PRESERVE:
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0 ||
			    n > 1024)
				return oci_usage(&oci_cmd_create,
				    "--preserve-fds: '%s' is not a count",
				    optarg);
			r->preserve_fds = (int)n;
			break;
		case OPT_FLAG:
			break;
		default:
			return oci_usage(&oci_cmd_create, "bad option");
		}
	}
	if (optind != argc - 1)
		return oci_usage(&oci_cmd_create, "one container ID, please");
	r->id = argv[optind];
	if (!oci_id_valid(r->id))
		return oci_error("invalid container ID '%.64s'", r->id);
	if (realpath(r->bundle, r->bundle_abs) == NULL)
		return oci_error("--bundle %s: %s", r->bundle, strerror(errno));
	return 0;
}

/* --root and its missing parents, as runc makes them. */
static int
create_root(const char *root)
{
	char path[4096], *p;

	if ((size_t)snprintf(path, sizeof(path), "%s", root) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0711) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0711) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
create_exec(struct oci *o, int argc, char **argv)
{
	struct create_req r = {.bundle = ".", .console_fd = -1,
	    .pty_master = -1, .pty_slave = -1};
	struct oci_bundle b;
	char dir[4096];
	int rc;

	if ((rc = create_args(&r, argc, argv)) != 0)
		return rc;
	if (oci_state_dir(o, r.id, NULL, dir, sizeof(dir)) == -1)
		return oci_error("--root %s: path too long", o->oci_root);
	if (access(dir, F_OK) == 0)
		return oci_error("container with id exists: %s", r.id);
	if (create_root(o->oci_root) == -1)
		return oci_error("--root %s: %s", o->oci_root, strerror(errno));
	if (oci_bundle_load(o, r.bundle_abs, &b) == -1)
		return 1;
	rc = 1;
	if (b.terminal && r.console_socket == NULL) {
		oci_error("process.terminal is set but --console-socket is "
		          "not given");
		goto out;
	}
	if (r.console_socket != NULL && create_console_connect(&r) == -1)
		goto out;
	if (!b.sandbox && (oci_vm_name(o, r.id, r.vm, sizeof(r.vm)) == -1 ||
	                      oci_vm_create(o, r.vm, r.id, &b) == -1))
		goto out;
	if ((r.console_socket != NULL && create_console_send(&r) == -1) ||
	    create_process(o, &r, &b) == -1) {
		if (!b.sandbox)
			oci_vm_remove(o, r.vm, true);
		goto out;
	}
	rc = 0;
out:
	if (r.console_fd != -1)
		close(r.console_fd);
	if (r.pty_master != -1)
		close(r.pty_master);
	if (r.pty_slave != -1)
		close(r.pty_slave);
	oci_bundle_free(&b);
	return rc;
}

const struct oci_cmd oci_cmd_create = {
    .name = "create",
    .usage = "--bundle DIR [--pid-file F] [--console-socket S] "
             "[--preserve-fds N] [--no-pivot] [--no-new-keyring] ID",
    .exec = create_exec,
};
