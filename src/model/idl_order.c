/*
 * idl_order.c: libxl's IDL field order for the structs kxl prints, so that
 * `kxl create -n' lists fields in the order `xl -N create' does (readers
 * compare structure, but people compare text). Fields not listed (kxl's own,
 * such as b_info.modules) follow in the order they were set.
 */
#include "model/mctx.h"

#include <stdbool.h>
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

/* Is key one of the listed fields? */
static bool listed(const char *const *order, const char *key)
{
	for (; order && *order; order++)
		if (!strcmp(*order, key)) return true;
	return false;
}

static void indent(struct sbuf *b, int n)
{
	static const char spaces[] = "                                                                ";
	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;
		sbuf_add(b, spaces, (size_t)k);
		n -= k;
	}
}

/* The order for the members of an object found at key under parent_key;
 * key "" is the root, key NULL an element of the array parent_key. */
static const char *const *order_for(const char *parent_key, const char *key)
{
	if (key) {
		if (!key[0]) return config_order;
		if (!strcmp(key, "c_info")) return c_info_order;
		if (!strcmp(key, "b_info")) return b_info_order;
		if (!strcmp(key, "type.hvm")) return hvm_order;
		if (!strcmp(key, "type.pv")) return pv_order;
		if (!strcmp(key, "type.pvh")) return pvh_order;
		return NULL;
	}
	if (parent_key && !strcmp(parent_key, "cpuid")) {
		static const char *const cpuid_order[] = { "leaf", "subleaf", "eax", "ebx", "ecx", "edx", NULL };
		return cpuid_order;
	}
	for (size_t i = 0; parent_key && i < ARRAY_SIZE(device_orders); i++)
		if (!strcmp(parent_key, device_orders[i].array)) return device_orders[i].order;
	return NULL;
}

static void print_value(struct sbuf *b, json_object *v, int depth, const char *parent_key, const char *key);

static void print_member(struct sbuf *b, const char *k, json_object *v, int depth, bool *first,
			 const char *key)
{
	if (!*first) sbuf_adds(b, ",\n");
	*first = false;
	indent(b, 4 * (depth + 1));
	json_object *ks = json_object_new_string(k);
	sbuf_adds(b, json_object_to_json_string_ext(ks, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(ks);
	sbuf_adds(b, ": ");
	print_value(b, v, depth + 1, key, k);
}

/* yajl's pretty form, as libxl prints it: 4 spaces, fields in IDL order. */
static void print_value(struct sbuf *b, json_object *v, int depth, const char *parent_key, const char *key)
{
	if (json_object_is_type(v, json_type_object)) {
		if (!json_object_object_length(v)) { sbuf_adds(b, "{}"); return; }
		const char *const *order = order_for(parent_key, key);
		bool first = true;
		sbuf_adds(b, "{\n");
		json_object *m;
		for (const char *const *f = order; f && *f; f++)
			if (json_object_object_get_ex(v, *f, &m)) print_member(b, *f, m, depth, &first, key);
		json_object_object_foreach(v, k, val)
			if (!listed(order, k)) print_member(b, k, val, depth, &first, key);
		sbuf_adds(b, "\n");
		indent(b, 4 * depth);
		sbuf_adds(b, "}");
	} else if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		if (!n) { sbuf_adds(b, "[]"); return; }
		sbuf_adds(b, "[\n");
		for (size_t i = 0; i < n; i++) {
			if (i) sbuf_adds(b, ",\n");
			indent(b, 4 * (depth + 1));
			/* an array's elements take their order from the array's key */
			print_value(b, json_object_array_get_idx(v, i), depth + 1, key, NULL);
		}
		sbuf_adds(b, "\n");
		indent(b, 4 * depth);
		sbuf_adds(b, "]");
	} else if (!v) {
		sbuf_adds(b, "null");
	} else {
		sbuf_adds(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}

char *m_json_text(json_object *root)
{
	struct sbuf b = { 0 };
	print_value(&b, root, 0, NULL, "");
	sbuf_adds(&b, "\n");
	return sbuf_steal(&b);
}
