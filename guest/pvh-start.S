/*
 * pvh-start.S: entry of the 32-bit PVH test guest. The Xen ELF note
 * XEN_ELFNOTE_PHYS32_ENTRY (18) names pvh_start; the VMM enters it in flat
 * 32-bit protected mode with EBX = hvm_start_info. Also here: the IDT
 * stub for the one interrupt vector the guests use, and the real-mode
 * trampoline that application processors start in after INIT/SIPI.
 */
	.section .note.Xen, "a"
	.align 4
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	/* record the entry state before touching it (the "entry" scenario) */
	mov %eax, entry_eax
	mov %esp, entry_esp
	mov $stack_top, %esp	/* mov does not touch EFLAGS */
	pushfl
	popl entry_eflags
	mov %cr0, %eax
	mov %eax, entry_cr0
	mov %cr4, %eax
	mov %eax, entry_cr4
	mov %cr3, %eax
	mov %eax, entry_cr3
	mov %cs, entry_cs
	cli
	cld
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $stack_top, %esp
	push %ebx
	call guest_main
2:	cli
	hlt
	jmp 2b

	.text
	/* vector 0x30: the GED interrupt. This KVM emulates IRET in protected
	 * mode poorly (an emulation failure), so the handler never returns:
	 * it starts over on a fresh stack (the interrupted code was an idle
	 * loop with no state). */
	.globl irq_stub
irq_stub:
	mov $stack_top, %esp
	call irq_handler
4:	cli
	hlt
	jmp 4b

	/* Application processors: real mode at SIPI vector 0x10, CS = 0x1000. */
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	lgdtl %cs:(tramp_gdt_desc - tramp_start)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	.byte 0x66, 0xea	/* ljmpl $0x08, $ap_entry32 */
	.long ap_entry32
	.word 0x08
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:

	.code32
ap_entry32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $1, %eax
	lock xadd %eax, ap_stack_next
	inc %eax
	shl $10, %eax			/* 1 KiB of stack each */
	lea ap_stacks(%eax), %esp
	call ap_main
3:	cli
	hlt
	jmp 3b

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: flat data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
	.globl entry_eax, entry_eflags, entry_cr0, entry_cr4, entry_cr3, entry_cs, entry_esp
entry_eax:	.long 0
entry_eflags:	.long 0
entry_cr0:	.long 0
entry_cr4:	.long 0
entry_cr3:	.long 0
entry_esp:	.long 0
entry_cs:	.word 0
	.align 4
	.globl ap_stack_next
ap_stack_next:
	.long 0

	.bss
	.align 16
	.space 16384
stack_top:
	.align 16
ap_stacks:
	.space 1024 * 65
