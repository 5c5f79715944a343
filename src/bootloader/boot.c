/*
 * boot.c: kxl's bootloader for `kxl create' (include/kxl/bootloader.h).
 * The domain's first disk in the config's order (libxl's disks[0]) is
 * opened read-only here, in the privileged process (an image in one of
 * QEMU's formats through qemu-storage-daemon's read-only export, export.c); the sandboxed reader
 * (sandbox.c) gets only that descriptor and two fresh memfds, which it
 * fills with the chosen entry's kernel and its ramdisks. The builder then
 * reads the memfds by descriptor; kxl create runs this again (without the
 * menu) at each restart of the domain, as libxl runs pygrub at every build
 * (src/cli/run.c, kxl_vmm_spec.reboot_boot). The request is built as libxl builds pygrub's
 * argv: kernel=, ramdisk= and cmdline= first (--kernel=, --ramdisk=,
 * --args=), then bootloader_args, the later option winning.
 */
#include <kxl/bootloader.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bootloader/bl.h"
#include "util/util.h"

#define BL_TIMEOUT_MS	30000

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *gets(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Takes bootloader_args as pygrub's getopt would: --opt=VALUE or --opt
 * VALUE. Returns 0, or -1 with the offending argument said. */
static int take_args(json_object *arr, struct bl_request *rq, bool *quiet, struct kxl_diag *d)
{
	static const char *const valued[] = { "--entry", "--kernel", "--ramdisk", "--args", "--offset" };
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(arr, i));
		if (!a)
			continue;
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			*quiet = true;	/* no menu, even with the console attached */
			continue;
		}
		if (!strcmp(a, "-i") || !strcmp(a, "--interactive") || !strcmp(a, "--debug"))
			continue;
		size_t k;
		const char *val = NULL;
		for (k = 0; k < ARRAY_SIZE(valued); k++) {
			size_t l = strlen(valued[k]);
			if (!strncmp(a, valued[k], l) && a[l] == '=') {
				val = a + l + 1;
				break;
			}
			if (!strcmp(a, valued[k])) {
				if (i + 1 >= n)
					return kxl_err(d, "bootloader_args: %s needs a value", a);
				val = json_object_get_string(json_object_array_get_idx(arr, ++i));
				break;
			}
		}
		if (k == ARRAY_SIZE(valued) || !val)
			return kxl_err(d, "bootloader_args: `%s' is not an option of kxl's bootloader "
				       "(it takes --entry=, --kernel=, --ramdisk=, --args=, --offset= and -q)", a);
		switch (k) {
		case 0: rq->entry = val; break;
		case 1: rq->kernel = val; break;
		case 2: rq->ramdisk = val; break;
		case 3: rq->args = val; break;
		default: {
			char *end;
			errno = 0;
			unsigned long long off = strtoull(val, &end, 0);
			if (errno || *end || !*val || *val == '-')
				return kxl_err(d, "bootloader_args: --offset must be a whole number of bytes: `%s'", val);
			rq->offset = off;
		}
		}
	}
	if (rq->args && (strchr(rq->args, '\n') || strlen(rq->args) >= BL_CMDLINE_MAX))
		return kxl_err(d, "the bootloader's extra arguments hold a newline or more than %d bytes",
			       BL_CMDLINE_MAX - 1);
	return 0;
}

void kxl_bootloader_free(struct kxl_bootloader *bl)
{
	if (bl->kernel_fd >= 0)
		close(bl->kernel_fd);
	if (bl->ramdisk_fd >= 0)
		close(bl->ramdisk_fd);
	free(bl->kernel_name);
	free(bl->ramdisk_name);
	free(bl->cmdline);
	memset(bl, 0, sizeof(*bl));
	bl->kernel_fd = bl->ramdisk_fd = -1;
}

int kxl_bootloader_boot(const struct kxl_domain *dom, bool interactive, struct kxl_boot_spec *spec,
			struct kxl_bootloader *bl, struct kxl_diag *d)
{
	memset(bl, 0, sizeof(*bl));
	bl->kernel_fd = bl->ramdisk_fd = -1;
	json_object *disks = get(dom->config, "disks"), *b = get(dom->config, "b_info");
	json_object *disk0 = disks && json_object_is_type(disks, json_type_array) &&
			     json_object_array_length(disks) ? json_object_array_get_idx(disks, 0) : NULL;
	const char *path = gets(disk0, "pdev_path"), *fmt = gets(disk0, "format");
	if (!path || !*path)
		return kxl_err(d, "bootloader = \"%s\": the bootloader reads the kernel from the "
			       "domain's first disk, and the config has none", dom->bootloader);
	static const char *const qemu[][2] = {
		{ "qcow", "qcow" }, { "qcow2", "qcow2" }, { "vhd", "vpc" }, { "qed", "qed" },
	};
	const char *driver = NULL;
	for (size_t i = 0; fmt && i < ARRAY_SIZE(qemu); i++)
		if (!strcmp(fmt, qemu[i][0]))
			driver = qemu[i][1];
	if (fmt && strcmp(fmt, "raw") && !driver)
		return kxl_err(d, "%s: format=%s: kxl's bootloader reads raw images, block devices "
			       "and qcow, qcow2, vhd and qed images", path, fmt);

	struct bl_request rq = { .offset = UINT64_MAX, .listfd = 2 };
	rq.kernel = dom->kernel;
	rq.ramdisk = dom->ramdisk;
	rq.args = dom->cmdline;
	bool quiet = false;
	if (take_args(get(b, "bootloader_args"), &rq, &quiet, d))
		return -1;

	struct bl_export x = { .fd = -1 };
	char err[BL_ERRLEN];
	int fd;
	if (driver) {
		/* qemu-storage-daemon reads the format; the reader sees raw bytes */
		if (bl_export_open(path, driver, &x, err, sizeof(err)) < 0)
			return kxl_err(d, "%s: format=%s for the bootloader: %s", path, fmt, err);
		fd = x.fd;
		x.fd = -1;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return kxl_err(d, "%s: cannot open the disk for the bootloader: %s", path,
				       strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		bl_export_close(&x);
		return kxl_err(d, "%s: not a disk image or block device", path);
	}
	bl->kernel_fd = memfd_create("kxl-kernel", MFD_CLOEXEC);
	bl->ramdisk_fd = memfd_create("kxl-ramdisk", MFD_CLOEXEC);
	if (bl->kernel_fd < 0 || bl->ramdisk_fd < 0) {
		int e = errno;
		close(fd);
		bl_export_close(&x);
		return kxl_err(d, "memfd_create: %s", strerror(e));
	}
	struct bl_choice *ch = xcalloc(1, sizeof(*ch));
	struct bl_items items = { 0 };
	char *edited = NULL;
	int r = 0;
	if (interactive && !quiet) {
		/* the menu on the console: a first run lists it, the user chooses */
		struct bl_request lq = rq;
		lq.list = BL_LIST_MENU;
		lq.listfd = memfd_create("kxl-menu", MFD_CLOEXEC);
		char *menu = xmalloc(64 * 1024);
		r = lq.listfd < 0 ? -1 : bl_find_sandboxed(fd, &lq, bl->kernel_fd, bl->ramdisk_fd, ch,
							   BL_TIMEOUT_MS, err, sizeof(err));
		if (lq.listfd < 0)
			snprintf(err, sizeof(err), "memfd_create: %s", strerror(errno));
		ssize_t n = r < 0 ? -1 : pread(lq.listfd, menu, 64 * 1024, 0);
		if (lq.listfd >= 0)
			close(lq.listfd);
		if (n > 0 && bl_items_parse(menu, (size_t)n, &items) == 0) {
			int i = bl_tty_menu(0, 1, &items, &edited);
			rq.entry = items.v[i].path;
			rq.cmdline = edited;
		}
		free(menu);
	}
	if (r == 0)
		r = bl_find_sandboxed(fd, &rq, bl->kernel_fd, bl->ramdisk_fd, ch, BL_TIMEOUT_MS, err,
				      sizeof(err));
	bl_items_free(&items);
	free(edited);
	close(fd);
	bl_export_close(&x);	/* the kernel and ramdisk are in memory now */
	if (r < 0) {
		kxl_err(d, "%s: bootloader: %s", path, err);
		free(ch);
		return -1;
	}
	bl->kernel_size = ch->kernel_size;
	bl->ramdisk_size = ch->ramdisk_size;
	bl->kernel_name = xasprintf("%s:%s", path, ch->kernel);
	bl->cmdline = xstrdup(ch->args);
	if (ch->has_ramdisk) {
		bl->ramdisk_name = xasprintf("%s:%s", path, ch->ramdisk);
	} else {
		close(bl->ramdisk_fd);
		bl->ramdisk_fd = -1;
	}
	free(ch);

	spec->kernel = bl->kernel_name;
	spec->kernel_from_fd = true;
	spec->kernel_fd = bl->kernel_fd;
	spec->cmdline = bl->cmdline[0] ? bl->cmdline : NULL;
	free((void *)spec->modules);
	struct kxl_boot_module *mods = xcalloc(2, sizeof(*mods));
	if (bl->ramdisk_fd >= 0)
		mods[0] = (struct kxl_boot_module){ .path = bl->ramdisk_name, .from_fd = true,
						    .fd = bl->ramdisk_fd };
	spec->modules = mods;
	spec->nr_modules = bl->ramdisk_fd >= 0 ? 1 : 0;
	kxl_note(d, "bootloader: kernel %s (%llu bytes)%s%s, arguments \"%s\"", bl->kernel_name,
		 (unsigned long long)bl->kernel_size, bl->ramdisk_name ? ", ramdisk " : ", no ramdisk",
		 bl->ramdisk_name ? bl->ramdisk_name : "", bl->cmdline);
	return 0;
}
