/*
 * modules.c: the modlist entries (ramdisk first, then the config's further
 * modules). They go page-aligned above the highest byte of the kernel and
 * below the MMIO hole (so below 4 GiB), each copied straight from its file
 * into guest memory. Linux reads only modlist entry 0, as its initrd, and
 * no module cmdline: for a Linux guest every entry is concatenated into one
 * initrd, each 4-byte aligned as GRUB does with several initrd files, so
 * Linux unpacks each cpio archive in turn; their cmdlines are dropped with
 * a warning, and an entry that is not a cpio archive (plain or compressed)
 * gets a warning that Linux will not unpack it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot-int.h"
#include "util/util.h"

bool modules_is_cpio(const uint8_t *p, size_t len)
{
	static const struct { const char *m; size_t n; } magics[] = {
		{ "070701", 6 }, { "070702", 6 }, { "070707", 6 },	/* newc, crc, odc */
		{ "\x1f\x8b", 2 }, { "\x1f\x9e", 2 },			/* gzip */
		{ "BZh", 3 }, { "\xfd" "7zXZ\0", 6 }, { "\x5d\0\0", 3 },	/* bzip2, xz, lzma */
		{ "\x89LZO", 4 }, { "\x02\x21\x4c\x18", 4 },		/* lzop, lz4 legacy */
		{ "\x28\xb5\x2f\xfd", 4 },				/* zstd */
	};
	for (size_t i = 0; i < ARRAY_SIZE(magics); i++)
		if (len >= magics[i].n && memcmp(p, magics[i].m, magics[i].n) == 0)
			return true;
	return false;
}

static int mod_open(struct boot_ctx *c, size_t i, uint64_t *size)
{
	const char *path = c->mods[i].path;
	struct stat st;
	/* a bootloader's memfd stays the caller's: a copy is read and closed */
	int fd = c->spec->modules[i].from_fd ? fcntl(c->spec->modules[i].fd, F_DUPFD_CLOEXEC, 3) :
		 open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return kxl_err(c->d, "%s: cannot open module %zu: %s", path, i, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return kxl_err(c->d, "%s: module %zu is not a regular file", path, i);
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* The file goes in through the memfd (copy_file_range), then its first
 * bytes are looked at for a cpio or compression magic. */
static int mod_read(struct boot_ctx *c, size_t i, int fd, uint64_t gpa, uint64_t size)
{
	if (size && mem_copy_file(c->img, gpa, fd, 0, size, c->mods[i].path, c->d))
		return -1;
	c->mods[i].gpa = gpa;
	c->mods[i].size = size;
	c->mods[i].is_cpio = size && modules_is_cpio(kxl_guest_ptr(c->img, gpa, size < 8 ? size : 8),
						     size < 8 ? size : 8);
	return 0;
}

static int no_room(struct boot_ctx *c, size_t i, uint64_t at, uint64_t size)
{
	uint64_t low = mem_low_end(c->img->mem_bytes);
	return kxl_err(c->d, "%s: module %zu (%llu bytes) does not fit: it would go at 0x%llx, above the kernel, but guest RAM below 4 GiB ends at 0x%llx (guest memory %llu MiB)",
		       c->mods[i].path, i, (unsigned long long)size, (unsigned long long)at,
		       (unsigned long long)low, (unsigned long long)(c->img->mem_bytes >> 20));
}

int modules_load(struct boot_ctx *c)
{
	const struct kxl_boot_spec *sp = c->spec;
	uint64_t low = mem_low_end(c->img->mem_bytes);
	uint64_t at = align_up(c->kernel_hi, KXL_PAGE);

	c->nr_mods = sp->nr_modules;
	if (!c->nr_mods)
		return 0;
	if (c->nr_mods > KXL_MODLIST_MAX)
		return kxl_err(c->d, "%zu modules: kxl supports at most %d", c->nr_mods, KXL_MODLIST_MAX);
	c->mods = xcalloc(c->nr_mods, sizeof(*c->mods));
	for (size_t i = 0; i < c->nr_mods; i++) {
		c->mods[i].path = sp->modules[i].path;
		c->mods[i].cmdline = sp->modules[i].cmdline;
		if (!c->mods[i].path)
			return kxl_err(c->d, "module %zu has no file name", i);
	}
	bool concat = c->linux_guest;
	if (concat)
		c->initrd_gpa = at;
	for (size_t i = 0; i < c->nr_mods; i++) {
		uint64_t size = 0;
		int fd = mod_open(c, i, &size);
		if (fd < 0)
			return -1;
		if (concat)
			at = align_up(at, 4);
		if (at > low || size > low - at) {
			close(fd);
			return no_room(c, i, at, size);
		}
		int r = mod_read(c, i, fd, at, size);
		close(fd);
		if (r)
			return -1;
		c->mods[i].in_initrd = concat;
		at += size;
		if (!concat) {
			plan_region(c, c->mods[i].gpa, size, c->mods[i].path, "module %zu%s%s%s", i,
				    c->mods[i].cmdline ? " (cmdline \"" : "",
				    c->mods[i].cmdline ? c->mods[i].cmdline : "",
				    c->mods[i].cmdline ? "\")" : "");
			at = align_up(at, KXL_PAGE);
			continue;
		}
		plan_region(c, c->mods[i].gpa, size, c->mods[i].path, "initrd part %zu (module %zu)", i, i);
		if (c->mods[i].cmdline) {
			kxl_warn(c->d, "%s: the cmdline \"%s\" of module %zu is dropped: Linux ignores module command lines",
				 c->mods[i].path, c->mods[i].cmdline, i);
			plan_note(c, "module %zu: cmdline \"%s\" dropped (Linux ignores module command lines)",
				  i, c->mods[i].cmdline);
		}
		if (!c->mods[i].is_cpio) {
			kxl_warn(c->d, "%s: module %zu is not a cpio archive (plain or compressed): Linux will not unpack it",
				 c->mods[i].path, i);
			plan_note(c, "module %zu: not a cpio archive (plain or compressed); Linux will not unpack it", i);
		}
	}
	if (concat) {
		c->initrd_size = at - c->initrd_gpa;
		if (c->nr_mods > 1)
			plan_note(c, "Linux guest: modules 0-%zu concatenated into one initrd at 0x%llx, %llu bytes, each part 4-byte aligned (Linux reads only modlist entry 0)",
				  c->nr_mods - 1, (unsigned long long)c->initrd_gpa,
				  (unsigned long long)c->initrd_size);
		else
			plan_note(c, "Linux guest: module 0 is the initrd at 0x%llx, %llu bytes",
				  (unsigned long long)c->initrd_gpa, (unsigned long long)c->initrd_size);
	} else {
		plan_note(c, "%zu module%s in the modlist, each page-aligned with its own cmdline",
			  c->nr_mods, c->nr_mods == 1 ? "" : "s");
	}
	return 0;
}
