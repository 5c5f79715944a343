/*
 * core.c: an ELF core file of a guest, written by the parent: one PT_LOAD
 * per memory slot (virtual = physical address, as the guest's identity
 * view) and a PT_NOTE with an NT_PRSTATUS per vCPU holding its general
 * registers, so `gdb -c FILE` shows every vCPU as a thread. Segment
 * registers and control registers are kept in the notes' fs/gs base slots
 * where gdb expects them; the rest of the system state is not recorded.
 * A vCPU whose registers KVM lost (kvm-amd resets a vCPU at a triple fault
 * before it reports it) gets zero registers, never the reset state that
 * would point at 0xf000:0xfff0, and a "KXL" note saying so.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/priv.h"

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#define NT_KXL_REGS_LOST 1	/* in a "KXL" note: text, why the registers are zero */

static void fill_prstatus(struct elf_prstatus *ps, const struct vmm_vcpu_state *s)
{
	memset(ps, 0, sizeof(*ps));
	ps->pr_pid = (int)s->idx + 1;
	if (s->flags & VCPU_STATE_REGS_LOST)
		return;
	const struct kvm_regs *r = &s->regs;
	const struct kvm_sregs *sr = &s->sregs;
	unsigned long long g[27] = {
		r->r15, r->r14, r->r13, r->r12, r->rbp, r->rbx, r->r11, r->r10,
		r->r9, r->r8, r->rax, r->rcx, r->rdx, r->rsi, r->rdi, ~0ULL /* orig_rax */,
		r->rip, sr->cs.selector, r->rflags, r->rsp, sr->ss.selector,
		sr->fs.base, sr->gs.base, sr->ds.selector, sr->es.selector,
		sr->fs.selector, sr->gs.selector,
	};
	_Static_assert(sizeof(ps->pr_reg) == sizeof(g), "x86-64 user_regs_struct");
	memcpy(&ps->pr_reg, g, sizeof(g));
}

int vmm_write_core(const char *path, const struct kxl_guest_image *img,
		   const struct vmm_vcpu_state *st, unsigned n, struct kxl_diag *d)
{
	size_t note_one = sizeof(Elf64_Nhdr) + 8 /* "CORE\0" padded */ + sizeof(struct elf_prstatus);
	char lost[160];
	size_t lost_desc = (sizeof(lost) + 3) & ~(size_t)3;
	size_t note_lost = sizeof(Elf64_Nhdr) + 4 /* "KXL\0" */ + lost_desc;
	size_t note_size = note_one * n;
	for (unsigned i = 0; i < n; i++)
		if (st[i].flags & VCPU_STATE_REGS_LOST)
			note_size += note_lost;
	unsigned nph = 1 + img->nr_slots;
	size_t hdr = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
	uint64_t off = (hdr + note_size + 4095) & ~4095ULL;

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return kxl_err(d, "cannot create core file %s: %s", path, strerror(errno));

	uint8_t *h = xcalloc(1, off);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)h;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_SYSV;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (uint16_t)nph;

	Elf64_Phdr *ph = (Elf64_Phdr *)(void *)(h + sizeof(Elf64_Ehdr));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = hdr;
	ph[0].p_filesz = note_size;
	ph[0].p_align = 4;
	uint64_t data = off;
	for (unsigned i = 0; i < img->nr_slots; i++) {
		Elf64_Phdr *p = &ph[1 + i];
		p->p_type = PT_LOAD;
		p->p_flags = PF_R | PF_W | PF_X;
		p->p_offset = data;
		p->p_vaddr = p->p_paddr = img->slots[i].gpa;
		p->p_filesz = p->p_memsz = img->slots[i].size;
		p->p_align = 4096;
		data += img->slots[i].size;
	}
	uint8_t *np = h + hdr;
	for (unsigned i = 0; i < n; i++) {
		Elf64_Nhdr *nh = (Elf64_Nhdr *)(void *)np;
		nh->n_namesz = 5;
		nh->n_descsz = sizeof(struct elf_prstatus);
		nh->n_type = NT_PRSTATUS;
		memcpy(np + sizeof(*nh), "CORE", 5);
		struct elf_prstatus ps;
		fill_prstatus(&ps, &st[i]);
		memcpy(np + sizeof(*nh) + 8, &ps, sizeof(ps));
		np += note_one;
		if (st[i].flags & VCPU_STATE_REGS_LOST) {
			nh = (Elf64_Nhdr *)(void *)np;
			nh->n_namesz = 4;
			nh->n_descsz = (Elf64_Word)lost_desc;
			nh->n_type = NT_KXL_REGS_LOST;
			memcpy(np + sizeof(*nh), "KXL", 4);
			memset(lost, 0, sizeof(lost));
			snprintf(lost, sizeof(lost), "vCPU %u: registers lost: the CPU reset them "
				 "at a triple fault before KVM reported it", st[i].idx);
			memcpy(np + sizeof(*nh) + 4, lost, sizeof(lost));
			np += note_lost;
		}
	}
	int r = write_all(fd, h, off);
	free(h);
	for (unsigned i = 0; !r && i < img->nr_slots; i++)
		r = write_all(fd, img->mem + img->slots[i].memfd_offset, img->slots[i].size);
	if (close(fd) < 0)
		r = -1;
	if (r) {
		unlink(path);
		return kxl_err(d, "cannot write core file %s: %s", path, strerror(errno));
	}
	return 0;
}
