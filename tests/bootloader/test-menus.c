/*
 * test-menus.c: unit tests of the bootloader's menu parsers (pure functions
 * over buffers): which entry boots, its kernel, ramdisks and command line,
 * for GRUB 2 (defaults by number, title, id and submenu path, saved_entry,
 * variables, if/else, several initrds, device prefixes), extlinux, GRUB
 * legacy and BLS, and the errors for broken input. TAP output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bootloader/bl.h"

static int n, failed;

static void ok(int cond, const char *name, const char *detail)
{
	n++;
	printf("%s %d - %s%s%s\n", cond ? "ok" : "not ok", n, name, detail ? ": " : "", detail ? detail : "");
	if (!cond)
		failed++;
}

static int streq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Parses with kind, selects want, and checks kernel/initrds/args (initrds
 * space-joined; NULL args = none). expect_kernel NULL = expect an error. */
static void check(const char *name, enum bl_kind kind, const char *cfg, const char *env,
		  const char *want, const char *ek, const char *ei, const char *ea)
{
	struct bl_menu m;
	char err[BL_ERRLEN] = "";
	int r;
	switch (kind) {
	case BL_GRUB2: r = bl_parse_grub2(cfg, strlen(cfg), env, env ? strlen(env) : 0, &m, err, sizeof(err)); break;
	case BL_EXTLINUX: r = bl_parse_extlinux(cfg, strlen(cfg), &m, err, sizeof(err)); break;
	case BL_GRUB1: r = bl_parse_grub1(cfg, strlen(cfg), &m, err, sizeof(err)); break;
	default:
		memset(&m, 0, sizeof(m));
		r = bl_parse_bls_entry(cfg, strlen(cfg), "fedora-6.5.conf", env, env ? strlen(env) : 0, &m, err, sizeof(err));
		if (!r)
			r = bl_parse_bls_entry("title Old\nlinux /vmlinuz-6.1\n", 28, "fedora-6.1.conf", env, 0, &m, err, sizeof(err));
		bl_bls_sort(&m);
		if (!r && env)
			m.deflt = bl_grubenv_get(env, strlen(env), "saved_entry");
		break;
	}
	if (r < 0) {
		ok(ek == NULL, name, err);
		return;
	}
	const struct bl_entry *e = bl_menu_select(&m, want, err, sizeof(err));
	if (!e) {
		ok(ek == NULL, name, err);
		bl_menu_free(&m);
		return;
	}
	char initrds[1024] = "";
	for (int i = 0; i < e->ninitrd; i++) {
		strcat(initrds, i ? " " : "");
		strncat(initrds, e->initrd[i], 200);
	}
	char detail[2048];
	snprintf(detail, sizeof(detail), "kernel=%s initrd=%s args=%s", e->kernel, initrds,
		 e->args ? e->args : "(none)");
	ok(ek && streq(e->kernel, ek) && !strcmp(initrds, ei) && streq(e->args, ea), name, detail);
	bl_menu_free(&m);
}

static const char debian[] =
	"# DO NOT EDIT\n"
	"if [ -s $prefix/grubenv ]; then\n  set have_grubenv=true\n  load_env\nfi\n"
	"if [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\n   set next_entry=\n"
	"else\n   set default=\"0\"\nfi\n"
	"if [ x\"${feature_menuentry_id}\" = xy ]; then\n  menuentry_id_option=\"--id\"\n"
	"else\n  menuentry_id_option=\"\"\nfi\n"
	"export menuentry_id_option\n"
	"function load_video {\n  if [ x$feature_all_video_module = xy ]; then\n    insmod all_video\n  fi\n}\n"
	"set vt_handoff=vt.handoff=7\n"
	"menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple-1234' {\n"
	"\tload_video\n\tinsmod ext2\n\tset root='hd0,msdos1'\n"
	"\tif [ x$feature_platform_search_hint = xy ]; then\n\t  search --no-floppy --fs-uuid --set=root 1234\n\telse\n\t  search 1234\n\tfi\n"
	"\techo\t'Loading Linux 6.1.0-18-amd64 ...'\n"
	"\tlinux\t/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro  quiet $vt_handoff\n"
	"\tinitrd\t/boot/initrd.img-6.1.0-18-amd64\n}\n"
	"submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {\n"
	"\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-18-amd64-advanced-1234' {\n"
	"\t\tlinux\t/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro  quiet\n\t\tinitrd\t/boot/initrd.img-6.1.0-18-amd64\n\t}\n"
	"\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64 (recovery mode)' --class debian $menuentry_id_option 'gnulinux-6.1.0-18-amd64-recovery-1234' {\n"
	"\t\tlinux\t/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro single\n\t\tinitrd\t/boot/initrd.img-6.1.0-18-amd64\n\t}\n"
	"\tmenuentry 'Debian GNU/Linux, with Linux 5.10.0-28-amd64' --class debian $menuentry_id_option 'gnulinux-5.10.0-28-amd64-advanced-1234' {\n"
	"\t\tlinux\t(hd0,gpt2)/boot/vmlinuz-5.10.0-28-amd64 root=UUID=1234 ro  quiet\n\t\tinitrd\t/boot/intel-ucode.img (hd0,gpt2)/boot/initrd.img-5.10.0-28-amd64\n\t}\n"
	"}\n"
	"if [ \"${grub_platform}\" = \"efi\" ]; then\n  menuentry 'UEFI Firmware Settings' --id 'uefi-firmware' {\n\tfwsetup\n  }\nfi\n";

int main(void)
{
	const char *k6 = "/boot/vmlinuz-6.1.0-18-amd64", *i6 = "/boot/initrd.img-6.1.0-18-amd64";
	check("grub2 debian default 0, $vt_handoff expanded", BL_GRUB2, debian, NULL, NULL, k6, i6,
	      "root=UUID=1234 ro  quiet vt.handoff=7");
	check("grub2 submenu path by index", BL_GRUB2, debian, NULL, "1>1", k6, i6, "root=UUID=1234 ro single");
	check("grub2 submenu path by title", BL_GRUB2, debian, NULL,
	      "Advanced options for Debian GNU/Linux>Debian GNU/Linux, with Linux 5.10.0-28-amd64",
	      "/boot/vmlinuz-5.10.0-28-amd64", "/boot/intel-ucode.img /boot/initrd.img-5.10.0-28-amd64",
	      "root=UUID=1234 ro  quiet");
	check("grub2 submenu path by id", BL_GRUB2, debian, NULL,
	      "gnulinux-advanced-1234>gnulinux-6.1.0-18-amd64-recovery-1234", k6, i6, "root=UUID=1234 ro single");
	check("grub2 next_entry from grubenv", BL_GRUB2, debian,
	      "# GRUB Environment Block\nnext_entry=gnulinux-advanced-1234>gnulinux-6.1.0-18-amd64-recovery-1234\n####",
	      NULL, k6, i6, "root=UUID=1234 ro single");
	check("grub2 efi-only entry absent (index 2 does not exist)", BL_GRUB2, debian, NULL, "2", NULL, NULL, NULL);
	check("grub2 submenu as default boots its first entry", BL_GRUB2, debian, NULL, "1", k6, i6,
	      "root=UUID=1234 ro  quiet");
	const char *saved =
		"load_env\nset default=\"${saved_entry}\"\nset timeout=5\n"
		"menuentry \"A\" --id a {\n linux16 /a x=1\n initrd16 /ia\n}\n"
		"menuentry \"B\" --id=b {\n linuxefi /b y=2\n initrdefi /ib1 /ib2\n}\n";
	check("grub2 saved_entry by id, linuxefi, two initrds", BL_GRUB2, saved, "saved_entry=b\n", NULL, "/b",
	      "/ib1 /ib2", "y=2");
	check("grub2 saved_entry by title, linux16", BL_GRUB2, saved, "saved_entry=A\n", NULL, "/a", "/ia", "x=1");
	check("grub2 unknown default falls back to 0", BL_GRUB2, saved, "saved_entry=zzz\n", NULL, "/a", "/ia", "x=1");
	check("grub2 late expansion: entry sees the final value", BL_GRUB2,
	      "set o=early\nmenuentry x {\nlinux /k $o ${o}\n}\nset o=late\n", NULL, NULL, "/k", "", "late late");
	check("grub2 quotes and ; on one line", BL_GRUB2,
	      "menuentry 'one line' { linux /k a=\"b c\" ; initrd /i; }\n", NULL, NULL, "/k", "/i", "a=\"b c\"");
	check("grub2 kernelopts (Fedora)", BL_GRUB2,
	      "set kernelopts=\"root=/dev/vda2 ro\"\nmenuentry F {\nlinux /vmlinuz $kernelopts rhgb\n}\n",
	      NULL, NULL, "/vmlinuz", "", "root=/dev/vda2 ro rhgb");
	check("grub2 no args", BL_GRUB2, "menuentry x {\nlinux /k\n}\n", NULL, NULL, "/k", "", NULL);
	check("grub2 unterminated quote is an error", BL_GRUB2, "menuentry 'x {\n", NULL, NULL, NULL, NULL, NULL);
	check("grub2 unclosed entry is an error", BL_GRUB2, "menuentry x {\nlinux /k\n", NULL, NULL, NULL, NULL, NULL);
	check("grub2 stray } is an error", BL_GRUB2, "}\n", NULL, NULL, NULL, NULL, NULL);
	check("grub2 empty menu", BL_GRUB2, "set timeout=1\n", NULL, NULL, NULL, NULL, NULL);
	check("grub2 --entry that names nothing", BL_GRUB2, saved, NULL, "nope", NULL, NULL, NULL);
	check("extlinux DEFAULT label, INITRD list, APPEND", BL_EXTLINUX,
	      "DEFAULT linux\nTIMEOUT 50\nLABEL rescue\n  KERNEL /r\nLABEL linux\n  MENU LABEL Linux\n"
	      "  LINUX /boot/vmlinuz\n  INITRD /boot/a.img,/boot/b.img\n  APPEND root=/dev/xvda1 ro\n",
	      NULL, NULL, "/boot/vmlinuz", "/boot/a.img /boot/b.img", "root=/dev/xvda1 ro");
	check("extlinux initrd= in APPEND, MENU DEFAULT", BL_EXTLINUX,
	      "label a\nkernel /a\nlabel b\nmenu default\nkernel /b\nappend initrd=/ib console=hvc0\n",
	      NULL, NULL, "/b", "/ib", "console=hvc0");
	check("grub legacy default 1, (hd0,0) prefix", BL_GRUB1,
	      "default=1\ntimeout 5\ntitle Old\n root (hd0,0)\n kernel /old ro\ntitle CentOS (2.6.32)\n"
	      " root (hd0,0)\n kernel (hd0,0)/vmlinuz-2.6.32 ro root=/dev/xvda2  console=hvc0\n initrd /initramfs-2.6.32.img\n",
	      NULL, NULL, "/vmlinuz-2.6.32", "/initramfs-2.6.32.img", "ro root=/dev/xvda2  console=hvc0");
	check("grub legacy --entry by title", BL_GRUB1, "title A\nkernel /a\ntitle B\nkernel /b x\n", NULL, "B",
	      "/b", "", "x");
	check("BLS newest first, $kernelopts, two options lines", BL_BLS,
	      "title Fedora (6.5)\nversion 6.5\nlinux /vmlinuz-6.5\ninitrd /initramfs-6.5.img\n"
	      "options $kernelopts\noptions rhgb\n",
	      "# GRUB Environment Block\nkernelopts=root=UUID=9 ro\n", NULL, "/vmlinuz-6.5", "/initramfs-6.5.img",
	      "root=UUID=9 ro rhgb");
	check("BLS saved_entry picks the older", BL_BLS, "title New\nlinux /vmlinuz-6.5\n",
	      "saved_entry=fedora-6.1\n", NULL, "/vmlinuz-6.1", "", NULL);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
