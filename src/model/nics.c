/*
 * nics.c: the model's network interfaces (libxl_device_nic entries of
 * `nics') as the VMM serves them on KVM: one virtio-net device on a tap
 * each (struct kxl_vmm_nic; the tap itself is made by src/vmm/net-host.c
 * when the domain starts, once its ID is known).
 *
 * What xl's vif spec says becomes, as libxl fills it at create time: the
 * MAC (mac=, else xl's random 00:16:3e:xx:xx:xx, drawn here and not
 * written into the model, so `create -n' prints xl's JSON unchanged), the
 * MTU (mtu=, default 1500), the bridge (bridge=, default xenbr0), rate=
 * (bytes per interval), ip= and gatewaydev= (for a script), vifname=.
 *
 * script= is resolved as libxl does (a relative name is in /etc/xen/
 * scripts). Xen's vif-bridge is what kxl does itself: it is accepted with a
 * note. Xen's other scripts (vif-route, vif-nat, vif-openvswitch, ...) and
 * any script that uses Xen's hotplug helpers need xenstore, which KVM does
 * not have: an error naming the vif spec. Any other executable is the
 * user's own script, run with kxl's environment (kxl.cfg(5)). What else
 * KVM cannot do is refused here too: type=ioemu on a PV or PVH guest (as
 * libxl refuses it), a driver domain (backend=), a devid used twice.
 */
#include <kxl/model.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

#define XEN_SCRIPT_DIR	"/etc/xen/scripts"

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *gets(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v ? json_object_get_string(v) : NULL;
}

struct nic_ctx {
	struct kxl_loc loc;
	const char *spec;
	unsigned devid;
	struct kxl_diag *d;
};

__attribute__((format(printf, 2, 3)))
static int nic_err(const struct nic_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	if (c->spec)
		kxl_diag_add(c->d, KXL_ERROR, &c->loc, "vif spec `%s': %s", c->spec, m);
	else
		kxl_diag_add(c->d, KXL_ERROR, &c->loc, "vif %u: %s", c->devid, m);
	free(m);
	return -1;
}

int kxl_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void kxl_mac_random(uint8_t mac[6])
{
	uint8_t r[3] = { 0 };
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	/* xl's: Xen's OUI, the lower half of its space */
	mac[0] = 0x00;
	mac[1] = 0x16;
	mac[2] = 0x3e;
	mac[3] = r[0] & 0x7f;
	mac[4] = r[1];
	mac[5] = r[2];
}

/* Xen's own vif scripts other than vif-bridge: they work through xenstore. */
static bool xen_script_name(const char *base)
{
	static const char *const names[] = { "vif-route", "vif-nat", "vif-openvswitch",
		"vif-setup", "vif2", "vif-common.sh", "vif-bridge-gre", "qemu-ifup" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(base, names[i]))
			return true;
	return false;
}

/* Does the script use Xen's hotplug helpers (which read xenstore)? */
static bool uses_xenstore(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	if (memchr(buf, 0, n))
		return false;	/* a binary: not one of Xen's shell scripts */
	return strstr(buf, "xenstore") || strstr(buf, "xen-hotplug-common") ||
	       strstr(buf, "vif-common.sh") || strstr(buf, "XENBUS_PATH");
}

/* script=: NULL (kxl attaches to the bridge itself) or the absolute path
 * of the user's script in *out (owned). */
static int check_script(const struct nic_ctx *c, const char *script, char **out)
{
	*out = NULL;
	if (!script || !*script)
		return 0;
	char *path = script[0] == '/' ? xstrdup(script) : xasprintf("%s/%s", XEN_SCRIPT_DIR, script);
	const char *base = strrchr(path, '/') + 1;
	if (!strcmp(base, "vif-bridge")) {
		kxl_diag_add(c->d, KXL_NOTE, &c->loc, "vif %u: script=%s: kxl attaches the interface "
			     "to its bridge itself, as Xen's vif-bridge does (the script is not run: "
			     "it needs xenstore)", c->devid, script);
		free(path);
		return 0;
	}
	if (xen_script_name(base)) {
		nic_err(c, "script=%s is one of Xen's hotplug scripts, which work through xenstore; "
			"KVM has none. kxl attaches the interface to a bridge itself (leave script= "
			"out, and give bridge=), or runs a script of your own with the environment "
			"of kxl.cfg(5)", script);
		free(path);
		return -1;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		nic_err(c, "script=%s: cannot use %s: %s", script, path, strerror(errno));
		free(path);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		nic_err(c, "script=%s: %s is not an executable file", script, path);
		free(path);
		return -1;
	}
	if (uses_xenstore(path)) {
		nic_err(c, "script=%s: %s uses Xen's hotplug helpers, which need xenstore; KVM has "
			"none (kxl runs a script with the environment of kxl.cfg(5), or attaches the "
			"interface to a bridge itself without script=)", script, path);
		free(path);
		return -1;
	}
	*out = path;
	return 0;
}

static int one_nic(const struct kxl_domain *dom, struct nic_ctx *c, json_object *j,
		   struct kxl_vmm_nic *nic, char **script)
{
	int bad = 0;
	const char *type = gets(j, "nictype"), *backend = gets(j, "backend_domname");
	if (type && !strcmp(type, "vif_ioemu") && dom->type != KXL_TYPE_HVM)
		bad = nic_err(c, "type=ioemu: trying to create PV or PVH guest with an emulated "
			      "interface (as xl says: an emulated NIC needs an HVM guest; leave "
			      "type= out)");
	if (backend && *backend && strcmp(backend, "0") && strcmp(backend, "Domain-0"))
		bad = nic_err(c, "backend=%s: the interface is served by a Xen driver domain; KVM "
			      "has none (leave backend= out)", backend);
	if (gets(j, "coloft_forwarddev"))
		bad = nic_err(c, "forwarddev=: COLO fault tolerance needs Xen; kxl does not do it");
	nic->spec = c->spec;
	nic->devid = c->devid;
	nic->ifname = gets(j, "ifname");
	if (nic->ifname && (!*nic->ifname || strchr(nic->ifname, '/') || strchr(nic->ifname, ' ') ||
			    strchr(nic->ifname, ':') || !strcmp(nic->ifname, ".") ||
			    !strcmp(nic->ifname, "..") || strlen(nic->ifname) > 15))
		bad = nic_err(c, "vifname=%s is not a Linux interface name (1 to 15 characters, no "
			      "`/', `:' or space)", nic->ifname);
	const char *mac = gets(j, "mac");
	if (mac) {
		if (kxl_mac_parse(mac, nic->mac) < 0)
			bad = nic_err(c, "mac=%s is not a MAC address", mac);
		else if (nic->mac[0] & 1)
			bad = nic_err(c, "mac=%s is a multicast address; a NIC needs a unicast one", mac);
	} else {
		kxl_mac_random(nic->mac);
	}
	json_object *mtu = get(j, "mtu");
	int64_t m = mtu ? json_object_get_int64(mtu) : 1500;
	if (m < 68 || m > 65535)
		bad = nic_err(c, "mtu=%lld is out of range for a Linux interface (68 to 65535)",
			      (long long)m);
	nic->mtu = (unsigned)m;
	const char *br = gets(j, "bridge");
	nic->bridge = br && *br ? br : "xenbr0";
	nic->ip = gets(j, "ip");
	nic->gatewaydev = gets(j, "gatewaydev");
	json_object *rb = get(j, "rate_bytes_per_interval"), *ru = get(j, "rate_interval_usecs");
	nic->rate_bytes = rb ? (uint64_t)json_object_get_int64(rb) : 0;
	nic->rate_usecs = ru ? (uint32_t)json_object_get_int64(ru) : 0;
	if (nic->rate_bytes && !nic->rate_usecs)
		nic->rate_usecs = 50000;	/* xl's default interval */
	if (check_script(c, gets(j, "script"), script) < 0)
		bad = -1;
	nic->script = *script;
	return bad ? -1 : 0;
}

int kxl_domain_vmm_nics(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			struct kxl_domain_nics *out, struct kxl_diag *d)
{
	memset(out, 0, sizeof(*out));
	json_object *arr = get(dom->config, "nics");
	size_t n = arr ? json_object_array_length(arr) : 0;
	if (!n)
		return 0;
	const struct kxl_cfg_value *list = NULL;
	const struct kxl_cfg_setting *s = cfg ? kxl_cfg_find(cfg, "vif") : NULL;
	if (s && s->value->type == KXL_CFG_LIST && s->value->n >= n)
		list = s->value;
	out->v = xcalloc(n, sizeof(*out->v));
	out->scripts = xcalloc(n, sizeof(*out->scripts));
	out->n = n;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(arr, i);
		json_object *dv = get(j, "devid");
		struct nic_ctx c = { .d = d, .devid = dv ? (unsigned)json_object_get_int64(dv) : (unsigned)i };
		if (list && list->items[i]->type == KXL_CFG_STRING) {
			c.loc = kxl_cfg_loc(&list->items[i]->pos);
			c.spec = list->items[i]->str;
		} else {
			c.loc = (struct kxl_loc){ .file = cfg ? cfg->path : NULL };
		}
		if (one_nic(dom, &c, j, &out->v[i], &out->scripts[i]) < 0)
			bad = 1;
		for (size_t k = 0; k < i; k++)
			if (out->v[k].devid == c.devid) {
				nic_err(&c, "devid %u is used by another vif already", c.devid);
				bad = 1;
			}
	}
	if (bad) {
		kxl_domain_nics_free(out);
		return -1;
	}
	return 0;
}

void kxl_domain_nics_free(struct kxl_domain_nics *dn)
{
	for (size_t i = 0; dn->scripts && i < dn->n; i++)
		free(dn->scripts[i]);
	free(dn->scripts);
	free(dn->v);
	memset(dn, 0, sizeof(*dn));
}
