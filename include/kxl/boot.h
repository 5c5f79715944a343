/*
 * boot.h: the PVH domain builder's public API (src/boot).
 *
 * The builder turns a boot specification (derived from the domain model by
 * kxl_boot_spec_from_config() in src/model) into guest memory ready to run:
 * a memfd holding guest RAM with the kernel, modules, hvm_start_info, memory
 * map, ACPI tables (and, on the Linux boot protocol path, a zero page and
 * page tables) written into it, plus the entry state of vCPU 0 and a load
 * plan that `kxl layout` prints. The VMM (src/vmm) consumes the image.
 */
#ifndef KXL_BOOT_H
#define KXL_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/diag.h>

enum kxl_boot_protocol {
	KXL_BOOT_PROTO_AUTO,	/* PVH when the kernel has the PVH note, else Linux */
	KXL_BOOT_PROTO_PVH,
	KXL_BOOT_PROTO_LINUX,	/* Linux x86 64-bit boot protocol (boot.rst) */
};

struct kxl_boot_module {
	const char *path;	/* absolute, already resolved */
	const char *cmdline;	/* NULL when none */
};

/* What to build. Paths are already resolved; nothing here is a cfg value. */
struct kxl_boot_spec {
	const char *kernel;	/* ELF or bzImage; with a pvh firmware path, the firmware */
	const char *cmdline;	/* kernel command line (NULL: empty) */
	const struct kxl_boot_module *modules;	/* modlist entries, ramdisk first */
	size_t nr_modules;
	uint64_t mem_bytes;	/* guest RAM (memory= in MiB << 20) */
	unsigned vcpus;		/* online at boot */
	unsigned maxvcpus;	/* MADT entries; >= vcpus */
	enum kxl_boot_protocol protocol;
	bool acpi;		/* build ACPI tables (default true) */
	unsigned nr_virtio_mmio;	/* virtio-mmio devices the DSDT describes (layout.h:
					 * KXL_GPA_VIRTIO_MMIO, KXL_GSI_VIRTIO_MMIO); 0 for now */
};

/* One range of guest-physical RAM backed by the memfd. */
struct kxl_mem_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t memfd_offset;
};

/* Entry state of vCPU 0 (the BSP). APs wait for INIT/SIPI. */
struct kxl_entry {
	enum kxl_boot_protocol protocol;	/* PVH or LINUX, never AUTO */
	uint64_t rip;
	uint64_t rbx;		/* PVH: guest-physical address of hvm_start_info */
	uint64_t rsi;		/* Linux: guest-physical address of boot_params */
	uint64_t cr3;		/* Linux: identity page tables (PML4) */
	uint64_t gdt_base;	/* Linux: GDT the entry segments come from */
	uint16_t gdt_limit;
};

/* One line of the load plan, for `kxl layout`. */
struct kxl_plan_region {
	uint64_t gpa;
	uint64_t size;
	char *what;		/* "kernel PT_LOAD 0", "start_info", "module 1", ... */
	char *source;		/* file it came from, or NULL */
};

struct kxl_boot_plan {
	struct kxl_plan_region *regions;
	size_t nr_regions;
	char **notes;		/* human-readable facts: notes found, protocol reason, module handling */
	size_t nr_notes;
	char *kernel_format;	/* "ELF64", "bzImage (lz4) -> ELF64", ... */
	char *guest_os;		/* XEN_ELFNOTE_GUEST_OS, or NULL */
	bool linux_guest;
};

struct kxl_guest_image {
	int memfd;		/* guest RAM; owned */
	uint8_t *mem;		/* memfd mapped MAP_SHARED, mem_bytes long; owned */
	uint64_t mem_bytes;
	struct kxl_mem_slot slots[4];	/* KVM memory slots (below the MMIO hole, above 4 GiB) */
	unsigned nr_slots;
	unsigned vcpus, maxvcpus;
	struct kxl_entry entry;
	struct kxl_boot_plan plan;
};

/* Builds the image. Returns 0, or -1 with the cause in *d (file and reason). */
int kxl_boot_build(const struct kxl_boot_spec *spec, struct kxl_guest_image *img,
		   struct kxl_diag *d);
void kxl_guest_image_free(struct kxl_guest_image *img);

/* Guest-physical address -> host pointer inside img->mem, or NULL when
 * [gpa, gpa+len) is not entirely RAM. */
void *kxl_guest_ptr(const struct kxl_guest_image *img, uint64_t gpa, uint64_t len);

/* The load plan as text (one region per line) or as JSON; caller frees. */
char *kxl_boot_plan_text(const struct kxl_guest_image *img);
char *kxl_boot_plan_json(const struct kxl_guest_image *img);

#endif
