/*
 * blk-target.c: qemu-storage-daemon's command line for a disk that kxl's
 * virtio-blk serves through the daemon's NBD export (virtio-blk.c starts
 * it): a protocol node, a format node on top, the NBD server on a unix
 * socket and the export. The protocol node is the image file
 * (driver=file), or a network target named as Xen's hotplug scripts take
 * it (xl's `script=block-nbd' / `nbd:' prefix, `script=block-iscsi' /
 * `iscsi:'), which on KVM QEMU's own nbd and iscsi block drivers reach:
 *
 *   nbd:    HOST PORT, HOST:PORT or [IPV6]:PORT (port 10809 when left
 *           out), an optional /EXPORT after it; unix:/PATH for a socket
 *   iscsi:  iqn=IQN,portal=HOST[:PORT][,lun=N] (lun 0 when left out)
 *
 * The model checks targets with the same function at create and `check',
 * so that a bad one is refused before anything runs.
 */
#include <kxl/vmm.h>

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Appends V with QEMU's option escaping (a comma is doubled). */
static void opt_add(struct sbuf *o, const char *v, size_t n)
{
	for (size_t i = 0; i < n && v[i]; i++) {
		sbuf_add(o, &v[i], 1);
		if (v[i] == ',')
			sbuf_add(o, &v[i], 1);
	}
}

static bool port_ok(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static int nbd_node(const struct kxl_vmm_disk *k, struct sbuf *f, struct kxl_diag *d)
{
	const char *t = k->path;
	sbuf_adds(f, "driver=nbd,node-name=file0,");
	if (!strncmp(t, "unix:", 5)) {
		if (t[5] != '/')
			return kxl_err(d, "disk %s: nbd target `%s': unix: takes an absolute socket path",
				       k->vdev, t);
		sbuf_adds(f, "server.type=unix,server.path=");
		opt_add(f, t + 5, strlen(t + 5));
		return 0;
	}
	const char *host = t, *hend, *rest;
	if (*t == '[') {
		host = t + 1;
		hend = strchr(host, ']');
		if (!hend || hend == host)
			return kxl_err(d, "disk %s: nbd target `%s': an IPv6 address needs its closing `]'",
				       k->vdev, t);
		rest = hend + 1;
	} else {
		hend = host + strcspn(host, ": /");
		rest = hend;
	}
	if (hend == host)
		return kxl_err(d, "disk %s: nbd target `%s' names no server (HOST PORT, HOST:PORT or "
			       "unix:/PATH)", k->vdev, t);
	const char *port = "10809";
	size_t plen = 5;
	if (*rest == ':' || *rest == ' ') {
		port = rest + 1;
		plen = strcspn(port, "/");
		rest = port + plen;
		if (!port_ok(port, plen))
			return kxl_err(d, "disk %s: nbd target `%s': `%.*s' is not a TCP port (1-65535)",
				       k->vdev, t, (int)plen, port);
	}
	if (*rest && *rest != '/')
		return kxl_err(d, "disk %s: nbd target `%s': unexpected `%s' (HOST PORT, HOST:PORT[/EXPORT] "
			       "or unix:/PATH)", k->vdev, t, rest);
	sbuf_adds(f, "server.type=inet,server.host=");
	opt_add(f, host, (size_t)(hend - host));
	sbuf_adds(f, ",server.port=");
	opt_add(f, port, plen);
	if (*rest == '/' && rest[1]) {
		sbuf_adds(f, ",export=");
		opt_add(f, rest + 1, strlen(rest + 1));
	}
	return 0;
}

static int iscsi_node(const struct kxl_vmm_disk *k, struct sbuf *f, struct kxl_diag *d)
{
	const char *t = k->path;
	char *iqn = NULL, *portal = NULL, *lun = NULL;
	int r = 0;
	for (const char *p = t; *p && !r;) {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		size_t kl = eq ? (size_t)(eq - p) : n;
		char **slot = kl == 3 && !strncmp(p, "iqn", 3) ? &iqn :
			      kl == 6 && !strncmp(p, "portal", 6) ? &portal :
			      kl == 3 && !strncmp(p, "lun", 3) ? &lun : NULL;
		if (!eq || !slot) {
			r = kxl_err(d, "disk %s: iscsi target `%s': `%.*s' is not understood (iqn=IQN,"
				    "portal=HOST[:PORT][,lun=N]; CHAP users and passwords are not "
				    "supported)", k->vdev, t, (int)n, p);
			break;
		}
		free(*slot);
		*slot = xstrndup(eq + 1, n - kl - 1);
		p += n;
		if (*p == ',')
			p++;
	}
	if (!r && (!iqn || !*iqn || !portal || !*portal))
		r = kxl_err(d, "disk %s: iscsi target `%s' needs iqn= and portal=", k->vdev, t);
	if (!r && lun) {
		bool digits = *lun && strspn(lun, "0123456789") == strlen(lun) && strlen(lun) <= 5;
		if (!digits)
			r = kxl_err(d, "disk %s: iscsi target `%s': lun=%s is not a LUN number", k->vdev,
				    t, lun);
	}
	if (!r) {
		sbuf_adds(f, "driver=iscsi,node-name=file0,transport=tcp,portal=");
		opt_add(f, portal, strlen(portal));
		sbuf_adds(f, ",target=");
		opt_add(f, iqn, strlen(iqn));
		sbuf_adds(f, ",lun=");
		sbuf_adds(f, lun ? lun : "0");
	}
	free(iqn);
	free(portal);
	free(lun);
	return r;
}

char **kxl_blk_qsd_argv(const struct kxl_vmm_disk *k, const char *sock, const char *export_name,
			struct kxl_diag *d)
{
	const char *ro = k->readonly ? "on" : "off";
	const char *discard = k->discard && !k->readonly ? ",discard=unmap" : "";
	struct sbuf f = { 0 }, fm = { 0 }, srv = { 0 }, exp = { 0 };
	int r = 0;
	if (!k->path)
		r = kxl_err(d, "disk %s: no target", k->vdev);
	else if (!k->protocol) {
		sbuf_adds(&f, "driver=file,node-name=file0,filename=");
		opt_add(&f, k->path, strlen(k->path));
	} else if (!strcmp(k->protocol, "nbd"))
		r = nbd_node(k, &f, d);
	else if (!strcmp(k->protocol, "iscsi"))
		r = iscsi_node(k, &f, d);
	else
		r = kxl_err(d, "disk %s: no protocol `%s'", k->vdev, k->protocol);
	if (r < 0) {
		free(f.s);
		return NULL;
	}
	sbuf_printf(&f, ",read-only=%s%s", ro, discard);
	sbuf_printf(&fm, "driver=%s,node-name=disk0,file=file0,read-only=%s%s",
		    k->qemu_format ? k->qemu_format : "raw", ro, discard);
	sbuf_adds(&srv, "addr.type=unix,addr.path=");
	opt_add(&srv, sock, strlen(sock));
	sbuf_printf(&exp, "type=nbd,id=export0,node-name=disk0,name=%s,writable=%s", export_name,
		    k->readonly ? "off" : "on");
	char **argv = xcalloc(10, sizeof(*argv));
	argv[0] = xstrdup("qemu-storage-daemon");
	argv[1] = xstrdup("--blockdev");
	argv[2] = sbuf_steal(&f);
	argv[3] = xstrdup("--blockdev");
	argv[4] = sbuf_steal(&fm);
	argv[5] = xstrdup("--nbd-server");
	argv[6] = sbuf_steal(&srv);
	argv[7] = xstrdup("--export");
	argv[8] = sbuf_steal(&exp);
	return argv;
}

void kxl_blk_qsd_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}
