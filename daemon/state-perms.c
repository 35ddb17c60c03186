/*
 * The modes of what unikd keeps under state_dir. Definitions (with the
 * args a VM is given, secrets included) are in the store, so only root
 * reads anything there: state_dir and every directory in it are 0700,
 * the store 0600. Tenders open nothing there by path: the image, the
 * blocks and the TAPs reach them as open fds (a /dev/fd/N reopen checks
 * the file's own mode, 0644 for images, not the directories). An
 * installation made with looser modes is put right at every start.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "log.h"
#include "unikd.h"

/* What each path under state_dir must be (files only if they exist). */
static const struct state_mode {
	const char *path; /* relative to state_dir; "" is state_dir */
	mode_t mode;
} state_modes[] = {
    {"", 0700},
    {"vms", 0700},
    {"blocks", 0700},
    {"images", 0700},
    {"images/sha256", 0700},
    {"images/names", 0700},
    {"unikd.db", 0600},
    {"unikd.db-wal", 0600},
    {"unikd.db-shm", 0600},
    {"unikd.db-journal", 0600},
};

int
unikd_state_protect(const struct unikd *u)
{
	const struct state_mode *m;
	char path[4096];
	struct stat st;
	int rc = 0;
	size_t i;

	for (i = 0; i < sizeof(state_modes) / sizeof(state_modes[0]); i++) {
		m = &state_modes[i];
		snprintf(path, sizeof(path), "%s%s%s", u->cf.state_dir,
		    m->path[0] != '\0' ? "/" : "", m->path);
		if (lstat(path, &st) == -1) {
			if (errno != ENOENT)
				rc = -1;
			continue;
		}
		/* a symlink is left alone: chmod would follow it */
		if (S_ISLNK(st.st_mode) || (st.st_mode & 07777) == m->mode)
			continue;
		if (chmod(path, m->mode) == -1) {
			log_warn("path=%s action=chmod mode=%04o", path,
			    (unsigned)m->mode);
			rc = -1;
			continue;
		}
		log_info("path=%s action=chmod mode=%04o was=%04o", path,
		    (unsigned)m->mode, (unsigned)(st.st_mode & 07777));
	}
	return rc;
}
