/*
 * disk.c: the disk spec of xl-disk-configuration(5), as libxlutil's flex
 * scanner (libxlu_disk_l.l) reads it: `key=value` parameters, bare flags,
 * positional parameters (target, format, vdev, access) and the deprecated
 * `prefix:` forms. `target=` takes the rest of the string, commas and all.
 *
 * The scanner is emulated rule by rule: at each position every rule is
 * tried, the longest match wins and a tie goes to the rule listed first,
 * which is how flex chooses. Beyond Debian's xl 4.17: `trusted` and
 * `untrusted` are accepted (4.17's generated scanner predates them; fixed in
 * 4.19), and errors name the position in the spec.
 */
#include <kxl/cfg.h>

#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct dpc {
	const char *spec;
	const char *buf;	/* the working copy: same offsets as spec */
	const struct kxl_loc *loc;
	struct kxl_diag *d;
	struct json_object *disk;
	int err;
	/* the parsed values, as libxl_device_disk holds them */
	char *pdev_path, *vdev, *script, *backend_domname, *colo_host, *colo_export,
	     *active_disk, *hidden_disk;
	const char *format, *backend, *specification;
	int readwrite, is_cdrom, removable, direct_io_safe, colo_port;
	int discard, colo, trusted;	/* -1 unset, 0, 1 */
	int access_set, had_depr_prefix;
};

static void derr(struct dpc *c, const char *near, size_t nlen, const char *msg)
{
	struct kxl_loc l = *c->loc;
	/* point the caret at the offending word when it lies in the spec (the
	 * location is the opening quote; escapes would shift it, so only when
	 * the spec has none) */
	if (near && c->buf && near >= c->buf && near < c->buf + strlen(c->spec) && l.col > 0 &&
	    l.text && l.col - 1 + 1 + (int)strlen(c->spec) < l.text_len &&
	    !strncmp(l.text + l.col, c->spec, strlen(c->spec)))
		l.col += 1 + (int)(near - c->buf);
	if (near)
		kxl_diag_add(c->d, KXL_ERROR, &l,
			     "disk spec `%s': %s near `%.*s' (see xl-disk-configuration(5))",
			     c->spec, msg, (int)nlen, near);
	else
		kxl_diag_add(c->d, KXL_ERROR, c->loc,
			     "disk spec `%s': %s (see xl-disk-configuration(5))", c->spec, msg);
	c->err = 1;
}

static void savestring(struct dpc *c, const char *what, char **dst, const char *val)
{
	if (*dst && **dst) {
		char *m = xasprintf("%s respecified", what);
		derr(c, val, strlen(val), m);
		free(m);
		return;
	}
	free(*dst);
	*dst = xstrdup(val);
}

static void setenum(struct dpc *c, const char *member, const char **dst, const char *val,
		    const char *str)
{
	if (*dst && strcmp(*dst, val)) {
		char *m = xasprintf("%s respecified", member);
		derr(c, str, strlen(str), m);
		free(m);
		return;
	}
	*dst = val;
}

static void setformat(struct dpc *c, const char *s)
{
	static const char *const names[][2] = {
		{ "", "raw" }, { "raw", "raw" }, { "qcow", "qcow" }, { "qcow2", "qcow2" },
		{ "vhd", "vhd" }, { "empty", "empty" }, { "qed", "qed" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i][0])) { setenum(c, "format", &c->format, names[i][1], s); return; }
	derr(c, s, strlen(s), "unknown value for format (raw, qcow, qcow2, vhd, qed, empty)");
}

static void setaccess(struct dpc *c, const char *s)
{
	if (!strcmp(s, "r") || !strcmp(s, "ro"))
		c->readwrite = 0;
	else if (!strcmp(s, "rw") || !strcmp(s, "w") || !strcmp(s, ""))
		c->readwrite = 1;
	else
		derr(c, s, strlen(s), "unknown value for access (ro, r, rw, w)");
}

static void setbackendtype(struct dpc *c, const char *s)
{
	static const char *const names[] = { "phy", "tap", "qdisk", "standalone" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) { setenum(c, "backend", &c->backend, names[i], s); return; }
	derr(c, s, strlen(s), "unknown value for backendtype (phy, tap, qdisk, standalone)");
}

static void setspecification(struct dpc *c, const char *s)
{
	if (!strcmp(s, "xen") || !strcmp(s, "virtio"))
		setenum(c, "specification", &c->specification, !strcmp(s, "xen") ? "xen" : "virtio", s);
	else
		derr(c, s, strlen(s), "unknown value for specification (xen, virtio)");
}

/* "<vdev>:<devtype>" in a positional slot. Returns 1 when it was that form. */
static int vdev_and_devtype(struct dpc *c, char *s)
{
	char *colon = strrchr(s, ':');
	if (!colon) return 0;
	*colon++ = 0;
	savestring(c, "vdev", &c->vdev, s);
	if (!strcmp(colon, "cdrom"))
		c->is_cdrom = 1;
	else if (!strcmp(colon, "disk"))
		c->is_cdrom = 0;
	else
		derr(c, colon, strlen(colon), "unknown deprecated type (cdrom, disk)");
	return 1;
}

/* ---- rule matchers: each returns the match length at p, or -1 ---- */

static int is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* "word,?" */
static int m_flag(const char *p, const char *word)
{
	if (p[0] != word[0]) return -1;
	size_t n = strlen(word);
	if (strncmp(p, word, n)) return -1;
	return (int)n + (p[n] == ',');
}

/* "key=[^,]*,?" */
static int m_keyval(const char *p, const char *key)
{
	if (p[0] != key[0]) return -1;
	size_t n = strlen(key);
	if (strncmp(p, key, n) || p[n] != '=') return -1;
	size_t i = n + 1;
	while (p[i] && p[i] != ',') i++;
	return (int)i + (p[i] == ',');
}

/* "[a-z][-a-z0-9]*=[^,],?" : unknown parameter (one value character, as xl) */
static int m_unknown_param(const char *p)
{
	if (!is_lower(p[0])) return -1;
	int i = 1;
	while (is_lower(p[i]) || is_digit(p[i]) || p[i] == '-') i++;
	if (p[i] != '=' || !p[i + 1] || p[i + 1] == ',') return -1;
	i += 2;
	return i + (p[i] == ',');
}

/* "prefix:" followed by the rest (trailing context counts for the length) */
static int m_prefix(const char *p, const char *prefix)
{
	if (p[0] != prefix[0]) return -1;
	size_t n = strlen(prefix);
	if (strncmp(p, prefix, n) || p[n] != ':') return -1;
	return (int)strlen(p);
}

/* "[a-z][a-z0-9]*:/([^a-z0-9].*)?" */
static int m_unknown_prefix(const char *p)
{
	if (!is_lower(p[0])) return -1;
	int i = 1;
	while (is_lower(p[i]) || is_digit(p[i])) i++;
	if (p[i] != ':') return -1;
	i++;
	if (p[i] && !is_lower(p[i]) && !is_digit(p[i])) return (int)strlen(p);
	return i;
}

/* "[^=,]*,|[^=,]+,?" */
static int m_positional(const char *p)
{
	int i = 0;
	while (p[i] && p[i] != '=' && p[i] != ',') i++;
	if (p[i] == ',') return i + 1;
	return i > 0 ? i : -1;
}

enum rule {
	R_WS, R_FORMAT, R_CDROM, R_DEVTYPE_CDROM, R_DEVTYPE_DISK, R_DEVTYPE, R_ACCESS,
	R_BACKEND, R_BACKENDTYPE, R_SPECIFICATION, R_VDEV, R_SCRIPT, R_DIRECTIO, R_DISCARD,
	R_NODISCARD, R_COLO, R_NOCOLO, R_COLOHOST, R_COLOPORT, R_COLOEXPORT, R_ACTIVE,
	R_HIDDEN, R_TRUSTED, R_UNTRUSTED, R_TARGET, R_UNKNOWN_PARAM, R_P_FORMAT,
	R_P_SCRIPT, R_P_IGNORED, R_P_UNKNOWN, R_POSITIONAL, R_NRULES
};

/* The deprecated `prefix:' forms: a format, a script (block-NAME), or
 * nothing at all. A prefix's bit in kxl_disk_parse_ex's *prefixes is its
 * index in fmt_prefixes, then script_prefixes, then ignored_prefixes. */
static const char *const fmt_prefixes[] = { "raw", "qcow", "qcow2", "vhd" };
static const char *const script_prefixes[] = { "iscsi", "nbd", "enbd", "drbd" };
static const char *const ignored_prefixes[] = { "tapdisk", "tap", "tap2", "aio", "ioemu", "file", "phy" };

static unsigned prefix_bit(const char *prefix)
{
	unsigned b = 0;
	const char *const *lists[] = { fmt_prefixes, script_prefixes, ignored_prefixes };
	size_t ns[] = { ARRAY_SIZE(fmt_prefixes), ARRAY_SIZE(script_prefixes), ARRAY_SIZE(ignored_prefixes) };
	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < ns[l]; i++, b++)
			if (lists[l][i] == prefix) return 1u << b;
	return 0;
}

char *kxl_disk_prefix_note(unsigned prefixes)
{
	struct sbuf fmt = { 0 }, scr = { 0 }, ign = { 0 };
	unsigned b = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fmt_prefixes); i++, b++)
		if (prefixes & (1u << b)) sbuf_printf(&fmt, "%s`%s:' (write format=%s)", fmt.s ? ", " : "",
						       fmt_prefixes[i], fmt_prefixes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(script_prefixes); i++, b++)
		if (prefixes & (1u << b)) sbuf_printf(&scr, "%s`%s:' (write script=block-%s)", scr.s ? ", " : "",
						       script_prefixes[i], script_prefixes[i]);
	for (size_t i = 0; i < ARRAY_SIZE(ignored_prefixes); i++, b++)
		if (prefixes & (1u << b)) sbuf_printf(&ign, "%s`%s:'", ign.s ? ", " : "", ignored_prefixes[i]);
	struct sbuf out = { 0 };
	sbuf_printf(&out, "disk spec prefixes are deprecated (said once per config, at the first): ");
	const char *sep = "";
	if (fmt.s) { sbuf_printf(&out, "%s%s", sep, fmt.s); sep = "; "; }
	if (scr.s) { sbuf_printf(&out, "%s%s", sep, scr.s); sep = "; "; }
	unsigned nign = (unsigned)__builtin_popcount(prefixes >> (ARRAY_SIZE(fmt_prefixes) + ARRAY_SIZE(script_prefixes)));
	if (ign.s) sbuf_printf(&out, "%s%s (xl ignores %s: drop %s)", sep, ign.s, nign > 1 ? "them" : "it",
			       nign > 1 ? "them" : "it");
	free(fmt.s); free(scr.s); free(ign.s);
	return sbuf_steal(&out);
}

static int rule_len(enum rule r, const char *p, const char **prefix_out)
{
	int best = -1;
	switch (r) {
	case R_WS: {
		int i = 0;
		while (p[i] == ' ' || p[i] == '\t' || p[i] == '\n') i++;
		return i ? (int)strlen(p) : -1;	/* trailing context: the rest */
	}
	case R_FORMAT: return m_keyval(p, "format");
	case R_CDROM: return m_flag(p, "cdrom");
	case R_DEVTYPE_CDROM: return m_flag(p, "devtype=cdrom");
	case R_DEVTYPE_DISK: return m_flag(p, "devtype=disk");
	case R_DEVTYPE: return m_keyval(p, "devtype");
	case R_ACCESS: return m_keyval(p, "access");
	case R_BACKEND: return m_keyval(p, "backend");
	case R_BACKENDTYPE: return m_keyval(p, "backendtype");
	case R_SPECIFICATION: return m_keyval(p, "specification");
	case R_VDEV: return m_keyval(p, "vdev");
	case R_SCRIPT: return m_keyval(p, "script");
	case R_DIRECTIO: return m_flag(p, "direct-io-safe");
	case R_DISCARD: return m_flag(p, "discard");
	case R_NODISCARD: return m_flag(p, "no-discard");
	case R_COLO: return m_flag(p, "colo");
	case R_NOCOLO: return m_flag(p, "no-colo");
	case R_COLOHOST: return m_keyval(p, "colo-host");
	case R_COLOPORT: return m_keyval(p, "colo-port");
	case R_COLOEXPORT: return m_keyval(p, "colo-export");
	case R_ACTIVE: return m_keyval(p, "active-disk");
	case R_HIDDEN: return m_keyval(p, "hidden-disk");
	case R_TRUSTED: return m_flag(p, "trusted");
	case R_UNTRUSTED: return m_flag(p, "untrusted");
	case R_TARGET: return p[0] != 't' || strncmp(p, "target=", 7) ? -1 : (int)strlen(p);
	case R_UNKNOWN_PARAM: return m_unknown_param(p);
	case R_P_FORMAT: case R_P_SCRIPT: case R_P_IGNORED: {
		const char *const *v = r == R_P_FORMAT ? fmt_prefixes : r == R_P_SCRIPT ? script_prefixes : ignored_prefixes;
		size_t n = r == R_P_FORMAT ? ARRAY_SIZE(fmt_prefixes) : r == R_P_SCRIPT ? ARRAY_SIZE(script_prefixes) : ARRAY_SIZE(ignored_prefixes);
		for (size_t i = 0; i < n; i++) {
			int l = m_prefix(p, v[i]);
			if (l > best) { best = l; if (prefix_out) *prefix_out = v[i]; }
		}
		return best;
	}
	case R_P_UNKNOWN: return m_unknown_prefix(p);
	case R_POSITIONAL: return m_positional(p);
	case R_NRULES: break;
	}
	return -1;
}

static void positional(struct dpc *c, char *tok)
{
	if (c->err) return;	/* earlier errors lead to later ones: report the first */
	if (!c->pdev_path) {
		savestring(c, "target", &c->pdev_path, tok);
	} else if (!c->had_depr_prefix && !c->format) {
		if (!*c->pdev_path && vdev_and_devtype(c, tok))
			c->format = "empty";
		else
			setformat(c, tok);
	} else if (!c->vdev) {
		if (!vdev_and_devtype(c, tok))
			savestring(c, "vdev", &c->vdev, tok);
	} else if (!c->access_set) {
		c->access_set = 1;
		setaccess(c, tok);
	} else {
		derr(c, tok, strlen(tok), "too many positional parameters (target, format, vdev, access)");
	}
}

static void emit(struct dpc *c)
{
	struct json_object *o = c->disk;
#define S(k, v) do { if (v) json_object_object_add(o, k, json_object_new_string(v)); } while (0)
#define I(k, v) do { if (v) json_object_object_add(o, k, json_object_new_int(v)); } while (0)
#define B(k, v) do { if ((v) >= 0) json_object_object_add(o, k, json_object_new_string((v) ? "True" : "False")); } while (0)
	S("backend_domname", c->backend_domname);
	S("pdev_path", c->pdev_path);
	S("vdev", c->vdev);
	S("backend", c->backend);
	S("format", c->format);
	S("script", c->script);
	I("removable", c->removable);
	I("readwrite", c->readwrite);
	I("is_cdrom", c->is_cdrom);
	if (c->direct_io_safe) json_object_object_add(o, "direct_io_safe", json_object_new_boolean(1));
	B("discard_enable", c->discard);
	S("specification", c->specification);
	B("colo_enable", c->colo);
	S("colo_host", c->colo_host);
	I("colo_port", c->colo_port);
	S("colo_export", c->colo_export);
	S("active_disk", c->active_disk);
	S("hidden_disk", c->hidden_disk);
	B("trusted", c->trusted);
#undef S
#undef I
#undef B
}

int kxl_disk_parse(const char *spec, struct json_object *disk,
		   const struct kxl_loc *loc, struct kxl_diag *d)
{
	return kxl_disk_parse_ex(spec, disk, loc, d, NULL);
}

int kxl_disk_parse_ex(const char *spec, struct json_object *disk,
		      const struct kxl_loc *loc, struct kxl_diag *d, unsigned *prefixes)
{
	struct dpc c = { .spec = spec, .loc = loc, .d = d, .disk = disk, .readwrite = 1,
			 .discard = -1, .colo = -1, .trusted = -1 };
	char *buf = xstrdup(spec);
	char *p = buf;
	c.buf = buf;
	while (*p && !c.err) {
		int best = -1;
		enum rule which = R_NRULES;
		const char *prefix = NULL;
		for (int r = 0; r < R_NRULES; r++) {
			const char *pf = NULL;
			int l = rule_len((enum rule)r, p, &pf);
			if (l > best) { best = l; which = (enum rule)r; prefix = pf; }
		}
		if (best <= 0) {
			/* xl's "." rule: the rest of the spec is bad syntax */
			derr(&c, p, strlen(p), "bad disk syntax");
			break;
		}
		char save = p[best];
		p[best] = 0;
		char *tok = p, *next = p + best;
		size_t tl = (size_t)best;
		/* STRIP(','): the rules whose match is a word and its comma (the
		 * white-space and prefix rules match trailing context instead) */
		bool context = which == R_WS || which == R_P_FORMAT || which == R_P_SCRIPT ||
			       which == R_P_IGNORED;
		if (!context && tl && tok[tl - 1] == ',') tok[--tl] = 0;
		char *val = strchr(tok, '=');
		val = val ? val + 1 : NULL;
		switch (which) {
		case R_WS: {
			p[best] = save;
			while (*p == ' ' || *p == '\t' || *p == '\n') p++;
			continue;
		}
		case R_FORMAT: setformat(&c, val); break;
		case R_CDROM: case R_DEVTYPE_CDROM: c.is_cdrom = 1; break;
		case R_DEVTYPE_DISK: c.is_cdrom = 0; break;
		case R_DEVTYPE: derr(&c, tok, tl, "unknown value for type (disk, cdrom)"); break;
		case R_ACCESS: setaccess(&c, val); break;
		case R_BACKEND: savestring(&c, "backend", &c.backend_domname, val); break;
		case R_BACKENDTYPE: setbackendtype(&c, val); break;
		case R_SPECIFICATION: setspecification(&c, val); break;
		case R_VDEV: savestring(&c, "vdev", &c.vdev, val); break;
		case R_SCRIPT: savestring(&c, "script", &c.script, val); break;
		case R_DIRECTIO: c.direct_io_safe = 1; break;
		case R_DISCARD: c.discard = 1; break;
		case R_NODISCARD: c.discard = 0; break;
		case R_COLO: c.colo = 1; break;
		case R_NOCOLO: c.colo = 0; break;
		case R_COLOHOST: savestring(&c, "colo-host", &c.colo_host, val); break;
		case R_COLOPORT: {
			int port = atoi(val);
			if (port) c.colo_port = port;
			else derr(&c, val, strlen(val), "unknown value for colo-port");
			break;
		}
		case R_COLOEXPORT: savestring(&c, "colo-export", &c.colo_export, val); break;
		case R_ACTIVE: savestring(&c, "active-disk", &c.active_disk, val); break;
		case R_HIDDEN: savestring(&c, "hidden-disk", &c.hidden_disk, val); break;
		case R_TRUSTED: c.trusted = 1; break;
		case R_UNTRUSTED: c.trusted = 0; break;
		case R_TARGET: savestring(&c, "target", &c.pdev_path, val); break;
		case R_UNKNOWN_PARAM: {
			size_t kl = (size_t)(strchr(tok, '=') - tok);
			derr(&c, tok, kl, "unknown parameter");
			break;
		}
		case R_P_FORMAT: case R_P_SCRIPT: case R_P_IGNORED: {
			/* the match is the prefix and its colon; scanning goes on after it */
			size_t plen = strlen(prefix);
			p[best] = save;
			c.had_depr_prefix = 1;
			if (prefixes)
				*prefixes |= prefix_bit(prefix);
			else
				kxl_diag_add(d, KXL_DEPRECATED, loc, "disk spec `%s': the `%s:' prefix is deprecated%s",
					     spec, prefix, which == R_P_FORMAT ? "; use `format=...'" :
					     which == R_P_SCRIPT ? "; use `script=...'" : "");
			if (which == R_P_FORMAT) {
				char *f = xstrndup(prefix, plen);
				setformat(&c, f);
				free(f);
			} else if (which == R_P_SCRIPT) {
				char *s = xasprintf("block-%s", prefix);
				savestring(&c, "script", &c.script, s);
				free(s);
			}
			p += plen + 1;
			continue;
		}
		case R_P_UNKNOWN: {
			size_t kl = (size_t)(strchr(tok, ':') - tok);
			derr(&c, tok, kl + 1, "unknown deprecated disk prefix");
			break;
		}
		case R_POSITIONAL: positional(&c, tok); break;
		case R_NRULES: break;
		}
		p = next;
		*p = save;
	}
	free(buf);

	if (!c.err) {
		if (!c.format) c.format = "raw";
		if (c.is_cdrom) {
			c.removable = 1;
			c.readwrite = 0;
			if (!c.pdev_path || !*c.pdev_path) c.format = "empty";
		}
		if (!c.vdev)
			derr(&c, NULL, 0, "no vdev specified (add `vdev=xvda' or the like)");
		else if (!c.pdev_path && !c.removable)
			derr(&c, NULL, 0, "no target specified (and device not removable)");
	}
	if (!c.err) emit(&c);
	free(c.pdev_path); free(c.vdev); free(c.script); free(c.backend_domname);
	free(c.colo_host); free(c.colo_export); free(c.active_disk); free(c.hidden_disk);
	return c.err ? -1 : 0;
}
