/*
 * uart.c: a 16550A on COM1 (0x3f8, IRQ 4), the guest's console. Output
 * goes straight to the console fd; input arrives from the main loop into a
 * 256-byte receive buffer (the main loop stops reading its fd while the
 * buffer is full, so a flood of input costs nothing). Interrupts: received
 * data and THR empty, on a level-triggered line; loopback mode echoes
 * transmitted bytes into the receiver as Linux's probe expects. Its device
 * kind (dev_uart, at the end) also writes the DSDT's \_SB.COM1.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/dsdt.h"
#include "layout.h"
#include "vmm/priv.h"

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FCR_FIFO 0x01
#define FCR_CLEAR_RX 0x02

void uart_init(struct vm *vm)
{
	memset(&vm->uart, 0, sizeof(vm->uart));
	vm->uart.mcr = 0x08;	/* OUT2 */
	vm->uart.dll = 12;	/* 9600 baud, as after reset */
}

static uint8_t uart_iir(struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO) ? 0xc0 : 0;
	if ((u->ier & IER_RDI) && u->rx_len)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

static void uart_update_irq(struct vm *vm)
{
	struct uart *u = &vm->uart;
	bool level = !(uart_iir(u) & IIR_NONE);
	if (level != u->irq_level) {
		u->irq_level = level;
		vm_irq_line(vm, KXL_GSI_COM1, level);
	}
}

unsigned uart_rx_space_locked(struct vm *vm)
{
	return sizeof(vm->uart.rx) - vm->uart.rx_len;
}

void uart_rx_push_locked(struct vm *vm, const uint8_t *buf, unsigned n)
{
	struct uart *u = &vm->uart;
	for (unsigned i = 0; i < n && u->rx_len < sizeof(u->rx); i++) {
		u->rx[(u->rx_head + u->rx_len) % sizeof(u->rx)] = buf[i];
		u->rx_len++;
	}
	uart_update_irq(vm);
}

static uint8_t uart_rx_pop(struct vm *vm)
{
	struct uart *u = &vm->uart;
	if (!u->rx_len)
		return 0;
	uint8_t c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % sizeof(u->rx);
	u->rx_len--;
	if (u->rx_len == sizeof(u->rx) / 2) {
		/* room again: let the main loop read the console fd */
		uint64_t one = 1;
		if (write(vm->evfd, &one, sizeof(one)) < 0) {
			/* cannot fail: the counter is far from overflow */
		}
	}
	return c;
}

static void uart_tx(struct vm *vm, uint8_t c, int *tx)
{
	struct uart *u = &vm->uart;
	if (u->mcr & MCR_LOOP)
		uart_rx_push_locked(vm, &c, 1);
	else
		*tx = c;
	u->thre_pending = true;	/* transmitted at once: THR empty again */
}

void uart_io_locked(struct vm *vm, unsigned off, uint8_t *val, bool wr, int *tx)
{
	struct uart *u = &vm->uart;
	bool dlab = u->lcr & LCR_DLAB;

	if (wr) {
		uint8_t v = *val;
		switch (off) {
		case 0:
			if (dlab)
				u->dll = v;
			else
				uart_tx(vm, v, tx);
			break;
		case 1:
			if (dlab) {
				u->dlm = v;
			} else {
				/* enabling THRI while THR is empty raises it at once */
				if ((v & IER_THRI) && !(u->ier & IER_THRI))
					u->thre_pending = true;
				u->ier = v & 0x0f;
			}
			break;
		case 2:
			u->fcr = v & 0xc9;
			if (v & FCR_CLEAR_RX)
				u->rx_len = 0;
			break;
		case 3: u->lcr = v; break;
		case 4: u->mcr = v & 0x1f; break;
		case 5: break;	/* LSR is read-only */
		case 6: break;
		case 7: u->scr = v; break;
		}
	} else {
		switch (off) {
		case 0:
			*val = dlab ? u->dll : uart_rx_pop(vm);
			break;
		case 1:
			*val = dlab ? u->dlm : u->ier;
			break;
		case 2:
			*val = uart_iir(u);
			if ((*val & 0x0f) == IIR_THRI)
				u->thre_pending = false;	/* reading IIR acknowledges THRE */
			break;
		case 3: *val = u->lcr; break;
		case 4: *val = u->mcr; break;
		case 5:
			*val = LSR_THRE | LSR_TEMT | (u->rx_len ? LSR_DR : 0);
			break;
		case 6:
			if (u->mcr & MCR_LOOP) {
				/* loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
				uint8_t m = u->mcr;
				*val = ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4);
			} else {
				*val = 0xb0;	/* DCD, DSR, CTS */
			}
			break;
		case 7: *val = u->scr; break;
		}
	}
	uart_update_irq(vm);
}

static void uart_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
			unsigned len, bool write)
{
	uart_io_locked(c->vm, (unsigned)off, data, write, &c->tx);
}

static void uart_reset(struct vm *vm)
{
	uart_init(vm);
}

static size_t uart_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	if (sizeof(vm->uart) <= cap)
		memcpy(buf, &vm->uart, sizeof(vm->uart));
	return sizeof(vm->uart);
}

static int uart_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	struct uart u;
	if (len != sizeof(u))
		return -1;
	memcpy(&u, buf, sizeof(u));
	if (u.rx_head >= sizeof(u.rx) || u.rx_len > sizeof(u.rx))
		return -1;
	vm->uart = u;
	/* the line follows the registers */
	vm->uart.irq_level = !(uart_iir(&vm->uart) & IIR_NONE);
	vm_irq_line(vm, KXL_GSI_COM1, vm->uart.irq_level);
	return 0;
}

static void uart_dsdt(struct aml *a, unsigned nr_virtio_mmio)
{
	struct aml rt = { 0 };
	size_t dev = dsdt_device_begin(a, "COM1");
	dsdt_name_eisaid(a, "_HID", "PNP0501");
	dsdt_name_int(a, "_UID", 1);
	dsdt_rt_io(&rt, KXL_PORT_COM1, 0x00, 0x08);
	dsdt_rt_irq_noflags(&rt, KXL_GSI_COM1);
	dsdt_crs(a, &rt);
	aml_end(a, dev);
	free(rt.p);
}

const struct vmm_dev_kind dev_uart = {
	.name = "uart",
	.bus = VMM_BUS_PIO,
	.base = KXL_PORT_COM1,
	.size = 8,
	.widths = 1u << 1,
	.reset = uart_reset,
	.io = uart_dev_io,
	.save = uart_save,
	.restore = uart_restore,
	.dsdt = uart_dsdt,
};
