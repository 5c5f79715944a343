/*
 * model.h: the domain configuration (src/model).
 *
 * The model is libxl's libxl_domain_config as data: a json-c tree keyed by
 * libxl's IDL names (c_info, b_info with its "type.pv|pvh|hvm" union, disks,
 * nics, ..., on_* actions). Fields are present only when set, so the tree
 * printed is what `xl -N create` prints: the pre-default config. It is built
 * from a parsed xl.cfg by walking one declarative, typed key table (keys.c),
 * which also holds the defaults (kxl_domain_fill_defaults, the typed view,
 * the boot spec) and drives the deprecation list and the kxl.cfg(5) key
 * reference.
 *
 * kxl's additions over libxl, documented in kxl.cfg(5): paths resolved
 * against the cfg file's directory, concrete firmware names pinned in
 * type.hvm.bios, and b_info.modules.
 */
#ifndef KXL_MODEL_H
#define KXL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/boot.h>
#include <kxl/cfg.h>
#include <kxl/diag.h>
#include <kxl/vmm.h>

struct json_object;

/* A row of a key table, for docs and `did you mean': bounds ("0 to 65536")
 * and values ("pv, pvh, hvm") are NULL when the key has none. */
struct kxl_key_doc {
	const char *name, *kind, *types, *deflt, *deprecated, *doc;
	const char *bounds, *values;
};

/* xl.conf(5) settings that shape the model (kxl reads /etc/kxl/kxl.conf). */
struct kxl_conf {
	bool run_hotplug_scripts;
	bool claim_mode;
	long max_grant_frames, max_maptrack_frames, max_grant_version;
	char *vif_script, *default_bridge, *default_gatewaydev, *default_backend;
	char *blkdev_start;
	char *firmware_dir;	/* Xen's firmware directory, for pvgrub names */
	char *bootloader_dir;	/* where a bare bootloader name is looked up */
	char *vm_cpumask, *vm_hvm_cpumask, *vm_pv_cpumask;	/* masks of hard affinity */
	char *domid_policy, *autoballoon, *lockfile, *output_format;
	char *remus_netbufscript, *colo_proxyscript;
};

/* The keys of kxl.conf (xl.conf(5) and kxl's own), for docs. */
size_t kxl_conf_keys_doc(const struct kxl_key_doc **out);

void kxl_conf_defaults(struct kxl_conf *c);
/* Reads path (if it exists) over the defaults. */
int kxl_conf_load(struct kxl_conf *c, const char *path, struct kxl_diag *d);
void kxl_conf_free(struct kxl_conf *c);

enum kxl_domain_type { KXL_TYPE_PV, KXL_TYPE_PVH, KXL_TYPE_HVM };
/* enum kxl_action (destroy, restart, ...) is the VMM's: include/kxl/vmm.h */

struct kxl_domain {
	struct json_object *config;	/* libxl_domain_config; owned */
	/* A typed view of what kxl itself acts on (filled by kxl_domain_view). */
	enum kxl_domain_type type;
	const char *name;
	uint64_t target_memkb, max_memkb;	/* 0: not set */
	unsigned vcpus, max_vcpus;		/* 0: not set */
	const char *kernel, *ramdisk, *cmdline, *bootloader;
	struct kxl_boot_module *modules;	/* b_info.modules */
	size_t nr_modules;
	bool has_modules;
	bool pvh_firmware;	/* kernel is a PVH firmware path (ask d) */
	enum kxl_action on_poweroff, on_reboot, on_crash, on_watchdog, on_soft_reset;
	bool localtime;
	long rtc_timeoffset;
	bool acpi;
	bool pvshim;
	size_t nr_disks, nr_nics, nr_other_devices;
};

/* Builds the model from a parsed cfg. Returns 0, or -1 when xl would refuse
 * the file (the reasons are in d). Warnings go to d as well. */
int kxl_domain_from_cfg(struct kxl_domain *dom, const struct kxl_cfg *cfg,
			const struct kxl_conf *conf, struct kxl_diag *d);
/* The checks libxl makes later at create time (`xl -N` does not). */
int kxl_domain_check_create(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			    struct kxl_diag *d);
/* Re-reads a model from libxl JSON (round trip). */
int kxl_domain_from_json(struct kxl_domain *dom, const char *json, struct kxl_diag *d);
void kxl_domain_view(struct kxl_domain *dom);
void kxl_domain_free(struct kxl_domain *dom);
/* The JSON text (pretty, 4 spaces, `/' unescaped). Caller frees. */
char *kxl_domain_json(const struct kxl_domain *dom);

/* Fills the defaults libxl applies before building (for `list -l`). */
void kxl_domain_fill_defaults(struct kxl_domain *dom);

/* The boot specification for the builder (paths already resolved). With a
 * bootloader (kxl's own only: see kxl_bootloader_is_kxl) the kernel, its
 * modules and the command line are left empty: kxl_bootloader_boot()
 * (include/kxl/bootloader.h) finds them in the guest's disk. */
int kxl_domain_boot_spec(const struct kxl_domain *dom, struct kxl_boot_spec *spec,
			 struct kxl_diag *d);
/* Whether bootloader= names kxl's own bootloader: pygrub by any path
 * (pygrub, /usr/bin/pygrub, /usr/lib/xen-4.17/bin/pygrub) or kxl-bootloader. */
bool kxl_bootloader_is_kxl(const char *bootloader);
void kxl_boot_spec_free(struct kxl_boot_spec *spec);

const char *kxl_domain_action_name(enum kxl_action a);

/* ---- disks on KVM (disks.c) ----
 * The disks the VMM serves, in xl vdev order (disk index, then partition):
 * v[i] is the guest's /dev/vd<'a'+i>, its strings point into dom and
 * names. cmdline is dom's kernel command line with the Xen disk names
 * (/dev/xvdXN, hdXN, sdXN) rewritten to the guest's, or NULL when nothing
 * changed; each rewrite is a note in d. What KVM cannot serve (script=,
 * drbd:, driver domains, standalone backends, protocol targets, missing
 * files, QEMU formats without qemu-storage-daemon installed) is an error
 * at cfg's disk spec.
 * cfg may be NULL (no locations). Returns 0 or -1. */
struct kxl_domain_disks {
	struct kxl_vmm_disk *v;
	size_t n;
	char **names;		/* the guest names ("vda"), owned */
	char *cmdline;		/* owned, or NULL */
};
int kxl_domain_vmm_disks(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			 struct kxl_domain_disks *out, struct kxl_diag *d);
void kxl_domain_disks_free(struct kxl_domain_disks *dd);

/* A Xen vdev (xvdX, hdX, sdX with an optional partition, dN, dNpM, or an
 * xvd device number) as disk index (a = 0) and partition (0: the whole
 * disk), with libxl's bounds. Returns 0, or -1 when xl would refuse it. */
int kxl_vdev_parse(const char *vdev, unsigned *disk, unsigned *part);
/* The guest's name of the disk at position index: vda, ..., vdz, vdaa. */
void kxl_vdev_guest_name(unsigned index, char *buf, size_t cap);
/* The command line with every /dev/ name of one of the disks (xvd, hd, sd
 * forms) replaced by the guest's name; NULL when nothing changed. Notes
 * (and a warning for a name that is none of the disks) go to d. */
char *kxl_cmdline_map_disks(const char *cmdline, const struct kxl_vmm_disk *disks, size_t n,
			    struct kxl_diag *d);

/* ---- network interfaces on KVM (nics.c) ----
 * The model's nics as the VMM's virtio-net devices, in the config's order:
 * v[i] is vif i, its strings point into dom (and into scripts). A NIC
 * without mac= gets xl's random 00:16:3e:xx:xx:xx here (the model's JSON
 * is left alone). What KVM cannot do (Xen's hotplug scripts, driver
 * domains, type=ioemu on PV/PVH, ...) is an error at cfg's vif spec; cfg
 * may be NULL (no locations). Returns 0 or -1. */
struct kxl_domain_nics {
	struct kxl_vmm_nic *v;
	size_t n;
	char **scripts;		/* the resolved script paths, owned (NULL entries) */
};
int kxl_domain_vmm_nics(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			struct kxl_domain_nics *out, struct kxl_diag *d);
void kxl_domain_nics_free(struct kxl_domain_nics *dn);
/* "00:16:3e:12:34:56" -> bytes: 0, or -1 when it is not six hex bytes. */
int kxl_mac_parse(const char *s, uint8_t mac[6]);
/* xl's default MAC: 00:16:3e and three random bytes, the first below 0x80. */
void kxl_mac_random(uint8_t mac[6]);

size_t kxl_keys_doc(const struct kxl_key_doc **out);

#endif
