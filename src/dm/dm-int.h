/*
 * dm-int.h: what the files of src/dm share: the state of one command line
 * being built (struct dm), reading the model's JSON, and adding arguments
 * and messages. Each family of keys is one function (struct dm_family),
 * listed in order in qemu-args.c's table.
 */
#ifndef KXL_DM_INT_H
#define KXL_DM_INT_H

#include <kxl/dm.h>

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct dm {
	const struct kxl_domain *dom;
	const struct kxl_cfg *cfg;
	const struct kxl_dm_opts *o;
	json_object *root, *c, *b, *h;	/* the config with libxl's defaults filled */
	json_object *ob, *oh, *oc;	/* b_info, type.hvm, c_info as xl wrote them */
	struct kxl_dm_argv *a;
	struct kxl_diag *d;
	bool q35;		/* device_model_args(_hvm) ask for -machine q35 */
	bool failed;
};

struct dm_family {
	const char *name;	/* the keys, for kxl.cfg(5) and messages */
	void (*fn)(struct dm *m);
};

/* JSON of the model. A defbool is "True" or "False". */
json_object *dm_get(json_object *o, const char *k);
const char *dm_gets(json_object *o, const char *k);
bool dm_bool(json_object *o, const char *k, bool dflt);
bool dm_isset(json_object *o, const char *k);
int64_t dm_int(json_object *o, const char *k, int64_t dflt);

/* Arguments. */
void dm_add(struct dm *m, const char *arg);
__attribute__((format(printf, 2, 3))) void dm_addf(struct dm *m, const char *fmt, ...);
void dm_pair(struct dm *m, const char *opt, const char *val);
__attribute__((format(printf, 3, 4))) void dm_pairf(struct dm *m, const char *opt, const char *fmt, ...);

/* Messages at the value of the xl key (entry idx of a list, or -1). */
__attribute__((format(printf, 4, 5)))
void dm_msg(struct dm *m, enum kxl_severity sev, const char *key, const char *fmt, ...);
__attribute__((format(printf, 4, 5)))
void dm_msg_at(struct dm *m, enum kxl_severity sev, const char *key_idx, const char *fmt, ...);
struct kxl_loc dm_loc(const struct dm *m, const char *key, long idx);

/* A value inside a QEMU option: its commas doubled. Caller frees. */
char *dm_esc(const char *s);

/* The families (one file each area). */
void dm_fam_always(struct dm *m);	/* qemu-args.c */
void dm_fam_machine(struct dm *m);	/* platform.c */
void dm_fam_cpu(struct dm *m);
void dm_fam_memory(struct dm *m);
void dm_fam_acpi(struct dm *m);
void dm_fam_clock(struct dm *m);
void dm_fam_firmware(struct dm *m);	/* firmware.c */
void dm_fam_direct_boot(struct dm *m);
void dm_fam_tables(struct dm *m);
void dm_fam_display(struct dm *m);	/* display.c */
void dm_fam_vga(struct dm *m);
void dm_fam_serial(struct dm *m);	/* devices.c */
void dm_fam_usb(struct dm *m);
void dm_fam_sound(struct dm *m);
void dm_fam_genid(struct dm *m);
void dm_fam_pci(struct dm *m);
void dm_fam_boot_order(struct dm *m);
void dm_fam_disks(struct dm *m);	/* disks.c */
void dm_fam_nics(struct dm *m);		/* nics.c */
void dm_fam_no_kvm(struct dm *m);	/* no-kvm.c */
void dm_fam_restrict(struct dm *m);	/* restrict.c */
/* Whether dm_fam_restrict adds -runas (the sandbox lets QEMU switch once). */
bool dm_switches_user(struct dm *m);
void dm_fam_extra(struct dm *m);	/* qemu-args.c */

#endif
