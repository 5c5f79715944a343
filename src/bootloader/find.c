/*
 * find.c: the boot loader's whole search, as the sandboxed child runs it.
 * Each filesystem in partition order (or the one at --offset) is searched
 * for a menu where pygrub searches, first found wins: GRUB 2's grub.cfg,
 * extlinux/isolinux, GRUB legacy's menu.lst/grub.conf, then Boot Loader
 * Specification entries (also where grub.cfg says `blscfg'). The chosen
 * entry's kernel goes to kfd and its ramdisks, concatenated, to rfd; or the
 * menu is listed (-l as text, or for the interactive menu as tab-separated
 * lines with control bytes replaced, which tmenu.c reads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include "bootloader/bl.h"
#include "util/util.h"

#define MAX_PARTS 128

static const struct { const char *path; enum bl_kind kind; } menus[] = {
	{ "/boot/grub/grub.cfg", BL_GRUB2 }, { "/grub/grub.cfg", BL_GRUB2 },
	{ "/boot/grub2/grub.cfg", BL_GRUB2 }, { "/grub2/grub.cfg", BL_GRUB2 },
	{ "/boot/isolinux/isolinux.cfg", BL_EXTLINUX },
	{ "/isolinux/isolinux.cfg", BL_EXTLINUX },	/* installer ISOs; pygrub does not look here */
	{ "/boot/extlinux/extlinux.conf", BL_EXTLINUX },
	{ "/boot/extlinux.conf", BL_EXTLINUX }, { "/extlinux/extlinux.conf", BL_EXTLINUX },
	{ "/extlinux.conf", BL_EXTLINUX },
	{ "/boot/grub/menu.lst", BL_GRUB1 }, { "/boot/grub/grub.conf", BL_GRUB1 },
	{ "/grub/menu.lst", BL_GRUB1 }, { "/grub/grub.conf", BL_GRUB1 },
};
static const char *const bls_dirs[] = { "/loader/entries", "/boot/loader/entries" };

static int disk_size(int fd, uint64_t *size, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "disk: %s", strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size) < 0) {
			snprintf(err, errlen, "disk: size: %s", strerror(errno));
			return -1;
		}
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "disk: neither a regular file nor a block device");
		return -1;
	}
	return 0;
}

/* Reads the BLS entries of fs into the menu at position at. */
static int add_bls(struct bl_fs *fs, struct bl_menu *m, int at, const char *env, size_t envlen,
		   char *err, size_t errlen)
{
	for (size_t d = 0; d < ARRAY_SIZE(bls_dirs); d++) {
		char *names;
		int n = bl_fs_list(fs, bls_dirs[d], &names, err, errlen);
		if (n < 0)
			continue;
		struct bl_menu b = { 0 };
		b.blscfg_at = -1;
		const char *p = names;
		int rc = 0;
		for (int i = 0; i < n && !rc; i++, p += strlen(p) + 1) {
			size_t l = strlen(p);
			if (l <= 5 || strcmp(p + l - 5, ".conf"))
				continue;
			char *path = xasprintf("%s/%s", bls_dirs[d], p), *buf;
			size_t len;
			if (bl_fs_read(fs, path, BL_CONFIG_MAX, &buf, &len, err, errlen) == 0) {
				rc = bl_parse_bls_entry(buf, len, p, env, envlen, &b, err, errlen);
				free(buf);
			} else {
				rc = -1;
			}
			free(path);
		}
		free(names);
		if (rc) {
			bl_menu_free(&b);
			return -1;
		}
		bl_bls_sort(&b);
		if (m->nentries + b.nentries > BL_MAX_ENTRIES) {
			snprintf(err, errlen, "more than %d boot entries", BL_MAX_ENTRIES);
			bl_menu_free(&b);
			return -1;
		}
		m->entries = xrealloc(m->entries, (size_t)(m->nentries + b.nentries + 1) * sizeof(*m->entries));
		memmove(&m->entries[at + b.nentries], &m->entries[at],
			(size_t)(m->nentries - at) * sizeof(*m->entries));
		if (b.nentries)	/* (an empty entries directory: b.entries is NULL) */
			memcpy(&m->entries[at], b.entries, (size_t)b.nentries * sizeof(*b.entries));
		m->nentries += b.nentries;
		free(b.entries);
		b.entries = NULL;
		b.nentries = 0;
		bl_menu_free(&b);
		return 1;
	}
	return 0;
}

/* Finds and parses the menu on fs: 1 found, 0 none, -1 error. */
static int read_menu(struct bl_fs *fs, struct bl_menu *m, const char **which, char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(menus); i++) {
		if (!bl_fs_exists(fs, menus[i].path)) {
			/* a menu that is there but not a regular file is an error */
			char e2[BL_ERRLEN];
			char *b;
			size_t l;
			if (bl_fs_read(fs, menus[i].path, BL_CONFIG_MAX, &b, &l, e2, sizeof(e2)) < 0 &&
			    !strstr(e2, "no such file")) {
				snprintf(err, errlen, "%s", e2);
				return -1;
			}
			continue;
		}
		char *buf, *env = NULL;
		size_t len, envlen = 0;
		*which = menus[i].path;
		if (bl_fs_read(fs, menus[i].path, BL_CONFIG_MAX, &buf, &len, err, errlen) < 0)
			return -1;
		int rc;
		if (menus[i].kind == BL_GRUB2) {
			char *envpath = xstrdup(menus[i].path);
			strcpy(strrchr(envpath, '/') + 1, "grubenv");
			char e2[BL_ERRLEN];
			if (bl_fs_read(fs, envpath, 64 * 1024, &env, &envlen, e2, sizeof(e2)) < 0)
				env = NULL;
			free(envpath);
			rc = bl_parse_grub2(buf, len, env, envlen, m, err, errlen);
			if (rc == 0 && (m->blscfg_at >= 0 || m->nentries == 0) &&
			    add_bls(fs, m, m->blscfg_at >= 0 ? m->blscfg_at : 0, m->vars, m->varslen, err, errlen) < 0)
				rc = -1;
		} else if (menus[i].kind == BL_EXTLINUX) {
			rc = bl_parse_extlinux(buf, len, m, err, errlen);
			/* SYSLINUX names files relative to the config's directory */
			char *dir = xstrndup(menus[i].path, (size_t)(strrchr(menus[i].path, '/') - menus[i].path));
			for (int k = 0; rc == 0 && k < m->nentries; k++) {
				struct bl_entry *e = &m->entries[k];
				if (e->kernel && e->kernel[0] != '/') {
					char *p = xasprintf("%s/%s", dir, e->kernel);
					free(e->kernel);
					e->kernel = p;
				}
				for (int j = 0; j < e->ninitrd; j++)
					if (e->initrd[j][0] != '/') {
						char *p = xasprintf("%s/%s", dir, e->initrd[j]);
						free(e->initrd[j]);
						e->initrd[j] = p;
					}
			}
			free(dir);
		} else {
			rc = bl_parse_grub1(buf, len, m, err, errlen);
		}
		free(buf);
		free(env);
		if (rc < 0) {
			bl_menu_free(m);	/* a menu parsed before a later step failed */
			return -1;
		}
		return 1;
	}
	/* No menu file: BLS entries alone, with grub2's grubenv if there is one. */
	char *env = NULL;
	size_t envlen = 0;
	char e2[BL_ERRLEN];
	if (bl_fs_read(fs, "/boot/grub2/grubenv", 64 * 1024, &env, &envlen, e2, sizeof(e2)) < 0 &&
	    bl_fs_read(fs, "/grub2/grubenv", 64 * 1024, &env, &envlen, e2, sizeof(e2)) < 0)
		env = NULL;
	memset(m, 0, sizeof(*m));
	m->blscfg_at = -1;
	m->timeout = -1;
	int r = add_bls(fs, m, 0, env, envlen, err, errlen);
	if (r > 0) {
		m->kind = BL_BLS;
		*which = "/loader/entries";
		char *se = env ? bl_grubenv_get(env, envlen, "saved_entry") : NULL;
		m->deflt = se;
	}
	free(env);
	return r;
}

static void list_entry(const struct bl_entry *e, const char *path, void *arg)
{
	int fd = *(int *)arg;
	dprintf(fd, "%s: %s\n  kernel: %s\n", path, e->title ? e->title : "",
		e->kernel ? e->kernel : "(none)");
	for (int i = 0; i < e->ninitrd; i++)
		dprintf(fd, "  initrd: %s\n", e->initrd[i]);
	dprintf(fd, "  args: %s\n", e->args ? e->args : "");
}

/* One entry of the interactive menu's list (tmenu.c reads it). */
struct menu_out { int fd; const struct bl_entry *deflt; const char *extra; };

static void menu_field(struct sbuf *b, const char *s)
{
	for (; s && *s; s++)
		sbuf_add(b, (unsigned char)*s < 0x20 || *s == 0x7f ? " " : s, 1);
}

static void menu_entry(const struct bl_entry *e, const char *path, void *arg)
{
	const struct menu_out *mo = arg;
	struct sbuf b = { 0 };
	sbuf_adds(&b, "entry\t");
	menu_field(&b, path);
	sbuf_printf(&b, "\t%d\t", e == mo->deflt);
	menu_field(&b, e->title);
	sbuf_adds(&b, "\t");
	/* the command line as it would boot: the entry's, then --args */
	menu_field(&b, e->args);
	if (mo->extra && *mo->extra) {
		if (e->args && *e->args)
			sbuf_adds(&b, " ");
		menu_field(&b, mo->extra);
	}
	sbuf_adds(&b, "\n");
	for (size_t done = 0; done < b.len;) {
		ssize_t w = write(mo->fd, b.s + done, b.len - done);
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	free(b.s);
}

static int join_args(const char *args, const char *extra, struct bl_choice *out, char *err,
		     size_t errlen);

static char *abs_path(const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("/%s", p);
}

static int deliver(struct bl_fs *fs, const char *kernel, char *const *initrd, int ninitrd,
		   const char *args, const char *extra, int kfd, int rfd, struct bl_choice *out,
		   char *err, size_t errlen)
{
	uint64_t ks = 0, rs = 0;
	char *k = abs_path(kernel);
	int rc = bl_fs_copy(fs, k, kfd, BL_KERNEL_MAX, &ks, err, errlen);
	snprintf(out->kernel, sizeof(out->kernel), "%s", k);
	free(k);
	if (rc < 0)
		return -1;
	out->kernel_size = ks;
	out->ramdisk[0] = 0;
	for (int i = 0; i < ninitrd; i++) {
		char *r = abs_path(initrd[i]);
		rc = bl_fs_copy(fs, r, rfd, BL_RAMDISK_MAX, &rs, err, errlen);
		size_t l = strlen(out->ramdisk);
		snprintf(out->ramdisk + l, sizeof(out->ramdisk) - l, "%s%s", i ? " " : "", r);
		free(r);
		if (rc < 0)
			return -1;
	}
	out->has_ramdisk = ninitrd > 0;
	out->ramdisk_size = rs;
	return join_args(args, extra, out, err, errlen);
}

/* The entry's arguments and --args into out->args, checked. */
static int join_args(const char *args, const char *extra, struct bl_choice *out, char *err,
		     size_t errlen)
{
	struct sbuf a = { 0 };
	sbuf_add(&a, "", 0);
	if (args)
		sbuf_adds(&a, args);
	if (extra && *extra) {
		if (a.len)
			sbuf_add(&a, " ", 1);
		sbuf_adds(&a, extra);
	}
	if (a.len >= BL_CMDLINE_MAX || strchr(a.s, '\n')) {
		snprintf(err, errlen, a.len >= BL_CMDLINE_MAX ? "the command line is longer than %d bytes" :
			 "the command line holds a newline", BL_CMDLINE_MAX - 1);
		free(a.s);
		return -1;
	}
	snprintf(out->args, sizeof(out->args), "%s", a.s);
	free(a.s);
	return 0;
}

/* --isconfig, pygrub's debugging aid: fd is a menu file that pygrub reads
 * as GRUB 2's grub.cfg (its first parser); the chosen entry's kernel,
 * ramdisks and arguments are named in out, and no file is read. */
static int from_config(int fd, const struct bl_request *rq, struct bl_choice *out,
		       char *err, size_t errlen)
{
	char *buf = xmalloc(BL_CONFIG_MAX + 1);
	size_t len = 0;
	while (len <= BL_CONFIG_MAX) {
		ssize_t r = pread(fd, buf + len, BL_CONFIG_MAX + 1 - len, (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "the configuration file: %s", strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > BL_CONFIG_MAX) {
		snprintf(err, errlen, "the configuration file is larger than %u bytes", BL_CONFIG_MAX);
		free(buf);
		return -1;
	}
	struct bl_menu m;
	char e[BL_ERRLEN];
	int rc = bl_parse_grub2(buf, len, NULL, 0, &m, e, sizeof(e));
	free(buf);
	const struct bl_entry *en = rc < 0 ? NULL : bl_menu_select(&m, rq->entry, e, sizeof(e));
	rc = -1;
	if (!en || !en->kernel) {
		snprintf(err, errlen, "%s", en ? "the chosen entry has no kernel" : e);
	} else if (join_args(en->args, rq->args, out, err, errlen) == 0) {
		snprintf(out->kernel, sizeof(out->kernel), "%s", en->kernel);
		for (int i = 0; i < en->ninitrd; i++) {
			size_t l = strlen(out->ramdisk);
			snprintf(out->ramdisk + l, sizeof(out->ramdisk) - l, "%s%s", i ? " " : "",
				 en->initrd[i]);
		}
		out->has_ramdisk = en->ninitrd > 0;
		rc = 0;
	}
	bl_menu_free(&m);
	return rc;
}

int bl_find(int fd, const struct bl_request *rq, int kfd, int rfd, struct bl_choice *out,
	    char *err, size_t errlen)
{
	uint64_t size;
	struct bl_part parts[MAX_PARTS];
	int n;
	char first_err[BL_ERRLEN] = "";

	memset(out, 0, sizeof(*out));
	if (rq->isconfig)
		return from_config(fd, rq, out, err, errlen);
	if (disk_size(fd, &size, err, errlen) < 0)
		return -1;
	if (rq->offset != UINT64_MAX) {
		if (rq->offset >= size) {
			snprintf(err, errlen, "--offset=%llu is past the end of the disk",
				 (unsigned long long)rq->offset);
			return -1;
		}
		parts[0].off = rq->offset;
		parts[0].size = size - rq->offset;
		parts[0].number = 0;
		n = 1;
	} else if ((n = bl_partitions(fd, size, parts, MAX_PARTS, err, errlen)) < 0) {
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct bl_fs *fs;
		char e[BL_ERRLEN];
		if (bl_fs_open(fd, &parts[i], &fs, e, sizeof(e)) < 0) {
			if (!*first_err || (strstr(first_err, "no filesystem") && !strstr(e, "no filesystem")))
				snprintf(first_err, sizeof(first_err), "%s", e);
			continue;
		}
		if (rq->kernel) {
			/* --kernel: the files named, no menu (as pygrub) */
			if (!bl_fs_exists(fs, rq->kernel)) {
				snprintf(first_err, sizeof(first_err), "%s: not found", rq->kernel);
				bl_fs_close(fs);
				continue;
			}
			char *rd[1] = { (char *)rq->ramdisk };
			int rc = deliver(fs, rq->kernel, rd, rq->ramdisk ? 1 : 0, NULL, rq->args,
					 kfd, rfd, out, err, errlen);
			bl_fs_close(fs);
			return rc;
		}
		struct bl_menu m;
		const char *which = NULL;
		int r = read_menu(fs, &m, &which, e, sizeof(e));
		if (r < 0) {
			snprintf(err, errlen, "%s", e);
			bl_fs_close(fs);
			return -1;
		}
		if (r == 0) {
			if (!*first_err || strstr(first_err, "no filesystem")) {
				if (parts[i].number)
					snprintf(first_err, sizeof(first_err), "no boot menu on partition %d",
						 parts[i].number);
				else
					snprintf(first_err, sizeof(first_err), "no boot menu on the whole disk");
			}
			bl_fs_close(fs);
			continue;
		}
		if (rq->list == BL_LIST_TEXT)
			bl_menu_list(&m, list_entry, (void *)&rq->listfd);
		const struct bl_entry *en = bl_menu_select(&m, rq->entry, e, sizeof(e));
		int rc = -1;
		if (en && rq->list == BL_LIST_MENU) {
			struct menu_out mo = { rq->listfd, en, rq->args };
			dprintf(mo.fd, "menu\t%d\n", m.timeout);
			bl_menu_list(&m, menu_entry, &mo);
		}
		if (!en)
			snprintf(err, errlen, "%s: %s", which, e);
		else if (rq->list)
			rc = 0;
		else if (rq->cmdline)
			rc = deliver(fs, en->kernel, en->initrd, en->ninitrd, rq->cmdline, NULL,
				     kfd, rfd, out, err, errlen);
		else
			rc = deliver(fs, en->kernel, en->initrd, en->ninitrd, en->args, rq->args,
				     kfd, rfd, out, err, errlen);
		bl_menu_free(&m);
		bl_fs_close(fs);
		return rc;
	}
	snprintf(err, errlen, "%s", *first_err ? first_err : "no filesystem with a boot menu found");
	return -1;
}
