/*
 * disk.c: the guest's disk as the boot loader sees it. libblkid lists the
 * partitions (MBR with logical partitions, GPT with its CRCs checked:
 * libblkid validates, kxl parses nothing itself) and names each one's
 * filesystem; libext2fs reads ext2/3/4 (and iso.c ISO 9660). libext2fs reaches the disk through
 * kxl's own io_manager, a few lines of pread() on the descriptor the parent
 * opened, at the partition's offset and bounded by its size: unix_io_manager
 * would need open(2) on a path, which the sandbox forbids (and a path could
 * name something other than the descriptor the parent checked), and its
 * "offset=" option would not bound reads to the partition. Paths resolve
 * component by component with ext2fs_lookup() from the filesystem's root
 * (resolve() below), so symlinks (absolute ones and `..' included) stay
 * inside the guest's filesystem and a chain or loop stops after 8 links.
 * kxl reads a link's target itself, bounded by where it is stored, because
 * ext2fs_namei_follow() takes the link's recorded size as the target's
 * length: a crafted size of gigabytes makes it scan far past its one-block
 * buffer (found by fuzz_extfs). File contents are copied
 * extent by extent: each contiguous run of blocks goes with one sendfile()
 * from the image into the destination descriptor (pread()/pwrite() where
 * sendfile cannot), never block by block through libext2fs's file API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <blkid/blkid.h>
#include <ext2fs/ext2fs.h>
#include <et/com_err.h>
#include "bootloader/bl.h"
#include "util/util.h"

struct bl_fs {
	ext2_filsys fs;
	struct bl_iso *iso;	/* ISO 9660 instead (iso.c); fs is NULL then */
	int fd;
	uint64_t off, size;
};

/* ---- the io_manager: pread() within [off, off + size) of one fd ---- */

struct fdio { int fd; uint64_t off, size; };

static struct struct_io_manager fd_io_manager;

static errcode_t fdio_open(const char *name, int flags, io_channel *chan)
{
	int fd;
	unsigned long long off, size;
	if (flags & IO_FLAG_RW)
		return EXT2_ET_RO_FILSYS;
	if (sscanf(name, "kxlfd:%d:%llu:%llu", &fd, &off, &size) != 3)
		return EXT2_ET_BAD_DEVICE_NAME;
	io_channel c = calloc(1, sizeof(*c));
	struct fdio *d = calloc(1, sizeof(*d));
	char *n = strdup(name);
	if (!c || !d || !n) {
		free(c);
		free(d);
		free(n);
		return EXT2_ET_NO_MEMORY;
	}
	d->fd = fd;
	d->off = off;
	d->size = size;
	c->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	c->manager = &fd_io_manager;
	c->name = n;
	c->block_size = 1024;
	c->refcount = 1;
	c->private_data = d;
	*chan = c;
	return 0;
}

static errcode_t fdio_close(io_channel c)
{
	if (--c->refcount > 0)
		return 0;
	free(c->private_data);
	free(c->name);
	free(c);
	return 0;
}

static errcode_t fdio_set_blksize(io_channel c, int blksize)
{
	if (blksize <= 0 || blksize > 65536)
		return EXT2_ET_INVALID_ARGUMENT;
	c->block_size = blksize;
	return 0;
}

static errcode_t fdio_read64(io_channel c, unsigned long long block, int count, void *data)
{
	struct fdio *d = c->private_data;
	uint64_t len = count < 0 ? (uint64_t)-(int64_t)count : (uint64_t)count * (uint64_t)c->block_size;
	uint64_t pos;
	if (__builtin_mul_overflow(block, (uint64_t)c->block_size, &pos) ||
	    pos > d->size || len > d->size - pos)
		return EXT2_ET_SHORT_READ;
	uint8_t *p = data;
	while (len) {
		ssize_t r = pread(d->fd, p, len > (1u << 30) ? (1u << 30) : len, (off_t)(d->off + pos));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? (errcode_t)errno : EXT2_ET_SHORT_READ;
		p += r;
		pos += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static errcode_t fdio_read(io_channel c, unsigned long block, int count, void *data)
{
	return fdio_read64(c, block, count, data);
}

static errcode_t fdio_write(io_channel c, unsigned long block, int count, const void *data)
{
	return EXT2_ET_RO_FILSYS;
}

static errcode_t fdio_write64(io_channel c, unsigned long long block, int count, const void *data)
{
	return EXT2_ET_RO_FILSYS;
}

static errcode_t fdio_flush(io_channel c)
{
	return 0;
}

static errcode_t fdio_set_option(io_channel c, const char *opt, const char *arg)
{
	return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager fd_io_manager = {
	.magic = EXT2_ET_MAGIC_IO_MANAGER,
	.name = "kxl fd I/O manager",
	.open = fdio_open,
	.close = fdio_close,
	.set_blksize = fdio_set_blksize,
	.read_blk = fdio_read,
	.write_blk = fdio_write,
	.flush = fdio_flush,
	.set_option = fdio_set_option,
	.read_blk64 = fdio_read64,
	.write_blk64 = fdio_write64,
};

static const char *ext2_msg(errcode_t e)
{
	static int init;
	if (!init) {
		initialize_ext2_error_table();
		init = 1;
	}
	return error_message(e);
}

/* ---- partitions ---- */

static const char *part_name(const struct bl_part *p, char *buf, size_t len)
{
	if (p->number)
		snprintf(buf, len, "partition %d", p->number);
	else
		snprintf(buf, len, "the whole disk");
	return buf;
}

int bl_partitions(int fd, uint64_t disksize, struct bl_part *v, int max, char *err, size_t errlen)
{
	blkid_probe pr = blkid_new_probe();
	int n = 0;
	if (!pr) {
		snprintf(err, errlen, "libblkid: cannot allocate a probe");
		return -1;
	}
	if (blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)disksize) < 0) {
		snprintf(err, errlen, "libblkid: cannot probe the disk");
		blkid_free_probe(pr);
		return -1;
	}
	blkid_probe_enable_superblocks(pr, 0);
	blkid_probe_enable_partitions(pr, 1);
	blkid_partlist ls = blkid_probe_get_partitions(pr);
	int np = ls ? blkid_partlist_numof_partitions(ls) : 0;
	for (int i = 0; i < np && n < max; i++) {
		blkid_partition par = blkid_partlist_get_partition(ls, i);
		if (!par || blkid_partition_is_extended(par))
			continue;
		blkid_loff_t start = blkid_partition_get_start(par);
		blkid_loff_t size = blkid_partition_get_size(par);
		/* (an isohybrid image's partition 1 starts at 0: the ISO itself) */
		if (start < 0 || size <= 0 || (uint64_t)start > disksize / 512 ||
		    (uint64_t)size > disksize / 512 - (uint64_t)start)
			continue;	/* past the end of the disk: nothing to read there */
		v[n].off = (uint64_t)start * 512;
		v[n].size = (uint64_t)size * 512;
		v[n].number = blkid_partition_get_partno(par);
		n++;
	}
	blkid_free_probe(pr);
	if (n == 0) {	/* no partition table: a filesystem on the whole disk */
		v[0].off = 0;
		v[0].size = disksize;
		v[0].number = 0;
		n = 1;
	}
	return n;
}

int bl_fs_open(int fd, const struct bl_part *part, struct bl_fs **fsp, char *err, size_t errlen)
{
	char where[64];
	blkid_probe pr = blkid_new_probe();
	const char *type = NULL;
	char typebuf[64] = "";
	if (!pr) {
		snprintf(err, errlen, "libblkid: cannot allocate a probe");
		return -1;
	}
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)part->off, (blkid_loff_t)part->size) == 0) {
		blkid_probe_enable_superblocks(pr, 1);
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
		blkid_probe_enable_partitions(pr, 0);
		/* the ext family first (a few reads); every type libblkid
		 * knows only when that finds nothing, to name what it is */
		static char *ext[] = { "ext2", "ext3", "ext4", "ext4dev", NULL };
		for (int pass = 0; pass < 2 && !*typebuf; pass++) {
			if (pass == 0)
				blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_ONLYIN, ext);
			else
				blkid_probe_reset_superblocks_filter(pr);
			if (blkid_do_safeprobe(pr) == 0 &&
			    blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
				snprintf(typebuf, sizeof(typebuf), "%s", type);
		}
	}
	blkid_free_probe(pr);
	part_name(part, where, sizeof(where));
	if (!*typebuf) {
		snprintf(err, errlen, "no filesystem on %s%s", where,
			 part->number ? "" : " (and no partition table that libblkid accepts)");
		return -1;
	}
	if (!strcmp(typebuf, "iso9660") || !strcmp(typebuf, "udf")) {
		/* (a UDF bridge disc has ISO 9660's descriptors too) */
		struct bl_iso *iso;
		char e[BL_ERRLEN];
		if (bl_iso_open(fd, part->off, part->size, &iso, e, sizeof(e)) < 0) {
			if (!strcmp(typebuf, "udf"))
				snprintf(err, errlen, "unsupported filesystem udf on %s", where);
			else
				snprintf(err, errlen, "iso9660 on %s: %s", where, e);
			return -1;
		}
		struct bl_fs *b = xcalloc(1, sizeof(*b));
		b->iso = iso;
		b->fd = fd;
		b->off = part->off;
		b->size = part->size;
		*fsp = b;
		return 0;
	}
	if (strcmp(typebuf, "ext2") && strcmp(typebuf, "ext3") && strcmp(typebuf, "ext4") &&
	    strcmp(typebuf, "ext4dev")) {
		snprintf(err, errlen, "unsupported filesystem %s on %s", typebuf, where);
		return -1;
	}
	char name[96];
	snprintf(name, sizeof(name), "kxlfd:%d:%llu:%llu", fd, (unsigned long long)part->off,
		 (unsigned long long)part->size);
	ext2_filsys fs = NULL;
	errcode_t e = ext2fs_open2(name, NULL, EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP, 0, 0,
				   &fd_io_manager, &fs);
	if (e) {
		snprintf(err, errlen, "%s on %s: %s", typebuf, where, ext2_msg(e));
		return -1;
	}
	struct bl_fs *b = xcalloc(1, sizeof(*b));
	b->fs = fs;
	b->fd = fd;
	b->off = part->off;
	b->size = part->size;
	*fsp = b;
	return 0;
}

void bl_fs_close(struct bl_fs *fs)
{
	if (!fs)
		return;
	if (fs->iso)
		bl_iso_close(fs->iso);
	else
		ext2fs_close_free(&fs->fs);
	free(fs);
}

/* A symlink's target, read from where ext4 keeps it (inside the inode, as
 * inline data, or in its one data block), into buf (BL_PATH_MAX bytes, NUL
 * ended). A target that is empty or larger than its store is refused. */
#define BL_PATH_MAX 4096
#define BL_MAX_LINKS 8	/* as libext2fs and the kernel's nested limit */

static errcode_t link_target(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode, char *buf)
{
	uint64_t size = EXT2_I_SIZE(inode);
	if (size == 0 || size >= BL_PATH_MAX || size >= fs->blocksize)
		return EXT2_ET_INODE_CORRUPTED;
	if (ext2fs_is_fast_symlink(inode)) {
		if (size >= sizeof(inode->i_block))
			return EXT2_ET_INODE_CORRUPTED;
		memcpy(buf, inode->i_block, size);
	} else if (inode->i_flags & EXT4_INLINE_DATA_FL) {
		size_t have = 0;
		errcode_t e = ext2fs_inline_data_size(fs, ino, &have);
		if (e)
			return e;
		if (have < size || have > fs->blocksize)
			return EXT2_ET_INODE_CORRUPTED;
		char *tmp = xmalloc(fs->blocksize);
		e = ext2fs_inline_data_get(fs, ino, inode, tmp, &have);
		if (!e && have < size)
			e = EXT2_ET_INODE_CORRUPTED;
		if (!e)
			memcpy(buf, tmp, size);
		free(tmp);
		if (e)
			return e;
	} else {
		blk64_t blk = 0;
		errcode_t e = ext2fs_bmap2(fs, ino, inode, NULL, 0, 0, NULL, &blk);
		if (e)
			return e;
		if (!blk)
			return EXT2_ET_INODE_CORRUPTED;
		char *tmp = xmalloc(fs->blocksize);
		e = io_channel_read_blk64(fs->io, blk, 1, tmp);
		if (!e)
			memcpy(buf, tmp, size);
		free(tmp);
		if (e)
			return e;
	}
	buf[size] = 0;
	if (memchr(buf, 0, size))
		return EXT2_ET_INODE_CORRUPTED;
	return 0;
}

/* path (from the root) to an inode, following every symlink on the way
 * and at the end; a link's target continues from the link's directory, or
 * from the root when absolute. ENOTDIR and ELOOP as errno values. */
static errcode_t resolve(ext2_filsys fs, const char *path, ext2_ino_t *out)
{
	char *rest = xmalloc(2 * BL_PATH_MAX + 2), *target = xmalloc(BL_PATH_MAX);
	errcode_t e = 0;
	int links = 0;
	if (strlen(path) >= BL_PATH_MAX) {
		e = ENAMETOOLONG;
		goto out;
	}
	strcpy(rest, path);
	ext2_ino_t dir = EXT2_ROOT_INO, ino = EXT2_ROOT_INO;	/* every path is from the root */
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, "/");
		struct ext2_inode inode;
		if ((e = ext2fs_read_inode(fs, dir, &inode)))
			break;
		if (!LINUX_S_ISDIR(inode.i_mode)) {
			e = ENOTDIR;
			break;
		}
		if ((e = ext2fs_lookup(fs, dir, p, (int)n, NULL, &ino)))
			break;
		p += n;
		if ((e = ext2fs_read_inode(fs, ino, &inode)))
			break;
		if (!LINUX_S_ISLNK(inode.i_mode)) {
			dir = ino;
			continue;
		}
		if (++links > BL_MAX_LINKS) {
			e = ELOOP;
			break;
		}
		if ((e = link_target(fs, ino, &inode, target)))
			break;
		/* the target, then what was left of the path */
		size_t tl = strlen(target), pl = strlen(p);
		if (tl + pl >= BL_PATH_MAX) {
			e = ENAMETOOLONG;
			break;
		}
		memmove(rest + tl, p, pl + 1);
		memcpy(rest, target, tl);
		p = rest;
		/* an absolute target starts at the root, a relative one at the
		 * link's directory */
		if (*p == '/')
			dir = EXT2_ROOT_INO;
		ino = dir;
	}
out:
	free(rest);
	free(target);
	if (!e)
		*out = ino;
	return e;
}

static const char *resolve_msg(errcode_t e, const char *missing)
{
	switch (e) {
	case EXT2_ET_FILE_NOT_FOUND: return missing;
	case ENOTDIR: return "a component of the path is not a directory";
	case ELOOP: return "more than 8 symbolic links on the way";
	case ENAMETOOLONG: return "the path (symbolic links expanded) is too long";
	case EXT2_ET_INODE_CORRUPTED: return "a symbolic link on the way is corrupt";
	default: return ext2_msg(e);
	}
}

/* Resolves path to a regular file's inode. */
static int lookup(struct bl_fs *b, const char *path, ext2_ino_t *ino, struct ext2_inode *inode,
		  char *err, size_t errlen)
{
	if (!*path) {
		snprintf(err, errlen, "empty file name");
		return -1;
	}
	errcode_t e = resolve(b->fs, path, ino);
	if (!e)
		e = ext2fs_read_inode(b->fs, *ino, inode);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, resolve_msg(e, "no such file"));
		return -1;
	}
	if (!LINUX_S_ISREG(inode->i_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (inode->i_flags & (EXT4_ENCRYPT_FL | EXT4_VERITY_FL)) {
		snprintf(err, errlen, "%s: encrypted or verity file", path);
		return -1;
	}
	return 0;
}

int bl_fs_exists(struct bl_fs *b, const char *path)
{
	ext2_ino_t ino;
	struct ext2_inode inode;
	char err[BL_ERRLEN];
	if (b->iso)
		return bl_iso_exists(b->iso, path);
	return lookup(b, path, &ino, &inode, err, sizeof(err)) == 0;
}

/* Block runs flushed to the destination as they are found. */
struct copy {
	struct bl_fs *b;
	int outfd;
	uint64_t outbase, size;
	blk64_t lstart, pstart, count;	/* the pending run */
	uint8_t *buf;
	size_t bufsize;
	int use_sendfile;
	char *err;
	size_t errlen;
};

static int copy_flush(struct copy *c)
{
	unsigned bs = c->b->fs->blocksize;
	uint64_t lpos = (uint64_t)c->lstart * bs, ppos = (uint64_t)c->pstart * bs;
	uint64_t len = (uint64_t)c->count * bs;
	if (!c->count || lpos >= c->size)
		return 0;
	if (len > c->size - lpos)
		len = c->size - lpos;
	if (ppos > c->b->size || len > c->b->size - ppos) {
		snprintf(c->err, c->errlen, "a file's block lies past the end of its partition");
		return -1;
	}
	/* In the kernel first: sendfile() from the image into the destination
	 * at its offset, no copy through this process. */
	if (c->use_sendfile && lseek(c->outfd, (off_t)(c->outbase + lpos), SEEK_SET) >= 0) {
		off_t in = (off_t)(c->b->off + ppos);
		while (len) {
			ssize_t r = sendfile(c->outfd, c->b->fd, &in, len > (1u << 30) ? (1u << 30) : (size_t)len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
					c->use_sendfile = 0;	/* then by pread/pwrite, from here */
					break;
				}
				snprintf(c->err, c->errlen, "reading the disk: %s", r ? strerror(errno) : "short read");
				return -1;
			}
			len -= (uint64_t)r;
			lpos += (uint64_t)r;
			ppos += (uint64_t)r;
		}
		if (!len) {
			c->count = 0;
			return 0;
		}
	}
	if (!c->buf)
		c->buf = xmalloc(c->bufsize);
	while (len) {
		size_t n = len > c->bufsize ? c->bufsize : (size_t)len;
		ssize_t r = pread(c->b->fd, c->buf, n, (off_t)(c->b->off + ppos));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(c->err, c->errlen, "reading the disk: %s", r ? strerror(errno) : "short read");
			return -1;
		}
		size_t done = 0;
		while (done < (size_t)r) {
			ssize_t w = pwrite(c->outfd, c->buf + done, (size_t)r - done,
					   (off_t)(c->outbase + lpos + done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				snprintf(c->err, c->errlen, "writing the copy: %s", w ? strerror(errno) : "no space");
				return -1;
			}
			done += (size_t)w;
		}
		len -= (uint64_t)r;
		lpos += (uint64_t)r;
		ppos += (uint64_t)r;
	}
	c->count = 0;
	return 0;
}

static int copy_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
		      int ref_offset, void *priv)
{
	struct copy *c = priv;
	if (blockcnt < 0)
		return 0;
	if (*blocknr >= ext2fs_blocks_count(fs->super) || *blocknr == 0) {
		snprintf(c->err, c->errlen, "a file's block number is past the filesystem's end");
		return BLOCK_ABORT;
	}
	if ((uint64_t)blockcnt * fs->blocksize >= c->size)
		return 0;
	blk64_t l = (blk64_t)blockcnt;
	if (c->count && l == c->lstart + c->count && *blocknr == c->pstart + c->count &&
	    c->count < (64u << 20) / fs->blocksize) {
		c->count++;
		return 0;
	}
	if (copy_flush(c) < 0)
		return BLOCK_ABORT;
	c->lstart = l;
	c->pstart = *blocknr;
	c->count = 1;
	return 0;
}

int bl_fs_copy(struct bl_fs *b, const char *path, int outfd, uint64_t max, uint64_t *total,
	       char *err, size_t errlen)
{
	ext2_ino_t ino;
	struct ext2_inode inode;
	if (b->iso)
		return bl_iso_copy(b->iso, path, outfd, max, total, err, errlen);
	if (lookup(b, path, &ino, &inode, err, errlen) < 0)
		return -1;
	uint64_t size = EXT2_I_SIZE(&inode);
	if (size > max || *total > max - size) {
		snprintf(err, errlen, "%s: %llu bytes, more than the %llu MiB allowed", path,
			 (unsigned long long)(size + *total), (unsigned long long)(max >> 20));
		return -1;
	}
	if (ftruncate(outfd, (off_t)(*total + size)) < 0) {
		snprintf(err, errlen, "%s: sizing the copy: %s", path, strerror(errno));
		return -1;
	}
	if (inode.i_flags & EXT4_INLINE_DATA_FL) {
		/* a few bytes inside the inode: libext2fs's file API reads them */
		ext2_file_t f;
		char buf[4096];
		unsigned got;
		uint64_t pos = 0;
		errcode_t e = ext2fs_file_open(b->fs, ino, 0, &f);
		while (!e && pos < size) {
			e = ext2fs_file_read(f, buf, sizeof(buf), &got);
			if (e || !got)
				break;
			if (pwrite(outfd, buf, got, (off_t)(*total + pos)) != (ssize_t)got) {
				snprintf(err, errlen, "%s: writing the copy: %s", path, strerror(errno));
				ext2fs_file_close(f);
				return -1;
			}
			pos += got;
		}
		if (!e)
			ext2fs_file_close(f);
		if (e) {
			snprintf(err, errlen, "%s: %s", path, ext2_msg(e));
			return -1;
		}
		*total += size;
		return 0;
	}
	struct copy c = { .b = b, .outfd = outfd, .outbase = *total, .size = size,
			  .bufsize = 4u << 20, .use_sendfile = 1, .err = err, .errlen = errlen };
	*err = 0;
	errcode_t e = ext2fs_block_iterate3(b->fs, ino, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY,
					    NULL, copy_block, &c);
	int rc = 0;
	if (e && !*err)
		snprintf(err, errlen, "%s: %s", path, ext2_msg(e));
	if (e || *err || copy_flush(&c) < 0)
		rc = -1;
	free(c.buf);
	if (rc == 0)
		*total += size;
	return rc;
}

int bl_fs_read(struct bl_fs *b, const char *path, uint64_t max, char **out, size_t *len,
	       char *err, size_t errlen)
{
	ext2_ino_t ino;
	struct ext2_inode inode;
	if (b->iso)
		return bl_iso_read(b->iso, path, max, out, len, err, errlen);
	if (lookup(b, path, &ino, &inode, err, errlen) < 0)
		return -1;
	uint64_t size = EXT2_I_SIZE(&inode);
	if (size > max) {
		snprintf(err, errlen, "%s: %llu bytes, more than the %llu KiB allowed", path,
			 (unsigned long long)size, (unsigned long long)(max >> 10));
		return -1;
	}
	ext2_file_t f;
	errcode_t e = ext2fs_file_open(b->fs, ino, 0, &f);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, ext2_msg(e));
		return -1;
	}
	char *buf = xmalloc(size + 1);
	uint64_t pos = 0;
	while (pos < size) {
		unsigned got = 0;
		e = ext2fs_file_read(f, buf + pos, (unsigned)(size - pos), &got);
		if (e || !got)
			break;
		pos += got;
	}
	ext2fs_file_close(f);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, ext2_msg(e));
		free(buf);
		return -1;
	}
	buf[pos] = 0;
	*out = buf;
	*len = pos;
	return 0;
}

struct list { struct sbuf names; int n; };

static int list_one(ext2_ino_t dir, int entry, struct ext2_dir_entry *d, int offset, int blocksize,
		    char *buf, void *priv)
{
	struct list *l = priv;
	int nl = ext2fs_dirent_name_len(d);
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || nl <= 0 ||
	    memchr(d->name, 0, (size_t)nl) || memchr(d->name, '/', (size_t)nl))
		return 0;
	if (l->n >= BL_MAX_ENTRIES)
		return DIRENT_ABORT;
	sbuf_add(&l->names, d->name, (size_t)nl);
	sbuf_add(&l->names, "", 1);	/* the NUL separator */
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int bl_fs_list(struct bl_fs *b, const char *dir, char **out, char *err, size_t errlen)
{
	ext2_ino_t ino;
	struct ext2_inode inode;
	if (b->iso)
		return bl_iso_list(b->iso, dir, out, err, errlen);
	errcode_t e = resolve(b->fs, dir, &ino);
	if (!e)
		e = ext2fs_read_inode(b->fs, ino, &inode);
	if (e) {
		snprintf(err, errlen, "%s: %s", dir, resolve_msg(e, "no such directory"));
		return -1;
	}
	if (!LINUX_S_ISDIR(inode.i_mode)) {
		snprintf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	struct list l = { { 0 }, 0 };
	e = ext2fs_dir_iterate2(b->fs, ino, 0, NULL, list_one, &l);
	if (e) {
		snprintf(err, errlen, "%s: %s", dir, ext2_msg(e));
		free(l.names.s);
		return -1;
	}
	/* sorted by name, NUL-separated */
	char **v = xcalloc((size_t)l.n + 1, sizeof(*v));
	char *p = l.names.s;
	for (int i = 0; i < l.n; i++) {
		v[i] = p;
		p += strlen(p) + 1;
	}
	qsort(v, (size_t)l.n, sizeof(*v), cmp_str);
	struct sbuf s = { 0 };
	sbuf_add(&s, "", 0);
	for (int i = 0; i < l.n; i++)
		sbuf_add(&s, v[i], strlen(v[i]) + 1);
	free(v);
	free(l.names.s);
	*out = sbuf_steal(&s);
	return l.n;
}
