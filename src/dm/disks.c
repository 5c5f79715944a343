/*
 * disks.c: the guest's disks as libxl gives them to QEMU: the first four
 * (hda-hdd, xvda-xvdd, d0-d3) on the IDE controller, the first six on an
 * AHCI controller with hdtype = "ahci", sd* on an LSI SCSI controller, and
 * CD-ROMs (empty ones too) on IDE. A disk libxl would leave to Xen's PV
 * drivers (the fifth and later) is a virtio disk on KVM, with a note:
 * there are no PV drivers on KVM.
 */
#include "dm/dm-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* libxl's disk formats as QEMU's drivers */
static const struct { const char *format, *qemu; } formats[] = {
	{ "raw", "raw" }, { "qcow", "qcow" }, { "qcow2", "qcow2" }, { "vhd", "vpc" },
	{ "qed", "qed" },
};

static const char *qemu_format(const char *f)
{
	if (!f) return "raw";
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(f, formats[i].format)) return formats[i].qemu;
	return NULL;
}

/* Xen's device number of a disk (libxl__device_disk_dev_number), for the
 * drive IDs libxl uses (ide-<number>). */
static unsigned xen_devnum(const char *vdev, unsigned disk, unsigned part)
{
	if (!strncmp(vdev, "hd", 2))
		return disk < 2 ? (3u << 8) | (disk << 6) | part : (22u << 8) | ((disk - 2) << 6) | part;
	if (!strncmp(vdev, "sd", 2))
		return (8u << 8) | (disk << 4) | part;
	return disk < 16 ? (202u << 8) | (disk << 4) | part : (1u << 28) | (disk << 8) | part;
}

int kxl_dm_cdrom_id(const struct kxl_domain *dom, const char *vdev, char *buf, size_t len,
		    struct kxl_diag *d)
{
	json_object *disks = dm_get(dom->config, "disks");
	size_t n = disks ? json_object_array_length(disks) : 0;
	unsigned disk, part;
	if (kxl_vdev_parse(vdev, &disk, &part))
		return kxl_err(d, "`%s' is not a virtual device name (hdc, xvdc, ...)", vdev);
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(disks, i);
		const char *v = dm_gets(j, "vdev");
		if (!v || strcmp(v, vdev))
			continue;
		if (!dm_int(j, "is_cdrom", 0) || disk >= 4)
			return kxl_err(d, "%s is not an emulated CD-ROM of this domain (devtype=cdrom, "
				       "hda-hdd)", vdev);
		snprintf(buf, len, "ide-%u", xen_devnum(vdev, disk, part));
		return 0;
	}
	return kxl_err(d, "the domain has no disk %s (a CD-ROM is a disk with devtype=cdrom; an "
		       "empty one is \",,%s,cdrom\")", vdev, vdev);
}

void dm_fam_disks(struct dm *m)
{
	json_object *disks = dm_get(m->root, "disks");
	size_t n = disks ? json_object_array_length(disks) : 0;
	bool ahci = !strcmp(dm_gets(m->h, "hdtype") ? dm_gets(m->h, "hdtype") : "ide", "ahci");
	/* the SCSI controller first, as libxl (its PCI slot stays the same) */
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(disks, i);
		const char *vdev = dm_gets(j, "vdev");
		if (!dm_int(j, "is_cdrom", 0) && vdev && !strncmp(vdev, "sd", 2)) {
			dm_pair(m, "-device", "lsi53c895a");
			break;
		}
	}
	if (ahci)
		dm_pair(m, "-device", "ahci,id=ahci0");
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(disks, i);
		char key[32];
		snprintf(key, sizeof(key), "disk#%zu", i);
		const char *vdev = dm_gets(j, "vdev"), *path = dm_gets(j, "pdev_path");
		const char *fmt = dm_gets(j, "format");
		bool cdrom = dm_int(j, "is_cdrom", 0), rw = dm_int(j, "readwrite", 0);
		unsigned disk, part;
		if (!vdev || kxl_vdev_parse(vdev, &disk, &part)) {
			dm_msg_at(m, KXL_ERROR, key, "disk: unable to determine disk number for %s",
				  vdev ? vdev : "(no vdev)");
			continue;
		}
		if (dm_gets(j, "script")) {
			dm_msg_at(m, KXL_ERROR, key, "disk %s: script= is run by Xen's hotplug machinery, "
				  "which KVM does not have", vdev);
			continue;
		}
		if (dm_gets(j, "backend_domname")) {
			dm_msg_at(m, KXL_ERROR, key, "disk %s: a driver domain (backend=) is Xen's", vdev);
			continue;
		}
		bool empty = fmt && !strcmp(fmt, "empty");
		const char *qf = empty ? NULL : qemu_format(fmt);
		if (!empty && !qf) {
			dm_msg_at(m, KXL_ERROR, key, "disk %s: format %s is not one QEMU reads", vdev, fmt);
			continue;
		}
		if (!empty && (!path || !*path)) {
			dm_msg_at(m, KXL_ERROR, key, "disk %s: no target", vdev);
			continue;
		}
		char *file = empty ? NULL : dm_esc(path);
		unsigned num = xen_devnum(vdev, disk, part);
		if (cdrom) {
			if (disk >= 4) {
				dm_msg_at(m, KXL_ERROR, key, "disk %s: an emulated CD-ROM can be only one of "
					  "the first 4 disks (hda-hdd)", vdev);
			} else {
				if (file)
					dm_pairf(m, "-drive", "if=none,readonly=on,id=ide-%u,file=%s,format=%s",
						 num, file, qf);
				else
					dm_pairf(m, "-drive", "if=none,readonly=on,id=ide-%u", num);
				if (m->q35)
					dm_pairf(m, "-device", "ide-cd,id=ide-%u,drive=ide-%u,bus=ide.%u,unit=0",
						 num, num, disk);
				else
					dm_pairf(m, "-device", "ide-cd,id=ide-%u,drive=ide-%u,bus=ide.%u,unit=%u",
						 num, num, disk / 2, disk % 2);
			}
		} else if (empty) {
			dm_msg_at(m, KXL_ERROR, key, "disk %s: an empty disk can only be a CD-ROM", vdev);
		} else if (!strncmp(vdev, "sd", 2)) {
			dm_pairf(m, "-drive", "file=%s,id=scsi0-hd%u,format=%s,if=none,readonly=%s,"
				 "cache=writeback", file, disk, qf, rw ? "off" : "on");
			dm_pairf(m, "-device", "scsi-hd,drive=scsi0-hd%u,scsi-id=%u", disk, disk);
		} else if ((ahci && disk < 6) || disk < 4) {
			if (!rw) {
				dm_msg_at(m, KXL_ERROR, key, "disk %s: QEMU has no read-only %s disk (as "
					  "libxl refuses): make it rw, or an sd* disk", vdev,
					  ahci ? "AHCI" : "IDE");
			} else if (ahci) {
				dm_pairf(m, "-drive", "file=%s,if=none,id=ahcidisk-%u,format=%s,"
					 "cache=writeback", file, disk, qf);
				dm_pairf(m, "-device", "ide-hd,bus=ahci0.%u,unit=0,drive=ahcidisk-%u",
					 disk, disk);
			} else {
				dm_pairf(m, "-drive", "file=%s,if=ide,index=%u,media=disk,format=%s,"
					 "cache=writeback", file, disk, qf);
			}
		} else {
			dm_msg_at(m, KXL_NOTE, key, "disk %s: beyond the emulated %s disks, Xen gives it to "
				  "PV drivers only; on KVM it is a virtio disk", vdev, ahci ? "AHCI" : "IDE");
			dm_pairf(m, "-drive", "file=%s,if=none,id=vdisk-%u,format=%s,readonly=%s,"
				 "cache=writeback", file, disk, qf, rw ? "off" : "on");
			dm_pairf(m, "-device", "virtio-blk-pci,drive=vdisk-%u", disk);
		}
		free(file);
	}
}
