/*
 * restrict.c: the user, root directory and resource limits QEMU runs with
 * (libxl's dm_restrict and device_model_user). As libxl: device_model_user,
 * when set, is the user QEMU switches to (-runas) once its devices are
 * open; dm_restrict = 1 also puts it into an empty directory (-chroot),
 * and without device_model_user the user is libxl's shared one,
 * xen-qemuuser-shared, when it exists, else nobody (a note says which;
 * libxl's per-domain uid range is not used). QEMU opens its disks,
 * firmware, kernel and sockets before it switches, so they need nothing in
 * the chroot; what it opens later (a cd-insert's image, a dump-core's
 * file) kxl opens and passes over QMP (run.c). Switching users needs root:
 * run by another user (opts->unprivileged), the switch and the chroot are
 * left out with a warning (the limits, which need no privilege, are not). Users are looked up in /etc/passwd (kxl is
 * linked statically: no NSS); QEMU resolves -runas itself.
 *
 * dm_restrict's resource limits are libxl's (libxl_linux.c, Xen 4.17) but
 * one: RLIMIT_CORE, RLIMIT_MSGQUEUE, RLIMIT_LOCKS and RLIMIT_MEMLOCK are 0
 * (MEMLOCK not with pci passthrough, where VFIO pins the guest's memory).
 * libxl's RLIMIT_FSIZE of 256 KiB is not set: the kernel refuses a write
 * at an offset past it into any regular file, even one that is not
 * growing, and on KVM it is QEMU that writes the guest's disk images, the
 * OVMF variable store and dump-core's file (on Xen blkback and the
 * hypervisor do), so it would stop the guest at its first write past the
 * first 256 KiB of its disk.
 */
#include "dm/dm-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "util/util.h"

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
	dm_msg(m, KXL_NOTE, "dm_restrict", "dm_restrict: QEMU runs in an empty chroot (kxl passes "
	       "it cd-insert's and dump-core's files as descriptors) with libxl's resource limits "
	       "except RLIMIT_FSIZE, which would stop its writes to disk images");
}

/* libxl's limits of a restricted QEMU, RLIMIT_FSIZE left out (above). */
static const struct { int resource; const char *name; } limits[] = {
	{ RLIMIT_CORE, "RLIMIT_CORE" }, { RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE" },
	{ RLIMIT_LOCKS, "RLIMIT_LOCKS" }, { RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK" },
};

bool kxl_dm_restricted(const struct kxl_domain *dom)
{
	json_object *b = dm_get(dom->config, "b_info");
	return dm_bool(b, "dm_restrict", false);
}

const char *kxl_dm_restrict_limits(const struct kxl_domain *dom)
{
	json_object *pci = dm_get(dom->config, "pcidevs");
	bool vfio = json_object_is_type(pci, json_type_array) && json_object_array_length(pci);
	for (size_t i = 0; i < ARRAY_SIZE(limits); i++) {
		struct rlimit rl = { 0, 0 };
		if (vfio && limits[i].resource == RLIMIT_MEMLOCK) continue;
		if (setrlimit(limits[i].resource, &rl))
			return limits[i].name;
	}
	return NULL;
}
