/*
 * A temporary directory tree for tests that need real files: image
 * directories, blocks, symlinks that escape. A tree is a table of nodes
 * made in order and removed in reverse order.
 */
#ifndef UNIKD_TEST_FIXTURE_TREE_H
#define UNIKD_TEST_FIXTURE_TREE_H

#include <stddef.h>

/* rel ending in '/': a directory; link_to set: a symlink to it; else a
 * small regular file. */
struct fixture_node {
	const char *rel;
	const char *link_to;
};

/* Makes /tmp/NAME.XXXXXX (its resolved path into dir, since specs keep
 * resolved paths) and the n nodes in it; -1 when any step fails. */
int fixture_tree_make(char *dir, size_t len, const char *name,
    const struct fixture_node *nodes, size_t n);
/* Removes the n nodes, then the directory. */
void fixture_tree_remove(const char *dir, const struct fixture_node *nodes,
    size_t n);
/* DIR/rel into buf. */
void fixture_tree_path(const char *dir, const char *rel, char *buf,
    size_t len);

#endif
