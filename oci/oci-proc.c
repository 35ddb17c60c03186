/*
 * The container process: what conmon and the containerd shim wait for.
 * It waits on the FIFO until start, starts the VM and says how that went
 * to start through the FIFO, then copies the VM's console to its stdout
 * until the VM ends, and exits with the VM's exit status (128+signal for
 * a signal, as unikd and runc report it). Signals sent to it become
 * requests: SIGTERM and SIGINT a graceful stop, others a kill with that
 * signal. If unikd goes away (a restart), the VM runs on under its
 * monitor: this process reconnects and asks for the console again,
 * skipping the bytes it already wrote, so nothing is lost or repeated.
 * One thread, one loop: curl's multi interface polls the console stream
 * and a signalfd together.
 */
#include "config.h"

#include <sys/signalfd.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "oci.h"

#define PROC_RETRY_MIN_MS 50
#define PROC_RETRY_MAX_MS 1000

struct proc {
	struct oci *o;
	const char *vm;
	int sfd;            /* signalfd of the signals we turn into requests */
	size_t written;     /* console bytes copied to stdout */
	size_t seen;        /* console bytes of the current stream */
	bool out_broken;    /* stdout went away: keep reading, drop */
	int pending;        /* a signal not yet delivered (unikd away) */
	CURL *curl;         /* the console stream */
};

static const struct {
	int sig;
	const char *name;
} proc_signals[] = {
    {SIGHUP, "HUP"}, {SIGINT, "INT"}, {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"}, {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"},
    {SIGUSR2, "USR2"}, {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"},
    {SIGTERM, "TERM"}, {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"},
    {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"}, {SIGTTIN, "TTIN"},
    {SIGTTOU, "TTOU"}, {SIGURG, "URG"}, {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"},
    {SIGWINCH, "WINCH"}, {SIGIO, "IO"}, {SIGPWR, "PWR"}, {SIGSYS, "SYS"},
};
#define PROC_NSIGNALS (sizeof(proc_signals) / sizeof(proc_signals[0]))

int
oci_signal_parse(const char *s)
{
	char *end;
	long n;
	size_t i;

	if (*s >= '0' && *s <= '9') {
		n = strtol(s, &end, 10);
		if (*end != '\0' || n < 1 || n > 64)
			return -1;
		return (int)n;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < PROC_NSIGNALS; i++)
		if (strcmp(s, proc_signals[i].name) == 0)
			return proc_signals[i].sig;
	return -1;
}

const char *
oci_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < PROC_NSIGNALS; i++)
		if (proc_signals[i].sig == sig)
			return proc_signals[i].name;
	return NULL;
}

static void
proc_signal(struct proc *p)
{
	struct signalfd_siginfo si;

	while (read(p->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		oci_log(OCI_DEBUG, "vm %s: signal %u", p->vm, si.ssi_signo);
		p->pending = (int)si.ssi_signo;
		if (oci_vm_signal(p->o, p->vm, p->pending) == 0)
			p->pending = 0;
	}
}

static size_t
proc_console(char *buf, size_t size, size_t n, void *arg)
{
	struct proc *p = arg;
	size_t len = size * n, skip = 0, off;
	long status = 0;
	ssize_t w;

	curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return len; /* an error's body, not console bytes */
	/* a resumed stream starts again at the log's first byte */
	if (p->seen < p->written)
		skip = p->written - p->seen < len ? p->written - p->seen : len;
	p->seen += len;
	for (off = skip; off < len && !p->out_broken; off += (size_t)w) {
		if ((w = write(STDOUT_FILENO, buf + off, len - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			p->out_broken = true;
		}
	}
	p->written += len - skip;
	return len;
}

/*
 * Follows the console once: returns when the stream ends, 0 when unikd
 * ended it (the VM reached a final state, or went), -1 when the
 * connection broke.
 */
static int
proc_follow(struct proc *p)
{
	struct curl_waitfd wfd = {.fd = p->sfd, .events = CURL_WAIT_POLLIN};
	char url[512];
	CURLM *multi;
	CURLMsg *m;
	CURL *curl;
	long status = 0;
	int running = 1, left, rc = -1;
	CURLcode res = CURLE_OK;

	snprintf(url, sizeof(url), "http://unikd/v1/vms/%s/console?follow=true",
	    p->vm);
	if ((multi = curl_multi_init()) == NULL ||
	    (curl = curl_easy_init()) == NULL) {
		curl_multi_cleanup(multi);
		return -1;
	}
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
	    p->o->oci_ctl.ctl_socket);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 1024L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, proc_console);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, p);
	p->seen = 0;
	p->curl = curl;
	curl_multi_add_handle(multi, curl);
	while (running) {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE)
				res = m->data.result;
		if (!running)
			break;
		/* the timeout only bounds a wait curl did not ask for */
		if (curl_multi_poll(multi, &wfd, 1, 60000, NULL) != CURLM_OK)
			break;
		if (wfd.revents & CURL_WAIT_POLLIN)
			proc_signal(p);
		wfd.revents = 0;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (!running && res == CURLE_OK && (status == 200 || status == 404))
		rc = 0;
	curl_multi_remove_handle(multi, curl);
	curl_easy_cleanup(curl);
	curl_multi_cleanup(multi);
	return rc;
}

/* Waits ms for a signal (handled) or the time to pass. */
static void
proc_sleep(struct proc *p, int ms)
{
	struct pollfd pfd = {.fd = p->sfd, .events = POLLIN};

	if (poll(&pfd, 1, ms) > 0)
		proc_signal(p);
}

/* The VM's exit status once it is final; -1 while unikd is away. */
static int
proc_wait(struct proc *p, int *code)
{
	char path[256];
	json_t *reply;
	long status;

	snprintf(path, sizeof(path), "/v1/vms/%s/wait", p->vm);
	if (ctl_request(&p->o->oci_ctl, "POST", path, NULL, &status, &reply) !=
	    0)
		return -1;
	if (status == 404)
		*code = 128 + SIGKILL; /* removed under us: delete --force */
	else if (json_is_integer(json_object_get(reply, "exit_status")))
		*code = (int)json_integer_value(
		    json_object_get(reply, "exit_status"));
	else
		*code = 255;
	json_decref(reply);
	return 0;
}

/* Whether the VM is in a final state (so the console has all of it). */
static int
proc_final(struct proc *p, bool *final)
{
	const char *state;
	json_t *vm;
	long status;

	if (oci_vm_get(p->o, p->vm, &status, &vm) == -1) {
		*final = status == 404;
		return status == 0 ? -1 : 0;
	}
	state = json_string_value(json_object_get(vm, "state"));
	*final = state == NULL ||
	    ((strcmp(state, "exited") == 0 &&
	         json_is_null(json_object_get(vm, "restart_at"))) ||
	        strcmp(state, "failed") == 0);
	json_decref(vm);
	return 0;
}

/* The console until the VM is final, across restarts of unikd. */
static int
proc_supervise(struct proc *p)
{
	int delay = PROC_RETRY_MIN_MS, code;
	bool final;

	for (;;) {
		if (proc_follow(p) == 0 && proc_final(p, &final) == 0 && final &&
		    proc_wait(p, &code) == 0)
			return code;
		/* unikd went away, or the stream ended early: again */
		proc_sleep(p, delay);
		if (p->pending != 0 &&
		    oci_vm_signal(p->o, p->vm, p->pending) == 0)
			p->pending = 0;
		delay = delay * 2 > PROC_RETRY_MAX_MS ? PROC_RETRY_MAX_MS
		                                     : delay * 2;
		if (proc_final(p, &final) == 0)
			delay = PROC_RETRY_MIN_MS;
	}
}

/* The signals this process turns into requests: all it may catch but
 * those that are about the terminal or its children. */
static int
proc_signalfd(void)
{
	sigset_t set;

	sigfillset(&set);
	sigdelset(&set, SIGKILL);
	sigdelset(&set, SIGSTOP);
	sigdelset(&set, SIGCHLD);
	sigdelset(&set, SIGWINCH);
	sigdelset(&set, SIGTTIN);
	sigdelset(&set, SIGTTOU);
	sigdelset(&set, SIGTSTP);
	sigdelset(&set, SIGCONT);
	sigdelset(&set, SIGURG);
	sigdelset(&set, SIGPIPE);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* A pod's sandbox: lives until a signal says to end, as pause does
 * (0 for TERM and INT, 128+signal for others that end a process). */
static int
proc_sandbox(struct proc *p)
{
	struct signalfd_siginfo si;
	struct pollfd pfd = {.fd = p->sfd, .events = POLLIN};

	for (;;) {
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			return 1;
		if (read(p->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			return 0;
		if (si.ssi_signo != SIGHUP && si.ssi_signo != SIGUSR1 &&
		    si.ssi_signo != SIGUSR2)
			return 128 + (int)si.ssi_signo;
	}
}

/* Tells start how the start went: "0\n", or "1 <message>\n". */
static void
proc_report(int fd, const char *err)
{
	char line[1100];
	int n;

	if (err == NULL)
		n = snprintf(line, sizeof(line), "0\n");
	else
		n = snprintf(line, sizeof(line), "1 %s\n", err);
	if (n > 0 && write(fd, line, (size_t)n) == -1)
		oci_log(OCI_WARN, "cannot answer start: %s", strerror(errno));
	close(fd);
}

void
oci_proc_run(struct oci *o, const struct oci_proc *op)
{
	struct proc p = {.o = o, .vm = op->vm, .sfd = -1};
	char err[1024];
	long status;
	int fd;

	/* blocks until start opens the FIFO */
	if ((fd = open(op->fifo, O_WRONLY | O_CLOEXEC)) == -1) {
		oci_log(OCI_ERROR, "%s: %s", op->fifo, strerror(errno));
		_exit(1);
	}
	if ((p.sfd = proc_signalfd()) == -1) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(errno));
		proc_report(fd, err);
		_exit(1);
	}
	if (op->vm[0] == '\0') {
		proc_report(fd, NULL);
		exit(proc_sandbox(&p));
	}
	if (oci_vm_post(o, op->vm, "/start", &status, err, sizeof(err)) ==
	    -1) {
		proc_report(fd, err);
		_exit(1);
	}
	proc_report(fd, NULL);
	/* from here on, stdout and stderr are the guest's console */
	o->oci_quiet = true;
	exit(proc_supervise(&p));
}
