/*
 * boot-int.h: the builder's internal interfaces (src/boot only).
 *
 * The builder is a pipeline of small steps that share one struct boot_ctx:
 * guest memory (mem.c), kernel parsing (elf.c, elf-notes.c, bzimage.c,
 * decomp*.c), segment placement (load.c), modules (modules.c), the memory
 * map (e820.c), hvm_start_info (start-info.c), ACPI (acpi.c, aml.c,
 * dsdt.c), the Linux boot protocol (linux.c) and the plan (plan.c);
 * build.c runs them in order. Every step reports through the ctx's diag.
 */
#ifndef KXL_BOOT_INT_H
#define KXL_BOOT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/boot.h>
#include <kxl/diag.h>

#include "layout.h"

/* ---- byte access (all guest and file structures are little-endian) ---- */
static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }
static inline uint32_t ld32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint16_t ld16be(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void st8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void st64(uint8_t *p, uint64_t v) { st32(p, (uint32_t)v); st32(p + 4, (uint32_t)(v >> 32)); }

static inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* ---- a file or buffer to read from (src.c) ---- */
struct boot_src {
	const char *name;	/* file name for messages */
	int fd;			/* >= 0: read with pread */
	const uint8_t *buf;	/* else: an in-memory image (a decompressed payload) */
	uint64_t size;
	/* else: a reader (a payload already streamed into guest memory);
	 * returns 0 or -1, with or without a message in d */
	int (*read)(void *ctx, uint64_t off, void *dst, uint64_t len, struct kxl_diag *d);
	void *ctx;
};
/* Reads [off, off+len) into dst; error "NAME: truncated ..." when short. */
int src_read(const struct boot_src *s, uint64_t off, void *dst, uint64_t len,
	     const char *what, struct kxl_diag *d);
int src_open(struct boot_src *s, const char *path, struct kxl_diag *d);
/* The same from a descriptor the caller keeps (fd >= 0; path names it). */
int src_open_fd(struct boot_src *s, const char *path, int fd, struct kxl_diag *d);
void src_close(struct boot_src *s);

/* ---- ELF (elf.c, elf-notes.c) ---- */
struct elf_seg {
	unsigned idx;		/* program header index */
	uint64_t paddr, vaddr, offset, filesz, memsz;
	uint32_t flags;
};

struct elf_note {
	uint32_t type;
	char *text;		/* "PHYS32_ENTRY (18) = 0x1000850" */
};

struct elf_area { uint64_t off, size; unsigned idx; };

struct elf_info {
	int bits;		/* 32 or 64 */
	uint16_t machine;
	uint64_t e_entry;
	struct elf_seg *segs;	/* PT_LOAD with memsz > 0, program header order */
	size_t nr_segs;
	struct elf_area *note_areas;	/* PT_NOTE contents in the file */
	size_t nr_note_areas;
	uint64_t shoff;		/* section headers, for SHT_NOTE */
	unsigned shnum, shentsize;
	struct elf_note *notes;	/* every Xen note found */
	size_t nr_notes;
	bool notes_from_sections;	/* found through SHT_NOTE, not PT_NOTE */
	bool has_pvh;
	uint64_t pvh_entry;
	bool has_reloc;
	uint32_t reloc_align, reloc_min, reloc_max;
	char *guest_os;		/* GUEST_OS note string, or NULL */
	char *guest_version;
	char *xen_version;
	char *loader;
	bool has_pv_entry;	/* type 1, never used for PVH */
};

/* elf_parse_headers() reads the ELF and program headers (PT_LOADs, where
 * the PT_NOTEs are); elf_parse_notes() then reads the notes, from PT_NOTE
 * or else SHT_NOTE; elf_parse() does both. On failure e is freed. */
int elf_parse_headers(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d);
int elf_parse_notes(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d);
int elf_parse(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d);
void elf_info_free(struct elf_info *e);
/* Parses one note area (PT_NOTE or SHT_NOTE contents) into e. */
int elf_notes_parse(const struct boot_src *s, const uint8_t *p, size_t len,
		    struct elf_info *e, struct kxl_diag *d);
bool elf_is_elf(const uint8_t *p, size_t len);

/* ---- bzImage and decompression (bzimage.c, decomp.c, decomp-lz.c) ---- */
enum comp { COMP_NONE, COMP_GZIP, COMP_BZIP2, COMP_XZ, COMP_LZMA, COMP_LZO, COMP_LZ4, COMP_ZSTD };
const char *comp_name(enum comp c);
enum comp comp_detect(const uint8_t *p, size_t len);

struct bzimage {
	uint16_t version;	/* boot protocol */
	unsigned setup_sects;
	uint64_t setup_size;	/* bytes before the protected-mode code */
	uint32_t payload_offset, payload_length;	/* relative to the protected-mode code */
	uint32_t init_size;
	uint64_t pref_address;
	uint16_t xloadflags;
	uint8_t hdr[0x80];	/* the setup header bytes 0x1f1.., for the zero page */
	size_t hdr_len;
	enum comp comp;
	uint32_t out_size;	/* the size trailer */
};

bool bzimage_is_bzimage(const uint8_t *p, size_t len);
int bzimage_parse(const char *name, const uint8_t *p, size_t len, struct bzimage *bz,
		  struct kxl_diag *d);
/* Decompresses the payload into a fresh buffer of bz->out_size bytes
 * (mmap'd; free with decomp_free), refusing more than max_out. */
int bzimage_decompress(const char *name, const uint8_t *file, size_t len,
		       const struct bzimage *bz, uint64_t max_out,
		       uint8_t **out, size_t *out_len, struct kxl_diag *d);

/* Receives decompressed bytes in order: [off, off+n). Returns 0 to go on,
 * -1 on an error (in the diag), 1 to stop quietly (the caller falls back). */
typedef int (*decomp_sink)(void *ctx, uint64_t off, const uint8_t *p, size_t n);
/* Decompresses in[0..in_len) of kind c into the sink; the output must be
 * exactly out_len bytes: more is a bomb, less a truncated stream. Returns
 * 0, -1 (error in d) or 1 (the sink stopped). */
int decomp_stream(enum comp c, const char *name, const uint8_t *in, size_t in_len,
		  size_t out_len, decomp_sink sink, void *ctx, struct kxl_diag *d);
/* The same into out[0..out_len). */
int decomp_run(enum comp c, const char *name, const uint8_t *in, size_t in_len,
	       uint8_t *out, size_t out_len, struct kxl_diag *d);
void *decomp_alloc(size_t len);
void decomp_free(void *p, size_t len);

/* ---- the e820 map (e820.c) ---- */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

struct e820_ent { uint64_t addr, size; uint32_t type; };
struct e820 { struct e820_ent v[KXL_MEMMAP_MAX]; unsigned n; };

/* ---- the builder's shared state ---- */
struct boot_mod {
	const char *path;
	const char *cmdline;
	uint64_t gpa, size;	/* where it landed */
	bool in_initrd;		/* concatenated into the Linux initrd */
	bool is_cpio;
	unsigned modlist_index;	/* PVH: its modlist entry */
};

struct boot_ctx {
	const struct kxl_boot_spec *spec;
	struct kxl_guest_image *img;
	struct kxl_diag *d;

	/* the kernel */
	const char *kfile;
	struct elf_info elf;
	bool is_bzimage;
	struct bzimage bz;
	char *format;		/* kernel_format for the plan */
	enum kxl_boot_protocol proto;
	bool linux_guest;
	int64_t reloc_delta;	/* added to every p_paddr (PHYS32_RELOC) */
	uint64_t kernel_lo, kernel_hi;	/* [lo, hi) the kernel occupies */

	/* modules */
	struct boot_mod *mods;
	size_t nr_mods;
	uint64_t initrd_gpa, initrd_size;	/* Linux: the concatenated initrd */
	uint64_t modlist_count;	/* entries written to the modlist */

	uint64_t cmdline_gpa;	/* kernel cmdline */
	uint64_t rsdp_gpa;	/* 0 without ACPI */
	struct e820 map;
};

/* mem.c */
int mem_create(struct kxl_guest_image *img, uint64_t mem_bytes, struct kxl_diag *d);
uint64_t mem_low_end(uint64_t mem_bytes);	/* end of RAM below the hole */
/* Writes guest memory through the memfd (no faults in our mapping). */
int mem_write(struct kxl_guest_image *img, uint64_t gpa, const void *p, uint64_t len,
	      struct kxl_diag *d);
/* Copies len bytes of fd at foff into guest memory at gpa, in the kernel
 * when it can (copy_file_range), else with pread. */
int mem_copy_file(struct kxl_guest_image *img, uint64_t gpa, int fd, uint64_t foff, uint64_t len,
		  const char *name, struct kxl_diag *d);
/* Describes why [gpa, gpa+len) is not RAM, or returns NULL when it is. */
const char *mem_check(uint64_t mem_bytes, uint64_t gpa, uint64_t len);

/* plan.c */
void plan_region(struct boot_ctx *c, uint64_t gpa, uint64_t size, const char *source,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void plan_note(struct boot_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plan_free(struct kxl_boot_plan *p);
void plan_modules(struct boot_ctx *c);	/* the per-module record, after loading */

/* load.c: place and copy the kernel's PT_LOAD segments (s NULL: they are
 * in guest memory already, streamed there by load-stream.c) */
int load_kernel_segments(struct boot_ctx *c, const struct boot_src *s);
/* load-stream.c: decompresses the bzImage payload straight into guest
 * memory when the ELF's segments fit at p_paddr. Returns 0 (c->elf is
 * parsed and the segments are loaded), -1 (error in c->d) or 1 (the
 * kernel needs the staging path: relocation, odd layout or bad headers). */
int load_stream_bzimage(struct boot_ctx *c, const uint8_t *file);
/* Checks the segments of e against guest RAM of mem_bytes: no overlap, in RAM,
 * not in the hole, above the boot area; relocates within PHYS32_RELOC bounds
 * when allowed. Sets *delta. No memory access (used by the fuzzers). */
int load_check_segments(const char *name, const struct elf_info *e, uint64_t mem_bytes,
			bool may_reloc, int64_t *delta, struct kxl_diag *d);

/* modules.c */
int modules_load(struct boot_ctx *c);
bool modules_is_cpio(const uint8_t *p, size_t len);

/* e820.c */
void e820_build(struct boot_ctx *c);
void e820_add(struct e820 *m, uint64_t addr, uint64_t size, uint32_t type);

/* start-info.c */
int start_info_write(struct boot_ctx *c);
int cmdline_write(struct boot_ctx *c);

/* acpi.c, dsdt.c */
int acpi_build(struct boot_ctx *c);
/* The reset-vector stub at F000:FFF0 (resetvec.c). */
int resetvec_write(struct boot_ctx *c);
uint8_t acpi_checksum(const uint8_t *p, size_t len);
/* Writes the DSDT (header included) into buf; returns its length or 0 when
 * cap is too small. */
size_t dsdt_build(uint8_t *buf, size_t cap, unsigned nr_virtio_mmio);

/* linux.c */
int linux_setup(struct boot_ctx *c);

#endif
