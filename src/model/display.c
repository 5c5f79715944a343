/*
 * display.c: the graphics keys: the top-level vnc and sdl options (a vfb for
 * pv guests, the device model's console for hvm), vga/stdvga, gfx_passthru,
 * serial and usbdevice (a string or a list), and xl's vnclisten check.
 */
#include "model/handlers.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

/* The rows of a vnc_info (D_VNC) or sdl_info (D_SDL), into o. */
static void info_opts(struct mctx *m, enum key_dest dest, json_object *o)
{
	const struct key *keys;
	size_t n = m_keys(&keys);
	for (size_t i = 0; i < n; i++)
		if (keys[i].dest == dest) m_apply_into(m, &keys[i], o);
}

static void vnc_opts(struct mctx *m, json_object *vnc)
{
	info_opts(m, D_VNC, vnc);
}

static void sdl_opts(struct mctx *m, json_object *sdl)
{
	info_opts(m, D_SDL, sdl);
}

void h_vnc_sdl(struct mctx *m, const struct key *key)
{
	json_object *vfbs;
	bool have_vfb = json_object_object_get_ex(m->root, "vfbs", &vfbs) && json_object_array_length(vfbs);
	if (m->type == T_PV && !have_vfb) {
		long l = 0;
		if (!m_long(m, key->name, false, &l) && l) {
			json_object *fb = json_object_new_object(), *kb = json_object_new_object();
			j_int(fb, "devid", 0);
			j_int(kb, "devid", 0);
			json_object_array_add(j_arr(m->root, "vfbs"), fb);
			json_object_array_add(j_arr(m->root, "vkbs"), kb);
			vnc_opts(m, j_obj(fb, "vnc"));
			sdl_opts(m, j_obj(fb, "sdl"));
			m_replace_string(m, "keymap", false, fb, "keymap");
		}
	} else if (m->type == T_HVM) {
		vnc_opts(m, j_obj(m->type_obj, "vnc"));
		sdl_opts(m, j_obj(m->type_obj, "sdl"));
	}
}

void h_vga(struct mctx *m, const struct key *key)
{
	const char *s;
	long l;
	json_object *vga = j_obj(m_dest(m, key), key->field);	/* a vga_interface_info */
	if (!m_string(m, key->name, false, &s)) {
		int i = m_enum_index(key, s);
		if (i >= 0) {
			j_str(vga, "kind", m_enum_idl(key, i));
		} else {
			char *vals = m_enum_list(key);
			m_error(m, key->name, "unknown %s \"%s\" specified (%s)", key->name, s, vals);
			free(vals);
		}
	} else if (!m_long(m, "stdvga", false, &l)) {
		/* the old form: 1 is stdvga, 0 cirrus (the row's values 0 and 1) */
		j_str(vga, "kind", m_enum_idl(key, l ? 0 : 1));
	}
}

void h_gfx_passthru(struct mctx *m, const struct key *key)
{
	long l;
	const char *s;
	if (!m_long(m, "gfx_passthru", true, &l)) {
		j_defbool(m->type_obj, "gfx_passthru", l != 0);
	} else if (!m_string(m, "gfx_passthru", false, &s)) {
		if (!strcasecmp(s, "igd")) j_str(m->type_obj, "gfx_passthru_kind", "igd");
		else if (strcasecmp(s, "default")) { m_error(m, "gfx_passthru", "invalid value \"%s\" for \"gfx_passthru\" (default, igd)", s); return; }
		j_defbool(m->type_obj, "gfx_passthru", true);
	}
}

/* serial and usbdevice: a list, or a single string */
void h_strlist_or_string(struct mctx *m, const struct key *key)
{
	const struct kxl_cfg_value *list;
	int e = m_list(m, key->name, true, &list);
	if (!e) {
		json_object *a = j_arr(m_dest(m, key), key->list_field);
		for (size_t i = 0; i < list->n; i++)
			if (list->items[i]->type == KXL_CFG_STRING)
				json_object_array_add(a, json_object_new_string(list->items[i]->str));
	} else if (e == EINVAL) {
		m_replace_string(m, key->name, false, m_dest(m, key), key->field);
	}
}

void h_vnc_check(struct mctx *m, const struct key *key)
{
	json_object *vnc, *listen, *disp;
	if (json_object_object_get_ex(m->type_obj, "vnc", &vnc) &&
	    json_object_object_get_ex(vnc, "listen", &listen) &&
	    json_object_object_get_ex(vnc, "display", &disp) &&
	    strchr(json_object_get_string(listen), ':'))
		m_error(m, "vnclisten", "display specified both in vnclisten and vncdisplay");
}

