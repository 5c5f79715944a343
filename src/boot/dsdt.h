/*
 * dsdt.h: the pieces of DSDT AML that device kinds use to describe
 * themselves (their dsdt hook in src/vmm/dev.h): a Device scope, names,
 * and the _CRS resource descriptors kxl's devices need. dsdt_build()
 * (boot-int.h) calls each kind's hook inside \_SB, in the order of the
 * VMM's device table.
 */
#ifndef KXL_BOOT_DSDT_H
#define KXL_BOOT_DSDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/aml.h"

/* Device (name) { ... }: returns the start for aml_end(). */
size_t dsdt_device_begin(struct aml *a, const char *name);
void dsdt_name_eisaid(struct aml *a, const char *name, const char *id);
void dsdt_name_str(struct aml *a, const char *name, const char *s);
void dsdt_name_int(struct aml *a, const char *name, uint64_t v);

/* Resource descriptors, appended to rt; dsdt_crs() wraps them in
 * Name (_CRS, ResourceTemplate () { ... }). */
void dsdt_rt_io(struct aml *rt, uint16_t port, uint8_t align, uint8_t len);
void dsdt_rt_irq_noflags(struct aml *rt, unsigned irq);	/* IRQNoFlags: ISA, edge */
void dsdt_rt_mem32(struct aml *rt, uint32_t base, uint32_t len);	/* Memory32Fixed, RW */
/* Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive or Shared) */
void dsdt_rt_interrupt(struct aml *rt, uint32_t gsi, bool shared);
void dsdt_crs(struct aml *a, const struct aml *rt);

#endif
