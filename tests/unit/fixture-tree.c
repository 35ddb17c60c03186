/* A temporary directory tree for tests (see fixture-tree.h). */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture-tree.h"

void
fixture_tree_path(const char *dir, const char *rel, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, rel);
}

static int
fixture_node_make(const char *dir, const struct fixture_node *nd)
{
	size_t n = strlen(nd->rel);
	char path[256];
	FILE *f;

	fixture_tree_path(dir, nd->rel, path, sizeof(path));
	if (nd->link_to != NULL)
		return symlink(nd->link_to, path);
	if (n > 0 && nd->rel[n - 1] == '/')
		return mkdir(path, 0755);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs("not really a unikernel\n", f);
	return fclose(f);
}

int
fixture_tree_make(char *dir, size_t len, const char *name,
    const struct fixture_node *nodes, size_t n)
{
	char *real;
	size_t i;

	snprintf(dir, len, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(dir) == NULL || (real = realpath(dir, NULL)) == NULL)
		return -1;
	snprintf(dir, len, "%s", real);
	free(real);
	for (i = 0; i < n; i++)
		if (fixture_node_make(dir, &nodes[i]) == -1)
			return -1;
	return 0;
}

void
fixture_tree_remove(const char *dir, const struct fixture_node *nodes,
    size_t n)
{
	char path[256];

	while (n > 0) {
		fixture_tree_path(dir, nodes[--n].rel, path, sizeof(path));
		remove(path);
	}
	rmdir(dir);
}
