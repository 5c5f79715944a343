/*
 * display.c: the guest's screen and how the host sees it: VNC (as libxl
 * builds -vnc; the password is set through QMP once QEMU runs, never on
 * the command line), SDL, the keymap, nographic, and the emulated graphics
 * card with its video memory.
 */
#include "dm/dm-int.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

void dm_fam_display(struct dm *m)
{
	json_object *vnc = dm_get(m->h, "vnc"), *sdl = dm_get(m->h, "sdl");
	bool von = dm_bool(vnc, "enable", false), son = dm_bool(sdl, "enable", false);
	if (von) {
		const char *listen = dm_gets(vnc, "listen");
		int64_t display = dm_int(vnc, "display", 0);
		struct sbuf s = { 0 };
		if (listen && strchr(listen, ':')) {
			if (display) {
				dm_msg(m, KXL_ERROR, "vncdisplay", "vncdisplay set, vnclisten contains "
				       "display (as libxl refuses)");
				return;
			}
			sbuf_adds(&s, listen);
		} else {
			sbuf_printf(&s, "%s:%lld", listen ? listen : "127.0.0.1", (long long)display);
		}
		const char *pw = dm_gets(vnc, "passwd");
		if (pw && *pw)
			sbuf_adds(&s, ",password=on");	/* the password itself: QMP */
		/* vncunused: libxl means "the display and the 99 after it" and
		 * writes to=99, but QEMU's to= is the last display itself: the
		 * same for display 0, and what libxl means for the others. Last
		 * of the options, as libxl says. */
		if (dm_bool(vnc, "findunused", false))
			sbuf_printf(&s, ",to=%lld", (long long)display + 99);
		dm_pair(m, "-vnc", s.s);
		free(s.s);
	} else {
		dm_pair(m, "-vnc", "none");
	}
	dm_pair(m, "-display", "none");
	if (son) {
		dm_pair(m, "-display", dm_bool(sdl, "opengl", false) ? "sdl,gl=on" : "sdl");
		if (dm_gets(sdl, "display") || dm_gets(sdl, "xauthority"))
			dm_msg(m, KXL_NOTE, dm_gets(sdl, "display") ? "display" : "xauthority",
			       "SDL: QEMU gets DISPLAY and XAUTHORITY from the environment kxl starts it in");
	}
	const char *keymap = dm_gets(m->h, "keymap");
	if (!keymap) keymap = dm_gets(vnc, "keymap");
	if (keymap) dm_pair(m, "-k", keymap);
	if (dm_bool(m->h, "nographic", false) && !von && !son)
		dm_add(m, "-nographic");
	if (dm_bool(dm_get(m->h, "spice"), "enable", false))
		dm_msg(m, KXL_ERROR, "spice", "spice: not supported by kxl yet (Debian's QEMU has it in "
		       "qemu-system-modules-spice, and its password would need QMP): use vnc");
}

/* vga: libxl's device and its smallest video memory for qemu-xen */
static const struct { const char *kind, *device; int64_t min_kb; } vgas[] = {
	{ "std", "VGA", 16 * 1024 },
	{ "cirrus", "cirrus-vga", 8 * 1024 },
	{ "qxl", "qxl-vga", 128 * 1024 },
	{ "none", NULL, 0 },
};

void dm_fam_vga(struct dm *m)
{
	const char *kind = dm_gets(dm_get(m->h, "vga"), "kind");
	int64_t kb = dm_int(m->b, "video_memkb", 0);
	for (size_t i = 0; kind && i < ARRAY_SIZE(vgas); i++) {
		if (strcmp(kind, vgas[i].kind)) continue;
		if (!vgas[i].device) return;
		if (kb < vgas[i].min_kb) {
			dm_msg(m, KXL_ERROR, "videoram", "videoram must be at least %lld MB for %s (as libxl "
			       "requires)", (long long)(vgas[i].min_kb >> 10), kind);
			return;
		}
		if (!strcmp(kind, "qxl"))	/* two regions, half each (libxl) */
			dm_pairf(m, "-device", "%s,vram_size_mb=%lld,ram_size_mb=%lld", vgas[i].device,
				 (long long)(kb / 2 / 1024), (long long)(kb / 2 / 1024));
		else
			dm_pairf(m, "-device", "%s,vgamem_mb=%lld", vgas[i].device,
				 (long long)((kb + 1023) / 1024));
		return;
	}
	dm_msg(m, KXL_ERROR, "vga", "vga = \"%s\": not an emulated graphics card QEMU has",
	       kind ? kind : "");
}
