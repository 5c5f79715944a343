/*
 * layout.h: every guest-physical address and I/O port kxl uses, in one place.
 *
 * The builder (src/boot) writes boot structures at these addresses, the ACPI
 * tables it builds describe the devices at these ports, and the VMM
 * (src/vmm) traps the same ports and registers the same KVM addresses, so the
 * guest and the host agree by construction. Each constant says what lives
 * there; derived values are computed and the _Static_asserts at the end keep
 * the regions ordered and apart.
 *
 * Low memory (below 1 MiB):
 *   0x00000-0x00fff  RAM (real-mode IVT area, left alone)
 *   0x01000-0x0ffff  reserved: boot structures (start_info, memmap, cmdlines,
 *                    zero page, GDT, page tables)
 *   0x10000-0x9ffff  RAM (Linux's SMP trampoline needs usable RAM below 1 MiB)
 *   0xa0000-0xdffff  legacy VGA/ROM hole (Linux reserves it itself)
 *   0xe0000-0xfffff  ACPI tables; the RSDP sits in the legacy scan area
 * Then RAM from 1 MiB up to the MMIO hole [3 GiB, 4 GiB), and RAM above 4 GiB
 * for guests larger than 3 GiB.
 */
#ifndef KXL_LAYOUT_H
#define KXL_LAYOUT_H

#define KXL_KiB 0x400ULL
#define KXL_MiB 0x100000ULL
#define KXL_GiB 0x40000000ULL
#define KXL_PAGE 0x1000ULL

/* ---- boot structures (reserved in the e820 map) ---- */
#define KXL_GPA_BOOT_START	0x1000ULL	/* first reserved boot page */
#define KXL_GPA_START_INFO	0x1000ULL	/* hvm_start_info (56 bytes) + modlist (32 bytes each) */
#define KXL_GPA_MEMMAP		0x2000ULL	/* e820 entries for start_info (24 bytes each) */
#define KXL_MEMMAP_MAX		127		/* Linux copies into a 128-entry table and adds one */
#define KXL_GPA_CMDLINE		0x3000ULL	/* kernel cmdline, then module cmdlines */
#define KXL_CMDLINE_AREA	0x4000ULL	/* 16 KiB for every cmdline together */
#define KXL_GPA_ZERO_PAGE	0x7000ULL	/* Linux boot protocol: boot_params */
#define KXL_GPA_GDT		0x8000ULL	/* Linux boot protocol: GDT of the 64-bit entry */
#define KXL_GPA_PML4		0x9000ULL	/* Linux boot protocol: identity page tables */
#define KXL_GPA_PDPT		0xa000ULL
#define KXL_GPA_PD		0xb000ULL	/* 4 pages: 4 GiB mapped with 2 MiB pages */
#define KXL_NR_PD		4
#define KXL_GPA_BOOT_END	(KXL_GPA_PD + KXL_NR_PD * KXL_PAGE)	/* exclusive */
#define KXL_MODLIST_MAX		64	/* modlist entries that fit after start_info */
#define KXL_GDT_ENTRIES		4	/* null, null, code (0x10), data (0x18) */
#define KXL_GDT_SEL_CS		0x10	/* Linux boot protocol: __BOOT_CS, 64-bit code */
#define KXL_GDT_SEL_DS		0x18	/* Linux boot protocol: __BOOT_DS, flat data */
#define KXL_GPA_LOW_RAM_END	0xa0000ULL	/* end of conventional memory */

/* ---- ACPI (typed ACPI in the e820 map) ---- */
#define KXL_GPA_ACPI_START	0xe0000ULL
#define KXL_GPA_RSDP		0xe0000ULL	/* in the legacy scan area 0xe0000-0xfffff */
#define KXL_GPA_ACPI_TABLES	0xe1000ULL	/* XSDT, FADT, MADT, DSDT follow */
#define KXL_GPA_RESET_VECTOR	0xffff0ULL	/* F000:FFF0, where a CPU reset (or Linux's
						 * BIOS reboot) starts: a stub that asks
						 * the i8042 for a reset (boot/resetvec.c) */
#define KXL_GPA_ACPI_TABLES_END	KXL_GPA_RESET_VECTOR	/* the tables stop below it */
#define KXL_GPA_ACPI_END	0x100000ULL	/* exclusive */

/* ---- RAM and the MMIO hole ---- */
#define KXL_GPA_HIGH_RAM	(1 * KXL_MiB)	/* RAM from 1 MiB up to the hole */
#define KXL_GPA_KERNEL_MIN	(1 * KXL_MiB)	/* lowest address a kernel segment may use */
#define KXL_MMIO_HOLE_START	(3 * KXL_GiB)
#define KXL_MMIO_HOLE_END	(4 * KXL_GiB)
#define KXL_GPA_ABOVE_4G	KXL_MMIO_HOLE_END
#define KXL_MEM_MIN		(16 * KXL_MiB)	/* smallest guest the builder accepts */

/* ---- KVM private pages (reserved in the e820 map, inside the hole) ---- */
#define KXL_GPA_IDENTITY_MAP	0xfeffc000ULL	/* KVM_SET_IDENTITY_MAP_ADDR: 1 page */
#define KXL_GPA_TSS		0xfeffd000ULL	/* KVM_SET_TSS_ADDR: 3 pages */
#define KXL_GPA_KVM_PRIV_END	(KXL_GPA_TSS + 3 * KXL_PAGE)

/* ---- MMIO devices ---- */
#define KXL_GPA_VIRTIO_MMIO	0xd0000000ULL	/* virtio-mmio (LNRO0005) device i at + i * SIZE */
#define KXL_VIRTIO_MMIO_SIZE	0x1000ULL	/* one page each (the registers need 0x200) */
#define KXL_VIRTIO_MMIO_MAX	32		/* console, rng, 16 disks, 8 NICs and room:
						 * described in the DSDT, spec.nr_virtio_mmio */
#define KXL_GPA_GED		0xfea00000ULL	/* Generic Event Device (ACPI0013) event register */
#define KXL_GED_SIZE		0x10ULL
/* The GED's _EVT reads a 32-bit event register at KXL_GPA_GED (the VMM
 * returns the pending event bits and clears them) and notifies per bit: */
#define KXL_GED_EVT_POWER_BUTTON	0x1	/* Notify (\_SB.PWRB, 0x80) */
#define KXL_GPA_IOAPIC		0xfec00000ULL
#define KXL_GPA_LAPIC		0xfee00000ULL

/* ---- I/O ports ---- */
#define KXL_PORT_PIT		0x40
#define KXL_PORT_I8042_DATA	0x60
#define KXL_PORT_I8042_CMD	0x64
#define KXL_PORT_RTC		0x70	/* index; data at 0x71 */
#define KXL_PORT_COM1		0x3f8
#define KXL_PORT_PVPANIC	0x505	/* QEMU0001: read gives capabilities, write reports */
#define KXL_PORT_ACPI_SLEEP_CTL	0x600	/* FADT sleep control register (1 byte) */
#define KXL_PORT_ACPI_SLEEP_STS	0x601	/* FADT sleep status register (1 byte) */
#define KXL_PORT_ACPI_RESET	0x602	/* FADT reset register */
#define KXL_ACPI_RESET_VALUE	0x0f
#define KXL_ACPI_S5_TYPE	5	/* SLP_TYP of \_S5 in the DSDT */

/* ---- interrupts (GSIs on the IOAPIC) ---- */
#define KXL_GSI_COM1		4
#define KXL_GSI_GED		9
#define KXL_GSI_VIRTIO_MMIO	16	/* first GSI of the virtio-mmio devices */
#define KXL_VIRTIO_MMIO_GSIS	8	/* pins 16-23, each shared by up to 4 devices */
/* virtio-mmio device i: GSI 16 + i % 8, level-triggered, active high,
 * shared: the IOAPIC (KVM's has 24 pins) has too few pins for 26+ devices,
 * and virtio-mmio has no MSI. Linux's virtio_mmio requests its interrupt
 * IRQF_SHARED and reads InterruptStatus; the VMM raises the line through an
 * irqfd with a resample fd and raises it again at EOI while any device on
 * it has InterruptStatus set. Round-robin keeps neighbours (disk 0, disk 1)
 * on different pins. */
#define KXL_VIRTIO_MMIO_GSI(i)	(KXL_GSI_VIRTIO_MMIO + (unsigned)(i) % KXL_VIRTIO_MMIO_GSIS)
#define KXL_IOAPIC_PINS		24

_Static_assert(KXL_GPA_START_INFO + 56 + 32 * KXL_MODLIST_MAX <= KXL_GPA_MEMMAP,
	       "start_info and 64 modlist entries fit below the memmap");
_Static_assert(KXL_GPA_MEMMAP + 24 * KXL_MEMMAP_MAX <= KXL_GPA_CMDLINE,
	       "memmap fits below the cmdlines");
_Static_assert(KXL_GPA_CMDLINE + KXL_CMDLINE_AREA <= KXL_GPA_ZERO_PAGE,
	       "cmdlines fit below the zero page");
_Static_assert(KXL_GPA_ZERO_PAGE < KXL_GPA_GDT && KXL_GPA_GDT < KXL_GPA_PML4 &&
	       KXL_GPA_PML4 < KXL_GPA_PDPT && KXL_GPA_PDPT < KXL_GPA_PD,
	       "boot pages are ordered");
_Static_assert(KXL_GPA_BOOT_END <= 0x10000ULL, "boot structures stay below 64 KiB");
_Static_assert(KXL_GPA_LOW_RAM_END <= KXL_GPA_ACPI_START, "ACPI above conventional RAM");
_Static_assert(KXL_GPA_ACPI_END <= KXL_GPA_HIGH_RAM, "ACPI below 1 MiB");
_Static_assert(KXL_GPA_ACPI_TABLES < KXL_GPA_ACPI_TABLES_END &&
	       KXL_GPA_RESET_VECTOR + 16 == KXL_GPA_ACPI_END,
	       "the reset vector is the last 16 bytes below 1 MiB, after the tables");
_Static_assert(KXL_GPA_GED >= KXL_MMIO_HOLE_START && KXL_GPA_GED + KXL_GED_SIZE <= KXL_GPA_IOAPIC,
	       "GED inside the hole, below the IOAPIC");
_Static_assert(KXL_GPA_IDENTITY_MAP >= KXL_GPA_LAPIC + KXL_PAGE &&
	       KXL_GPA_KVM_PRIV_END <= KXL_MMIO_HOLE_END &&
	       (KXL_GPA_IDENTITY_MAP + KXL_PAGE) == KXL_GPA_TSS,
	       "KVM private pages inside the hole, apart from the APICs");
_Static_assert(KXL_GSI_GED < KXL_IOAPIC_PINS && KXL_GSI_COM1 < KXL_IOAPIC_PINS, "GSIs exist");
_Static_assert(KXL_GSI_VIRTIO_MMIO + KXL_VIRTIO_MMIO_GSIS <= KXL_IOAPIC_PINS &&
	       KXL_GSI_VIRTIO_MMIO >= 16 && KXL_GSI_VIRTIO_MMIO > KXL_GSI_GED,
	       "virtio-mmio GSIs exist on the IOAPIC, above the ISA IRQs, apart from the others");
_Static_assert(KXL_VIRTIO_MMIO_MAX >= 2 + 16 + 8 &&
	       (KXL_VIRTIO_MMIO_MAX + KXL_VIRTIO_MMIO_GSIS - 1) / KXL_VIRTIO_MMIO_GSIS <= 4,
	       "room for console, rng, 16 disks and 8 NICs, at most 4 devices per pin");
_Static_assert(KXL_VIRTIO_MMIO_SIZE >= 0x200 && (KXL_VIRTIO_MMIO_SIZE & (KXL_PAGE - 1)) == 0,
	       "a virtio-mmio window holds the registers and is whole pages");
_Static_assert(KXL_GPA_VIRTIO_MMIO >= KXL_MMIO_HOLE_START &&
	       KXL_GPA_VIRTIO_MMIO + KXL_VIRTIO_MMIO_MAX * KXL_VIRTIO_MMIO_SIZE <= KXL_GPA_GED,
	       "virtio-mmio windows inside the hole, below the GED");

#endif
