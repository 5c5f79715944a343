/*
 * pci.c: the `pci' key: PCI_SPEC_STRING of xl-pci-configuration(5), read as
 * libxlutil does (libxlu_pci.c): an optional positional
 * [DDDD:]BB:DD.F[@VSLOT] (F may be `*' for every function), then
 * `key=value' pairs up to a comma. Global pci_* keys give defaults, and each
 * device's rdm_policy follows the global rdm policy as in xl.
 */
#include "model/handlers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct bdf { unsigned domain, bus, dev, func; bool all; };

/* [DDDD:]BB:DD.F; returns the end, or NULL */
static const char *parse_bdf(const char *s, struct bdf *b)
{
	unsigned colons = 0;
	for (const char *p = s; isxdigit((unsigned char)*p) || *p == ':'; p++)
		if (*p == ':') colons++;
	int n = 0;
	b->domain = 0;
	if (colons == 1) {
		if (sscanf(s, "%x:%x.%n", &b->bus, &b->dev, &n) != 2 || !n) return NULL;
	} else if (colons == 2) {
		if (sscanf(s, "%x:%x:%x.%n", &b->domain, &b->bus, &b->dev, &n) != 3 || !n) return NULL;
	} else {
		return NULL;
	}
	if (b->domain > 0xffff || b->bus > 0xff || b->dev > 0x1f) return NULL;
	s += n;
	if (*s == '*') {
		b->all = true;
		b->func = 0;
		return s + 1;
	}
	b->all = false;
	if (sscanf(s, "%x%n", &b->func, &n) != 1 || b->func > 7) return NULL;
	return s + n;
}

static const char *parse_vslot(const char *s, unsigned *vslot)
{
	int n = 0;
	if (sscanf(s, "%x%n", vslot, &n) != 1 || *vslot > 0x1f) return NULL;
	return s + n;
}

static int spec_error(struct mctx *m, const struct kxl_loc *l, const char *spec, const char *why)
{
	m_error_at(m, l, "unable to parse PCI_SPEC_STRING `%s' for passthrough: %s "
		     "(see xl-pci-configuration(5))", spec, why);
	return -1;
}

static int pci_parse(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	struct kxl_loc l = m_value_loc(v);
	const char *p = v->str, *e;
	struct bdf b = { 0 };
	unsigned vslot = 0;
	bool have_bdf = false, have_name = false, have_vslot = false;
	if ((e = parse_bdf(p, &b))) {
		have_bdf = true;
		p = e;
		if (*p == '@') {
			if (!(p = parse_vslot(p + 1, &vslot))) return spec_error(m, &l, v->str, "bad @VSLOT (00 to 1f)");
			have_vslot = true;
		}
		if (*p == ',') p++;
		else if (*p) return spec_error(m, &l, v->str, "junk after the BDF");
	}
	while (*p) {
		const char *eq = strchr(p, '=');
		if (!eq) return spec_error(m, &l, v->str, "expected key=value");
		char *key = xstrndup(p, (size_t)(eq - p));
		const char *vs = eq + 1, *ve = strchr(vs, ',');
		if (!ve) ve = vs + strlen(vs);
		char *val = xstrndup(vs, (size_t)(ve - vs));
		p = *ve ? ve + 1 : ve;
		int rc = 0;
		if (!strcmp(key, "bdf")) {
			if (parse_bdf(val, &b)) have_bdf = true;
		} else if (!strcmp(key, "vslot")) {
			if (parse_vslot(val, &vslot)) have_vslot = true;
			else rc = spec_error(m, &l, v->str, "bad vslot (00 to 1f)");
		} else if (!strcmp(key, "permissive") || !strcmp(key, "msitranslate") ||
			   !strcmp(key, "seize") || !strcmp(key, "power_mgmt")) {
			static const char *const flags[] = { "permissive", "msitranslate", "seize", "power_mgmt" };
			const char *field = flags[0];
			for (size_t f = 0; f < ARRAY_SIZE(flags); f++)
				if (!strcmp(key, flags[f])) field = flags[f];
			if (atoi(val)) j_bool(o, field, true);
			else json_object_object_del(o, field);
		} else if (!strcmp(key, "rdm_policy")) {
			if (!strcmp(val, "strict") || !strcmp(val, "relaxed")) j_str(o, "rdm_policy", val);
			else rc = spec_error(m, &l, v->str, "unknown rdm_policy (strict or relaxed)");
		} else if (!strcmp(key, "name")) {
			j_str(o, "name", val);
			have_name = true;
		} else {
			char *why = xasprintf("unknown option `%s' (bdf, vslot, permissive, msitranslate, seize, "
					      "power_mgmt, rdm_policy, name)", key);
			rc = spec_error(m, &l, v->str, why);
			free(why);
		}
		free(key);
		free(val);
		if (rc) return rc;
	}
	if (have_bdf == have_name)
		return spec_error(m, &l, v->str, have_bdf ? "give a BDF or a name, not both" : "no BDF and no name");
	if (have_bdf) {
		if (b.func) j_int(o, "func", b.func);
		if (b.dev) j_int(o, "dev", b.dev);
		if (b.bus) j_int(o, "bus", b.bus);
		if (b.domain) j_int(o, "domain", b.domain);
		j_int(o, "vfunc_mask", b.all ? 0xff : 1);
	}
	if (have_vslot && vslot) j_int(o, "vdevfn", vslot << 3);
	return 0;
}

void h_pci(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	long msit = 0, pm = 0, perm = 0, seize = 0;
	m_long(m, "pci_msitranslate", false, &msit);
	m_long(m, "pci_power_mgmt", false, &pm);
	m_long(m, "pci_permissive", false, &perm);
	m_long(m, "pci_seize", false, &seize);
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		if (list->items[i]->type != KXL_CFG_STRING) break;
		json_object *o = json_object_new_object();
		/* xl copies b_info's hvm rdm policy into each device. With rdm= it
		 * copies an uninitialised value (xl parses rdm into a stack
		 * variable it never initialised), which libxl prints as null; on
		 * pv and pvh without rdm= it reads the zeroed union: "strict". */
		if (m->rdm_set)
			json_object_object_add(o, "rdm_policy", NULL);
		else if (m->type != T_HVM)
			j_str(o, "rdm_policy", "strict");
		if (msit) j_bool(o, "msitranslate", true);
		if (pm) j_bool(o, "power_mgmt", true);
		if (perm) j_bool(o, "permissive", true);
		if (seize) j_bool(o, "seize", true);
		if (pci_parse(m, list->items[i], o)) { json_object_put(o); m->failed = true; return; }
		json_object_array_add(arr, o);
	}
	/* xl stops at the first entry that is not a string: count what was added */
	if (json_object_array_length(arr) && m->type == T_PV) j_defbool(m->type_obj, "e820_host", true);
}
