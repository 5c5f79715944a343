/*
 * aml.h: a small AML encoder (ACPI 6.x, section 20) for the DSDT: a
 * growable byte buffer, names and integers, and package-length scopes
 * (Scope, Device, Method, If, Package, Buffer, Field) that are closed
 * after their contents, when their length is known.
 */
#ifndef KXL_BOOT_AML_H
#define KXL_BOOT_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *p;
	size_t len, cap;
};

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_name(struct aml *a, const char *path);	/* "\\_SB.PWRB", "_HID", ... */
void aml_int(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id);	/* "PNP0501" */
/* Starts a PkgLength-prefixed body; aml_end() closes the innermost. */
size_t aml_begin(struct aml *a);
void aml_end(struct aml *a, size_t start);
/* Encodes a PkgLength for a value (field widths), not a body. */
void aml_pkglen_value(struct aml *a, uint32_t v);

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_METHOD 0x14
#define AML_EXT 0x5b
#define AML_OPREGION 0x80	/* after AML_EXT */
#define AML_FIELD 0x81		/* after AML_EXT */
#define AML_DEVICE 0x82		/* after AML_EXT */
#define AML_LOCAL0 0x60
#define AML_ARG0 0x68
#define AML_STORE 0x70
#define AML_AND 0x7b
#define AML_NOTIFY 0x86
#define AML_LEQUAL 0x93
#define AML_IF 0xa0
#define AML_NULLNAME 0x00

#endif
