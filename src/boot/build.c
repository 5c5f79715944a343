/*
 * build.c: kxl_boot_build(), the builder's pipeline. It creates guest RAM,
 * reads the kernel (an ELF, or a bzImage), chooses the protocol (PVH when the kernel
 * has the PHYS32_ENTRY note, otherwise or when forced the Linux 64-bit boot
 * protocol), loads the segments, the modules, the command line, the ACPI
 * tables and the memory map, then the protocol's boot structures and the
 * entry state. On failure the image is released and *d says why.
 * A bzImage is normally decompressed straight into guest memory
 * (load-stream.c); the staging buffer is the fallback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "boot/boot-int.h"
#include "util/util.h"

/* Reads the kernel. An ELF is parsed from the file (its segments are
 * copied later). A bzImage is mapped and its payload streamed straight into
 * guest memory (*streamed), or, when that cannot be done, decompressed once
 * into a staging buffer (*stage) that *s then reads. */
static int kernel_open(struct boot_ctx *c, struct boot_src *s, uint8_t **stage, size_t *stage_len,
		       bool *streamed)
{
	uint8_t head[0x270];
	size_t n;

	*stage = NULL;
	*stage_len = 0;
	*streamed = false;
	if (src_open_fd(s, c->kfile, c->spec->kernel_from_fd ? c->spec->kernel_fd : -1, c->d))
		return -1;
	n = s->size < sizeof(head) ? (size_t)s->size : sizeof(head);
	if (src_read(s, 0, head, n, "header", c->d))
		return -1;
	if (elf_is_elf(head, n))
		return elf_parse(s, &c->elf, c->d);
	if (!bzimage_is_bzimage(head, n))
		return kxl_err(c->d, "%s: not a kernel kxl can load: neither an ELF nor a bzImage (%zu bytes)",
			       c->kfile, n);
	c->is_bzimage = true;
	if (s->size > KXL_GiB)
		return kxl_err(c->d, "%s: a %llu MiB bzImage is not a kernel (the payload length is a u32 and real ones are tens of MiB)",
			       c->kfile, (unsigned long long)(s->size >> 20));
	size_t flen = (size_t)s->size;
	uint8_t *file = mmap(NULL, flen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, s->fd, 0);
	src_close(s);
	if (file == MAP_FAILED)
		return kxl_err(c->d, "%s: cannot map it: %s", c->kfile, strerror(errno));
	int r = bzimage_parse(c->kfile, file, flen, &c->bz, c->d);
	if (!r && c->bz.out_size > c->img->mem_bytes)
		r = kxl_err(c->d, "%s: the bzImage's size trailer declares %u bytes decompressed, more than guest memory (%llu MiB)",
			    c->kfile, c->bz.out_size, (unsigned long long)(c->img->mem_bytes >> 20));
	if (!r && (r = load_stream_bzimage(c, file)) == 0)
		*streamed = true;
	if (r == 1)
		r = bzimage_decompress(c->kfile, file, flen, &c->bz, c->img->mem_bytes,
				       stage, stage_len, c->d);
	munmap(file, flen);
	if (r || *streamed)
		return r;
	*s = (struct boot_src){ .name = c->kfile, .fd = -1, .buf = *stage, .size = *stage_len };
	if (!elf_is_elf(*stage, *stage_len))
		return kxl_err(c->d, "%s: the bzImage's decompressed payload is not an ELF vmlinux", c->kfile);
	return elf_parse(s, &c->elf, c->d);
}

static int choose_protocol(struct boot_ctx *c)
{
	const struct elf_info *e = &c->elf;
	enum kxl_boot_protocol want = c->spec->protocol;

	c->format = c->is_bzimage ?
		xasprintf("bzImage (protocol %u.%02u, %s) -> ELF%d", c->bz.version >> 8,
			  c->bz.version & 0xff, comp_name(c->bz.comp), e->bits) :
		xasprintf("ELF%d", e->bits);
	if (e->nr_notes == 0)
		plan_note(c, "no Xen ELF notes found");
	for (size_t i = 0; i < e->nr_notes; i++)
		plan_note(c, "note: %s%s", e->notes[i].text,
			  e->notes_from_sections ? " (from SHT_NOTE)" : "");
	if (c->spec->xen_pv && want != KXL_BOOT_PROTO_LINUX && !e->has_pvh)
		return kxl_err(c->d, "%s: type = \"pv\", and the kernel has no PVH entry (Xen PHYS32_ENTRY note, type 18)%s: "
			       "a PV-only kernel (Mini-OS, Linux before 4.11 or built without CONFIG_XEN_PVH) needs Xen; "
			       "kxl runs a PV config on KVM as PVH, which needs that entry",
			       c->kfile, e->has_pv_entry ? ", only the PV entry (type 1)" : "");
	if (want == KXL_BOOT_PROTO_PVH && !e->has_pvh)
		return kxl_err(c->d, "%s: PVH boot requested, but the kernel has no Xen PHYS32_ENTRY note (type 18; Linux needs CONFIG_XEN_PVH)%s",
			       c->kfile, e->has_pv_entry ? "; it has only the PV entry note (type 1), which PVH cannot use" : "");
	if (want == KXL_BOOT_PROTO_LINUX) {
		c->proto = KXL_BOOT_PROTO_LINUX;
		plan_note(c, "protocol linux: forced (--boot-protocol=linux)%s",
			  e->has_pvh ? "; the kernel also has a PVH entry" : "");
	} else if (e->has_pvh) {
		c->proto = KXL_BOOT_PROTO_PVH;
		plan_note(c, "protocol pvh: the kernel has the Xen PHYS32_ENTRY note (type 18)");
	} else {
		if (e->bits != 64 || e->machine != 62)
			return kxl_err(c->d, "%s: the kernel has no PVH entry note (Xen PHYS32_ENTRY, type 18) and is not a 64-bit x86 kernel, so it cannot boot through the Linux 64-bit protocol either%s",
				       c->kfile, e->has_pv_entry ? " (its ENTRY note, type 1, is a PV entry)" : "");
		c->proto = KXL_BOOT_PROTO_LINUX;
		plan_note(c, "protocol linux: the kernel has no Xen PHYS32_ENTRY note (type 18)%s, so it boots through the Linux x86 64-bit boot protocol",
			  e->has_pv_entry ? "; it has only the PV ENTRY note (type 1)" : "");
	}
	c->linux_guest = c->proto == KXL_BOOT_PROTO_LINUX ||
			 (e->guest_os && strcasecmp(e->guest_os, "linux") == 0);
	return 0;
}

static int validate(const struct kxl_boot_spec *spec, struct kxl_diag *d)
{
	if (!spec->kernel)
		return kxl_err(d, "no kernel given");
	if (spec->vcpus == 0)
		return kxl_err(d, "vcpus = 0: a guest needs at least one vCPU");
	if (spec->maxvcpus < spec->vcpus)
		return kxl_err(d, "maxvcpus (%u) is less than vcpus (%u)", spec->maxvcpus, spec->vcpus);
	for (size_t i = 0; i < spec->nr_modules; i++)
		if (!spec->modules)
			return kxl_err(d, "%zu modules given without a module list", spec->nr_modules);
	return 0;
}

int kxl_boot_build(const struct kxl_boot_spec *spec, struct kxl_guest_image *img,
		   struct kxl_diag *d)
{
	struct boot_ctx c = { .spec = spec, .img = img, .d = d, .kfile = spec->kernel };
	struct boot_src s = { .fd = -1 };
	uint8_t *stage = NULL;
	size_t stage_len = 0;
	bool streamed = false;
	int r = -1;

	memset(img, 0, sizeof(*img));
	img->memfd = -1;
	if (validate(spec, d))
		return -1;
	img->vcpus = spec->vcpus;
	img->maxvcpus = spec->maxvcpus;
	if (mem_create(img, spec->mem_bytes, d))
		goto out;
	if (kernel_open(&c, &s, &stage, &stage_len, &streamed))
		goto out;
	if (choose_protocol(&c))
		goto out;
	if (load_kernel_segments(&c, streamed ? NULL : &s))
		goto out;
	src_close(&s);
	decomp_free(stage, stage_len);
	stage = NULL;
	if (cmdline_write(&c) || modules_load(&c) || acpi_build(&c) || resetvec_write(&c))
		goto out;
	e820_build(&c);
	img->entry.protocol = c.proto;
	if (c.proto == KXL_BOOT_PROTO_PVH) {
		if (start_info_write(&c))
			goto out;
		img->entry.rip = c.elf.pvh_entry + (uint64_t)c.reloc_delta;
		img->entry.rbx = KXL_GPA_START_INFO;
		plan_note(&c, "entry: PVH 32-bit entry at 0x%llx, EBX = 0x%llx (hvm_start_info)",
			  (unsigned long long)img->entry.rip, (unsigned long long)img->entry.rbx);
	} else {
		if (linux_setup(&c))
			goto out;
		plan_note(&c, "entry: 64-bit startup at 0x%llx, RSI = 0x%llx (boot_params)",
			  (unsigned long long)img->entry.rip, (unsigned long long)img->entry.rsi);
	}
	plan_modules(&c);
	img->plan.kernel_format = c.format;
	c.format = NULL;
	img->plan.guest_os = c.elf.guest_os ? xstrdup(c.elf.guest_os) : NULL;
	img->plan.linux_guest = c.linux_guest;
	r = 0;
out:
	src_close(&s);
	decomp_free(stage, stage_len);
	free(c.format);
	free(c.mods);
	elf_info_free(&c.elf);
	if (r)
		kxl_guest_image_free(img);
	return r;
}
