/*
 * The VM behind a container, through unikd's API. Its name is "oci-" and
 * the start of the container ID (lowercase IDs) or of the ID's SHA-256
 * (others), made longer while another container's VM holds it: the VM's
 * label org.unikd.oci.id keeps the whole ID, so two containers never
 * share a VM. The image is sent to unikd under the VM's name (stored
 * once by digest there), as rootfs files are not under unikd's
 * image_dirs.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockbackend.h"
#include "ctl-data.h"
#include "oci.h"

#define VM_NAME_SHORT 12 /* as engines show IDs */
#define VM_NAME_MAX 63
#define VM_IMAGE_MAX (1LL << 32)

static int
vm_path(char *buf, size_t len, const char *what, const char *vm,
    const char *suffix)
{
	if ((size_t)snprintf(buf, len, "/v1/%s/%s%s", what, vm, suffix) >= len)
		return oci_error("request path too long");
	return 0;
}

int
oci_vm_get(struct oci *o, const char *vm, long *status, json_t **reply)
{
	char path[256];

	*reply = NULL;
	*status = 0;
	if (vm_path(path, sizeof(path), "vms", vm, "") == -1 ||
	    ctl_request(&o->oci_ctl, "GET", path, NULL, status, reply) != 0)
		return -1;
	if (*status == 200)
		return 0;
	json_decref(*reply);
	*reply = NULL;
	return -1;
}

/* The characters the name is made of: the ID itself when it is already
 * what a VM name may hold, else its SHA-256 in hex. */
static void
vm_name_source(const char *id, char *buf, size_t len)
{
	char hex[65];
	struct bb_sha256 h;
	const char *p;

	for (p = id; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
			break;
	if (*p == '\0') {
		snprintf(buf, len, "%s", id);
		return;
	}
	bb_sha256_init(&h);
	bb_sha256_update(&h, id, strlen(id));
	bb_sha256_final(&h, hex);
	snprintf(buf, len, "%s", hex);
}

int
oci_vm_name(struct oci *o, const char *id, char *buf, size_t len)
{
	const size_t pre = strlen(OCI_VM_PREFIX);
	char src[OCI_ID_MAX + 1];
	const char *owner;
	size_t n, srclen;
	json_t *vm;
	long status;

	vm_name_source(id, src, sizeof(src));
	srclen = strlen(src);
	for (n = VM_NAME_SHORT < srclen ? VM_NAME_SHORT : srclen;
	     n <= srclen && pre + n <= VM_NAME_MAX && pre + n < len; n++) {
		snprintf(buf, len, "%s%.*s", OCI_VM_PREFIX, (int)n, src);
		if (oci_vm_get(o, buf, &status, &vm) == -1) {
			if (status == 404)
				return 0;
			if (status == 0)
				return -1; /* unreachable: said already */
			return oci_error("cannot look up VM %s: HTTP %ld", buf,
			    status);
		}
		owner = json_string_value(json_object_get(
		    json_object_get(vm, "labels"), OCI_LABEL_ID));
		if (owner != NULL && strcmp(owner, id) == 0) {
			json_decref(vm);
			return oci_error("container \"%s\": unikd already has "
			                 "its VM %s (remove it with unikctl rm "
			                 "-f %s)",
			    id, buf, buf);
		}
		json_decref(vm);
	}
	return oci_error("container \"%s\": no free VM name for it", id);
}

static char *
vm_read_image(int fd, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t n;
	size_t off = 0;

	if (fstat(fd, &st) == -1 || st.st_size > VM_IMAGE_MAX ||
	    (buf = malloc((size_t)st.st_size)) == NULL)
		return NULL;
	while (off < (size_t)st.st_size) {
		if ((n = pread(fd, buf + off, (size_t)st.st_size - off,
		         (off_t)off)) <= 0) {
			free(buf);
			return NULL;
		}
		off += (size_t)n;
	}
	*len = off;
	return buf;
}

/* PUTs the image as /v1/images/VM and reads its manifest back. */
static int
vm_send_image(struct oci *o, const char *vm, struct oci_bundle *b,
    json_t **manifest)
{
	struct ctl_data *dc;
	char path[256], *buf;
	json_t *reply = NULL, *img;
	long status;
	size_t len;
	int rc;

	*manifest = NULL;
	if (vm_path(path, sizeof(path), "images", vm, "") == -1)
		return -1;
	if ((buf = vm_read_image(b->image_fd, &len)) == NULL)
		return oci_error("cannot read %s in the rootfs: %s", b->image,
		    strerror(errno));
	if ((dc = ctl_data_open(&o->oci_ctl)) == NULL) {
		free(buf);
		return -1;
	}
	rc = ctl_data_put(dc, path, buf, len, NULL, &reply);
	ctl_data_close(dc);
	free(buf);
	json_decref(reply);
	if (rc != 0)
		return -1;
	if (ctl_request(&o->oci_ctl, "GET", path, NULL, &status, &img) == 0 &&
	    status == 200)
		*manifest = json_incref(json_object_get(img, "manifest"));
	json_decref(img);
	return 0;
}

/* The tender, from the annotation or else the manifest's target. */
static const char *
vm_tender(const struct oci_bundle *b, const json_t *manifest)
{
	const char *target, *t;

	if (b->tender[0] != '\0')
		return b->tender;
	target = json_string_value(json_object_get(manifest, "target"));
	if ((t = oci_bundle_target_tender(target)) != NULL)
		return t;
	if (target != NULL)
		oci_error("%s: the image's Solo5 target '%s' has no tender in "
		          "unikd; name one with annotation org.unikd.tender",
		    b->image, target);
	else
		oci_error("%s: no Solo5 manifest tells its tender; name one "
		          "with annotation org.unikd.tender (solo5-spt, "
		          "solo5-hvt, qemu, ...)",
		    b->image);
	return NULL;
}

/* The NIC on the engine's eth0: named as the manifest's first network
 * device (what the unikernel opens), else "eth0". */
static json_t *
vm_nics(const struct oci_bundle *b, const json_t *manifest)
{
	const char *dev = "eth0";
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(manifest, "devices"), i, d)
	{
		if (json_is_string(json_object_get(d, "type")) &&
		    strcmp(json_string_value(json_object_get(d, "type")),
		        "net") == 0 &&
		    json_is_string(json_object_get(d, "name"))) {
			dev = json_string_value(json_object_get(d, "name"));
			break;
		}
	}
	return json_pack("[{s:s, s:s, s:s}]", "name", dev, "netns", b->netns,
	    "link", "eth0");
}

static int
vm_labels(const char *id, const struct oci_bundle *b, json_t *def)
{
	json_t *labels = json_pack("{s:s}", OCI_LABEL_ID, id);

	if (labels == NULL)
		return -1;
	if (b->name[0] != '\0')
		json_object_set_new(labels, OCI_LABEL_NAME, json_string(b->name));
	return json_object_set_new(def, "labels", labels);
}

int
oci_vm_create(
    struct oci *o, const char *vm, const char *id, struct oci_bundle *b)
{
	json_t *manifest = NULL, *reply = NULL;
	const char *tender;
	char path[256];
	long status = 0;

	if (vm_send_image(o, vm, b, &manifest) == -1)
		return -1;
	if ((tender = vm_tender(b, manifest)) == NULL)
		goto fail;
	json_object_set_new(b->def, "name", json_string(vm));
	json_object_set_new(b->def, "tender", json_string(tender));
	json_object_set_new(b->def, "image", json_string(vm));
	/* the tender joins the engine's cgroup, so its stats and limits
	 * cover the VM */
	if (b->cgroup[0] != '\0' &&
	    json_object_set_new(b->def, "cgroup",
	        json_pack("{s:s, s:b}", "path", b->cgroup, "systemd",
	            o->oci_systemd)) == -1)
		goto fail;
	if (vm_labels(id, b, b->def) == -1 ||
	    (b->netns[0] != '\0' &&
	        json_object_set_new(b->def, "nics", vm_nics(b, manifest)) == -1))
		goto fail;
	if (ctl_call(&o->oci_ctl, "POST", "/v1/vms", b->def, &reply) != 0)
		goto fail;
	json_decref(reply);
	json_decref(manifest);
	oci_log(OCI_INFO, "container %s: vm %s tender %s image %s", id, vm,
	    tender, b->image);
	return 0;
fail:
	json_decref(manifest);
	if (vm_path(path, sizeof(path), "images", vm, "") == 0 &&
	    ctl_request(&o->oci_ctl, "DELETE", path, NULL, &status, &reply) ==
	        0)
		json_decref(reply);
	return -1;
}

int
oci_vm_post(struct oci *o, const char *vm, const char *action, long *status,
    char *err, size_t errlen)
{
	const char *msg;
	char path[256];
	json_t *reply;

	*status = 0;
	if (vm_path(path, sizeof(path), "vms", vm, action) == -1)
		return -1;
	if (ctl_request(&o->oci_ctl, "POST", path, NULL, status, &reply) != 0) {
		if (err != NULL)
			snprintf(err, errlen, "cannot reach unikd at %s",
			    o->oci_ctl.ctl_socket);
		return -1;
	}
	if (*status >= 200 && *status <= 299) {
		json_decref(reply);
		return 0;
	}
	msg = json_string_value(json_object_get(
	    json_object_get(reply, "error"), "message"));
	if (msg == NULL)
		msg = "unikd refused the request";
	if (err != NULL)
		snprintf(err, errlen, "%s", msg);
	else
		oci_error("%s", msg);
	json_decref(reply);
	return -1;
}

int
oci_vm_remove(struct oci *o, const char *vm, bool force)
{
	const char *msg;
	char path[256];
	json_t *reply;
	long status;

	if (vm_path(path, sizeof(path), "vms", vm,
	        force ? "?force=true" : "") == -1 ||
	    ctl_request(&o->oci_ctl, "DELETE", path, NULL, &status, &reply) !=
	        0)
		return -1;
	if (status != 200 && status != 404) {
		msg = json_string_value(json_object_get(
		    json_object_get(reply, "error"), "message"));
		oci_error("%s", msg != NULL ? msg : "unikd kept the VM");
		json_decref(reply);
		return -1;
	}
	json_decref(reply);
	if (vm_path(path, sizeof(path), "images", vm, "") == -1 ||
	    ctl_request(&o->oci_ctl, "DELETE", path, NULL, &status, &reply) !=
	        0)
		return -1;
	json_decref(reply);
	return 0;
}

/* unikd's stop kills after the VM's stop_timeout. */
int
oci_vm_signal(struct oci *o, const char *vm, int sig)
{
	char action[64], err[1024];
	long status;

	if (sig == SIGTERM || sig == SIGINT)
		snprintf(action, sizeof(action), "/stop");
	else
		snprintf(action, sizeof(action), "/kill?signal=%d", sig);
	if (oci_vm_post(o, vm, action, &status, err, sizeof(err)) == 0 ||
	    status == 409 || status == 404)
		return 0; /* done, or the VM is no longer running */
	if (status == 0)
		return -1;
	oci_error("vm %s: %s", vm, err);
	return 0;
}
