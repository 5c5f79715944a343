/*
 * no-kvm.c: the HVM keys that mean something on Xen only. One table: the
 * field of the model as xl wrote it (never a default), the value that
 * matters (any, or one boolean), the xl key, and why it has no meaning
 * under QEMU on KVM. Each set one is one warning; the rest of the domain
 * is built as if it were absent.
 */
#include "dm/dm-int.h"

#include <string.h>

#include "util/util.h"

enum where { C_INFO, B_INFO, HVM };
enum when { ANY, IF_TRUE, IF_FALSE, UNLESS_QEMU_XEN };

static const struct {
	enum where in;
	const char *field, *key;
	enum when when;
	const char *why;
} no_kvm[] = {
	{ HVM, "xen_platform_pci", "xen_platform_pci", ANY, "the Xen platform device is for Xen's PV drivers" },
	{ HVM, "vendor_device", "vendor_device", ANY, "the XenServer vendor device is for Xen's PV drivers" },
	{ HVM, "vkb_device", "vkb_device", ANY, "the PV keyboard is Xen's" },
	{ HVM, "vpt_align", "vpt_align", ANY, "Xen's periodic timer alignment" },
	{ HVM, "acpi_laptop_slate", "acpi_laptop_slate", IF_TRUE, "QEMU has no laptop/slate switch" },
	{ HVM, "rdm_mem_boundary_memkb", "rdm_mem_boundary", ANY, "reserved device memory is Xen's" },
	{ HVM, "mca_caps", "mca_caps", ANY, "Xen's machine check emulation" },
	{ HVM, "gfx_passthru", "gfx_passthru", IF_TRUE, "Xen's IGD passthrough: pass the GPU with pci= (vfio-pci)" },
	{ B_INFO, "apic", "apic", IF_FALSE, "KVM's guests always have a local APIC" },
	{ B_INFO, "shadow_memkb", "shadow_memory", ANY, "KVM sizes its page tables itself" },
	{ B_INFO, "tsc_mode", "tsc_mode", ANY, "KVM keeps the guest's TSC its own way" },
	{ B_INFO, "device_model_stubdomain", "device_model_stubdomain_override", IF_TRUE, "KVM has no stub domains: QEMU runs on the host" },
	{ B_INFO, "device_model_version", "device_model_version", UNLESS_QEMU_XEN, "kxl always runs Debian's QEMU, as qemu-xen" },
	{ B_INFO, "device_model", "device_model_override", ANY, "kxl always runs Debian's QEMU" },
	{ B_INFO, "altp2m", "altp2m", ANY, "alternate p2m is Xen's" },
	{ C_INFO, "hap", "hap", IF_FALSE, "KVM uses the host's nested paging when it has it" },
	{ C_INFO, "oos", "oos", ANY, "shadow paging is Xen's" },
};

/* Devices of the config that QEMU could have but kxl does not give it yet
 * (the top-level arrays of libxl_domain_config): one warning each kind. */
static const struct { const char *array, *key; } not_yet[] = {
	{ "vtpms", "vtpm" }, { "p9s", "p9" }, { "channels", "channel" }, { "vfbs", "vfb" },
	{ "vkbs", "vkb" }, { "usbctrls", "usbctrl" }, { "usbdevs", "usbdev" },
	{ "vdispls", "vdispl" }, { "vsnds", "vsnd" }, { "pvcallsifs", "pvcalls" },
	{ "dtdevs", "dtdev" },
};

void dm_fam_no_kvm(struct dm *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(not_yet); i++) {
		json_object *a = dm_get(m->root, not_yet[i].array);
		if (a && json_object_array_length(a))
			dm_msg(m, KXL_WARNING, not_yet[i].key, "%s: not given to QEMU by kxl yet: ignored",
			       not_yet[i].key);
	}
	if (dm_isset(m->ob, "vnuma_nodes"))
		dm_msg(m, KXL_WARNING, "vnuma", "vnuma: not given to QEMU (-numa) by kxl yet: the guest "
		       "sees one node");
	for (size_t i = 0; i < ARRAY_SIZE(no_kvm); i++) {
		json_object *o = no_kvm[i].in == C_INFO ? m->oc : no_kvm[i].in == B_INFO ? m->ob : m->oh;
		if (!dm_isset(o, no_kvm[i].field))
			continue;
		if (no_kvm[i].when == UNLESS_QEMU_XEN) {
			const char *v = dm_gets(o, no_kvm[i].field);
			if (v && !strcmp(v, "qemu_xen"))
				continue;
		} else if (no_kvm[i].when != ANY &&
			   dm_bool(o, no_kvm[i].field, false) != (no_kvm[i].when == IF_TRUE)) {
			continue;
		}
		dm_msg(m, KXL_WARNING, no_kvm[i].key, "%s: no meaning on KVM (%s): ignored",
		       no_kvm[i].key, no_kvm[i].why);
	}
}
