/*
 * elf.c: the ELF kernel parser. Reads the ELF header, the program headers
 * (every PT_LOAD with a size, at its p_paddr) and the Xen notes, from
 * PT_NOTE segments or, when none carries them, SHT_NOTE sections. 32- and
 * 64-bit little-endian x86 images only. Nothing is loaded here: load.c
 * places the segments. Every malformed field is an error naming the file.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"
#include "util/util.h"

#define PT_LOAD 1
#define PT_NOTE 4
#define SHT_NOTE 7
#define EM_386 3
#define EM_X86_64 62
#define MAX_PHDRS 4096
#define MAX_SHDRS 65535
#define MAX_NOTE_AREA (1u << 20)

bool elf_is_elf(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
}

void elf_info_free(struct elf_info *e)
{
	free(e->segs);
	free(e->note_areas);
	for (size_t i = 0; i < e->nr_notes; i++)
		free(e->notes[i].text);
	free(e->notes);
	free(e->guest_os);
	free(e->guest_version);
	free(e->xen_version);
	free(e->loader);
	memset(e, 0, sizeof(*e));
}

/* Reads one note area of `len` bytes at file offset `off`. */
static int read_notes(const struct boot_src *s, uint64_t off, uint64_t len, const char *what,
		      struct elf_info *e, struct kxl_diag *d)
{
	if (len == 0)
		return 0;
	if (len > MAX_NOTE_AREA)
		return kxl_err(d, "%s: %s is %llu bytes, more than any kernel's notes (1 MiB)",
			       s->name, what, (unsigned long long)len);
	uint8_t *buf = xmalloc((size_t)len);
	int r = src_read(s, off, buf, len, what, d);
	if (r == 0)
		r = elf_notes_parse(s, buf, (size_t)len, e, d);
	free(buf);
	return r;
}

/* Reads a table of num entries of entsize bytes (at least need) at off:
 * the program or section headers. Returns a malloc'd copy or NULL. */
static uint8_t *read_table(const struct boot_src *s, const char *what, uint64_t off, unsigned num,
			   unsigned entsize, unsigned need, struct kxl_diag *d)
{
	if (entsize < need) {
		kxl_err(d, "%s: corrupt ELF: %s entry size %u, expected at least %u",
			s->name, what, entsize, need);
		return NULL;
	}
	if (off > s->size || (uint64_t)num * entsize > s->size - off) {
		kxl_err(d, "%s: truncated ELF: %u %s at 0x%llx run past the end of the file (0x%llx bytes)",
			s->name, num, what, (unsigned long long)off, (unsigned long long)s->size);
		return NULL;
	}
	uint8_t *t = xmalloc((size_t)num * entsize);
	if (src_read(s, off, t, (uint64_t)num * entsize, what, d)) {
		free(t);
		return NULL;
	}
	return t;
}

static int parse_sections(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d)
{
	unsigned need = e->bits == 64 ? 64 : 40;
	uint64_t shoff = e->shoff;
	unsigned shentsize = e->shentsize, shnum = e->shnum;

	if (shoff == 0 || shnum == 0)
		return 0;
	uint8_t *sh = read_table(s, "section headers", shoff, shnum, shentsize, need, d);
	if (!sh)
		return -1;
	int r = 0;
	for (unsigned i = 0; i < shnum && r == 0; i++) {
		const uint8_t *h = sh + (size_t)i * shentsize;
		if (ld32(h + 4) != SHT_NOTE)
			continue;
		uint64_t off = e->bits == 64 ? ld64(h + 0x18) : ld32(h + 0x10);
		uint64_t size = e->bits == 64 ? ld64(h + 0x20) : ld32(h + 0x14);
		char what[48];
		snprintf(what, sizeof(what), "note section %u", i);
		r = read_notes(s, off, size, what, e, d);
	}
	free(sh);
	return r;
}

int elf_parse_headers(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d)
{
	uint8_t eh[64];

	memset(e, 0, sizeof(*e));
	if (s->size < 16)
		return kxl_err(d, "%s: truncated ELF: only %llu bytes", s->name,
			       (unsigned long long)s->size);
	if (src_read(s, 0, eh, 16, "ELF identification", d))
		return -1;
	if (!elf_is_elf(eh, 16))
		return kxl_err(d, "%s: not an ELF file (bad magic)", s->name);
	if (eh[4] != 1 && eh[4] != 2)
		return kxl_err(d, "%s: corrupt ELF: class %u is neither 32- nor 64-bit", s->name, eh[4]);
	e->bits = eh[4] == 2 ? 64 : 32;
	if (eh[5] != 1)
		return kxl_err(d, "%s: ELF is not little-endian (data encoding %u): not an x86 kernel",
			       s->name, eh[5]);
	unsigned ehsize = e->bits == 64 ? 64 : 52;
	if (src_read(s, 0, eh, ehsize, "ELF header", d))
		return -1;
	bool b64 = e->bits == 64;
	uint16_t type = ld16(eh + 0x10);
	e->machine = ld16(eh + 0x12);
	if (type != 2 && type != 3)
		return kxl_err(d, "%s: ELF type %u is not an executable", s->name, type);
	if (e->machine != EM_X86_64 && e->machine != EM_386)
		return kxl_err(d, "%s: ELF machine %u is not x86 (3 or 62)", s->name, e->machine);
	e->e_entry = b64 ? ld64(eh + 0x18) : ld32(eh + 0x18);
	e->shoff = b64 ? ld64(eh + 0x28) : ld32(eh + 0x20);
	e->shentsize = ld16(eh + (b64 ? 0x3a : 0x2e));
	e->shnum = ld16(eh + (b64 ? 0x3c : 0x30));
	uint64_t phoff = b64 ? ld64(eh + 0x20) : ld32(eh + 0x1c);
	unsigned phentsize = ld16(eh + (b64 ? 0x36 : 0x2a));
	unsigned phnum = ld16(eh + (b64 ? 0x38 : 0x2c));
	unsigned need = b64 ? 56 : 32;

	if (phnum == 0)
		return kxl_err(d, "%s: ELF has no program headers: nothing to load", s->name);
	if (phnum > MAX_PHDRS || phnum == 0xffff)
		return kxl_err(d, "%s: corrupt ELF: %u program headers", s->name, phnum);
	uint8_t *ph = read_table(s, "program headers", phoff, phnum, phentsize, need, d);
	if (!ph)
		goto fail;

	e->segs = xcalloc(phnum, sizeof(*e->segs));
	e->note_areas = xcalloc(phnum, sizeof(*e->note_areas));
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *h = ph + (size_t)i * phentsize;
		uint32_t pt = ld32(h);
		struct elf_seg g = { .idx = i };
		if (b64) {
			g.flags = ld32(h + 4);
			g.offset = ld64(h + 8);
			g.vaddr = ld64(h + 0x10);
			g.paddr = ld64(h + 0x18);
			g.filesz = ld64(h + 0x20);
			g.memsz = ld64(h + 0x28);
		} else {
			g.offset = ld32(h + 4);
			g.vaddr = ld32(h + 8);
			g.paddr = ld32(h + 0xc);
			g.filesz = ld32(h + 0x10);
			g.memsz = ld32(h + 0x14);
			g.flags = ld32(h + 0x18);
		}
		if (pt == PT_NOTE) {
			e->note_areas[e->nr_note_areas++] = (struct elf_area){ g.offset, g.filesz, i };
			continue;
		}
		if (pt != PT_LOAD || g.memsz == 0)
			continue;
		if (g.filesz > g.memsz) {
			kxl_err(d, "%s: corrupt ELF: PT_LOAD %u has p_filesz 0x%llx larger than p_memsz 0x%llx",
				s->name, i, (unsigned long long)g.filesz, (unsigned long long)g.memsz);
			goto fail;
		}
		if (g.offset > s->size || g.filesz > s->size - g.offset) {
			kxl_err(d, "%s: truncated ELF: PT_LOAD %u needs file bytes 0x%llx-0x%llx but the %s has 0x%llx",
				s->name, i, (unsigned long long)g.offset,
				(unsigned long long)(g.offset + g.filesz),
				s->fd >= 0 ? "file" : "image", (unsigned long long)s->size);
			goto fail;
		}
		if (g.paddr + g.memsz < g.paddr) {
			kxl_err(d, "%s: corrupt ELF: PT_LOAD %u wraps around the address space", s->name, i);
			goto fail;
		}
		e->segs[e->nr_segs++] = g;
	}
	free(ph);
	ph = NULL;
	if (e->nr_segs == 0) {
		kxl_err(d, "%s: ELF has no PT_LOAD segment with contents", s->name);
		goto fail;
	}
	return 0;
fail:
	free(ph);
	elf_info_free(e);
	return -1;
}

int elf_parse_notes(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d)
{
	for (size_t i = 0; i < e->nr_note_areas; i++) {
		char what[48];
		snprintf(what, sizeof(what), "PT_NOTE segment %u", e->note_areas[i].idx);
		if (read_notes(s, e->note_areas[i].off, e->note_areas[i].size, what, e, d))
			goto fail;
	}
	/* Section notes only when the program headers carry none (some
	 * linkers drop PT_NOTE); never both, or every note would show twice. */
	if (e->nr_notes == 0) {
		if (parse_sections(s, e, d))
			goto fail;
		e->notes_from_sections = e->nr_notes > 0;
	}
	return 0;
fail:
	elf_info_free(e);
	return -1;
}

int elf_parse(const struct boot_src *s, struct elf_info *e, struct kxl_diag *d)
{
	if (elf_parse_headers(s, e, d))
		return -1;
	return elf_parse_notes(s, e, d);
}
