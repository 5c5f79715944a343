/*
 * kvm-calibrate.c: a standalone bare-KVM program (no libkxl) with two jobs.
 *
 * `kvm-calibrate loop [-n ITER] [-t SEC]` runs a few bytes of real-mode
 * guest code that counts ITER (default 16M) iterations down, then HLTs, and
 * prints the time KVM_RUN took. The nested test harness uses it to decide
 * whether this machine's /dev/kvm is real (tens of ms) or the slow software
 * emulated one (tens of seconds); -t bounds the wait (exit 3 on timeout).
 *
 * `kvm-calibrate exit` is the "bare-KVM program that does the least
 * possible" peer of the VMM benchmark: open /dev/kvm, one VM, one page of
 * memory, one vCPU, a guest whose first instruction is an I/O port write,
 * and exit; it prints the wall time from main() to that exit.
 *
 * Output is one line of key=value pairs; exit 0 on success, 77 when
 * /dev/kvm is unavailable, 1 on any other error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define GUEST_MEM 0x10000u
#define CODE_ADDR 0x1000u
#define EXIT_PORT 0xf4

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "kvm-calibrate: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_alarm(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN */
}

static void usage(void)
{
	fprintf(stderr, "usage: kvm-calibrate loop [-n ITER] [-t SEC] | exit\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double t_start = now_ms();
	unsigned long iter = 16u << 20;
	unsigned timeout = 0;
	int loop;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "loop"))
		loop = 1;
	else if (!strcmp(argv[1], "exit"))
		loop = 0;
	else
		usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			iter = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			timeout = (unsigned)strtoul(argv[++i], NULL, 0);
		else
			usage();
	}
	if (iter == 0 || iter > 0xffffffffu)
		usage();

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "kvm-calibrate: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");

	uint8_t *mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	uint8_t *code = mem + CODE_ADDR;
	if (loop) {
		/* mov ecx, iter; 1: dec ecx; jnz 1b; hlt  (16-bit real mode) */
		const uint8_t prog[] = { 0x66, 0xb9, 0, 0, 0, 0,
					 0x66, 0x49, 0x75, 0xfc, 0xf4 };
		memcpy(code, prog, sizeof(prog));
		uint32_t n = (uint32_t)iter;
		memcpy(code + 2, &n, 4);
	} else {
		/* out 0xf4, al */
		code[0] = 0xe6;
		code[1] = EXIT_PORT;
	}

	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = CODE_ADDR, .rflags = 0x2 };
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	if (timeout) {
		struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		alarm(timeout);
	}
	double t_run = now_ms();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && timeout) {
				printf("mode=loop iterations=%lu timeout_s=%u\n", iter, timeout);
				return 3;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		if (loop && run->exit_reason == KVM_EXIT_HLT)
			break;
		if (!loop && run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == EXIT_PORT)
			break;
		fprintf(stderr, "kvm-calibrate: unexpected exit reason %u\n",
			run->exit_reason);
		return 1;
	}
	double t_end = now_ms();
	if (loop)
		printf("mode=loop iterations=%lu run_ms=%.3f\n", iter, t_end - t_run);
	else
		printf("mode=exit run_ms=%.3f wall_ms=%.3f\n", t_end - t_run,
		       t_end - t_start);
	return 0;
}
