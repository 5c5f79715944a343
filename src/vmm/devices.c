/*
 * devices.c: the table of device kinds (dev.h) and what walks it: the
 * attach step of the child, the dispatch of port and MMIO accesses, and
 * save/restore of every kind's state. The table's order is the attach
 * order and the order of the DSDT's entries; append new kinds at the end
 * of their bus so that existing guests see an unchanged DSDT.
 *
 * The virtio kinds have their own, second table (virtio_kinds[]): one
 * virtio-mmio row serves all virtio devices, and a virtio device model is
 * found by the type the parent asked for (struct kxl_vmm_vdev).
 */
#include <string.h>

#include "util/util.h"
#include "vmm/priv.h"
#include "vmm/virtio.h"

const struct vmm_dev_kind *const vmm_devices[] = {
	&dev_uart,		/* DSDT: \_SB.COM1 */
	&dev_rtc,
	&dev_i8042,
	&dev_acpi_pm,		/* described by the FADT */
	&dev_pvpanic,		/* DSDT: \_SB.PEVT */
	&dev_ged,		/* DSDT: \_SB.PWRB, \_SB.GED0 */
	&dev_virtio_mmio,	/* DSDT: \_SB.VRnn */
};
const size_t vmm_nr_devices = ARRAY_SIZE(vmm_devices);

static const struct virtio_kind *const virtio_kinds[] = {
	&virtio_console_kind,
	&virtio_rng_kind,
	&virtio_blk_kind,	/* virtio-blk.c: disks */
	&virtio_net_kind,	/* virtio-net.c: network interfaces */
};

const struct virtio_kind *virtio_kind_find(enum kxl_vdev_type type)
{
	for (size_t i = 0; i < ARRAY_SIZE(virtio_kinds); i++)
		if (virtio_kinds[i]->type == type)
			return virtio_kinds[i];
	return NULL;
}

static unsigned instances(const struct vmm_dev_kind *k, const struct vm *vm)
{
	return k->count ? k->count(vm) : 1;
}

int vmm_devices_attach(struct vm *vm, struct kxl_diag *d)
{
	for (size_t i = 0; i < vmm_nr_devices; i++) {
		const struct vmm_dev_kind *k = vmm_devices[i];
		if (k->attach && k->attach(vm, d) < 0)
			return -1;
		if (k->reset) {
			pthread_mutex_lock(&vm->dev_lock);
			k->reset(vm);
			pthread_mutex_unlock(&vm->dev_lock);
		}
	}
	return 0;
}

bool vmm_devices_io(struct vmm_io *c, enum vmm_bus bus, uint64_t addr, uint8_t *data,
		    unsigned len, bool write)
{
	for (size_t i = 0; i < vmm_nr_devices; i++) {
		const struct vmm_dev_kind *k = vmm_devices[i];
		if (k->bus != bus || addr < k->base || len > 8 || !(k->widths & (1u << len)))
			continue;
		uint64_t rel = addr - k->base;
		unsigned n = instances(k, c->vm);
		uint64_t inst = k->stride ? rel / k->stride : 0;
		uint64_t off = k->stride ? rel % k->stride : rel;
		if (inst >= n || off >= k->size)
			continue;
		if (bus == VMM_BUS_MMIO && len > k->size - off)
			continue;
		if (k->own_lock) {
			k->io(c, (unsigned)inst, off, data, len, write);
		} else {
			pthread_mutex_lock(&c->vm->dev_lock);
			k->io(c, (unsigned)inst, off, data, len, write);
			pthread_mutex_unlock(&c->vm->dev_lock);
		}
		return true;
	}
	return false;
}

/* A record: u32 name length, name, u32 state length, state. */
size_t vmm_devices_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < vmm_nr_devices; i++) {
		const struct vmm_dev_kind *k = vmm_devices[i];
		if (!k->save)
			continue;
		uint32_t nl = (uint32_t)strlen(k->name);
		size_t hdr = 4 + nl + 4;
		bool fits = n + hdr <= cap;
		if (!k->own_lock)
			pthread_mutex_lock(&vm->dev_lock);
		size_t sl = k->save(vm, fits ? buf + n + hdr : NULL, fits ? cap - n - hdr : 0);
		if (!k->own_lock)
			pthread_mutex_unlock(&vm->dev_lock);
		if (n + hdr + sl <= cap) {
			uint32_t l = (uint32_t)sl;
			memcpy(buf + n, &nl, 4);
			memcpy(buf + n + 4, k->name, nl);
			memcpy(buf + n + 4 + nl, &l, 4);
		}
		n += hdr + sl;
	}
	return n;
}

int vmm_devices_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	while (n < len) {
		uint32_t nl, sl;
		if (len - n < 4)
			return -1;
		memcpy(&nl, buf + n, 4);
		if (nl > len - n - 4 || len - n - 4 - nl < 4)
			return -1;
		const char *name = (const char *)buf + n + 4;
		memcpy(&sl, buf + n + 4 + nl, 4);
		size_t at = n + 4 + nl + 4;
		if (sl > len - at)
			return -1;
		const struct vmm_dev_kind *k = NULL;
		for (size_t i = 0; i < vmm_nr_devices; i++)
			if (vmm_devices[i]->restore && strlen(vmm_devices[i]->name) == nl &&
			    !memcmp(vmm_devices[i]->name, name, nl))
				k = vmm_devices[i];
		if (!k)
			return -1;
		if (!k->own_lock)
			pthread_mutex_lock(&vm->dev_lock);
		int r = k->restore(vm, buf + at, sl);
		if (!k->own_lock)
			pthread_mutex_unlock(&vm->dev_lock);
		if (r < 0)
			return -1;
		n = at + sl;
	}
	return 0;
}
