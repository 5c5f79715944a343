/*
 * disks.c: the model's disks (libxl_device_disk entries of `disks') as the
 * VMM serves them on KVM, and Xen's disk names mapped to the guest's.
 *
 * Each disk becomes a virtio-blk device; the guest names them /dev/vda,
 * /dev/vdb, ... in xl vdev order (disk index, then partition). Xen names a
 * disk by its vdev: xvdX, hdX, sdX (xvda, hda and sda are all disk 0 to a
 * Linux PV/PVH guest), dNpM, or xl's raw device number. A partition vdev
 * (`xvda1') is a whole, unpartitioned image on KVM: the guest sees it as a
 * disk of its own. The kernel command line's /dev/ names of such disks are
 * rewritten to what the guest will see, each rewrite said once as a note;
 * `create -n' never sees this (the model's JSON is left alone).
 *
 * What xl's disk spec names and KVM cannot do is refused here, at create:
 * block scripts (they need xenstore), drbd:, driver domains, COLO,
 * backendtype=standalone without specification=virtio, protocol targets.
 * qcow2, qcow, vhd and qed images are served through qemu-storage-daemon
 * (QEMU's driver names in kxl_vmm_disk.qemu_format), which must be
 * installed. A missing or unreadable image is an error naming the file and
 * the cause.
 */
#include <kxl/model.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

/* Letters of a disk index, xl's bijective base 26: a..z, aa..zz, ... */
static int letters_parse(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	if (!n) return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 'a' || s[i] > 'z') return -1;
		if (v > (1UL << 24)) return -1;		/* far beyond xl's 2^20 disks */
		v = v * 26 + (unsigned long)(s[i] - 'a' + 1);
	}
	*out = v - 1;
	return 0;
}

static void letters_put(char *buf, size_t cap, unsigned long idx)
{
	char tmp[16];
	size_t n = 0;
	idx++;
	while (idx && n < sizeof(tmp)) {
		idx--;
		tmp[n++] = (char)('a' + idx % 26);
		idx /= 26;
	}
	size_t k = 0;
	while (n && k + 1 < cap) buf[k++] = tmp[--n];
	buf[k] = 0;
}

/* Decimal partition number of s[0..n) (n may be 0: none). */
static int part_parse(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	if (n && s[0] == '0') return -1;	/* "xvda0" is no partition */
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max) return -1;
	}
	*out = v;
	return 0;
}

/* PREFIX + letters + optional partition, with libxl's bounds. */
static int named(const char *s, size_t len, const char *prefix, unsigned long max_disk,
		 unsigned long max_part, unsigned *disk, unsigned *part)
{
	size_t pl = strlen(prefix), i;
	unsigned long dk, pt = 0;
	if (len <= pl || strncmp(s, prefix, pl)) return -1;
	for (i = pl; i < len && s[i] >= 'a' && s[i] <= 'z'; i++)
		;
	if (letters_parse(s + pl, i - pl, &dk) || dk > max_disk) return -1;
	if (part_parse(s + i, len - i, max_part, &pt)) return -1;
	*disk = (unsigned)dk;
	*part = (unsigned)pt;
	return 0;
}

/* The cmdline's names: xvdX, hdX, sdX (no raw numbers, no dNpM). */
static int name_parse(const char *s, size_t len, unsigned *disk, unsigned *part)
{
	if (!named(s, len, "xvd", (1UL << 20) - 1, 255, disk, part)) return 0;
	if (!named(s, len, "hd", 3, 63, disk, part)) return 0;
	if (!named(s, len, "sd", 15, 15, disk, part)) return 0;
	return -1;
}

int kxl_vdev_parse(const char *vdev, unsigned *disk, unsigned *part)
{
	size_t len = strlen(vdev);
	if (!len) return -1;
	if (!name_parse(vdev, len, disk, part)) return 0;
	if (vdev[0] == 'd' && vdev[1] >= '0' && vdev[1] <= '9') {
		/* dN or dNpM */
		char *e;
		errno = 0;
		unsigned long dk = strtoul(vdev + 1, &e, 10), pt = 0;
		if (errno || dk >= (1UL << 20)) return -1;
		if (*e == 'p') {
			const char *p = e + 1;
			if (!*p || part_parse(p, strlen(p), 255, &pt)) return -1;
		} else if (*e) {
			return -1;
		}
		*disk = (unsigned)dk;
		*part = (unsigned)pt;
		return 0;
	}
	if (vdev[0] >= '1' && vdev[0] <= '9') {
		/* xl's raw device number: Xen's xvd encodings only */
		char *e;
		errno = 0;
		unsigned long n = strtoul(vdev, &e, 10);
		if (errno || *e) return -1;
		if (n & (1UL << 28)) {
			*disk = (unsigned)((n >> 8) & 0xfffff);
			*part = (unsigned)(n & 0xff);
			return n >> 29 ? -1 : 0;
		}
		if ((n >> 8) == 202) {
			*disk = (unsigned)((n >> 4) & 0xf);
			*part = (unsigned)(n & 0xf);
			return 0;
		}
		return -1;
	}
	return -1;
}

void kxl_vdev_guest_name(unsigned index, char *buf, size_t cap)
{
	char l[16];
	letters_put(l, sizeof(l), index);
	snprintf(buf, cap, "vd%s", l);
}

/* ---- the command line ---- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

char *kxl_cmdline_map_disks(const char *cmdline, const struct kxl_vmm_disk *disks, size_t n,
			    struct kxl_diag *d)
{
	if (!cmdline) return NULL;
	struct sbuf out = { 0 };
	sbuf_add(&out, "", 0);
	bool changed = false;
	/* each distinct rewrite is said once */
	struct sbuf said = { 0 };
	sbuf_add(&said, "\n", 1);
	const char *p = cmdline;
	while (*p) {
		const char *dev = strstr(p, "/dev/");
		if (!dev) {
			sbuf_adds(&out, p);
			break;
		}
		const char *name = dev + 5, *end = name;
		while (name_char(*end)) end++;
		bool boundary = (dev == cmdline || !name_char(dev[-1])) && end > name;
		unsigned dk, pt;
		sbuf_add(&out, p, (size_t)(name - p));
		p = name;
		if (!boundary || name_parse(name, (size_t)(end - name), &dk, &pt))
			continue;
		/* the disk itself (a partition vdev is a disk of its own), else a
		 * partition of a whole disk */
		long exact = -1, whole = -1;
		for (size_t i = 0; i < n; i++) {
			unsigned vd, vp;
			if (kxl_vdev_parse(disks[i].vdev, &vd, &vp) || vd != dk) continue;
			if (vp == pt) exact = (long)i;
			else if (vp == 0) whole = (long)i;
		}
		char to[40];
		const char *why;
		if (exact >= 0) {
			snprintf(to, sizeof(to), "%s", disks[exact].guest_name);
			why = pt ? "the partition vdev is a whole, unpartitioned disk on KVM" :
				   "KVM guests see virtio disks";
		} else if (whole >= 0) {
			snprintf(to, sizeof(to), "%s%u", disks[whole].guest_name, pt);
			why = "a partition of that virtio disk";
		} else {
			char *key = xasprintf("\n!%.*s\n", (int)(end - name), name);
			if (!strstr(said.s, key)) {
				kxl_diag_add(d, KXL_WARNING, NULL, "the kernel command line names /dev/%.*s, "
					     "which is none of this domain's disks: left as it is",
					     (int)(end - name), name);
				sbuf_adds(&said, key + 1);
			}
			free(key);
			continue;
		}
		char *key = xasprintf("\n%.*s\n", (int)(end - name), name);
		if (!strstr(said.s, key)) {
			kxl_diag_add(d, KXL_NOTE, NULL, "kernel command line: /dev/%.*s -> /dev/%s (%s)",
				     (int)(end - name), name, to, why);
			sbuf_adds(&said, key + 1);
		}
		free(key);
		sbuf_adds(&out, to);
		p = end;
		changed = true;
	}
	free(said.s);
	if (!changed) {
		free(out.s);
		return NULL;
	}
	return sbuf_steal(&out);
}

/* ---- the disks of a domain ---- */

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

static bool getb(json_object *o, const char *k, bool dflt)
{
	const char *s = gets(o, k);
	return s ? !strcmp(s, "True") : dflt;
}

struct one {
	json_object *o;
	struct kxl_loc loc;
	const char *spec;	/* the spec as written, or NULL */
	unsigned disk, part;
	size_t idx;
};

static int by_vdev(const void *a, const void *b)
{
	const struct one *x = a, *y = b;
	if (x->disk != y->disk) return x->disk < y->disk ? -1 : 1;
	if (x->part != y->part) return x->part < y->part ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

__attribute__((format(printf, 3, 4)))
static void disk_err(struct kxl_diag *d, const struct one *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	const char *vdev = gets(o->o, "vdev");
	if (o->spec)
		kxl_diag_add(d, KXL_ERROR, &o->loc, "disk spec `%s': %s", o->spec, m);
	else
		kxl_diag_add(d, KXL_ERROR, &o->loc, "disk %s: %s", vdev ? vdev : "?", m);
	free(m);
}

/* QEMU's block driver for xl's format, or NULL (raw, empty). */
static const char *qemu_driver(const char *fmt)
{
	static const char *const map[][2] = {
		{ "qcow", "qcow" }, { "qcow2", "qcow2" }, { "vhd", "vpc" }, { "qed", "qed" },
	};
	for (size_t i = 0; fmt && i < ARRAY_SIZE(map); i++)
		if (!strcmp(fmt, map[i][0]))
			return map[i][1];
	return NULL;
}

/* The protocol kxl reaches through qemu-storage-daemon for Xen's block
 * script SCRIPT (block-nbd, block-iscsi: also the nbd: and iscsi:
 * prefixes), or NULL. */
static const char *protocol_of(const char *script)
{
	if (script && !strcmp(script, "block-nbd")) return "nbd";
	if (script && !strcmp(script, "block-iscsi")) return "iscsi";
	return NULL;
}

/* qemu-storage-daemon in PATH (kxl_vmm_run starts it from there). */
static bool have_qsd(void)
{
	const char *path = getenv("PATH");
	char *dirs = xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	bool found = false;
	for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/qemu-storage-daemon", *dir ? dir : ".");
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(dirs);
	return found;
}

/* What KVM cannot serve. Returns 0 (serve it), 1 (leave it out, said), -1. */
static int check_disk(const struct one *o, struct kxl_diag *d)
{
	json_object *j = o->o;
	const char *script = gets(j, "script"), *backend = gets(j, "backend"),
		   *spec = gets(j, "specification"), *fmt = gets(j, "format"),
		   *dom = gets(j, "backend_domname"), *path = gets(j, "pdev_path");
	int bad = 0;
	const char *proto = protocol_of(script);
	if (proto) {
		/* Xen's block-nbd / block-iscsi: on KVM qemu-storage-daemon's own
		 * nbd and iscsi drivers reach the target */
		struct kxl_vmm_disk k = { .path = path ? path : "", .vdev = gets(j, "vdev"),
					  .protocol = proto };
		struct kxl_diag td;
		kxl_diag_init(&td);
		char **argv = kxl_blk_qsd_argv(&k, "/", "x", &td);
		kxl_blk_qsd_argv_free(argv);
		for (size_t i = 0; i < td.n; i++) {
			/* its "disk VDEV: " is disk_err's own */
			const char *m = td.v[i].msg, *c = strstr(m, ": ");
			disk_err(d, o, "%s", !strncmp(m, "disk ", 5) && c ? c + 2 : m);
		}
		kxl_diag_free(&td);
		if (!argv)
			bad = 1;
		else if (!have_qsd()) {
			disk_err(d, o, "%s: targets are reached through qemu-storage-daemon, which is "
				 "not installed (Debian: qemu-system-common%s)", proto,
				 !strcmp(proto, "iscsi") ? " and qemu-block-extra" : "");
			bad = 1;
		}
		return bad ? -1 : 0;
	}
	if (script && !strcmp(script, "block-drbd")) {
		disk_err(d, o, "drbd: needs Xen's block-drbd hotplug script, which works through "
			 "xenstore; KVM has none (attach the DRBD device on the host and give "
			 "/dev/drbdN as the target)");
		bad = 1;
	} else if (script) {
		disk_err(d, o, "script=%s: block hotplug scripts need Xen's xenstore, which KVM "
			 "does not have; kxl serves raw image files and block devices itself (set "
			 "the device up on the host and give it as the target)", script);
		bad = 1;
	}
	if (backend && !strcmp(backend, "standalone") && (!spec || strcmp(spec, "virtio"))) {
		disk_err(d, o, "backendtype=standalone without specification=virtio names a Xen "
			 "backend that runs on its own; on KVM the disk is virtio (add "
			 "specification=virtio, or leave backendtype out)");
		bad = 1;
	}
	if (dom && *dom) {
		disk_err(d, o, "backend=%s: the disk is served by a Xen driver domain; KVM has "
			 "none (leave backend= out)", dom);
		bad = 1;
	}
	if (getb(j, "colo_enable", false)) {
		disk_err(d, o, "colo: COLO block replication needs Xen's qdisk backend; kxl does "
			 "not do it");
		bad = 1;
	}
	if (qemu_driver(fmt) && !have_qsd()) {
		disk_err(d, o, "format=%s is served through qemu-storage-daemon, which is not "
			 "installed (Debian: qemu-system-common; or convert the image with "
			 "`qemu-img convert -O raw')", fmt);
		bad = 1;
	}
	if (bad) return -1;
	if (fmt && !strcmp(fmt, "empty")) {
		kxl_diag_add(d, KXL_WARNING, &o->loc, "disk %s: a cdrom without media is not "
			     "attached: kxl's virtio disks have no removable media",
			     gets(j, "vdev"));
		return 1;
	}
	if (!path || path[0] != '/') {
		disk_err(d, o, "target `%s' is not a file or block device path; kxl does not "
			 "serve protocol targets (iscsi:, nbd:, rbd:, ...) yet: attach the device on "
			 "the host and give it as the target", path ? path : "");
		return -1;
	}
	bool ro = !(get(j, "readwrite") && json_object_get_int(get(j, "readwrite"))) ||
		  (get(j, "is_cdrom") && json_object_get_int(get(j, "is_cdrom")));
	struct stat st;
	if (stat(path, &st) < 0) {
		disk_err(d, o, "cannot use %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		disk_err(d, o, "%s is neither a regular file nor a block device", path);
		return -1;
	}
	if (access(path, ro ? R_OK : R_OK | W_OK) < 0) {
		disk_err(d, o, "cannot %s %s: %s", ro ? "read" : "read and write", path,
			 strerror(errno));
		return -1;
	}
	return 0;
}

int kxl_domain_vmm_disks(const struct kxl_domain *dom, const struct kxl_cfg *cfg,
			 struct kxl_domain_disks *out, struct kxl_diag *d)
{
	memset(out, 0, sizeof(*out));
	json_object *arr = get(dom->config, "disks");
	size_t n = arr ? json_object_array_length(arr) : 0;
	const struct kxl_cfg_value *list = NULL;
	const struct kxl_cfg_setting *s = cfg ? kxl_cfg_find(cfg, "disk") : NULL;
	if (s && s->value->type == KXL_CFG_LIST && s->value->n >= n)
		list = s->value;
	struct one *v = xcalloc(n + 1, sizeof(*v));
	size_t nv = 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct one *o = &v[nv];
		o->o = json_object_array_get_idx(arr, i);
		o->idx = i;
		if (list && list->items[i]->type == KXL_CFG_STRING) {
			o->loc = kxl_cfg_loc(&list->items[i]->pos);
			o->spec = list->items[i]->str;
		} else {
			o->loc = (struct kxl_loc){ .file = cfg ? cfg->path : NULL };
		}
		const char *vdev = gets(o->o, "vdev");
		if (!vdev || kxl_vdev_parse(vdev, &o->disk, &o->part)) {
			disk_err(d, o, "vdev `%s' is not a Xen disk name (xvdX, hdX, sdX, dN or "
				 "dNpM, with an optional partition number)", vdev ? vdev : "");
			bad = 1;
			continue;
		}
		int r = check_disk(o, d);
		if (r < 0) bad = 1;
		if (r == 0) nv++;
	}
	qsort(v, nv, sizeof(*v), by_vdev);
	for (size_t i = 1; i < nv; i++)
		if (v[i].disk == v[i - 1].disk && v[i].part == v[i - 1].part) {
			disk_err(d, &v[i], "vdev %s is the same disk as %s", gets(v[i].o, "vdev"),
				 gets(v[i - 1].o, "vdev"));
			bad = 1;
		}
	if (bad) {
		free(v);
		return -1;
	}
	struct kxl_vmm_disk *disks = xcalloc(nv + 1, sizeof(*disks));
	out->names = xcalloc(nv + 1, sizeof(*out->names));
	for (size_t i = 0; i < nv; i++) {
		json_object *j = v[i].o;
		char name[16];
		kxl_vdev_guest_name((unsigned)i, name, sizeof(name));
		out->names[i] = xstrdup(name);
		disks[i].path = gets(j, "pdev_path");
		disks[i].vdev = gets(j, "vdev");
		disks[i].guest_name = out->names[i];
		disks[i].readonly = !(get(j, "readwrite") && json_object_get_int(get(j, "readwrite"))) ||
				    (get(j, "is_cdrom") && json_object_get_int(get(j, "is_cdrom")));
		disks[i].discard = getb(j, "discard_enable", true);
		disks[i].qemu_format = qemu_driver(gets(j, "format"));
		disks[i].protocol = protocol_of(gets(j, "script"));
		if (disks[i].protocol && !disks[i].qemu_format)
			disks[i].qemu_format = "raw";	/* over the protocol, by the daemon */
	}
	free(v);
	out->v = disks;
	out->n = nv;
	out->cmdline = kxl_cmdline_map_disks(dom->cmdline, disks, nv, d);
	return 0;
}

void kxl_domain_disks_free(struct kxl_domain_disks *dd)
{
	for (size_t i = 0; dd->names && i < dd->n; i++)
		free(dd->names[i]);
	free(dd->names);
	free(dd->v);
	free(dd->cmdline);
	memset(dd, 0, sizeof(*dd));
}
