/*
 * cpuid.c: the CPUID each vCPU sees. It starts from
 * KVM_GET_SUPPORTED_CPUID (which already holds the KVM paravirt leaves
 * 0x40000000-0x40000001, kvmclock included) and gives every vCPU its APIC
 * ID and a flat topology: one package, one core per vCPU, one thread per
 * core, described in leaves 1, 4, 0xb, 0x1f, 0x80000008 and 0x8000001e.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/util.h"
#include "vmm/priv.h"

#define CPUID_MAX_ENTRIES 256

struct kvm_cpuid2 *cpuid_get_supported(int kvm_fd, struct kxl_diag *d)
{
	struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		kxl_err(d, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

static unsigned order(unsigned n)	/* ceil(log2(n)) */
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

static void drop_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	unsigned j = 0;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function != fn)
			c->entries[j++] = c->entries[i];
	c->nent = j;
}

static struct kvm_cpuid_entry2 *add_leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	if (c->nent >= CPUID_MAX_ENTRIES)
		return NULL;
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

int vcpu_setup_cpuid(struct vm *vm, struct vcpu *v, struct kvm_cpuid2 *sup, struct kxl_diag *d)
{
	size_t sz = sizeof(*sup) + CPUID_MAX_ENTRIES * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = xmalloc(sz);
	memcpy(c, sup, sizeof(*sup) + sup->nent * sizeof(sup->entries[0]));

	unsigned n = vm->args->img->maxvcpus ? vm->args->img->maxvcpus : 1;
	unsigned shift = order(n);
	uint32_t apic = v->idx;
	uint32_t max_basic = 0;

	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		switch (e->function) {
		case 0:
			max_basic = e->eax;
			break;
		case 1:
			e->ebx = (e->ebx & 0xffff) | ((1u << shift) << 16) | (apic << 24);
			if (n > 1)
				e->edx |= 1u << 28;	/* HTT: the logical count is valid */
			e->ecx |= 1u << 31;		/* running under a hypervisor */
			break;
		case 4:
			/* cores per package - 1; threads sharing the cache: 1 */
			e->eax = (e->eax & 0x3fff) | (((1u << shift) - 1) << 26);
			break;
		case 0x80000008:
			e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | (n - 1);
			break;
		case 0x8000001e:
			e->eax = apic;			/* extended APIC ID */
			e->ebx = apic & 0xff;		/* core ID, 1 thread per core */
			e->ecx = 0;			/* node 0 */
			break;
		}
	}
	/* The x2APIC topology leaves, rebuilt: SMT level (1 thread) then core level. */
	drop_leaf(c, 0xb);
	drop_leaf(c, 0x1f);
	uint32_t leaves[2] = { 0xb, 0x1f };
	for (unsigned l = 0; l < 2; l++) {
		if (leaves[l] > max_basic)
			continue;
		struct kvm_cpuid_entry2 *e;
		if ((e = add_leaf(c, leaves[l], 0))) {
			e->eax = 0; e->ebx = 1; e->ecx = (1u << 8) | 0; e->edx = apic;
		}
		if ((e = add_leaf(c, leaves[l], 1))) {
			e->eax = shift; e->ebx = n; e->ecx = (2u << 8) | 1; e->edx = apic;
		}
		if ((e = add_leaf(c, leaves[l], 2))) {
			e->eax = 0; e->ebx = 0; e->ecx = 2; e->edx = apic;
		}
	}
	int r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	if (r < 0)
		return kxl_err(d, "vCPU %u: KVM_SET_CPUID2: %s", v->idx, strerror(errno));
	return 0;
}
