/*
 * mem.c: guest RAM. One memfd holds all of it, mapped MAP_SHARED so that
 * device and monitor processes can map the same pages. RAM below the MMIO
 * hole is memfd offset 0 at guest-physical 0; RAM beyond the hole's start
 * continues at 4 GiB. Only the pages the loader writes are ever touched.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/boot-int.h"

uint64_t mem_low_end(uint64_t mem_bytes)
{
	return mem_bytes < KXL_MMIO_HOLE_START ? mem_bytes : KXL_MMIO_HOLE_START;
}

const char *mem_check(uint64_t mem_bytes, uint64_t gpa, uint64_t len)
{
	uint64_t low = mem_low_end(mem_bytes);
	uint64_t high = mem_bytes - low;

	if (gpa + len < gpa)
		return "wraps around the address space";
	if (gpa + len <= low)
		return NULL;
	if (gpa >= KXL_GPA_ABOVE_4G && gpa + len <= KXL_GPA_ABOVE_4G + high)
		return NULL;
	if (gpa < KXL_MMIO_HOLE_END && gpa + len > KXL_MMIO_HOLE_START && low == KXL_MMIO_HOLE_START)
		return "lies in the MMIO hole [0xc0000000, 0x100000000)";
	if (gpa < low && gpa + len > low)
		return "runs past the end of guest RAM";
	return "lies outside guest RAM";
}

void *kxl_guest_ptr(const struct kxl_guest_image *img, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < img->nr_slots; i++) {
		const struct kxl_mem_slot *s = &img->slots[i];
		if (gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len)
			return img->mem + s->memfd_offset + (gpa - s->gpa);
	}
	return NULL;
}

int mem_create(struct kxl_guest_image *img, uint64_t mem_bytes, struct kxl_diag *d)
{
	uint64_t low = mem_low_end(mem_bytes);

	img->memfd = -1;
	if (mem_bytes < KXL_MEM_MIN)
		return kxl_err(d, "guest memory of %llu MiB is too small: the builder needs at least %llu MiB",
			       (unsigned long long)(mem_bytes >> 20),
			       (unsigned long long)(KXL_MEM_MIN >> 20));
	if (mem_bytes & (KXL_PAGE - 1))
		return kxl_err(d, "guest memory of %llu bytes is not a whole number of pages",
			       (unsigned long long)mem_bytes);
	if (mem_bytes > (1ULL << 46))
		return kxl_err(d, "guest memory of %llu GiB is beyond what kxl supports (64 TiB)",
			       (unsigned long long)(mem_bytes >> 30));
	int fd = memfd_create("kxl-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return kxl_err(d, "cannot create guest memory: memfd_create: %s", strerror(errno));
	if (ftruncate(fd, (off_t)mem_bytes) < 0) {
		int e = errno;
		close(fd);
		return kxl_err(d, "cannot size guest memory to %llu MiB: %s",
			       (unsigned long long)(mem_bytes >> 20), strerror(e));
	}
	void *p = mmap(NULL, mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		close(fd);
		return kxl_err(d, "cannot map %llu MiB of guest memory: %s",
			       (unsigned long long)(mem_bytes >> 20), strerror(e));
	}
	img->memfd = fd;
	img->mem = p;
	img->mem_bytes = mem_bytes;
	img->nr_slots = 0;
	img->slots[img->nr_slots++] = (struct kxl_mem_slot){ .gpa = 0, .size = low, .memfd_offset = 0 };
	if (mem_bytes > low)
		img->slots[img->nr_slots++] = (struct kxl_mem_slot){
			.gpa = KXL_GPA_ABOVE_4G, .size = mem_bytes - low, .memfd_offset = low };
	return 0;
}

void kxl_guest_image_free(struct kxl_guest_image *img)
{
	if (!img)
		return;
	if (img->mem)
		munmap(img->mem, img->mem_bytes);
	if (img->memfd >= 0)
		close(img->memfd);
	plan_free(&img->plan);
	memset(img, 0, sizeof(*img));
	img->memfd = -1;
}

/* The memfd offset of [gpa, gpa+len), or -1 when it is not all RAM. */
static int64_t mem_offset(const struct kxl_guest_image *img, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < img->nr_slots; i++) {
		const struct kxl_mem_slot *s = &img->slots[i];
		if (gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len)
			return (int64_t)(s->memfd_offset + (gpa - s->gpa));
	}
	return -1;
}

int mem_write(struct kxl_guest_image *img, uint64_t gpa, const void *p, uint64_t len,
	      struct kxl_diag *d)
{
	int64_t off = mem_offset(img, gpa, len);
	const uint8_t *b = p;

	if (off < 0)
		return kxl_err(d, "internal error: write to [0x%llx, 0x%llx) outside guest RAM",
			       (unsigned long long)gpa, (unsigned long long)(gpa + len));
	/* pwrite fills the memfd's pages without faulting them into our
	 * mapping and without clearing them first. */
	while (len) {
		ssize_t r = pwrite(img->memfd, b, len > (1u << 30) ? (1u << 30) : (size_t)len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return kxl_err(d, "cannot write guest memory at 0x%llx: %s", (unsigned long long)gpa,
				       r < 0 ? strerror(errno) : "short write");
		b += r;
		off += r;
		gpa += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

int mem_copy_file(struct kxl_guest_image *img, uint64_t gpa, int fd, uint64_t foff, uint64_t len,
		  const char *name, struct kxl_diag *d)
{
	int64_t off = mem_offset(img, gpa, len);
	off64_t in = (off64_t)foff, out = off;

	if (off < 0)
		return kxl_err(d, "internal error: copy to [0x%llx, 0x%llx) outside guest RAM",
			       (unsigned long long)gpa, (unsigned long long)(gpa + len));
	while (len) {
		ssize_t r = copy_file_range(fd, &in, img->memfd, &out,
					    len > (1u << 30) ? (1u << 30) : (size_t)len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP || errno == EBADF))
			break;	/* no in-kernel copy here: read into the mapping */
		if (r < 0)
			return kxl_err(d, "%s: read error at 0x%llx: %s", name, (unsigned long long)in,
				       strerror(errno));
		if (r == 0)
			return kxl_err(d, "%s: file shrank while loading it", name);
		len -= (uint64_t)r;
	}
	if (len) {
		struct boot_src s = { .name = name, .fd = fd, .size = (uint64_t)in + len };
		uint64_t done = (uint64_t)in - foff;
		return src_read(&s, (uint64_t)in, kxl_guest_ptr(img, gpa + done, len), len, "segment", d);
	}
	return 0;
}
