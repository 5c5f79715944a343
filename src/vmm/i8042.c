/*
 * i8042.c: just enough of the PS/2 controller for a reboot: command 0xfe
 * on port 0x64 pulses the reset line. The controller configuration byte
 * can be read and written (commands 0x20/0x60) so that probes end quickly;
 * there is no keyboard or mouse behind it.
 */
#include <stddef.h>
#include <string.h>

#include "layout.h"
#include "vmm/priv.h"

#define STS_OBF 0x01

void i8042_io_locked(struct vm *vm, unsigned is_cmd, uint8_t *val, bool wr)
{
	if (!wr) {
		if (is_cmd) {
			*val = vm->i8042.obf ? STS_OBF : 0;
		} else {
			*val = vm->i8042.out;
			vm->i8042.obf = false;
		}
		return;
	}
	if (!is_cmd) {
		if (vm->i8042.cmd == 0x60)
			vm->i8042.ctr = *val;
		vm->i8042.cmd = 0;
		return;
	}
	vm->i8042.cmd = 0;
	switch (*val) {
	case 0xfe:
		vm_request_stop(vm, KXL_VMM_REBOOT, "the guest reset itself through the i8042");
		break;
	case 0x20:
		vm->i8042.out = vm->i8042.ctr;
		vm->i8042.obf = true;
		break;
	case 0x60:
		vm->i8042.cmd = 0x60;
		break;
	case 0xaa:	/* self-test passed */
		vm->i8042.out = 0x55;
		vm->i8042.obf = true;
		break;
	default:
		break;
	}
}

/* Two windows of one port each: instance 0 is the data port (0x60),
 * instance 1 the command/status port (0x64). */
static void i8042_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
			 unsigned len, bool write)
{
	i8042_io_locked(c->vm, inst, data, write);
}

static unsigned i8042_count(const struct vm *vm)
{
	return 2;
}

static void i8042_reset(struct vm *vm)
{
	memset(&vm->i8042, 0, sizeof(vm->i8042));
}

static size_t i8042_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	if (sizeof(vm->i8042) <= cap)
		memcpy(buf, &vm->i8042, sizeof(vm->i8042));
	return sizeof(vm->i8042);
}

static int i8042_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	if (len != sizeof(vm->i8042))
		return -1;
	memcpy(&vm->i8042, buf, len);
	vm->i8042.obf = !!buf[offsetof(struct i8042, obf)];
	return 0;
}

const struct vmm_dev_kind dev_i8042 = {
	.name = "i8042",
	.bus = VMM_BUS_PIO,
	.base = KXL_PORT_I8042_DATA,
	.size = 1,
	.stride = KXL_PORT_I8042_CMD - KXL_PORT_I8042_DATA,
	.widths = 1u << 1,
	.count = i8042_count,
	.reset = i8042_reset,
	.io = i8042_dev_io,
	.save = i8042_save,
	.restore = i8042_restore,
};
