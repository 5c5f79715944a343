/*
 * decomp-int.h: the state the decompressors of decomp.c and decomp-lz.c
 * share: where the output goes (a sink, through a bounce buffer) and how
 * much the size trailer allows.
 */
#ifndef KXL_BOOT_DECOMP_INT_H
#define KXL_BOOT_DECOMP_INT_H

#include "boot/boot-int.h"

#define DECOMP_LZ4_BLOCK (8u << 20)	/* a legacy LZ4 block's largest output */

struct dstate {
	enum comp comp;
	const char *name;
	size_t out_len, produced;
	decomp_sink sink;
	void *ctx;
	struct kxl_diag *d;
	uint8_t *bounce;
	size_t bounce_len;
};

/* Hands n bytes to the sink; refuses output beyond out_len (a bomb). */
int dstate_emit(struct dstate *st, const uint8_t *p, size_t n);
int dstate_corrupt(struct dstate *st, const char *why);

int decomp_lzo(struct dstate *st, const uint8_t *in, size_t in_len);
int decomp_lz4(struct dstate *st, const uint8_t *in, size_t in_len);

#endif
