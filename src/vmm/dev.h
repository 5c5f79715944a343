/*
 * dev.h: the VMM's device interface. Every device kind is one
 * `const struct vmm_dev_kind` in its own file (uart.c, rtc.c, ...,
 * virtio-dev.c), and devices.c lists them in one table, vmm_devices[]:
 *   - the child attaches them in table order (child.c: memory -> vCPUs ->
 *     devices -> boot -> run), before the seccomp filter;
 *   - io.c dispatches every port and MMIO exit by walking the table;
 *   - the builder's DSDT (src/boot/dsdt.c) is generated from the table's
 *     dsdt hooks, in table order, so the guest sees what the VMM emulates;
 *   - save/restore walk the table, tagging each kind's state by its name.
 * Adding a device kind = one file with its vmm_dev_kind + one table row
 * (docs/ARCHITECTURE.md, "Adding a device"). virtio device models are a
 * level below: one row (virtio-mmio) serves all of them, see virtio.h.
 */
#ifndef KXL_VMM_DEV_H
#define KXL_VMM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/diag.h>

struct vm;
struct vcpu;
struct aml;

enum vmm_bus {
	VMM_BUS_PIO,		/* x86 I/O ports: an access belongs to the window its first port is in */
	VMM_BUS_MMIO,		/* guest-physical addresses: the whole access must be inside */
};

/* One access as io.c hands it to a device. */
struct vmm_io {
	struct vm *vm;
	struct vcpu *vcpu;	/* NULL in tests */
	int tx;			/* a console byte to write once the device lock is
				 * released (the UART), or -1 */
};

struct vmm_dev_kind {
	const char *name;	/* "uart", "virtio-mmio": messages and saved state */
	enum vmm_bus bus;
	/* Instance i's window is [base + i * stride, + size): layout.h. */
	uint64_t base, size, stride;
	unsigned widths;	/* access sizes it takes: bit n set = n bytes; the
				 * others are treated as accesses to nothing */
	bool own_lock;		/* io takes its own locks; otherwise io runs under
				 * vm->dev_lock, as do reset, save and restore */

	/* Instances in this VM (NULL: one). */
	unsigned (*count)(const struct vm *vm);
	/* Creates the device's state, fds and threads, before seccomp; NULL:
	 * reset is all it needs. Returns 0 or -1 with *d. */
	int (*attach)(struct vm *vm, struct kxl_diag *d);
	/* Power-on state (also called by the attach step). NULL: stateless. */
	void (*reset)(struct vm *vm);
	/* An access of len bytes at offset off of instance inst's window. */
	void (*io)(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data, unsigned len,
		   bool write);
	/* State for save/restore (optional, both or neither): save returns the
	 * bytes it needs and writes them only if they fit in cap; restore
	 * takes what save wrote: 0, or -1 if malformed. */
	size_t (*save)(struct vm *vm, uint8_t *buf, size_t cap);
	int (*restore)(struct vm *vm, const uint8_t *buf, size_t len);
	/* Its DSDT entries (inside \_SB), for a guest with nr_virtio_mmio
	 * virtio-mmio devices. Runs in the builder, without a VM. NULL: none. */
	void (*dsdt)(struct aml *a, unsigned nr_virtio_mmio);
};

extern const struct vmm_dev_kind *const vmm_devices[];
extern const size_t vmm_nr_devices;

extern const struct vmm_dev_kind dev_uart, dev_rtc, dev_i8042, dev_acpi_pm, dev_pvpanic,
	dev_ged, dev_virtio_mmio;

/* devices.c: the attach step (every kind, table order); dispatch (io.c
 * uses it, tests too): returns false when nothing claims the access. */
int vmm_devices_attach(struct vm *vm, struct kxl_diag *d);
bool vmm_devices_io(struct vmm_io *c, enum vmm_bus bus, uint64_t addr, uint8_t *data,
		    unsigned len, bool write);
/* Every kind's state as tagged records (name, length, bytes); returns the
 * bytes needed and writes only if they fit. restore: 0, or -1 when a
 * record is malformed or names no kind. */
size_t vmm_devices_save(struct vm *vm, uint8_t *buf, size_t cap);
int vmm_devices_restore(struct vm *vm, const uint8_t *buf, size_t len);

#endif
