/*
 * plan.c: the load plan that `kxl layout` prints: every region written to
 * guest memory (address, size, what, source file), the facts found on the
 * way (Xen notes, the protocol and why, module handling) and the entry
 * point, as a table or as JSON.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "boot/boot-int.h"
#include "util/util.h"

void plan_region(struct boot_ctx *c, uint64_t gpa, uint64_t size, const char *source,
		 const char *fmt, ...)
{
	struct kxl_boot_plan *p = &c->img->plan;
	va_list ap;

	p->regions = xrealloc(p->regions, (p->nr_regions + 1) * sizeof(*p->regions));
	struct kxl_plan_region *r = &p->regions[p->nr_regions++];
	va_start(ap, fmt);
	r->what = xvasprintf(fmt, ap);
	va_end(ap);
	r->gpa = gpa;
	r->size = size;
	r->source = source ? xstrdup(source) : NULL;
}

void plan_note(struct boot_ctx *c, const char *fmt, ...)
{
	struct kxl_boot_plan *p = &c->img->plan;
	va_list ap;

	p->notes = xrealloc(p->notes, (p->nr_notes + 1) * sizeof(*p->notes));
	va_start(ap, fmt);
	p->notes[p->nr_notes++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void plan_modules(struct boot_ctx *c)
{
	struct kxl_boot_plan *p = &c->img->plan;

	p->modules = xcalloc(c->nr_mods + 1, sizeof(*p->modules));
	p->nr_modules = c->nr_mods;
	for (size_t i = 0; i < c->nr_mods; i++) {
		const struct boot_mod *m = &c->mods[i];
		struct kxl_plan_module *pm = &p->modules[i];
		pm->path = xstrdup(m->path);
		pm->cmdline = m->cmdline ? xstrdup(m->cmdline) : NULL;
		pm->gpa = m->gpa;
		pm->size = m->size;
		pm->modlist_index = c->proto == KXL_BOOT_PROTO_LINUX ? -1 : m->in_initrd ? 0 : (int)m->modlist_index;
		pm->in_initrd = m->in_initrd;
		pm->cmdline_dropped = m->in_initrd && m->cmdline;
		pm->is_cpio = m->is_cpio;
	}
}

void plan_free(struct kxl_boot_plan *p)
{
	for (size_t i = 0; i < p->nr_regions; i++) {
		free(p->regions[i].what);
		free(p->regions[i].source);
	}
	free(p->regions);
	for (size_t i = 0; i < p->nr_modules; i++) {
		free(p->modules[i].path);
		free(p->modules[i].cmdline);
	}
	free(p->modules);
	for (size_t i = 0; i < p->nr_notes; i++)
		free(p->notes[i]);
	free(p->notes);
	free(p->kernel_format);
	free(p->guest_os);
	memset(p, 0, sizeof(*p));
}

static int cmp_region(const void *a, const void *b)
{
	const struct kxl_plan_region *x = *(const struct kxl_plan_region *const *)a;
	const struct kxl_plan_region *y = *(const struct kxl_plan_region *const *)b;
	return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* The regions in address order (stable for equal addresses). */
static const struct kxl_plan_region **sorted(const struct kxl_boot_plan *p)
{
	const struct kxl_plan_region **v = xcalloc(p->nr_regions + 1, sizeof(*v));
	for (size_t i = 0; i < p->nr_regions; i++)
		v[i] = &p->regions[i];
	/* insertion sort keeps equal addresses in the order written */
	for (size_t i = 1; i < p->nr_regions; i++)
		for (size_t j = i; j > 0 && cmp_region(&v[j - 1], &v[j]) > 0; j--) {
			const struct kxl_plan_region *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

static const char *proto_name(enum kxl_boot_protocol p)
{
	return p == KXL_BOOT_PROTO_PVH ? "pvh" : p == KXL_BOOT_PROTO_LINUX ? "linux" : "auto";
}

char *kxl_boot_plan_text(const struct kxl_guest_image *img)
{
	const struct kxl_boot_plan *p = &img->plan;
	const struct kxl_entry *e = &img->entry;
	struct sbuf b = { 0 };

	sbuf_printf(&b, "kernel:   %s\n", p->kernel_format ? p->kernel_format : "?");
	sbuf_printf(&b, "guest OS: %s%s\n", p->guest_os ? p->guest_os : "(no GUEST_OS note)",
		    p->linux_guest ? " (Linux)" : "");
	sbuf_printf(&b, "protocol: %s\n", proto_name(e->protocol));
	sbuf_printf(&b, "entry:    rip=0x%llx", (unsigned long long)e->rip);
	if (e->protocol == KXL_BOOT_PROTO_PVH)
		sbuf_printf(&b, " rbx=0x%llx (hvm_start_info)\n", (unsigned long long)e->rbx);
	else
		sbuf_printf(&b, " rsi=0x%llx (boot_params) cr3=0x%llx gdt=0x%llx/%u\n",
			    (unsigned long long)e->rsi, (unsigned long long)e->cr3,
			    (unsigned long long)e->gdt_base, e->gdt_limit);
	sbuf_printf(&b, "memory:   %llu MiB,", (unsigned long long)(img->mem_bytes >> 20));
	for (unsigned i = 0; i < img->nr_slots; i++)
		sbuf_printf(&b, " slot %u [0x%llx, 0x%llx)", i, (unsigned long long)img->slots[i].gpa,
			    (unsigned long long)(img->slots[i].gpa + img->slots[i].size));
	sbuf_printf(&b, "\nvcpus:    %u (max %u)\n\n", img->vcpus, img->maxvcpus);
	sbuf_printf(&b, "%-18s %-18s %-12s %s\n", "start", "end", "size", "contents");
	const struct kxl_plan_region **v = sorted(p);
	for (size_t i = 0; i < p->nr_regions; i++) {
		const struct kxl_plan_region *r = v[i];
		sbuf_printf(&b, "0x%016llx 0x%016llx %-12llu %s%s%s\n", (unsigned long long)r->gpa,
			    (unsigned long long)(r->gpa + r->size), (unsigned long long)r->size, r->what,
			    r->source ? "  <- " : "", r->source ? r->source : "");
	}
	free(v);
	if (p->nr_notes)
		sbuf_adds(&b, "\nnotes:\n");
	for (size_t i = 0; i < p->nr_notes; i++)
		sbuf_printf(&b, "  - %s\n", p->notes[i]);
	return sbuf_steal(&b);
}

static json_object *jhex(uint64_t v)
{
	char s[24];
	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
	return json_object_new_string(s);
}

char *kxl_boot_plan_json(const struct kxl_guest_image *img)
{
	const struct kxl_boot_plan *p = &img->plan;
	const struct kxl_entry *e = &img->entry;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kernel_format",
			       p->kernel_format ? json_object_new_string(p->kernel_format) : NULL);
	json_object_object_add(o, "guest_os", p->guest_os ? json_object_new_string(p->guest_os) : NULL);
	json_object_object_add(o, "linux_guest", json_object_new_boolean(p->linux_guest));
	json_object_object_add(o, "protocol", json_object_new_string(proto_name(e->protocol)));
	json_object *je = json_object_new_object();
	json_object_object_add(je, "rip", jhex(e->rip));
	if (e->protocol == KXL_BOOT_PROTO_PVH) {
		json_object_object_add(je, "rbx", jhex(e->rbx));
	} else {
		json_object_object_add(je, "rsi", jhex(e->rsi));
		json_object_object_add(je, "cr3", jhex(e->cr3));
		json_object_object_add(je, "gdt_base", jhex(e->gdt_base));
		json_object_object_add(je, "gdt_limit", json_object_new_int(e->gdt_limit));
	}
	json_object_object_add(o, "entry", je);
	json_object_object_add(o, "mem_bytes", json_object_new_int64((int64_t)img->mem_bytes));
	json_object_object_add(o, "vcpus", json_object_new_int((int)img->vcpus));
	json_object_object_add(o, "maxvcpus", json_object_new_int((int)img->maxvcpus));
	json_object *js = json_object_new_array();
	for (unsigned i = 0; i < img->nr_slots; i++) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "gpa", jhex(img->slots[i].gpa));
		json_object_object_add(s, "size", jhex(img->slots[i].size));
		json_object_object_add(s, "memfd_offset", jhex(img->slots[i].memfd_offset));
		json_object_array_add(js, s);
	}
	json_object_object_add(o, "slots", js);
	json_object *jr = json_object_new_array();
	const struct kxl_plan_region **v = sorted(p);
	for (size_t i = 0; i < p->nr_regions; i++) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "gpa", jhex(v[i]->gpa));
		json_object_object_add(r, "size", jhex(v[i]->size));
		json_object_object_add(r, "what", json_object_new_string(v[i]->what));
		json_object_object_add(r, "source", v[i]->source ? json_object_new_string(v[i]->source) : NULL);
		json_object_array_add(jr, r);
	}
	free(v);
	json_object_object_add(o, "regions", jr);
	json_object *jm = json_object_new_array();
	for (size_t i = 0; i < p->nr_modules; i++) {
		const struct kxl_plan_module *m = &p->modules[i];
		json_object *r = json_object_new_object();
		json_object_object_add(r, "path", json_object_new_string(m->path));
		json_object_object_add(r, "cmdline", m->cmdline ? json_object_new_string(m->cmdline) : NULL);
		json_object_object_add(r, "gpa", jhex(m->gpa));
		json_object_object_add(r, "size", jhex(m->size));
		json_object_object_add(r, "modlist_index", json_object_new_int(m->modlist_index));
		json_object_object_add(r, "in_initrd", json_object_new_boolean(m->in_initrd));
		json_object_object_add(r, "cmdline_dropped", json_object_new_boolean(m->cmdline_dropped));
		json_object_object_add(r, "is_cpio", json_object_new_boolean(m->is_cpio));
		json_object_array_add(jm, r);
	}
	json_object_object_add(o, "modules", jm);
	json_object *jn = json_object_new_array();
	for (size_t i = 0; i < p->nr_notes; i++)
		json_object_array_add(jn, json_object_new_string(p->notes[i]));
	json_object_object_add(o, "notes", jn);
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
