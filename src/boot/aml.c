/*
 * aml.c: the AML encoder behind aml.h. Package lengths (ACPI 20.2.4) are
 * written once a body is complete: aml_begin() remembers where the body
 * starts, aml_end() measures it and inserts the 1- to 4-byte encoding.
 */
#include <stdbool.h>
#include <string.h>

#include "boot/aml.h"
#include "util/util.h"

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		while (cap < a->len + n)
			cap *= 2;
		a->p = xrealloc(a->p, cap);
		a->cap = cap;
	}
	memcpy(a->p + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void nameseg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };
	memcpy(seg, s, n > 4 ? 4 : n);
	aml_bytes(a, seg, 4);
}

void aml_name(struct aml *a, const char *path)
{
	const char *segs[8];
	size_t lens[8], n = 0;

	while (*path == '\\' || *path == '^')
		aml_byte(a, (uint8_t)*path++);
	while (*path && n < 8) {
		const char *dot = strchr(path, '.');
		size_t l = dot ? (size_t)(dot - path) : strlen(path);
		segs[n] = path;
		lens[n++] = l;
		path += l + (dot ? 1 : 0);
	}
	if (n == 0) {
		aml_byte(a, 0x00);	/* NullName */
		return;
	}
	if (n == 2)
		aml_byte(a, 0x2e);	/* DualNamePrefix */
	else if (n > 2) {
		aml_byte(a, 0x2f);	/* MultiNamePrefix */
		aml_byte(a, (uint8_t)n);
	}
	for (size_t i = 0; i < n; i++)
		nameseg(a, segs[i], lens[i]);
}

void aml_int(struct aml *a, uint64_t v)
{
	uint8_t b[8];
	if (v == 0) {
		aml_byte(a, 0x00);
		return;
	}
	if (v == 1) {
		aml_byte(a, 0x01);
		return;
	}
	unsigned n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffff ? 4 : 8;
	aml_byte(a, n == 1 ? 0x0a : n == 2 ? 0x0b : n == 4 ? 0x0c : 0x0e);
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);
	aml_bytes(a, s, strlen(s) + 1);
}

static unsigned hexval(char c)
{
	return c >= '0' && c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10) & 0xf;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = (uint32_t)((id[0] - 0x40) & 0x1f) << 26 | (uint32_t)((id[1] - 0x40) & 0x1f) << 21 |
		     (uint32_t)((id[2] - 0x40) & 0x1f) << 16 | hexval(id[3]) << 12 |
		     hexval(id[4]) << 8 | hexval(id[5]) << 4 | hexval(id[6]);
	uint8_t b[5] = { 0x0c, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	aml_bytes(a, b, 5);	/* stored byte-swapped, as iasl's EISAID() does */
}

static size_t pkglen_encode(uint8_t *out, size_t n, bool body)
{
	/* For a body the length counts the encoding's own bytes. */
	size_t k = 1;
	if (body) {
		if (n + 1 > 63)
			k = n + 2 < (1u << 12) ? 2 : n + 3 < (1u << 20) ? 3 : 4;
		n += k;
	} else if (n > 63) {
		k = n < (1u << 12) ? 2 : n < (1u << 20) ? 3 : 4;
	}
	if (k == 1) {
		out[0] = (uint8_t)n;
		return 1;
	}
	out[0] = (uint8_t)((k - 1) << 6 | (n & 0xf));
	for (size_t i = 1; i < k; i++)
		out[i] = (uint8_t)(n >> (4 + 8 * (i - 1)));
	return k;
}

void aml_pkglen_value(struct aml *a, uint32_t v)
{
	uint8_t b[4];
	aml_bytes(a, b, pkglen_encode(b, v, false));
}

size_t aml_begin(struct aml *a)
{
	return a->len;
}

void aml_end(struct aml *a, size_t start)
{
	uint8_t b[4];
	size_t n = a->len - start;
	size_t k = pkglen_encode(b, n, true);

	aml_bytes(a, b, k);	/* grow; then shift the body right */
	memmove(a->p + start + k, a->p + start, n);
	memcpy(a->p + start, b, k);
}
