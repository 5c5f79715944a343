/*
 * idl_order.c: libxl's IDL field order for the structs kxl prints, so that
 * `kxl create -n' lists fields in the order `xl -N create' does (readers
 * compare structure, but people compare text). Fields not listed (kxl's own,
 * such as b_info.modules) follow in the order they were set.
 */
#include "model/mctx.h"

#include <string.h>

#include "util/util.h"

static const char *const config_order[] = { "c_info", "b_info", "disks", "nics", "pcidevs",
	"rdms", "dtdevs", "vfbs", "vkbs", "vtpms", "p9s", "pvcallsifs", "vdispls", "vsnds",
	"channels", "usbctrls", "usbdevs", "on_poweroff", "on_reboot", "on_watchdog", "on_crash",
	"on_soft_reset", NULL };
static const char *const c_info_order[] = { "type", "hap", "oos", "ssidref", "ssid_label", "name",
	"domid", "uuid", "xsdata", "platformdata", "poolid", "pool_name", "run_hotplug_scripts",
	"driver_domain", "passthrough", "xend_suspend_evtchn_compat", NULL };
static const char *const b_info_order[] = { "max_vcpus", "avail_vcpus", "cpumap", "nodemap",
	"vcpu_hard_affinity", "vcpu_soft_affinity", "numa_placement", "tsc_mode", "max_memkb",
	"target_memkb", "video_memkb", "shadow_memkb", "iommu_memkb", "rtc_timeoffset",
	"exec_ssidref", "exec_ssid_label", "localtime", "disable_migrate", "cpuid", "blkdev_start",
	"vnuma_nodes", "max_grant_frames", "max_maptrack_frames", "max_grant_version",
	"device_model_version", "device_model_stubdomain", "stubdomain_memkb", "stubdomain_kernel",
	"stubdomain_cmdline", "stubdomain_ramdisk", "device_model", "device_model_ssidref",
	"device_model_ssid_label", "device_model_user", "extra", "extra_pv", "extra_hvm",
	"sched_params", "ioports", "irqs", "iomem", "claim_mode", "event_channels", "kernel",
	"cmdline", "ramdisk", "device_tree", "acpi", "bootloader", "bootloader_args", "timer_mode",
	"nested_hvm", "apic", "dm_restrict", "tee", "type.hvm", "type.pv", "type.pvh", "arch_arm",
	"arch_x86", "altp2m", "vmtrace_buf_kb", "vpmu", NULL };
static const char *const hvm_order[] = { "firmware", "bios", "pae", "apic", "acpi", "acpi_s3",
	"acpi_s4", "acpi_laptop_slate", "nx", "viridian", "viridian_enable", "viridian_disable",
	"timeoffset", "hpet", "vpt_align", "mmio_hole_memkb", "timer_mode", "nested_hvm", "altp2m",
	"system_firmware", "smbios_firmware", "acpi_firmware", "hdtype", "nographic", "vga", "vnc",
	"keymap", "sdl", "spice", "gfx_passthru", "gfx_passthru_kind", "serial", "boot", "usb",
	"usbversion", "usbdevice", "vkb_device", "soundhw", "xen_platform_pci", "usbdevice_list",
	"vendor_device", "ms_vm_genid", "serial_list", "rdm", "rdm_mem_boundary_memkb", "mca_caps", NULL };
static const char *const pv_order[] = { "kernel", "slack_memkb", "bootloader", "bootloader_args",
	"cmdline", "ramdisk", "features", "e820_host", NULL };
static const char *const pvh_order[] = { "pvshim", "pvshim_path", "pvshim_cmdline", "pvshim_extra", NULL };

/* The devices whose fields are not set in IDL order by their parsers. */
static const struct { const char *array; const char *const *order; } device_orders[] = {
	{ "pcidevs", (const char *const[]){ "func", "dev", "bus", "domain", "vdevfn", "vfunc_mask",
		"msitranslate", "power_mgmt", "permissive", "seize", "rdm_policy", "name", NULL } },
	{ "vfbs", (const char *const[]){ "backend_domid", "backend_domname", "devid", "vnc", "sdl", "keymap", NULL } },
	{ "vtpms", (const char *const[]){ "backend_domid", "backend_domname", "devid", "uuid", NULL } },
	{ "p9s", (const char *const[]){ "backend_domid", "backend_domname", "tag", "path", "security_model",
		"devid", NULL } },
	{ "channels", (const char *const[]){ "backend_domid", "backend_domname", "devid", "name",
		"connection.pty", "connection.socket", NULL } },
	{ "usbctrls", (const char *const[]){ "type", "devid", "version", "ports", "backend_domid",
		"backend_domname", NULL } },
	{ "usbdevs", (const char *const[]){ "ctrl", "port", "type.hostdev", NULL } },
};

/* Rebuilds o with its keys in the given order (the values are moved). */
static void reorder(json_object *o, const char *const *order)
{
	if (!o || !json_object_is_type(o, json_type_object)) return;
	json_object *tmp = json_object_new_object();
	/* move every member into tmp, keeping json-c's order */
	struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		json_object_object_add(tmp, json_object_iter_peek_name(&it),
				       json_object_get(json_object_iter_peek_value(&it)));
	/* empty o (names first: deleting while iterating is not allowed) */
	size_t n = (size_t)json_object_object_length(o), k = 0;
	char **names = xcalloc(n + 1, sizeof(*names));
	it = json_object_iter_begin(o);
	for (; !json_object_iter_equal(&it, &end) && k < n; json_object_iter_next(&it))
		names[k++] = xstrdup(json_object_iter_peek_name(&it));
	for (size_t i = 0; i < k; i++) json_object_object_del(o, names[i]);
	/* put them back: listed fields in IDL order, then the rest */
	json_object *v;
	for (const char *const *f = order; *f; f++)
		if (json_object_object_get_ex(tmp, *f, &v)) {
			json_object_object_add(o, *f, json_object_get(v));
			json_object_object_del(tmp, *f);
		}
	it = json_object_iter_begin(tmp);
	struct json_object_iterator tend = json_object_iter_end(tmp);
	for (; !json_object_iter_equal(&it, &tend); json_object_iter_next(&it))
		json_object_object_add(o, json_object_iter_peek_name(&it),
				       json_object_get(json_object_iter_peek_value(&it)));
	json_object_put(tmp);
	for (size_t i = 0; i < k; i++) free(names[i]);
	free(names);
}

void m_idl_order(json_object *root)
{
	json_object *c, *b, *u, *a;
	reorder(root, config_order);
	for (size_t i = 0; i < ARRAY_SIZE(device_orders); i++)
		if (json_object_object_get_ex(root, device_orders[i].array, &a))
			for (size_t k = 0; k < json_object_array_length(a); k++)
				reorder(json_object_array_get_idx(a, k), device_orders[i].order);
	if (json_object_object_get_ex(root, "c_info", &c)) reorder(c, c_info_order);
	if (json_object_object_get_ex(root, "b_info", &b)) {
		reorder(b, b_info_order);
		if (json_object_object_get_ex(b, "type.hvm", &u)) reorder(u, hvm_order);
		if (json_object_object_get_ex(b, "type.pv", &u)) reorder(u, pv_order);
		if (json_object_object_get_ex(b, "type.pvh", &u)) reorder(u, pvh_order);
		static const char *const cpuid_order[] = { "leaf", "subleaf", "eax", "ebx", "ecx", "edx", NULL };
		json_object *pol, *list;
		if (json_object_object_get_ex(b, "cpuid", &pol) && json_object_object_get_ex(pol, "cpuid", &list))
			for (size_t k = 0; k < json_object_array_length(list); k++)
				reorder(json_object_array_get_idx(list, k), cpuid_order);
	}
}
