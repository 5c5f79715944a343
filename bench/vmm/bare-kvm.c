/*
 * bare-kvm.c: the least a KVM program can do to run guest code: a VM, one
 * 4 KiB memory slot, one vCPU in real mode at address 0 running
 * "out %al, $0xf4; hlt", and one KVM_RUN until the port write. The
 * benchmark's floor for "create a guest, run it, see it exit".
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
	static const uint8_t code[] = { 0xb0, 0x00, 0xe6, 0xf4, 0xf4 };	/* mov $0,%al; out %al,$0xf4; hlt */
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	uint8_t *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memcpy(mem, code, sizeof(code));
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = 4096, .userspace_addr = (uintptr_t)mem,
	};
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		perror("KVM VM");
		return 1;
	}
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_sregs s;
	ioctl(vcpu, KVM_GET_SREGS, &s);
	s.cs.base = 0;
	s.cs.selector = 0;
	ioctl(vcpu, KVM_SET_SREGS, &s);
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	ioctl(vcpu, KVM_SET_REGS, &regs);
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			perror("KVM_RUN");
			return 1;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf4)
			return 0;
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
			return 1;
		}
	}
}
