/*
 * restrict.c: the user and root directory QEMU runs with (libxl's
 * dm_restrict and device_model_user). As libxl: device_model_user, when
 * set, is the user QEMU switches to (-runas) once its devices are open;
 * dm_restrict = 1 also puts it into an empty directory (-chroot), and
 * without device_model_user the user is libxl's shared one,
 * xen-qemuuser-shared, when it exists, else nobody (a note says which;
 * libxl's per-domain uid range is not used). QEMU opens its disks,
 * firmware, kernel and sockets before it switches, so they need nothing in
 * the chroot; what QEMU would open later (a cd-insert, a dump-guest-memory
 * file) cannot be, which the warning says. Switching users needs root:
 * run by another user (opts->unprivileged), the restriction is left out
 * with a warning. Users are looked up in /etc/passwd (kxl is linked
 * statically: no NSS); QEMU resolves -runas itself.
 */
#include "dm/dm-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARED_USER "xen-qemuuser-shared"
#define FALLBACK_USER "nobody"

/* Is user a line of /etc/passwd? */
static bool passwd_has(const char *user)
{
	FILE *f = fopen("/etc/passwd", "re");
	if (!f) return false;
	char line[1024];
	size_t n = strlen(user);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, user, n) && line[n] == ':';
	fclose(f);
	return found;
}

bool dm_switches_user(struct dm *m)
{
	return !m->o->unprivileged &&
	       (dm_bool(m->b, "dm_restrict", false) || dm_gets(m->b, "device_model_user"));
}

void dm_fam_restrict(struct dm *m)
{
	bool restrict_ = dm_bool(m->b, "dm_restrict", false);
	const char *user = dm_gets(m->b, "device_model_user");
	if (!restrict_ && !user)
		return;
	const char *key = user ? "device_model_user" : "dm_restrict";
	if (m->o->unprivileged) {
		dm_msg(m, KXL_WARNING, key, "%s: kxl is not running as root, so QEMU cannot switch "
		       "users or chroot: it runs as the caller", key);
		return;
	}
	if (user && (!*user || strpbrk(user, ":, \n"))) {
		dm_msg(m, KXL_ERROR, "device_model_user", "device_model_user: `%s' is not a user name",
		       user);
		return;
	}
	if (user && !passwd_has(user))
		dm_msg(m, KXL_WARNING, "device_model_user", "device_model_user: `%s' is not in "
		       "/etc/passwd (QEMU looks it up itself, and stops if there is no such user)", user);
	if (!user) {
		user = passwd_has(SHARED_USER) ? SHARED_USER : FALLBACK_USER;
		dm_msg(m, KXL_NOTE, "dm_restrict", "dm_restrict: QEMU runs as %s (no device_model_user%s)",
		       user, strcmp(user, SHARED_USER) ? "; libxl's " SHARED_USER " does not exist" : "");
	}
	dm_pair(m, "-runas", user);
	if (!restrict_)
		return;
	dm_pair(m, "-chroot", m->o->chroot_dir ? m->o->chroot_dir : "@CHROOT@");
	dm_msg(m, KXL_WARNING, "dm_restrict", "dm_restrict: QEMU runs in an empty chroot: cd-insert "
	       "and guest memory dumps (dump-core, coredump-* actions) cannot reach files from "
	       "there; libxl's resource limits and -xen-domid-restrict are not applied");
}
