/*
 * handlers.h: the custom handlers that the key table (keys.c) names for keys
 * whose meaning is more than "store this value there". Each receives its
 * row: the key's name, libxl's destination, bounds, values and defaults.
 */
#ifndef KXL_MODEL_HANDLERS_H
#define KXL_MODEL_HANDLERS_H

#include "model/keys.h"

void h_type(struct mctx *m, const struct key *key);
void h_kernel(struct mctx *m, const struct key *key);
void h_bootloader(struct mctx *m, const struct key *key);
void h_firmware(struct mctx *m, const struct key *key);
void h_hvm_kernel_check(struct mctx *m, const struct key *key);

void h_seclabel(struct mctx *m, const struct key *key);
void h_name(struct mctx *m, const struct key *key);
void h_uuid(struct mctx *m, const struct key *key);
void h_vcpus(struct mctx *m, const struct key *key);
void h_vnuma(struct mctx *m, const struct key *key);
void h_mem_defaults(struct mctx *m, const struct key *key);
void h_cpus(struct mctx *m, const struct key *key);
void h_grant(struct mctx *m, const struct key *key);
void h_action(struct mctx *m, const struct key *key);
void h_rdm(struct mctx *m, const struct key *key);
void h_pci(struct mctx *m, const struct key *key);
void h_dtdev(struct mctx *m, const struct key *key);
void h_vncviewer(struct mctx *m, const struct key *key);
void h_timer_mode(struct mctx *m, const struct key *key);
void h_viridian(struct mctx *m, const struct key *key);
void h_mmio_hole(struct mctx *m, const struct key *key);
void h_altp2mhvm(struct mctx *m, const struct key *key);
void h_ms_vm_genid(struct mctx *m, const struct key *key);
void h_mca_caps(struct mctx *m, const struct key *key);
void h_vmtrace(struct mctx *m, const struct key *key);
void h_ioports(struct mctx *m, const struct key *key);
void h_irqs(struct mctx *m, const struct key *key);
void h_iomem(struct mctx *m, const struct key *key);
void h_disk(struct mctx *m, const struct key *key);
void h_p9(struct mctx *m, const struct key *key);
void h_vtpm(struct mctx *m, const struct key *key);
void h_pvcalls(struct mctx *m, const struct key *key);
void h_channel(struct mctx *m, const struct key *key);
void h_vif(struct mctx *m, const struct key *key);
void h_vif2(struct mctx *m, const struct key *key);
void h_vfb(struct mctx *m, const struct key *key);
void h_usbctrl(struct mctx *m, const struct key *key);
void h_usbdev(struct mctx *m, const struct key *key);
void h_cpuid(struct mctx *m, const struct key *key);
void h_device_model(struct mctx *m, const struct key *key);
void h_vnc_sdl(struct mctx *m, const struct key *key);
void h_vga(struct mctx *m, const struct key *key);
void h_hdtype(struct mctx *m, const struct key *key);
void h_gfx_passthru(struct mctx *m, const struct key *key);
void h_strlist_or_string(struct mctx *m, const struct key *key);
void h_vnc_check(struct mctx *m, const struct key *key);
void h_vendor_device(struct mctx *m, const struct key *key);
void h_msr_relaxed(struct mctx *m, const struct key *key);
void h_bios(struct mctx *m, const struct key *key);
void h_vkb(struct mctx *m, const struct key *key);
void h_vdispl(struct mctx *m, const struct key *key);
void h_vsnd(struct mctx *m, const struct key *key);
void h_unsupported_list(struct mctx *m, const struct key *key);

#endif
