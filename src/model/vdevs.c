/*
 * vdevs.c: the virtual display (vdispl) and virtual sound (vsnd) keys, as
 * xl reads them: a vdispl entry is "backend=,be-alloc=,connectors=ID:WxH;...",
 * a vsnd entry is a list of "card, ...", "pcm, ..." and "stream, ..." items
 * that build the card's PCM devices and their streams in order.
 */
#include "model/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

static int vdispl_entry(struct mctx *m, const struct kxl_cfg_value *v, json_object *o)
{
	struct kxl_loc l = m_value_loc(v);
	json_object *conns = NULL;
	char *buf = xstrdup(v->str), *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t && !m->failed; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ') t++;
		if (!strncmp(t, "backend=", 8)) j_str(o, "backend_domname", t + 8);
		else if (!strncmp(t, "be-alloc=", 9)) { if (strtoul(t + 9, NULL, 0)) j_bool(o, "be_alloc", true); }
		else if (!strncmp(t, "connectors=", 11)) {
			if (conns) json_object_object_del(o, "connectors");
			conns = j_arr(o, "connectors");
			char *s2 = NULL;
			for (char *c = strtok_r(t + 11, ";", &s2); c; c = strtok_r(NULL, ";", &s2)) {
				char *colon = strchr(c, ':');
				unsigned w, h;
				if (!colon || sscanf(colon + 1, "%ux%u", &w, &h) != 2) {
					m_error_at(m, &l, "vdispl spec `%s': can't parse connector "
						     "resolution in `%s' (ID:WIDTHxHEIGHT)", v->str, c);
					break;
				}
				*colon = 0;
				json_object *cp = json_object_new_object();
				j_str(cp, "unique_id", c);
				j_int(cp, "width", w);
				j_int(cp, "height", h);
				json_object_array_add(conns, cp);
			}
		} else {
			m_error_at(m, &l, "unknown string \"%s\" in vdispl spec `%s' "
				     "(backend, be-alloc, connectors)", t, v->str);
		}
	}
	free(buf);
	if (m->failed) return -1;
	if (!conns || !json_object_array_length(conns)) {
		m_error_at(m, &l, "vdispl spec `%s': at least one connector should be "
			     "specified", v->str);
		return -1;
	}
	return m->failed ? -1 : 0;
}

void h_vdispl(struct mctx *m, const struct key *key)
{
	m_each_entry(m, key, true, vdispl_entry);
}

static const char *const pcm_formats[] = { "s8", "u8", "s16_le", "s16_be", "u16_le", "u16_be",
	"s24_le", "s24_be", "u24_le", "u24_be", "s32_le", "s32_be", "u32_le", "u32_be", "f32_le",
	"f32_be", "f64_le", "f64_be", "iec958_subframe_le", "iec958_subframe_be", "mu_law", "a_law",
	"ima_adpcm", "mpeg", "gsm" };

/* sample-rates, sample-formats, channels-min/max, buffer-size: 1 handled,
 * 0 not one of these, -1 error */
static int vsnd_params(struct mctx *m, const struct kxl_loc *l, json_object *params, const char *t)
{
	const char *eq = strchr(t, '=');
	if (!eq) return 0;
	size_t kl = (size_t)(eq - t);
	const char *val = eq + 1;
#define K(s) (kl == strlen(s) && !strncmp(t, s, kl))
	if (K("sample-rates") || K("sample-formats")) {
		bool rates = K("sample-rates");
		json_object *a = json_object_new_array();
		json_object_object_add(params, rates ? "sample_rates" : "sample_formats", a);
		char *buf = xstrdup(val), *save = NULL;
		for (char *x = strtok_r(buf, ";", &save); x; x = strtok_r(NULL, ";", &save)) {
			if (rates) { json_object_array_add(a, json_object_new_int64((int64_t)strtoul(x, NULL, 0))); continue; }
			size_t f;
			for (f = 0; f < ARRAY_SIZE(pcm_formats); f++)
				if (!strcasecmp(x, pcm_formats[f])) break;
			if (f == ARRAY_SIZE(pcm_formats)) {
				m_error_at(m, l, "invalid pcm format: %s", x);
				free(buf);
				return -1;
			}
			json_object_array_add(a, json_object_new_string(pcm_formats[f]));
		}
		free(buf);
		return 1;
	}
	const char *field = K("channels-min") ? "channels_min" : K("channels-max") ? "channels_max" :
			    K("buffer-size") ? "buffer_size" : NULL;
#undef K
	if (!field) return 0;
	unsigned long x = strtoul(val, NULL, 0);
	if (x) j_int(params, field, (int64_t)x);
	return 1;
}

static int vsnd_item(struct mctx *m, const struct kxl_loc *l, json_object *card, const char *spec)
{
	char *buf = xstrdup(spec), *save = NULL, *key = NULL;
	int rc = 0;
	json_object *pcms = NULL, *pcm = NULL, *stream = NULL;
	json_object_object_get_ex(card, "pcms", &pcms);
	for (char *t = strtok_r(buf, ",", &save); t && !rc; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ') t++;
		if (!key) {
			key = t;
			if (!strcasecmp(key, "card")) continue;
			if (!pcms) pcms = j_arr(card, "pcms");
			size_t np = json_object_array_length(pcms);
			if (!strcasecmp(key, "pcm") || (!strcasecmp(key, "stream") && np == 0)) {
				json_object *p = json_object_new_object();
				j_obj(p, "params");
				json_object_array_add(pcms, p);
				np++;
			}
			pcm = json_object_array_get_idx(pcms, np - 1);
			if (!strcasecmp(key, "stream")) {
				stream = json_object_new_object();
				j_obj(stream, "params");
				json_object_array_add(j_arr(pcm, "streams"), stream);
			} else if (strcasecmp(key, "pcm")) {
				m_error_at(m, l, "invalid vsnd item `%s' (card, pcm or stream)", key);
				rc = -1;
			}
			continue;
		}
		json_object *target = !strcasecmp(key, "card") ? card : !strcasecmp(key, "pcm") ? pcm : stream;
		int r = vsnd_params(m, l, j_obj(target, "params"), t);
		if (r < 0) { rc = -1; break; }
		if (r) continue;
		if (target == card && !strncmp(t, "backend=", 8)) j_str(card, "backend_domname", t + 8);
		else if (target == card && !strncmp(t, "short-name=", 11)) j_str(card, "short_name", t + 11);
		else if (target == card && !strncmp(t, "long-name=", 10)) j_str(card, "long_name", t + 10);
		else if (target == pcm && !strncmp(t, "name=", 5)) j_str(pcm, "name", t + 5);
		else if (target == stream && !strncmp(t, "unique-id=", 10)) j_str(stream, "unique_id", t + 10);
		else if (target == stream && !strncmp(t, "type=", 5)) {
			if (!strcasecmp(t + 5, "p") || !strcasecmp(t + 5, "c")) j_str(stream, "type", !strcasecmp(t + 5, "p") ? "p" : "c");
			else { m_error_at(m, l, "invalid vsnd stream type: %s (p or c)", t + 5); rc = -1; }
		} else {
			m_error_at(m, l, "invalid vsnd %s parameter: %s", key, t);
			rc = -1;
		}
	}
	free(buf);
	return rc;
}

void h_vsnd(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	if (m_list(m, key->name, false, &list)) return;
	json_object *arr = j_arr(m_dest(m, key), key->field);
	for (size_t i = 0; i < list->n; i++) {
		const struct kxl_cfg_value *cv = list->items[i];
		struct kxl_loc l = m_value_loc(cv);
		if (cv->type != KXL_CFG_LIST) {
			m_error_at(m, &l, "a vsnd card must be a list of \"card, ...\", \"pcm, ...\" "
				     "and \"stream, ...\" items");
			return;
		}
		json_object *card = json_object_new_object();
		j_int(card, "devid", (int64_t)i);
		j_obj(card, "params");
		json_object_array_add(arr, card);
		for (size_t k = 0; k < cv->n && cv->items[k]->type == KXL_CFG_STRING; k++) {
			struct kxl_loc il = m_value_loc(cv->items[k]);
			if (vsnd_item(m, &il, card, cv->items[k]->str)) { m->failed = true; return; }
		}
	}
}
