/*
 * vcpu.c: the virtual CPUs: creation (CPUID, MSRs, LAPIC LINT pins), the
 * entry state of vCPU 0 (PVH: 32-bit flat protected mode with EBX =
 * start_info; Linux: the 64-bit entry of boot.rst with RSI = boot_params),
 * and the thread that runs each vCPU: KVM_RUN, exits dispatched to the
 * devices, pausing, and the stop events (triple fault, emulation failure,
 * ...). Application processors get no entry state: they wait in the
 * in-kernel LAPIC for INIT/SIPI.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "vmm/priv.h"

#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MTRR_DEF_ENABLE		(1u << 11)
#define MTRR_TYPE_WB		6

static __thread struct kvm_run *this_run;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

void vcpu_kick_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

static int vcpu_set_msrs(struct vcpu *v, struct kxl_diag *d)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 2;
	m.e[0].index = MSR_MTRR_DEF_TYPE;
	m.e[0].data = MTRR_DEF_ENABLE | MTRR_TYPE_WB;	/* the PVH ABI: MTRRs on, default WB */
	m.e[1].index = MSR_IA32_MISC_ENABLE;
	m.e[1].data = 1;				/* fast string operations */
	int r = ioctl(v->fd, KVM_SET_MSRS, &m);
	if (r < 1)
		return kxl_err(d, "vCPU %u: KVM_SET_MSRS (MTRRdefType): %s", v->idx,
			       r < 0 ? strerror(errno) : "refused");
	return 0;
}

/* LINT0 = ExtINT (the PIC) and LINT1 = NMI, as firmware leaves them. */
static int vcpu_set_lint(struct vcpu *v, struct kxl_diag *d)
{
	struct kvm_lapic_state la;
	if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
		return kxl_err(d, "vCPU %u: KVM_GET_LAPIC: %s", v->idx, strerror(errno));
	uint32_t *lint0 = (uint32_t *)(void *)&la.regs[0x350];
	uint32_t *lint1 = (uint32_t *)(void *)&la.regs[0x360];
	*lint0 = (*lint0 & ~0x700u) | (7u << 8);
	*lint1 = (*lint1 & ~0x700u) | (4u << 8);
	if (ioctl(v->fd, KVM_SET_LAPIC, &la) < 0)
		return kxl_err(d, "vCPU %u: KVM_SET_LAPIC: %s", v->idx, strerror(errno));
	return 0;
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

static int vcpu_set_entry(struct vcpu *v, struct kxl_diag *d)
{
	const struct kxl_entry *e = &v->vm->args->img->entry;
	struct kvm_sregs sr;
	struct kvm_regs r;

	if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
		return kxl_err(d, "KVM_GET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = e->rip;

	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.unusable = 1;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.limit = 0x67;
	sr.tr.type = 11;	/* busy TSS (32-bit, or 64-bit in long mode) */
	sr.tr.present = 1;

	if (e->protocol == KXL_BOOT_PROTO_LINUX) {
		/* boot.rst 64-bit protocol: __BOOT_CS 0x10, __BOOT_DS 0x18. */
		seg_flat(&sr.cs, KXL_GDT_SEL_CS, 11, true);
		seg_flat(&sr.ds, KXL_GDT_SEL_DS, 3, false);
		sr.tr.selector = 0x20;
		sr.gdt.base = e->gdt_base;
		sr.gdt.limit = e->gdt_limit;
		sr.cr3 = e->cr3;
		sr.cr4 = 1u << 5;			/* PAE */
		sr.cr0 = 0x80000001u | 0x10;		/* PG, PE, ET */
		sr.efer = (1u << 8) | (1u << 10);	/* LME, LMA */
		r.rsi = e->rsi;
	} else {
		/* docs/misc/pvh.pandoc: CR0.PE, CR4 = 0, EFER = 0, flat 32-bit
		 * CS and data, TR a busy 32-bit TSS base 0 limit 0x67, EBX. */
		seg_flat(&sr.cs, 0x08, 11, false);
		seg_flat(&sr.ds, 0x10, 3, false);
		sr.tr.selector = 0x18;
		sr.gdt.base = 0;
		sr.gdt.limit = 0;
		sr.cr0 = 0x1;
		sr.cr3 = 0;
		sr.cr4 = 0;
		sr.efer = 0;
		r.rbx = e->rbx;
	}
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.idt.base = 0;
	sr.idt.limit = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
		return kxl_err(d, "KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return kxl_err(d, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

int vcpu_create(struct vm *vm, struct vcpu *v, struct kxl_diag *d)
{
	v->vm = vm;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->idx);
	if (v->fd < 0)
		return kxl_err(d, "KVM_CREATE_VCPU %u: %s", v->idx, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return kxl_err(d, "mmap of vCPU %u's kvm_run: %s", v->idx, strerror(errno));
	}
	if (vcpu_set_msrs(v, d) < 0 || vcpu_set_lint(v, d) < 0)
		return -1;
	if (v->idx == 0)
		return vcpu_set_entry(v, d);
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_UNINITIALIZED };
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mp) < 0)
		return kxl_err(d, "vCPU %u: KVM_SET_MP_STATE: %s", v->idx, strerror(errno));
	return 0;
}

/* The first stop wins; the main loop hears of it through the eventfd. */
void vm_request_stop(struct vm *vm, enum kxl_vmm_outcome o, const char *fmt, ...)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&vm->stop, &expected, 1 + (int)o))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->stop_detail, sizeof(vm->stop_detail), fmt, ap);
	va_end(ap);
	uint64_t one = 1;
	if (write(vm->evfd, &one, sizeof(one)) < 0) {
		/* the eventfd counter cannot overflow here */
	}
}

void vcpu_park(struct vcpu *v)
{
	struct vm *vm = v->vm;
	pthread_mutex_lock(&vm->pause_lock);
	while ((atomic_load(&vm->paused) || atomic_load(&vm->stop)) && !atomic_load(&vm->quit)) {
		if (!v->parked) {
			v->parked = true;
			vm->nr_parked++;
			pthread_cond_broadcast(&vm->pause_cond);
		}
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	}
	if (v->parked) {
		v->parked = false;
		vm->nr_parked--;
	}
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Stops every vCPU outside KVM_RUN and waits until each is parked. */
void vm_pause_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, true);
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		pthread_kill(vm->vcpus[i].thread, VCPU_KICK_SIGNAL);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked < vm->nr_vcpus)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_resume_all(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->paused, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static const char *exit_name(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN: return "unknown";
	case KVM_EXIT_EXCEPTION: return "exception";
	case KVM_EXIT_DEBUG: return "debug";
	case KVM_EXIT_HLT: return "hlt";
	case KVM_EXIT_FAIL_ENTRY: return "entry failure";
	case KVM_EXIT_NMI: return "nmi";
	default: return "unexpected";
	}
}

/* Whether a vCPU holds the architectural reset state (CS 0xf000 with base
 * 0xffff0000, RIP 0xfff0, real mode) rather than the guest's. kvm-amd
 * reinitialises the VMCB when it intercepts a shutdown (the VMCB is
 * undefined after one) and only then reports KVM_EXIT_SHUTDOWN, so on AMD
 * the registers of a triple fault are lost; kvm-intel keeps them. That
 * reset is an INIT: CR0 keeps CD and NW, so only PE and PG are checked. A
 * guest cannot reach this state itself: real mode gives CS a base of
 * selector * 16, never 0xffff0000. */
static bool regs_are_reset_state(const struct kvm_regs *r, const struct kvm_sregs *sr)
{
	return r->rip == 0xfff0 && sr->cs.selector == 0xf000 && sr->cs.base == 0xffff0000 &&
	       !(sr->cr0 & 0x80000001u);
}

/* Handles one exit; returns false when the vCPU must stop running. */
static bool vcpu_handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm *vm = v->vm;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		unsigned size = run->io.size;
		uint64_t off = run->io.data_offset;
		if ((size != 1 && size != 2 && size != 4) ||
		    off + (uint64_t)size * run->io.count > vm->run_size) {
			vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: malformed I/O exit", v->idx);
			return false;
		}
		uint8_t *p = (uint8_t *)run + off;
		for (uint32_t i = 0; i < run->io.count; i++, p += size)
			io_port(v, run->io.port, p, size, run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO: {
		unsigned len = run->mmio.len;
		if (len > 8)
			len = 8;
		io_mmio(v, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
		return true;
	}
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_SHUTDOWN: {
		struct kvm_regs r;
		struct kvm_sregs sr;
		memset(&r, 0, sizeof(r));
		memset(&sr, 0, sizeof(sr));
		ioctl(v->fd, KVM_GET_REGS, &r);
		ioctl(v->fd, KVM_GET_SREGS, &sr);
		if (regs_are_reset_state(&r, &sr)) {
			atomic_store(&v->regs_lost, true);
			vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: triple fault (the CPU reset its "
					"registers before KVM reported it, as AMD does: the faulting "
					"rip is unknown)", v->idx);
		} else {
			vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN) "
					"at rip %#llx", v->idx, (unsigned long long)r.rip);
		}
		return false;
	}
	case KVM_EXIT_INTERNAL_ERROR: {
		struct kvm_regs r;
		memset(&r, 0, sizeof(r));
		ioctl(v->fd, KVM_GET_REGS, &r);
		vm_request_stop(vm, KXL_VMM_CRASH,
				"vCPU %u: KVM internal error at rip %#llx, suberror %u (%s): the guest crashed",
				v->idx, (unsigned long long)r.rip, run->internal.suberror,
				run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? "emulation failure" :
				run->internal.suberror == KVM_INTERNAL_ERROR_DELIVERY_EV ?
				"exception during event delivery, e.g. no IDT" : "other");
		return false;
	}
	case KVM_EXIT_FAIL_ENTRY:
		vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: KVM could not enter the guest "
				"(hardware reason %#llx)", v->idx,
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_stop(vm, KXL_VMM_POWEROFF, "vCPU %u: system event shutdown", v->idx);
			break;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_stop(vm, KXL_VMM_REBOOT, "vCPU %u: system event reset", v->idx);
			break;
		default:
			vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: system event %u", v->idx,
					run->system_event.type);
			break;
		}
		return false;
	default:
		vm_request_stop(vm, KXL_VMM_CRASH, "vCPU %u: %s KVM exit %u", v->idx,
				exit_name(run->exit_reason), run->exit_reason);
		return false;
	}
}

void *vcpu_thread(void *opaque)
{
	struct vcpu *v = opaque;
	struct vm *vm = v->vm;
	this_run = v->run;

	for (;;) {
		if (atomic_load(&vm->quit))
			break;
		/* Unlocked, hence atomic: a pause that comes after this check
		 * kicks the thread out of KVM_RUN (immediate_exit), and it
		 * parks on the next round. */
		if (atomic_load(&vm->paused) || atomic_load(&vm->stop)) {
			vcpu_park(v);	/* a stopped guest never runs again */
			continue;
		}
		int r = ioctl(v->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			vm_request_stop(vm, KXL_VMM_ERROR, "vCPU %u: KVM_RUN: %s", v->idx, errdesc(errno));
			continue;
		}
		if (!vcpu_handle_exit(v))
			continue;
	}
	return NULL;
}
