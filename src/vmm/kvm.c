/*
 * kvm.c: the KVM virtual machine itself: /dev/kvm, KVM_CREATE_VM, the
 * private pages KVM needs before any vCPU exists (identity map and TSS, both
 * inside the reserved part of the MMIO hole, see layout.h), the in-kernel
 * irqchip (PIC, IOAPIC, LAPICs), the PIT for guests booted without ACPI,
 * the memory slots on the builder's memfd and the kvmclock offset.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "layout.h"
#include "vmm/priv.h"

static int kvm_check_cap(struct vm *vm, long cap)
{
	int r = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

/* kvmclock's wall clock is "host real time minus kvmclock"; moving kvmclock
 * back by the offset moves the guest's wall clock forward by it. A positive
 * offset makes the starting kvmclock value wrap below zero, which Linux's
 * pvclock handles (64-bit modular deltas, stable-TSC path). */
static void vm_set_clock_offset(struct vm *vm, int64_t offset_s)
{
	struct kvm_clock_data cd;

	if (!offset_s)
		return;
	memset(&cd, 0, sizeof(cd));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &cd) < 0)
		return;
	cd.clock -= (uint64_t)offset_s * 1000000000ULL;
	cd.flags = 0;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &cd) < 0)
		vmm_log(vm, "cannot move kvmclock by %lld s: %s\n",
			(long long)offset_s, strerror(errno));
}

int vm_create(struct vm *vm, struct kxl_diag *d)
{
	const struct kxl_guest_image *img = vm->args->img;
	int r;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return kxl_err(d, "cannot open /dev/kvm: %s", strerror(errno));
	r = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION)
		return kxl_err(d, "/dev/kvm: API version %d, kxl needs %d", r, KVM_API_VERSION);
	if (!kvm_check_cap(vm, KVM_CAP_IMMEDIATE_EXIT) || !kvm_check_cap(vm, KVM_CAP_IRQCHIP) ||
	    !kvm_check_cap(vm, KVM_CAP_USER_MEMORY) || !kvm_check_cap(vm, KVM_CAP_SET_TSS_ADDR))
		return kxl_err(d, "/dev/kvm lacks a capability kxl needs "
			       "(immediate exit, irqchip, user memory, TSS address)");
	r = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r < (int)sizeof(struct kvm_run))
		return kxl_err(d, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)r;

	unsigned max = (unsigned)kvm_check_cap(vm, KVM_CAP_MAX_VCPUS);
	if (!max)
		max = (unsigned)kvm_check_cap(vm, KVM_CAP_NR_VCPUS);
	if (max && img->maxvcpus > max)
		return kxl_err(d, "maxvcpus=%u, but this KVM allows at most %u vCPUs",
			       img->maxvcpus, max);

	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		return kxl_err(d, "KVM_CREATE_VM: %s", strerror(errno));

	/* Guest RAM first: on this KVM a memory slot added after the irqchip
	 * waits for an SRCU grace period (4-12 ms), before it costs ~0.1 ms. */
	for (unsigned i = 0; i < img->nr_slots; i++) {
		const struct kxl_mem_slot *s = &img->slots[i];
		if (s->memfd_offset + s->size > img->mem_bytes || (s->size & (KXL_PAGE - 1)))
			return kxl_err(d, "memory slot %u [%#llx+%#llx] lies outside guest memory",
				       i, (unsigned long long)s->gpa, (unsigned long long)s->size);
		struct kvm_userspace_memory_region mr = {
			.slot = i,
			.guest_phys_addr = s->gpa,
			.memory_size = s->size,
			.userspace_addr = (uint64_t)(uintptr_t)(img->mem + s->memfd_offset),
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
			return kxl_err(d, "KVM_SET_USER_MEMORY_REGION slot %u: %s", i, strerror(errno));
	}
	/* Both before any vCPU: KVM uses these pages for real-mode emulation
	 * on Intel; they lie in e820-reserved space inside the MMIO hole. */
	uint64_t idmap = KXL_GPA_IDENTITY_MAP;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		return kxl_err(d, "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KXL_GPA_TSS) < 0)
		return kxl_err(d, "KVM_SET_TSS_ADDR: %s", strerror(errno));

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return kxl_err(d, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (!vm->args->acpi) {
		/* Hardware-reduced ACPI guests have no PIT; the others get one. */
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
			return kxl_err(d, "KVM_CREATE_PIT2: %s", strerror(errno));
	}

	vm_set_clock_offset(vm, vm->args->clock_offset);
	return 0;
}

void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		vmm_log_limited(vm, "KVM_IRQ_LINE %u: %s\n", gsi, errdesc(errno));
}
