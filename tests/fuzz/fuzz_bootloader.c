/*
 * fuzz_bootloader.c: libFuzzer target for one of the bootloader's menu
 * parsers (src/bootloader), chosen at build time: -DFUZZ_GRUB2 (the input
 * up to its first NUL byte is grub.cfg, the rest grubenv), -DFUZZ_EXTLINUX,
 * -DFUZZ_GRUB1 or -DFUZZ_BLS (the input is one entry file, then the
 * grubenv after a NUL). Any bytes give a menu or an error; the entry
 * selection and the listing run on every menu.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bootloader/bl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(const struct bl_entry *e, const char *path, void *arg)
{
	*(size_t *)arg += strlen(path) + (e->title ? strlen(e->title) : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	size_t len = strlen(s);
	const char *env = len < size ? s + len + 1 : NULL;
	size_t envlen = env ? size - len - 1 : 0;
	(void)envlen;	/* extlinux and grub1 take no grubenv */
	struct bl_menu m;
	char err[BL_ERRLEN];
	int r;
#if defined(FUZZ_GRUB2)
	r = bl_parse_grub2(s, len, env, envlen, &m, err, sizeof(err));
#elif defined(FUZZ_EXTLINUX)
	r = bl_parse_extlinux(s, size, &m, err, sizeof(err));
#elif defined(FUZZ_GRUB1)
	r = bl_parse_grub1(s, size, &m, err, sizeof(err));
#else
	memset(&m, 0, sizeof(m));
	r = bl_parse_bls_entry(s, len, "x-1.0.conf", env, envlen, &m, err, sizeof(err));
	if (!r) {
		bl_bls_sort(&m);
		m.deflt = env ? bl_grubenv_get(env, envlen, "saved_entry") : NULL;
	}
#endif
	if (r == 0) {
		size_t n = 0;
		bl_menu_list(&m, count, &n);
		bl_menu_select(&m, NULL, err, sizeof(err));
		bl_menu_select(&m, "1>0", err, sizeof(err));
		bl_menu_free(&m);
	}
#if !defined(FUZZ_GRUB2) && !defined(FUZZ_EXTLINUX) && !defined(FUZZ_GRUB1)
	else
		bl_menu_free(&m);	/* a BLS menu keeps the entries parsed before an error */
#endif
	free(s);
	return 0;
}
