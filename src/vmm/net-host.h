/*
 * net-host.h: the host side of kxl's network interfaces (net-host.c), run
 * by kxl_vmm_run in the privileged parent: a tap per NIC of the spec,
 * attached to its bridge or handed to its script, and the virtio-net
 * device descriptions (struct kxl_vmm_vdev with the tap as fds[0]) that
 * the guest-facing child gets.
 */
#ifndef KXL_VMM_NET_HOST_H
#define KXL_VMM_NET_HOST_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include <kxl/diag.h>
#include <kxl/vmm.h>

struct net_host {
	const struct kxl_vmm_nic *nic;
	char ifname[IFNAMSIZ];
	int tap;		/* -1: not created */
	bool online;		/* the script's online step ran and succeeded */
};

struct net_hosts {
	struct net_host *v;
	struct kxl_vmm_vdev *vdevs;	/* v[i]'s device: KXL_VDEV_NET, fds[0] = its tap */
	size_t n;
};

/* Creates the taps of spec->nics (named from spec->domid), configures
 * them, attaches each to its bridge or runs its script's online step.
 * Returns 0, or -1 with *d naming the vif spec and the cause (what was
 * made so far is undone). */
int net_hosts_open(const struct kxl_vmm_spec *spec, struct net_hosts *nh, struct kxl_diag *d);

/* Runs each script's offline step (a failure is logged to spec->log_fd)
 * and closes the taps, which removes them (and their bridge ports). */
void net_hosts_close(const struct kxl_vmm_spec *spec, struct net_hosts *nh);

/* The tap's name for a NIC: its vifname=, else vif<domid>.<devid> as xl
 * names it. Returns 0, or -1 (with *d) when the name does not fit. */
int net_host_ifname(const struct kxl_vmm_nic *nic, unsigned domid, char *buf, size_t cap,
		    struct kxl_diag *d);

#endif
