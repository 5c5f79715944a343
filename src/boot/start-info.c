/*
 * start-info.c: hvm_start_info version 1 (xen/include/public/arch-x86/hvm/
 * start_info.h), its modlist, its memmap, and the command-line area. All of
 * it sits in the reserved boot pages below 64 KiB, because Linux's PVH
 * entry reads them before it maps more than the first 1 GiB.
 *
 *   hvm_start_info (56 bytes): magic @0, version @4, flags @8, nr_modules @12,
 *     modlist_paddr @16, cmdline_paddr @24, rsdp_paddr @32, memmap_paddr @40,
 *     memmap_entries @48, reserved @52.
 *   hvm_modlist_entry (32 bytes): paddr, size, cmdline_paddr, reserved.
 *   hvm_memmap_table_entry (24 bytes): addr, size, u32 type, u32 reserved.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"
#include "util/util.h"

#define HVM_START_MAGIC 0x336ec578u

/* The first "console=hvc0" argument (a whole word, any options after a
 * comma), or NULL. */
static const char *hvc0_arg(const char *s)
{
	for (const char *p = s; (p = strstr(p, "console=hvc0")); p++) {
		char after = p[12];
		if ((p == s || p[-1] == ' ') && (!after || after == ' ' || after == ','))
			return p;
	}
	return NULL;
}

int cmdline_write(struct boot_ctx *c)
{
	const char *s = c->spec->cmdline ? c->spec->cmdline : "";
	char *owned = NULL;
	const char *hvc = hvc0_arg(s);
	if (c->spec->serial_console && c->linux_guest && !strstr(s, "console=ttyS") && hvc) {
		/* hvc0 is virtio-console, a module in distribution kernels: the
		 * boot is on ttyS0 until it loads; the last console= stays hvc0,
		 * so /dev/console (and init) use it as the config asks */
		owned = xasprintf("%.*sconsole=ttyS0 %s", (int)(hvc - s), s, hvc);
		kxl_note(c->d, "put console=ttyS0 before console=hvc0 on the kernel command line: "
			 "the boot shows on COM1 until the virtio console's module is loaded");
		s = owned;
	} else if (c->spec->serial_console && c->linux_guest && !strstr(s, "console=ttyS")) {
		owned = xasprintf("%s%sconsole=ttyS0", s, *s ? " " : "");
		kxl_note(c->d, "appended console=ttyS0 to the kernel command line: Linux gets kxl's "
			 "console on COM1 (the command line named %s)",
			 strstr(s, "console=") ? "another console" : "no console");
		s = owned;
	}
	size_t n = strlen(s) + 1;

	if (n > KXL_CMDLINE_AREA) {
		free(owned);
		return kxl_err(c->d, "the kernel command line is %zu bytes: more than the %llu bytes kxl reserves for command lines",
			       n - 1, (unsigned long long)KXL_CMDLINE_AREA);
	}
	if (n > 2048)
		kxl_warn(c->d, "the kernel command line is %zu bytes; Linux keeps only the first 2047",
			 n - 1);
	memcpy(kxl_guest_ptr(c->img, KXL_GPA_CMDLINE, n), s, n);
	c->cmdline_gpa = KXL_GPA_CMDLINE;
	free(owned);
	return 0;
}

/* Module cmdlines go after the kernel's, at *cursor, which moves past each. */
static uint64_t module_cmdline(struct boot_ctx *c, const char *s, size_t i, uint64_t *cursor)
{
	char whose[48];
	size_t n = strlen(s) + 1;

	snprintf(whose, sizeof(whose), "the command line of module %zu", i);
	if (*cursor + n > KXL_GPA_CMDLINE + KXL_CMDLINE_AREA) {
		kxl_err(c->d, "%s is too long: all command lines together must fit in %llu bytes",
			whose, (unsigned long long)KXL_CMDLINE_AREA);
		return 0;
	}
	uint64_t at = *cursor;
	memcpy(kxl_guest_ptr(c->img, at, n), s, n);
	*cursor += n;
	return at;
}

int start_info_write(struct boot_ctx *c)
{
	uint8_t *si = kxl_guest_ptr(c->img, KXL_GPA_START_INFO, 56);
	uint8_t *ml = kxl_guest_ptr(c->img, KXL_GPA_START_INFO + 56, 32 * KXL_MODLIST_MAX);
	uint8_t *mm = kxl_guest_ptr(c->img, KXL_GPA_MEMMAP, 24 * KXL_MEMMAP_MAX);
	uint64_t cursor = c->cmdline_gpa + strlen(kxl_guest_ptr(c->img, c->cmdline_gpa, 1)) + 1;
	uint32_t nr = 0;

	for (size_t i = 0; i < c->nr_mods; i++) {
		const struct boot_mod *m = &c->mods[i];
		uint64_t cl = 0;
		if (m->in_initrd) {
			if (i > 0)
				continue;
			st64(ml, c->initrd_gpa);
			st64(ml + 8, c->initrd_size);
			st64(ml + 16, 0);
			nr = 1;
			continue;
		}
		if (m->cmdline && !(cl = module_cmdline(c, m->cmdline, i, &cursor)))
			return -1;
		c->mods[i].modlist_index = nr;
		uint8_t *e = ml + 32 * nr++;
		st64(e, m->gpa);
		st64(e + 8, m->size);
		st64(e + 16, cl);
		st64(e + 24, 0);
	}
	c->modlist_count = nr;
	for (unsigned i = 0; i < c->map.n; i++) {
		uint8_t *e = mm + 24 * i;
		st64(e, c->map.v[i].addr);
		st64(e + 8, c->map.v[i].size);
		st32(e + 16, c->map.v[i].type);
		st32(e + 20, 0);
	}
	st32(si, HVM_START_MAGIC);
	st32(si + 4, 1);
	st32(si + 8, 0);
	st32(si + 12, nr);
	st64(si + 16, nr ? KXL_GPA_START_INFO + 56 : 0);
	st64(si + 24, c->cmdline_gpa);
	st64(si + 32, c->rsdp_gpa);
	st64(si + 40, KXL_GPA_MEMMAP);
	st32(si + 48, c->map.n);
	st32(si + 52, 0);
	plan_region(c, KXL_GPA_START_INFO, 56 + 32ULL * nr, NULL,
		    "hvm_start_info v1 + modlist (%u entries)", nr);
	plan_region(c, KXL_GPA_MEMMAP, 24ULL * c->map.n, NULL, "memmap (%u entries)", c->map.n);
	plan_region(c, KXL_GPA_CMDLINE, cursor - KXL_GPA_CMDLINE, NULL, "command lines");
	return 0;
}
