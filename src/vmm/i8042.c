/*
 * i8042.c: just enough of the PS/2 controller for a reboot: command 0xfe
 * on port 0x64 pulses the reset line. The controller configuration byte
 * can be read and written (commands 0x20/0x60) so that probes end quickly;
 * there is no keyboard or mouse behind it.
 */
#include "vmm/priv.h"

#define STS_OBF 0x01

void i8042_io_locked(struct vm *vm, unsigned is_cmd, uint8_t *val, bool wr)
{
	if (!wr) {
		if (is_cmd) {
			*val = vm->i8042_obf ? STS_OBF : 0;
		} else {
			*val = vm->i8042_out;
			vm->i8042_obf = false;
		}
		return;
	}
	if (!is_cmd) {
		if (vm->i8042_cmd == 0x60)
			vm->i8042_ctr = *val;
		vm->i8042_cmd = 0;
		return;
	}
	vm->i8042_cmd = 0;
	switch (*val) {
	case 0xfe:
		vm_request_stop(vm, KXL_VMM_REBOOT, "the guest reset itself through the i8042");
		break;
	case 0x20:
		vm->i8042_out = vm->i8042_ctr;
		vm->i8042_obf = true;
		break;
	case 0x60:
		vm->i8042_cmd = 0x60;
		break;
	case 0xaa:	/* self-test passed */
		vm->i8042_out = 0x55;
		vm->i8042_obf = true;
		break;
	default:
		break;
	}
}
