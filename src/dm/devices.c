/*
 * devices.c: the emulated devices beside disks and NICs: serial ports,
 * USB (usb, usbdevice, usbversion), sound (soundhw, with QEMU's null audio
 * backend so that QEMU never opens the host's sound), the VM generation
 * ID, PCI passthrough (pci= as vfio-pci) and the boot order.
 */
#include "dm/dm-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define AUDIODEV "kxl-audio"

void dm_fam_serial(struct dm *m)
{
	const char *one = dm_gets(m->h, "serial");
	json_object *list = dm_get(m->h, "serial_list");
	if (one && list) {
		dm_msg(m, KXL_ERROR, "serial", "both serial and serial_list set");
		return;
	}
	if (one)
		dm_pair(m, "-serial", one);
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		dm_pair(m, "-serial", json_object_get_string(json_object_array_get_idx(list, i)));
}

/* usbdevice names QEMU's -usbdevice took, as the devices QEMU has now. */
static const struct { const char *name, *device; } usb_named[] = {
	{ "tablet", "usb-tablet" }, { "mouse", "usb-mouse" }, { "keyboard", "usb-kbd" },
	{ "braille", "usb-braille" },
};

static void usbdevice(struct dm *m, const char *s, long idx)
{
	char key[32];
	snprintf(key, sizeof(key), "usbdevice#%ld", idx);
	for (size_t i = 0; i < ARRAY_SIZE(usb_named); i++)
		if (!strcmp(s, usb_named[i].name)) {
			dm_pair(m, "-device", usb_named[i].device);
			return;
		}
	unsigned a, b;
	char end;
	if (sscanf(s, "host:%x:%x%c", &a, &b, &end) == 2 && a <= 0xffff && b <= 0xffff) {
		dm_pairf(m, "-device", "usb-host,vendorid=0x%04x,productid=0x%04x", a, b);
		return;
	}
	if (sscanf(s, "host:%u.%u%c", &a, &b, &end) == 2) {
		dm_pairf(m, "-device", "usb-host,hostbus=%u,hostaddr=%u", a, b);
		return;
	}
	dm_msg_at(m, KXL_ERROR, key, "usbdevice \"%s\": QEMU has no such USB device (tablet, mouse, "
		  "keyboard, braille, host:VID:PID, host:BUS.ADDR)", s);
}

static const char *const usb_versions[] = {
	NULL,
	"piix3-usb-uhci,id=usb",
	"ich9-usb-ehci1,id=usb,addr=0x1d.0x7,multifunction=on",
	"nec-usb-xhci,id=usb",
};

void dm_fam_usb(struct dm *m)
{
	const char *one = dm_gets(m->h, "usbdevice");
	json_object *list = dm_get(m->h, "usbdevice_list");
	int64_t ver = dm_int(m->h, "usbversion", 0);
	if (dm_bool(m->h, "usb", false) || one || list) {
		if (one && list) {
			dm_msg(m, KXL_ERROR, "usbdevice", "both usbdevice and usbdevice_list set");
			return;
		}
		if (ver)
			dm_msg(m, KXL_ERROR, "usbversion", "usbversion and usb/usbdevice both set "
			       "(libxl refuses this)");
		dm_add(m, "-usb");
		if (one)
			usbdevice(m, one, -1);
		for (size_t i = 0; list && i < json_object_array_length(list); i++)
			usbdevice(m, json_object_get_string(json_object_array_get_idx(list, i)), (long)i);
		return;
	}
	if (!ver)
		return;
	if (ver < 1 || ver > 3) {
		dm_msg(m, KXL_ERROR, "usbversion", "usbversion parameter is invalid, must be between 1 "
		       "and 3");
		return;
	}
	dm_pair(m, "-device", usb_versions[ver]);
	if (ver == 2)	/* the EHCI's UHCI companions, as libxl */
		for (int i = 1; i < 4; i++)
			dm_pairf(m, "-device", "ich9-usb-uhci%d,masterbus=usb.0,firstport=%d,"
				 "addr=0x1d.%#x,multifunction=on", i, 2 * (i - 1), i - 1);
}

/* soundhw: libxl's names and QEMU's devices (NULL: the PC speaker, a
 * machine property) */
static const struct { const char *name, *devices[2]; } sound[] = {
	{ "ac97", { "AC97" } }, { "adlib", { "adlib" } }, { "cs4231a", { "cs4231a" } },
	{ "es1370", { "ES1370" } }, { "gus", { "gus" } }, { "sb16", { "sb16" } },
	{ "hda", { "intel-hda", "hda-duplex" } }, { "pcspk", { NULL } },
};

void dm_fam_sound(struct dm *m)
{
	const char *hw = dm_gets(m->h, "soundhw");
	if (!hw) return;
	for (size_t i = 0; i < ARRAY_SIZE(sound); i++) {
		if (strcmp(hw, sound[i].name)) continue;
		dm_pair(m, "-audiodev", "none,id=" AUDIODEV);
		if (!sound[i].devices[0]) {
			dm_pair(m, "-machine", "pcspk-audiodev=" AUDIODEV);
			return;
		}
		/* the controller of hda has no audio of its own: the codec has */
		if (sound[i].devices[1]) {
			dm_pair(m, "-device", sound[i].devices[0]);
			dm_pairf(m, "-device", "%s,audiodev=" AUDIODEV, sound[i].devices[1]);
		} else {
			dm_pairf(m, "-device", "%s,audiodev=" AUDIODEV, sound[i].devices[0]);
		}
		return;
	}
	dm_msg(m, KXL_ERROR, "soundhw", "Unknown soundhw option '%s' (ac97, adlib, cs4231a, es1370, "
	       "gus, hda, pcspk, sb16)", hw);
}

/* ms_vm_genid: the 16 bytes the guest reads, as QEMU's vmgenid takes them
 * (a UUID string it stores byte-swapped: little-endian fields) */
void dm_fam_genid(struct dm *m)
{
	json_object *g = dm_get(m->h, "ms_vm_genid");
	if (!g || json_object_array_length(g) != 16) return;
	unsigned b[16], any = 0;
	for (int i = 0; i < 16; i++) {
		b[i] = (unsigned)json_object_get_int(json_object_array_get_idx(g, (size_t)i)) & 0xff;
		any |= b[i];
	}
	if (!any) return;	/* all zero: none */
	dm_pairf(m, "-device", "vmgenid,guid=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8],
		 b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* pci= options that VFIO has no counterpart for */
static const struct { const char *field, *why; } pci_no_vfio[] = {
	{ "permissive", "VFIO filters config space writes itself" },
	{ "msitranslate", "VFIO delivers MSIs through KVM directly" },
	{ "power_mgmt", "VFIO manages the device's power states itself" },
	{ "seize", "bind the device to vfio-pci beforehand" },
	{ "rdm_policy", "reserved device memory is Xen's" },
};

void dm_fam_pci(struct dm *m)
{
	json_object *pcis = dm_get(m->root, "pcidevs");
	for (size_t i = 0; pcis && i < json_object_array_length(pcis); i++) {
		json_object *p = json_object_array_get_idx(pcis, i);
		char key[32];
		snprintf(key, sizeof(key), "pci#%zu", i);
		if (dm_gets(p, "name")) {
			dm_msg_at(m, KXL_ERROR, key, "pci: a device named through xl's assignable list "
				  "(name=) is Xen's; give its BDF");
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(pci_no_vfio); j++)
			if (dm_isset(p, pci_no_vfio[j].field))
				dm_msg_at(m, KXL_WARNING, key, "pci: %s has no meaning with VFIO (%s): ignored",
					  pci_no_vfio[j].field, pci_no_vfio[j].why);
		struct sbuf s = { 0 };
		sbuf_printf(&s, "vfio-pci,host=%04llx:%02llx:%02llx.%llx",
			    (unsigned long long)dm_int(p, "domain", 0) & 0xffff,
			    (unsigned long long)dm_int(p, "bus", 0) & 0xff,
			    (unsigned long long)dm_int(p, "dev", 0) & 0x1f,
			    (unsigned long long)dm_int(p, "func", 0) & 7);
		if (dm_isset(p, "vdevfn")) {
			int64_t v = dm_int(p, "vdevfn", 0);
			sbuf_printf(&s, ",addr=0x%llx.0x%llx", (unsigned long long)(v >> 3) & 0x1f,
				    (unsigned long long)v & 7);
		}
		dm_pair(m, "-device", s.s);
		free(s.s);
	}
}

/* boot = "cda": drives by letter as QEMU's -boot order takes them (a-b
 * floppy, c disk, d cdrom, n-p network), each at most once. libxl passes
 * the string through; a bad one is said here, at the key, rather than by
 * QEMU at start. */
void dm_fam_boot_order(struct dm *m)
{
	const char *boot = dm_gets(m->h, "boot");
	if (!boot)
		return;
	for (const char *c = boot; *c; c++)
		if (*c < 'a' || *c > 'p' || strchr(c + 1, *c)) {
			dm_msg(m, KXL_ERROR, "boot", "boot = \"%s\": '%c' %s (c disk, d cdrom, n network, "
			       "a floppy; each once)", boot, *c, *c < 'a' || *c > 'p' ? "is not a boot device" :
			       "is given twice");
			return;
		}
	dm_pairf(m, "-boot", "order=%s", boot);
}
