/*
 * uart.c: a 16550A on COM1 (0x3f8, IRQ 4), the guest's console. Output
 * goes straight to the console fd; input arrives from the main loop into a
 * 256-byte receive buffer (the main loop stops reading its fd while the
 * buffer is full, so a flood of input costs nothing). Interrupts: received
 * data and THR empty, on a level-triggered line; loopback mode echoes
 * transmitted bytes into the receiver as Linux's probe expects.
 */
#include <string.h>
#include <unistd.h>

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
