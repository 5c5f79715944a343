/*
 * nics.c: the guest's network interfaces as QEMU's emulated NICs, as
 * libxl gives them: model= (libxl's default rtl8139) with the vif's MAC,
 * on a tap named as libxl names the emulated side of a vif
 * (vif<domid>.<devid>-emu, or vifname= with -emu). The MAC, bridge, script
 * and vifname checks are the VMM's (src/model/nics.c); the taps themselves
 * are made and bridged by kxl (src/vmm/net-host.c), and QEMU gets them as
 * descriptors; without descriptors (--dry-run-dm) the tap is named.
 * type = "vif" (Xen's PV netfront only) is a virtio NIC on KVM, with a note.
 */
#include "dm/dm-int.h"

#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "vmm/net-host.h"

/* QEMU's PCI and ISA NICs for x86 (and xl's short name of virtio) */
static const struct { const char *model, *device; } models[] = {
	{ "rtl8139", "rtl8139" }, { "e1000", "e1000" }, { "e1000e", "e1000e" },
	{ "e1000-82544gc", "e1000-82544gc" }, { "e1000-82545em", "e1000-82545em" },
	{ "ne2k_pci", "ne2k_pci" }, { "ne2k_isa", "ne2k_isa" }, { "pcnet", "pcnet" },
	{ "i82550", "i82550" }, { "i82551", "i82551" }, { "i82557a", "i82557a" },
	{ "i82557b", "i82557b" }, { "i82557c", "i82557c" }, { "i82558a", "i82558a" },
	{ "i82558b", "i82558b" }, { "i82559a", "i82559a" }, { "i82559b", "i82559b" },
	{ "i82559c", "i82559c" }, { "i82559er", "i82559er" }, { "i82562", "i82562" },
	{ "i82801", "i82801" }, { "tulip", "tulip" }, { "vmxnet3", "vmxnet3" },
	{ "virtio", "virtio-net-pci" }, { "virtio-net", "virtio-net-pci" },
	{ "virtio-net-pci", "virtio-net-pci" },
};

void dm_fam_nics(struct dm *m)
{
	json_object *arr = dm_get(m->root, "nics");
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (!n) return;
	struct kxl_domain_nics nics = { 0 };
	if (m->o->nics) {
		nics.v = (struct kxl_vmm_nic *)m->o->nics;	/* not freed below */
		nics.n = m->o->nr_nics;
	} else if (kxl_domain_vmm_nics(m->dom, m->cfg, &nics, m->d)) {
		m->failed = true;
		return;
	}
	size_t emu = 0;
	for (size_t i = 0; i < n && i < nics.n; i++) {
		json_object *j = json_object_array_get_idx(arr, i);
		const struct kxl_vmm_nic *nic = &nics.v[i];
		char key[32];
		snprintf(key, sizeof(key), "vif#%zu", i);
		const char *type = dm_gets(j, "nictype"), *model = dm_gets(j, "model");
		const char *device = NULL;
		if (type && !strcmp(type, "vif")) {
			dm_msg_at(m, KXL_NOTE, key, "vif %u: type=vif is Xen's PV interface only; on KVM it "
				  "is a virtio NIC", nic->devid);
			device = "virtio-net-pci";
		} else {
			for (size_t k = 0; model && k < ARRAY_SIZE(models); k++)
				if (!strcmp(model, models[k].model)) device = models[k].device;
			if (!device) {
				dm_msg_at(m, KXL_ERROR, key, "vif %u: model=%s is not a NIC QEMU emulates (e.g. "
					  "rtl8139, e1000, virtio-net-pci)", nic->devid, model ? model : "");
				continue;
			}
		}
		char name[IFNAMSIZ + 8];
		if (net_host_ifname(nic, m->o->domid, name, IFNAMSIZ - 4, m->d)) {
			m->failed = true;
			continue;
		}
		strcat(name, "-emu");
		dm_pairf(m, "-device", "%s,id=nic%u,netdev=net%u,mac=%02x:%02x:%02x:%02x:%02x:%02x",
			 device, nic->devid, nic->devid, nic->mac[0], nic->mac[1], nic->mac[2],
			 nic->mac[3], nic->mac[4], nic->mac[5]);
		if (m->o->tap_fds && emu < m->o->nr_tap_fds)
			dm_pairf(m, "-netdev", "tap,id=net%u,fd=%d", nic->devid, m->o->tap_fds[emu]);
		else
			dm_pairf(m, "-netdev", "tap,id=net%u,ifname=%s,script=no,downscript=no",
				 nic->devid, name);
		emu++;
	}
	if (!m->o->nics)
		kxl_domain_nics_free(&nics);
}
