/*
 * Memory given back once VMs have been removed. What a removed VM held
 * goes back to glibc's free lists, and glibc returns to the system only
 * the top of its heap: the rest stays resident, pinned by whatever was
 * allocated among it while the fleet ran, above all SQLite's page
 * cache, which fills as the event log grows. After 1000 VMs are
 * created and removed, that is ~4 MiB kept, and the page cache grows
 * by ~256 KiB a cycle up to its cache_size (tests/bench/README.md,
 * "rss-cycles").
 *
 * So once removals have stopped for a while, the store drops its page
 * cache and malloc_trim() returns the free pages in the middle of the
 * heap. A burst of removals pays for one trim, not one per request; the
 * next queries read their pages again from the kernel's page cache.
 */
#include "config.h"

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <stddef.h>

#include <event2/event.h>

#include "log.h"
#include "store.h"
#include "unikd.h"

/* Longer than the gaps in a bulk delete, short enough that the memory
 * is back before anyone looks. */
#define UNIKD_TRIM_DELAY_S	5

static void
unikd_trim(evutil_socket_t fd, short what, void *arg)
{
	struct unikd *u = arg;

	(void)fd;
	(void)what;
	store_release_memory(u->store);
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

void
unikd_trim_later(struct unikd *u)
{
	const struct timeval delay = {UNIKD_TRIM_DELAY_S, 0};

	if (u->base == NULL)
		return;	/* no loop: nothing will run it */
	if (u->trim_ev == NULL &&
	    (u->trim_ev = evtimer_new(u->base, unikd_trim, u)) == NULL)
		fatal("unikd_trim_later");
	evtimer_add(u->trim_ev, &delay);	/* counted from the last one */
}

void
unikd_trim_free(struct unikd *u)
{
	if (u->trim_ev != NULL)
		event_free(u->trim_ev);
	u->trim_ev = NULL;
}
