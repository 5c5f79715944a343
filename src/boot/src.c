/*
 * src.c: reading kernel images from a file or a descriptor (the
 * bootloader's memfd) with pread, so ELF segments go straight into guest
 * memory, or from an in-memory buffer (a decompressed
 * bzImage payload), with one truncation message for both.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/boot-int.h"

int src_open(struct boot_src *s, const char *path, struct kxl_diag *d)
{
	return src_open_fd(s, path, -1, d);
}

int src_open_fd(struct boot_src *s, const char *path, int fd, struct kxl_diag *d)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->name = path;
	/* a descriptor given (the bootloader's memfd) is the caller's: a copy
	 * is read and closed */
	s->fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return kxl_err(d, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = errno;
		close(s->fd);
		s->fd = -1;
		return kxl_err(d, "%s: not a regular file%s%s", path, e ? ": " : "",
			       e ? strerror(e) : "");
	}
	s->size = (uint64_t)st.st_size;
	return 0;
}

void src_close(struct boot_src *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int src_read(const struct boot_src *s, uint64_t off, void *dst, uint64_t len,
	     const char *what, struct kxl_diag *d)
{
	if (off > s->size || len > s->size - off)
		return kxl_err(d, "%s: truncated: %s needs bytes 0x%llx-0x%llx but the %s has 0x%llx",
			       s->name, what, (unsigned long long)off,
			       (unsigned long long)(off + len), s->fd >= 0 ? "file" : "image",
			       (unsigned long long)s->size);
	if (s->read)
		return s->read(s->ctx, off, dst, len, d);
	if (s->fd < 0) {
		memcpy(dst, s->buf + off, len);
		return 0;
	}
	uint8_t *p = dst;
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t r = pread(s->fd, p, chunk, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return kxl_err(d, "%s: read error at 0x%llx: %s", s->name,
				       (unsigned long long)off, strerror(errno));
		if (r == 0)
			return kxl_err(d, "%s: file shrank while reading %s", s->name, what);
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}
