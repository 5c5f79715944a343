/*
 * handlers.c: the key handlers for identity, memory and vCPUs, actions,
 * timers, and the device lists (disk, vif, pci, channel, usb, ...), each
 * giving the key xl's meaning (tools/xl/xl_parse.c, Xen 4.17).
 */
#include "model/handlers.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/util.h"

void h_seclabel(struct mctx *m, const struct key *key)
{
	const struct key *exec = m_key("seclabel");
	const char *s;
	bool have = false;
	if (!m_string(m, key->name, false, &s)) { j_str(m_dest(m, key), key->field, s); have = true; }
	/* seclabel alone is the label at creation */
	if (!m_string(m, exec->name, false, &s))
		j_str(have ? m_dest(m, exec) : m_dest(m, key), have ? exec->field : key->field, s);
}

void h_name(struct mctx *m, const struct key *key)
{
	const char *s;
	int e = m_string(m, key->name, false, &s);
	if (e == ESRCH)
		m_file_error(m, "domain name must be specified: add name = \"...\"");
	else if (!e)
		j_str(m_dest(m, key), key->field, s);
	else	/* xl: "Domain name must be specified." after the getter's warning */
		m_error(m, key->name, "domain name must be specified as a string: name = \"...\"");
}

void h_uuid(struct mctx *m, const struct key *key)
{
	const char *s;
	if (m_string(m, key->name, false, &s)) return;
	if (!m_uuid_valid(s)) {
		m_error(m, key->name, "failed to parse UUID `%s' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", s);
		return;
	}
	/* libxl prints it in lower case */
	char buf[37];
	for (int i = 0; i < 36; i++) buf[i] = (char)tolower((unsigned char)s[i]);
	buf[36] = 0;
	j_str(m_dest(m, key), key->field, buf);
}

void h_vcpus(struct mctx *m, const struct key *key)
{
	long l;
	if (!m_long(m, key->name, false, &l)) {
		if (l < key->min || l > key->max) {
			m_error(m, key->name, "%s = %ld is out of range (%ld to %ld)", key->name, l, key->min, key->max);
			return;
		}
		m->vcpus = l;
		if (l) j_bitmap_range(m_dest(m, key), key->field, l);	/* an empty bitmap is not printed */
	}
	const struct key *max = m_key("maxvcpus");
	if (!m_long(m, max->name, false, &l)) {
		/* an int in libxl: xl stores the long truncated, and 0 means unset */
		int32_t v = (int32_t)(uint32_t)l;
		if (v) j_int(m_dest(m, max), max->field, v);
	}
}


/* xl's parse_ulong: a decimal prefix, not ULONG_MAX */
static bool vnuma_ulong(const char *s, unsigned long *out)
{
	char *e;
	*out = strtoul(s, &e, 10);
	return e != s && *out != ULONG_MAX;
}

void h_vnuma(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, "vnuma", true, &list) || !list->n) return;
	unsigned nodes = host_nr_nodes();
	json_object *arr = j_arr(m->b_info, "vnuma_nodes");
	long total_kb = 0, total_vcpus = 0;
	for (size_t i = 0; i < list->n && !m->failed; i++) {
		const struct kxl_cfg_value *node = list->items[i];
		struct kxl_loc l = m_value_loc(node);
		json_object *o = json_object_new_object();
		json_object_array_add(arr, o);
		if (node->type != KXL_CFG_LIST) {
			m_error_at(m, &l, "vnuma entry %zu must be a list of \"key=value\"", i);
			return;
		}
		for (size_t j = 0; j < node->n; j++) {
			const struct kxl_cfg_value *opt = node->items[j];
			if (opt->type != KXL_CFG_STRING) continue;
			struct kxl_loc ol = m_value_loc(opt);
			/* xl splits with strtok on '=': key, then the value up to the next '=' */
			const char *ks = opt->str + strspn(opt->str, "=");
			const char *ke = ks + strcspn(ks, "=");
			const char *vs = ke + strspn(ke, "=");
			const char *ve = vs + strcspn(vs, "=");
			if (ke == ks || ve == vs) {
				m_error_at(m, &ol, "failed to split \"%s\" into a key=value pair", opt->str);
				return;
			}
			char *k = m_trim_dup(ks, (size_t)(ke - ks));
			char *v = m_trim_dup(vs, (size_t)(ve - vs));
			unsigned long val = 0;
			bool num_ok = vnuma_ulong(v, &val);
			if ((!strcmp(k, "pnode") || !strcmp(k, "size")) && !num_ok) {
				m_error_at(m, &ol, "failed to convert \"%s\" to number (vnuma %s)", v, k);
			} else if (!strcmp(k, "pnode")) {
				if (val >= nodes) {
					m_error_at(m, &ol, "invalid pnode number: %lu (this host "
						     "has %u NUMA node%s)", val, nodes, nodes == 1 ? "" : "s");
				} else {
					if (val) j_int(o, "pnode", (int64_t)val);
					j_defbool(m->b_info, "numa_placement", false);
				}
			} else if (!strcmp(k, "size")) {
				j_int(o, "memkb", (int64_t)(val << 10));
				total_kb += (long)(val << 10);
			} else if (!strcmp(k, "vcpus")) {
				/* each range as xl's parse_range leaves it, errors unchecked */
				json_object *vc = j_arr(o, "vcpus");
				char *save = NULL, *buf = xstrdup(v), *ep;
				for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					unsigned long a = strtoul(t, &ep, 10), b = a;
					if (ep != t && a != ULONG_MAX && *ep == '-') b = strtoul(ep + 1, &ep, 10);
					for (unsigned long x = a; x <= b && x < 4096; x++) {
						json_object_array_add(vc, json_object_new_int64((int64_t)x));
						total_vcpus++;
					}
				}
				free(buf);
				if (!json_object_array_length(vc)) json_object_object_del(o, "vcpus");
			} else if (!strcmp(k, "vdistances")) {
				json_object *dist = j_arr(o, "distances");
				char *save = NULL, *buf = xstrdup(v);
				for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					unsigned long dv;
					if (!vnuma_ulong(t, &dv)) {
						m_error_at(m, &ol, "failed to convert \"%s\" to number (vnuma vdistances)", t);
						break;
					}
					json_object_array_add(dist, json_object_new_int64((int64_t)(uint32_t)dv));
				}
				free(buf);
			} else {
				kxl_diag_add(m->d, KXL_WARNING, &ol, "unknown vnuma option `%s' ignored, as xl "
					     "does (pnode, size, vcpus, vdistances)", k);
			}
			free(k);
			free(v);
		}
	}
	if (m->failed) return;
	/* distances: one per node, unset ones 0; vcpus: a bitmap */
	for (size_t i = 0; i < list->n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *dist;
		if (!json_object_object_get_ex(o, "distances", &dist)) dist = j_arr(o, "distances");
		while (json_object_array_length(dist) < list->n) json_object_array_add(dist, json_object_new_int(0));
		while (json_object_array_length(dist) > list->n) json_object_array_del_idx(dist, list->n, 1);
	}
	json_object *mv, *mm;
	if (json_object_object_get_ex(m->b_info, "max_vcpus", &mv)) {
		if (json_object_get_int64(mv) != total_vcpus) {
			m_error(m, "maxvcpus", "vnuma vcpus and maxvcpus= mismatch (vnuma gives %ld vCPUs, "
				"maxvcpus = %ld)", total_vcpus, (long)json_object_get_int64(mv));
			return;
		}
	} else {
		long host = sysconf(_SC_NPROCESSORS_ONLN);
		if (host > 0 && host < total_vcpus) {
			m_error(m, "vnuma", "vnuma specifies more vcpus (%ld) than pcpus (%ld); use maxvcpus= to "
				"override this check", total_vcpus, host);
			return;
		}
		if (total_vcpus) j_int(m->b_info, "max_vcpus", total_vcpus);
	}
	if (json_object_object_get_ex(m->b_info, "max_memkb", &mm) && json_object_get_int64(mm) != total_kb) {
		m_error(m, "maxmem", "maxmem and vnuma memory size mismatch (maxmem = %ld MiB, vnuma nodes "
			"total %ld MiB)", (long)(json_object_get_int64(mm) / 1024), total_kb / 1024);
		return;
	}
	j_int(m->b_info, "max_memkb", total_kb);
}

void h_mem_defaults(struct mctx *m, const struct key *key)
{
	/* xl sets maxmem and maxvcpus to memory and vcpus when they are not
	 * given: their rows' dflt_key, which the defaults pass reads too */
	m_default_from_key(m, m_key("maxmem"));
	const struct key *mv = m_key("maxvcpus");
	m_default_from_key(m, mv);
	json_object *v;
	long max = json_object_object_get_ex(m_dest(m, mv), mv->field, &v) ? (long)json_object_get_int64(v) : 0;
	if (max < m->vcpus)
		m_error(m, mv->name, "maxvcpus < vcpus (maxvcpus = %ld, vcpus = %ld)", max, m->vcpus);
}

/* "0-3,^2,nodes:1,all" into a bitmap (an array of CPU numbers) */
static int cpurange(struct mctx *m, const char *key, const char *spec, json_object **out)
{
	bool bits[4096] = { 0 };
	char *buf = xstrdup(spec), *save = NULL;
	int rc = 0;
	long ncpu = host_cpu_bits();
	for (char *t = strtok_r(buf, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		bool not = false, nodes = false;
		if (*t == '^') { not = true; t++; }
		if (!strncmp(t, "node:", 5)) { nodes = true; t += 5; }
		else if (!strncmp(t, "nodes:", 6)) { nodes = true; t += 6; }
		if (!strcmp(t, "all")) {
			if (not) { m_error(m, key, "can't combine \"^\" and \"all\" in `%s'", spec); rc = -1; break; }
			for (long i = 0; i < ncpu && i < 4096; i++) bits[i] = true;
			continue;
		}
		char *ep;
		unsigned long a = strtoul(t, &ep, 10), b = a;
		if (ep == t || a == ULONG_MAX) rc = -1;
		else if (*ep == '-') {
			char *n = ep + 1;
			b = strtoul(n, &ep, 10);
			if (ep == n || b == ULONG_MAX || b < a) rc = -1;
		}
		if (!rc && *ep) rc = -1;
		if (rc) { m_error(m, key, "invalid pcpu range `%s' in `%s'", t, spec); break; }
		if (nodes) {	/* every CPU of each node, from sysfs */
			for (unsigned long node = a; node <= b && node < 4096; node++) {
				bool cpus[4096] = { 0 };
				host_node_cpus(node, cpus, 4096);
				for (int i = 0; i < 4096; i++)
					if (cpus[i]) bits[i] = !not;
			}
			continue;
		}
		for (unsigned long x = a; x <= b && x < 4096; x++) bits[x] = !not;
	}
	free(buf);
	if (rc) return rc;
	*out = json_object_new_array();
	for (int i = 0; i < 4096; i++)
		if (bits[i]) json_object_array_add(*out, json_object_new_int(i));
	return 0;
}

/* xl ANDs every hard affinity map with its global masks (all host CPUs by
 * default: libxl's cpu bitmap, max_cpus rounded up to whole bytes), and
 * refuses a map that ends up empty. */

static int mask_hard(struct mctx *m, const char *key, json_object *bm)
{
	long bits = host_cpu_bits();
	/* kxl.conf's vm.cpumask and vm.{hvm,pv}.cpumask narrow it further */
	const char *masks[2] = { m->conf->vm_cpumask,
		m->type == T_PV ? m->conf->vm_pv_cpumask : m->conf->vm_hvm_cpumask };
	for (int k = 0; k < 2; k++) {
		json_object *mk;
		if (!masks[k] || cpurange(m, key, masks[k], &mk)) continue;
		for (size_t i = json_object_array_length(bm); i-- > 0;) {
			int64_t c = json_object_get_int64(json_object_array_get_idx(bm, i));
			bool in = false;
			for (size_t j = 0; j < json_object_array_length(mk); j++)
				if (json_object_get_int64(json_object_array_get_idx(mk, j)) == c) in = true;
			if (!in) json_object_array_del_idx(bm, i, 1);
		}
		json_object_put(mk);
	}
	json_object *kept = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(bm); i++) {
		int64_t c = json_object_get_int64(json_object_array_get_idx(bm, i));
		if (c < bits) json_object_array_add(kept, json_object_new_int64(c));
	}
	size_t n = json_object_array_length(kept);
	json_object_put(kept);
	if (!n) {
		m_error(m, key, "vcpu hard affinity map is empty (no CPU of this host is left)");
		return -1;
	}
	while (json_object_array_length(bm) &&
	       json_object_get_int64(json_object_array_get_idx(bm, json_object_array_length(bm) - 1)) >= bits)
		json_object_array_del_idx(bm, json_object_array_length(bm) - 1, 1);
	return 0;
}

void h_cpus(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list = NULL;
	const char *str = NULL;
	if (m_list(m, key->name, true, &list) && m_string(m, key->name, false, &str)) return;
	/* the hard affinity is ANDed with kxl.conf's masks */
	bool hard = key->flags & KF_MASKED;
	json_object *mv;
	long max = json_object_object_get_ex(m->b_info, "max_vcpus", &mv) ? (long)json_object_get_int64(mv) : 0;
	json_object *arr = json_object_new_array();
	json_object_object_add(m_dest(m, key), key->field, arr);
	if (str) {
		json_object *bm;
		if (cpurange(m, key->name, str, &bm)) return;
		if (hard && max && mask_hard(m, key->name, bm)) { json_object_put(bm); return; }
		for (long i = 0; i < max; i++)
			json_object_array_add(arr, i ? json_object_get(bm) : bm);
		if (max == 0) json_object_put(bm);
		if (!hard) j_defbool(m->b_info, "numa_placement", false);
	} else {
		for (size_t i = 0; i < list->n && (long)i < max; i++) {
			if (list->items[i]->type != KXL_CFG_STRING) break;
			json_object *bm;
			if (cpurange(m, key->name, list->items[i]->str, &bm)) return;
			json_object_array_add(arr, bm);
			if (hard && mask_hard(m, key->name, bm)) return;
		}
		j_defbool(m->b_info, "numa_placement", false);
	}
	if (!json_object_array_length(arr))	/* an empty array is not printed */
		json_object_object_del(m_dest(m, key), key->field);
}

void h_grant(struct mctx *m, const struct key *key)
{
	/* the default is xl.conf's setting of the same name */
	long l, dflt = *(const long *)(const void *)((const char *)m->conf + key->conf_dflt - 1);
	int e = m_bounded_long(m, key->name, key->min, key->max, true, &l);
	if (e == ESRCH) l = dflt;
	else if (e) {
		m_error(m, key->name, "`%s' must be a number from %ld to %ld", key->name, key->min, key->max);
		return;
	}
	if (l != -1) j_int(m_dest(m, key), key->field, l);
}

void h_action(struct mctx *m, const struct key *key)
{
	const char *buf;
	if (m_string(m, key->name, false, &buf))
		buf = key->values[key->dflt];	/* xl's default: printed unless libxl's */
	int i = m_enum_index(key, buf);
	if (i >= 0) {
		if (i != key->idl_dflt) j_str(m_dest(m, key), key->field, m_enum_idl(key, i));
		return;
	}
	char *vals = m_enum_list(key);
	m_error(m, key->name, "unknown %s action \"%s\" (%s)", key->name, buf, vals);
	free(vals);
}

/* rdm = "strategy=host[,policy=strict|relaxed]". xl's parser (xlu_rdm_parse)
 * treats a valid policy as a parse error, so any policy= leaves rdm unset. */
void h_rdm(struct mctx *m, const struct key *key)
{
	const char *s;
	if (m_string(m, key->name, false, &s)) return;
	char *buf = xstrdup(s), *save = NULL;
	bool host = false, ok = true;
	for (char *t = strtok_r(buf, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "strategy=host")) host = true;
		else if (!strcmp(t, "policy=strict") || !strcmp(t, "policy=relaxed")) {
			m_warn(m, key->name, "rdm = \"%s\": xl 4.17 ignores the whole setting when it names a valid "
			       "policy (its parser inverts the check); kxl does the same", s);
			ok = false;
		} else if (!strncmp(t, "policy=", 7)) {
			m_warn(m, key->name, "unknown RDM policy `%s' (strict, relaxed): xl 4.17 then keeps the rest "
			       "of rdm with no policy; kxl does the same", t + 7);
		} else {
			m_warn(m, key->name, "unknown rdm option `%s' (strategy=host, policy=strict|relaxed); ignored", t);
			ok = false;
		}
	}
	free(buf);
	if (ok && host) {
		/* xl parses into an uninitialised stack variable: its policy is
		 * garbage, which libxl prints as null (and copies into pci devices) */
		if (m->type == T_HVM) {
			json_object *rdm = j_obj(m->type_obj, "rdm");
			j_str(rdm, "strategy", "host");
			json_object_object_add(rdm, "policy", NULL);
		}
		m->rdm_set = true;
	}
}

void h_vncviewer(struct mctx *m, const struct key *key)
{
	long l;
	if (!m_long(m, key->name, false, &l))
		m_warn(m, key->name, "ignoring \"vncviewer\" option; use \"-V\" of \"xl create\" to spawn a viewer");
}

/* timer_mode: a typed enum (or, deprecated, its number) that PV refuses */
void h_timer_mode(struct mctx *m, const struct key *key)
{
	long l;
	const char *s;
	if (m_long(m, key->name, true, &l) && m_string(m, key->name, false, &s)) return;
	if (m->type == T_PV) {
		m_error(m, key->name, "\"%s\" option is not supported for PV guests", key->name);
		return;
	}
	m_apply_into(m, key, m_dest(m, key));
}

static const char *const viridian_names[] = { "base", "freq", "time_ref_count", "reference_tsc",
	"hcall_remote_tlb_flush", "apic_assist", "crash_ctl", "synic", "stimer", "hcall_ipi",
	"ex_processor_masks", "no_vp_limit", "cpu_hotplug" };

void h_viridian(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	int e = m_list(m, key->name, true, &list);
	if (e == EINVAL) { m_defbool(m, key->name, true, m_dest(m, key), key->field); return; }
	if (e) return;
	bool en[64] = { 0 }, dis[64] = { 0 };	/* libxl: 64 bits wide */
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		if (v->type != KXL_CFG_STRING) continue;
		const char *s = v->str;
		if (!strcmp(s, "all")) { for (int j = 0; j < 64; j++) en[j] = true; continue; }
		if (!strcmp(s, "defaults")) { j_defbool(m_dest(m, key), key->field, true); continue; }
		bool neg = *s == '!';
		if (neg) s++;
		size_t j;
		for (j = 0; j < ARRAY_SIZE(viridian_names); j++)
			if (!strcasecmp(s, viridian_names[j])) break;
		if (j == ARRAY_SIZE(viridian_names)) {
			struct kxl_loc l = m_value_loc(v);
			m_error_at(m, &l, "unknown viridian enlightenment '%s'", s);
			return;
		}
		(neg ? dis : en)[j] = true;
		(neg ? en : dis)[j] = false;
	}
	if (list->n) {
		json_object *a = j_arr(m->type_obj, "viridian_enable"), *b = j_arr(m->type_obj, "viridian_disable");
		for (int j = 0; j < 64; j++) {
			if (en[j]) json_object_array_add(a, json_object_new_int(j));
			if (dis[j]) json_object_array_add(b, json_object_new_int(j));
		}
		/* an empty bitmap is not printed */
		if (!json_object_array_length(a)) json_object_object_del(m->type_obj, "viridian_enable");
		if (!json_object_array_length(b)) json_object_object_del(m->type_obj, "viridian_disable");
	}
}

void h_mmio_hole(struct mctx *m, const struct key *key)
{
	long l;
	if (m_long(m, key->name, false, &l)) return;
	if (l < key->min || l > key->max) {
		m_error(m, key->name, "invalid value %ld for \"%s\" (%ld to %ld MiB)", l, key->name,
			key->min, key->max);
		return;
	}
	j_int(m_dest(m, key), key->field, l * 1024);
}

void h_altp2mhvm(struct mctx *m, const struct key *key)
{
	if (!m_defbool(m, key->name, false, m_dest(m, key), key->field))
		m_deprecated(m, key->name, "\"%s\" is deprecated; use \"%s\"", key->name, key->deprecated);
}

void h_ms_vm_genid(struct mctx *m, const struct key *key)
{
	const char *s;
	if (m_string(m, key->name, false, &s)) return;
	if (m_enum_index(key, s) == 1) {	/* generate */
		json_object *a = j_arr(m_dest(m, key), key->field);
		FILE *f = fopen("/dev/urandom", "re");
		for (int i = 0; i < 16; i++) {
			int c = f ? fgetc(f) : i;
			json_object_array_add(a, json_object_new_int(c < 0 ? 0 : c));
		}
		if (f) fclose(f);
	} else if (m_enum_index(key, s) < 0) {
		m_error(m, key->name, "\"%s\" option must be \"generate\" or \"none\"", key->name);
	}
}

void h_mca_caps(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	int e = m_list(m, key->name, true, &list);
	if (e == ESRCH) return;
	if (e) { m_error(m, key->name, "unable to parse mca_caps (a list such as [ \"lmce\" ])"); return; }
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *v = list->items[i];
		if (v->type == KXL_CFG_STRING && !strcmp(v->str, "lmce")) { j_int(m_dest(m, key), key->field, 1); continue; }
		m_error(m, key->name, "unrecognized MCA capability '%s' (lmce)", v->type == KXL_CFG_STRING ? v->str : "[...]");
	}
}

void h_vmtrace(struct mctx *m, const struct key *key)
{
	long l;
	if (!m_long(m, key->name, true, &l) && l != key->idl_dflt) j_int(m_dest(m, key), key->field, l);
}

void h_device_model(struct mctx *m, const struct key *key)
{
	const char *s;
	if (!m_string(m, key->name, false, &s)) {
		m_warn(m, key->name, "ignoring device_model directive; use \"device_model_override\" "
		       "if you really want a non-default device model");
	}
	bool have_override = false;
	if (!m_string(m, "device_model_override", false, &s)) {
		char *p = m_resolve_lookup(m, "device_model_override", s);
		j_str(m->b_info, "device_model", p);
		free(p);
		have_override = true;
	}
	const struct key *dmv = m_key("device_model_version");
	if (!m_string(m, dmv->name, false, &s)) {
		int i = m_enum_index(dmv, s);
		if (i >= 0) {
			j_str(m_dest(m, dmv), dmv->field, m_enum_idl(dmv, i));
		} else {
			char *vals = m_enum_list(dmv);
			m_error(m, dmv->name, "unknown %s \"%s\" specified (%s)", dmv->name, s, vals);
			free(vals);
		}
	} else if (have_override) {
		m_warn(m, "device_model_override", "device model override given without specific DM version");
	}
}

void h_vendor_device(struct mctx *m, const struct key *key)
{
	const char *s;
	if (m_string(m, key->name, false, &s)) return;
	int i = m_enum_index(key, s);
	if (i > 0 && i != key->idl_dflt) j_str(m_dest(m, key), key->field, key->values[i]);
	else if (i < 0) m_error(m, key->name, "unknown %s '%s' (none, xenserver)", key->name, s);
}

void h_msr_relaxed(struct mctx *m, const struct key *key)
{
	if (!m_defbool(m, key->name, false, m_dest(m, key), key->field))
		m_warn(m, key->name, "msr_relaxed will be removed in future versions");
}

void h_bios(struct mctx *m, const struct key *key)
{
	const char *s;
	json_object *sf;
	if (!m_string(m, key->name, false, &s)) {
		int i = m_enum_index(key, s);
		if (i >= 0) {
			j_str(m_dest(m, key), key->field, key->values[i]);
			return;
		}
		char *vals = m_enum_list(key);
		m_error(m, key->name, "invalid value \"%s\" for \"%s\" (%s)", s, key->name, vals);
		free(vals);
	} else if (json_object_object_get_ex(m_dest(m, key), m_key("bios_path_override")->field, &sf)) {
		m_warn(m, "bios_path_override", "bios_path_override given without specific bios name");
	}
}

void h_unsupported_list(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (!m_list(m, key->name, false, &list) && list->n)
		m_warn(m, key->name, "`%s' devices are accepted but not modelled by kxl yet; ignored", key->name);
}

