/*
 * lib.c: the test guests' runtime (see lib.h). The console is the COM1
 * UART, polled; everything printed ends lines with "\r\n".
 */
#include <stdarg.h>

#include "lib.h"

#define COM1 0x3f8

void putc_(char c)
{
	if (c == '\n')
		putc_('\r');
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

void put_str_n(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++)
		putc_((s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?');
}

void put_hex(uint64_t v)
{
	char b[19];
	int i = 18;
	b[i] = 0;
	do {
		b[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	b[--i] = 'x';
	b[--i] = '0';
	puts_(&b[i]);
}

void put_dec(uint32_t v)
{
	char b[11];
	int i = 10;
	b[i] = 0;
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_(&b[i]);
}

/* %s %x (u32) %X (u64 as hex) %u %c */
void gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's': puts_(va_arg(ap, const char *)); break;
		case 'x': put_hex(va_arg(ap, uint32_t)); break;
		case 'X': put_hex(va_arg(ap, uint64_t)); break;
		case 'u': put_dec(va_arg(ap, uint32_t)); break;
		case 'c': putc_((char)va_arg(ap, int)); break;
		case 0: va_end(ap); return;
		default: putc_(*fmt); break;
		}
	}
	va_end(ap);
}

uint32_t crc32(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

size_t g_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int g_strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
		if (!a[i])
			return 0;
	}
	return 0;
}

int word_is(const char *s, const char *w)
{
	size_t n = g_strlen(w);
	return !g_strncmp(s, w, n) && (s[n] == 0 || s[n] == ' ');
}

const char *cmdline_arg(const char *s, const char *key)
{
	size_t n = g_strlen(key);
	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!g_strncmp(s, key, n) && s[n] == '=')
			return s + n + 1;
		while (*s && *s != ' ')
			s++;
	}
	return 0;
}

uint32_t g_atou(const char *s)
{
	uint32_t v = 0;
	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (uint32_t)(*s++ - '0');
	return v;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dd = d;
	const uint8_t *ss = s;
	while (n--)
		*dd++ = *ss++;
	return d;
}

void *g_memcpy(void *d, const void *s, size_t n)
{
	return memcpy(d, s, n);
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *dd = d;
	while (n--)
		*dd++ = (uint8_t)c;
	return d;
}

void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* The FADT's sleep control register: SLP_TYP = 5 (S5), SLP_EN. */
void acpi_poweroff(void)
{
	outb(0x600, (5 << 2) | (1 << 5));
	puts_("guest: poweroff did not happen\n");
	halt_forever();
}

void acpi_reboot(void)
{
	outb(0x602, 0x0f);
	puts_("guest: reboot did not happen\n");
	halt_forever();
}
