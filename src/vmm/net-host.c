/*
 * net-host.c: the host side of a guest's network interfaces, in the
 * privileged parent (kxl_vmm_run), once for the domain's life.
 *
 * For each NIC: a tap from /dev/net/tun (IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR, and IFF_TUN_EXCL so that an existing interface of the same
 * name is an error, never silently shared), named as xl names a vif
 * (vif<domid>.<devid>, or vifname=), with the 12-byte virtio-net header
 * (TUNSETVNETHDRSZ) that the device model and the guest use, so frames
 * pass through unchanged. It is not persistent: it disappears (and leaves
 * its bridge) when the last holder closes it, the VMM child or this
 * process.
 *
 * Then, as Xen's vif-bridge does, through rtnetlink (libnl-route, never
 * hand-packed messages): the tap gets the NIC's MTU and the MAC
 * fe:ff:ff:ff:ff:ff (so the bridge never takes the guest-facing port's
 * address as its own), is enslaved to the bridge and brought up. A missing
 * bridge, or one that is not a bridge, is an error naming the vif spec.
 * With a user script= instead, the tap gets its MTU and is brought up, and
 * the script is run to do the rest (`online'), and again when the domain
 * ends (`offline'), with the environment of kxl.cfg(5):
 *   argv[1] and KXL_ACTION  online | offline
 *   KXL_INTERFACE, vif      the tap's name
 *   KXL_BRIDGE              bridge= (default xenbr0)
 *   KXL_MAC                 the guest's MAC
 *   KXL_IP, KXL_GATEWAYDEV  ip=, gatewaydev= (empty when not given)
 *   KXL_MTU, KXL_DOMAIN, KXL_DOMID, KXL_DEVID
 *   PATH                    /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 * with standard input from /dev/null, its output on kxl's standard error,
 * and 30 seconds to finish (then it is killed and the step fails).
 *
 * A host without the tun or the bridge driver gets a message that says
 * which module is missing.
 */
#include "vmm/net-host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "vmm/virtio-net.h"

#define SCRIPT_TIMEOUT_S	30
#define DEFAULT_BRIDGE		"xenbr0"

/* "vif spec `...'" or "vif <devid>" for messages */
static void nic_name(const struct kxl_vmm_nic *nic, char *buf, size_t cap)
{
	if (nic->spec)
		snprintf(buf, cap, "vif spec `%s'", nic->spec);
	else
		snprintf(buf, cap, "vif %u", nic->devid);
}

__attribute__((format(printf, 3, 4)))
static int nic_err(struct kxl_diag *d, const struct kxl_vmm_nic *nic, const char *fmt, ...)
{
	char who[300], msg[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	nic_name(nic, who, sizeof(who));
	return kxl_err(d, "%s: %s", who, msg);
}

int net_host_ifname(const struct kxl_vmm_nic *nic, unsigned domid, char *buf, size_t cap,
		    struct kxl_diag *d)
{
	int n = nic->ifname ? snprintf(buf, cap, "%s", nic->ifname) :
		snprintf(buf, cap, "vif%u.%u", domid, nic->devid);
	if (n < 0 || (size_t)n >= cap || n >= IFNAMSIZ)
		return nic_err(d, nic, "the interface name `%s%s' is longer than the %d characters "
			       "Linux allows%s", nic->ifname ? nic->ifname : "vif",
			       nic->ifname ? "" : "<domid>.<devid>", IFNAMSIZ - 1,
			       nic->ifname ? "" : " (give a shorter vifname=)");
	return 0;
}

/* ---- the tap ---- */

static int tap_create(const struct kxl_vmm_nic *nic, const char *ifname, struct kxl_diag *d)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return nic_err(d, nic, "this host has no /dev/net/tun: its kernel lacks the tun "
				       "driver (load it: modprobe tun)");
		if (e == ENODEV || e == ENXIO)
			return nic_err(d, nic, "/dev/net/tun: the tun driver is not loaded on this host "
				       "(load it: modprobe tun)");
		if (e == EACCES || e == EPERM)
			return nic_err(d, nic, "cannot open /dev/net/tun: %s (creating a tap needs root "
				       "or CAP_NET_ADMIN)", strerror(e));
		return nic_err(d, nic, "cannot open /dev/net/tun: %s", strerror(e));
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		if (e == EBUSY || e == EEXIST || e == EINVAL)
			return nic_err(d, nic, "a network interface named %s exists already (another "
				       "domain's, or a leftover: remove it, or give vifname=)", ifname);
		if (e == EPERM || e == EACCES)
			return nic_err(d, nic, "cannot create the tap %s: %s (this needs root or "
				       "CAP_NET_ADMIN)", ifname, strerror(e));
		return nic_err(d, nic, "cannot create the tap %s: TUNSETIFF: %s", ifname, strerror(e));
	}
	int hdr = NET_HDR_BYTES;
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		int e = errno;
		close(fd);
		return nic_err(d, nic, "tap %s: TUNSETVNETHDRSZ: %s", ifname, strerror(e));
	}
	return fd;
}

/* ---- rtnetlink ---- */

static int nl_open(const struct kxl_vmm_nic *nic, struct nl_sock **out, struct kxl_diag *d)
{
	struct nl_sock *sk = nl_socket_alloc();
	if (!sk)
		return nic_err(d, nic, "out of memory for a netlink socket");
	int r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		nl_socket_free(sk);
		return nic_err(d, nic, "cannot open an rtnetlink socket: %s", nl_geterror(r));
	}
	*out = sk;
	return 0;
}

static bool module_loaded(const char *name)
{
	char p[64];
	struct stat st;
	snprintf(p, sizeof(p), "/sys/module/%s", name);
	return stat(p, &st) == 0;
}

/* The bridge's ifindex, or -1 with a message that says what is wrong. */
static int bridge_find(struct nl_sock *sk, const struct kxl_vmm_nic *nic, const char *bridge,
		       struct kxl_diag *d)
{
	struct rtnl_link *br = NULL;
	int r = rtnl_link_get_kernel(sk, 0, bridge, &br);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV) {
		if (!module_loaded("bridge"))
			return nic_err(d, nic, "there is no bridge %s, and this host has no bridge "
				       "driver loaded (load it: modprobe bridge; then create the bridge: "
				       "ip link add %s type bridge && ip link set %s up)",
				       bridge, bridge, bridge);
		return nic_err(d, nic, "there is no bridge %s on this host (create it: ip link add "
			       "%s type bridge && ip link set %s up; or name another with bridge=)",
			       bridge, bridge, bridge);
	}
	if (r < 0)
		return nic_err(d, nic, "cannot look up the bridge %s: %s", bridge, nl_geterror(r));
	const char *type = rtnl_link_get_type(br);
	int idx = rtnl_link_get_ifindex(br);
	bool is_bridge = type && !strcmp(type, "bridge");
	if (!is_bridge) {
		nic_err(d, nic, "%s is not a bridge (it is %s%s); kxl attaches the interface to a "
			"Linux bridge (bridge=)", bridge, type ? "a " : "a plain network device",
			type ? type : "");
		idx = -1;
	}
	rtnl_link_put(br);
	return idx;
}

/* MTU, the bridge port's MAC, the master (bridge_idx > 0) and up. */
static int tap_configure(struct nl_sock *sk, const struct kxl_vmm_nic *nic, const char *ifname,
			 int bridge_idx, const char *bridge, struct kxl_diag *d)
{
	struct rtnl_link *tap = NULL, *ch = NULL;
	struct nl_addr *mac = NULL;
	int ret = -1;
	int r = rtnl_link_get_kernel(sk, 0, ifname, &tap);
	if (r < 0) {
		nic_err(d, nic, "the new tap %s cannot be found: %s", ifname, nl_geterror(r));
		goto out;
	}
	ch = rtnl_link_alloc();
	static const uint8_t port_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
	mac = nl_addr_build(AF_LLC, port_mac, sizeof(port_mac));
	if (!ch || !mac) {
		nic_err(d, nic, "out of memory");
		goto out;
	}
	rtnl_link_set_mtu(ch, nic->mtu);
	rtnl_link_set_addr(ch, mac);
	if (bridge_idx > 0)
		rtnl_link_set_master(ch, bridge_idx);
	rtnl_link_set_flags(ch, IFF_UP);
	r = rtnl_link_change(sk, tap, ch, 0);
	if (r < 0) {
		if (r == -NLE_PERM)
			nic_err(d, nic, "cannot configure the tap %s: %s (this needs root or "
				"CAP_NET_ADMIN)", ifname, nl_geterror(r));
		else if (bridge_idx > 0)
			nic_err(d, nic, "cannot set the MTU %u of the tap %s, attach it to the bridge %s "
				"and bring it up: %s", nic->mtu, ifname, bridge, nl_geterror(r));
		else
			nic_err(d, nic, "cannot set the MTU %u of the tap %s and bring it up: %s",
				nic->mtu, ifname, nl_geterror(r));
		goto out;
	}
	ret = 0;
out:
	if (mac)
		nl_addr_put(mac);
	if (ch)
		rtnl_link_put(ch);
	if (tap)
		rtnl_link_put(tap);
	return ret;
}

/* ---- the script ---- */

/* Runs the NIC's script with `action'; returns its exit status (0: ok),
 * or -1 with the reason in why. */
static int script_run(const struct kxl_vmm_spec *spec, const struct net_host *h,
		      const char *action, char *why, size_t cap)
{
	const struct kxl_vmm_nic *nic = h->nic;
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
		 nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
	char *env[] = {
		xasprintf("KXL_ACTION=%s", action),
		xasprintf("KXL_INTERFACE=%s", h->ifname),
		xasprintf("vif=%s", h->ifname),
		xasprintf("KXL_BRIDGE=%s", nic->bridge ? nic->bridge : DEFAULT_BRIDGE),
		xasprintf("KXL_MAC=%s", mac),
		xasprintf("KXL_IP=%s", nic->ip ? nic->ip : ""),
		xasprintf("KXL_GATEWAYDEV=%s", nic->gatewaydev ? nic->gatewaydev : ""),
		xasprintf("KXL_MTU=%u", nic->mtu),
		xasprintf("KXL_DOMAIN=%s", spec->name ? spec->name : ""),
		xasprintf("KXL_DOMID=%u", spec->domid),
		xasprintf("KXL_DEVID=%u", nic->devid),
		xstrdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
		NULL,
	};
	char *argv[] = { (char *)nic->script, (char *)action, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	/* kxl_vmm_run blocks SIGINT/SIGTERM/SIGHUP: the script gets them back */
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	int r = posix_spawn(&pid, nic->script, &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	if (r) {
		snprintf(why, cap, "cannot run %s: %s", nic->script, strerror(r));
		return -1;
	}
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			if (WIFEXITED(st))
				return WEXITSTATUS(st) ? (snprintf(why, cap, "%s %s exited with status %d",
						nic->script, action, WEXITSTATUS(st)), WEXITSTATUS(st)) : 0;
			snprintf(why, cap, "%s %s was killed by signal %d", nic->script, action,
				 WTERMSIG(st));
			return -1;
		}
		if (w < 0 && errno != EINTR) {
			snprintf(why, cap, "waiting for %s: %s", nic->script, strerror(errno));
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= SCRIPT_TIMEOUT_S) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			snprintf(why, cap, "%s %s did not finish within %d seconds (killed)",
				 nic->script, action, SCRIPT_TIMEOUT_S);
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

/* ---- one NIC, all NICs ---- */

static void host_close(const struct kxl_vmm_spec *spec, struct net_host *h)
{
	if (h->online) {
		char why[512];
		if (script_run(spec, h, "offline", why, sizeof(why)) != 0 && spec->log_fd >= 0)
			dprintf(spec->log_fd, "kxl: warning: %s: the script's offline step failed: %s\n",
				h->ifname, why);
		h->online = false;
	}
	if (h->tap >= 0)
		close(h->tap);
	h->tap = -1;
}

static int host_open(const struct kxl_vmm_spec *spec, struct net_host *h, struct kxl_diag *d)
{
	const struct kxl_vmm_nic *nic = h->nic;
	if (net_host_ifname(nic, spec->domid, h->ifname, sizeof(h->ifname), d) < 0)
		return -1;
	if (nic->mtu < 68 || nic->mtu > 65535)
		return nic_err(d, nic, "mtu=%u is out of range (68-65535)", nic->mtu);
	struct nl_sock *sk = NULL;
	if (nl_open(nic, &sk, d) < 0)
		return -1;
	const char *bridge = nic->bridge ? nic->bridge : DEFAULT_BRIDGE;
	int ret = -1, br = 0;
	/* the bridge first: a missing one leaves nothing behind */
	if (!nic->script && (br = bridge_find(sk, nic, bridge, d)) < 0)
		goto out;
	h->tap = tap_create(nic, h->ifname, d);
	if (h->tap < 0)
		goto out;
	if (tap_configure(sk, nic, h->ifname, br, bridge, d) < 0)
		goto out;
	if (nic->script) {
		char why[512];
		if (script_run(spec, h, "online", why, sizeof(why)) != 0) {
			nic_err(d, nic, "the script's online step for %s failed: %s", h->ifname, why);
			goto out;
		}
		h->online = true;
	}
	ret = 0;
out:
	nl_socket_free(sk);
	if (ret < 0)
		host_close(spec, h);
	return ret;
}

int net_hosts_open(const struct kxl_vmm_spec *spec, struct net_hosts *nh, struct kxl_diag *d)
{
	memset(nh, 0, sizeof(*nh));
	if (!spec->nr_nics)
		return 0;
	nh->v = xcalloc(spec->nr_nics, sizeof(*nh->v));
	nh->vdevs = xcalloc(spec->nr_nics, sizeof(*nh->vdevs));
	for (size_t i = 0; i < spec->nr_nics; i++) {
		struct net_host *h = &nh->v[i];
		h->nic = &spec->nics[i];
		h->tap = -1;
		nh->n = i + 1;
		if (host_open(spec, h, d) < 0) {
			net_hosts_close(spec, nh);
			return -1;
		}
		struct kxl_vmm_vdev *v = &nh->vdevs[i];
		v->type = KXL_VDEV_NET;
		v->id = h->ifname;
		v->fds[0] = h->tap;
		for (unsigned f = 1; f < KXL_VDEV_MAX_FDS; f++)
			v->fds[f] = -1;
		v->cfg = h->nic;
	}
	return 0;
}

void net_hosts_close(const struct kxl_vmm_spec *spec, struct net_hosts *nh)
{
	for (size_t i = nh->n; i-- > 0;)
		host_close(spec, &nh->v[i]);
	free(nh->v);
	free(nh->vdevs);
	memset(nh, 0, sizeof(*nh));
}
