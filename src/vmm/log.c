/*
 * log.c: the VMM's messages, written with one write() to the log fd.
 * vmm_log_limited() is for what a guest can trigger at will (unknown port
 * and MMIO accesses): at most 10 messages a second, then a count of the
 * suppressed ones. No allocation, so it runs under the seccomp filter.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmm/priv.h"

#define LOG_BURST 10

__attribute__((format(printf, 2, 0)))
static void log_write(struct vm *vm, const char *fmt, va_list ap)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "kxl: %s: ", vm->args->name ? vm->args->name : "guest");
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	if (vm->log.fd >= 0 && write(vm->log.fd, buf, len) < 0) {
		/* nowhere to report a failing log */
	}
}

void vmm_log(struct vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write(vm, fmt, ap);
	va_end(ap);
}

/* Called under vm->dev_lock (every device handler is). */
void vmm_log_limited(struct vm *vm, const char *fmt, ...)
{
	struct vmm_log *l = &vm->log;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != l->window.tv_sec) {
		if (l->suppressed)
			vmm_log(vm, "%u more messages suppressed\n", l->suppressed);
		l->window = now;
		l->in_window = 0;
		l->suppressed = 0;
	}
	if (l->in_window >= LOG_BURST) {
		l->suppressed++;
		return;
	}
	l->in_window++;
	va_list ap;
	va_start(ap, fmt);
	log_write(vm, fmt, ap);
	va_end(ap);
}
