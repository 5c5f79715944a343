/*
 * devices.c: the device-list keys as xl reads them: disk (with the review's
 * path resolution for file targets), vif, p9, vtpm, pvcalls, channel, vfb,
 * usbctrl, usbdev, vkb, dtdev, and the raw ioports, irqs and iomem ranges.
 * (pci is in pci.c, vdispl and vsnd in vdevs.c.)
 */
#include "model/handlers.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

void h_dtdev(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n && list->items[i]->type == KXL_CFG_STRING; i++) {
		json_object *o = json_object_new_object();
		j_str(o, "path", list->items[i]->str);
		json_object_array_add(arr, o);
	}
}

void h_ioports(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		struct kxl_loc l = m_value_loc(v);
		if (v->type != KXL_CFG_STRING) { m_error_at(m, &l, "unable to get element #%zu in ioport list", i); return; }
		char *ep;
		unsigned long a = strtoul(v->str, &ep, 16), b = a;
		if (ep == v->str || a >= UINT32_MAX) { m_error_at(m, &l, "invalid argument parsing ioport: %s", v->str); return; }
		if (*ep == '-') {
			const char *s2 = ep + 1;
			b = strtoul(s2, &ep, 16);
			if (ep == s2 || *ep || a > b || b >= UINT32_MAX) { m_error_at(m, &l, "invalid argument parsing ioport: %s", v->str); return; }
		} else if (*ep) {
			kxl_diag_add(m->d, KXL_WARNING, &l, "invalid argument parsing ioport: %s", v->str);
		}
		json_object *o = json_object_new_object();
		if (a) j_int(o, "first", (int64_t)a);
		j_int(o, "number", (int64_t)(b - a + 1));
		json_object_array_add(arr, o);
	}
}

void h_irqs(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		struct kxl_loc l = m_value_loc(v);
		char *ep = NULL;
		unsigned long x = v->type == KXL_CFG_STRING ? strtoul(v->str, &ep, 10) : 0;
		if (v->type != KXL_CFG_STRING || ep == v->str || *ep || x >= UINT32_MAX) {
			m_error_at(m, &l, "invalid argument parsing irq: %s", v->type == KXL_CFG_STRING ? v->str : "[...]");
			return;
		}
		json_object_array_add(arr, json_object_new_int64((int64_t)x));
	}
}

void h_iomem(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		struct kxl_loc l = m_value_loc(v);
		uint64_t start = 0, num = 0, gfn = 0;
		int used = 0, ret = v->type == KXL_CFG_STRING ?
			sscanf(v->str, "%" SCNx64 ",%" SCNx64 "%n@%" SCNx64 "%n", &start, &num, &used, &gfn, &used) : 0;
		if (ret < 2 || v->str[used]) {
			m_error_at(m, &l, "invalid argument parsing iomem: %s (expected "
				     "START,NUM[@GFN] in hex)", v->type == KXL_CFG_STRING ? v->str : "[...]");
			return;
		}
		json_object *o = json_object_new_object();
		if (start) j_int(o, "start", (int64_t)start);
		if (num) j_int(o, "number", (int64_t)num);
		if (ret == 3) j_int(o, "gfn", (int64_t)gfn);
		json_object_array_add(arr, o);
	}
}

/* A disk target is a file path only with no script= and no protocol prefix. */
static void resolve_disk_target(struct mctx *m, json_object *o)
{
	json_object *p;
	if (json_object_object_get_ex(o, "script", NULL)) return;
	if (!json_object_object_get_ex(o, "pdev_path", &p)) return;
	const char *s = json_object_get_string(p);
	if (!s[0] || s[0] == '/') return;
	const char *c = s;
	while (*c && (isalnum((unsigned char)*c) || strchr("+._-", *c))) c++;
	if (*c == ':') return;	/* rbd:, iscsi:, nbd:, iqn...: a protocol target */
	char *abs = m_resolve(m, "disk", s);
	j_str(o, "pdev_path", abs);
	free(abs);
}

/* xm's `phy:hda1' meant /dev/hda1; xl (and kxl) take the name as written,
 * relative to the current directory: almost never what the config meant. */
static void relative_phy_warning(struct mctx *m, const char *spec, json_object *disk,
				 const struct kxl_loc *l)
{
	json_object *t;
	const char *target = json_object_object_get_ex(disk, "pdev_path", &t) ?
			     json_object_get_string(t) : NULL;
	while (*spec == ' ' || *spec == '\t') spec++;
	if (strncmp(spec, "phy:", 4) || !target || !*target || target[0] == '/')
		return;
	kxl_diag_add(m->d, KXL_WARNING, l, "disk spec `%s': the block device `%s' is a relative "
		     "path (xm read `phy:%s' as /dev/%s; xl takes it as written): write `/dev/%s'",
		     spec, target, target, target, target);
}

void h_disk(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	/* the deprecated prefixes of every spec, said once for the config at
	 * the first spec that has one */
	unsigned prefixes = 0;
	struct kxl_loc first = { 0 };
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		if (v->type != KXL_CFG_STRING) break;
		struct kxl_loc l = m_value_loc(v);
		json_object *o = json_object_new_object();
		unsigned had = prefixes;
		int e = kxl_disk_parse_ex(v->str, o, &l, m->d, &prefixes);
		if (prefixes && !had) first = l;
		if (e) {
			/* every broken spec is reported; none of them is kept */
			json_object_put(o);
			m->failed = true;
			continue;
		}
		relative_phy_warning(m, v->str, o, &l);
		resolve_disk_target(m, o);
		json_object_array_add(arr, o);
	}
	if (prefixes) {
		char *note = kxl_disk_prefix_note(prefixes);
		kxl_diag_add(m->d, KXL_DEPRECATED, &first, "%s", note);
		free(note);
	}
}

/* key=value specs with a fixed set of keys: p9, vtpm, pvcalls */
static int kv_spec(struct mctx *m, const struct kxl_cfg_value *v, const char *what,
		   const char *const keys[][2], json_object *o)
{
	struct kxl_loc l = m_value_loc(v);
	char *buf = xstrdup(v->str), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ') t++;
		char *eq = strchr(t, '=');
		if (!eq) break;
		*eq++ = 0;
		int k;
		for (k = 0; keys[k][0]; k++)
			if (!strcmp(t, keys[k][0])) break;
		if (!keys[k][0]) {
			m_error_at(m, &l, "unknown string `%s' in %s spec `%s'", t, what, v->str);
			rc = -1;
			break;
		}
		j_str(o, keys[k][1], eq);
	}
	free(buf);
	return rc;
}

static int entry_error(struct mctx *m, const struct kxl_cfg_value *v, const char *msg)
{
	struct kxl_loc l = m_value_loc(v);
	m_error_at(m, &l, "%s", msg);
	return -1;
}

static int p9_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	static const char *const keys[][2] = { { "security_model", "security_model" }, { "path", "path" },
		{ "tag", "tag" }, { "backend", "backend_domname" }, { 0, 0 } };
	if (kv_spec(m, v, "9pfs", keys, o)) return -1;
	if (!json_object_object_get_ex(o, "path", NULL) || !json_object_object_get_ex(o, "security_model", NULL) ||
	    !json_object_object_get_ex(o, "tag", NULL))
		return entry_error(m, v, "9pfs spec missing required field (tag, path, security_model)");
	return 0;
}

void h_p9(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, false, p9_entry);	/* xl re-inits each p9: no devid */
}

static int vtpm_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	static const char *const keys[][2] = { { "backend", "backend_domname" }, { "uuid", "uuid" }, { 0, 0 } };
	if (kv_spec(m, v, "vtpm", keys, o)) return -1;
	json_object *u;
	if (json_object_object_get_ex(o, "uuid", &u) && !m_uuid_valid(json_object_get_string(u)))
		return entry_error(m, v, "failed to parse the vtpm UUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
	if (!json_object_object_get_ex(o, "backend_domname", NULL))
		return entry_error(m, v, "vtpm spec missing required backend field");
	return 0;
}

void h_vtpm(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, true, vtpm_entry);
}

static int pvcalls_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	static const char *const keys[][2] = { { "backend", "backend_domname" }, { 0, 0 } };
	return kv_spec(m, v, "pvcalls", keys, o);
}

void h_pvcalls(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, true, pvcalls_entry);
}

static int channel_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	struct kxl_loc l = m_value_loc(v);
	char *buf = xstrdup(v->str), *save = NULL, *path = NULL;
	const char *conn = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		if (!eq || eq == t || !eq[1] || eq[1] == '=') {
			m_error_at(m, &l, "failed to parse channel configuration `%s': "
				     "`%s' is not key=value", v->str, t);
			break;
		}
		/* xl splits with strtok on '=': the value ends at the next '=' */
		const char *ve = strchr(eq + 1, '=');
		char *k = m_trim_dup(t, (size_t)(eq - t)),
		     *val = m_trim_dup(eq + 1, ve ? (size_t)(ve - eq - 1) : strlen(eq + 1));
		if (!strcmp(k, "backend")) j_str(o, "backend_domname", val);
		else if (!strcmp(k, "name")) j_str(o, "name", val);
		else if (!strcmp(k, "path")) { free(path); path = xstrdup(val); }
		else if (!strcmp(k, "connection")) {
			if (!strcmp(val, "pty")) conn = "pty";
			else if (!strcmp(val, "socket")) conn = "socket";
			else { m_error_at(m, &l, "unknown channel connection '%s' (pty, socket)", val); }
		} else kxl_diag_add(m->d, KXL_WARNING, &l, "unknown channel parameter '%s', ignoring", k);
		free(k);
		free(val);
	}
	free(buf);
	if (!m->failed && !conn) { m_error_at(m, &l, "channel has unknown 'connection' (connection=pty or connection=socket)"); }
	if (!m->failed && !strcmp(conn, "socket") && !path) { m_error_at(m, &l, "channel connection 'socket' requires path=.."); }
	if (!m->failed) {
		json_object *c = j_obj(o, !strcmp(conn, "pty") ? "connection.pty" : "connection.socket");
		if (!strcmp(conn, "socket")) j_str(c, "path", path);
	}
	free(path);
	if (m->failed) return -1;
	return m->failed ? -1 : 0;
}

void h_channel(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, true, channel_entry);
}

void h_vif(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		if (v->type != KXL_CFG_STRING) break;
		struct kxl_loc l = m_value_loc(v);
		json_object *o = json_object_new_object();
		j_int(o, "devid", (int64_t)i);
		if (m->conf->default_backend) j_str(o, "backend_domname", m->conf->default_backend);
		if (m->conf->vif_script) j_str(o, "script", m->conf->vif_script);
		if (m->conf->default_bridge) j_str(o, "bridge", m->conf->default_bridge);
		if (m->conf->default_gatewaydev) j_str(o, "gatewaydev", m->conf->default_gatewaydev);
		if (kxl_vif_parse(v->str, o, &l, m->d)) { json_object_put(o); m->failed = true; return; }
		json_object_array_add(arr, o);
	}
}

void h_vif2(struct mctx *m, const struct key *key)
{
	if (!m_list(m, key->name, true, NULL))
		m_deprecated(m, key->name, "vif2: netchannel2 is deprecated and not supported by xl");
}

void h_vfb(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *vfbs = j_arr(m_dest(m, key), key->field), *vkbs = j_arr(m->root, "vkbs");
	for (size_t i = 0; i < list->n && list->items[i]->type == KXL_CFG_STRING; i++) {
		json_object *fb = json_object_new_object(), *kb = json_object_new_object();
		j_int(fb, "devid", (int64_t)i);
		j_int(kb, "devid", (int64_t)i);
		json_object_array_add(vfbs, fb);
		json_object_array_add(vkbs, kb);
		json_object *vnc = j_obj(fb, "vnc"), *sdl = j_obj(fb, "sdl");
		char *buf = xstrdup(list->items[i]->str), *save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ') t++;
			char *eq = strchr(t, '=');
			if (!eq) break;
			*eq++ = 0;
			if (!strcmp(t, "vnc")) j_defbool(vnc, "enable", atoi(eq));
			else if (!strcmp(t, "vnclisten")) j_str(vnc, "listen", eq);
			else if (!strcmp(t, "vncpasswd")) j_str(vnc, "passwd", eq);
			else if (!strcmp(t, "vncdisplay")) { if (atoi(eq)) j_int(vnc, "display", atoi(eq)); }
			else if (!strcmp(t, "vncunused")) j_defbool(vnc, "findunused", atoi(eq));
			else if (!strcmp(t, "keymap")) j_str(fb, "keymap", eq);
			else if (!strcmp(t, "sdl")) j_defbool(sdl, "enable", atoi(eq));
			else if (!strcmp(t, "opengl")) j_defbool(sdl, "opengl", atoi(eq));
			else if (!strcmp(t, "display")) j_str(sdl, "display", eq);
			else if (!strcmp(t, "xauthority")) j_str(sdl, "xauthority", eq);
		}
		free(buf);
	}
}

static int usb_kv(struct mctx *m, const struct kxl_cfg_value *v, json_object *o, bool ctrl)
{
	struct kxl_loc l = m_value_loc(v);
	char *buf = xstrdup(v->str), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(buf, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ') t++;
		char *eq = strchr(t, '=');
		const char *val = eq ? eq + 1 : "";
		size_t kl = eq ? (size_t)(eq - t) : strlen(t);
#define IS(k) (kl == strlen(k) && !strncmp(t, k, kl))
		if (ctrl && IS("type")) {
			if (!strcmp(val, "auto") || !strcmp(val, "pv") || !strcmp(val, "devicemodel") || !strcmp(val, "qusb"))
				{ if (strcmp(val, "auto")) j_str(o, "type", val); }
			else { m_error_at(m, &l, "unknown usb controller type '%s' (auto, pv, qusb, devicemodel)", val); rc = -1; }
		} else if (ctrl && IS("version")) { if (atoi(val)) j_int(o, "version", atoi(val)); }	/* 0: the default */
		else if (ctrl && IS("ports")) { if (atoi(val)) j_int(o, "ports", atoi(val)); }
		else if (!ctrl && IS("type")) {
			if (strcmp(val, "hostdev")) { m_error_at(m, &l, "unsupported usb device type '%s' (hostdev)", val); rc = -1; }
			else j_bool(o, "-hostdev", true);	/* marker: the union is printed */
		} else if (!ctrl && (IS("hostbus") || IS("hostaddr"))) {
			/* uint8 fields: xl stores strtoul's result truncated; 0 is the default */
			uint8_t b = (uint8_t)strtoul(val, NULL, 0);
			json_object *h = j_obj(o, "type.hostdev");
			if (b) j_int(h, IS("hostbus") ? "hostbus" : "hostaddr", b);
		}
		else if (!ctrl && IS("controller")) j_int(o, "ctrl", atoi(val));
		else if (!ctrl && IS("port")) { if (atoi(val)) j_int(o, "port", atoi(val)); }
		else { m_error_at(m, &l, "unknown string \"%s\" in %s spec", t, ctrl ? "usbctrl" : "usbdev"); rc = -1; }
#undef IS
	}
	free(buf);
	return rc;
}

static int usbctrl_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	return usb_kv(m, v, o, true);
}

void h_usbctrl(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, true, usbctrl_entry);
}

static int usbdev_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	if (usb_kv(m, v, o, false)) return -1;
	/* libxl prints the union (and never its key) only when type= was given */
	if (json_object_object_get_ex(o, "-hostdev", NULL)) j_obj(o, "type.hostdev");
	else json_object_object_del(o, "type.hostdev");
	json_object_object_del(o, "-hostdev");
	return 0;
}

void h_usbdev(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, false, usbdev_entry);
}

void h_vkb(struct mctx *m, const struct key *key)
{
	static const char *const bools[][2] = {
		{ "feature-disable-keyboard", "feature_disable_keyboard" },
		{ "feature-disable-pointer", "feature_disable_pointer" },
		{ "feature-abs-pointer", "feature_abs_pointer" },
		{ "feature-raw-pointer", "feature_raw_pointer" },
		{ "feature-multi-touch", "feature_multi_touch" } };
	static const char *const nums[][2] = {
		{ "multi-touch-width", "multi_touch_width" }, { "multi-touch-height", "multi_touch_height" },
		{ "multi-touch-num-contacts", "multi_touch_num_contacts" }, { "width", "width" },
		{ "height", "height" } };
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n && list->items[i]->type == KXL_CFG_STRING; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		struct kxl_loc l = m_value_loc(v);
		json_object *o = json_object_new_object();
		j_int(o, "devid", (int64_t)json_object_array_length(arr));
		json_object_array_add(arr, o);
		char *buf = xstrdup(v->str), *save = NULL;
		bool have_type = false, mt = false, mt_dims = false;
		for (char *t = strtok_r(buf, ",", &save); t && !m->failed; t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ') t++;
			char *eq = strchr(t, '=');
			const char *val = eq ? eq + 1 : "";
			if (eq) *eq = 0;
			bool done = false;
			if (eq && !strcmp(t, "backend")) { j_str(o, "backend_domname", val); done = true; }
			else if (eq && !strcmp(t, "backend-type")) {
				if (!strcasecmp(val, "qemu") || !strcasecmp(val, "linux")) {
					j_str(o, "backend_type", !strcasecmp(val, "qemu") ? "qemu" : "linux");
					have_type = true;
				} else {
					m_error_at(m, &l, "unknown backend_type \"%s\" in vkb spec (qemu, linux)", val);
				}
				done = true;
			} else if (eq && !strcmp(t, "unique-id")) { j_str(o, "unique_id", val); done = true; }
			for (size_t k = 0; eq && !done && k < ARRAY_SIZE(bools); k++)
				if (!strcmp(t, bools[k][0])) {
					unsigned long x = strtoul(val, NULL, 0);
					if (x) j_bool(o, bools[k][1], true);
					if (k == 4 && x) mt = true;
					done = true;
				}
			for (size_t k = 0; eq && !done && k < ARRAY_SIZE(nums); k++)
				if (!strcmp(t, nums[k][0])) {
					unsigned long x = strtoul(val, NULL, 0);
					if (x) j_int(o, nums[k][1], (int64_t)x);
					if (k < 3 && x) mt_dims = true;
					done = true;
				}
			if (!done && !m->failed) {
				m_error_at(m, &l, "unknown string \"%s\" in vkb spec", t);
			}
		}
		free(buf);
		if (m->failed) return;
		if (!have_type) {
			m_error_at(m, &l, "backend-type should be set in vkb spec (qemu or linux)");
			return;
		}
		if (mt_dims) j_bool(o, "feature_multi_touch", true);
		else if (mt) {
			m_error_at(m, &l, "multi-touch-width, multi-touch-height, "
				     "multi-touch-num-contacts should be set for multi touch in vkb spec");
			return;
		}
	}
}
