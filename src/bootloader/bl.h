/*
 * bl.h: kxl's bootloader (issue 16), the pygrub replacement. Menus are
 * parsed by pure functions over a buffer (grub2.c, extlinux.c, grub1.c,
 * bls.c) into one menu model (menu.c); disk.c finds the partitions with
 * libblkid and reads ext2/3/4 through libext2fs over the image descriptor,
 * and ISO 9660 through libiso9660 (iso.c);
 * sandbox.c runs all of that in a deprivileged child; export.c reads QEMU's
 * image formats through qemu-storage-daemon; tmenu.c is the interactive
 * menu; boot.c is kxl create's use of it all (include/kxl/bootloader.h).
 * Library code: every function reports errors through its return value
 * and a message buffer.
 */
#ifndef KXL_BL_H
#define KXL_BL_H
#include <stddef.h>
#include <stdint.h>

#include "util/qsd.h"

#define BL_KERNEL_MAX   (256ull << 20)
#define BL_RAMDISK_MAX  (1ull << 30)
#define BL_CONFIG_MAX   (1u << 20)
#define BL_CMDLINE_MAX  4096		/* Linux's x86 COMMAND_LINE_SIZE */
#define BL_MAX_ENTRIES  1024
#define BL_MAX_INITRDS  16
#define BL_ERRLEN       256

enum bl_kind { BL_GRUB2, BL_EXTLINUX, BL_GRUB1, BL_BLS };

struct bl_entry {
	char *title;		/* as shown in the menu */
	char *id;		/* GRUB --id / BLS file name stem, or NULL */
	char *kernel;		/* path inside the filesystem, device prefix removed */
	char *initrd[BL_MAX_INITRDS];
	int ninitrd;
	char *args;		/* command line after the kernel path, or NULL */
	int is_submenu;		/* GRUB 2: a submenu; children below */
	struct bl_entry *children;
	int nchildren;
};

struct bl_menu {
	enum bl_kind kind;
	struct bl_entry *entries;	/* top level, as the boot loader counts them */
	int nentries;
	char *deflt;		/* default as written (number, title, id, a>b path) */
	int timeout;		/* seconds, -1 = none */
	int blscfg_at;		/* GRUB 2: index where "blscfg" inserts BLS entries, or -1 */
	char *vars;		/* GRUB 2: final variables, grubenv-style "k=v\n" lines */
	size_t varslen;
};

void bl_menu_free(struct bl_menu *m);
struct bl_entry *bl_menu_add(struct bl_entry **v, int *n);

/* The parsers. Return 0, or -1 with a one-line message in err. */
int bl_parse_grub2(const char *buf, size_t len, const char *env, size_t envlen,
		   struct bl_menu *m, char *err, size_t errlen);
int bl_parse_extlinux(const char *buf, size_t len, struct bl_menu *m, char *err, size_t errlen);
int bl_parse_grub1(const char *buf, size_t len, struct bl_menu *m, char *err, size_t errlen);
/* One BLS entry file, added to m; name is the file name (id = name
 * without .conf). env (grubenv, may be NULL) gives $kernelopts and friends.
 * On error too, m keeps its entries: the caller frees it. */
int bl_parse_bls_entry(const char *buf, size_t len, const char *name,
		       const char *env, size_t envlen, struct bl_menu *m,
		       char *err, size_t errlen);
/* Sorts BLS entries as blscfg does (newest version first). */
void bl_bls_sort(struct bl_menu *m);
/* Looks name up in a grubenv block; returns a new string or NULL. */
char *bl_grubenv_get(const char *env, size_t envlen, const char *name);

/* Selects the entry to boot: want (--entry) if given, else the menu's
 * default, as GRUB resolves it (numbers, titles, ids, a>b paths). Falls back
 * to the first bootable entry. Returns NULL only for an empty menu. */
const struct bl_entry *bl_menu_select(const struct bl_menu *m, const char *want,
				      char *err, size_t errlen);
/* Depth-first list of bootable entries, for -l. */
void bl_menu_list(const struct bl_menu *m, void (*fn)(const struct bl_entry *, const char *path, void *), void *arg);

/* Removes a GRUB device prefix such as "(hd0,gpt2)"; returns a new string. */
char *bl_strip_device(const char *path);

/* ---- disk.c: partitions and files ---- */
struct bl_fs;			/* an open ext2/3/4 or ISO 9660 filesystem */
struct bl_part { uint64_t off, size; int number; };	/* number 0 = whole disk */

/* Lists where filesystems may be: the partitions libblkid finds, or the
 * whole disk. Returns the count (>= 0) or -1. */
int bl_partitions(int fd, uint64_t disksize, struct bl_part *v, int max, char *err, size_t errlen);
/* Opens the filesystem at part; -1 with "unsupported filesystem TYPE on
 * partition N" and the like in err. */
int bl_fs_open(int fd, const struct bl_part *part, struct bl_fs **fsp, char *err, size_t errlen);
void bl_fs_close(struct bl_fs *fs);
/* 1 if path names a regular file (symlinks followed inside the fs), 0 if not. */
int bl_fs_exists(struct bl_fs *fs, const char *path);
/* Reads a regular file into a new buffer, refusing more than max bytes. */
int bl_fs_read(struct bl_fs *fs, const char *path, uint64_t max, char **out, size_t *len,
	       char *err, size_t errlen);
/* Appends a regular file to outfd (at its current offset); *total counts
 * the bytes written so far across calls and is capped at max. */
int bl_fs_copy(struct bl_fs *fs, const char *path, int outfd, uint64_t max, uint64_t *total,
	       char *err, size_t errlen);
/* Lists files in a directory (BLS entries), sorted by name; names are
 * NUL-separated in *out. Returns the count or -1. */
int bl_fs_list(struct bl_fs *fs, const char *dir, char **out, char *err, size_t errlen);

/* ---- iso.c: ISO 9660 through libiso9660, for disk.c ----
 * The same operations as bl_fs_* on an ISO 9660 filesystem at [off, off +
 * size) of fd. */
struct bl_iso;
int bl_iso_open(int fd, uint64_t off, uint64_t size, struct bl_iso **out, char *err, size_t errlen);
void bl_iso_close(struct bl_iso *b);
int bl_iso_exists(struct bl_iso *b, const char *path);
int bl_iso_read(struct bl_iso *b, const char *path, uint64_t max, char **out, size_t *len,
		char *err, size_t errlen);
int bl_iso_copy(struct bl_iso *b, const char *path, int outfd, uint64_t max, uint64_t *total,
		char *err, size_t errlen);
int bl_iso_list(struct bl_iso *b, const char *dir, char **out, char *err, size_t errlen);

/* ---- find.c: the whole search, as the sandboxed child runs it ---- */
struct bl_request {
	uint64_t offset;	/* --offset, or UINT64_MAX for "probe" */
	const char *entry;	/* --entry */
	const char *kernel, *ramdisk;	/* --kernel/--ramdisk: files in the guest fs */
	const char *args;	/* --args */
	const char *cmdline;	/* the interactive menu's edited command line: replaces
				 * the entry's arguments and --args, or NULL */
	int isconfig;		/* pygrub's --isconfig: fd is a GRUB 2 menu file, not a
				 * disk; the entry is chosen and named, nothing copied */
	int list;		/* BL_LIST_TEXT (-l): print the entries to listfd;
				 * BL_LIST_MENU: the menu for the interactive menu (tmenu.c) */
	int listfd;
};
#define BL_LIST_TEXT	1
#define BL_LIST_MENU	2
struct bl_choice {
	char kernel[1024], ramdisk[1024 * 2];	/* paths inside the guest, for messages */
	char args[BL_CMDLINE_MAX + 1];
	int has_ramdisk;
	uint64_t kernel_size, ramdisk_size;
};
/* Finds the menu on the disk behind fd, chooses the entry and writes the
 * kernel and ramdisk into kfd and rfd. */
int bl_find(int fd, const struct bl_request *rq, int kfd, int rfd, struct bl_choice *out,
	    char *err, size_t errlen);

/* ---- sandbox.c ---- */
/* Runs bl_find in a child that holds only fd, kfd, rfd and a result pipe,
 * under no_new_privs, rlimits and a seccomp allow-list, killed after
 * timeout_ms. Returns 0 or -1 with err filled. */
int bl_find_sandboxed(int fd, const struct bl_request *rq, int kfd, int rfd,
		      struct bl_choice *out, int timeout_ms, char *err, size_t errlen);

/* ---- tmenu.c: the interactive menu ----
 * The menu as BL_LIST_MENU writes it: "menu\tTIMEOUT\n", then one line
 * "entry\tPATH\tDEFAULT(0|1)\tTITLE\tARGS\n" per bootable entry (tabs,
 * newlines and other control bytes in the values written as spaces). */
struct bl_item { char *path, *title, *args; };
struct bl_items { struct bl_item *v; int n, deflt, timeout; };
/* Parses that text; -1 when it holds no entry. */
int bl_items_parse(const char *text, size_t len, struct bl_items *it);
void bl_items_free(struct bl_items *it);
/* Shows the menu on the terminal in/out: arrow keys choose, Enter boots,
 * `e' edits the command line, any key stops the countdown of timeout
 * seconds (< 0: none). Returns the chosen index; *cmdline is a new string
 * when the command line was edited, else NULL. With escape sequences only
 * when TERM names a terminal that has them, plain lines otherwise. */
int bl_tty_menu(int in, int out, const struct bl_items *it, char **cmdline);

/* ---- export.c: images in QEMU's formats, through qemu-storage-daemon ---- */
struct bl_export {
	int fd;		/* the raw view, read-only; -1 when none */
	struct qsd d;	/* the daemon, its private directory and log (src/util/qsd.h) */
};
/* Exports the image (QEMU block driver: qcow2, qcow, vpc, qed) read-only and
 * opens the raw view in x->fd. Returns 0, or -1 with err filled. */
int bl_export_open(const char *path, const char *driver, struct bl_export *x, char *err,
		   size_t errlen);
/* Closes the view, ends the daemon and removes its files. */
void bl_export_close(struct bl_export *x);
#endif
