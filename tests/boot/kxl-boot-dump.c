/*
 * kxl-boot-dump.c: builds a guest image from command-line arguments with
 * kxl_boot_build() and shows it: the plan (text or JSON), the decoded
 * hvm_start_info / boot_params, modlist and memory map, the entry state,
 * and optionally the ACPI tables as files for `iasl -d` and a byte-for-byte
 * check of an ELF's PT_LOAD segments against guest memory.
 *
 *   kxl-boot-dump KERNEL [--mem MiB] [--vcpus N] [--maxvcpus N]
 *       [--cmdline S] [--module PATH[=CMDLINE]]... [--protocol auto|pvh|linux]
 *       [--no-acpi] [--xen-pv] [--virtio-mmio N] [--json] [--decode] [--acpi-dir DIR] [--verify-elf ELF]
 *       [--quiet]
 * Exit status: 0 built, 1 build error (diagnostics on stderr), 2 usage,
 * 3 a verification failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kxl/boot.h>

#include "layout.h"
#include "util/util.h"

static uint32_t r32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }

static const uint8_t *gp(const struct kxl_guest_image *img, uint64_t gpa, uint64_t len)
{
	const uint8_t *p = kxl_guest_ptr(img, gpa, len);
	if (!p) {
		fprintf(stderr, "kxl-boot-dump: 0x%llx+%llu is not guest RAM\n",
			(unsigned long long)gpa, (unsigned long long)len);
		exit(3);
	}
	return p;
}

static void decode_memmap(const uint8_t *m, unsigned n, unsigned stride)
{
	printf("memmap: %u entries\n", n);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = m + (size_t)stride * i;
		printf("  [0x%016llx, 0x%016llx) type %u\n", (unsigned long long)r64(e),
		       (unsigned long long)(r64(e) + r64(e + 8)), r32(e + 16));
	}
}

static void decode(const struct kxl_guest_image *img)
{
	const struct kxl_entry *e = &img->entry;
	if (e->protocol == KXL_BOOT_PROTO_PVH) {
		const uint8_t *si = gp(img, e->rbx, 56);
		printf("hvm_start_info @0x%llx: magic 0x%x version %u flags %u nr_modules %u\n",
		       (unsigned long long)e->rbx, r32(si), r32(si + 4), r32(si + 8), r32(si + 12));
		printf("  modlist 0x%llx cmdline 0x%llx rsdp 0x%llx memmap 0x%llx entries %u\n",
		       (unsigned long long)r64(si + 16), (unsigned long long)r64(si + 24),
		       (unsigned long long)r64(si + 32), (unsigned long long)r64(si + 40), r32(si + 48));
		if (r64(si + 24))
			printf("  cmdline \"%s\"\n", (const char *)gp(img, r64(si + 24), 1));
		for (unsigned i = 0; i < r32(si + 12); i++) {
			const uint8_t *m = gp(img, r64(si + 16) + 32 * i, 32);
			printf("  module %u: 0x%llx, %llu bytes, cmdline %s%s%s\n", i,
			       (unsigned long long)r64(m), (unsigned long long)r64(m + 8),
			       r64(m + 16) ? "\"" : "(none)",
			       r64(m + 16) ? (const char *)gp(img, r64(m + 16), 1) : "",
			       r64(m + 16) ? "\"" : "");
		}
		decode_memmap(gp(img, r64(si + 40), 24ULL * r32(si + 48)), r32(si + 48), 24);
	} else {
		const uint8_t *zp = gp(img, e->rsi, 4096);
		printf("boot_params @0x%llx: cmdline 0x%x \"%s\" initrd 0x%x+%u rsdp 0x%llx\n",
		       (unsigned long long)e->rsi, r32(zp + 0x228),
		       (const char *)gp(img, r32(zp + 0x228), 1), r32(zp + 0x218), r32(zp + 0x21c),
		       (unsigned long long)r64(zp + 0x70));
		decode_memmap(zp + 0x2d0, zp[0x1e8], 20);
	}
	printf("entry: protocol %s rip 0x%llx rbx 0x%llx rsi 0x%llx cr3 0x%llx gdt 0x%llx/%u\n",
	       e->protocol == KXL_BOOT_PROTO_PVH ? "pvh" : "linux", (unsigned long long)e->rip,
	       (unsigned long long)e->rbx, (unsigned long long)e->rsi, (unsigned long long)e->cr3,
	       (unsigned long long)e->gdt_base, e->gdt_limit);
	for (unsigned i = 0; i < img->nr_slots; i++)
		printf("slot %u: gpa 0x%llx size 0x%llx memfd offset 0x%llx\n", i,
		       (unsigned long long)img->slots[i].gpa, (unsigned long long)img->slots[i].size,
		       (unsigned long long)img->slots[i].memfd_offset);
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "kxl-boot-dump: cannot write %s: %s\n", path, strerror(errno));
		exit(3);
	}
	free(path);
}

static void dump_acpi(const struct kxl_guest_image *img, const char *dir)
{
	const uint8_t *rsdp = gp(img, KXL_GPA_RSDP, 36);
	mkdir(dir, 0755);
	write_file(dir, "rsdp.dat", rsdp, 36);
	uint64_t xsdt = r64(rsdp + 24);
	const uint8_t *x = gp(img, xsdt, 36);
	unsigned xl = r32(x + 4);
	x = gp(img, xsdt, xl);
	write_file(dir, "xsdt.dat", x, xl);
	for (unsigned i = 36; i + 8 <= xl; i += 8) {
		uint64_t a = r64(x + i);
		const uint8_t *t = gp(img, a, 36);
		unsigned tl = r32(t + 4);
		t = gp(img, a, tl);
		char name[16];
		snprintf(name, sizeof(name), "%.4s.dat", (const char *)t);
		for (char *c = name; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		write_file(dir, name, t, tl);
		if (memcmp(t, "FACP", 4) == 0) {
			uint64_t da = r64(t + 140);
			const uint8_t *ds = gp(img, da, 36);
			write_file(dir, "dsdt.dat", gp(img, da, r32(ds + 4)), r32(ds + 4));
		}
	}
}

/* Compares every PT_LOAD of a 64-bit ELF with guest memory at p_paddr. */
static int verify_elf(const struct kxl_guest_image *img, const char *path)
{
	char *buf;
	size_t len;
	int bad = 0;
	if (read_file(path, &buf, &len) < 0 || len < 64) {
		fprintf(stderr, "kxl-boot-dump: cannot read %s\n", path);
		return 3;
	}
	const uint8_t *p = (const uint8_t *)buf;
	uint64_t phoff = r64(p + 0x20);
	unsigned phentsize = (unsigned)(p[0x36] | p[0x37] << 8), phnum = (unsigned)(p[0x38] | p[0x39] << 8);
	unsigned n = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *h = p + phoff + (size_t)i * phentsize;
		if (r32(h) != 1 || r64(h + 0x28) == 0)
			continue;
		uint64_t off = r64(h + 8), pa = r64(h + 0x18), fs = r64(h + 0x20), ms = r64(h + 0x28);
		const uint8_t *g = kxl_guest_ptr(img, pa, ms);
		if (!g || memcmp(g, p + off, fs) != 0) {
			fprintf(stderr, "verify: PT_LOAD %u at 0x%llx differs from %s\n", i,
				(unsigned long long)pa, path);
			bad = 1;
			continue;
		}
		for (uint64_t k = fs; k < ms; k++)
			if (g[k]) {
				fprintf(stderr, "verify: PT_LOAD %u bss byte 0x%llx not zero\n", i,
					(unsigned long long)k);
				bad = 1;
				break;
			}
		n++;
	}
	printf("verify: %u PT_LOAD segments match %s%s\n", n, path, bad ? " (with failures)" : "");
	free(buf);
	return bad ? 3 : 0;
}

int main(int argc, char **argv)
{
	struct kxl_boot_spec spec = { .mem_bytes = 256ULL << 20, .vcpus = 1, .acpi = true };
	struct kxl_boot_module mods[64] = { 0 };
	char *owned[64] = { 0 };	/* module paths split off "PATH=CMDLINE" */
	size_t nmods = 0;
	bool json = false, dec = false, quiet = false, maxset = false;
	const char *acpi_dir = NULL, *verify = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
		if (ARG("--mem"))
			spec.mem_bytes = strtoull(v, NULL, 0) << 20;
		else if (ARG("--vcpus"))
			spec.vcpus = (unsigned)strtoul(v, NULL, 0);
		else if (ARG("--maxvcpus")) {
			spec.maxvcpus = (unsigned)strtoul(v, NULL, 0);
			maxset = true;
		} else if (ARG("--cmdline"))
			spec.cmdline = v;
		else if (ARG("--module")) {
			if (nmods == 64)
				return 2;
			char *eq = strchr(v, '=');
			owned[nmods] = eq ? xstrndup(v, (size_t)(eq - v)) : NULL;
			mods[nmods].path = eq ? owned[nmods] : v;
			mods[nmods++].cmdline = eq ? eq + 1 : NULL;
		} else if (ARG("--protocol"))
			spec.protocol = strcmp(v, "pvh") == 0 ? KXL_BOOT_PROTO_PVH :
					strcmp(v, "linux") == 0 ? KXL_BOOT_PROTO_LINUX : KXL_BOOT_PROTO_AUTO;
		else if (ARG("--virtio-mmio"))
			spec.nr_virtio_mmio = (unsigned)strtoul(v, NULL, 0);
		else if (ARG("--acpi-dir"))
			acpi_dir = v;
		else if (ARG("--verify-elf"))
			verify = v;
		else if (strcmp(a, "--no-acpi") == 0)
			spec.acpi = false;
		else if (strcmp(a, "--xen-pv") == 0)
			spec.xen_pv = true;	/* the cfg said type = "pv" */
		else if (strcmp(a, "--json") == 0)
			json = true;
		else if (strcmp(a, "--decode") == 0)
			dec = true;
		else if (strcmp(a, "--quiet") == 0)
			quiet = true;
		else if (a[0] != '-' && !spec.kernel)
			spec.kernel = a;
		else {
			fprintf(stderr, "usage: kxl-boot-dump KERNEL [--mem MiB] [--vcpus N] [--maxvcpus N] [--cmdline S] [--module PATH[=CMDLINE]]... [--protocol auto|pvh|linux] [--no-acpi] [--xen-pv] [--virtio-mmio N] [--json] [--decode] [--acpi-dir DIR] [--verify-elf ELF] [--quiet]\n");
			return 2;
		}
	}
	if (!maxset)
		spec.maxvcpus = spec.vcpus;
	spec.modules = mods;
	spec.nr_modules = nmods;

	struct kxl_diag d;
	struct kxl_guest_image img;
	kxl_diag_init(&d);
	int r = kxl_boot_build(&spec, &img, &d);
	kxl_diag_print(&d, stderr);
	kxl_diag_free(&d);
	for (size_t i = 0; i < nmods; i++)
		free(owned[i]);
	if (r)
		return 1;
	int rc = 0;
	if (!quiet) {
		char *s = json ? kxl_boot_plan_json(&img) : kxl_boot_plan_text(&img);
		fputs(s, stdout);
		if (json)
			putchar('\n');
		free(s);
	}
	if (dec)
		decode(&img);
	if (acpi_dir && spec.acpi)
		dump_acpi(&img, acpi_dir);
	if (verify)
		rc = verify_elf(&img, verify);
	kxl_guest_image_free(&img);
	return rc;
}
