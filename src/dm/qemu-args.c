/*
 * qemu-args.c: QEMU's command line for an HVM domain, built from the
 * model's JSON (libxl's domain config with libxl's defaults filled in) by
 * walking one table of key families in argv order. Each family follows
 * libxl_dm.c's libxl__build_device_model_args_new (Xen 4.17) where QEMU
 * does the work on Xen too, and gives QEMU what Xen's hypervisor and
 * hvmloader do otherwise (kxl.cfg(5), "HVM guests on KVM").
 *
 * Always there, whatever the config: QEMU starts paused (-S) and stays
 * when the guest powers off (-no-shutdown), with no default devices and no
 * user config files, QEMU's strictest sandbox (set*id allowed when it
 * switches users, -runas, as libxl does), a QMP socket for the
 * per-domain monitor, guest resets reported instead of done
 * (-action reboot=shutdown, so on_reboot applies) and a pvpanic device
 * with the guest paused at a panic (panic=pause: GUEST_PANICKED, then
 * on_crash decides, preserve included); a watchdog device the config adds
 * (device_model_args_hvm, e.g. -device i6300esb) pauses the guest when it
 * fires (watchdog=pause: WATCHDOG, then on_watchdog decides). Never
 * -daemonize: kxl supervises.
 */
#include "dm/dm-int.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define QEMU_DEFAULT "qemu-system-x86_64"
#define SANDBOX "on,obsolete=deny,elevateprivileges=%s,spawn=deny,resourcecontrol=deny"

void dm_fam_always(struct dm *m)
{
	const char *name = dm_gets(m->c, "name");
	if (name) dm_pair(m, "-name", name);
	dm_add(m, "-S");
	dm_add(m, "-no-shutdown");
	dm_add(m, "-nodefaults");
	dm_add(m, "-no-user-config");
	/* -runas needs set*id (QEMU 7.2 kills itself with "children"): allow, as libxl */
	dm_pairf(m, "-sandbox", SANDBOX, dm_switches_user(m) ? "allow" : "deny");
	if (m->o->qmp_fd >= 0)
		dm_pairf(m, "-chardev", "socket,id=kxl-qmp,fd=%d,server=on,wait=off", m->o->qmp_fd);
	else
		dm_pairf(m, "-chardev", "socket,id=kxl-qmp,path=%s,server=on,wait=off",
			 m->o->qmp_path ? m->o->qmp_path : "@QMP_SOCKET@");
	dm_pair(m, "-mon", "chardev=kxl-qmp,mode=control");
	dm_pair(m, "-action", "reboot=shutdown,panic=pause,watchdog=pause");
	dm_pair(m, "-device", "pvpanic");
}

/* device_model_args, then device_model_args_hvm: last, as libxl puts them
 * after its own, so that they can override kxl's. */
void dm_fam_extra(struct dm *m)
{
	static const char *const lists[] = { "extra", "extra_hvm" };
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_object *a = dm_get(m->b, lists[l]);
		for (size_t i = 0; a && i < json_object_array_length(a); i++)
			dm_add(m, json_object_get_string(json_object_array_get_idx(a, i)));
	}
}

/* Whether the extra arguments ask for the q35 machine (xl has no key). */
static bool wants_q35(json_object *b)
{
	static const char *const lists[] = { "extra", "extra_hvm" };
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		json_object *a = dm_get(b, lists[l]);
		size_t n = a ? json_object_array_length(a) : 0;
		for (size_t i = 0; i + 1 < n; i++) {
			const char *o = json_object_get_string(json_object_array_get_idx(a, i));
			const char *v = json_object_get_string(json_object_array_get_idx(a, i + 1));
			if (o && v && (!strcmp(o, "-machine") || !strcmp(o, "-M")) &&
			    (!strncmp(v, "q35", 3) || !strncmp(v, "type=q35", 8) || strstr(v, "pc-q35")))
				return true;
		}
	}
	return false;
}

/* The families, in argv order. */
static const struct dm_family families[] = {
	{ "name, QEMU's fixed options, QMP, pvpanic", dm_fam_always },
	{ "machine: hpet, mmio_hole", dm_fam_machine },
	{ "cpu: viridian, nestedhvm, nx, pae", dm_fam_cpu },
	{ "memory, maxmem, videoram, vcpus, maxvcpus", dm_fam_memory },
	{ "acpi, acpi_s3, acpi_s4", dm_fam_acpi },
	{ "localtime, rtc_timeoffset, timer_mode", dm_fam_clock },
	{ "bios, firmware, bios_path_override, firmware_override", dm_fam_firmware },
	{ "kernel, ramdisk, cmdline", dm_fam_direct_boot },
	{ "smbios_firmware, acpi_firmware", dm_fam_tables },
	{ "vnc*, sdl, keymap, nographic, spice*", dm_fam_display },
	{ "vga, stdvga, videoram", dm_fam_vga },
	{ "serial", dm_fam_serial },
	{ "usb, usbdevice, usbversion", dm_fam_usb },
	{ "soundhw", dm_fam_sound },
	{ "ms_vm_genid", dm_fam_genid },
	{ "pci", dm_fam_pci },
	{ "boot", dm_fam_boot_order },
	{ "disk, hdtype", dm_fam_disks },
	{ "vif", dm_fam_nics },
	{ "keys with no meaning on KVM", dm_fam_no_kvm },
	{ "device_model_user, dm_restrict", dm_fam_restrict },
	{ "device_model_args, device_model_args_hvm", dm_fam_extra },
};

int kxl_dm_args(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
		const struct kxl_dm_opts *o, struct kxl_dm_argv *out, struct kxl_diag *d)
{
	memset(out, 0, sizeof(*out));
	if (dom->type != KXL_TYPE_HVM)
		return kxl_err(d, "the device model runs type = \"hvm\" domains only");
	/* libxl's defaults, filled into a copy: the model itself stays xl's */
	struct kxl_domain copy = { 0 };
	if (json_object_deep_copy(dom->config, &copy.config, NULL) || !copy.config)
		return kxl_err(d, "cannot copy the domain config");
	kxl_domain_view(&copy);
	kxl_domain_fill_defaults(&copy);
	struct dm m = {
		.dom = &copy, .cfg = cfg, .o = o, .root = copy.config, .a = out, .d = d,
	};
	m.c = dm_get(m.root, "c_info");
	m.b = dm_get(m.root, "b_info");
	m.h = dm_get(m.b, "type.hvm");
	m.oc = dm_get(dom->config, "c_info");
	m.ob = dm_get(dom->config, "b_info");
	m.oh = dm_get(m.ob, "type.hvm");
	m.q35 = wants_q35(m.b);
	dm_add(&m, o->qemu ? o->qemu : QEMU_DEFAULT);
	for (size_t i = 0; i < ARRAY_SIZE(families); i++)
		families[i].fn(&m);
	kxl_domain_free(&copy);
	if (m.failed) {
		kxl_dm_argv_free(out);
		return -1;
	}
	return 0;
}

bool kxl_dm_uses_ovmf(const struct kxl_domain *dom)
{
	json_object *h = dm_get(dm_get(dom->config, "b_info"), "type.hvm");
	const char *bios = dm_gets(h, "bios");
	return dom->type == KXL_TYPE_HVM && bios && !strcmp(bios, "ovmf") &&
	       !dm_gets(h, "system_firmware");
}
