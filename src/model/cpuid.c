/*
 * cpuid.c: the `cpuid' key, in its two forms (xl.cfg(5)): the libxl string
 * "host,FLAG=V,..." and the xend list [ "LEAF[,SUBLEAF]:eax=...,ebx=..." ].
 * Both become b_info.cpuid: a list of {leaf, subleaf, eax..edx} where each
 * register is 32 characters (bit 31 first) of 0, 1, x (default), k or s.
 * Unknown flag names are reported and skipped, as xl does. The flag table
 * holds libxl's named fields and the common feature bits.
 */
#include "model/handlers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define NA 0xffffffffu
enum { EAX, EBX, ECX, EDX };

static const struct flag { const char *name; unsigned leaf, subleaf; int reg, bit, len; } flags[] = {
	{ "maxleaf", 0, NA, EAX, 0, 32 }, { "stepping", 1, NA, EAX, 0, 4 }, { "model", 1, NA, EAX, 4, 8 },
	{ "family", 1, NA, EAX, 8, 8 }, { "brandid", 1, NA, EBX, 0, 8 }, { "clflush", 1, NA, EBX, 8, 8 },
	{ "proccount", 1, NA, EBX, 16, 8 }, { "localapicid", 1, NA, EBX, 24, 8 },
	{ "sse3", 1, NA, ECX, 0, 1 }, { "pclmulqdq", 1, NA, ECX, 1, 1 }, { "dtes64", 1, NA, ECX, 2, 1 },
	{ "monitor", 1, NA, ECX, 3, 1 }, { "dscpl", 1, NA, ECX, 4, 1 }, { "vmx", 1, NA, ECX, 5, 1 },
	{ "smx", 1, NA, ECX, 6, 1 }, { "est", 1, NA, ECX, 7, 1 }, { "tm2", 1, NA, ECX, 8, 1 },
	{ "ssse3", 1, NA, ECX, 9, 1 }, { "cntxid", 1, NA, ECX, 10, 1 }, { "fma", 1, NA, ECX, 12, 1 },
	{ "cmpxchg16", 1, NA, ECX, 13, 1 }, { "xtpr", 1, NA, ECX, 14, 1 }, { "pdcm", 1, NA, ECX, 15, 1 },
	{ "pcid", 1, NA, ECX, 17, 1 }, { "dca", 1, NA, ECX, 18, 1 }, { "sse4_1", 1, NA, ECX, 19, 1 },
	{ "sse4.1", 1, NA, ECX, 19, 1 }, { "sse4_2", 1, NA, ECX, 20, 1 }, { "sse4.2", 1, NA, ECX, 20, 1 },
	{ "x2apic", 1, NA, ECX, 21, 1 }, { "movbe", 1, NA, ECX, 22, 1 }, { "popcnt", 1, NA, ECX, 23, 1 },
	{ "tsc-deadline", 1, NA, ECX, 24, 1 }, { "aes", 1, NA, ECX, 25, 1 }, { "xsave", 1, NA, ECX, 26, 1 },
	{ "osxsave", 1, NA, ECX, 27, 1 }, { "avx", 1, NA, ECX, 28, 1 }, { "f16c", 1, NA, ECX, 29, 1 },
	{ "rdrand", 1, NA, ECX, 30, 1 }, { "hypervisor", 1, NA, ECX, 31, 1 },
	{ "fpu", 1, NA, EDX, 0, 1 }, { "vme", 1, NA, EDX, 1, 1 }, { "de", 1, NA, EDX, 2, 1 },
	{ "pse", 1, NA, EDX, 3, 1 }, { "tsc", 1, NA, EDX, 4, 1 }, { "msr", 1, NA, EDX, 5, 1 },
	{ "pae", 1, NA, EDX, 6, 1 }, { "mce", 1, NA, EDX, 7, 1 }, { "cmpxchg8", 1, NA, EDX, 8, 1 },
	{ "apic", 1, NA, EDX, 9, 1 }, { "sysenter", 1, NA, EDX, 11, 1 }, { "mtrr", 1, NA, EDX, 12, 1 },
	{ "pge", 1, NA, EDX, 13, 1 }, { "mca", 1, NA, EDX, 14, 1 }, { "cmov", 1, NA, EDX, 15, 1 },
	{ "pat", 1, NA, EDX, 16, 1 }, { "pse36", 1, NA, EDX, 17, 1 }, { "psn", 1, NA, EDX, 18, 1 },
	{ "clfsh", 1, NA, EDX, 19, 1 }, { "ds", 1, NA, EDX, 21, 1 }, { "acpi", 1, NA, EDX, 22, 1 },
	{ "mmx", 1, NA, EDX, 23, 1 }, { "fxsr", 1, NA, EDX, 24, 1 }, { "sse", 1, NA, EDX, 25, 1 },
	{ "sse2", 1, NA, EDX, 26, 1 }, { "ss", 1, NA, EDX, 27, 1 }, { "htt", 1, NA, EDX, 28, 1 },
	{ "tm", 1, NA, EDX, 29, 1 }, { "ia64", 1, NA, EDX, 30, 1 }, { "pbe", 1, NA, EDX, 31, 1 },
	{ "arat", 6, NA, EAX, 2, 1 }, { "procpkg", 4, 0, EAX, 26, 6 },
	{ "fsgsbase", 7, 0, EBX, 0, 1 }, { "tsc_adjust", 7, 0, EBX, 1, 1 }, { "bmi1", 7, 0, EBX, 3, 1 },
	{ "hle", 7, 0, EBX, 4, 1 }, { "avx2", 7, 0, EBX, 5, 1 }, { "smep", 7, 0, EBX, 7, 1 },
	{ "bmi2", 7, 0, EBX, 8, 1 }, { "erms", 7, 0, EBX, 9, 1 }, { "invpcid", 7, 0, EBX, 10, 1 },
	{ "rtm", 7, 0, EBX, 11, 1 }, { "cmt", 7, 0, EBX, 12, 1 }, { "mpx", 7, 0, EBX, 14, 1 },
	{ "avx512f", 7, 0, EBX, 16, 1 }, { "rdseed", 7, 0, EBX, 18, 1 }, { "adx", 7, 0, EBX, 19, 1 },
	{ "smap", 7, 0, EBX, 20, 1 }, { "sha", 7, 0, EBX, 29, 1 },
	{ "lahfsahf", 0x80000001, NA, ECX, 0, 1 }, { "cmplegacy", 0x80000001, NA, ECX, 1, 1 },
	{ "svm", 0x80000001, NA, ECX, 2, 1 }, { "extapic", 0x80000001, NA, ECX, 3, 1 },
	{ "altmovcr8", 0x80000001, NA, ECX, 4, 1 }, { "abm", 0x80000001, NA, ECX, 5, 1 },
	{ "sse4a", 0x80000001, NA, ECX, 6, 1 }, { "misalignsse", 0x80000001, NA, ECX, 7, 1 },
	{ "3dnowprefetch", 0x80000001, NA, ECX, 8, 1 }, { "osvw", 0x80000001, NA, ECX, 9, 1 },
	{ "ibs", 0x80000001, NA, ECX, 10, 1 }, { "xop", 0x80000001, NA, ECX, 11, 1 },
	{ "skinit", 0x80000001, NA, ECX, 12, 1 }, { "wdt", 0x80000001, NA, ECX, 13, 1 },
	{ "lwp", 0x80000001, NA, ECX, 15, 1 }, { "fma4", 0x80000001, NA, ECX, 16, 1 },
	{ "nodeid", 0x80000001, NA, ECX, 19, 1 }, { "tbm", 0x80000001, NA, ECX, 21, 1 },
	{ "topoext", 0x80000001, NA, ECX, 22, 1 }, { "perfctr_core", 0x80000001, NA, ECX, 23, 1 },
	{ "perfctr_nb", 0x80000001, NA, ECX, 24, 1 },
	{ "syscall", 0x80000001, NA, EDX, 11, 1 }, { "nx", 0x80000001, NA, EDX, 20, 1 },
	{ "mmxext", 0x80000001, NA, EDX, 22, 1 }, { "ffxsr", 0x80000001, NA, EDX, 25, 1 },
	{ "page1gb", 0x80000001, NA, EDX, 26, 1 }, { "rdtscp", 0x80000001, NA, EDX, 27, 1 },
	{ "lm", 0x80000001, NA, EDX, 29, 1 }, { "3dnowext", 0x80000001, NA, EDX, 30, 1 },
	{ "3dnow", 0x80000001, NA, EDX, 31, 1 },
	{ "invtsc", 0x80000007, NA, EDX, 8, 1 }, { "ppin", 0x80000008, NA, EBX, 23, 1 },
	{ "btc-no", 0x80000008, NA, EBX, 29, 1 }, { "nc", 0x80000008, NA, ECX, 0, 8 },
	{ "apicidsize", 0x80000008, NA, ECX, 12, 4 },
	{ "svm_npt", 0x8000000a, NA, EDX, 0, 1 }, { "svm_lbrv", 0x8000000a, NA, EDX, 1, 1 },
	{ "svm_nrips", 0x8000000a, NA, EDX, 3, 1 }, { "svm_tscrate", 0x8000000a, NA, EDX, 4, 1 },
	{ "svm_vmcbclean", 0x8000000a, NA, EDX, 5, 1 }, { "svm_decode", 0x8000000a, NA, EDX, 7, 1 },
	{ "svm_pausefilt", 0x8000000a, NA, EDX, 10, 1 }, { "lfence+", 0x80000021, NA, EAX, 2, 1 },
	{ "maxhvleaf", 0x40000000, NA, EAX, 0, 8 },
};

static const char *const regnames[] = { "eax", "ebx", "ecx", "edx" };

/* The entry for leaf/subleaf in b_info.cpuid.cpuid, created on first use. */
static json_object *entry(struct mctx *m, unsigned leaf, unsigned subleaf)
{
	json_object *pol = j_obj(m->b_info, "cpuid");
	json_object *list = j_arr(pol, "cpuid");
	j_arr(pol, "msr");
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *e = json_object_array_get_idx(list, i), *l, *s;
		unsigned el = (unsigned)json_object_get_int64(json_object_object_get_ex(e, "leaf", &l) ? l : NULL);
		unsigned es = json_object_object_get_ex(e, "subleaf", &s) ? (unsigned)json_object_get_int64(s) : NA;
		if (el == leaf && es == subleaf) return e;
	}
	json_object *e = json_object_new_object();
	j_int(e, "leaf", leaf);
	if (subleaf != NA) j_int(e, "subleaf", subleaf);
	json_object_array_add(list, e);
	return e;
}

static void set_bits(json_object *e, int reg, int bit, int len, const char *val)
{
	char cur[33];
	json_object *r;
	if (json_object_object_get_ex(e, regnames[reg], &r)) snprintf(cur, sizeof(cur), "%s", json_object_get_string(r));
	else memset(cur, 'x', 32), cur[32] = 0;
	for (int i = 0; i < len; i++) cur[31 - (bit + i)] = val[len - 1 - i];
	j_str(e, regnames[reg], cur);
}

/* family and model are split across two fields of leaf 1 EAX (base and
 * extended), as libxl writes them. */
static void family_model(json_object *e, const struct flag *f, const char *val, unsigned long num)
{
	char cur[33], fbits[9];
	json_object *r;
	if (json_object_object_get_ex(e, "eax", &r)) snprintf(cur, sizeof(cur), "%s", json_object_get_string(r));
	else memset(cur, 'x', 32), cur[32] = 0;
	memcpy(fbits, val, 8);
	if (!strcmp(f->name, "family")) {
		if (num < 16) {
			memcpy(cur + (32 - 4) - f->bit, fbits + 4, 4);
			memcpy(cur + (32 - 8) - 20, "00000000", 8);
		} else {
			num -= 15;
			memcpy(cur + (32 - 4) - f->bit, "1111", 4);
			for (int i = 0; i < 7; i++) { fbits[7 - i] = (num & 1) ? '1' : '0'; num >>= 1; }
			memcpy(cur + (32 - 8) - 20, fbits, 8);
		}
	} else {
		memcpy(cur + (32 - 4) - 16, fbits, 4);
		memcpy(cur + (32 - 4) - f->bit, fbits + 4, 4);
	}
	j_str(e, "eax", cur);
}

static void string_form(struct mctx *m, const char *s)
{
	char *buf = xstrdup(s), *save = NULL;
	char *t = strtok_r(buf, ",", &save);
	if (!t) { free(buf); return; }
	if (strcmp(t, "host")) {
		m_warn(m, "cpuid", "cpuid string \"%s\": the first word must be \"host\"; ignored", s);
		free(buf);
		return;
	}
	for (t = strtok_r(NULL, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		if (!eq) { m_warn(m, "cpuid", "cpuid flag \"%s\": missing \"=\" in key=value; ignored", t); continue; }
		*eq++ = 0;
		const struct flag *f = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
			if (!strcmp(flags[i].name, t)) { f = &flags[i]; break; }
		if (!f) { m_warn(m, "cpuid", "cpuid flag \"%s\": unknown CPUID flag name; ignored", t); continue; }
		/* as libxl's cpuid_add: the entry exists first; a value is a number
		 * (strtoul, junk after it ignored) or starts with x, k or s */
		json_object *e = entry(m, f->leaf, f->subleaf);
		char val[33];
		char *ep;
		unsigned long num = strtoul(eq, &ep, 0);
		if (ep != eq) {
			for (int i = 0; i < f->len; i++) val[f->len - 1 - i] = (num >> i) & 1 ? '1' : '0';
		} else if (eq[0] == 'x' || eq[0] == 'k' || eq[0] == 's') {
			memset(val, eq[0], (size_t)f->len);
		} else {
			m_warn(m, "cpuid", "cpuid flag \"%s=%s\": illegal CPUID value (must be: [0|1|x|k|s]); ignored", t, eq);
			continue;
		}
		val[f->len] = 0;
		if (!strcmp(f->name, "family") || !strcmp(f->name, "model")) {
			family_model(e, f, val, num);
			continue;
		}
		set_bits(e, f->reg, f->bit, f->len, val);
	}
	free(buf);
}

static void xend_form(struct mctx *m, const struct kxl_cfg_value *v)
{
	struct kxl_loc l = m_value_loc(v);
	char *ep;
	const char *s = v->str;
	unsigned long leaf = strtoul(s, &ep, 0), sub = NA;
	const char *err = NULL;
	if (ep == s) err = "illegal leaf number";
	else if (*ep == ',') {
		s = ep + 1;
		sub = strtoul(s, &ep, 0);
		if (ep == s) err = "illegal subleaf number";
	}
	if (!err && *ep != ':') err = "missing colon";
	/* as xl: the entry exists once the leaf is read, and registers before
	 * a bad one are kept */
	if (!err) {
		json_object *e = entry(m, (unsigned)leaf, (unsigned)sub);
		for (const char *r = ep + 1; *r;) {
			if (r[0] != 'e' || !r[1] || r[2] != 'x' || r[1] < 'a' || r[1] > 'd' || !strchr(r, '=')) {
				err = "invalid register name (must be e[abcd]x)";
				break;
			}
			int reg = r[1] - 'a';
			const char *rv = strchr(r, '=') + 1, *end = strchr(rv, ',');
			if (!end) end = rv + strlen(rv);
			if (end - rv != 32) { err = "policy string must be exactly 32 characters long"; break; }
			char val[33];
			memcpy(val, rv, 32);
			val[32] = 0;
			j_str(e, regnames[reg], val);
			if (!*end) break;
			for (r = end + 1; *r == ' ' || *r == '\n'; r++)
				;
		}
	}
	if (err) kxl_diag_add(m->d, KXL_WARNING, &l, "while parsing CPUID line \"%s\": %s; ignored", v->str, err);
}

void h_cpuid(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	const char *s;
	int e = m_list(m, key->name, true, &list);
	if (!e) {
		for (size_t i = 0; i < list->n && list->items[i]->type == KXL_CFG_STRING; i++)
			xend_form(m, list->items[i]);
	} else if (e == EINVAL && !m_string(m, key->name, false, &s)) {
		string_form(m, s);
	}
}
