/*
 * virtio-dev.c: the device kind that carries every virtio device: one
 * virtio-mmio window per device the parent asked for (child_args.vdevs,
 * window i = vdevs[i]), each with its own lock and thread (virtio-mmio.c),
 * and their DSDT entries: \_SB.VRnn, LNRO0005 (what Linux's virtio_mmio
 * binds to through ACPI), one page of registers and a shared, level-
 * triggered interrupt (layout.h: KXL_VIRTIO_MMIO_GSI).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/dsdt.h"
#include "layout.h"
#include "util/util.h"
#include "vmm/priv.h"
#include "vmm/virtio.h"

static unsigned vio_count(const struct vm *vm)
{
	return vm->nr_vdevs;
}

static int vio_attach(struct vm *vm, struct kxl_diag *d)
{
	const struct child_args *a = vm->args;

	if (!a->nr_vdevs)
		return 0;
	if (a->nr_vdevs > KXL_VIRTIO_MMIO_MAX)
		return kxl_err(d, "%u virtio devices: kxl has room for %d", a->nr_vdevs,
			       KXL_VIRTIO_MMIO_MAX);
	vm->vdevs = xcalloc(a->nr_vdevs, sizeof(*vm->vdevs));
	for (unsigned i = 0; i < a->nr_vdevs; i++) {
		const struct kxl_vmm_vdev *cfg = &a->vdevs[i];
		struct virtio_dev *vd = &vm->vdevs[i];
		const struct virtio_kind *k = virtio_kind_find(cfg->type);
		if (!k)
			return kxl_err(d, "virtio device %u (%s): kxl has no device of type %d", i,
				       cfg->id ? cfg->id : "?", (int)cfg->type);
		if (virtio_dev_init(vd, k->ops, NULL, cfg->id, a->img, i, d) < 0)
			return -1;
		vm->nr_vdevs = i + 1;	/* the window answers from here on */
		if (k->create && k->create(vd, cfg, d) < 0)
			return -1;
		if (vm->vm_fd >= 0 && virtio_dev_attach(vm, vd, d) < 0)
			return -1;
		vd->vm = vm;
		if (cfg->type == KXL_VDEV_CONSOLE && !vm->hvc)
			vm->hvc = vd;
	}
	return 0;
}

static void vio_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data, unsigned len,
		   bool write)
{
	virtio_mmio_access(&c->vm->vdevs[inst], off, data, len, write);
}

/* One record per device: u32 length, then virtio_dev_save()'s bytes. */
static size_t vio_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	size_t n = 0;
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		bool fits = n + 4 <= cap;
		size_t l = virtio_dev_save(&vm->vdevs[i], fits ? buf + n + 4 : NULL,
					   fits ? cap - n - 4 : 0);
		if (n + 4 + l <= cap) {
			uint32_t l32 = (uint32_t)l;
			memcpy(buf + n, &l32, 4);
		}
		n += 4 + l;
	}
	return n;
}

static int vio_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	for (unsigned i = 0; i < vm->nr_vdevs; i++) {
		uint32_t l;
		if (len - n < 4)
			return -1;
		memcpy(&l, buf + n, 4);
		if (l > len - n - 4 || virtio_dev_restore(&vm->vdevs[i], buf + n + 4, l) < 0)
			return -1;
		n += 4 + l;
	}
	return n == len ? 0 : -1;
}

static void vio_dsdt(struct aml *a, unsigned nr_virtio_mmio)
{
	struct aml rt = { 0 };
	for (unsigned v = 0; v < nr_virtio_mmio && v < KXL_VIRTIO_MMIO_MAX; v++) {
		char name[5];
		snprintf(name, sizeof(name), "VR%02X", v & 0xff);
		size_t dev = dsdt_device_begin(a, name);
		dsdt_name_str(a, "_HID", "LNRO0005");
		dsdt_name_int(a, "_UID", v);
		dsdt_name_int(a, "_CCA", 1);	/* cache coherent */
		rt.len = 0;
		dsdt_rt_mem32(&rt, (uint32_t)(KXL_GPA_VIRTIO_MMIO + v * KXL_VIRTIO_MMIO_SIZE),
			      (uint32_t)KXL_VIRTIO_MMIO_SIZE);
		dsdt_rt_interrupt(&rt, KXL_VIRTIO_MMIO_GSI(v), true);
		dsdt_crs(a, &rt);
		aml_end(a, dev);
	}
	free(rt.p);
}

const struct vmm_dev_kind dev_virtio_mmio = {
	.name = "virtio-mmio",
	.bus = VMM_BUS_MMIO,
	.base = KXL_GPA_VIRTIO_MMIO,
	.size = KXL_VIRTIO_MMIO_SIZE,
	.stride = KXL_VIRTIO_MMIO_SIZE,
	.widths = (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8),
	.own_lock = true,
	.count = vio_count,
	.attach = vio_attach,
	.io = vio_io,
	.save = vio_save,
	.restore = vio_restore,
	.dsdt = vio_dsdt,
};
