/*
 * test_model.c: unit tests of the config model's parts in isolation (TAP,
 * one result per group): the xlu-style getters and their warnings, the key
 * table's rows (types, defaults, enum values, IDL destinations), handlers
 * called on their own row with a hand-made context, the defaults pass, and
 * the disk and vif spec parsers (fields, positional forms, deprecated
 * prefixes said once, errors with their location).
 */
#include <kxl/cfg.h>
#include <kxl/model.h>

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/handlers.h"
#include "util/util.h"

static int group_failures, tests, failed_tests;

#define CHECK(c) do { if (!(c)) { group_failures++; \
	printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)

static void run(const char *name, void (*fn)(void))
{
	group_failures = 0;
	fn();
	tests++;
	if (group_failures) failed_tests++;
	printf("%s %d - %s\n", group_failures ? "not ok" : "ok", tests, name);
}

/* A context over a cfg text, as kxl_domain_from_cfg sets it up. */
struct fixture {
	struct kxl_cfg cfg;
	struct kxl_conf conf;
	struct kxl_diag d;
	struct mctx m;
};

static void fx_init(struct fixture *f, const char *text, int type)
{
	kxl_cfg_init(&f->cfg);
	kxl_diag_init(&f->d);
	kxl_conf_defaults(&f->conf);
	if (kxl_cfg_parse(&f->cfg, "/t/x.cfg", text, strlen(text), &f->d))
		printf("# fixture does not parse: %s\n", text);
	memset(&f->m, 0, sizeof(f->m));
	f->m.cfg = &f->cfg;
	f->m.conf = &f->conf;
	f->m.d = &f->d;
	f->m.type = type;
	m_index_build(&f->m);
	f->m.root = json_object_new_object();
	f->m.c_info = j_obj(f->m.root, "c_info");
	f->m.b_info = j_obj(f->m.root, "b_info");
	f->m.type_obj = j_obj(f->m.b_info, type == T_HVM ? "type.hvm" : type == T_PVH ? "type.pvh" : "type.pv");
}

static void fx_free(struct fixture *f)
{
	m_index_free(&f->m);
	json_object_put(f->m.root);
	kxl_cfg_free(&f->cfg);
	kxl_conf_free(&f->conf);
	kxl_diag_free(&f->d);
}

/* the first message of severity sev containing s */
static bool has_msg(const struct kxl_diag *d, enum kxl_severity sev, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == sev && strstr(d->v[i].msg, s)) return true;
	return false;
}

static const char *jget(json_object *o, const char *path)
{
	/* "a/b/c" */
	char *p = xstrdup(path), *save = NULL;
	for (char *t = strtok_r(p, "/", &save); t && o; t = strtok_r(NULL, "/", &save))
		if (!json_object_object_get_ex(o, t, &o)) o = NULL;
	free(p);
	return o ? json_object_get_string(o) : NULL;
}

static bool jis(json_object *o, const char *path, const char *want)
{
	const char *v = jget(o, path);
	if (!want) return !v;
	if (!v || strcmp(v, want)) {
		printf("# %s: got %s, want %s\n", path, v ? v : "(absent)", want);
		return false;
	}
	return true;
}

static void test_getters(void)
{
	struct fixture f;
	fx_init(&f, "s = 'str'\nn = 0x10\nbad = '12x'\nl = [ 'a', 'b' ]\nneg = '-3'\nb = 1\n"
		    "p = 'sub/file'\nabs = '/x/y'\ndot = './prog'\nbare = 'prog'\nadd = 1\nadd += 2\n", T_PV);
	struct mctx *m = &f.m;
	const char *s;
	long l;
	const struct kxl_cfg_value *list;
	CHECK(m_string(m, "s", false, &s) == 0 && !strcmp(s, "str"));
	CHECK(m_string(m, "absent", false, &s) == ESRCH);
	CHECK(m_string(m, "l", true, &s) == EINVAL && f.d.n == 0);
	CHECK(m_string(m, "l", false, &s) == EINVAL && has_msg(&f.d, KXL_WARNING, "is a list but should be a single value"));
	CHECK(m_long(m, "n", false, &l) == 0 && l == 16);
	CHECK(m_long(m, "neg", false, &l) == 0 && l == -3);
	CHECK(m_long(m, "bad", false, &l) == EINVAL && has_msg(&f.d, KXL_WARNING, "is not a valid number"));
	CHECK(m_bounded_long(m, "n", 0, 15, false, &l) == EINVAL && has_msg(&f.d, KXL_WARNING, "greater than maximum"));
	CHECK(m_bounded_long(m, "neg", 0, 15, false, &l) == EINVAL && has_msg(&f.d, KXL_WARNING, "smaller than minimum"));
	CHECK(m_long(m, "add", false, &l) == EINVAL && has_msg(&f.d, KXL_WARNING, "can't use += with numbers"));
	CHECK(m_list(m, "l", false, &list) == 0 && list->n == 2);
	CHECK(m_list(m, "s", false, &list) == EINVAL && has_msg(&f.d, KXL_WARNING, "single value but should be a list"));
	json_object *o = json_object_new_object();
	CHECK(m_defbool(m, "b", false, o, "f") == 0 && jis(o, "f", "True"));
	CHECK(m_replace_string(m, "s", false, o, "g") == 0 && jis(o, "g", "str"));
	json_object_put(o);
	/* paths: against the cfg's directory; a bare name kept for a lookup */
	char *r = m_resolve(m, "p", "sub/file");
	CHECK(!strcmp(r, "/t/sub/file"));
	free(r);
	r = m_resolve(m, "abs", "/x/y");
	CHECK(!strcmp(r, "/x/y"));
	free(r);
	r = m_resolve_lookup(m, "dot", "./prog");
	CHECK(!strcmp(r, "/t/prog"));
	free(r);
	r = m_resolve_lookup(m, "bare", "prog");
	CHECK(!strcmp(r, "prog"));
	free(r);
	/* errors always mark the domain refused, at the value's location */
	CHECK(!m->failed);
	m_error(m, "s", "bad %s", "thing");
	CHECK(m->failed && f.d.errors == 1 && f.d.v[f.d.n - 1].loc.line == 1 && f.d.v[f.d.n - 1].loc.col == 5);
	m->failed = false;
	struct kxl_loc at = m_value_loc(list->items[1]);
	m_error_at(m, &at, "entry");
	CHECK(m->failed && f.d.v[f.d.n - 1].loc.line == 4 && f.d.v[f.d.n - 1].loc.col == 12);
	fx_free(&f);
}

static void test_table(void)
{
	const struct key *keys;
	size_t n = m_keys(&keys);
	CHECK(n > 150);
	size_t first = 0, phases = 0;
	for (size_t i = 0; i < n; i++) {
		const struct key *k = &keys[i];
		if (k->flags & KF_FIRST) first++;
		if (k->flags & KF_PHASE) {
			phases++;
			CHECK(k->fn && !k->name[0]);
			continue;
		}
		CHECK(k->name[0]);
		/* a row that stores a value has a destination that is an IDL field of it */
		if (k->field && k->dest != D_NONE) {
			for (int t = T_PV; t <= T_HVM; t <<= 1) {
				if (!(k->types & t)) continue;
				if (!m_idl_has(m_dest_idl(k->dest, t), k->field)) {
					printf("# %s: %s is no field of %s\n", k->name, k->field, m_dest_idl(k->dest, t));
					group_failures++;
				}
				if (k->dest != D_TYPE) break;
			}
		}
		/* a row without a handler can be applied by its type */
		if (!k->fn && !(k->flags & KF_GROUP))
			CHECK(k->field && k->dest != D_NONE && k->type != KT_SPECIAL && k->type != KT_DEVICES);
		if (k->type == KT_ENUM) {
			long nv = 0;
			while (k->values && k->values[nv]) nv++;
			CHECK(nv > 0);
			if (k->flags & KF_DEFAULT) CHECK(k->dflt >= 0 && k->dflt < nv);
			CHECK(k->idl_dflt >= -1 && k->idl_dflt < nv);
		}
		if (k->dflt_key) CHECK(m_key(k->dflt_key) != NULL && m_key(k->dflt_key) < k);
		if (k->flags & KF_FILL) CHECK(k->field && (k->flags & KF_DEFAULT || k->dflt_key));
		if (k->min < k->max) CHECK(k->type == KT_INT);
	}
	CHECK(first == 1 && phases == 3);
	/* the IDL check itself finds a field libxl does not have */
	json_object *bogus = json_tokener_parse("{ \"b_info\": { \"modules\": [], \"bogus\": 1, "
						"\"type.hvm\": { \"vnc\": { \"enable\": \"True\", \"x\": 1 } } } }");
	char *report = NULL;
	CHECK(m_idl_unknown(bogus, &report) == 2 && report && strstr(report, ".b_info.bogus") &&
	      strstr(report, ".b_info.type.hvm.vnc.x"));
	free(report);
	json_object_put(bogus);
	/* the man page's entries carry the rows' typed defaults, values and bounds */
	const struct kxl_key_doc *doc;
	size_t nd = kxl_keys_doc(&doc);
	bool saw_mem = false, saw_reboot = false, saw_vcpus = false;
	for (size_t i = 0; i < nd; i++) {
		if (!strcmp(doc[i].name, "memory")) saw_mem = !strcmp(doc[i].deflt, "32 MiB");
		if (!strcmp(doc[i].name, "on_reboot"))
			saw_reboot = !strcmp(doc[i].deflt, "restart") && doc[i].values && strstr(doc[i].values, "soft-reset");
		if (!strcmp(doc[i].name, "vcpus")) saw_vcpus = doc[i].bounds && !strcmp(doc[i].bounds, "0 to 65536");
	}
	CHECK(saw_mem && saw_reboot && saw_vcpus);
}

/* a handler or a typed row applied on its own */
static void apply(struct fixture *f, const char *name)
{
	const struct key *k = m_key(name);
	if (!k) { printf("# no row %s\n", name); group_failures++; return; }
	if (k->fn) k->fn(&f->m, k);
	else m_apply_into(&f->m, k, m_dest(&f->m, k));
}

static void test_handlers(void)
{
	struct fixture f;
	/* on_*: xl's default is written unless it is libxl's */
	fx_init(&f, "on_crash = 'preserve'\non_poweroff = 'explode'\n", T_PVH);
	apply(&f, "on_reboot");
	apply(&f, "on_watchdog");
	apply(&f, "on_crash");
	CHECK(jis(f.m.root, "on_reboot", "restart") && jis(f.m.root, "on_watchdog", NULL) &&
	      jis(f.m.root, "on_crash", "preserve"));
	CHECK(!f.m.failed);
	apply(&f, "on_poweroff");
	CHECK(f.m.failed && has_msg(&f.d, KXL_ERROR, "unknown on_poweroff action \"explode\" (destroy, restart"));
	fx_free(&f);

	/* vcpus: bounds from the row; maxvcpus stored as an int */
	fx_init(&f, "vcpus = 70000\n", T_PVH);
	apply(&f, "vcpus");
	CHECK(f.m.failed && has_msg(&f.d, KXL_ERROR, "vcpus = 70000 is out of range (0 to 65536)"));
	fx_free(&f);
	fx_init(&f, "vcpus = 3\nmaxvcpus = 4\n", T_PVH);
	apply(&f, "vcpus");
	CHECK(!f.m.failed && f.m.vcpus == 3 && jis(f.m.b_info, "max_vcpus", "4"));
	json_object *av;
	CHECK(json_object_object_get_ex(f.m.b_info, "avail_vcpus", &av) && json_object_array_length(av) == 3);
	fx_free(&f);

	/* grant frames: the default is kxl.conf's */
	fx_init(&f, "max_maptrack_frames = 7\n", T_PV);
	f.conf.max_grant_frames = 64;
	apply(&f, "max_grant_frames");
	apply(&f, "max_maptrack_frames");
	CHECK(jis(f.m.b_info, "max_grant_frames", "64") && jis(f.m.b_info, "max_maptrack_frames", "7"));
	fx_free(&f);

	/* tsc_mode (a typed row): a number is deprecated; the IDL default is not printed */
	fx_init(&f, "tsc_mode = 2\n", T_PV);
	apply(&f, "tsc_mode");
	CHECK(jis(f.m.b_info, "tsc_mode", "native") && has_msg(&f.d, KXL_DEPRECATED, "write tsc_mode = \"native\""));
	fx_free(&f);
	fx_init(&f, "tsc_mode = 'Default'\n", T_PV);
	apply(&f, "tsc_mode");
	CHECK(jis(f.m.b_info, "tsc_mode", NULL) && !f.m.failed);
	fx_free(&f);

	/* altp2m takes a number without a deprecation; timer_mode is refused on pv */
	fx_init(&f, "altp2m = 2\ntimer_mode = 0\n", T_PV);
	apply(&f, "altp2m");
	CHECK(jis(f.m.b_info, "altp2m", "external") && f.d.n == 0);
	apply(&f, "timer_mode");
	CHECK(f.m.failed && has_msg(&f.d, KXL_ERROR, "not supported for PV guests"));
	fx_free(&f);
	fx_init(&f, "altp2m = 7\ntimer_mode = 'one_missed_tick_pending'\n", T_HVM);
	apply(&f, "altp2m");
	CHECK(has_msg(&f.d, KXL_ERROR, "invalid value 7 for \"altp2m\" (0-3)"));
	apply(&f, "timer_mode");
	CHECK(jis(f.m.b_info, "timer_mode", "one_missed_tick_pending"));
	fx_free(&f);

	/* mmio_hole: bounds from the row */
	fx_init(&f, "mmio_hole = 100\n", T_HVM);
	apply(&f, "mmio_hole");
	CHECK(f.m.failed && has_msg(&f.d, KXL_ERROR, "(256 to 3840 MiB)"));
	fx_free(&f);
	fx_init(&f, "mmio_hole = 512\n", T_HVM);
	apply(&f, "mmio_hole");
	CHECK(jis(f.m.type_obj, "mmio_hole_memkb", "524288"));
	fx_free(&f);

	/* cpus: the row says which affinity */
	fx_init(&f, "cpus_soft = '0'\n", T_PV);
	j_int(f.m.b_info, "max_vcpus", 2);
	apply(&f, "cpus_soft");
	json_object *aff;
	CHECK(json_object_object_get_ex(f.m.b_info, "vcpu_soft_affinity", &aff) && json_object_array_length(aff) == 2);
	CHECK(!json_object_object_get_ex(f.m.b_info, "vcpu_hard_affinity", NULL));
	fx_free(&f);

	/* serial: a string, or a list into the row's list field */
	fx_init(&f, "serial = [ 'pty', 'null' ]\nusbdevice = 'tablet'\n", T_HVM);
	apply(&f, "serial");
	apply(&f, "usbdevice");
	json_object *sl;
	CHECK(json_object_object_get_ex(f.m.type_obj, "serial_list", &sl) && json_object_array_length(sl) == 2);
	CHECK(jis(f.m.type_obj, "usbdevice", "tablet"));
	fx_free(&f);

	/* uuid: lower case, an error at its value */
	fx_init(&f, "uuid = 'ABCDEF01-2345-6789-abcd-ef0123456789'\n", T_PV);
	apply(&f, "uuid");
	CHECK(jis(f.m.c_info, "uuid", "abcdef01-2345-6789-abcd-ef0123456789"));
	fx_free(&f);
	fx_init(&f, "\nuuid = 'nope'\n", T_PV);
	apply(&f, "uuid");
	CHECK(f.m.failed && f.d.n == 1 && f.d.v[0].loc.line == 2 && f.d.v[0].loc.col == 8);
	fx_free(&f);

	/* disk: the deprecated prefixes once for the whole list */
	fx_init(&f, "disk = [ 'file:/a,xvda,w', 'tap:aio:/b,xvdb,r', 'tap:qcow2:/c,xvdc,r' ]\n", T_PV);
	apply(&f, "disk");
	size_t ndep = 0;
	for (size_t i = 0; i < f.d.n; i++) if (f.d.v[i].sev == KXL_DEPRECATED) ndep++;
	CHECK(ndep == 1 && has_msg(&f.d, KXL_DEPRECATED, "`qcow2:' (write format=qcow2)") &&
	      has_msg(&f.d, KXL_DEPRECATED, "`tap:', `aio:', `file:' (xl ignores them"));
	CHECK(f.d.v[0].loc.col == 10);
	json_object *disks;
	CHECK(json_object_object_get_ex(f.m.root, "disks", &disks) && json_object_array_length(disks) == 3);
	CHECK(jis(json_object_array_get_idx(disks, 2), "format", "qcow2"));
	fx_free(&f);
}

static void test_defaults(void)
{
	struct kxl_domain dom;
	struct kxl_diag d;
	kxl_diag_init(&d);
	CHECK(kxl_domain_from_json(&dom, "{ \"c_info\": { \"type\": \"hvm\", \"name\": \"x\" }, "
				   "\"b_info\": { \"type.hvm\": { }, \"acpi\": \"False\" }, "
				   "\"on_reboot\": \"restart\" }", &d) == 0);
	CHECK(!dom.acpi && dom.on_reboot == KXL_ACTION_RESTART && dom.on_crash == KXL_ACTION_DESTROY);
	kxl_domain_fill_defaults(&dom);
	json_object *r = dom.config;
	CHECK(jis(r, "b_info/target_memkb", "32768") && jis(r, "b_info/max_memkb", "32768"));
	CHECK(jis(r, "b_info/max_vcpus", "1") && jis(r, "c_info/hap", "True"));
	CHECK(jis(r, "b_info/acpi", "False") && jis(r, "b_info/localtime", "False") &&
	      jis(r, "b_info/nested_hvm", "False"));
	CHECK(jis(r, "on_poweroff", "destroy") && jis(r, "on_reboot", "restart") &&
	      jis(r, "on_soft_reset", "destroy"));
	CHECK(jis(r, "b_info/type.hvm/bios", "seabios"));
	CHECK(dom.target_memkb == 32768 && dom.vcpus == 1);
	kxl_domain_free(&dom);
	/* a firmware keeps the bios unset; maxmem follows memory */
	CHECK(kxl_domain_from_json(&dom, "{ \"c_info\": { \"type\": \"hvm\" }, \"b_info\": { "
				   "\"target_memkb\": 1024, \"type.hvm\": { \"firmware\": \"/f\" } } }", &d) == 0);
	kxl_domain_fill_defaults(&dom);
	CHECK(jis(dom.config, "b_info/type.hvm/bios", NULL) && jis(dom.config, "b_info/max_memkb", "1024"));
	CHECK(!strcmp(kxl_domain_action_name(KXL_ACTION_RENAME_RESTART), "rename-restart"));
	kxl_domain_free(&dom);
	kxl_diag_free(&d);
}

static json_object *disk(const char *spec, struct kxl_diag *d, int *rc, unsigned *prefixes)
{
	json_object *o = json_object_new_object();
	struct kxl_loc l = { .file = "x.cfg", .line = 3, .col = 9 };
	*rc = prefixes ? kxl_disk_parse_ex(spec, o, &l, d, prefixes) : kxl_disk_parse(spec, o, &l, d);
	return o;
}

static void test_disk_parser(void)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	int rc;
	json_object *o = disk("/img/a.qcow2,qcow2,xvda,w", &d, &rc, NULL);
	CHECK(rc == 0 && jis(o, "pdev_path", "/img/a.qcow2") && jis(o, "format", "qcow2") &&
	      jis(o, "vdev", "xvda") && jis(o, "readwrite", "1"));
	json_object_put(o);
	o = disk("vdev=hdc,access=r,devtype=cdrom,target=/iso/a,b.iso", &d, &rc, NULL);
	CHECK(rc == 0 && jis(o, "pdev_path", "/iso/a,b.iso") && jis(o, "is_cdrom", "1") &&
	      jis(o, "removable", "1") && jis(o, "readwrite", NULL));
	json_object_put(o);
	o = disk("/dev/vg/lv,,xvdb", &d, &rc, NULL);
	CHECK(rc == 0 && jis(o, "format", "raw") && jis(o, "vdev", "xvdb"));
	json_object_put(o);
	/* a deprecated prefix: one deprecation per prefix, or bits to say once */
	kxl_diag_clear(&d);
	o = disk("tap:aio:/img,xvda,r", &d, &rc, NULL);
	CHECK(rc == 0 && d.n == 2 && d.v[0].sev == KXL_DEPRECATED);
	json_object_put(o);
	kxl_diag_clear(&d);
	unsigned bits = 0;
	o = disk("nbd:host:1234,xvda,r", &d, &rc, &bits);
	CHECK(rc == 0 && d.n == 0 && bits && jis(o, "script", "block-nbd"));
	json_object_put(o);
	char *note = kxl_disk_prefix_note(bits);
	CHECK(strstr(note, "`nbd:' (write script=block-nbd)") != NULL);
	free(note);
	/* errors name the spec, at its location */
	kxl_diag_clear(&d);
	o = disk("/img/a", &d, &rc, NULL);
	CHECK(rc == -1 && d.errors == 1 && strstr(d.v[0].msg, "no vdev specified") &&
	      d.v[0].loc.line == 3 && d.v[0].loc.col >= 9);
	json_object_put(o);
	kxl_diag_clear(&d);
	o = disk("/img/a,raw,xvda,w,bogus=1", &d, &rc, NULL);
	CHECK(rc == -1 && d.errors >= 1 && strstr(d.v[0].msg, "unknown parameter"));
	json_object_put(o);
	kxl_diag_free(&d);
}

static void test_vif_parser(void)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct kxl_loc l = { .file = "x.cfg", .line = 2, .col = 8 };
	json_object *o = json_object_new_object();
	CHECK(kxl_vif_parse("mac=00:16:3E:01:02:03, bridge=br0,model=e1000,vifname=v0,ip=10.0.0.2", o, &l, &d) == 0);
	CHECK(jis(o, "mac", "00:16:3e:01:02:03") && jis(o, "bridge", "br0") && jis(o, "model", "e1000") &&
	      jis(o, "ifname", "v0") && jis(o, "ip", "10.0.0.2"));
	json_object_put(o);
	o = json_object_new_object();
	CHECK(kxl_vif_parse("rate=10Mb/s@20ms", o, &l, &d) == 0);
	CHECK(jis(o, "rate_bytes_per_interval", "25000") && jis(o, "rate_interval_usecs", "20000"));
	json_object_put(o);
	kxl_diag_clear(&d);
	o = json_object_new_object();
	CHECK(kxl_vif_parse("rate=0Mb/s", o, &l, &d) == -1 && d.errors == 1 && d.v[0].loc.line == 2);
	json_object_put(o);
	kxl_diag_clear(&d);
	o = json_object_new_object();
	kxl_vif_parse("bogus=1,bridge=br1", o, &l, &d);
	CHECK(jis(o, "bridge", "br1") && d.n >= 1);
	json_object_put(o);
	kxl_diag_free(&d);
}

/* Every field the model writes, for every accepted cfg of the given
 * folders (the golden pass cases, the peer corpus), is a field of libxl's
 * IDL table: the handlers' field names and the printer's are one set. */
static const char *const *idl_dirs;

static void test_idl_coverage(void)
{
	size_t files = 0;
	for (const char *const *dir = idl_dirs; *dir; dir++) {
		DIR *dh = opendir(*dir);
		if (!dh) { printf("# %s: not found, skipped\n", *dir); continue; }
		struct dirent *e;
		while ((e = readdir(dh))) {
			size_t l = strlen(e->d_name);
			if (l < 5 || strcmp(e->d_name + l - 4, ".cfg")) continue;
			char *path = xasprintf("%s/%s", *dir, e->d_name);
			struct kxl_cfg cfg;
			struct kxl_conf conf;
			struct kxl_diag d;
			struct kxl_domain dom;
			kxl_cfg_init(&cfg);
			kxl_diag_init(&d);
			kxl_conf_defaults(&conf);
			if (!kxl_cfg_parse_file(&cfg, path, &d) && !d.errors) {
				kxl_domain_from_cfg(&dom, &cfg, &conf, &d);
				char *report = NULL;
				if (dom.config && m_idl_unknown(dom.config, &report)) {
					printf("# %s: fields not in the IDL table:\n# %s", path, report);
					group_failures++;
				}
				free(report);
				kxl_domain_free(&dom);
				files++;
			}
			kxl_cfg_free(&cfg);
			kxl_conf_free(&conf);
			kxl_diag_free(&d);
			free(path);
		}
		closedir(dh);
	}
	printf("# %zu configs\n", files);
}

int main(int argc, char **argv)
{
	idl_dirs = (const char *const *)argv + 1;
	run("getters: values, xl's warnings for the wrong kind, bounds, paths, errors", test_getters);
	run("key table: typed rows, IDL destinations, defaults, docs", test_table);
	run("handlers on their own rows", test_handlers);
	run("defaults pass and view from the rows", test_defaults);
	run("disk spec parser", test_disk_parser);
	run("vif spec parser", test_vif_parser);
	if (argc > 1)
		run("every field the model writes is in libxl's IDL table", test_idl_coverage);
	printf("1..%d\n", tests);
	return failed_tests ? 1 : 0;
}
