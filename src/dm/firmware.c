/*
 * firmware.c: what the guest starts from: the firmware (bios = seabios is
 * QEMU's own SeaBIOS; bios = ovmf is Debian's OVMF as read-only pflash
 * code plus the domain's own copy of the variable store; a firmware path,
 * firmware_override or bios_path_override is loaded as the BIOS image),
 * direct kernel boot (kernel/ramdisk/cmdline through QEMU's -kernel), and
 * extra firmware tables (acpi_firmware, smbios_firmware).
 */
#include "dm/dm-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void pflash(struct dm *m, const char *code, const char *vars)
{
	char *c = dm_esc(code), *v = vars ? dm_esc(vars) : xstrdup("@OVMF_VARS@");
	dm_pairf(m, "-drive", "if=pflash,unit=0,format=raw,readonly=on,file=%s", c);
	dm_pairf(m, "-drive", "if=pflash,unit=1,format=raw,file=%s", v);
	free(c);
	free(v);
}

void dm_fam_firmware(struct dm *m)
{
	const char *bios = dm_gets(m->h, "bios");
	const char *path = dm_gets(m->h, "firmware");		/* firmware = PATH, firmware_override */
	const char *sysfw = dm_gets(m->h, "system_firmware");	/* bios_path_override */
	if (path) {
		/* on Xen it replaces hvmloader; on KVM there is none: the image is
		 * the BIOS QEMU runs */
		char *e = dm_esc(path);
		dm_pair(m, "-bios", e);
		free(e);
		return;
	}
	if (bios && !strcmp(bios, "rombios")) {
		dm_msg(m, KXL_ERROR, dm_isset(m->oh, "bios") ? "bios" : "firmware",
		       "rombios is not supported with qemu-xen, nor by QEMU on KVM: use seabios");
		return;
	}
	if (bios && !strcmp(bios, "ovmf")) {
		pflash(m, sysfw ? sysfw : m->o->ovmf_code ? m->o->ovmf_code : KXL_OVMF_CODE,
		       m->o->vars_path);
		return;
	}
	if (sysfw) {
		char *e = dm_esc(sysfw);
		dm_pair(m, "-bios", e);
		free(e);
	}
	/* seabios: QEMU's default firmware is SeaBIOS */
}

void dm_fam_direct_boot(struct dm *m)
{
	static const struct { const char *field, *opt; } direct[] = {
		{ "kernel", "-kernel" }, { "ramdisk", "-initrd" }, { "cmdline", "-append" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(direct); i++) {
		const char *v = dm_gets(m->b, direct[i].field);
		if (v) dm_pair(m, direct[i].opt, v);
	}
}

#define ACPI_HDR 36
#define TABLES_MAX (16u << 20)	/* bound on a table file read here */

/* acpi_firmware: Xen appends every table of the file; QEMU's -acpitable
 * takes one table a file, its header's length the file's size. */
static void acpi_tables(struct dm *m, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	int r = read_file(path, &buf, &len);
	if (r) {
		dm_msg(m, KXL_ERROR, "acpi_firmware", "acpi_firmware `%s' cannot be read: %s", path,
		       strerror(-r));
		return;
	}
	size_t n = 0, off = 0;
	bool bad = len > TABLES_MAX;
	while (!bad && off < len) {
		if (len - off < ACPI_HDR) { bad = true; break; }
		const unsigned char *p = (const unsigned char *)buf + off;
		uint32_t tl = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;
		if (tl < ACPI_HDR || tl > len - off) { bad = true; break; }
		off += tl;
		n++;
	}
	free(buf);
	if (bad || !n)
		dm_msg(m, KXL_ERROR, "acpi_firmware", "acpi_firmware `%s' is not a sequence of ACPI "
		       "tables (a 36-byte header each, its length field within the file)", path);
	else if (n > 1)
		dm_msg(m, KXL_ERROR, "acpi_firmware", "acpi_firmware `%s' holds %zu ACPI tables; QEMU "
		       "loads one table a file: split it (kxl does not yet)", path, n);
	else {
		char *e = dm_esc(path);
		dm_pairf(m, "-acpitable", "file=%s", e);
		free(e);
	}
}

void dm_fam_tables(struct dm *m)
{
	const char *acpi = dm_gets(m->h, "acpi_firmware");
	if (acpi)
		acpi_tables(m, acpi);
	if (dm_gets(m->h, "smbios_firmware"))
		dm_msg(m, KXL_ERROR, "smbios_firmware", "smbios_firmware: Xen's format (each structure "
		       "after its 32-bit length) is not QEMU's (-smbios file=, bare structures) and kxl "
		       "does not convert it yet");
}
