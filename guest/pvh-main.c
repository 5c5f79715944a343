/*
 * pvh-main.c: the 32-bit PVH test guest. The first word of the kernel
 * command line picks the scenario:
 *   info         start_info, cmdline, modules (CRC-32), memmap, RSDP; poweroff
 *   poweroff     ACPI S5 at once
 *   reboot       ACPI reset register ("reboot kbd": the i8042 instead)
 *   triplefault  ud2 without an IDT (KVM_EXIT_SHUTDOWN)
 *   noidt        int3 without an IDT (KVM_EXIT_INTERNAL_ERROR here)
 *   pvpanic      read the capabilities, report a panic
 *   powerbutton  wait for the GED interrupt, then poweroff
 *   ignore       count power-button presses, never power off
 *   smp          INIT/SIPI every vCPU of the MADT, report the APIC IDs
 *   hostile      seed=N: pseudo-random port, ACPI, UART and MMIO accesses, and
 *                virtio-mmio registers and rings filled with garbage
 *   rtc          print the CMOS RTC's date and time; poweroff
 *   echo         echo console input until a '.' then poweroff
 *   exit         the benchmark guest: isa-debug-exit (QEMU), then ACPI S5 (kxl)
 *   flood        print 16 KiB of text, then poweroff
 *   wallclock    kvmclock's wall clock (MSR_KVM_WALL_CLOCK_NEW) in seconds
 *   entry        the entry state (CR0, CR4, EFER, EFLAGS, MTRRdefType, CPUID)
 */
#include <stdint.h>

#include "lib.h"

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_modlist_entry { uint64_t paddr, size, cmdline_paddr, reserved; };
struct hvm_memmap_entry { uint64_t addr, size; uint32_t type, reserved; };

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u
#define GED 0xfea00000u
#define VEC_GED 0x30

void guest_main(const struct hvm_start_info *si);
void irq_handler(void);
void ap_main(void);
extern char irq_stub[], tramp_start[], tramp_end[];

static const char *cmdline = "";

/* Only addresses below 4 GiB are reachable from this 32-bit guest. */
static const void *low_ptr(uint64_t pa)
{
	return pa < 0x100000000ull ? (const void *)(uintptr_t)pa : 0;
}

static void scenario_info(const struct hvm_start_info *si)
{
	gprintf("info: magic=%x version=%u flags=%x\n", si->magic, si->version, si->flags);
	gprintf("info: cmdline=\"");
	put_str_n(cmdline, 4096);
	gprintf("\"\n");
	gprintf("info: nr_modules=%u\n", si->nr_modules);
	const struct hvm_modlist_entry *m = low_ptr(si->modlist_paddr);
	for (uint32_t i = 0; m && i < si->nr_modules && i < 64; i++) {
		const char *mc = low_ptr(m[i].cmdline_paddr);
		const uint8_t *data = low_ptr(m[i].paddr);
		uint32_t crc = data && m[i].size < 0x4000000 ? crc32(data, (size_t)m[i].size) : 0;
		gprintf("info: module %u paddr=%X size=%X crc32=%x cmdline=\"", i, m[i].paddr,
			m[i].size, crc);
		if (mc)
			put_str_n(mc, 1024);
		gprintf("\"\n");
	}
	const struct hvm_memmap_entry *e = low_ptr(si->memmap_paddr);
	gprintf("info: memmap_entries=%u\n", si->memmap_entries);
	for (uint32_t i = 0; e && si->version >= 1 && i < si->memmap_entries && i < 128; i++)
		gprintf("info: memmap %u addr=%X size=%X type=%u\n", i, e[i].addr, e[i].size, e[i].type);
	const char *rsdp = low_ptr(si->rsdp_paddr);
	gprintf("info: rsdp=%X sig=%s\n", si->rsdp_paddr,
		rsdp && !g_strncmp(rsdp, "RSD PTR ", 8) ? "ok" : "bad");
	gprintf("info: done\n");
}

/* ---- interrupts: one IDT entry, the IOAPIC pin of the GED, the LAPIC ---- */
static uint64_t idt[256] __attribute__((aligned(8)));
static volatile uint32_t presses;
static volatile int ignore_button;

static void ioapic_write(uint32_t reg, uint32_t val)
{
	mmio_write32(IOAPIC, reg);
	mmio_write32(IOAPIC + 0x10, val);
}

static void button_wait(void) __attribute__((noreturn));

/* Entered on a fresh stack for every interrupt; never returns (see irq_stub). */
void irq_handler(void)
{
	uint32_t ev = mmio_read32(GED);
	mmio_write32(LAPIC + 0xb0, 0);	/* EOI */
	if (!(ev & 1))
		button_wait();
	presses++;
	if (!ignore_button) {
		gprintf("powerbutton: pressed, powering off\n");
		acpi_poweroff();
	}
	gprintf("ignore: power button press %u ignored\n", presses);
	button_wait();
}

static void button_wait(void)
{
	for (;;)
		__asm__ volatile("sti; hlt; cli");
}

static void irq_setup(void)
{
	uint32_t h = (uint32_t)(uintptr_t)irq_stub;
	idt[VEC_GED] = (h & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) |
		       ((uint64_t)(h >> 16) << 48);
	struct __attribute__((packed)) { uint16_t lim; uint32_t base; } d = {
		sizeof(idt) - 1, (uint32_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" :: "m"(d));
	outb(0x21, 0xff);	/* mask the legacy PICs: the IOAPIC delivers */
	outb(0xa1, 0xff);
	mmio_write32(LAPIC + 0xf0, 0x1ff);	/* software enable, spurious vector 0xff */
	/* pin 9: vector 0x30, fixed, level-triggered, active high, to APIC 0 */
	ioapic_write(0x10 + 2 * 9 + 1, 0);
	ioapic_write(0x10 + 2 * 9, VEC_GED | (1u << 15));
}

static void scenario_powerbutton(void)
{
	irq_setup();
	gprintf(ignore_button ? "ignore: ignoring the power button\n" :
		"powerbutton: waiting for the power button\n");
	button_wait();
}

/* ---- smp ---- */
static volatile uint32_t ap_count;
static volatile uint32_t ap_ids[64];

void ap_main(void)
{
	uint32_t id = mmio_read32(LAPIC + 0x20) >> 24;
	uint32_t slot = __atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
	if (slot < 64)
		ap_ids[slot] = id;
}

static const uint8_t *find_table(const struct hvm_start_info *si, const char *sig)
{
	const uint8_t *rsdp = low_ptr(si->rsdp_paddr);
	if (!rsdp || g_strncmp((const char *)rsdp, "RSD PTR ", 8))
		return 0;
	uint64_t xsdt_pa;
	g_memcpy(&xsdt_pa, rsdp + 24, 8);
	const uint8_t *x = low_ptr(xsdt_pa);
	if (!x)
		return 0;
	uint32_t len;
	g_memcpy(&len, x + 4, 4);
	for (uint32_t o = 36; o + 8 <= len; o += 8) {
		uint64_t pa;
		g_memcpy(&pa, x + o, 8);
		const uint8_t *t = low_ptr(pa);
		if (t && !g_strncmp((const char *)t, sig, 4))
			return t;
	}
	return 0;
}

static void scenario_smp(const struct hvm_start_info *si)
{
	const uint8_t *madt = find_table(si, "APIC");
	uint32_t n = 0, bsp = mmio_read32(LAPIC + 0x20) >> 24;
	if (madt) {
		uint32_t len;
		g_memcpy(&len, madt + 4, 4);
		for (uint32_t o = 44; o + 2 <= len && madt[o + 1]; o += madt[o + 1])
			if (madt[o] == 0 && (madt[o + 4] & 1))
				n++;
	}
	gprintf("smp: bsp apic id %u, %u enabled cpus in the MADT\n", bsp, n);
	g_memcpy((void *)0x10000, tramp_start, (size_t)(tramp_end - tramp_start));
	mmio_write32(LAPIC + 0xf0, 0x1ff);
	mmio_write32(LAPIC + 0x310, 0);
	mmio_write32(LAPIC + 0x300, 0x000c4500);	/* INIT, all excluding self */
	mmio_write32(LAPIC + 0x300, 0x000c4610);	/* SIPI, vector 0x10 -> 0x10000 */
	mmio_write32(LAPIC + 0x300, 0x000c4610);
	for (uint32_t i = 0; i < 20000000 && ap_count + 1 < n; i++)
		cpu_relax();
	uint32_t got = ap_count;
	/* sort the reported IDs, ascending */
	for (uint32_t i = 0; i < got && i < 64; i++)
		for (uint32_t j = i + 1; j < got && j < 64; j++)
			if (ap_ids[j] < ap_ids[i]) {
				uint32_t t = ap_ids[i];
				ap_ids[i] = ap_ids[j];
				ap_ids[j] = t;
			}
	gprintf("smp: apic %u (bsp)\n", bsp);
	for (uint32_t i = 0; i < got && i < 64; i++)
		gprintf("smp: apic %u (ap)\n", ap_ids[i]);
	gprintf("smp: %u of %u cpus up\n", got + 1, n);
}

/* ---- hostile ---- */
static uint32_t rng;
static uint32_t rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

static void hostile_port(uint16_t port)
{
	uint32_t r = rnd(), v = rnd();
	switch (r % 6) {
	case 0: outb(port, (uint8_t)v); break;
	case 1: outw(port, (uint16_t)v); break;
	case 2: outl(port, v); break;
	case 3: (void)inb(port); break;
	case 4: (void)inw(port); break;
	default: (void)inl(port); break;
	}
}

/* virtio-mmio: kxl gives every ACPI guest a console (window 0) and an
 * entropy source (window 1); windows 2 and 3 are empty. Rings and buffers
 * live in a scratch MiB at 16 MiB, but the addresses given to the devices
 * are sometimes in the MMIO hole or across the end of RAM (32 MiB). */
#define VIO 0xd0000000u
#define SCRATCH 0x1000000u
#define SCRATCH_SIZE 0x100000u

static uint32_t vio_addr(void)
{
	uint32_t r = rnd() % 8;
	if (r < 6)
		return SCRATCH + rnd() % SCRATCH_SIZE;
	if (r == 6)
		return 0xc0000000u + rnd() % 0x40000000u;
	return 0x02000000u - rnd() % 64;
}

static void scratch_put32(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)(SCRATCH + (off % SCRATCH_SIZE & ~3u)) = v;
}

static void hostile_virtio(void)
{
	uint32_t w = VIO + (rnd() % 4) * 0x1000;
	switch (rnd() % 9) {
	case 0:		/* any register, any value */
		if (rnd() & 1)
			mmio_write32(w + (rnd() % 0x140 & ~3u), rnd());
		else
			(void)mmio_read32(w + (rnd() % 0x140 & ~3u));
		break;
	case 1:		/* towards the feature phase, with odd features */
		mmio_write32(w + 0x70, 0);
		mmio_write32(w + 0x70, 1);
		mmio_write32(w + 0x70, 3);
		mmio_write32(w + 0x24, 0);
		mmio_write32(w + 0x20, rnd() % 4 ? 0 : rnd());
		mmio_write32(w + 0x24, rnd() % 8 ? 1 : rnd());
		mmio_write32(w + 0x20, rnd() % 4 ? 1 : rnd());
		mmio_write32(w + 0x70, rnd() % 8 ? 0xb : rnd());
		break;
	case 2: {	/* a queue set up on garbage */
		mmio_write32(w + 0x30, rnd() % 3);
		mmio_write32(w + 0x38, rnd() % 4 ? 1u << (rnd() % 10) : rnd());
		for (uint32_t r = 0x80; r <= 0xa0; r += 0x10) {
			mmio_write32(w + r, vio_addr() & ~(rnd() % 4 ? 15u : 0u));
			mmio_write32(w + r + 4, rnd() % 16 ? 0 : rnd());
		}
		mmio_write32(w + 0x44, 1);
		break;
	}
	case 3:
		mmio_write32(w + 0x70, 0xf);	/* DRIVER_OK */
		break;
	case 4:		/* descriptors: mostly plausible, sometimes not */
		for (int i = 0; i < 8; i++) {
			uint32_t d = rnd() % SCRATCH_SIZE & ~15u;
			scratch_put32(d, vio_addr());
			scratch_put32(d + 4, rnd() % 16 ? 0 : rnd());
			scratch_put32(d + 8, rnd() % 8 ? rnd() % 0x2000 : rnd());
			scratch_put32(d + 12, (rnd() & 7) | (rnd() % 64) << 16);
		}
		break;
	case 5:		/* avail rings: an index and entries */
		for (int i = 0; i < 8; i++)
			scratch_put32(rnd(), rnd() % 4 ? rnd() % 64 | (rnd() % 300) << 16 : rnd());
		break;
	case 6:		/* notify: through the ioeventfds, or not */
		mmio_write32(w + 0x50, rnd() % 8 ? rnd() % 3 : rnd());
		break;
	case 7:
		mmio_write32(w + 0x64, mmio_read32(w + 0x60));
		break;
	default:	/* bytes and words where only dwords belong */
		if (rnd() & 1)
			*(volatile uint8_t *)(uintptr_t)(w + rnd() % 0x200) = (uint8_t)rnd();
		else
			(void)*(volatile uint16_t *)(uintptr_t)(w + (rnd() % 0x200 & ~1u));
		break;
	}
}

static void scenario_hostile(void)
{
	const char *s = cmdline_arg(cmdline, "seed");
	uint32_t iters = cmdline_arg(cmdline, "iters") ? g_atou(cmdline_arg(cmdline, "iters")) : 10000;
	rng = s ? g_atou(s) : 1;
	gprintf("hostile: seed %u, %u accesses\n", rng, iters);
	for (uint32_t i = 0; i < iters; i++) {
		uint32_t k = rnd() % 20;
		if (k >= 16) {
			hostile_virtio();
		} else if (k < 4) {
			hostile_port((uint16_t)rnd());				/* any port */
		} else if (k < 6) {
			hostile_port((uint16_t)(0x3f8 + rnd() % 8));		/* the UART */
		} else if (k < 7) {
			/* the ACPI registers: rarely a real S5 or reset */
			uint8_t v = (uint8_t)rnd();
			if ((v & 0x3c) == 0x34)
				v &= (uint8_t)~0x20;	/* no SLP_EN with S5 */
			if (v == 0x0f)
				v = 0x4f;
			if (rnd() % 2048 == 0)
				v = rnd() & 1 ? 0x34 : 0x0f;
			outb((uint16_t)(0x600 + rnd() % 3), v);
		} else if (k < 8) {
			hostile_port((uint16_t)(0x70 + rnd() % 2));		/* RTC */
		} else if (k < 9) {
			uint8_t v = (uint8_t)rnd();
			if (v == 0xfe && rnd() % 8)
				v = 0;
			outb((uint16_t)(rnd() & 1 ? 0x64 : 0x60), v);		/* i8042 */
		} else if (k < 10) {
			if (rnd() % 1024 == 0)
				outb(0x505, 1);					/* pvpanic: rarely */
			else
				(void)inb(0x505);
		} else {
			/* unmapped MMIO in the hole, away from the APICs and the GED */
			uint32_t a = 0xc0000000u + (rnd() % 0x3e000000u);
			a &= ~3u;
			if (a >= GED && a < GED + 0x1000)
				a -= 0x100000;
			if (rnd() & 1)
				mmio_write32(a, rnd());
			else
				(void)mmio_read32(a);
		}
	}
	mmio_write32(VIO + 0x70, 0);	/* the virtio devices stop touching the scratch MiB */
	mmio_write32(VIO + 0x1070, 0);
	outb(0x3f8 + 3, 0x03);	/* LCR: 8N1, DLAB off, whatever the loop left */
	outb(0x3f8 + 4, 0x08);	/* MCR: loopback off */
	gprintf("\nhostile: survived %u accesses\n", iters);
}

/* ---- entry ---- */
extern uint32_t entry_eflags, entry_cr0, entry_cr4, entry_cr3;
extern uint16_t entry_cs;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static void scenario_entry(const struct hvm_start_info *si)
{
	uint32_t r[4];
	char sig[13];
	gprintf("entry: cr0=%x cr4=%x cr3=%x eflags=%x cs=%x ebx=%x\n", entry_cr0, entry_cr4,
		entry_cr3, entry_eflags, entry_cs, (uint32_t)(uintptr_t)si);
	gprintf("entry: efer=%X mtrr_def_type=%X\n", rdmsr(0xc0000080), rdmsr(0x2ff));
	cpuid(1, 0, r);
	gprintf("entry: cpuid1 apic=%u logical=%u hypervisor=%u\n", r[1] >> 24, (r[1] >> 16) & 0xff,
		r[2] >> 31);
	cpuid(0x40000000, 0, r);
	g_memcpy(sig, &r[1], 4);
	g_memcpy(sig + 4, &r[2], 4);
	g_memcpy(sig + 8, &r[3], 4);
	sig[12] = 0;
	gprintf("entry: hypervisor leaf max=%x sig=%s\n", r[0], sig);
	cpuid(0x40000001, 0, r);
	gprintf("entry: kvm features=%x\n", r[0]);
}

/* ---- kvmclock wall clock ---- */
static volatile struct { uint32_t version, sec, nsec; } wall __attribute__((aligned(8)));

static void scenario_wallclock(void)
{
	uint32_t a = (uint32_t)(uintptr_t)&wall;
	__asm__ volatile("wrmsr" :: "c"(0x4b564d00), "a"(a), "d"(0));
	gprintf("wallclock: version=%u sec=%u\n", wall.version, wall.sec);
}

/* ---- rtc ---- */
static uint8_t cmos(uint8_t r)
{
	outb(0x70, r);
	return inb(0x71);
}

static void scenario_rtc(void)
{
	while (cmos(0x0a) & 0x80)
		;
	uint8_t s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9),
		c = cmos(0x32);
	uint8_t v[7] = { c, y, mo, d, h, m, s };
	puts_("rtc: ");
	for (int i = 0; i < 7; i++) {
		if (i == 2 || i == 3)
			putc_('-');
		else if (i == 4)
			putc_(' ');
		else if (i > 4)
			putc_(':');
		putc_("0123456789abcdef"[v[i] >> 4]);
		putc_("0123456789abcdef"[v[i] & 15]);
	}
	puts_("\n");
}

static void scenario_echo(void)
{
	gprintf("echo: type, '.' ends\n");
	for (;;) {
		while (!(inb(0x3f8 + 5) & 1))
			cpu_relax();
		char c = (char)inb(0x3f8);
		if (c == '.')
			break;
		putc_(c);
	}
	gprintf("\necho: done\n");
}

void guest_main(const struct hvm_start_info *si)
{
	if (si->magic != 0x336ec578) {
		gprintf("guest: bad start_info magic %x\n", si->magic);
		acpi_poweroff();
	}
	const char *c = low_ptr(si->cmdline_paddr);
	if (c)
		cmdline = c;
	if (word_is(cmdline, "exit")) {
		/* the benchmark guest: no console output, leave at once */
		outb(0xf4, 0);		/* QEMU's isa-debug-exit; an unknown port for kxl */
		acpi_poweroff();
	}
	gprintf("guest: kxl test guest, scenario \"");
	put_str_n(cmdline, 64);
	gprintf("\"\n");

	if (word_is(cmdline, "info")) {
		scenario_info(si);
		acpi_poweroff();
	} else if (word_is(cmdline, "poweroff")) {
		acpi_poweroff();
	} else if (!g_strncmp(cmdline, "reboot", 6)) {
		if (!g_strncmp(cmdline, "reboot kbd", 10)) {
			gprintf("reboot: through the i8042\n");
			outb(0x64, 0xfe);
		}
		gprintf("reboot: through the ACPI reset register\n");
		acpi_reboot();
	} else if (word_is(cmdline, "triplefault")) {
		gprintf("triplefault: ud2 without an IDT\n");
		__asm__ volatile("ud2");
	} else if (word_is(cmdline, "noidt")) {
		gprintf("noidt: int3 without an IDT\n");
		__asm__ volatile("int3");
	} else if (word_is(cmdline, "pvpanic")) {
		gprintf("pvpanic: capabilities %x, panicking\n", inb(0x505));
		outb(0x505, 1);
	} else if (word_is(cmdline, "powerbutton")) {
		scenario_powerbutton();
	} else if (word_is(cmdline, "ignore")) {
		ignore_button = 1;
		scenario_powerbutton();
	} else if (word_is(cmdline, "smp")) {
		scenario_smp(si);
		acpi_poweroff();
	} else if (!g_strncmp(cmdline, "hostile", 7)) {
		scenario_hostile();
		acpi_poweroff();
	} else if (word_is(cmdline, "rtc")) {
		scenario_rtc();
		acpi_poweroff();
	} else if (word_is(cmdline, "echo")) {
		scenario_echo();
		acpi_poweroff();
	} else if (word_is(cmdline, "wallclock")) {
		scenario_wallclock();
		acpi_poweroff();
	} else if (word_is(cmdline, "flood")) {
		for (uint32_t i = 0; i < 256; i++)
			gprintf("flood: %u ..................................................\n", i);
		acpi_poweroff();
	} else if (word_is(cmdline, "entry")) {
		scenario_entry(si);
		acpi_poweroff();
	} else if (word_is(cmdline, "spin")) {
		gprintf("spin: halting with interrupts off\n");
		halt_forever();
	}
	gprintf("guest: unknown scenario; powering off\n");
	acpi_poweroff();
}
