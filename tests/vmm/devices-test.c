/*
 * devices-test.c: the VMM's device models without KVM: the 16550A's
 * registers, interrupt identification, loopback and receive bound; the
 * CMOS RTC's BCD/binary/12-hour forms and guest writes; the i8042 reset;
 * the ACPI sleep and reset registers (byte lanes included); pvpanic; the
 * GED event register; and "the first stop wins".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "vmm/priv.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct child_args args = { .name = "devtest", .con_in = -1, .con_out = -1, .log_fd = -1 };

static void vm_reset(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->args = &args;
	vm->vm_fd = vm->kvm_fd = vm->evfd = -1;
	vm->log.fd = -1;
	pthread_mutex_init(&vm->dev_lock, NULL);
	uart_init(vm);
	rtc_init(vm, 0);
}

static uint8_t uin(struct vm *vm, unsigned off)
{
	uint8_t v = 0;
	int tx = -1;
	uart_io_locked(vm, off, &v, false, &tx);
	return v;
}

static int uout(struct vm *vm, unsigned off, uint8_t v)
{
	int tx = -1;
	uart_io_locked(vm, off, &v, true, &tx);
	return tx;
}

static void test_uart(void)
{
	struct vm vm;
	vm_reset(&vm);
	uout(&vm, 7, 0x5a);
	CHECK(uin(&vm, 7) == 0x5a);			/* scratch */
	CHECK(uin(&vm, 5) & 0x60);			/* THRE|TEMT */
	CHECK(uin(&vm, 2) == 0x01);			/* no interrupt */
	CHECK(uout(&vm, 0, 'A') == 'A');		/* THR -> console */
	uout(&vm, 3, 0x80);				/* DLAB */
	uout(&vm, 0, 0x01);
	uout(&vm, 1, 0x00);
	CHECK(uin(&vm, 0) == 0x01 && uin(&vm, 1) == 0x00);
	CHECK(uout(&vm, 0, 0x02) == -1);		/* DLL, not THR */
	uout(&vm, 3, 0x03);
	uout(&vm, 1, 0x02);				/* IER: THRI */
	CHECK((uin(&vm, 2) & 0x0f) == 0x02);		/* THRE interrupt */
	CHECK((uin(&vm, 2) & 0x0f) == 0x01);		/* acknowledged by the IIR read */
	uout(&vm, 0, 'B');
	CHECK((uin(&vm, 2) & 0x0f) == 0x02);		/* again after a transmit */
	uout(&vm, 4, 0x10 | 0x0f);			/* loopback, all outputs */
	CHECK((uin(&vm, 6) & 0xf0) == 0xf0);
	CHECK(uout(&vm, 0, 'x') == -1);			/* looped back, not sent */
	CHECK(uin(&vm, 5) & 0x01);
	CHECK(uin(&vm, 0) == 'x');
	CHECK(!(uin(&vm, 5) & 0x01));
	uout(&vm, 4, 0x08);
	uout(&vm, 1, 0x01);				/* IER: RDI */
	uint8_t buf[300];
	memset(buf, 'r', sizeof(buf));
	CHECK(uart_rx_space_locked(&vm) == 256);
	uart_rx_push_locked(&vm, buf, 300);
	CHECK(uart_rx_space_locked(&vm) == 0);		/* bounded */
	CHECK((uin(&vm, 2) & 0x0f) == 0x04);
	for (int i = 0; i < 256; i++)
		uin(&vm, 0);
	CHECK(!(uin(&vm, 5) & 0x01) && uin(&vm, 0) == 0);	/* empty reads are harmless */
	for (unsigned off = 0; off < 8; off++)		/* any value at any register */
		for (unsigned v = 0; v < 256; v++) {
			uout(&vm, off, (uint8_t)v);
			uin(&vm, off);
		}
}

static uint8_t cmos(struct vm *vm, uint8_t idx)
{
	uint8_t v = idx;
	rtc_io_locked(vm, 0, &v, true);
	rtc_io_locked(vm, 1, &v, false);
	return v;
}

static void cmos_w(struct vm *vm, uint8_t idx, uint8_t val)
{
	rtc_io_locked(vm, 0, &idx, true);
	rtc_io_locked(vm, 1, &val, true);
}

static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }

static void test_rtc(void)
{
	struct vm vm;
	vm_reset(&vm);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	CHECK(bcd(cmos(&vm, 9)) == tm.tm_year % 100);
	CHECK(bcd(cmos(&vm, 0x32)) == 19 + tm.tm_year / 100);
	CHECK(bcd(cmos(&vm, 8)) == tm.tm_mon + 1);
	CHECK(bcd(cmos(&vm, 7)) == tm.tm_mday);
	CHECK(bcd(cmos(&vm, 6)) == tm.tm_wday + 1);
	CHECK(cmos(&vm, 0x0d) == 0x80);
	CHECK(!(cmos(&vm, 0x0a) & 0x80));
	cmos_w(&vm, 0x0b, 0x02 | 0x04);			/* binary */
	CHECK(cmos(&vm, 8) == tm.tm_mon + 1);
	/* a guest sets the year 2030 (binary): the offset moves by years */
	cmos_w(&vm, 9, 30);
	CHECK(cmos(&vm, 9) == 30);
	CHECK(vm.rtc.offset > 86400 * 365 * 3);
	cmos_w(&vm, 9, 200);				/* out of range: ignored */
	CHECK(cmos(&vm, 9) == 30);
	/* rtc_timeoffset: one day later */
	vm_reset(&vm);
	rtc_init(&vm, 86400);
	time_t t = now + 86400;
	gmtime_r(&t, &tm);
	CHECK(bcd(cmos(&vm, 7)) == tm.tm_mday);
	/* 12-hour mode */
	cmos_w(&vm, 0x0b, 0x00);
	uint8_t h = cmos(&vm, 4);
	CHECK(bcd(h & 0x7f) >= 1 && bcd(h & 0x7f) <= 12);
	for (unsigned i = 0; i < 256; i++)		/* any index, any value */
		for (unsigned v = 0; v < 256; v += 17) {
			cmos_w(&vm, (uint8_t)i, (uint8_t)v);
			cmos(&vm, (uint8_t)i);
		}
}

static int stopped(struct vm *vm) { return atomic_load(&vm->stop) ? atomic_load(&vm->stop) - 1 : -1; }

static void test_events(void)
{
	struct vm vm;
	uint8_t v;

	vm_reset(&vm);
	v = 0x20;
	i8042_io_locked(&vm, 1, &v, true);
	i8042_io_locked(&vm, 1, &v, false);
	CHECK(v & 1);					/* CTR ready */
	CHECK(stopped(&vm) == -1);
	v = 0xfe;
	i8042_io_locked(&vm, 1, &v, true);
	CHECK(stopped(&vm) == KXL_VMM_REBOOT);

	vm_reset(&vm);
	v = (3 << 2) | 0x20;				/* S3: refused */
	acpi_io_locked(&vm, KXL_PORT_ACPI_SLEEP_CTL, &v, 1, true);
	v = 5 << 2;					/* S5 without SLP_EN */
	acpi_io_locked(&vm, KXL_PORT_ACPI_SLEEP_CTL, &v, 1, true);
	v = 0x0e;
	acpi_io_locked(&vm, KXL_PORT_ACPI_RESET, &v, 1, true);
	CHECK(stopped(&vm) == -1);
	uint8_t dw[4] = { (5 << 2) | 0x20, 0, 0, 0 };	/* a dword write: byte lanes */
	acpi_io_locked(&vm, KXL_PORT_ACPI_SLEEP_CTL, dw, 4, true);
	CHECK(stopped(&vm) == KXL_VMM_POWEROFF);
	v = KXL_ACPI_RESET_VALUE;			/* the first stop wins */
	acpi_io_locked(&vm, KXL_PORT_ACPI_RESET, &v, 1, true);
	CHECK(stopped(&vm) == KXL_VMM_POWEROFF);

	vm_reset(&vm);
	pvpanic_io_locked(&vm, &v, false);
	CHECK(v == 3);
	v = 2;
	pvpanic_io_locked(&vm, &v, true);
	CHECK(stopped(&vm) == -1);
	v = 1;
	pvpanic_io_locked(&vm, &v, true);
	CHECK(stopped(&vm) == KXL_VMM_CRASH);

	vm_reset(&vm);
	uint8_t d[8];
	ged_mmio_locked(&vm, 0, d, 4, false);
	CHECK(!memcmp(d, "\0\0\0\0", 4));
	ged_power_button(&vm);
	ged_mmio_locked(&vm, 0, d, 4, false);
	CHECK(d[0] == KXL_GED_EVT_POWER_BUTTON);
	ged_mmio_locked(&vm, 0, d, 4, false);
	CHECK(d[0] == 0);				/* read clears */
	ged_mmio_locked(&vm, 4, d, 8, true);		/* writes ignored */
}

int main(void)
{
	test_uart();
	test_rtc();
	test_events();
	printf("%s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
