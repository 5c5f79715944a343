/*
 * lib.h: the tiny runtime of the test guests: port and MMIO access, the
 * COM1 console, number printing without 64-bit division (the 32-bit
 * guests have no libgcc), CRC-32 (zlib's), and the ACPI exits.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }

void putc_(char c);
void puts_(const char *s);
void put_hex(uint64_t v);
void put_dec(uint32_t v);
void put_str_n(const char *s, size_t max);	/* a guest-supplied string, bounded */
void gprintf(const char *fmt, ...);

uint32_t crc32(const uint8_t *p, size_t n);

size_t g_strlen(const char *s);
int g_strncmp(const char *a, const char *b, size_t n);
const char *cmdline_arg(const char *cmdline, const char *key);	/* value after "key=" or NULL */
uint32_t g_atou(const char *s);
int word_is(const char *s, const char *w);	/* s starts with word w (then space/NUL) */

void acpi_poweroff(void) __attribute__((noreturn));
void acpi_reboot(void) __attribute__((noreturn));
void halt_forever(void) __attribute__((noreturn));

void *g_memcpy(void *d, const void *s, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);

#endif
