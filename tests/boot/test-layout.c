/*
 * test-layout.c: builds guest images of 64 MiB, 2 GiB and 8 GiB (RAM above
 * 4 GiB) from synthetic kernels and decodes what the builder wrote:
 * memory slots, hvm_start_info, modlist, cmdlines, memmap, the ACPI tables
 * and, on the Linux boot protocol, the zero page, GDT and page tables,
 * comparing each with the spec. Placement bugs that only show on large
 * guests are caught here.
 *
 *   test-layout ELF64_PVH_LINUX ELF64_PVH_OTHER ELF64_NONOTE MODULE0 MODULE1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kxl/boot.h>

#include "layout.h"
#include "util/util.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint32_t r32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t r64(const uint8_t *p) { return r32(p) | (uint64_t)r32(p + 4) << 32; }
static uint16_t r16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static const uint8_t *gp(const struct kxl_guest_image *img, uint64_t gpa, uint64_t len)
{
	static const uint8_t zero[4096];
	const uint8_t *p = kxl_guest_ptr(img, gpa, len);
	CHECK(p != NULL, "0x%llx+%llu not in guest RAM", (unsigned long long)gpa, (unsigned long long)len);
	return p ? p : zero;
}

struct ent { uint64_t a, s; uint32_t t; };

/* Checks a memory map against the guest's RAM size; returns entry count. */
static void check_map(const struct kxl_guest_image *img, const struct ent *m, unsigned n, bool acpi,
		      const char *what)
{
	uint64_t ram = 0, low_holes = 0;
	bool acpi_seen = false, kvm_seen = false, boot_seen = false;
	CHECK(n > 0 && n <= KXL_MEMMAP_MAX, "%s: %u entries", what, n);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			CHECK(m[i].a >= m[i - 1].a + m[i - 1].s, "%s: entries %u and %u overlap or are unsorted", what, i - 1, i);
		CHECK(m[i].s > 0, "%s: empty entry %u", what, i);
		if (m[i].t == 1) {
			ram += m[i].s;
			CHECK(kxl_guest_ptr(img, m[i].a, m[i].s) != NULL, "%s: RAM entry %u not backed by a slot", what, i);
			CHECK(!(m[i].a < KXL_MMIO_HOLE_END && m[i].a + m[i].s > KXL_MMIO_HOLE_START), "%s: RAM in the hole", what);
		}
		if (m[i].t == 3) {
			acpi_seen = true;
			CHECK(m[i].a <= KXL_GPA_RSDP && m[i].a + m[i].s >= KXL_GPA_ACPI_END, "%s: ACPI entry does not cover the tables", what);
		}
		if (m[i].t == 2 && m[i].a <= KXL_GPA_IDENTITY_MAP && m[i].a + m[i].s >= KXL_GPA_KVM_PRIV_END)
			kvm_seen = true;
		if (m[i].t == 2 && m[i].a <= KXL_GPA_START_INFO && m[i].a + m[i].s >= KXL_GPA_BOOT_END)
			boot_seen = true;
	}
	low_holes = (KXL_GPA_BOOT_END - KXL_GPA_BOOT_START) + (KXL_GPA_HIGH_RAM - KXL_GPA_LOW_RAM_END);
	CHECK(ram + low_holes == img->mem_bytes, "%s: RAM %llu + holes %llu != memory %llu", what,
	      (unsigned long long)ram, (unsigned long long)low_holes, (unsigned long long)img->mem_bytes);
	CHECK(acpi_seen == acpi, "%s: ACPI entry %s", what, acpi ? "missing" : "present without ACPI");
	CHECK(kvm_seen, "%s: KVM identity map / TSS pages not reserved", what);
	CHECK(boot_seen, "%s: boot pages not reserved", what);
	if (img->mem_bytes > KXL_MMIO_HOLE_START)
		CHECK(m[n - 1].t == 1 && m[n - 1].a == KXL_GPA_ABOVE_4G &&
		      m[n - 1].s == img->mem_bytes - KXL_MMIO_HOLE_START, "%s: RAM above 4 GiB wrong", what);
}

static void check_slots(const struct kxl_guest_image *img)
{
	uint64_t mem = img->mem_bytes;
	if (mem <= KXL_MMIO_HOLE_START) {
		CHECK(img->nr_slots == 1 && img->slots[0].gpa == 0 && img->slots[0].size == mem &&
		      img->slots[0].memfd_offset == 0, "one slot of all RAM");
	} else {
		CHECK(img->nr_slots == 2, "two slots");
		CHECK(img->slots[0].gpa == 0 && img->slots[0].size == KXL_MMIO_HOLE_START, "slot 0");
		CHECK(img->slots[1].gpa == KXL_GPA_ABOVE_4G && img->slots[1].size == mem - KXL_MMIO_HOLE_START &&
		      img->slots[1].memfd_offset == KXL_MMIO_HOLE_START, "slot 1");
		CHECK(kxl_guest_ptr(img, KXL_MMIO_HOLE_START, 1) == NULL, "hole is not RAM");
		CHECK(kxl_guest_ptr(img, KXL_GPA_ABOVE_4G + mem - KXL_MMIO_HOLE_START - 1, 1) != NULL, "last byte is RAM");
		CHECK(kxl_guest_ptr(img, KXL_GPA_ABOVE_4G + mem - KXL_MMIO_HOLE_START, 1) == NULL, "past the end is not RAM");
	}
	CHECK(img->memfd >= 0 && img->mem, "memfd and mapping");
}

static void check_acpi(const struct kxl_guest_image *img, unsigned vcpus, unsigned maxvcpus)
{
	const uint8_t *rsdp = gp(img, KXL_GPA_RSDP, 36);
	CHECK(memcmp(rsdp, "RSD PTR ", 8) == 0, "RSDP signature");
	CHECK(sum(rsdp, 20) == 0 && sum(rsdp, 36) == 0, "RSDP checksums");
	CHECK(rsdp[15] == 2 && r32(rsdp + 20) == 36, "RSDP revision/length");
	const uint8_t *x = gp(img, r64(rsdp + 24), 36);
	uint32_t xl = r32(x + 4);
	x = gp(img, r64(rsdp + 24), xl);
	CHECK(memcmp(x, "XSDT", 4) == 0 && sum(x, xl) == 0, "XSDT");
	bool fadt = false, madt = false;
	for (uint32_t i = 36; i + 8 <= xl; i += 8) {
		uint64_t a = r64(x + i);
		CHECK(a >= KXL_GPA_ACPI_START && a < KXL_GPA_ACPI_END, "table inside the ACPI area");
		const uint8_t *t = gp(img, a, 36);
		uint32_t tl = r32(t + 4);
		t = gp(img, a, tl);
		CHECK(sum(t, tl) == 0, "%.4s checksum", (const char *)t);
		if (memcmp(t, "FACP", 4) == 0) {
			fadt = true;
			CHECK(tl == 276 && t[8] == 6, "FADT 6.x, 276 bytes");
			CHECK(r32(t + 112) & (1u << 20), "HW_REDUCED_ACPI");
			CHECK(r32(t + 112) & (1u << 10), "RESET_REG_SUP");
			CHECK(t[116] == 1 && r64(t + 120) == KXL_PORT_ACPI_RESET && t[128] == KXL_ACPI_RESET_VALUE, "reset register");
			CHECK(t[244] == 1 && t[245] == 8 && r64(t + 248) == KXL_PORT_ACPI_SLEEP_CTL, "sleep control register");
			CHECK(t[256] == 1 && t[257] == 8 && r64(t + 260) == KXL_PORT_ACPI_SLEEP_STS, "sleep status register");
			const uint8_t *ds = gp(img, r64(t + 140), 36);
			uint32_t dl = r32(ds + 4);
			ds = gp(img, r64(t + 140), dl);
			CHECK(memcmp(ds, "DSDT", 4) == 0 && sum(ds, dl) == 0, "DSDT checksum");
			CHECK(memmem(ds, dl, "_S5_", 4) && memmem(ds, dl, "ACPI0013", 8) &&
			      memmem(ds, dl, "QEMU0001", 8) && memmem(ds, dl, "_EVT", 4), "DSDT objects");
			CHECK(memmem(ds, dl, "\x0c\x41\xd0\x0c\x0c", 5) != NULL, "PNP0C0C power button");
			CHECK(memmem(ds, dl, "\x0c\x41\xd0\x05\x01", 5) != NULL, "PNP0501 COM1");
		}
		if (memcmp(t, "APIC", 4) == 0) {
			madt = true;
			CHECK(r32(t + 36) == KXL_GPA_LAPIC, "LAPIC address");
			unsigned lapics = 0, enabled = 0, ioapics = 0;
			bool irq0 = false;
			for (uint32_t o = 44; o + 2 <= tl && t[o + 1] >= 2; o += t[o + 1]) {
				const uint8_t *e = t + o;
				if (e[0] == 0) {
					CHECK(e[3] == lapics, "APIC IDs in order");
					if (r32(e + 4) & 1)
						enabled++;
					else
						CHECK(r32(e + 4) & 2, "disabled vCPU is online-capable");
					CHECK((lapics < vcpus) == !!(r32(e + 4) & 1), "first vcpus enabled");
					lapics++;
				}
				if (e[0] == 1) {
					ioapics++;
					CHECK(r32(e + 4) == KXL_GPA_IOAPIC && r32(e + 8) == 0, "IOAPIC");
				}
				if (e[0] == 2 && e[3] == 0)
					irq0 = r32(e + 4) == 2;
			}
			CHECK(lapics == maxvcpus && enabled == vcpus, "%u LAPICs (%u enabled), want %u (%u)", lapics, enabled, maxvcpus, vcpus);
			CHECK(ioapics == 1 && irq0, "IOAPIC and IRQ0->GSI2");
		}
	}
	CHECK(fadt && madt, "XSDT lists FADT and MADT");
}

static void check_module_bytes(const struct kxl_guest_image *img, uint64_t gpa, const char *path)
{
	char *buf;
	size_t len;
	if (read_file(path, &buf, &len) < 0) {
		CHECK(0, "cannot read %s", path);
		return;
	}
	CHECK(memcmp(gp(img, gpa, len), buf, len) == 0, "module %s bytes at 0x%llx", path, (unsigned long long)gpa);
	free(buf);
}

static uint64_t kernel_end(const struct kxl_guest_image *img)
{
	uint64_t hi = 0;
	for (size_t i = 0; i < img->plan.nr_regions; i++)
		if (strncmp(img->plan.regions[i].what, "kernel PT_LOAD", 14) == 0 &&
		    img->plan.regions[i].gpa + img->plan.regions[i].size > hi)
			hi = img->plan.regions[i].gpa + img->plan.regions[i].size;
	return hi;
}

static void pvh_case(const char *kernel, bool linux_guest, uint64_t mem, unsigned vcpus, unsigned maxvcpus,
		     const char *m0, const char *m1, bool acpi)
{
	struct kxl_boot_module mods[2] = { { .path = m0, .cmdline = "ramdisk-cmd" },
					   { .path = m1, .cmdline = "second module" } };
	struct kxl_boot_spec spec = { .kernel = kernel, .cmdline = "console=ttyS0 root=/dev/vda",
				      .modules = mods, .nr_modules = 2, .mem_bytes = mem,
				      .vcpus = vcpus, .maxvcpus = maxvcpus, .acpi = acpi };
	struct kxl_guest_image img;
	struct kxl_diag d;
	kxl_diag_init(&d);
	fprintf(stderr, "case: PVH %s guest, %llu MiB, acpi %d\n", linux_guest ? "Linux" : "other",
		(unsigned long long)(mem >> 20), acpi);
	int r = kxl_boot_build(&spec, &img, &d);
	if (r) {
		kxl_diag_print(&d, stderr);
		CHECK(r == 0, "build");
		kxl_diag_free(&d);
		return;
	}
	CHECK(img.entry.protocol == KXL_BOOT_PROTO_PVH && img.entry.rbx == KXL_GPA_START_INFO, "PVH entry");
	CHECK(img.entry.rip == 0x1000010, "entry is the PHYS32_ENTRY note");
	check_slots(&img);
	const uint8_t *si = gp(&img, img.entry.rbx, 56);
	CHECK(r32(si) == 0x336ec578 && r32(si + 4) == 1, "magic/version");
	CHECK(strcmp((const char *)gp(&img, r64(si + 24), 1), spec.cmdline) == 0, "cmdline");
	CHECK(r64(si + 32) == (acpi ? KXL_GPA_RSDP : 0), "rsdp_paddr");
	/* everything Linux reads before its first fault handler is below 1 MiB */
	CHECK(r64(si + 16) < KXL_MiB && r64(si + 24) < KXL_MiB && r64(si + 40) < KXL_MiB, "low memory");
	unsigned n = r32(si + 48);
	struct ent m[KXL_MEMMAP_MAX];
	const uint8_t *mm = gp(&img, r64(si + 40), 24ULL * n);
	for (unsigned i = 0; i < n && i < KXL_MEMMAP_MAX; i++)
		m[i] = (struct ent){ r64(mm + 24 * i), r64(mm + 24 * i + 8), r32(mm + 24 * i + 16) };
	check_map(&img, m, n, acpi, "memmap");
	uint64_t kend = kernel_end(&img);
	CHECK(kend > 0, "kernel regions in the plan");
	const uint8_t *ml = gp(&img, r64(si + 16), 32);
	if (linux_guest) {
		CHECK(r32(si + 12) == 1, "Linux: one modlist entry (concatenated initrd)");
		uint64_t a = r64(ml), s = r64(ml + 8);
		CHECK(a >= kend && a % KXL_PAGE == 0 && a + s <= KXL_MMIO_HOLE_START, "initrd placement");
		CHECK(r64(ml + 16) == 0, "no initrd cmdline");
		check_module_bytes(&img, a, m0);
		char *b;
		size_t l0, l1;
		read_file(m0, &b, &l0);
		free(b);
		read_file(m1, &b, &l1);
		free(b);
		uint64_t second = a + ((l0 + 3) & ~3ULL);
		check_module_bytes(&img, second, m1);
		CHECK(s == second + l1 - a, "initrd size");
		CHECK(d.warnings >= 2, "cmdline-dropped warnings");
	} else {
		CHECK(r32(si + 12) == 2, "two modlist entries");
		uint64_t prev = kend;
		for (unsigned i = 0; i < 2; i++) {
			const uint8_t *e = gp(&img, r64(si + 16) + 32 * i, 32);
			CHECK(r64(e) >= prev && r64(e) % KXL_PAGE == 0 && r64(e) + r64(e + 8) <= KXL_MMIO_HOLE_START,
			      "module %u placement", i);
			prev = r64(e) + r64(e + 8);
			check_module_bytes(&img, r64(e), i ? m1 : m0);
			CHECK(r64(e + 16) && strcmp((const char *)gp(&img, r64(e + 16), 1), mods[i].cmdline) == 0,
			      "module %u cmdline", i);
		}
	}
	if (acpi)
		check_acpi(&img, vcpus, maxvcpus);
	else
		CHECK(d.warnings >= 1, "acpi=0 warns");
	char *t = kxl_boot_plan_text(&img), *j = kxl_boot_plan_json(&img);
	CHECK(strstr(t, "protocol: pvh") && strstr(j, "\"protocol\": \"pvh\""), "plan names the protocol");
	free(t);
	free(j);
	kxl_guest_image_free(&img);
	kxl_diag_free(&d);
}

static uint64_t walk(const struct kxl_guest_image *img, uint64_t cr3, uint64_t va)
{
	uint64_t e = r64(gp(img, (cr3 & ~0xfffULL) + 8 * ((va >> 39) & 511), 8));
	if (!(e & 1))
		return ~0ULL;
	e = r64(gp(img, (e & ~0xfffULL) + 8 * ((va >> 30) & 511), 8));
	if (!(e & 1))
		return ~0ULL;
	e = r64(gp(img, (e & ~0xfffULL & 0xffffffffff000ULL) + 8 * ((va >> 21) & 511), 8));
	if (!(e & 1) || !(e & 0x80))
		return ~0ULL;
	return (e & ~0x1fffffULL & 0xfffffffffffffULL) + (va & 0x1fffff);
}

static void linux_case(const char *kernel, enum kxl_boot_protocol proto, uint64_t mem, const char *m0, const char *m1)
{
	struct kxl_boot_module mods[2] = { { .path = m0 }, { .path = m1 } };
	struct kxl_boot_spec spec = { .kernel = kernel, .cmdline = "console=ttyS0", .modules = mods,
				      .nr_modules = 2, .mem_bytes = mem, .vcpus = 1, .maxvcpus = 2,
				      .protocol = proto, .acpi = true };
	struct kxl_guest_image img;
	struct kxl_diag d;
	kxl_diag_init(&d);
	fprintf(stderr, "case: Linux protocol, %llu MiB, %s\n", (unsigned long long)(mem >> 20),
		proto == KXL_BOOT_PROTO_LINUX ? "forced" : "auto");
	if (kxl_boot_build(&spec, &img, &d)) {
		kxl_diag_print(&d, stderr);
		CHECK(0, "build");
		kxl_diag_free(&d);
		return;
	}
	const struct kxl_entry *e = &img.entry;
	CHECK(e->protocol == KXL_BOOT_PROTO_LINUX, "protocol");
	CHECK(e->rip == 0x1000000, "rip = e_entry");
	CHECK(e->rsi == KXL_GPA_ZERO_PAGE && e->cr3 == KXL_GPA_PML4 && e->gdt_base == KXL_GPA_GDT &&
	      e->gdt_limit == KXL_GDT_ENTRIES * 8 - 1, "entry state");
	check_slots(&img);
	const uint8_t *zp = gp(&img, e->rsi, 4096);
	CHECK(r16(zp + 0x1fe) == 0xaa55 && memcmp(zp + 0x202, "HdrS", 4) == 0, "setup header");
	CHECK(zp[0x210] == 0xff, "type_of_loader");
	CHECK(strcmp((const char *)gp(&img, r32(zp + 0x228), 1), "console=ttyS0") == 0, "cmd_line_ptr");
	CHECK(r64(zp + 0x70) == KXL_GPA_RSDP, "acpi_rsdp_addr");
	CHECK(r32(zp + 0x218) >= kernel_end(&img) && r32(zp + 0x21c) > 0, "initrd");
	check_module_bytes(&img, r32(zp + 0x218), m0);
	unsigned n = zp[0x1e8];
	struct ent m[KXL_MEMMAP_MAX];
	for (unsigned i = 0; i < n && i < KXL_MEMMAP_MAX; i++)
		m[i] = (struct ent){ r64(zp + 0x2d0 + 20 * i), r64(zp + 0x2d0 + 20 * i + 8), r32(zp + 0x2d0 + 20 * i + 16) };
	check_map(&img, m, n, true, "zero page e820");
	const uint8_t *gdt = gp(&img, e->gdt_base, 32);
	CHECK(r64(gdt + KXL_GDT_SEL_CS) == 0x00af9b000000ffffULL && r64(gdt + KXL_GDT_SEL_DS) == 0x00cf93000000ffffULL, "GDT");
	static const uint64_t probes[] = { 0, 0x1000000, 0x7fffffff, 0xbfffffff, 0xfee00000, 0xffffffff };
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++)
		CHECK(walk(&img, e->cr3, probes[i]) == probes[i], "identity map of 0x%llx", (unsigned long long)probes[i]);
	kxl_guest_image_free(&img);
	kxl_diag_free(&d);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: test-layout ELF_LINUX ELF_OTHER ELF_NONOTE MOD0 MOD1\n");
		return 2;
	}
	static const uint64_t sizes[] = { 64 * KXL_MiB, 2 * KXL_GiB, 8 * KXL_GiB };
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		pvh_case(argv[1], true, sizes[i], 2, 4, argv[4], argv[5], true);
		pvh_case(argv[2], false, sizes[i], 3, 3, argv[4], argv[5], true);
		linux_case(argv[3], KXL_BOOT_PROTO_AUTO, sizes[i], argv[4], argv[5]);
		linux_case(argv[1], KXL_BOOT_PROTO_LINUX, sizes[i], argv[4], argv[5]);
	}
	pvh_case(argv[2], false, 64 * KXL_MiB, 1, 1, argv[4], argv[5], false);
	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		fprintf(stderr, "all checks passed\n");
	return failures ? 1 : 0;
}
