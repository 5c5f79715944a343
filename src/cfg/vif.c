/*
 * vif.c: the vif spec of xl-network-configuration(5), as xl reads it
 * (xl_parse.c parse_nic_config, libxlu_vif.c): comma-separated `key=value`
 * words, empty words skipped. As in xl, an unknown word or a bad `type`/`mac`
 * is a warning and the word is ignored; a bad `rate`, `devid` or `mtu` is an
 * error that refuses the domain.
 */
#include <kxl/cfg.h>

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* The string fields of libxl_device_nic that a `key=value' word sets, in IDL
 * order; the word is the field name except where noted. */
static const struct { const char *word, *field; } nic_strings[] = {
	{ "backend", "backend_domname" }, { "model", "model" }, { "ip", "ip" },
	{ "bridge", "bridge" }, { "vifname", "ifname" }, { "script", "script" },
	{ "gatewaydev", "gatewaydev" }, { "forwarddev", "coloft_forwarddev" },
	{ "colo_sock_mirror_id", 0 }, { "colo_sock_mirror_ip", 0 }, { "colo_sock_mirror_port", 0 },
	{ "colo_sock_compare_pri_in_id", 0 }, { "colo_sock_compare_pri_in_ip", 0 },
	{ "colo_sock_compare_pri_in_port", 0 }, { "colo_sock_compare_sec_in_id", 0 },
	{ "colo_sock_compare_sec_in_ip", 0 }, { "colo_sock_compare_sec_in_port", 0 },
	{ "colo_sock_compare_notify_id", 0 }, { "colo_sock_compare_notify_ip", 0 },
	{ "colo_sock_compare_notify_port", 0 }, { "colo_sock_redirector0_id", 0 },
	{ "colo_sock_redirector0_ip", 0 }, { "colo_sock_redirector0_port", 0 },
	{ "colo_sock_redirector1_id", 0 }, { "colo_sock_redirector1_ip", 0 },
	{ "colo_sock_redirector1_port", 0 }, { "colo_sock_redirector2_id", 0 },
	{ "colo_sock_redirector2_ip", 0 }, { "colo_sock_redirector2_port", 0 },
	{ "colo_filter_mirror_queue", 0 }, { "colo_filter_mirror_outdev", 0 },
	{ "colo_filter_redirector0_queue", 0 }, { "colo_filter_redirector0_indev", 0 },
	{ "colo_filter_redirector0_outdev", 0 }, { "colo_filter_redirector1_queue", 0 },
	{ "colo_filter_redirector1_indev", 0 }, { "colo_filter_redirector1_outdev", 0 },
	{ "colo_compare_pri_in", 0 }, { "colo_compare_sec_in", 0 }, { "colo_compare_out", 0 },
	{ "colo_compare_notify_dev", 0 }, { "colo_sock_sec_redirector0_id", 0 },
	{ "colo_sock_sec_redirector0_ip", 0 }, { "colo_sock_sec_redirector0_port", 0 },
	{ "colo_sock_sec_redirector1_id", 0 }, { "colo_sock_sec_redirector1_ip", 0 },
	{ "colo_sock_sec_redirector1_port", 0 }, { "colo_filter_sec_redirector0_queue", 0 },
	{ "colo_filter_sec_redirector0_indev", 0 }, { "colo_filter_sec_redirector0_outdev", 0 },
	{ "colo_filter_sec_redirector1_queue", 0 }, { "colo_filter_sec_redirector1_indev", 0 },
	{ "colo_filter_sec_redirector1_outdev", 0 }, { "colo_filter_sec_rewriter0_queue", 0 },
	{ "colo_checkpoint_host", 0 }, { "colo_checkpoint_port", 0 },
};

struct vpc {
	const char *spec;
	const struct kxl_loc *loc;
	struct kxl_diag *d;
	int err;
};

__attribute__((format(printf, 2, 3)))
static void verr(struct vpc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	kxl_diag_add(c->d, KXL_ERROR, c->loc, "vif spec `%s': %s (see xl-network-configuration(5))",
		     c->spec, m);
	free(m);
	c->err = 1;
}

__attribute__((format(printf, 2, 3)))
static void vwarn(struct vpc *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	kxl_diag_add(c->d, KXL_WARNING, c->loc, "vif spec `%s': %s; ignored, as xl does", c->spec, m);
	free(m);
}

static int rx_match(const char *re, const char *s)
{
	regex_t r;
	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB)) return 0;
	int ok = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return ok;
}

/* "RATE[@INTERVAL]": RATE is N[GMK](B|b)/s, INTERVAL N[m|u][s]. */
static int parse_rate(struct vpc *c, const char *rate, uint64_t *bytes, uint32_t *usecs)
{
	char *tmp = xstrdup(rate), *at = strchr(tmp, '@');
	uint64_t bps, interval = 50000;	/* 50 ms by default */
	int rc = -1;
	if (at) *at++ = 0;
	if (!*tmp) { verr(c, "no rate specified in `rate=%s'", rate); goto out; }
	if (!rx_match("^[0-9]+[GMK]?[Bb]/s$", tmp)) {
		verr(c, "invalid rate `%s' (expected N[GMK]B/s or N[GMK]b/s)", tmp);
		goto out;
	}
	char *p;
	errno = 0;
	bps = strtoull(tmp, &p, 0);
	if (bps == 0 || bps > UINT32_MAX || errno == ERANGE) {
		verr(c, "rate overflow in `%s' (1 to 4294967295 units per second)", tmp);
		goto out;
	}
	if (*p == 'G') bps *= 1000000000ULL;
	else if (*p == 'M') bps *= 1000000ULL;
	else if (*p == 'K') bps *= 1000ULL;
	if (*p == 'b' || p[1] == 'b') bps /= 8;
	if (at) {
		if (!rx_match("^[0-9]+[mu]?s?$", at)) {
			verr(c, "invalid replenishment interval `%s' (expected N[m|u]s)", at);
			goto out;
		}
		errno = 0;
		interval = strtoull(at, &p, 0);
		if (interval == 0 || interval > UINT32_MAX || errno == ERANGE) {
			verr(c, "replenishment interval overflow in `%s'", at);
			goto out;
		}
		if (*p == 's' || *p == 0) interval *= 1000000ULL;
		else if (*p == 'm') interval *= 1000ULL;
		if (interval > UINT32_MAX) {
			verr(c, "replenishment interval overflow in `%s'", at);
			goto out;
		}
	}
	if (interval && bps > UINT64_MAX / interval) {
		verr(c, "rate overflow in `%s'", rate);
		goto out;
	}
	*bytes = bps * interval / 1000000ULL;
	*usecs = (uint32_t)interval;
	rc = 0;
out:
	free(tmp);
	return rc;
}

static int parse_ulong(struct vpc *c, const char *key, const char *s, unsigned long *out)
{
	char *e;
	errno = 0;
	unsigned long v = strtoul(s, &e, 10);
	if (e == s || v == ULONG_MAX) {
		char *m = xasprintf("%s=%s", key, s);
		verr(c, "failed to convert `%s' to a number", m);
		free(m);
		return -1;
	}
	*out = v;
	return 0;
}

int kxl_vif_parse(const char *spec, struct json_object *nic,
		  const struct kxl_loc *loc, struct kxl_diag *d)
{
	struct vpc c = { .spec = spec, .loc = loc, .d = d };
	char *buf = xstrdup(spec), *save = NULL;
	const char *strs[ARRAY_SIZE(nic_strings)] = { 0 };
	char *owned[ARRAY_SIZE(nic_strings)] = { 0 };
	const char *nictype = NULL;
	int mac[6] = { 0 }, have_mac = 0, trusted = -1;
	long devid = -1, mtu = 0;
	uint64_t rate_bytes = 0;
	uint32_t rate_usecs = 0;

	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ') tok++;
		char *eq = strchr(tok, '=');
		size_t kl = eq ? (size_t)(eq - tok) : 0;
		const char *val = eq ? eq + 1 : NULL;
		int done = 0;
		if (eq) {
			for (size_t i = 0; i < ARRAY_SIZE(nic_strings); i++) {
				if (nic_strings[i].word[0] == tok[0] && !strncmp(tok, nic_strings[i].word, kl) &&
				    nic_strings[i].word[kl] == 0) {
					free(owned[i]);
					owned[i] = xstrdup(val);
					strs[i] = owned[i];
					done = 1;
					break;
				}
			}
		}
		if (done) continue;
		if (eq && kl == 4 && !strncmp(tok, "type", 4)) {
			if (!strcmp(val, "vif")) nictype = "vif";
			else if (!strcmp(val, "ioemu")) nictype = "vif_ioemu";
			else vwarn(&c, "invalid parameter `type=%s' (vif or ioemu)", val);
		} else if (eq && kl == 3 && !strncmp(tok, "mac", 3)) {
			const char *p = val;
			for (int i = 0; i < 6; i++) {
				char *e;
				unsigned long b = strtoul(p, &e, 16);
				if (e == p || b > 255) {
					vwarn(&c, "invalid parameter `mac=%s'", val);
					break;
				}
				mac[i] = (int)b;
				have_mac = 1;
				p = e + 1;
				if (e[0] == 0 && i < 5) {	/* xl reads past the end here; stop */
					vwarn(&c, "short `mac=%s'", val);
					break;
				}
			}
		} else if (eq && kl == 6 && !strncmp(tok, "netdev", 6)) {
			kxl_diag_add(d, KXL_DEPRECATED, loc,
				     "vif spec `%s': `netdev' is deprecated; use `gatewaydev'", spec);
			for (size_t i = 0; i < ARRAY_SIZE(nic_strings); i++)
				if (!strcmp(nic_strings[i].word, "gatewaydev")) {
					free(owned[i]);
					owned[i] = xstrdup(val);
					strs[i] = owned[i];
				}
		} else if (eq && kl == 4 && !strncmp(tok, "rate", 4)) {
			if (parse_rate(&c, val, &rate_bytes, &rate_usecs)) break;
		} else if (eq && kl == 5 && !strncmp(tok, "accel", 5)) {
			vwarn(&c, "the `accel=%s' parameter is not supported", val);
		} else if (eq && kl == 5 && !strncmp(tok, "devid", 5)) {
			unsigned long v;
			if (parse_ulong(&c, "devid", val, &v)) break;
			devid = (long)v;
		} else if (eq && kl == 3 && !strncmp(tok, "mtu", 3)) {
			unsigned long v;
			if (parse_ulong(&c, "mtu", val, &v)) break;
			mtu = (long)v;
		} else if (!strcmp(tok, "trusted")) {
			trusted = 1;
		} else if (!strcmp(tok, "untrusted")) {
			trusted = 0;
		} else {
			kxl_diag_add(d, KXL_WARNING, loc,
				     "vif spec `%s': unrecognized argument `%s'; ignored, as xl does "
				     "(see xl-network-configuration(5))", spec, tok);
		}
	}
	free(buf);

	if (!c.err) {
		struct json_object *o = nic;
		/* IDL order: backend_domname, devid, mtu, model, mac, ip, bridge, ifname,
		 * script, nictype, rate, gatewaydev, colo..., trusted */
		if (strs[0]) json_object_object_add(o, "backend_domname", json_object_new_string(strs[0]));
		if (devid >= 0) json_object_object_add(o, "devid", json_object_new_int64(devid));
		if (mtu) json_object_object_add(o, "mtu", json_object_new_int64(mtu));
		if (strs[1]) json_object_object_add(o, "model", json_object_new_string(strs[1]));
		if (have_mac && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {	/* zero: the IDL default */
			char m[18];
			snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x",
				 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
			json_object_object_add(o, "mac", json_object_new_string(m));
		}
		for (size_t i = 2; i <= 5; i++)
			if (strs[i]) json_object_object_add(o, nic_strings[i].field, json_object_new_string(strs[i]));
		if (nictype) json_object_object_add(o, "nictype", json_object_new_string(nictype));
		if (rate_bytes) json_object_object_add(o, "rate_bytes_per_interval", json_object_new_int64((int64_t)rate_bytes));
		if (rate_usecs) json_object_object_add(o, "rate_interval_usecs", json_object_new_int64(rate_usecs));
		for (size_t i = 6; i < ARRAY_SIZE(nic_strings); i++)
			if (strs[i])
				json_object_object_add(o, nic_strings[i].field ? nic_strings[i].field : nic_strings[i].word,
						       json_object_new_string(strs[i]));
		if (trusted >= 0) json_object_object_add(o, "trusted", json_object_new_string(trusted ? "True" : "False"));
	}
	for (size_t i = 0; i < ARRAY_SIZE(nic_strings); i++) free(owned[i]);
	return c.err ? -1 : 0;
}
