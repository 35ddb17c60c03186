/*
 * Human output: tables whose column widths come from the data (a header
 * row, columns three spaces apart, no trailing blanks), and the times and
 * durations shown in them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

#define CTL_TABLE_MAXCOLS 16

struct ctl_table {
	size_t ncols;
	size_t nrows; /* including the header */
	char **cells; /* nrows * ncols */
};

struct ctl_table *
ctl_table_new(size_t ncols, const char *const *header)
{
	struct ctl_table *t;

	if (ncols == 0 || ncols > CTL_TABLE_MAXCOLS)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ncols = ncols;
	if (ctl_table_add(t, header) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

int
ctl_table_add(struct ctl_table *t, const char *const *cells)
{
	char **p;
	size_t i, base = t->nrows * t->ncols;

	p = realloc(t->cells, (base + t->ncols) * sizeof(*p));
	if (p == NULL)
		return -1;
	t->cells = p;
	for (i = 0; i < t->ncols; i++) {
		if ((p[base + i] = strdup(cells[i] ? cells[i] : "")) == NULL) {
			while (i-- > 0)
				free(p[base + i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

void
ctl_table_print(const struct ctl_table *t, FILE *f)
{
	size_t r, col, w, width[CTL_TABLE_MAXCOLS] = {0};

	for (r = 0; r < t->nrows; r++)
		for (col = 0; col < t->ncols; col++) {
			w = strlen(t->cells[r * t->ncols + col]);
			if (w > width[col])
				width[col] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		for (col = 0; col < t->ncols; col++) {
			const char *cell = t->cells[r * t->ncols + col];

			if (col + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s   ", (int)width[col], cell);
		}
	}
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int
ctl_time_parse(const char *s, long long *epoch)
{
	struct tm tm = {0};
	const char *end;

	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return -1;
	*epoch = (long long)timegm(&tm);
	return 0;
}

void
ctl_duration(char *buf, size_t size, long long secs)
{
	static const struct {
		long long secs;
		char unit;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t i;

	if (secs < 0)
		secs = 0;
	for (i = 0; i < sizeof(units) / sizeof(units[0]) - 1; i++)
		if (secs >= units[i].secs)
			break;
	snprintf(buf, size, "%lld%c", secs / units[i].secs, units[i].unit);
}

int
ctl_list(struct ctl *c, const char *path, const char *key,
    const char *const *header, size_t ncols,
    int (*row)(struct ctl_table *, const json_t *))
{
	struct ctl_table *t;
	json_t *reply, *list;
	size_t i;
	int rc;

	if ((rc = ctl_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	list = json_object_get(reply, key);
	if (c->ctl_json) {
		if (list != NULL)
			ctl_print_json(list);
		else
			printf("[]\n");
	} else if ((t = ctl_table_new(ncols, header)) != NULL) {
		for (i = 0; i < json_array_size(list); i++)
			row(t, json_array_get(list, i));
		ctl_table_print(t, stdout);
		ctl_table_free(t);
	}
	json_decref(reply);
	return CTL_EXIT_OK;
}

int
ctl_state_live(const char *state)
{
	static const char *const live[] = {"starting", "running", "stopping",
	    "restarting"};
	size_t i;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (strcmp(state, live[i]) == 0)
			return 1;
	return 0;
}

void
ctl_state_cell(char *buf, size_t size, const json_t *vm)
{
	const char *state = ctl_jstr(vm, "state");
	long long at, left;
	char in[24];

	if (strcmp(state, "restarting") != 0 ||
	    ctl_time_parse(ctl_jstr(vm, "restart_at"), &at) == -1) {
		snprintf(buf, size, "%s", state);
		return;
	}
	left = at - (long long)time(NULL);
	ctl_duration(in, sizeof(in), left > 0 ? left : 0);
	snprintf(buf, size, "restarting in %s", in);
}
