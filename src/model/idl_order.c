/*
 * idl_order.c: libxl's IDL (tools/libs/light/libxl_types.idl) as a table of
 * the structs a domain config holds, each with its fields in IDL order, and
 * the printer that walks a config along it, so that `kxl create -n' prints
 * byte for byte what `xl -N create' does (readers compare structure, but
 * people compare text). Fields not listed (kxl's own, such as
 * b_info.modules) follow in the order they were set.
 */
#include "model/keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/*
 * The structs of libxl_types.idl that a domain config holds, with their
 * fields in IDL order and, for a field that is itself a struct (or an array
 * of structs), that struct. A keyed union's members are fields named as
 * libxl prints them ("type.hvm", "connection.socket"). Fields newer than
 * 4.17 are listed too: a field never set is never printed, so they cost
 * nothing and keep the order right for configs that name them.
 */
struct idl_field {
	const char *name;
	const struct idl_struct *type;	/* object or array-element struct; NULL: a leaf */
};
struct idl_struct {
	const char *name;
	const struct idl_field *fields;	/* terminated by a NULL name */
};

#define LEAVES(...) (const struct idl_field[]){ __VA_ARGS__, { NULL, NULL } }
#define F(n) { n, NULL }
#define S(n, t) { n, &t }

static const struct idl_struct vnc_info = { "vnc_info", LEAVES(F("enable"), F("listen"), F("passwd"),
	F("display"), F("findunused")) };
static const struct idl_struct sdl_info = { "sdl_info", LEAVES(F("enable"), F("opengl"), F("display"),
	F("xauthority")) };
static const struct idl_struct spice_info = { "spice_info", LEAVES(F("enable"), F("port"),
	F("tls_port"), F("host"), F("disable_ticketing"), F("passwd"), F("agent_mouse"), F("vdagent"),
	F("clipboard_sharing"), F("usbredirection"), F("image_compression"), F("streaming_video")) };
static const struct idl_struct vga_info = { "vga_interface_info", LEAVES(F("kind")) };
static const struct idl_struct rdm_reserve = { "rdm_reserve", LEAVES(F("strategy"), F("policy")) };
static const struct idl_struct smbios = { "smbios", LEAVES(F("key"), F("value")) };
static const struct idl_struct ioport_range = { "ioport_range", LEAVES(F("first"), F("number")) };
static const struct idl_struct iomem_range = { "iomem_range", LEAVES(F("start"), F("number"), F("gfn")) };
static const struct idl_struct vnode_info = { "vnode_info", LEAVES(F("memkb"), F("distances"),
	F("pnode"), F("vcpus")) };
/* libxl_cpuid_policy_list's own JSON form: {"cpuid": [one object per
 * leaf], "msr": [...]} */
static const struct idl_struct cpuid_leaf = { "cpuid_policy.leaf", LEAVES(F("leaf"), F("subleaf"),
	F("eax"), F("ebx"), F("ecx"), F("edx")) };
static const struct idl_struct cpuid_policy = { "cpuid_policy_list", LEAVES(S("cpuid", cpuid_leaf),
	F("msr")) };
static const struct idl_struct sched_params = { "domain_sched_params", LEAVES(F("sched"),
	F("weight"), F("cap"), F("period"), F("budget"), F("extratime"), F("slice"), F("latency")) };

static const struct idl_struct create_info = { "domain_create_info", LEAVES(F("type"), F("hap"),
	F("oos"), F("ssidref"), F("ssid_label"), F("name"), F("domid"), F("uuid"), F("xsdata"),
	F("platformdata"), F("poolid"), F("pool_name"), F("run_hotplug_scripts"), F("driver_domain"),
	F("passthrough"), F("xend_suspend_evtchn_compat")) };

static const struct idl_struct build_hvm = { "domain_build_info.u.hvm", LEAVES(F("firmware"),
	F("bios"), F("pae"), F("apic"), F("acpi"), F("acpi_s3"), F("acpi_s4"), F("acpi_laptop_slate"),
	F("nx"), F("viridian"), F("viridian_enable"), F("viridian_disable"), F("timeoffset"), F("hpet"),
	F("vpt_align"), F("mmio_hole_memkb"), F("timer_mode"), F("nested_hvm"), F("altp2m"),
	F("system_firmware"), F("smbios_firmware"), S("smbios", smbios), F("acpi_firmware"),
	F("hdtype"), F("nographic"), S("vga", vga_info), S("vnc", vnc_info), F("keymap"),
	S("sdl", sdl_info), S("spice", spice_info), F("gfx_passthru"), F("gfx_passthru_kind"),
	F("serial"), F("boot"), F("usb"), F("usbversion"), F("usbdevice"), F("vkb_device"),
	F("soundhw"), F("xen_platform_pci"), F("usbdevice_list"), F("vendor_device"),
	F("ms_vm_genid"), F("serial_list"), S("rdm", rdm_reserve), F("rdm_mem_boundary_memkb"),
	F("mca_caps"), F("pirq")) };
static const struct idl_struct build_pv = { "domain_build_info.u.pv", LEAVES(F("kernel"),
	F("slack_memkb"), F("bootloader"), F("bootloader_args"), F("cmdline"), F("ramdisk"),
	F("features"), F("e820_host")) };
static const struct idl_struct build_pvh = { "domain_build_info.u.pvh", LEAVES(F("pvshim"),
	F("pvshim_path"), F("pvshim_cmdline"), F("pvshim_extra")) };
static const struct idl_struct arch_arm = { "domain_build_info.arch_arm", LEAVES(F("gic_version"),
	F("vuart"), F("sve_vl")) };
static const struct idl_struct arch_x86 = { "domain_build_info.arch_x86", LEAVES(F("msr_relaxed")) };

static const struct idl_struct build_info = { "domain_build_info", LEAVES(F("max_vcpus"),
	F("avail_vcpus"), F("cpumap"), F("nodemap"), F("vcpu_hard_affinity"), F("vcpu_soft_affinity"),
	F("numa_placement"), F("tsc_mode"), F("max_memkb"), F("target_memkb"), F("video_memkb"),
	F("shadow_memkb"), F("iommu_memkb"), F("rtc_timeoffset"), F("exec_ssidref"),
	F("exec_ssid_label"), F("localtime"), F("disable_migrate"), S("cpuid", cpuid_policy),
	F("blkdev_start"), S("vnuma_nodes", vnode_info), F("max_grant_frames"),
	F("max_maptrack_frames"), F("max_grant_version"), F("device_model_version"),
	F("device_model_stubdomain"), F("stubdomain_memkb"), F("stubdomain_kernel"),
	F("stubdomain_cmdline"), F("stubdomain_ramdisk"), F("device_model"),
	F("device_model_ssidref"), F("device_model_ssid_label"), F("device_model_user"), F("extra"),
	F("extra_pv"), F("extra_hvm"), S("sched_params", sched_params), S("ioports", ioport_range),
	F("irqs"), S("iomem", iomem_range), F("claim_mode"), F("event_channels"), F("kernel"),
	F("cmdline"), F("ramdisk"), F("device_tree"), F("acpi"), F("bootloader"),
	F("bootloader_args"), F("bootloader_restrict"), F("bootloader_user"), F("timer_mode"),
	F("nested_hvm"), F("apic"), F("dm_restrict"), F("tee"), S("type.hvm", build_hvm),
	S("type.pv", build_pv), S("type.pvh", build_pvh), S("arch_arm", arch_arm),
	S("arch_x86", arch_x86), F("altp2m"), F("vmtrace_buf_kb"), F("vpmu")) };

#define BACKEND F("backend_domid"), F("backend_domname")
static const struct idl_struct device_disk = { "device_disk", LEAVES(BACKEND, F("pdev_path"),
	F("vdev"), F("backend"), F("format"), F("script"), F("removable"), F("readwrite"),
	F("is_cdrom"), F("direct_io_safe"), F("discard_enable"), F("specification"), F("transport"),
	F("irq"), F("base"), F("colo_enable"), F("colo_restore_enable"), F("colo_host"),
	F("colo_port"), F("colo_export"), F("active_disk"), F("hidden_disk"), F("trusted")) };
#define COLO_SOCK(n) F("colo_sock_" n "_id"), F("colo_sock_" n "_ip"), F("colo_sock_" n "_port")
#define COLO_FILTER(n) F("colo_filter_" n "_queue"), F("colo_filter_" n "_indev"), \
	F("colo_filter_" n "_outdev")
static const struct idl_struct device_nic = { "device_nic", LEAVES(BACKEND, F("devid"), F("mtu"),
	F("model"), F("mac"), F("ip"), F("bridge"), F("ifname"), F("script"), F("nictype"),
	F("rate_bytes_per_interval"), F("rate_interval_usecs"), F("gatewaydev"),
	F("coloft_forwarddev"), COLO_SOCK("mirror"), COLO_SOCK("compare_pri_in"),
	COLO_SOCK("compare_sec_in"), COLO_SOCK("compare_notify"), COLO_SOCK("redirector0"),
	COLO_SOCK("redirector1"), COLO_SOCK("redirector2"), F("colo_filter_mirror_queue"),
	F("colo_filter_mirror_outdev"), COLO_FILTER("redirector0"), COLO_FILTER("redirector1"),
	F("colo_compare_pri_in"), F("colo_compare_sec_in"), F("colo_compare_out"),
	F("colo_compare_notify_dev"), COLO_SOCK("sec_redirector0"), COLO_SOCK("sec_redirector1"),
	COLO_FILTER("sec_redirector0"), COLO_FILTER("sec_redirector1"),
	F("colo_filter_sec_rewriter0_queue"), F("colo_checkpoint_host"),
	F("colo_checkpoint_port"), F("trusted")) };
static const struct idl_struct device_pci = { "device_pci", LEAVES(F("func"), F("dev"), F("bus"),
	F("domain"), F("vdevfn"), F("vfunc_mask"), F("msitranslate"), F("power_mgmt"),
	F("permissive"), F("seize"), F("rdm_policy"), F("name")) };
static const struct idl_struct device_rdm = { "device_rdm", LEAVES(F("start"), F("size"),
	F("policy")) };
static const struct idl_struct device_dtdev = { "device_dtdev", LEAVES(F("path")) };
static const struct idl_struct device_vfb = { "device_vfb", LEAVES(BACKEND, F("devid"),
	S("vnc", vnc_info), S("sdl", sdl_info), F("keymap")) };
static const struct idl_struct device_vkb = { "device_vkb", LEAVES(BACKEND, F("devid"),
	F("backend_type"), F("unique_id"), F("feature_disable_keyboard"),
	F("feature_disable_pointer"), F("feature_abs_pointer"), F("feature_raw_pointer"),
	F("feature_multi_touch"), F("width"), F("height"), F("multi_touch_width"),
	F("multi_touch_height"), F("multi_touch_num_contacts")) };
static const struct idl_struct device_virtio = { "device_virtio", LEAVES(BACKEND, F("type"),
	F("transport"), F("grant_usage"), F("devid"), F("irq"), F("base")) };
static const struct idl_struct device_vtpm = { "device_vtpm", LEAVES(BACKEND, F("devid"),
	F("uuid")) };
static const struct idl_struct device_p9 = { "device_p9", LEAVES(BACKEND, F("tag"), F("path"),
	F("security_model"), F("devid")) };
static const struct idl_struct device_pvcallsif = { "device_pvcallsif", LEAVES(BACKEND,
	F("devid")) };
static const struct idl_struct connector_param = { "connector_param", LEAVES(F("unique_id"),
	F("width"), F("height")) };
static const struct idl_struct device_vdispl = { "device_vdispl", LEAVES(BACKEND, F("devid"),
	F("be_alloc"), S("connectors", connector_param)) };
static const struct idl_struct vsnd_params = { "vsnd_params", LEAVES(F("sample_rates"),
	F("sample_formats"), F("channels_min"), F("channels_max"), F("buffer_size")) };
static const struct idl_struct vsnd_stream = { "vsnd_stream", LEAVES(F("unique_id"), F("type"),
	S("params", vsnd_params)) };
static const struct idl_struct vsnd_pcm = { "vsnd_pcm", LEAVES(F("name"), S("params", vsnd_params),
	S("streams", vsnd_stream)) };
static const struct idl_struct device_vsnd = { "device_vsnd", LEAVES(BACKEND, F("devid"),
	F("short_name"), F("long_name"), S("params", vsnd_params), S("pcms", vsnd_pcm)) };
static const struct idl_struct socket_path = { "device_channel.u.socket", LEAVES(F("path")) };
static const struct idl_struct device_channel = { "device_channel", LEAVES(BACKEND, F("devid"),
	F("name"), F("connection.unknown"), F("connection.pty"),
	S("connection.socket", socket_path)) };
static const struct idl_struct device_usbctrl = { "device_usbctrl", LEAVES(F("type"), F("devid"),
	F("version"), F("ports"), BACKEND) };
static const struct idl_struct usbdev_hostdev = { "device_usbdev.u.hostdev", LEAVES(F("hostbus"),
	F("hostaddr")) };
static const struct idl_struct device_usbdev = { "device_usbdev", LEAVES(F("ctrl"), F("port"),
	S("type.hostdev", usbdev_hostdev)) };

static const struct idl_struct domain_config = { "domain_config", LEAVES(S("c_info", create_info),
	S("b_info", build_info), S("disks", device_disk), S("nics", device_nic),
	S("pcidevs", device_pci), S("rdms", device_rdm), S("dtdevs", device_dtdev),
	S("vfbs", device_vfb), S("vkbs", device_vkb), S("virtios", device_virtio),
	S("vtpms", device_vtpm), S("p9s", device_p9), S("pvcallsifs", device_pvcallsif),
	S("vdispls", device_vdispl), S("vsnds", device_vsnd), S("channels", device_channel),
	S("usbctrls", device_usbctrl), S("usbdevs", device_usbdev), F("on_poweroff"),
	F("on_reboot"), F("on_watchdog"), F("on_crash"), F("on_soft_reset")) };

static const struct idl_field *field_of(const struct idl_struct *st, const char *key)
{
	for (const struct idl_field *f = st ? st->fields : NULL; f && f->name; f++)
		if (!strcmp(f->name, key))
			return f;
	return NULL;
}

/* The struct named sname, found from st down (the table is a tree). */
static const struct idl_struct *find_struct(const struct idl_struct *st, const char *sname, int depth)
{
	if (!strcmp(st->name, sname)) return st;
	for (const struct idl_field *f = st->fields; depth < 8 && f->name; f++) {
		const struct idl_struct *r = f->type ? find_struct(f->type, sname, depth + 1) : NULL;
		if (r) return r;
	}
	return NULL;
}

/* Every member of v (of struct st) that the IDL table does not list, as
 * "path.field" lines into b; kxl's own b_info.modules is expected. */
static size_t unknown_fields(json_object *v, const struct idl_struct *st, const char *path, struct sbuf *b)
{
	size_t n = 0;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += unknown_fields(json_object_array_get_idx(v, i), st, path, b);
		return n;
	}
	if (!json_object_is_type(v, json_type_object) || !st)
		return 0;
	json_object_object_foreach(v, k, val) {
		const struct idl_field *f = field_of(st, k);
		if (!f) {
			if (!strcmp(st->name, "domain_build_info") && !strcmp(k, "modules")) continue;
			sbuf_printf(b, "%s.%s\n", path, k);
			n++;
			continue;
		}
		if (f->type) {
			char *sub = xasprintf("%s.%s", path, k);
			n += unknown_fields(val, f->type, sub, b);
			free(sub);
		}
	}
	return n;
}

size_t m_idl_unknown(json_object *root, char **report)
{
	struct sbuf b = { 0 };
	size_t n = unknown_fields(root, &domain_config, "", &b);
	*report = b.s ? sbuf_steal(&b) : NULL;
	return n;
}

bool m_idl_has(const char *sname, const char *field)
{
	const struct idl_struct *st = find_struct(&domain_config, sname, 0);
	return st && field_of(st, field);
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

static void print_value(struct sbuf *b, json_object *v, int depth, const struct idl_struct *st);

/* A string as json-c escaped it, with yajl's spelling of a \uXXXX escape
 * (upper-case hex digits, as libxl's yajl prints control characters). */
static void add_yajl_string(struct sbuf *b, const char *esc)
{
	size_t n = strlen(esc);
	char *t = xstrdup(esc);
	for (size_t i = 0; i + 1 < n; i++) {
		if (t[i] != '\\')
			continue;
		if (t[i + 1] == 'u')
			for (size_t j = i + 2; j < i + 6 && j < n; j++)
				if (t[j] >= 'a' && t[j] <= 'f')
					t[j] = (char)(t[j] - 'a' + 'A');
		i++;	/* the escaped character is not an escape itself */
	}
	sbuf_add(b, t, n);
	free(t);
}

static void print_member(struct sbuf *b, const char *k, json_object *v, int depth, bool *first,
			 const struct idl_struct *st)
{
	if (!*first) sbuf_adds(b, ",\n");
	*first = false;
	indent(b, 4 * (depth + 1));
	json_object *ks = json_object_new_string(k);
	sbuf_adds(b, json_object_to_json_string_ext(ks, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(ks);
	sbuf_adds(b, ": ");
	const struct idl_field *f = field_of(st, k);
	print_value(b, v, depth + 1, f ? f->type : NULL);
}

/* yajl's pretty form, as libxl prints it: 4 spaces, the fields of struct st
 * (an object, or the elements of an array) in IDL order; fields the table
 * does not list (kxl's own, such as b_info.modules) follow in the order
 * they were set. */
static void print_value(struct sbuf *b, json_object *v, int depth, const struct idl_struct *st)
{
	if (json_object_is_type(v, json_type_object)) {
		if (!json_object_object_length(v)) { sbuf_adds(b, "{}"); return; }
		bool first = true;
		sbuf_adds(b, "{\n");
		json_object *m;
		for (const struct idl_field *f = st ? st->fields : NULL; f && f->name; f++)
			if (json_object_object_get_ex(v, f->name, &m)) print_member(b, f->name, m, depth, &first, st);
		json_object_object_foreach(v, k, val)
			if (!field_of(st, k)) print_member(b, k, val, depth, &first, st);
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
			/* an array's elements are of the array field's struct */
			print_value(b, json_object_array_get_idx(v, i), depth + 1, st);
		}
		sbuf_adds(b, "\n");
		indent(b, 4 * depth);
		sbuf_adds(b, "]");
	} else if (!v) {
		sbuf_adds(b, "null");
	} else if (json_object_is_type(v, json_type_string)) {
		add_yajl_string(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		sbuf_adds(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}

char *m_json_text(json_object *root)
{
	struct sbuf b = { 0 };
	print_value(&b, root, 0, &domain_config);
	sbuf_adds(&b, "\n");
	return sbuf_steal(&b);
}
