/*
 * The fixture of test-vmspec: a temporary image tree, a configuration
 * that points into it, and ways to try one field of a good definition.
 */
#ifndef UNIKD_TEST_VMSPEC_FIXTURE_H
#define UNIKD_TEST_VMSPEC_FIXTURE_H

#include <jansson.h>
#include <stddef.h>

#include "conf.h"
#include "uerr.h"
#include "vmspec.h"

/* A temporary image tree:
 *   DIR/images/web.spt          the image
 *   DIR/images/inner.spt        -> web.spt
 *   DIR/images/escape.spt       -> ../outside.spt
 *   DIR/images/sub/             a directory, with in.spt
 *   DIR/images/lsub             -> sub, a symlinked directory
 *   DIR/images/fifo             a FIFO
 *   DIR/images2/web.spt         a sibling whose name starts like images
 *   DIR/outside.spt             outside every image dir
 */
struct vmspec_fixture {
	char dir[64];
	char images[128];
	char image[160];
	struct conf cf;
};

extern struct vmspec_fixture fx;

void fx_path(char *buf, size_t len, const char *rel);
/* cmocka group setup and teardown: make and remove the tree. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* The smallest good definition. */
json_t *good_def(void);
/* A good definition with key set to value (removed when NULL), parsed. */
int try(const char *key, json_t *value, struct vm_spec *s, struct uerr *e);
/* key = JSON text is refused with status and a message holding needle,
 * and s is left empty. */
void refused_as(const char *key, const char *text, int status,
    const char *needle);
/* refused_as() for each row of a table. */
struct refusal {
	const char *key;
	const char *text;
	int status;
	const char *needle;
};
void refused_all(const struct refusal *r, size_t n);
/* key = JSON text is accepted into s. */
void accepted(const char *key, const char *text, struct vm_spec *s);
/* def (taken) is accepted, shows as the JSON text want, and that JSON is
 * accepted again as the same definition; s keeps the first parse. */
void round_trips(json_t *def, const char *want_text, struct vm_spec *s);

#endif
