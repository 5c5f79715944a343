/*
 * keys.c: the one declarative table of xl.cfg keys, and the walk over it
 * that builds the model.
 *
 * Each row (struct key, keys.h) gives a key's name and type (with an
 * integer's C type and bounds, an enum's values and defaults, a path's
 * resolution), where it lands in libxl's domain config (a destination and
 * libxl's field), the domain types it applies to, its handler when it means
 * more than "store the value", its defaults, flags for the walk, what
 * deprecates it and its doc line. The rows are in the order xl's
 * parse_config_data() reads the keys, so warnings come out in xl's order.
 * The same table fills libxl's defaults (m_fill_defaults), generates the key
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
#include <strings.h>

#include "util/util.h"

/* Row macros: an ordinary key is one of these (see docs/ARCHITECTURE.md). */
#define AT(d, f) .dest = d, .field = f
#define STR(n, d, f, t, doc_) { .name = n, .type = KT_STRING, AT(d, f), .types = t, .doc = doc_ }
#define PATH(n, d, f, t, fl, doc_) { .name = n, .type = KT_PATH, AT(d, f), .types = t, .flags = fl, .doc = doc_ }
/* an IDL integer: libxl's C type, and its IDL default (never printed) */
#define INT(n, d, f, t, ct, idl, doc_) { .name = n, .type = KT_INT, AT(d, f), .types = t, .ctype = ct, \
	.min = 1, .max = 0, .idl_dflt = idl, .dflt = idl, .flags = KF_DEFAULT, .doc = doc_ }
/* a scheduler parameter: -1 (libxl's default, not printed) leaves it to the scheduler */
#define LNG(n, d, f, t, doc_) { .name = n, .type = KT_INT, AT(d, f), .types = t, .ctype = CT_INT, \
	.idl_dflt = -1, .dflt_text = "the scheduler's", .doc = doc_ }
#define LNG0(n, d, f, t, doc_) INT(n, d, f, t, CT_INT, 0, doc_)
#define U32(n, d, f, t, doc_) INT(n, d, f, t, CT_UINT32, 0, doc_)
#define MIB(n, d, f, t, doc_) { .name = n, .type = KT_SIZE, AT(d, f), .types = t, .doc = doc_ }
#define BOOL(n, d, f, t, doc_) { .name = n, .type = KT_BOOL, AT(d, f), .types = t, .doc = doc_ }
/* a bool libxl defaults (and fills before building) */
#define BOOLD(n, d, f, t, v, doc_) { .name = n, .type = KT_BOOL, AT(d, f), .types = t, .dflt = v, \
	.flags = KF_DEFAULT | KF_FILL, .doc = doc_ }
/* an enum: its values, xl's default and libxl's (indices; -1: none) */
#define ENUM(n, d, f, t, fl, vals, xd, idl, doc_) { .name = n, .type = KT_ENUM, AT(d, f), .types = t, \
	.flags = (fl) | ((xd) >= 0 ? KF_DEFAULT : 0), .values = vals, .dflt = xd, .idl_dflt = idl, .doc = doc_ }
#define VALUES(...) (const char *const[]){ __VA_ARGS__, NULL }
/* a key with a handler: ty is its value type (for docs) */
#define FN(n, ty, fn_, t, dflt, doc_) { .name = n, .type = ty, .fn = fn_, .types = t, .dflt_text = dflt, \
	.doc = doc_ }
/* a key that an earlier row's handler reads */
#define GRP(n, ty, t, doc_) { .name = n, .type = ty, .flags = KF_GROUP, .types = t, .doc = doc_ }
/* the same, applied by that handler into an object of libxl's type d */
#define GRPAT(n, ty, d, f, doc_) { .name = n, .type = ty, .flags = KF_GROUP, AT(d, f), .types = T_ALL, \
	.doc = doc_ }
/* a step of the walk at this point, no key */
#define PHASE(fn_, t) { .name = "", .type = KT_SPECIAL, .flags = KF_PHASE, .fn = fn_, .types = t }
#define DEVICES(n, f, fn_, t, doc_) { .name = n, .type = KT_DEVICES, AT(D_ROOT, f), .fn = fn_, .types = t, \
	.dflt_text = "none", .doc = doc_ }
#define CONF(f) (offsetof(struct kxl_conf, f) + 1)

static const char *const actions[] = { "destroy", "restart", "rename-restart", "preserve",
	"coredump-destroy", "coredump-restart", "soft-reset", NULL };
static const char *const actions_idl[] = { "destroy", "restart", "restart_rename", "preserve",
	"coredump_destroy", "coredump_restart", "soft_reset", NULL };
#define ACTION(n, xd, doc_) { .name = n, .type = KT_ENUM, AT(D_ROOT, n), .fn = h_action, .types = T_ALL, \
	.flags = KF_EXACT | KF_DEFAULT | KF_FILL, .values = actions, .idl_values = actions_idl, .dflt = xd, \
	.idl_dflt = 0, .doc = doc_ }
#define GRANT(n, doc_) { .name = #n, .type = KT_INT, AT(D_BINFO, #n), .fn = h_grant, .types = T_ALL, \
	.ctype = CT_INT, .min = 0, .max = INT_MAX, .conf_dflt = CONF(n), .dflt_text = "xl.conf", .doc = doc_ }

static const struct key keys[] = {
	{ .name = "init_seclabel", .type = KT_STRING, .fn = h_seclabel, AT(D_CINFO, "ssid_label"), .types = T_ALL,
	  .doc = "XSM security label of the domain at creation" },
	{ .name = "seclabel", .type = KT_STRING, .flags = KF_GROUP, AT(D_BINFO, "exec_ssid_label"), .types = T_ALL,
	  .doc = "XSM security label (after build when init_seclabel is set)" },
	{ .name = "type", .type = KT_ENUM, .flags = KF_FIRST | KF_DEFAULT, .fn = h_type, .types = T_ALL,
	  AT(D_CINFO, "type"), .values = VALUES("pv", "pvh", "hvm"), .dflt = 0, .idl_dflt = -1,
	  .doc = "Domain type: pv, pvh or hvm (a prefix is enough, as in xl)" },
	{ .name = "builder", .type = KT_ENUM, .flags = KF_GROUP, .types = T_ALL, .values = VALUES("hvm", "generic"),
	  .deprecated = "type", .doc = "Old name of the domain type: hvm or generic (= pv)" },
	BOOLD("hap", D_CINFO, "hap", T_ALL, 1, "Use hardware-assisted paging"),
	{ .name = "name", .type = KT_STRING, .fn = h_name, .types = T_ALL, AT(D_CINFO, "name"),
	  .dflt_text = "required", .doc = "Domain name" },
	{ .name = "uuid", .type = KT_STRING, .fn = h_uuid, .types = T_ALL, AT(D_CINFO, "uuid"),
	  .dflt_text = "random", .doc = "Domain UUID" },
	BOOL("oos", D_CINFO, "oos", T_ALL, "Out-of-sync shadow page tables"),
	STR("pool", D_CINFO, "pool_name", T_ALL, "CPU pool to create the domain in"),
	BOOL("pvshim", D_TYPE, "pvshim", T_PVH, "Run a PV kernel inside a PVH shim (needs Xen; refused by kxl at create)"),
	PATH("pvshim_path", D_TYPE, "pvshim_path", T_PVH, KF_SILENT_TYPES, "Path of the PV shim (resolved against the cfg directory)"),
	STR("pvshim_cmdline", D_TYPE, "pvshim_cmdline", T_PVH, "Command line of the PV shim"),
	STR("pvshim_extra", D_TYPE, "pvshim_extra", T_PVH, "Extra command line of the PV shim"),
	LNG("cpu_weight", D_SCHED, "weight", T_ALL, "Scheduler weight"),
	LNG("cap", D_SCHED, "cap", T_ALL, "Scheduler cap (percent of one CPU)"),
	LNG("period", D_SCHED, "period", T_ALL, "Scheduler period"),
	LNG("slice", D_SCHED, "slice", T_ALL, "Scheduler slice"),
	LNG("latency", D_SCHED, "latency", T_ALL, "Scheduler latency"),
	LNG("extratime", D_SCHED, "extratime", T_ALL, "Scheduler extratime"),
	{ .name = "memory", .type = KT_SIZE, AT(D_BINFO, "target_memkb"), .types = T_ALL,
	  .flags = KF_DEFAULT | KF_FILL, .dflt = 32, .doc = "Memory at boot, in MiB" },
	{ .name = "maxmem", .type = KT_SIZE, AT(D_BINFO, "max_memkb"), .types = T_ALL, .flags = KF_FILL,
	  .dflt_key = "memory", .doc = "Maximum memory, in MiB" },
	{ .name = "vcpus", .type = KT_INT, .fn = h_vcpus, AT(D_BINFO, "avail_vcpus"), .types = T_ALL,
	  .flags = KF_DEFAULT | KF_FILL | KF_BITMAP, .min = 0, .max = 65536, .dflt = 1,
	  .doc = "Virtual CPUs online at boot" },
	{ .name = "maxvcpus", .type = KT_INT, .flags = KF_GROUP | KF_FILL, AT(D_BINFO, "max_vcpus"),
	  .types = T_ALL, .ctype = CT_INT, .dflt_key = "vcpus", .doc = "Maximum virtual CPUs" },
	ENUM("vuart", D_ARM, "vuart", T_ALL, 0, VALUES("sbsa_uart"), -1, -1, "Arm virtual UART"),
	{ .name = "vnuma", .type = KT_LIST, .fn = h_vnuma, AT(D_BINFO, "vnuma_nodes"), .types = T_ALL,
	  .doc = "Virtual NUMA nodes: a list of [\"pnode=N\", \"size=MiB\", \"vcpus=R\", \"vdistances=D,...\"]" },
	PHASE(h_mem_defaults, T_ALL),
	{ .name = "cpus", .type = KT_SPECIAL, .fn = h_cpus, AT(D_BINFO, "vcpu_hard_affinity"), .types = T_ALL,
	  .flags = KF_MASKED, .dflt_text = "all",
	  .doc = "Hard vCPU affinity: a CPU range string, or a list with one per vCPU" },
	{ .name = "cpus_soft", .type = KT_SPECIAL, .fn = h_cpus, AT(D_BINFO, "vcpu_soft_affinity"),
	  .types = T_ALL, .dflt_text = "all", .doc = "Soft vCPU affinity" },
	GRANT(max_grant_frames, "Maximum grant table frames"),
	GRANT(max_maptrack_frames, "Maximum maptrack frames"),
	GRANT(max_grant_version, "Maximum grant table version"),
	ACTION("on_poweroff", 0, "Action when the guest powers off"),
	ACTION("on_reboot", 1, "Action when the guest reboots"),
	ACTION("on_watchdog", 0, "Action when the watchdog fires"),
	ACTION("on_crash", 0, "Action when the guest crashes"),
	ACTION("on_soft_reset", 6, "Action on a soft reset"),
	BOOL("e820_host", D_TYPE, "e820_host", T_PV, "Give a PV guest the host's memory map"),
	GRP("pci_msitranslate", KT_BOOL, T_ALL, "Default msitranslate of PCI devices"),
	GRP("pci_power_mgmt", KT_BOOL, T_ALL, "Default power_mgmt of PCI devices"),
	GRP("pci_permissive", KT_BOOL, T_ALL, "Default permissive of PCI devices"),
	GRP("pci_seize", KT_BOOL, T_ALL, "Default seize of PCI devices"),
	FN("rdm", KT_STRING, h_rdm, T_ALL, NULL, "Reserved device memory: strategy=host (xl ignores the whole value when it names a policy)"),
	DEVICES("pci", "pcidevs", h_pci, T_ALL, "PCI devices to pass through (xl-pci-configuration(5))"),
	DEVICES("dtdev", "dtdevs", h_dtdev, T_ALL, "Device tree nodes to pass through (Arm)"),
	ENUM("passthrough", D_CINFO, "passthrough", T_ALL, 0, VALUES("disabled", "enabled", "sync_pt",
	     "share_pt", "default"), 4, 4, "IOMMU page table sharing"),
	MIB("shadow_memory", D_BINFO, "shadow_memkb", T_ALL, "Shadow page table memory, in MiB"),
	BOOL("nomigrate", D_BINFO, "disable_migrate", T_ALL, "Forbid migration"),
	{ .name = "tsc_mode", .type = KT_ENUM, AT(D_BINFO, "tsc_mode"), .types = T_ALL,
	  .flags = KF_DEFAULT | KF_NUMBERED | KF_NUMBER_DEPRECATED, .values = VALUES("default", "always_emulate", "native", "native_paravirt"),
	  .dflt = 0, .idl_dflt = 0, .doc = "TSC mode (the number of a value is deprecated)" },
	U32("rtc_timeoffset", D_BINFO, "rtc_timeoffset", T_ALL, "RTC offset from UTC (or local time), in seconds"),
	FN("vncviewer", KT_INT, h_vncviewer, T_ALL, NULL, "Ignored by xl (use create -V)"),
	BOOLD("localtime", D_BINFO, "localtime", T_ALL, 0, "The RTC keeps local time instead of UTC"),
	MIB("videoram", D_BINFO, "video_memkb", T_ALL, "Video memory, in MiB"),
	U32("max_event_channels", D_BINFO, "event_channels", T_ALL, "Maximum event channels"),
	{ .name = "kernel", .type = KT_PATH, .fn = h_kernel, AT(D_BINFO, "kernel"), .types = T_ALL,
	  .doc = "Kernel to boot directly (resolved against the cfg directory; with a bootloader, a path inside the guest's disk)" },
	GRP("ramdisk", KT_PATH, T_ALL, "Initial ramdisk (resolved against the cfg directory)"),
	GRP("device_tree", KT_PATH, T_ALL, "Device tree blob (Arm)"),
	GRP("cmdline", KT_STRING, T_ALL, "Kernel command line (beats root and extra)"),
	GRP("root", KT_STRING, T_ALL, "Root device: the command line starts root=ROOT"),
	GRP("extra", KT_STRING, T_ALL, "Appended to the command line"),
	GRP("modules", KT_LIST, T_ALL, "kxl: [\"kernel\", \"ramdisk\", \"path,cmdline=...\", ...]: entry 0 is the kernel, entry 1 the ramdisk; more need pvh"),
	BOOL("driver_domain", D_CINFO, "driver_domain", T_ALL, "The domain is a driver domain"),
	BOOLD("acpi", D_BINFO, "acpi", T_ALL, 1, "Expose ACPI to the guest"),
	{ .name = "bootloader", .type = KT_PATH, .fn = h_bootloader, AT(D_BINFO, "bootloader"), .types = T_ALL,
	  .flags = KF_LOOKUP, .doc = "Bootloader program (pygrub): finds kernel, ramdisk and cmdline inside the guest's disk" },
	GRP("bootloader_args", KT_LIST, T_ALL, "Arguments of the bootloader (a list)"),
	{ .name = "timer_mode", .type = KT_ENUM, .fn = h_timer_mode, AT(D_BINFO, "timer_mode"), .types = T_ALL,
	  .flags = KF_DEFAULT | KF_NUMBERED | KF_NUMBER_DEPRECATED,
	  .values = VALUES("delay_for_missed_ticks", "no_delay_for_missed_ticks",
	  "no_missed_ticks_pending", "one_missed_tick_pending"), .dflt = 1, .idl_dflt = -1,
	  .doc = "Virtual timer mode (the number of a value is deprecated)" },
	BOOLD("nestedhvm", D_BINFO, "nested_hvm", T_ALL, 0, "Expose hardware virtualisation to the guest"),
	PHASE(h_hvm_kernel_check, T_HVM),
	PATH("firmware_override", D_TYPE, "firmware", T_HVM, KF_LOOKUP | KF_SILENT_TYPES,
	     "HVM firmware replacing hvmloader (a bare name is looked up in Xen's firmware directory)"),
	PATH("bios_path_override", D_TYPE, "system_firmware", T_HVM, KF_SILENT_TYPES,
	     "BIOS image (resolved against the cfg directory)"),
	{ .name = "bios", .type = KT_ENUM, .fn = h_bios, AT(D_TYPE, "bios"), .types = T_HVM,
	  .flags = KF_DEFAULT | KF_FILL, .values = VALUES("rombios", "seabios", "ovmf"), .dflt = 1,
	  .idl_dflt = -1, .fill_unless = "firmware", .doc = "HVM BIOS" },
	BOOL("pae", D_TYPE, "pae", T_HVM, "Physical address extension"),
	BOOL("acpi_s3", D_TYPE, "acpi_s3", T_HVM, "ACPI S3 (suspend to RAM)"),
	BOOL("acpi_s4", D_TYPE, "acpi_s4", T_HVM, "ACPI S4 (suspend to disk)"),
	BOOL("acpi_laptop_slate", D_TYPE, "acpi_laptop_slate", T_HVM, "ACPI laptop/slate switch"),
	BOOL("nx", D_TYPE, "nx", T_HVM, "No-execute bit"),
	BOOL("hpet", D_TYPE, "hpet", T_HVM, "HPET timer"),
	BOOL("vpt_align", D_TYPE, "vpt_align", T_HVM, "Align periodic timers"),
	BOOL("apic", D_BINFO, "apic", T_HVM, "Local APIC"),
	{ .name = "viridian", .type = KT_SPECIAL, .fn = h_viridian, AT(D_TYPE, "viridian"), .types = T_HVM,
	  .dflt_text = "off", .doc = "Hyper-V enlightenments: a boolean or a list of groups" },
	{ .name = "mmio_hole", .type = KT_INT, .fn = h_mmio_hole, AT(D_TYPE, "mmio_hole_memkb"), .types = T_HVM,
	  .min = 256, .max = 3840, .dflt_text = "libxl default", .doc = "MMIO hole below 4 GiB, in MiB" },
	{ .name = "altp2mhvm", .type = KT_BOOL, .fn = h_altp2mhvm, AT(D_TYPE, "altp2m"), .types = T_HVM,
	  .flags = KF_OWN_DEPRECATION, .deprecated = "altp2m", .doc = "Old name of altp2m" },
	STR("smbios_firmware", D_TYPE, "smbios_firmware", T_HVM, "SMBIOS tables file"),
	STR("acpi_firmware", D_TYPE, "acpi_firmware", T_HVM, "ACPI tables file"),
	{ .name = "ms_vm_genid", .type = KT_ENUM, .fn = h_ms_vm_genid, AT(D_TYPE, "ms_vm_genid"), .types = T_HVM,
	  .flags = KF_DEFAULT | KF_EXACT, .values = VALUES("none", "generate"), .dflt = 0, .idl_dflt = 0,
	  .doc = "Microsoft VM generation ID" },
	MIB("rdm_mem_boundary", D_TYPE, "rdm_mem_boundary_memkb", T_HVM, "RDM memory boundary, in MiB"),
	{ .name = "mca_caps", .type = KT_LIST, .fn = h_mca_caps, AT(D_TYPE, "mca_caps"), .types = T_HVM,
	  .dflt_text = "none", .doc = "Machine check capabilities: [\"lmce\"]" },
	FN("firmware", KT_SPECIAL, h_firmware, T_ALL, NULL, "hvm: ovmf, seabios, rombios (uefi and bios are pinned to one), or a path; pv/pvh: pvgrub32|pvgrub64; pvh: a path to a PVH firmware ELF"),
	{ .name = "altp2m", .type = KT_ENUM, AT(D_BINFO, "altp2m"), .types = T_ALL,
	  .flags = KF_DEFAULT | KF_NUMBERED, .values = VALUES("disabled", "mixed", "external", "limited"), .dflt = 0,
	  .idl_dflt = 0, .doc = "Alternate p2m (or its number)" },
	{ .name = "vmtrace_buf_kb", .type = KT_INT, .fn = h_vmtrace, AT(D_BINFO, "vmtrace_buf_kb"), .types = T_ALL,
	  .min = 1, .max = 0, .flags = KF_DEFAULT, .dflt = 0, .idl_dflt = 0,
	  .doc = "Processor trace buffer per vCPU, in KiB" },
	{ .name = "ioports", .type = KT_LIST, .fn = h_ioports, AT(D_BINFO, "ioports"), .types = T_ALL,
	  .dflt_text = "none", .doc = "I/O port ranges to pass through (hex)" },
	{ .name = "irqs", .type = KT_LIST, .fn = h_irqs, AT(D_BINFO, "irqs"), .types = T_ALL,
	  .dflt_text = "none", .doc = "IRQs to pass through" },
	{ .name = "iomem", .type = KT_LIST, .fn = h_iomem, AT(D_BINFO, "iomem"), .types = T_ALL,
	  .dflt_text = "none", .doc = "Memory ranges to pass through: START,NUM[@GFN] in hex pages" },
	DEVICES("disk", "disks", h_disk, T_ALL, "Disks (xl-disk-configuration(5)); file targets resolve against the cfg directory. The prefixes `file:', `phy:', `tap:', `tap2:', `tapdisk:', `aio:', `ioemu:' and the format and script prefixes (`raw:', `qcow2:', ..., `drbd:', ...) are deprecated: write format= and script="),
	DEVICES("p9", "p9s", h_p9, T_ALL, "9pfs shares: tag=,path=,security_model=[,backend=]"),
	DEVICES("vtpm", "vtpms", h_vtpm, T_ALL, "Virtual TPMs: backend=[,uuid=]"),
	DEVICES("vdispl", "vdispls", h_vdispl, T_ALL, "Virtual displays: backend=,be-alloc=,connectors=ID:WxH;..."),
	DEVICES("pvcalls", "pvcallsifs", h_pvcalls, T_ALL, "PV calls back ends: backend="),
	DEVICES("vsnd", "vsnds", h_vsnd, T_ALL, "Virtual sound cards: a list per card of \"card, ...\", \"pcm, ...\", \"stream, ...\""),
	DEVICES("channel", "channels", h_channel, T_ALL, "Channels: connection=pty|socket,name=[,path=][,backend=]"),
	DEVICES("vif", "nics", h_vif, T_ALL, "Network interfaces (xl-network-configuration(5))"),
	DEVICES("vif2", NULL, h_vif2, T_ALL, "Netchannel2 interfaces: not supported (as in xl)"),
	DEVICES("vfb", "vfbs", h_vfb, T_ALL, "PV framebuffers: vnc=,vnclisten=,sdl=,..."),
	DEVICES("usbctrl", "usbctrls", h_usbctrl, T_ALL, "USB controllers: type=,version=,ports="),
	DEVICES("usbdev", "usbdevs", h_usbdev, T_ALL, "USB host devices: hostbus=,hostaddr=[,controller=,port=]"),
	{ .name = "cpuid", .type = KT_SPECIAL, .fn = h_cpuid, AT(D_BINFO, "cpuid"), .types = T_ALL,
	  .dflt_text = "host", .doc = "CPUID policy: \"host,FLAG=V,...\" or xend's list form" },
	FN("device_model", KT_STRING, h_device_model, T_ALL, NULL, "Ignored by xl: use device_model_override"),
	{ .name = "device_model_override", .type = KT_PATH, .flags = KF_GROUP | KF_LOOKUP, .types = T_ALL,
	  .doc = "Device model binary" },
	{ .name = "device_model_version", .type = KT_ENUM, .flags = KF_GROUP | KF_EXACT | KF_DEFAULT, .types = T_ALL,
	  AT(D_BINFO, "device_model_version"), .values = VALUES("qemu-xen", "qemu-xen-traditional"),
	  .idl_values = VALUES("qemu_xen", "qemu_xen_traditional"), .dflt = 0, .idl_dflt = -1,
	  .doc = "Device model" },
	BOOL("device_model_stubdomain_override", D_BINFO, "device_model_stubdomain", T_ALL, "Run the device model in a stub domain"),
	STR("device_model_stubdomain_seclabel", D_BINFO, "device_model_ssid_label", T_ALL, "XSM label of the stub domain"),
	STR("device_model_user", D_BINFO, "device_model_user", T_ALL, "User the device model runs as"),
	STR("stubdomain_kernel", D_BINFO, "stubdomain_kernel", T_ALL, "Stub domain kernel"),
	STR("stubdomain_cmdline", D_BINFO, "stubdomain_cmdline", T_ALL, "Stub domain command line"),
	STR("stubdomain_ramdisk", D_BINFO, "stubdomain_ramdisk", T_ALL, "Stub domain ramdisk"),
	MIB("stubdomain_memory", D_BINFO, "stubdomain_memkb", T_ALL, "Stub domain memory, in MiB"),
	{ .name = "device_model_args", .type = KT_LIST, AT(D_BINFO, "extra"), .types = T_ALL,
	  .dflt_text = "none", .doc = "Extra device model arguments" },
	{ .name = "device_model_args_pv", .type = KT_LIST, AT(D_BINFO, "extra_pv"), .types = T_ALL,
	  .dflt_text = "none", .doc = "Extra device model arguments for pv" },
	{ .name = "device_model_args_hvm", .type = KT_LIST, AT(D_BINFO, "extra_hvm"), .types = T_ALL,
	  .dflt_text = "none", .doc = "Extra device model arguments for hvm" },
	/* the vnc_info and sdl_info fields: h_vnc_sdl applies them into a vfb
	 * (pv) or the hvm device model's console */
	{ .name = "vnc", .type = KT_BOOL, .fn = h_vnc_sdl, AT(D_VNC, "enable"), .types = T_ALL,
	  .dflt_text = "off", .doc = "VNC console" },
	GRPAT("vnclisten", KT_STRING, D_VNC, "listen", "VNC listen address"),
	GRPAT("vncpasswd", KT_STRING, D_VNC, "passwd", "VNC password"),
	{ .name = "vncdisplay", .type = KT_INT, .flags = KF_GROUP | KF_DEFAULT, AT(D_VNC, "display"),
	  .types = T_ALL, .ctype = CT_INT, .idl_dflt = 0, .dflt = 0, .doc = "VNC display number" },
	GRPAT("vncunused", KT_BOOL, D_VNC, "findunused", "Find an unused VNC port"),
	GRPAT("sdl", KT_BOOL, D_SDL, "enable", "SDL console"),
	GRPAT("opengl", KT_BOOL, D_SDL, "opengl", "OpenGL in the SDL console"),
	GRPAT("display", KT_STRING, D_SDL, "display", "X display for SDL"),
	GRPAT("xauthority", KT_STRING, D_SDL, "xauthority", "X authority file for SDL"),
	GRP("keymap", KT_STRING, T_ALL, "Keyboard map of the VNC/SDL console"),
	BOOL("dm_restrict", D_BINFO, "dm_restrict", T_ALL, "Restrict the device model"),
	{ .name = "vga", .type = KT_ENUM, .fn = h_vga, AT(D_TYPE, "vga"), .types = T_HVM,
	  .values = VALUES("stdvga", "cirrus", "qxl", "none"), .idl_values = VALUES("std", "cirrus", "qxl", "none"),
	  .flags = KF_DEFAULT | KF_EXACT, .dflt = 1, .idl_dflt = -1, .doc = "Emulated graphics" },
	GRP("stdvga", KT_BOOL, T_HVM, "Old form of vga: 1 = stdvga, 0 = cirrus"),
	ENUM("hdtype", D_TYPE, "hdtype", T_HVM, KF_SILENT_TYPES, VALUES("ide", "ahci"), 0, 0, "Emulated disk type"),
	STR("keymap", D_TYPE, "keymap", T_HVM, NULL),
	BOOL("spice", D_SPICE, "enable", T_HVM, "SPICE console"),
	LNG0("spiceport", D_SPICE, "port", T_HVM, "SPICE port"),
	LNG0("spicetls_port", D_SPICE, "tls_port", T_HVM, "SPICE TLS port"),
	STR("spicehost", D_SPICE, "host", T_HVM, "SPICE listen address"),
	BOOL("spicedisable_ticketing", D_SPICE, "disable_ticketing", T_HVM, "SPICE without a password"),
	STR("spicepasswd", D_SPICE, "passwd", T_HVM, "SPICE password"),
	BOOL("spiceagent_mouse", D_SPICE, "agent_mouse", T_HVM, "SPICE agent mouse"),
	BOOL("spicevdagent", D_SPICE, "vdagent", T_HVM, "SPICE vdagent"),
	BOOL("spice_clipboard_sharing", D_SPICE, "clipboard_sharing", T_HVM, "SPICE clipboard sharing"),
	LNG0("spiceusbredirection", D_SPICE, "usbredirection", T_HVM, "SPICE USB redirection channels"),
	STR("spice_image_compression", D_SPICE, "image_compression", T_HVM, "SPICE image compression"),
	STR("spice_streaming_video", D_SPICE, "streaming_video", T_HVM, "SPICE video streaming"),
	BOOL("nographic", D_TYPE, "nographic", T_HVM, "No graphics"),
	FN("gfx_passthru", KT_SPECIAL, h_gfx_passthru, T_HVM, "off", "Graphics passthrough: a boolean, default or igd"),
	{ .name = "serial", .type = KT_SPECIAL, .fn = h_strlist_or_string, AT(D_TYPE, "serial"),
	  .list_field = "serial_list", .types = T_HVM, .doc = "Emulated serial ports (a string or a list)" },
	STR("boot", D_TYPE, "boot", T_HVM, "Boot order (c disk, d cdrom, n network)"),
	BOOL("usb", D_TYPE, "usb", T_HVM, "Emulated USB"),
	LNG0("usbversion", D_TYPE, "usbversion", T_HVM, "Emulated USB version"),
	{ .name = "usbdevice", .type = KT_SPECIAL, .fn = h_strlist_or_string, AT(D_TYPE, "usbdevice"),
	  .list_field = "usbdevice_list", .types = T_HVM, .doc = "Emulated USB devices (a string or a list)" },
	BOOL("vkb_device", D_TYPE, "vkb_device", T_HVM, "PV keyboard"),
	STR("soundhw", D_TYPE, "soundhw", T_HVM, "Emulated sound card"),
	BOOL("xen_platform_pci", D_TYPE, "xen_platform_pci", T_HVM, "Xen platform PCI device"),
	PHASE(h_vnc_check, T_HVM),
	{ .name = "vendor_device", .type = KT_ENUM, .fn = h_vendor_device, AT(D_TYPE, "vendor_device"),
	  .types = T_HVM, .flags = KF_DEFAULT, .values = VALUES("none", "xenserver"), .dflt = 0, .idl_dflt = 0,
	  .doc = "Vendor PCI device" },
	ENUM("gic_version", D_ARM, "gic_version", T_ALL, KF_QUIET, VALUES("default", "v2", "v3"), 0, 0, "Arm GIC version"),
	ENUM("tee", D_BINFO, "tee", T_ALL, KF_QUIET, VALUES("none", "optee"), 0, 0, "Arm TEE mediator"),
	DEVICES("vkb", "vkbs", h_vkb, T_ALL, "PV keyboards: backend-type=qemu|linux[,backend=,unique-id=,feature-...=,width=,height=]"),
	BOOL("xend_suspend_evtchn_compat", D_CINFO, "xend_suspend_evtchn_compat", T_ALL, "xend-compatible suspend event channel"),
	{ .name = "msr_relaxed", .type = KT_BOOL, .fn = h_msr_relaxed, AT(D_X86, "msr_relaxed"), .types = T_ALL,
	  .doc = "Relaxed MSR policy (to be removed by Xen)" },
	BOOL("vpmu", D_BINFO, "vpmu", T_ALL, "Virtual performance counters"),
};


size_t m_keys(const struct key **out)
{
	*out = keys;
	return ARRAY_SIZE(keys);
}

json_object *m_dest(struct mctx *m, const struct key *k)
{
	switch (k->dest) {
	case D_ROOT: return m->root;
	case D_CINFO: return m->c_info;
	case D_BINFO: return m->b_info;
	case D_TYPE: return m->type_obj;
	case D_SCHED: return j_obj(m->b_info, "sched_params");
	case D_ARM: return j_obj(m->b_info, "arch_arm");
	case D_X86: return j_obj(m->b_info, "arch_x86");
	case D_SPICE: return j_obj(m->type_obj, "spice");
	case D_VNC: case D_SDL: case D_NONE: break;
	}
	return NULL;
}

const char *m_dest_idl(enum key_dest dest, int type)
{
	switch (dest) {
	case D_ROOT: return "domain_config";
	case D_CINFO: return "domain_create_info";
	case D_BINFO: return "domain_build_info";
	case D_TYPE: return type == T_HVM ? "domain_build_info.u.hvm" : type == T_PVH ?
			    "domain_build_info.u.pvh" : "domain_build_info.u.pv";
	case D_SCHED: return "domain_sched_params";
	case D_ARM: return "domain_build_info.arch_arm";
	case D_X86: return "domain_build_info.arch_x86";
	case D_SPICE: return "spice_info";
	case D_VNC: return "vnc_info";
	case D_SDL: return "sdl_info";
	case D_NONE: break;
	}
	return NULL;
}

int m_enum_index(const struct key *k, const char *s)
{
	for (int i = 0; k->values && k->values[i]; i++)
		if (k->flags & KF_EXACT ? !strcmp(s, k->values[i]) : !strcasecmp(s, k->values[i]))
			return i;
	return -1;
}

const char *m_enum_idl(const struct key *k, long i)
{
	return k->idl_values ? k->idl_values[i] : k->values[i];
}

char *m_enum_list(const struct key *k)
{
	struct sbuf b = { 0 };
	for (int j = 0; k->values && k->values[j]; j++)
		sbuf_printf(&b, "%s%s", j ? ", " : "", k->values[j]);
	return b.s ? sbuf_steal(&b) : xstrdup("");
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

/* A row's value, read as its type says, stored in o (an IDL default is not
 * printed, as libxl does not): a row without a handler, or one a handler
 * applies into an object it picks. */
void m_apply_into(struct mctx *m, const struct key *k, json_object *o)
{
	const char *s;
	long l;
	switch (k->type) {
	case KT_STRING:
		m_replace_string(m, k->name, false, o, k->field);
		break;
	case KT_PATH:
		if (!m_string(m, k->name, false, &s)) {
			char *p = k->flags & KF_LOOKUP ? m_resolve_lookup(m, k->name, s) : m_resolve(m, k->name, s);
			j_str(o, k->field, p);
			free(p);
		}
		break;
	case KT_INT: {
		if (m_long(m, k->name, false, &l)) return;
		/* xl stores the long into the IDL's C type: int or uint32_t */
		int64_t v = k->ctype == CT_UINT32 ? (int64_t)(uint32_t)l : (int64_t)(int32_t)(uint32_t)l;
		if (v != k->idl_dflt)
			j_int(o, k->field, v);
		break;
	}
	case KT_SIZE: {
		if (m_long(m, k->name, true, &l)) {
			mib_not_a_number(m, k->name);
			return;
		}
		/* libxl's MemKB is a uint64: xl wraps negative and huge sizes */
		uint64_t kb = (uint64_t)l * 1024;
		if (kb > (uint64_t)INT64_MAX)
			json_object_object_add(o, k->field, json_object_new_uint64(kb));
		else
			j_int(o, k->field, (int64_t)kb);
		break;
	}
	case KT_BOOL:
		m_defbool(m, k->name, false, o, k->field);
		break;
	case KT_ENUM: {
		int i;
		if ((k->flags & KF_NUMBERED) && !m_long(m, k->name, true, &l)) {
			long n = 0;
			while (k->values[n]) n++;
			if (l < 0 || l >= n) {
				m_error(m, k->name, "invalid value %ld for \"%s\" (0-%ld)", l, k->name, n - 1);
				return;
			}
			if (k->flags & KF_NUMBER_DEPRECATED)
				m_deprecated(m, k->name, "specifying \"%s\" as an integer is deprecated; write "
					     "%s = \"%s\"", k->name, k->name, k->values[l]);
			i = (int)l;
		} else {
			if (m_string(m, k->name, k->flags & KF_QUIET, &s)) return;
			i = m_enum_index(k, s);
			if (i < 0) {
				char *vals = m_enum_list(k);
				m_error(m, k->name, "invalid value \"%s\" for \"%s\" (%s)", s, k->name, vals);
				free(vals);
				return;
			}
		}
		if (i != k->idl_dflt)
			j_str(o, k->field, m_enum_idl(k, i));
		break;
	}
	case KT_LIST: {
		const struct kxl_cfg_value *list;
		if (m_list(m, k->name, false, &list)) return;
		json_object *a = j_arr(o, k->field);
		for (size_t i = 0; i < list->n; i++)
			if (list->items[i]->type == KXL_CFG_STRING)
				json_object_array_add(a, json_object_new_string(list->items[i]->str));
		break;
	}
	case KT_DEVICES:
	case KT_SPECIAL:
		break;	/* always a handler */
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
	_Static_assert(ARRAY_SIZE(keys) < ARRAY_SIZE(key_index) / 2,
		       "the key index stays at most half full");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		key_hash[i] = m_hash(keys[i].name);
		if (keys[i].name[0]) key_index_add(keys[i].name);
	}
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

/* the domain types of a row: "hvm", "pv and pvh" (sep " and "), ... */
static const char *types_name(unsigned t, const char *sep)
{
	if (t == T_ALL) return "all";
	if (t == T_HVM || t == T_PV || t == T_PVH) return type_name((int)t);
	bool comma = sep[0] == ',';
	if (t == (T_PV | T_PVH)) return comma ? "pv, pvh" : "pv and pvh";
	return comma ? "hvm, pvh" : "hvm and pvh";
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
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].flags & KF_FIRST) keys[i].fn(&m, &keys[i]);
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
		if (k->flags & (KF_FIRST | KF_GROUP)) continue;
		if (k->flags & KF_PHASE) {
			if (k->types & m.type) k->fn(&m, k);
			continue;
		}
		/* a key without a handler that is not set has nothing to do (most are not) */
		bool set = m_find_h(&m, k->name, key_hash[i]) != NULL;
		if (!k->fn && !set) continue;
		if (!(k->types & m.type)) {
			if (set && !k->fn && !(k->flags & KF_SILENT_TYPES) && k->doc)
				kxl_diag_add(d, KXL_NOTE, (struct kxl_loc[]){ m_loc(&m, k->name) },
					     "`%s' applies to %s guests only; ignored for this %s guest", k->name,
					     types_name(k->types, " and "), type_name(m.type));
			continue;
		}
		if (k->fn) k->fn(&m, k);
		else m_apply_into(&m, k, m_dest(&m, k));
		if (k->deprecated && set && !(k->flags & KF_OWN_DEPRECATION))
			kxl_diag_add(d, KXL_DEPRECATED, (struct kxl_loc[]){ m_loc(&m, k->name) },
				     "`%s' is deprecated; use `%s'", k->name, k->deprecated);
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
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_object *a;
		if (keys[i].type == KT_DEVICES && keys[i].field &&
		    json_object_object_get_ex(m.root, keys[i].field, &a) && !json_object_array_length(a))
			json_object_object_del(m.root, keys[i].field);
	}
	dom->config = m.root;
	m_index_free(&m);
	if (d->errors || m.failed) return -1;
	kxl_domain_view(dom);
	dom->pvh_firmware = m.pvh_firmware_path;
	return 0;
}

const struct key *m_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name)) return &keys[i];
	return NULL;
}

/* A row's destination object in a config read back from JSON (no walk):
 * NULL when the config has none (a type's union of another type). */
static json_object *json_dest(json_object *root, const struct key *k)
{
	json_object *c = NULL, *b = NULL, *t = NULL, *o = NULL;
	json_object_object_get_ex(root, "c_info", &c);
	json_object_object_get_ex(root, "b_info", &b);
	const char *type = NULL;
	if (c && json_object_object_get_ex(c, "type", &o)) type = json_object_get_string(o);
	int ty = type && !strcmp(type, "hvm") ? T_HVM : type && !strcmp(type, "pvh") ? T_PVH : T_PV;
	if (b && (k->types & ty))
		json_object_object_get_ex(b, ty == T_HVM ? "type.hvm" : ty == T_PVH ? "type.pvh" : "type.pv", &t);
	switch (k->dest) {
	case D_ROOT: return root;
	case D_CINFO: return c;
	case D_BINFO: return b;
	case D_TYPE: return t;
	case D_SCHED: return b ? j_obj(b, "sched_params") : NULL;
	case D_ARM: return b ? j_obj(b, "arch_arm") : NULL;
	case D_X86: return b ? j_obj(b, "arch_x86") : NULL;
	case D_SPICE: return t ? j_obj(t, "spice") : NULL;
	case D_VNC: case D_SDL: case D_NONE: break;
	}
	return NULL;
}

/* k's default is src's value (in so): a copy, or a bitmap's size. */
static void copy_default(json_object *o, const struct key *k, json_object *so, const struct key *src)
{
	json_object *v;
	if (!o || !so || json_object_object_get_ex(o, k->field, NULL) ||
	    !json_object_object_get_ex(so, src->field, &v))
		return;
	if (json_object_is_type(v, json_type_array))
		j_int(o, k->field, (int64_t)json_object_array_length(v));
	else
		json_object_object_add_ex(o, k->field, json_object_get(v), JSON_C_OBJECT_KEY_IS_CONSTANT);
}

void m_default_from_key(struct mctx *m, const struct key *k)
{
	const struct key *src = m_key(k->dflt_key);
	copy_default(m_dest(m, k), k, m_dest(m, src), src);
}

void m_fill_defaults(json_object *root)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		json_object *o = (k->flags & KF_FILL) ? json_dest(root, k) : NULL;
		if (!o || json_object_object_get_ex(o, k->field, NULL) ||
		    (k->fill_unless && json_object_object_get_ex(o, k->fill_unless, NULL)))
			continue;
		if (k->dflt_key) {	/* another key's value (filled first: the table's order) */
			const struct key *src = m_key(k->dflt_key);
			copy_default(o, k, json_dest(root, src), src);
			continue;
		}
		switch (k->type) {
		case KT_SIZE: j_int(o, k->field, (int64_t)k->dflt * 1024); break;
		case KT_BOOL: j_defbool(o, k->field, k->dflt != 0); break;
		case KT_ENUM: j_str(o, k->field, m_enum_idl(k, k->idl_dflt >= 0 ? k->idl_dflt : k->dflt)); break;
		case KT_INT:
			if (k->flags & KF_BITMAP) j_bitmap_range(o, k->field, k->dflt);
			else j_int(o, k->field, k->dflt);
			break;
		default: break;
		}
	}
}

static const char *kind_name(const struct key *k)
{
	switch (k->type) {
	case KT_STRING: return "string";
	case KT_INT: return "number";
	case KT_SIZE: return "number (MiB)";
	case KT_BOOL: return "boolean (0/1)";
	case KT_ENUM: return k->flags & KF_NUMBERED ? "enum (or a value's number)" : "enum";
	case KT_PATH: return k->flags & KF_LOOKUP ? "path|name" : "path";
	case KT_LIST: return "list";
	case KT_DEVICES: return "device specs";
	case KT_SPECIAL: break;
	}
	return "see text";
}

/* The default a row declares, as the man page says it. */
static char *default_text(const struct key *k)
{
	if (k->dflt_key) return xasprintf("the value of %s", k->dflt_key);
	if (k->conf_dflt) {
		struct kxl_conf c;
		kxl_conf_defaults(&c);
		long v = *(const long *)(const void *)((const char *)&c + k->conf_dflt - 1);
		kxl_conf_free(&c);
		return v == -1 ? xasprintf("xl.conf's %s (unset there: Xen's default)", k->name) :
				 xasprintf("xl.conf's %s (%ld)", k->name, v);
	}
	if (k->flags & KF_DEFAULT) {
		switch (k->type) {
		case KT_ENUM: return xstrdup(k->values[k->dflt]);
		case KT_SIZE: return xasprintf("%ld MiB", k->dflt);
		case KT_BOOL: return xstrdup(k->dflt ? "1" : "0");
		case KT_INT: return xasprintf("%ld", k->dflt);
		default: break;
		}
	}
	if (k->dflt_text) return xstrdup(k->dflt_text);
	if (k->type == KT_BOOL) return xstrdup("libxl default");
	return xstrdup("unset");
}

size_t kxl_keys_doc(const struct kxl_key_doc **out)
{
	static struct kxl_key_doc docs[ARRAY_SIZE(keys)];
	static size_t n;
	if (!n) {
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			const struct key *k = &keys[i];
			if (!k->name[0] || !k->doc) continue;
			/* kept for the life of the process, as the table is */
			docs[n++] = (struct kxl_key_doc){ k->name, kind_name(k), types_name(k->types, ", "),
				default_text(k), k->deprecated, k->doc,
				k->min < k->max ? xasprintf("%ld to %ld", k->min, k->max) : NULL,
				k->type == KT_ENUM ? m_enum_list(k) : NULL };
		}
	}
	*out = docs;
	return n;
}
