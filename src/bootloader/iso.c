/*
 * iso.c: ISO 9660 filesystems (installer and live images, whole disks or
 * partitions) for the boot loader, read by libcdio's libiso9660 (Rock
 * Ridge and Joliet names included), never by a parser of kxl's own.
 * libiso9660 opens its image by path (fopen() and stat() in libcdio's
 * stdio source), and the sandboxed reader may open nothing: kxl links
 * libcdio from its static archive with -Wl,--wrap=fopen,--wrap=stat
 * (src/bootloader/meson.build), and the wrappers below turn the one name
 * "kxlfd:FD:OFFSET:SIZE" into a stdio stream over that descriptor
 * (fopencookie), reading with pread() within [OFFSET, OFFSET + SIZE) only;
 * every other name goes to the real fopen() and stat() (calloc is wrapped
 * too, below). No open(2) is
 * made, so no host file can be reached, and reads cannot leave the
 * partition. File contents are copied by the kernel (sendfile) from the
 * file's extent into the destination, after its bounds are checked.
 * Symlinks are not followed (Rock Ridge ones are refused by name).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <cdio/iso9660.h>
#include <cdio/logging.h>
#include "bootloader/bl.h"
#include "util/util.h"

#define ISO_BLOCK 2048u

struct bl_iso {
	iso9660_t *iso;
	int fd;
	uint64_t off, size;
};

/* ---- the stream libcdio reads through ---- */

struct cookie { int fd; uint64_t off, size, pos; };

static ssize_t ck_read(void *p, char *buf, size_t n)
{
	struct cookie *c = p;
	if (c->pos >= c->size)
		return 0;
	if (n > c->size - c->pos)
		n = (size_t)(c->size - c->pos);
	ssize_t r;
	do
		r = pread(c->fd, buf, n, (off_t)(c->off + c->pos));
	while (r < 0 && errno == EINTR);
	if (r > 0)
		c->pos += (uint64_t)r;
	return r;
}

static int ck_seek(void *p, off64_t *pos, int whence)
{
	struct cookie *c = p;
	int64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)c->pos :
		       whence == SEEK_END ? (int64_t)c->size : -1;
	if (base < 0 || (*pos < 0 && -*pos > base)) {
		errno = EINVAL;
		return -1;
	}
	c->pos = (uint64_t)(base + *pos);
	*pos = (off64_t)c->pos;
	return 0;
}

static int ck_close(void *p)
{
	free(p);	/* the descriptor is the caller's */
	return 0;
}

static int parse_name(const char *name, struct cookie *c)
{
	unsigned long long off, size;
	int fd, n = 0;
	if (!name || sscanf(name, "kxlfd:%d:%llu:%llu%n", &fd, &off, &size, &n) != 3 || name[n] || fd < 0)
		return -1;
	c->fd = fd;
	c->off = off;
	c->size = size;
	c->pos = 0;
	return 0;
}

FILE *__real_fopen(const char *path, const char *mode);
int __real_stat(const char *path, struct stat *st);
FILE *__wrap_fopen(const char *path, const char *mode);
int __wrap_stat(const char *path, struct stat *st);

FILE *__wrap_fopen(const char *path, const char *mode)
{
	struct cookie c;
	if (parse_name(path, &c) < 0)
		return __real_fopen(path, mode);
	if (strchr(mode, 'w') || strchr(mode, 'a') || strchr(mode, '+')) {
		errno = EROFS;
		return NULL;
	}
	struct cookie *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	*p = c;
	cookie_io_functions_t io = { .read = ck_read, .seek = ck_seek, .close = ck_close };
	FILE *f = fopencookie(p, "r", io);
	if (!f)
		free(p);
	return f;
}

int __wrap_stat(const char *path, struct stat *st)
{
	struct cookie c;
	if (parse_name(path, &c) < 0)
		return __real_stat(path, st);
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0400;
	st->st_size = (off_t)c.size;
	return 0;
}

/* While libiso9660 runs (iso_active), its allocations are capped: it callocs
 * a directory's recorded size (up to 4 GiB) before it reads it, and then
 * walks the whole buffer even when the image was shorter. The sandbox's
 * RLIMIT_AS stops the largest; the cap (calloc wrapped like fopen, passed
 * straight through otherwise) keeps every build fast, sanitizers included,
 * which lift that limit. */
#define ISO_ALLOC_MAX (16u << 20)
/* libiso9660 2.1.0 also trusts each directory record's name length: a
 * record that starts near the end of a directory's buffer makes it copy
 * the name (and read the Rock Ridge area) from past the buffer (found by
 * fuzz_iso; tests/fuzz/regress-iso). Every read it makes of one record
 * stays within 33 + 255 + 255 bytes of the record's start (the header, a
 * name, and a Rock Ridge entry that claims more than the record holds),
 * and a record starts inside the buffer, so each of its allocations gets
 * that much zeroed slack: the over-read then reads zeros (a shorter name)
 * instead of the host's heap. */
#define ISO_ALLOC_PAD 544u
static int iso_active;

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

void *__wrap_calloc(size_t n, size_t size)
{
	size_t total;
	if (!iso_active)
		return __real_calloc(n, size);
	if (__builtin_mul_overflow(n, size, &total) || total > ISO_ALLOC_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(1, total + ISO_ALLOC_PAD);
}

/* libcdio's messages: the last one is kept for the error, none printed. */
static char last_msg[160];

static void log_handler(cdio_log_level_t level, const char message[])
{
	if (level >= CDIO_LOG_WARN)
		snprintf(last_msg, sizeof(last_msg), "%s", message);
}

/* ---- the filesystem ---- */

int bl_iso_open(int fd, uint64_t off, uint64_t size, struct bl_iso **out, char *err, size_t errlen)
{
	char name[96];
	cdio_log_set_handler(log_handler);
	last_msg[0] = 0;
	snprintf(name, sizeof(name), "kxlfd:%d:%llu:%llu", fd, (unsigned long long)off,
		 (unsigned long long)size);
	iso_active = 1;
	iso9660_t *iso = iso9660_open_ext(name, ISO_EXTENSION_ALL);
	iso_active = 0;
	if (!iso) {
		snprintf(err, errlen, "libiso9660 cannot read the volume descriptors%s%s",
			 last_msg[0] ? ": " : "", last_msg);
		return -1;
	}
	struct bl_iso *b = xcalloc(1, sizeof(*b));
	b->iso = iso;
	b->fd = fd;
	b->off = off;
	b->size = size;
	*out = b;
	return 0;
}

void bl_iso_close(struct bl_iso *b)
{
	if (!b)
		return;
	iso9660_close(b->iso);
	free(b);
}

/* The entry at path, which must be a regular file inside the filesystem. */
static iso9660_stat_t *lookup(struct bl_iso *b, const char *path, char *err, size_t errlen)
{
	if (!*path) {
		snprintf(err, errlen, "empty file name");
		return NULL;
	}
	last_msg[0] = 0;
	iso_active = 1;
	iso9660_stat_t *st = iso9660_ifs_stat_translate(b->iso, path);
	iso_active = 0;
	if (!st) {
		snprintf(err, errlen, "%s: no such file", path);
		return NULL;
	}
	const char *why = NULL;
	if (st->type != _STAT_FILE)
		why = "not a regular file";
	else if (st->rr.b3_rock == yep && S_ISLNK(st->rr.st_mode))
		why = "a symbolic link (not followed on ISO 9660)";
	else if ((uint64_t)st->lsn * ISO_BLOCK > b->size ||
		 st->size > b->size - (uint64_t)st->lsn * ISO_BLOCK)
		why = "its data lies past the end of the filesystem";
	if (why) {
		snprintf(err, errlen, "%s: %s", path, why);
		iso9660_stat_free(st);
		return NULL;
	}
	return st;
}

int bl_iso_exists(struct bl_iso *b, const char *path)
{
	char err[BL_ERRLEN];
	iso9660_stat_t *st = lookup(b, path, err, sizeof(err));
	iso9660_stat_free(st);
	return st != NULL;
}

/* Copies len bytes at the image's offset from into outfd at to. */
static int copy_range(struct bl_iso *b, uint64_t from, uint64_t len, int outfd, uint64_t to,
		      char *err, size_t errlen)
{
	if (lseek(outfd, (off_t)to, SEEK_SET) >= 0) {
		off_t in = (off_t)(b->off + from);
		while (len) {
			ssize_t r = sendfile(outfd, b->fd, &in, len > (1u << 30) ? (1u << 30) : (size_t)len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
				break;	/* by pread/pwrite below */
			if (r <= 0) {
				snprintf(err, errlen, "reading the disk: %s", r ? strerror(errno) : "short read");
				return -1;
			}
			len -= (uint64_t)r;
			from += (uint64_t)r;
			to += (uint64_t)r;
		}
	}
	char *buf = len ? xmalloc(1u << 20) : NULL;
	while (len) {
		ssize_t r = pread(b->fd, buf, len > (1u << 20) ? (1u << 20) : (size_t)len,
				  (off_t)(b->off + from));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || pwrite(outfd, buf, (size_t)r, (off_t)to) != r) {
			snprintf(err, errlen, "copying: %s", r <= 0 && r ? strerror(errno) : "short read or write");
			free(buf);
			return -1;
		}
		len -= (uint64_t)r;
		from += (uint64_t)r;
		to += (uint64_t)r;
	}
	free(buf);
	return 0;
}

int bl_iso_copy(struct bl_iso *b, const char *path, int outfd, uint64_t max, uint64_t *total,
		char *err, size_t errlen)
{
	iso9660_stat_t *st = lookup(b, path, err, errlen);
	if (!st)
		return -1;
	uint64_t size = st->size, at = (uint64_t)st->lsn * ISO_BLOCK;
	iso9660_stat_free(st);
	if (size > max || *total > max - size) {
		snprintf(err, errlen, "%s: %llu bytes, more than the %llu MiB allowed", path,
			 (unsigned long long)(size + *total), (unsigned long long)(max >> 20));
		return -1;
	}
	if (ftruncate(outfd, (off_t)(*total + size)) < 0) {
		snprintf(err, errlen, "%s: sizing the copy: %s", path, strerror(errno));
		return -1;
	}
	char e[BL_ERRLEN];
	if (copy_range(b, at, size, outfd, *total, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", path, e);
		return -1;
	}
	*total += size;
	return 0;
}

int bl_iso_read(struct bl_iso *b, const char *path, uint64_t max, char **out, size_t *len,
		char *err, size_t errlen)
{
	iso9660_stat_t *st = lookup(b, path, err, errlen);
	if (!st)
		return -1;
	uint64_t size = st->size, at = (uint64_t)st->lsn * ISO_BLOCK;
	iso9660_stat_free(st);
	if (size > max) {
		snprintf(err, errlen, "%s: %llu bytes, more than the %llu KiB allowed", path,
			 (unsigned long long)size, (unsigned long long)(max >> 10));
		return -1;
	}
	char *buf = xmalloc(size + 1);
	uint64_t pos = 0;
	while (pos < size) {
		ssize_t r = pread(b->fd, buf + pos, (size_t)(size - pos), (off_t)(b->off + at + pos));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: reading the disk: %s", path, r ? strerror(errno) : "short read");
			free(buf);
			return -1;
		}
		pos += (uint64_t)r;
	}
	buf[size] = 0;
	*out = buf;
	*len = (size_t)size;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bl_iso_list(struct bl_iso *b, const char *dir, char **out, char *err, size_t errlen)
{
	iso_active = 1;
	iso9660_stat_t *st = iso9660_ifs_stat_translate(b->iso, dir);
	iso_active = 0;
	bool found = st != NULL, isdir = st && st->type == _STAT_DIR;
	iso9660_stat_free(st);
	if (!isdir) {
		snprintf(err, errlen, "%s: %s", dir, found ? "not a directory" : "no such directory");
		return -1;
	}
	iso_active = 1;
	CdioISO9660FileList_t *l = iso9660_ifs_readdir(b->iso, dir);
	iso_active = 0;
	if (!l) {
		snprintf(err, errlen, "%s: libiso9660 cannot read the directory", dir);
		return -1;
	}
	char **v = xcalloc(BL_MAX_ENTRIES + 1, sizeof(*v));
	int n = 0;
	CdioListNode_t *node;
	_CDIO_LIST_FOREACH(node, l) {
		iso9660_stat_t *e = _cdio_list_node_data(node);
		if (n >= BL_MAX_ENTRIES)
			break;
		if (!e || e->type != _STAT_FILE || !e->filename[0] || strchr(e->filename, '/'))
			continue;
		/* the name as a lookup finds it again: ";1" dropped, level 1 lowercased */
		char *name = xmalloc(strlen(e->filename) + 1);
		if (e->rr.b3_rock == yep)
			strcpy(name, e->filename);	/* a Rock Ridge name, as written */
		else
			iso9660_name_translate_ext(e->filename, name, 0);
		v[n++] = name;
	}
	iso9660_filelist_free(l);
	qsort(v, (size_t)n, sizeof(*v), cmp_str);
	struct sbuf s = { 0 };
	sbuf_add(&s, "", 0);
	for (int i = 0; i < n; i++) {
		sbuf_add(&s, v[i], strlen(v[i]) + 1);
		free(v[i]);
	}
	free(v);
	*out = sbuf_steal(&s);
	return n;
}
