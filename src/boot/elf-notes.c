/*
 * elf-notes.c: Xen ELF notes (xen/include/public/elfnote.h). Type 18,
 * PHYS32_ENTRY, is the PVH entry; its descriptor is 4 or 8 bytes (Linux
 * emits a pointer-sized value). Type 1 is the *virtual* PV entry and is
 * never used for PVH. Type 19, PHYS32_RELOC, gives the relocation bounds.
 * Every Xen note is recorded as text for `kxl layout`, because users
 * confuse CONFIG_XEN_PVH with the PV options.
 */
#include <stdlib.h>
#include <string.h>

#include "boot/boot-int.h"
#include "util/util.h"

enum {
	XEN_ELFNOTE_ENTRY = 1, XEN_ELFNOTE_HYPERCALL_PAGE = 2, XEN_ELFNOTE_VIRT_BASE = 3,
	XEN_ELFNOTE_PADDR_OFFSET = 4, XEN_ELFNOTE_XEN_VERSION = 5, XEN_ELFNOTE_GUEST_OS = 6,
	XEN_ELFNOTE_GUEST_VERSION = 7, XEN_ELFNOTE_LOADER = 8, XEN_ELFNOTE_PAE_MODE = 9,
	XEN_ELFNOTE_FEATURES = 10, XEN_ELFNOTE_BSD_SYMTAB = 11, XEN_ELFNOTE_HV_START_LOW = 12,
	XEN_ELFNOTE_L1_MFN_VALID = 13, XEN_ELFNOTE_SUSPEND_CANCEL = 14, XEN_ELFNOTE_INIT_P2M = 15,
	XEN_ELFNOTE_MOD_START_PFN = 16, XEN_ELFNOTE_SUPPORTED_FEATURES = 17,
	XEN_ELFNOTE_PHYS32_ENTRY = 18, XEN_ELFNOTE_PHYS32_RELOC = 19,
};

static const char *const note_names[] = {
	[1] = "ENTRY", [2] = "HYPERCALL_PAGE", [3] = "VIRT_BASE", [4] = "PADDR_OFFSET",
	[5] = "XEN_VERSION", [6] = "GUEST_OS", [7] = "GUEST_VERSION", [8] = "LOADER",
	[9] = "PAE_MODE", [10] = "FEATURES", [11] = "BSD_SYMTAB", [12] = "HV_START_LOW",
	[13] = "L1_MFN_VALID", [14] = "SUSPEND_CANCEL", [15] = "INIT_P2M",
	[16] = "MOD_START_PFN", [17] = "SUPPORTED_FEATURES", [18] = "PHYS32_ENTRY",
	[19] = "PHYS32_RELOC",
};

static bool is_string_note(uint32_t t)
{
	return t == XEN_ELFNOTE_XEN_VERSION || t == XEN_ELFNOTE_GUEST_OS ||
	       t == XEN_ELFNOTE_GUEST_VERSION || t == XEN_ELFNOTE_LOADER ||
	       t == XEN_ELFNOTE_PAE_MODE || t == XEN_ELFNOTE_FEATURES ||
	       t == XEN_ELFNOTE_BSD_SYMTAB;
}

/* A printable copy of a string note (stops at NUL, escapes the rest). */
static char *note_string(const uint8_t *p, size_t n)
{
	struct sbuf b = { 0 };
	sbuf_add(&b, "", 0);
	for (size_t i = 0; i < n && p[i] && i < 256; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			sbuf_add(&b, (const char *)&p[i], 1);
		else
			sbuf_printf(&b, "\\x%02x", p[i]);
	}
	return sbuf_steal(&b);
}

static uint64_t desc_value(const uint8_t *p, size_t n)
{
	return n >= 8 ? ld64(p) : n >= 4 ? ld32(p) : n >= 2 ? ld16(p) : n ? p[0] : 0;
}

static void add_note(struct elf_info *e, uint32_t type, char *text)
{
	e->notes = xrealloc(e->notes, (e->nr_notes + 1) * sizeof(*e->notes));
	e->notes[e->nr_notes++] = (struct elf_note){ .type = type, .text = text };
}

static void set_str(char **dst, const uint8_t *p, size_t n)
{
	free(*dst);
	*dst = note_string(p, n);
}

static int xen_note(const struct boot_src *s, uint32_t type, const uint8_t *desc, size_t n,
		    struct elf_info *e, struct kxl_diag *d)
{
	const char *name = type < ARRAY_SIZE(note_names) && note_names[type] ? note_names[type] : "unknown";

	switch (type) {
	case XEN_ELFNOTE_PHYS32_ENTRY:
		if (n != 4 && n != 8)
			return kxl_err(d, "%s: Xen note PHYS32_ENTRY (type 18) has a %zu-byte descriptor; it must be 4 or 8 bytes",
				       s->name, n);
		if (e->has_pvh && e->pvh_entry != desc_value(desc, n))
			return kxl_err(d, "%s: two Xen PHYS32_ENTRY notes disagree (0x%llx and 0x%llx)",
				       s->name, (unsigned long long)e->pvh_entry,
				       (unsigned long long)desc_value(desc, n));
		e->pvh_entry = desc_value(desc, n);
		if (e->pvh_entry > 0xffffffffULL)
			return kxl_err(d, "%s: Xen note PHYS32_ENTRY = 0x%llx is not a 32-bit physical address",
				       s->name, (unsigned long long)e->pvh_entry);
		e->has_pvh = true;
		add_note(e, type, xasprintf("Xen PHYS32_ENTRY (18) = 0x%llx: the PVH entry",
					    (unsigned long long)e->pvh_entry));
		return 0;
	case XEN_ELFNOTE_PHYS32_RELOC:
		if (n != 0 && n != 4 && n != 8 && n != 12)
			return kxl_err(d, "%s: Xen note PHYS32_RELOC (type 19) has a %zu-byte descriptor; it must be 0, 4, 8 or 12 bytes",
				       s->name, n);
		e->has_reloc = true;
		e->reloc_align = n >= 4 ? ld32(desc) : 0x200000;
		e->reloc_min = n >= 8 ? ld32(desc + 4) : 0;
		e->reloc_max = n >= 12 ? ld32(desc + 8) : 0xffffffff;
		if (e->reloc_align == 0 || (e->reloc_align & (e->reloc_align - 1)))
			return kxl_err(d, "%s: Xen note PHYS32_RELOC alignment 0x%x is not a power of two",
				       s->name, e->reloc_align);
		if (e->reloc_min > e->reloc_max)
			return kxl_err(d, "%s: Xen note PHYS32_RELOC minimum 0x%x is above its maximum 0x%x",
				       s->name, e->reloc_min, e->reloc_max);
		add_note(e, type, xasprintf("Xen PHYS32_RELOC (19): relocatable, align 0x%x, min 0x%x, max 0x%x",
					    e->reloc_align, e->reloc_min, e->reloc_max));
		return 0;
	case XEN_ELFNOTE_ENTRY:
		e->has_pv_entry = true;
		add_note(e, type, xasprintf("Xen ENTRY (1) = 0x%llx: a PV (virtual) entry, not used for PVH",
					    (unsigned long long)desc_value(desc, n)));
		return 0;
	case XEN_ELFNOTE_GUEST_OS:
		set_str(&e->guest_os, desc, n);
		break;
	case XEN_ELFNOTE_GUEST_VERSION:
		set_str(&e->guest_version, desc, n);
		break;
	case XEN_ELFNOTE_XEN_VERSION:
		set_str(&e->xen_version, desc, n);
		break;
	case XEN_ELFNOTE_LOADER:
		set_str(&e->loader, desc, n);
		break;
	default:
		break;
	}
	if (is_string_note(type)) {
		char *v = note_string(desc, n);
		add_note(e, type, xasprintf("Xen %s (%u) = \"%s\"", name, type, v));
		free(v);
	} else if (n <= 8) {
		add_note(e, type, xasprintf("Xen %s (%u) = 0x%llx", name, type,
					    (unsigned long long)desc_value(desc, n)));
	} else {
		add_note(e, type, xasprintf("Xen %s (%u), %zu bytes", name, type, n));
	}
	return 0;
}

int elf_notes_parse(const struct boot_src *s, const uint8_t *p, size_t len,
		    struct elf_info *e, struct kxl_diag *d)
{
	size_t off = 0;

	while (off < len) {
		if (len - off < 12)
			return kxl_err(d, "%s: corrupt ELF note at note offset %zu: %zu bytes left, a note header needs 12",
				       s->name, off, len - off);
		uint32_t namesz = ld32(p + off), descsz = ld32(p + off + 4), type = ld32(p + off + 8);
		size_t name_pad = align_up(namesz, 4), desc_pad = align_up(descsz, 4);
		if (namesz > len || descsz > len || name_pad + desc_pad > len - off - 12)
			return kxl_err(d, "%s: corrupt ELF note at note offset %zu: name size %u and descriptor size %u run past the note area (%zu bytes)",
				       s->name, off, namesz, descsz, len);
		const uint8_t *name = p + off + 12;
		const uint8_t *desc = name + name_pad;
		if (namesz == 4 && memcmp(name, "Xen", 4) == 0) {
			if (xen_note(s, type, desc, descsz, e, d))
				return -1;
		}
		off += 12 + name_pad + desc_pad;
	}
	return 0;
}
