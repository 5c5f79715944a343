/*
 * io.c: where guest port and MMIO accesses go: to the device kind whose
 * window holds them (the registry of dev.h, walked by vmm_devices_io());
 * everything else is logged (rate-limited) and ignored: reads return all
 * ones, as on a bus where nothing answers. Handlers see one access of 1, 2
 * or 4 bytes (8 for MMIO), under vm->dev_lock unless their kind has its
 * own locks (virtio). The UART's console byte goes to the console merge
 * (conmerge.h) after the lock.
 */
#include <string.h>

#include "vmm/priv.h"

/* Ports that guests probe on every boot for hardware kxl does not have:
 * no log line for them (Linux reads PCI configuration space, the other
 * COM ports and port B at each boot). Reads give all ones. */
static bool legacy_absent(uint16_t port)
{
	return port == 0x80 || port == 0xed ||		/* POST code, I/O delay */
	       port == 0x61 || port == 0x92 ||		/* port B, fast A20 */
	       (port >= 0xcf8 && port <= 0xcff) ||	/* PCI configuration */
	       (port >= 0x2f8 && port <= 0x2ff) ||	/* COM2 */
	       (port >= 0x3e8 && port <= 0x3ef) ||	/* COM3 */
	       (port >= 0x2e8 && port <= 0x2ef) ||	/* COM4 */
	       (port >= 0x3b0 && port <= 0x3df);	/* VGA */
}

/* A console byte, into the UART's line of the console merge, without the
 * device lock. When the UART has no room left (a console nobody reads) this
 * vCPU waits, it alone, in short steps, so that it can still be paused
 * (then it tries again) or stopped (the byte is lost). */
static void console_put(struct vcpu *v, uint8_t c)
{
	struct vm *vm = v->vm;
	while (conmerge_put(&vm->con, CONMERGE_UART, &c, 1) == 0) {
		if (atomic_load(&vm->quit) || atomic_load(&vm->stop))
			return;
		if (atomic_load(&vm->paused))
			vcpu_park(v);
		else
			conmerge_wait(&vm->con, CONMERGE_UART, 20);
	}
}

void io_port(struct vcpu *v, uint16_t port, uint8_t *data, unsigned size, bool write)
{
	struct vm *vm = v->vm;
	struct vmm_io c = { .vm = vm, .vcpu = v, .tx = -1 };

	if (vmm_devices_io(&c, VMM_BUS_PIO, port, data, size, write)) {
		if (c.tx >= 0)
			console_put(v, (uint8_t)c.tx);
	} else if (legacy_absent(port)) {
		/* hardware a PC may have and this one lacks: silently absent */
		if (!write)
			memset(data, 0xff, size);
	} else {
		uint32_t val = 0;
		if (write) {
			memcpy(&val, data, size);
			vmm_log_limited(vm, "ignored write of %u byte(s) at unknown port %#x: %#x\n",
					size, port, val);
		} else {
			memset(data, 0xff, size);
			vmm_log_limited(vm, "ignored read of %u byte(s) at unknown port %#x\n",
					size, port);
		}
	}
}

void io_mmio(struct vcpu *v, uint64_t addr, uint8_t *data, unsigned len, bool write)
{
	struct vm *vm = v->vm;
	struct vmm_io c = { .vm = vm, .vcpu = v, .tx = -1 };

	if (!vmm_devices_io(&c, VMM_BUS_MMIO, addr, data, len, write)) {
		if (!write)
			memset(data, 0xff, len);
		vmm_log_limited(vm, "ignored %s of %u byte(s) at unmapped address %#llx\n",
				write ? "write" : "read", len, (unsigned long long)addr);
	}
}
