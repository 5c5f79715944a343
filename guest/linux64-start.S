/*
 * linux64-start.S: entry of the 64-bit test guest booted through the Linux
 * boot protocol (no PVH note): long mode, paging on, RSI = boot_params.
 */
	.section .text.entry, "ax"
	.code64
	.globl startup_64
startup_64:
	cli
	cld
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi
	call linux64_main
1:	cli
	hlt
	jmp 1b

	.bss
	.align 16
	.space 16384
stack_top:
