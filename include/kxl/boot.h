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
	const char *path;	/* absolute, already resolved; with from_fd, only a name
				 * for messages and the plan */
	const char *cmdline;	/* NULL when none */
	bool from_fd;		/* the bytes are in fd (a memfd the bootloader filled), read
				 * from offset 0 with pread; the builder never closes it */
	int fd;
};

/* What to build. Paths are already resolved; nothing here is a cfg value. */
struct kxl_boot_spec {
	const char *kernel;	/* ELF or bzImage; with a pvh firmware path, the firmware;
				 * with kernel_from_fd, only its name for messages */
	bool kernel_from_fd;	/* the kernel's bytes are in kernel_fd (a memfd the
				 * bootloader filled; the builder reads it with pread and
				 * mmap, never closes it, and can read it again at a reboot) */
	int kernel_fd;
	const char *cmdline;	/* kernel command line (NULL: empty) */
	const struct kxl_boot_module *modules;	/* modlist entries, ramdisk first */
	size_t nr_modules;
	uint64_t mem_bytes;	/* guest RAM (memory= in MiB << 20) */
	unsigned vcpus;		/* online at boot */
	unsigned maxvcpus;	/* MADT entries; >= vcpus */
	enum kxl_boot_protocol protocol;
	bool acpi;		/* build ACPI tables (default true) */
	bool serial_console;	/* a Linux guest whose cmdline names no console=ttyS gets
				 * console=ttyS0 appended (Xen configs say hvc0 or nothing,
				 * and kxl's console is COM1); a note says so */
	bool xen_pv;		/* the config says type = "pv": the kernel runs as PVH, so it
				 * must have the PVH entry (a PV-only kernel needs Xen) */
	unsigned nr_virtio_mmio;	/* virtio-mmio devices the DSDT describes (layout.h:
					 * KXL_GPA_VIRTIO_MMIO, KXL_GSI_VIRTIO_MMIO); 0 for now */
};

/* One range of guest-physical RAM backed by the memfd. */
struct kxl_mem_slot {
	uint64_t gpa;
	uint64_t size;
	uint64_t memfd_offset;
};

/* Entry state of vCPU 0 (the BSP). APs wait for INIT/SIPI.
 * PVH (docs/misc/pvh.pandoc): 32-bit protected mode, paging off: CR0 = PE,
 *   CR4 = 0, EFER = 0; CS a flat 32-bit code segment, DS/ES/SS flat data;
 *   TR a busy 32-bit TSS (base 0, limit 0x67); EFLAGS = 0x2; EIP = rip,
 *   EBX = rbx. No GDT is written: the VMM sets the hidden segment state.
 * LINUX (boot.rst, 64-bit protocol): long mode with paging: CR0 = PE|PG (|ET),
 *   CR4 = PAE, EFER = LME|LMA, CR3 = cr3 (identity map of the first 4 GiB
 *   in 2 MiB pages); CS = KXL_GDT_SEL_CS (64-bit code), DS/ES/SS =
 *   KXL_GDT_SEL_DS, both described in the GDT at gdt_base/gdt_limit;
 *   RIP = rip (the vmlinux ELF entry, startup_64), RSI = rsi (boot_params);
 *   interrupts off. */
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

/* What was done with one module of the spec. */
struct kxl_plan_module {
	char *path;
	char *cmdline;		/* as given, or NULL */
	uint64_t gpa, size;	/* where its bytes are */
	int modlist_index;	/* its hvm_start_info modlist entry (0 for every part of a
				 * Linux initrd), or -1 on the Linux boot protocol */
	bool in_initrd;		/* concatenated into the Linux initrd */
	bool cmdline_dropped;	/* Linux guest: its cmdline is not passed */
	bool is_cpio;		/* starts with a cpio or compression magic */
};

struct kxl_boot_plan {
	struct kxl_plan_region *regions;
	size_t nr_regions;
	struct kxl_plan_module *modules;	/* one per spec module, in order */
	size_t nr_modules;
	char **notes;		/* human-readable facts: notes found, protocol reason, module handling */
	size_t nr_notes;
	char *kernel_format;	/* "ELF64", "bzImage (lz4) -> ELF64", ... */
	char *guest_os;		/* XEN_ELFNOTE_GUEST_OS, or NULL */
	bool linux_guest;
};

/* Guest RAM is one memfd of mem_bytes: offset 0 is guest-physical 0 and
 * RAM runs up to min(mem_bytes, KXL_MMIO_HOLE_START) (slot 0); the rest of
 * the memfd is RAM from KXL_GPA_ABOVE_4G (slot 1, memfd_offset = the hole's
 * start). Slots are in address order, nr_slots is 1 or 2. The legacy area
 * 0xa0000-0xfffff is inside slot 0 (the ACPI tables live there). Pages the
 * builder did not write read as zero. kxl_boot_build() initialises *img
 * even when it fails (memfd -1), so kxl_guest_image_free() is always safe
 * after it; it unmaps, closes and frees the plan. */
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
