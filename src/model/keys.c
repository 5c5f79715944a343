/*
 * keys.c: the one declarative table of xl.cfg keys, and the walk over it
 * that builds the model.
 *
 * Each row gives a key's name, its kind, where it lands in libxl's domain
 * config, the domain types it applies to, its handler when it means more
 * than "store the value", its default, what deprecates it and its doc line.
 * The rows are in the order xl's parse_config_data() reads the keys, so
 * warnings come out in xl's order. The same table generates the key
 * reference of kxl.cfg(5) (`kxl keys --man'), the deprecation list, and the
 * "did you mean" hint for unknown keys.
 */
#include "model/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

enum kind { K_STRING, K_LONG, K_LONG0, K_U32, K_MIB, K_DEFBOOL, K_CUSTOM, K_GROUP };

/* Where a simple key lands: the object, then the field. */
enum dest { D_NONE, D_CINFO, D_BINFO, D_TYPE, D_SCHED };

struct key {
	const char *name;
	enum kind kind;
	enum dest dest;
	const char *field;
	unsigned types;
	key_handler fn;
	const char *deflt;
	const char *deprecated;
	const char *doc;
};

#define STR(n, d, f, t, doc)  { n, K_STRING, d, f, t, NULL, "unset", NULL, doc }
#define LNG(n, d, f, t, doc)  { n, K_LONG, d, f, t, NULL, "unset", NULL, doc }
#define LNG0(n, d, f, t, doc) { n, K_LONG0, d, f, t, NULL, "0", NULL, doc }
#define U32(n, d, f, t, doc) { n, K_U32, d, f, t, NULL, "0", NULL, doc }
#define MIB(n, d, f, t, doc)  { n, K_MIB, d, f, t, NULL, "unset", NULL, doc }
#define BOOL(n, d, f, t, doc) { n, K_DEFBOOL, d, f, t, NULL, "libxl default", NULL, doc }
#define FN(n, fn, t, dflt, doc) { n, K_CUSTOM, D_NONE, NULL, t, fn, dflt, NULL, doc }
#define GRP(n, t, doc)        { n, K_GROUP, D_NONE, NULL, t, NULL, "unset", NULL, doc }
#define DEP(n, fn, t, by, doc) { n, K_CUSTOM, D_NONE, NULL, t, fn, "unset", by, doc }

static const struct key keys[] = {
	FN("init_seclabel", h_seclabel, T_ALL, "unset", "XSM security label of the domain at creation"),
	GRP("seclabel", T_ALL, "XSM security label (after build when init_seclabel is set)"),
	FN("type", h_type, T_ALL, "pv", "Domain type: pv, pvh or hvm (a prefix is enough, as in xl)"),
	DEP("builder", NULL, T_ALL, "type", "Old name of the domain type: hvm or generic (= pv)"),
	BOOL("hap", D_CINFO, "hap", T_ALL, "Use hardware-assisted paging"),
	FN("name", h_name, T_ALL, "required", "Domain name"),
	FN("uuid", h_uuid, T_ALL, "random", "Domain UUID"),
	BOOL("oos", D_CINFO, "oos", T_ALL, "Out-of-sync shadow page tables"),
	STR("pool", D_CINFO, "pool_name", T_ALL, "CPU pool to create the domain in"),
	BOOL("pvshim", D_TYPE, "pvshim", T_PVH, "Run a PV kernel inside a PVH shim (needs Xen; refused by kxl at create)"),
	FN("pvshim_path", h_pvshim_path, T_PVH, "Xen's shim", "Path of the PV shim (resolved against the cfg directory)"),
	STR("pvshim_cmdline", D_TYPE, "pvshim_cmdline", T_PVH, "Command line of the PV shim"),
	STR("pvshim_extra", D_TYPE, "pvshim_extra", T_PVH, "Extra command line of the PV shim"),
	LNG("cpu_weight", D_SCHED, "weight", T_ALL, "Scheduler weight"),
	LNG("cap", D_SCHED, "cap", T_ALL, "Scheduler cap (percent of one CPU)"),
	LNG("period", D_SCHED, "period", T_ALL, "Scheduler period"),
	LNG("slice", D_SCHED, "slice", T_ALL, "Scheduler slice"),
	LNG("latency", D_SCHED, "latency", T_ALL, "Scheduler latency"),
	LNG("extratime", D_SCHED, "extratime", T_ALL, "Scheduler extratime"),
	MIB("memory", D_BINFO, "target_memkb", T_ALL, "Memory at boot, in MiB (libxl default: 32)"),
	MIB("maxmem", D_BINFO, "max_memkb", T_ALL, "Maximum memory, in MiB (default: memory)"),
	FN("vcpus", h_vcpus, T_ALL, "1", "Virtual CPUs online at boot"),
	GRP("maxvcpus", T_ALL, "Maximum virtual CPUs (default: vcpus)"),
	FN("vuart", h_enum, T_ALL, "unset", "Arm virtual UART (sbsa_uart)"),
	FN("vnuma", h_vnuma, T_ALL, "unset", "Virtual NUMA nodes: a list of [\"pnode=N\", \"size=MiB\", \"vcpus=R\", \"vdistances=D,...\"]"),
	FN("", h_mem_defaults, T_ALL, NULL, NULL),
	FN("cpus", h_cpus, T_ALL, "all", "Hard vCPU affinity: a CPU range string, or a list with one per vCPU"),
	FN("cpus_soft", h_cpus, T_ALL, "all", "Soft vCPU affinity"),
	FN("max_grant_frames", h_grant, T_ALL, "xl.conf", "Maximum grant table frames"),
	FN("max_maptrack_frames", h_grant, T_ALL, "xl.conf", "Maximum maptrack frames"),
	FN("max_grant_version", h_grant, T_ALL, "xl.conf", "Maximum grant table version"),
	FN("on_poweroff", h_action, T_ALL, "destroy", "Action when the guest powers off"),
	FN("on_reboot", h_action, T_ALL, "restart", "Action when the guest reboots"),
	FN("on_watchdog", h_action, T_ALL, "destroy", "Action when the watchdog fires"),
	FN("on_crash", h_action, T_ALL, "destroy", "Action when the guest crashes"),
	FN("on_soft_reset", h_action, T_ALL, "soft-reset", "Action on a soft reset"),
	BOOL("e820_host", D_TYPE, "e820_host", T_PV, "Give a PV guest the host's memory map"),
	GRP("pci_msitranslate", T_ALL, "Default msitranslate of PCI devices"),
	GRP("pci_power_mgmt", T_ALL, "Default power_mgmt of PCI devices"),
	GRP("pci_permissive", T_ALL, "Default permissive of PCI devices"),
	GRP("pci_seize", T_ALL, "Default seize of PCI devices"),
	FN("rdm", h_rdm, T_ALL, "unset", "Reserved device memory: strategy=host (xl ignores the whole value when it names a policy)"),
	FN("pci", h_pci, T_ALL, "none", "PCI devices to pass through (xl-pci-configuration(5))"),
	FN("dtdev", h_dtdev, T_ALL, "none", "Device tree nodes to pass through (Arm)"),
	FN("passthrough", h_enum, T_ALL, "unset", "IOMMU page table sharing: disabled, enabled, sync_pt, share_pt"),
	MIB("shadow_memory", D_BINFO, "shadow_memkb", T_ALL, "Shadow page table memory, in MiB"),
	BOOL("nomigrate", D_BINFO, "disable_migrate", T_ALL, "Forbid migration"),
	FN("tsc_mode", h_tsc_mode, T_ALL, "default", "TSC mode: default, always_emulate, native, native_paravirt"),
	U32("rtc_timeoffset", D_BINFO, "rtc_timeoffset", T_ALL, "RTC offset from UTC (or local time), in seconds"),
	FN("vncviewer", h_vncviewer, T_ALL, "unset", "Ignored by xl (use create -V)"),
	BOOL("localtime", D_BINFO, "localtime", T_ALL, "The RTC keeps local time instead of UTC"),
	MIB("videoram", D_BINFO, "video_memkb", T_ALL, "Video memory, in MiB"),
	U32("max_event_channels", D_BINFO, "event_channels", T_ALL, "Maximum event channels"),
	FN("kernel", h_kernel, T_ALL, "unset", "Kernel to boot directly (resolved against the cfg directory; with a bootloader, a path inside the guest's disk)"),
	GRP("ramdisk", T_ALL, "Initial ramdisk (resolved against the cfg directory)"),
	GRP("device_tree", T_ALL, "Device tree blob (Arm)"),
	GRP("cmdline", T_ALL, "Kernel command line (beats root and extra)"),
	GRP("root", T_ALL, "Root device: the command line starts root=ROOT"),
	GRP("extra", T_ALL, "Appended to the command line"),
	GRP("modules", T_ALL, "kxl: [\"kernel\", \"ramdisk\", \"path,cmdline=...\", ...]: entry 0 is the kernel, entry 1 the ramdisk; more need pvh"),
	BOOL("driver_domain", D_CINFO, "driver_domain", T_ALL, "The domain is a driver domain"),
	BOOL("acpi", D_BINFO, "acpi", T_ALL, "Expose ACPI to the guest"),
	FN("bootloader", h_bootloader, T_ALL, "unset", "Bootloader program (pygrub): finds kernel, ramdisk and cmdline inside the guest's disk"),
	GRP("bootloader_args", T_ALL, "Arguments of the bootloader (a list)"),
	FN("timer_mode", h_timer_mode, T_ALL, "no_delay_for_missed_ticks", "Virtual timer mode"),
	BOOL("nestedhvm", D_BINFO, "nested_hvm", T_ALL, "Expose hardware virtualisation to the guest"),
	FN("", h_hvm_kernel_check, T_HVM, NULL, NULL),
	FN("firmware_override", h_bios_path, T_HVM, "hvmloader", "HVM firmware replacing hvmloader (a bare name is looked up in Xen's firmware directory)"),
	GRP("bios_path_override", T_HVM, "BIOS image (resolved against the cfg directory)"),
	FN("bios", h_bios, T_HVM, "seabios", "HVM BIOS: rombios, seabios or ovmf"),
	BOOL("pae", D_TYPE, "pae", T_HVM, "Physical address extension"),
	BOOL("acpi_s3", D_TYPE, "acpi_s3", T_HVM, "ACPI S3 (suspend to RAM)"),
	BOOL("acpi_s4", D_TYPE, "acpi_s4", T_HVM, "ACPI S4 (suspend to disk)"),
	BOOL("acpi_laptop_slate", D_TYPE, "acpi_laptop_slate", T_HVM, "ACPI laptop/slate switch"),
	BOOL("nx", D_TYPE, "nx", T_HVM, "No-execute bit"),
	BOOL("hpet", D_TYPE, "hpet", T_HVM, "HPET timer"),
	BOOL("vpt_align", D_TYPE, "vpt_align", T_HVM, "Align periodic timers"),
	BOOL("apic", D_BINFO, "apic", T_HVM, "Local APIC"),
	FN("viridian", h_viridian, T_HVM, "off", "Hyper-V enlightenments: a boolean or a list of groups"),
	FN("mmio_hole", h_mmio_hole, T_HVM, "libxl default", "MMIO hole below 4 GiB, in MiB"),
	DEP("altp2mhvm", h_altp2mhvm, T_HVM, "altp2m", "Old name of altp2m"),
	STR("smbios_firmware", D_TYPE, "smbios_firmware", T_HVM, "SMBIOS tables file"),
	STR("acpi_firmware", D_TYPE, "acpi_firmware", T_HVM, "ACPI tables file"),
	FN("ms_vm_genid", h_ms_vm_genid, T_HVM, "none", "Microsoft VM generation ID: generate or none"),
	MIB("rdm_mem_boundary", D_TYPE, "rdm_mem_boundary_memkb", T_HVM, "RDM memory boundary, in MiB"),
	FN("mca_caps", h_mca_caps, T_HVM, "none", "Machine check capabilities: [\"lmce\"]"),
	FN("firmware", h_firmware, T_ALL, "unset", "hvm: ovmf, seabios, rombios (uefi and bios are pinned to one), or a path; pv/pvh: pvgrub32|pvgrub64; pvh: a path to a PVH firmware ELF"),
	FN("altp2m", h_altp2m, T_ALL, "disabled", "Alternate p2m: disabled, mixed, external, limited"),
	FN("vmtrace_buf_kb", h_vmtrace, T_ALL, "0", "Processor trace buffer per vCPU, in KiB"),
	FN("ioports", h_ioports, T_ALL, "none", "I/O port ranges to pass through (hex)"),
	FN("irqs", h_irqs, T_ALL, "none", "IRQs to pass through"),
	FN("iomem", h_iomem, T_ALL, "none", "Memory ranges to pass through: START,NUM[@GFN] in hex pages"),
	FN("disk", h_disk, T_ALL, "none", "Disks (xl-disk-configuration(5)); file targets resolve against the cfg directory"),
	FN("p9", h_p9, T_ALL, "none", "9pfs shares: tag=,path=,security_model=[,backend=]"),
	FN("vtpm", h_vtpm, T_ALL, "none", "Virtual TPMs: backend=[,uuid=]"),
	FN("vdispl", h_vdispl, T_ALL, "none", "Virtual displays: backend=,be-alloc=,connectors=ID:WxH;..."),
	FN("pvcalls", h_pvcalls, T_ALL, "none", "PV calls back ends: backend="),
	FN("vsnd", h_vsnd, T_ALL, "none", "Virtual sound cards: a list per card of \"card, ...\", \"pcm, ...\", \"stream, ...\""),
	FN("channel", h_channel, T_ALL, "none", "Channels: connection=pty|socket,name=[,path=][,backend=]"),
	FN("vif", h_vif, T_ALL, "none", "Network interfaces (xl-network-configuration(5))"),
	FN("vif2", h_vif2, T_ALL, "none", "Netchannel2 interfaces: not supported (as in xl)"),
	FN("vfb", h_vfb, T_ALL, "none", "PV framebuffers: vnc=,vnclisten=,sdl=,..."),
	FN("usbctrl", h_usbctrl, T_ALL, "none", "USB controllers: type=,version=,ports="),
	FN("usbdev", h_usbdev, T_ALL, "none", "USB host devices: hostbus=,hostaddr=[,controller=,port=]"),
	FN("cpuid", h_cpuid, T_ALL, "host", "CPUID policy: \"host,FLAG=V,...\" or xend's list form"),
	FN("device_model", h_device_model, T_ALL, "unset", "Ignored by xl: use device_model_override"),
	GRP("device_model_override", T_ALL, "Device model binary"),
	GRP("device_model_version", T_ALL, "Device model: qemu-xen or qemu-xen-traditional"),
	BOOL("device_model_stubdomain_override", D_BINFO, "device_model_stubdomain", T_ALL, "Run the device model in a stub domain"),
	STR("device_model_stubdomain_seclabel", D_BINFO, "device_model_ssid_label", T_ALL, "XSM label of the stub domain"),
	STR("device_model_user", D_BINFO, "device_model_user", T_ALL, "User the device model runs as"),
	STR("stubdomain_kernel", D_BINFO, "stubdomain_kernel", T_ALL, "Stub domain kernel"),
	STR("stubdomain_cmdline", D_BINFO, "stubdomain_cmdline", T_ALL, "Stub domain command line"),
	STR("stubdomain_ramdisk", D_BINFO, "stubdomain_ramdisk", T_ALL, "Stub domain ramdisk"),
	MIB("stubdomain_memory", D_BINFO, "stubdomain_memkb", T_ALL, "Stub domain memory, in MiB"),
	FN("device_model_args", h_dm_args, T_ALL, "none", "Extra device model arguments"),
	FN("device_model_args_pv", h_dm_args, T_ALL, "none", "Extra device model arguments for pv"),
	FN("device_model_args_hvm", h_dm_args, T_ALL, "none", "Extra device model arguments for hvm"),
	FN("vnc", h_vnc_sdl, T_ALL, "off", "VNC console"),
	GRP("vnclisten", T_ALL, "VNC listen address"),
	GRP("vncpasswd", T_ALL, "VNC password"),
	GRP("vncdisplay", T_ALL, "VNC display number"),
	GRP("vncunused", T_ALL, "Find an unused VNC port"),
	GRP("sdl", T_ALL, "SDL console"),
	GRP("opengl", T_ALL, "OpenGL in the SDL console"),
	GRP("display", T_ALL, "X display for SDL"),
	GRP("xauthority", T_ALL, "X authority file for SDL"),
	GRP("keymap", T_ALL, "Keyboard map of the VNC/SDL console"),
	BOOL("dm_restrict", D_BINFO, "dm_restrict", T_ALL, "Restrict the device model"),
	FN("vga", h_vga, T_HVM, "cirrus", "Emulated graphics: stdvga, cirrus, qxl, none"),
	GRP("stdvga", T_HVM, "Old form of vga: 1 = stdvga, 0 = cirrus"),
	FN("hdtype", h_enum, T_HVM, "ide", "Emulated disk type: ide or ahci"),
	STR("keymap", D_TYPE, "keymap", T_HVM, NULL),
	BOOL("spice", D_NONE, "spice/enable", T_HVM, "SPICE console"),
	LNG0("spiceport", D_NONE, "spice/port", T_HVM, "SPICE port"),
	LNG0("spicetls_port", D_NONE, "spice/tls_port", T_HVM, "SPICE TLS port"),
	STR("spicehost", D_NONE, "spice/host", T_HVM, "SPICE listen address"),
	BOOL("spicedisable_ticketing", D_NONE, "spice/disable_ticketing", T_HVM, "SPICE without a password"),
	STR("spicepasswd", D_NONE, "spice/passwd", T_HVM, "SPICE password"),
	BOOL("spiceagent_mouse", D_NONE, "spice/agent_mouse", T_HVM, "SPICE agent mouse"),
	BOOL("spicevdagent", D_NONE, "spice/vdagent", T_HVM, "SPICE vdagent"),
	BOOL("spice_clipboard_sharing", D_NONE, "spice/clipboard_sharing", T_HVM, "SPICE clipboard sharing"),
	LNG0("spiceusbredirection", D_NONE, "spice/usbredirection", T_HVM, "SPICE USB redirection channels"),
	STR("spice_image_compression", D_NONE, "spice/image_compression", T_HVM, "SPICE image compression"),
	STR("spice_streaming_video", D_NONE, "spice/streaming_video", T_HVM, "SPICE video streaming"),
	BOOL("nographic", D_TYPE, "nographic", T_HVM, "No graphics"),
	FN("gfx_passthru", h_gfx_passthru, T_HVM, "off", "Graphics passthrough: a boolean, default or igd"),
	FN("serial", h_strlist_or_string, T_HVM, "unset", "Emulated serial ports (a string or a list)"),
	STR("boot", D_TYPE, "boot", T_HVM, "Boot order (c disk, d cdrom, n network)"),
	BOOL("usb", D_TYPE, "usb", T_HVM, "Emulated USB"),
	LNG0("usbversion", D_TYPE, "usbversion", T_HVM, "Emulated USB version"),
	FN("usbdevice", h_strlist_or_string, T_HVM, "unset", "Emulated USB devices (a string or a list)"),
	BOOL("vkb_device", D_TYPE, "vkb_device", T_HVM, "PV keyboard"),
	STR("soundhw", D_TYPE, "soundhw", T_HVM, "Emulated sound card"),
	BOOL("xen_platform_pci", D_TYPE, "xen_platform_pci", T_HVM, "Xen platform PCI device"),
	FN("", h_vnc_check, T_HVM, NULL, NULL),
	FN("vendor_device", h_vendor_device, T_HVM, "none", "Vendor PCI device: none or xenserver"),
	FN("gic_version", h_enum, T_ALL, "default", "Arm GIC version"),
	FN("tee", h_enum, T_ALL, "none", "Arm TEE mediator"),
	FN("vkb", h_vkb, T_ALL, "none", "PV keyboards: backend-type=qemu|linux[,backend=,unique-id=,feature-...=,width=,height=]"),
	BOOL("xend_suspend_evtchn_compat", D_CINFO, "xend_suspend_evtchn_compat", T_ALL, "xend-compatible suspend event channel"),
	FN("msr_relaxed", h_msr_relaxed, T_ALL, "off", "Relaxed MSR policy (to be removed by Xen)"),
	BOOL("vpmu", D_BINFO, "vpmu", T_ALL, "Virtual performance counters"),
};

/* Keys xl.cfg(5) documents that xl reads elsewhere or ignores. */
static const char *const other_keys[] = { "stdvga", "keymap" };

static json_object *dest_obj(struct mctx *m, const struct key *k, const char **field)
{
	*field = k->field;
	switch (k->dest) {
	case D_CINFO: return m->c_info;
	case D_BINFO: return m->b_info;
	case D_TYPE: return m->type_obj;
	case D_SCHED: return j_obj(m->b_info, "sched_params");
	case D_NONE: {	/* "sub/field" inside the type object (sub is a constant) */
		static const char *const subs[] = { "spice", "vnc", "sdl", "vga", "rdm" };
		const char *slash = strchr(k->field, '/');
		for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
			if (strlen(subs[i]) == (size_t)(slash - k->field) &&
			    !strncmp(subs[i], k->field, (size_t)(slash - k->field))) {
				*field = slash + 1;
				return j_obj(m->type_obj, subs[i]);
			}
		return NULL;
	}
	}
	return NULL;
}

/* A size key that xl could not read as a number: xl's warning, or, for a
 * size written with a unit ("2G", "512M"), what to write instead. */
static void mib_not_a_number(struct mctx *m, const char *name)
{
	const struct kxl_cfg_setting *s = m_find(m, name);
	const char *v = s && s->value->type == KXL_CFG_STRING ? s->value->str : NULL;
	char *end;
	errno = 0;
	unsigned long long n = v ? strtoull(v, &end, 10) : 0;
	static const char units[] = "kmgt";
	const char *u = v && end != v && *end && !errno ? strchr(units, end[0] | 0x20) : NULL;
	if (u && *u && (!end[1] || ((end[1] | 0x20) == 'b' && !end[2]) ||
			((end[1] | 0x20) == 'i' && (end[2] | 0x20) == 'b' && !end[3]))) {
		int shift = (int)(u - units) * 10 - 10;	/* to MiB: k -10, m 0, g 10, t 20 */
		unsigned long long mib = shift < 0 ? n >> -shift : n << shift;
		if (shift > 0 && n > (ULLONG_MAX >> shift))
			mib = 0;
		if (mib)
			m_warn(m, name, "`%s' is in MiB, as a plain number: `%s = \"%s\"' is not one and xl "
			       "ignores it (the default applies); write `%s = %llu'", name, name, v, name, mib);
		else
			m_warn(m, name, "`%s' is in MiB, as a plain number: `%s = \"%s\"' is not one and xl "
			       "ignores it (the default applies)", name, name, v);
		return;
	}
	long l;
	m_long(m, name, false, &l);	/* xl's own warning */
}

static void apply_simple(struct mctx *m, const struct key *k)
{
	const char *field;
	json_object *o;
	long l;
	switch (k->kind) {
	case K_STRING:
		if (!m_find(m, k->name)) return;
		o = dest_obj(m, k, &field);
		m_replace_string(m, k->name, false, o, field);
		break;
	case K_LONG:	/* an IDL integer whose default is -1 (the sched_params) */
	case K_LONG0:	/* an IDL integer whose default is 0 */
	case K_U32:	/* an IDL uint32, default 0 */
		if (m_long(m, k->name, false, &l)) return;
		/* xl stores the long into the IDL's C type: int or uint32_t */
		int64_t v = k->kind == K_U32 ? (int64_t)(uint32_t)l : (int64_t)(int32_t)(uint32_t)l;
		if (v == (k->kind == K_LONG ? -1 : 0)) return;	/* the IDL default: not printed */
		o = dest_obj(m, k, &field);
		j_int(o, field, v);
		break;
	case K_MIB:
		if (m_long(m, k->name, true, &l)) {
			mib_not_a_number(m, k->name);
			return;
		}
		o = dest_obj(m, k, &field);
		{
			/* libxl's MemKB is a uint64: xl wraps negative and huge sizes */
			uint64_t kb = (uint64_t)l * 1024;
			if (kb > (uint64_t)INT64_MAX)
				json_object_object_add(o, field, json_object_new_uint64(kb));
			else
				j_int(o, field, (int64_t)kb);
		}
		break;
	case K_DEFBOOL:
		if (!m_find(m, k->name)) return;
		o = dest_obj(m, k, &field);
		m_defbool(m, k->name, false, o, field);
		break;
	default:
		break;
	}
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40) return 99;
	size_t d[41][41];
	for (size_t i = 0; i <= la; i++) d[i][0] = i;
	for (size_t j = 0; j <= lb; j++) d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
			d[i][j] = c;
		}
	return d[la][lb];
}

/* The key names, hashed once (the table is constant). */
static const char *key_index[512];
static uint32_t key_hash[ARRAY_SIZE(keys)];
static pthread_once_t key_index_once = PTHREAD_ONCE_INIT;

static void key_index_add(const char *name)
{
	size_t i = m_hash(name) & (ARRAY_SIZE(key_index) - 1);
	while (key_index[i] && strcmp(key_index[i], name)) i = (i + 1) & (ARRAY_SIZE(key_index) - 1);
	key_index[i] = name;
}

static void key_index_build(void)
{
	_Static_assert(ARRAY_SIZE(keys) + ARRAY_SIZE(other_keys) < ARRAY_SIZE(key_index) / 2,
		       "the key index stays at most half full");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		key_hash[i] = m_hash(keys[i].name);
		if (keys[i].name[0]) key_index_add(keys[i].name);
	}
	for (size_t i = 0; i < ARRAY_SIZE(other_keys); i++)
		key_index_add(other_keys[i]);
}

static bool known_key(const char *name)
{
	pthread_once(&key_index_once, key_index_build);
	size_t i = m_hash(name) & (ARRAY_SIZE(key_index) - 1);
	while (key_index[i]) {
		if (!strcmp(key_index[i], name)) return true;
		i = (i + 1) & (ARRAY_SIZE(key_index) - 1);
	}
	return false;
}

/* Keys of xm's configs (and of xend's Python) that xl ignores, with where
 * the setting lives now: a hint worth more than the nearest key name. */
static const struct { const char *key, *hint; } moved_keys[] = {
	{ "dhcp", "xl has no dhcp key: an address comes from the guest's own network setup, or from "
		  "the kernel's `ip=dhcp' in `extra'" },
	{ "ip", "xl has no ip key: write `ip=' inside the `vif' spec (vif = [ 'ip=..., bridge=...' ]), "
		"or the kernel's `ip=' in `extra'" },
	{ "netmask", "xl has no netmask key: the kernel's `ip=CLIENT::GATEWAY:NETMASK' in `extra', or "
		     "the guest's own network setup" },
	{ "gateway", "xl has no gateway key: write `gatewaydev=' inside the `vif' spec, or the "
		     "kernel's `ip=CLIENT::GATEWAY:NETMASK' in `extra'" },
	{ "hostname", "xl has no hostname key: the kernel's `ip=::::HOSTNAME' in `extra', or the "
		      "guest's own setup" },
	{ "nfs_root", "xl has no nfs_root key: write `root = \"/dev/nfs\"' and `extra = "
		      "\"nfsroot=SERVER:PATH\"'" },
	{ "nfs_server", "xl has no nfs_server key: write `extra = \"nfsroot=SERVER:PATH\"' with "
			"`root = \"/dev/nfs\"'" },
	{ "vncpasswd", NULL },	/* an xl key (hvm): not moved; listed so that no hint applies */
};

static void warn_unknown(struct mctx *m)
{
	for (const struct kxl_cfg_setting *s = m->cfg->last; s; s = s->next) {
		if (known_key(s->name) || m_find(m, s->name) != s) continue;
		const char *moved = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(moved_keys); i++)
			if (!strcmp(moved_keys[i].key, s->name)) moved = moved_keys[i].hint;
		if (moved) {
			struct kxl_loc l = kxl_cfg_loc(&s->key_pos);
			kxl_diag_add(m->d, KXL_WARNING, &l, "unknown key `%s' ignored: %s", s->name, moved);
			continue;
		}
		/* a hint for a likely typo only: short names are close to too much */
		const char *best = NULL;
		size_t bd = strlen(s->name) <= 4 ? 2 : 3;
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			if (!keys[i].name[0]) continue;
			size_t dd = edit_distance(s->name, keys[i].name);
			if (dd < bd) { bd = dd; best = keys[i].name; }
		}
		struct kxl_loc l = kxl_cfg_loc(&s->key_pos);
		if (best)
			kxl_diag_add(m->d, KXL_WARNING, &l, "unknown key `%s' ignored (did you mean `%s'?)", s->name, best);
		else
			kxl_diag_add(m->d, KXL_WARNING, &l, "unknown key `%s' ignored", s->name);
	}
}

static const char *type_name(int t)
{
	return t == T_HVM ? "hvm" : t == T_PVH ? "pvh" : "pv";
}

int kxl_domain_from_cfg(struct kxl_domain *dom, const struct kxl_cfg *cfg,
			const struct kxl_conf *conf, struct kxl_diag *d)
{
	memset(dom, 0, sizeof(*dom));
	struct mctx m = { .cfg = cfg, .conf = conf, .d = d };
	m_index_build(&m);
	m.root = json_object_new_object();
	m.c_info = j_obj(m.root, "c_info");
	m.b_info = j_obj(m.root, "b_info");
	/* the type decides the union, so it comes first */
	h_type(&m, "type");
	if (conf->run_hotplug_scripts) j_defbool(m.c_info, "run_hotplug_scripts", true);
	j_obj(m.b_info, "sched_params");
	if (conf->claim_mode) j_defbool(m.b_info, "claim_mode", true);
	if (conf->blkdev_start) j_str(m.b_info, "blkdev_start", conf->blkdev_start);
	m.type_obj = j_obj(m.b_info, m.type == T_HVM ? "type.hvm" : m.type == T_PVH ? "type.pvh" : "type.pv");
	if (m.type == T_HVM) {
		j_obj(m.type_obj, "vga");
		j_obj(m.type_obj, "vnc");
		j_obj(m.type_obj, "sdl");
		j_obj(m.type_obj, "spice");
		j_obj(m.type_obj, "rdm");
	}
	j_obj(m.b_info, "arch_arm");
	j_obj(m.b_info, "arch_x86");

	pthread_once(&key_index_once, key_index_build);
	/* Every error is reported, in one pass: only a type kxl cannot tell
	 * stops the walk (the type decides what every other key means). */
	bool type_failed = m.failed;
	for (size_t i = 0; i < ARRAY_SIZE(keys) && !type_failed; i++) {
		const struct key *k = &keys[i];
		if (k->fn == h_type || k->kind == K_GROUP) continue;
		/* a simple key that is not set has nothing to do (most are not) */
		if (k->kind != K_CUSTOM && !m_find_h(&m, k->name, key_hash[i])) continue;
		if (k->name[0] && (k->kind != K_CUSTOM || k->dest != D_NONE) && !(k->types & m.type)) {
			if (k->doc && m_find(&m, k->name))
				kxl_diag_add(d, KXL_NOTE, (struct kxl_loc[]){ m_loc(&m, k->name) },
					     "`%s' applies to %s guests only; ignored for this %s guest", k->name,
					     k->types == T_HVM ? "hvm" : k->types == T_PV ? "pv" : k->types == T_PVH ? "pvh" :
					     k->types == (T_PV | T_PVH) ? "pv and pvh" : "hvm and pvh", type_name(m.type));
			continue;
		}
		if (k->kind == K_CUSTOM && k->fn) {
			if (k->types & m.type) k->fn(&m, k->name);
			if (k->deprecated && m_find(&m, k->name) && k->fn != h_altp2mhvm)
				kxl_diag_add(d, KXL_DEPRECATED, (struct kxl_loc[]){ m_loc(&m, k->name) },
					     "`%s' is deprecated; use `%s'", k->name, k->deprecated);
		} else {
			apply_simple(&m, k);
		}
	}
	warn_unknown(&m);
	/* libxl prints no empty arrays (a list of 0 entries, an empty bitmap) */
	json_object *objs[2] = { m.b_info, m.type_obj };
	for (int oi = 0; oi < 2; oi++) {
		struct json_object_iterator it = json_object_iter_begin(objs[oi]), end = json_object_iter_end(objs[oi]);
		const char *dead[64];
		size_t nd = 0;
		for (; !json_object_iter_equal(&it, &end) && nd < 64; json_object_iter_next(&it)) {
			json_object *v = json_object_iter_peek_value(&it);
			/* b_info.modules (kxl's) shows whenever modules= is used */
			if (json_object_is_type(v, json_type_array) && !json_object_array_length(v) &&
			    strcmp(json_object_iter_peek_name(&it), "modules"))
				dead[nd++] = json_object_iter_peek_name(&it);
		}
		for (size_t i = 0; i < nd; i++) json_object_object_del(objs[oi], dead[i]);
	}
	static const char *const arrays[] = { "disks", "nics", "pcidevs", "dtdevs", "vfbs", "vkbs",
		"vtpms", "p9s", "pvcallsifs", "channels", "usbctrls", "usbdevs", "vdispls", "vsnds" };
	for (size_t i = 0; i < ARRAY_SIZE(arrays); i++) {
		json_object *a;
		if (json_object_object_get_ex(m.root, arrays[i], &a) && !json_object_array_length(a))
			json_object_object_del(m.root, arrays[i]);
	}
	dom->config = m.root;
	m_index_free(&m);
	if (d->errors || m.failed) return -1;
	kxl_domain_view(dom);
	dom->pvh_firmware = m.pvh_firmware_path;
	return 0;
}

size_t kxl_keys_doc(const struct kxl_key_doc **out)
{
	static struct kxl_key_doc docs[ARRAY_SIZE(keys)];
	static size_t n;
	if (!n) {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			const struct key *k = &keys[i];
			if (!k->name[0] || !k->doc) continue;
			const char *kind = k->kind == K_STRING ? "string" : k->kind == K_LONG || k->kind == K_LONG0 || k->kind == K_U32 ? "number" :
				k->kind == K_MIB ? "number (MiB)" : k->kind == K_DEFBOOL ? "boolean (0/1)" : "see text";
			docs[n++] = (struct kxl_key_doc){ k->name, kind,
				k->types == T_ALL ? "all" : k->types == T_HVM ? "hvm" : k->types == T_PV ? "pv" :
				k->types == T_PVH ? "pvh" : k->types == (T_PV | T_PVH) ? "pv, pvh" : "hvm, pvh",
				k->deflt, k->deprecated, k->doc };
		}
	}
	*out = docs;
	return n;
}
