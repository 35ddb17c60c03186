/*
 * unikctl image: images (/v1/images). push sends a file's bytes in one
 * PUT (unikd stores them once by sha256; an image larger than unikd's
 * [limits] max_body_size is refused with 413), ls prints a table,
 * inspect the JSON, rm removes a name.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl-data.h"

#define IMAGE_MAX (1LL << 32) /* what unikctl reads into memory */

static const struct ctl_kind image_kind = {
    &ctl_cmd_image, "image", "/v1/images", "NAME"};

/* The whole file in memory; NULL after a message. */
static char *
image_read(const char *file, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size == 0 || st.st_size > IMAGE_MAX) {
		fprintf(stderr,
		    "unikctl: %s: not a regular file of 1 byte to "
		    "4 GiB\n",
		    file);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	close(fd);
	*len = off;
	return buf;
fail:
	fprintf(stderr, "unikctl: %s: %s\n", file,
	    errno ? strerror(errno) : "short read");
	if (fd != -1)
		close(fd);
	free(buf);
	return NULL;
}

static int
image_push(struct ctl *c, int argc, char **argv)
{
	struct ctl_data *dc;
	char path[512], *buf;
	json_t *reply = NULL;
	size_t len;
	int rc;

	if ((rc = ctl_args(&ctl_cmd_image, argc, argv, 2, "NAME FILE")) != 0)
		return rc;
	if (ctl_kind_path(path, sizeof(path), &image_kind, argv[1], "") == -1 ||
	    (buf = image_read(argv[2], &len)) == NULL)
		return CTL_EXIT_FAIL;
	if ((dc = ctl_data_open(c)) == NULL) {
		free(buf);
		return CTL_EXIT_FAIL;
	}
	rc = ctl_data_put(dc, path, buf, len, NULL, &reply);
	ctl_data_close(dc);
	free(buf);
	if (rc != 0)
		return rc;
	if (c->ctl_json)
		ctl_print_json(reply);
	else
		printf("%s sha256 %s  %lld bytes\n", ctl_jstr(reply, "name"),
		    ctl_jstr(reply, "digest"),
		    (long long)json_integer_value(
		        json_object_get(reply, "size")));
	json_decref(reply);
	return CTL_EXIT_OK;
}

static int
image_row(struct ctl_table *t, const json_t *img)
{
	char size[32], digest[20], users[256] = "-";
	const json_t *u = json_object_get(img, "used_by");
	const char *row[4];
	size_t i, off = 0;

	ctl_data_size(size, sizeof(size),
	    json_integer_value(json_object_get(img, "size")));
	snprintf(digest, sizeof(digest), "%.12s", ctl_jstr(img, "digest"));
	for (i = 0; i < json_array_size(u) && off < sizeof(users); i++)
		off +=
		    (size_t)snprintf(users + off, sizeof(users) - off, "%s%s",
		        i ? "," : "", json_string_value(json_array_get(u, i)));
	row[0] = ctl_jstr(img, "name");
	row[1] = size;
	row[2] = digest;
	row[3] = users;
	return ctl_table_add(t, row);
}

static int
image_ls(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = {
	    "NAME", "SIZE", "DIGEST", "USED_BY"};
	int rc;

	if ((rc = ctl_args(&ctl_cmd_image, argc, argv, 0, "no argument")) != 0)
		return rc;
	return ctl_list(c, "/v1/images", "images", header, 4, image_row);
}

static int
image_inspect(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &image_kind, 1, argc, argv, "GET");
}

static int
image_rm(struct ctl *c, int argc, char **argv)
{
	return ctl_each(c, &image_kind, 1, argc, argv, "DELETE");
}

static const struct ctl_sub image_subs[] = {
    {"push", image_push},
    {"ls", image_ls},
    {"inspect", image_inspect},
    {"rm", image_rm},
};

const struct ctl_cmd ctl_cmd_image = {
    .name = "image",
    .usage = "push NAME FILE | ls | inspect NAME | rm NAME",
    .summary = "manage images (unikernels stored once by sha256)",
    .subs = image_subs,
    .nsubs = sizeof(image_subs) / sizeof(image_subs[0]),
};
