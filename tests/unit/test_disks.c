/*
 * test_disks.c: unit tests of the disks on KVM (src/model/disks.c): Xen
 * vdev names with libxl's bounds, the guest's names, the kernel command
 * line's rewrite (partition vdevs, partitions of whole disks, hd/sd
 * forms, names that are no disk), xl vdev order, and the create-time
 * errors for what KVM cannot serve, each at its cfg line. No KVM.
 */
#include <kxl/cfg.h>
#include <kxl/model.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures, checks;

#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)

static int vd(const char *s, unsigned disk, unsigned part)
{
	unsigned d = 99, p = 99;
	return kxl_vdev_parse(s, &d, &p) == 0 && d == disk && p == part;
}

static int bad(const char *s)
{
	unsigned d, p;
	return kxl_vdev_parse(s, &d, &p) < 0;
}

static void test_vdev(void)
{
	CHECK(vd("xvda", 0, 0));
	CHECK(vd("xvdb1", 1, 1));
	CHECK(vd("xvdz", 25, 0));
	CHECK(vd("xvdaa", 26, 0));
	CHECK(vd("xvdab15", 27, 15));
	CHECK(vd("xvda255", 0, 255));
	CHECK(vd("hda", 0, 0));
	CHECK(vd("hdd63", 3, 63));
	CHECK(vd("sda", 0, 0));
	CHECK(vd("sdp15", 15, 15));
	CHECK(vd("d0", 0, 0));
	CHECK(vd("d3p2", 3, 2));
	CHECK(vd("51712", 0, 0));		/* 202 << 8: xvda */
	CHECK(vd("51729", 1, 1));		/* xvdb1 */
	CHECK(vd("268439552", 16, 0));		/* 1 << 28 | 16 << 8: xvdq */
	CHECK(bad(""));
	CHECK(bad("xvd"));
	CHECK(bad("xvda0"));
	CHECK(bad("xvda256"));
	CHECK(bad("xvdA"));
	CHECK(bad("hde"));
	CHECK(bad("hda64"));
	CHECK(bad("sdq"));
	CHECK(bad("sda16"));
	CHECK(bad("vda"));
	CHECK(bad("d1p"));
	CHECK(bad("d1x"));
	CHECK(bad("768"));			/* hda's number: not an xvd encoding */
	CHECK(bad("xvda1x"));

	char b[16];
	kxl_vdev_guest_name(0, b, sizeof(b));
	CHECK(!strcmp(b, "vda"));
	kxl_vdev_guest_name(25, b, sizeof(b));
	CHECK(!strcmp(b, "vdz"));
	kxl_vdev_guest_name(26, b, sizeof(b));
	CHECK(!strcmp(b, "vdaa"));
	kxl_vdev_guest_name(27, b, sizeof(b));
	CHECK(!strcmp(b, "vdab"));
	kxl_vdev_guest_name(26 + 26 * 26, b, sizeof(b));
	CHECK(!strcmp(b, "vdaaa"));
}

static int has_msg(const struct kxl_diag *d, enum kxl_severity sev, const char *part)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == sev && strstr(d->v[i].msg, part))
			return 1;
	return 0;
}

static void test_cmdline(void)
{
	struct kxl_vmm_disk disks[] = {
		{ .vdev = "xvda1", .guest_name = "vda" },
		{ .vdev = "xvdb", .guest_name = "vdb" },
	};
	struct kxl_diag d;
	kxl_diag_init(&d);
	char *s = kxl_cmdline_map_disks("root=/dev/xvda1 ro resume=/dev/xvdb2 console=hvc0 "
					 "x=/dev/xvda1", disks, 2, &d);
	CHECK(s && !strcmp(s, "root=/dev/vda ro resume=/dev/vdb2 console=hvc0 x=/dev/vda"));
	/* each rewrite said once */
	size_t notes = 0;
	for (size_t i = 0; i < d.n; i++)
		notes += d.v[i].sev == KXL_NOTE;
	CHECK(notes == 2);
	CHECK(has_msg(&d, KXL_NOTE, "/dev/xvda1 -> /dev/vda"));
	CHECK(has_msg(&d, KXL_NOTE, "/dev/xvdb2 -> /dev/vdb2"));
	free(s);
	kxl_diag_clear(&d);

	/* hd and sd names of disk 1; a name that is no disk stays, warned */
	s = kxl_cmdline_map_disks("root=/dev/sdb3 a=/dev/hdb b=/dev/xvdc", disks, 2, &d);
	CHECK(s && !strcmp(s, "root=/dev/vdb3 a=/dev/vdb b=/dev/xvdc"));
	CHECK(has_msg(&d, KXL_WARNING, "/dev/xvdc"));
	free(s);
	kxl_diag_clear(&d);

	/* nothing to do: NULL; not a name (no boundary, not Xen's) */
	CHECK(!kxl_cmdline_map_disks("root=UUID=1234 console=ttyS0", disks, 2, &d));
	CHECK(!kxl_cmdline_map_disks("root=/dev/vda1 x=/dev/xvdb1x y=a/dev/xvdb", disks, 2, &d));
	CHECK(!kxl_cmdline_map_disks(NULL, disks, 2, &d));
	CHECK(d.n == 0);
	/* xvda2 is neither the partition vdev xvda1 nor in a whole xvda */
	s = kxl_cmdline_map_disks("root=/dev/xvda2", disks, 2, &d);
	CHECK(!s);
	CHECK(has_msg(&d, KXL_WARNING, "/dev/xvda2"));
	kxl_diag_free(&d);
}

/* A domain from cfg text written to dir/x.cfg. */
static int load(const char *dir, const char *text, struct kxl_cfg *cfg, struct kxl_domain *dom,
		struct kxl_diag *d)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/x.cfg", dir);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	struct kxl_conf conf;
	kxl_conf_defaults(&conf);
	kxl_cfg_init(cfg);
	kxl_diag_init(d);
	int r = kxl_cfg_parse_file(cfg, path, d);
	if (!r)
		r = kxl_domain_from_cfg(dom, cfg, &conf, d);
	kxl_conf_free(&conf);
	return r;
}

static void test_domain(void)
{
	char dir[] = "/tmp/kxl-test-disks.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char p[600];
	const char *files[] = { "a.img", "b.img", "c.iso" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		FILE *f = fopen(p, "w");
		fputs("x", f);
		fclose(f);
	}
	struct kxl_cfg cfg;
	struct kxl_domain dom;
	struct kxl_diag d;
	struct kxl_domain_disks dd;

	/* xl vdev order, read-only forms, no-discard, the command line */
	CHECK(load(dir, "name='t'\ntype='pvh'\nkernel='k'\ncmdline='root=/dev/xvda1 ro'\n"
		   "disk=['format=raw,vdev=xvdc,access=ro,target=c.iso',\n"
		   "      'b.img,raw,xvdb,rw,no-discard', 'a.img,,xvda1', 'c.iso,raw,hdd,cdrom',\n"
		   "      'format=vhd,vdev=xvde,target=a.img']\n",
		   &cfg, &dom, &d) == 0);
	/* a qemu-storage-daemon that is only a name in PATH will do */
	char qsd[700];
	snprintf(qsd, sizeof(qsd), "%s/qemu-storage-daemon", dir);
	FILE *qf = fopen(qsd, "w");
	fclose(qf);
	chmod(qsd, 0755);
	char *oldpath = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", dir, 1);
	CHECK(kxl_domain_vmm_disks(&dom, &cfg, &dd, &d) == 0);
	setenv("PATH", oldpath ? oldpath : "/usr/bin:/bin", 1);
	free(oldpath);
	unlink(qsd);
	CHECK(dd.n == 5);
	if (dd.n == 5) {
		CHECK(!strcmp(dd.v[4].vdev, "xvde") && dd.v[4].qemu_format &&
		      !strcmp(dd.v[4].qemu_format, "vpc"));
		CHECK(!dd.v[0].qemu_format);
		CHECK(!strcmp(dd.v[0].vdev, "xvda1") && !strcmp(dd.v[0].guest_name, "vda"));
		CHECK(!strcmp(dd.v[1].vdev, "xvdb") && !dd.v[1].readonly && !dd.v[1].discard);
		CHECK(!strcmp(dd.v[2].vdev, "xvdc") && dd.v[2].readonly);
		CHECK(!strcmp(dd.v[3].vdev, "hdd") && dd.v[3].readonly);
		CHECK(dd.v[0].discard && !dd.v[0].readonly);
		CHECK(strstr(dd.v[0].path, "/a.img") && dd.v[0].path[0] == '/');
	}
	CHECK(dd.cmdline && !strcmp(dd.cmdline, "root=/dev/vda ro"));
	kxl_domain_disks_free(&dd);
	kxl_domain_free(&dom);
	kxl_cfg_free(&cfg);
	kxl_diag_free(&d);

	/* what KVM cannot serve: one error each, at its line (and no
	 * qemu-storage-daemon in PATH) */
	char *path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	setenv("PATH", dir, 1);
	CHECK(load(dir, "name='t'\ntype='pvh'\nkernel='k'\ndisk=[\n"
		   "'vdev=xvda,script=block-iscsi,target=iqn.x',\n"
		   "'drbd:res0,xvdb,w',\n"
		   "'vdev=xvdc,backendtype=standalone,target=a.img',\n"
		   "'vdev=xvdd,format=qcow2,target=a.img',\n"
		   "'vdev=xvde,target=missing.img',\n"
		   "'vdev=xvdf,backend=dd,target=a.img',\n"
		   "'vdev=xvdg,backendtype=standalone,specification=virtio,target=b.img',\n"
		   "'vdev=xvdh,target=nbd:host:1234',\n"
		   "'vdev=bogus,target=a.img',\n"
		   "',,xvdi:cdrom'\n]\n", &cfg, &dom, &d) == 0);
	CHECK(kxl_domain_vmm_disks(&dom, &cfg, &dd, &d) < 0);
	if (path) {
		setenv("PATH", path, 1);
		free(path);
	}
	CHECK(has_msg(&d, KXL_ERROR, "script=block-iscsi"));
	CHECK(has_msg(&d, KXL_ERROR, "iscsi target `iqn.x': `iqn.x' is not understood (iqn=IQN,portal="));
	CHECK(has_msg(&d, KXL_ERROR, "drbd:"));
	CHECK(has_msg(&d, KXL_ERROR, "backendtype=standalone without specification=virtio"));
	CHECK(has_msg(&d, KXL_ERROR, "format=qcow2 is served through qemu-storage-daemon, which is not installed"));
	CHECK(has_msg(&d, KXL_ERROR, "missing.img: No such file or directory"));
	CHECK(has_msg(&d, KXL_ERROR, "backend=dd"));
	CHECK(has_msg(&d, KXL_ERROR, "nbd:host:1234"));
	CHECK(has_msg(&d, KXL_ERROR, "vdev `bogus'"));
	CHECK(has_msg(&d, KXL_WARNING, "xvdi: a cdrom without media"));
	CHECK(d.errors == 8);
	for (size_t i = 0; i < d.n; i++) {
		if (strstr(d.v[i].msg, "script=block-iscsi")) CHECK(d.v[i].loc.line == 5);
		if (strstr(d.v[i].msg, "format=qcow2")) CHECK(d.v[i].loc.line == 8);
		if (strstr(d.v[i].msg, "missing.img")) CHECK(d.v[i].loc.line == 9 && d.v[i].loc.file);
	}
	kxl_domain_free(&dom);
	kxl_cfg_free(&cfg);
	kxl_diag_free(&d);

	/* two vdevs for one disk */
	CHECK(load(dir, "name='t'\ntype='pvh'\nkernel='k'\ndisk=['a.img,,xvda','b.img,,hda']\n",
		   &cfg, &dom, &d) == 0);
	CHECK(kxl_domain_vmm_disks(&dom, &cfg, &dd, &d) < 0);
	CHECK(has_msg(&d, KXL_ERROR, "same disk"));
	kxl_domain_free(&dom);
	kxl_cfg_free(&cfg);
	kxl_diag_free(&d);

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/x.cfg", dir);
	unlink(p);
	rmdir(dir);
}

/* argv[2], the protocol node, of qemu-storage-daemon for a target; NULL
 * when refused (the message in *msg). */
static char *node(const char *proto, const char *target, bool ro, char **msg)
{
	struct kxl_vmm_disk k = { .path = target, .vdev = "xvda", .protocol = proto,
				  .readonly = ro, .discard = true };
	struct kxl_diag d;
	kxl_diag_init(&d);
	char **argv = kxl_blk_qsd_argv(&k, "/run/q,s.sock", "kxl", &d);
	char *r = argv ? strdup(argv[2]) : NULL;
	*msg = d.n ? strdup(d.v[0].msg) : NULL;
	if (argv) {
		/* the rest of the command line, as virtio-blk.c runs it */
		CHECK(!strcmp(argv[0], "qemu-storage-daemon") && !strcmp(argv[1], "--blockdev"));
		CHECK(!strcmp(argv[4], ro ? "driver=raw,node-name=disk0,file=file0,read-only=on" :
			      "driver=raw,node-name=disk0,file=file0,read-only=off,discard=unmap"));
		CHECK(!strcmp(argv[5], "--nbd-server") &&
		      !strcmp(argv[6], "addr.type=unix,addr.path=/run/q,,s.sock"));
		CHECK(!strcmp(argv[8], ro ? "type=nbd,id=export0,node-name=disk0,name=kxl,writable=off" :
			      "type=nbd,id=export0,node-name=disk0,name=kxl,writable=on"));
		CHECK(argv[9] == NULL);
	}
	kxl_blk_qsd_argv_free(argv);
	kxl_diag_free(&d);
	return r;
}

static int node_is(const char *proto, const char *target, bool ro, const char *want)
{
	char *msg, *got = node(proto, target, ro, &msg);
	int ok = got && !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "%s `%s': got `%s' (%s), want `%s'\n", proto ? proto : "file", target,
			got ? got : "NULL", msg ? msg : "", want);
	free(got);
	free(msg);
	return ok;
}

static int node_refused(const char *proto, const char *target, const char *why)
{
	char *msg, *got = node(proto, target, false, &msg);
	int ok = !got && msg && strstr(msg, why);
	if (!ok)
		fprintf(stderr, "%s `%s': got `%s' (%s), want refused: %s\n", proto, target,
			got ? got : "NULL", msg ? msg : "", why);
	free(got);
	free(msg);
	return ok;
}

/* qemu-storage-daemon's command line for files and network targets
 * (src/vmm/blk-target.c), without running it */
static void test_qsd_argv(void)
{
	CHECK(node_is(NULL, "/srv/a,b.qcow2", false,
		      "driver=file,node-name=file0,filename=/srv/a,,b.qcow2,read-only=off,discard=unmap"));
	CHECK(node_is("nbd", "10.0.0.1:10809", false,
		      "driver=nbd,node-name=file0,server.type=inet,server.host=10.0.0.1,"
		      "server.port=10809,read-only=off,discard=unmap"));
	CHECK(node_is("nbd", "nbd.example.com 2000", true,
		      "driver=nbd,node-name=file0,server.type=inet,server.host=nbd.example.com,"
		      "server.port=2000,read-only=on"));
	CHECK(node_is("nbd", "[fd00::1]:10810/vol1", true,
		      "driver=nbd,node-name=file0,server.type=inet,server.host=fd00::1,"
		      "server.port=10810,export=vol1,read-only=on"));
	CHECK(node_is("nbd", "host", true,
		      "driver=nbd,node-name=file0,server.type=inet,server.host=host,"
		      "server.port=10809,read-only=on"));
	CHECK(node_is("nbd", "unix:/run/nbd.sock", true,
		      "driver=nbd,node-name=file0,server.type=unix,server.path=/run/nbd.sock,read-only=on"));
	CHECK(node_is("iscsi", "iqn=iqn.2001-05.com.example:disk0,portal=192.0.2.1:3260", true,
		      "driver=iscsi,node-name=file0,transport=tcp,portal=192.0.2.1:3260,"
		      "target=iqn.2001-05.com.example:disk0,lun=0,read-only=on"));
	CHECK(node_is("iscsi", "portal=san,iqn=iqn.x:y,lun=3", true,
		      "driver=iscsi,node-name=file0,transport=tcp,portal=san,target=iqn.x:y,lun=3,"
		      "read-only=on"));
	CHECK(node_refused("nbd", "", "names no server"));
	CHECK(node_refused("nbd", "host:0", "is not a TCP port"));
	CHECK(node_refused("nbd", "host:65536", "is not a TCP port"));
	CHECK(node_refused("nbd", "host:12ab", "is not a TCP port"));
	CHECK(node_refused("nbd", "[fd00::1", "closing"));
	CHECK(node_refused("nbd", "unix:sock", "absolute"));
	CHECK(node_refused("nbd", "host:1,x=y", "is not a TCP port"));
	CHECK(node_refused("iscsi", "iqn=iqn.x", "needs iqn= and portal="));
	CHECK(node_refused("iscsi", "iqn=,portal=p", "needs iqn= and portal="));
	CHECK(node_refused("iscsi", "iqn=a,portal=p,lun=x", "not a LUN"));
	CHECK(node_refused("iscsi", "iqn=a,portal=p,password=s", "`password=s' is not understood"));
	CHECK(node_refused("iscsi", "iqn.2001-05.com.example:disk0", "is not understood"));
	CHECK(node_refused("rbd", "pool/img", "no protocol"));
}

int main(void)
{
	test_vdev();
	test_cmdline();
	test_domain();
	test_qsd_argv();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
