/*
 * xlshim: an LD_PRELOAD library that lets Debian's real xl 4.17 run
 * `xl -N create CFG` (dry run) on a machine without Xen.  It answers the
 * calls that libxl makes into libxenctrl, libxenstore and libxencall while
 * it allocates its context and looks at the host: the CPUs Linux has
 * configured and online, and hypercalls that succeed doing nothing.  The
 * differential tests (tests/xl-diff) use it to compare kxl's JSON with
 * xl's.  By default the host has one NUMA node holding every CPU (what the
 * peer corpus was recorded with); XLSHIM_HOST=sysfs makes it read the nodes
 * and each CPU's node from Linux's sysfs instead, as kxl does.
 * Usage:
 *   LD_PRELOAD=build/tests/xlshim/libxlshim.so /usr/lib/xen-4.17/bin/xl -N create f.cfg
 * No Xen headers are needed: the prototypes below are those of Xen 4.17's
 * xenctrl.h, xenstore.h and xencall.h, and the physinfo, cputopo and
 * meminfo layouts are those of public/sysctl.h at
 * XEN_SYSCTL_INTERFACE_VERSION 0x15.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* Opaque handles: libxenctrl's own code reads a few fields of an
 * xc_interface (its logger, its xencall handle), so the fake one is a
 * zeroed block larger than the real structure. */
typedef struct xc_interface_core xc_interface;
typedef struct xentoollog_logger xentoollog_logger;
struct xs_handle;
typedef struct xencall_handle xencall_handle;

/* struct xen_sysctl_physinfo, Xen 4.17 (sysctl interface 0x15). */
typedef struct shim_physinfo {
    uint32_t threads_per_core;
    uint32_t cores_per_socket;
    uint32_t nr_cpus;
    uint32_t max_cpu_id;
    uint32_t nr_nodes;
    uint32_t max_node_id;
    uint32_t cpu_khz;
    uint32_t capabilities;
    uint32_t arch_capabilities;
    uint32_t pad;
    uint64_t total_pages __attribute__((aligned(8)));
    uint64_t free_pages __attribute__((aligned(8)));
    uint64_t scrub_pages __attribute__((aligned(8)));
    uint64_t outstanding_pages __attribute__((aligned(8)));
    uint64_t max_mfn __attribute__((aligned(8)));
    uint32_t hw_cap[8];
} xc_physinfo_t;

/* struct xen_sysctl_cputopo and xen_sysctl_meminfo. */
typedef struct shim_cputopo {
    uint32_t core;
    uint32_t socket;
    uint32_t node;
} xc_cputopo_t;

typedef struct shim_meminfo {
    uint64_t memsize;
    uint64_t memfree;
} xc_meminfo_t;

/* XEN_SYSCTL_PHYSCAP_hvm | _pv | _hap | _shadow | _iommu_hap_pt_share */
#define SHIM_PHYSCAP (1u << 0 | 1u << 1 | 1u << 3 | 1u << 4 | 1u << 5)

/* Prototypes as in Xen's headers (the library defines them, so declare). */
SHIM_EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger,
                                            xentoollog_logger *dombuild_logger,
                                            unsigned open_flags);
SHIM_EXPORT int xc_interface_close(xc_interface *xch);
SHIM_EXPORT int xc_version(xc_interface *xch, int cmd, void *arg);
SHIM_EXPORT int xc_get_max_cpus(xc_interface *xch);
SHIM_EXPORT int xc_get_online_cpus(xc_interface *xch);
SHIM_EXPORT int xc_get_max_nodes(xc_interface *xch);
SHIM_EXPORT int xc_get_cpu_levelling_caps(xc_interface *xch, uint32_t *caps);
SHIM_EXPORT int xc_physinfo(xc_interface *xch, xc_physinfo_t *info);
SHIM_EXPORT int xc_cputopoinfo(xc_interface *xch, unsigned *max_cpus,
                               xc_cputopo_t *cputopo);
SHIM_EXPORT int xc_numainfo(xc_interface *xch, unsigned *max_nodes,
                            xc_meminfo_t *meminfo, uint32_t *distance);
SHIM_EXPORT struct xs_handle *xs_open(unsigned long flags);
SHIM_EXPORT struct xs_handle *xs_daemon_open(void);
SHIM_EXPORT void xs_close(struct xs_handle *xsh);
SHIM_EXPORT void xs_daemon_close(struct xs_handle *xsh);
SHIM_EXPORT int xs_fileno(struct xs_handle *h);
SHIM_EXPORT int xencall0(xencall_handle *xcall, unsigned int op);
SHIM_EXPORT int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1);
SHIM_EXPORT int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
                         uint64_t arg2);
SHIM_EXPORT int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1,
                         uint64_t arg2, uint64_t arg3);
SHIM_EXPORT int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1,
                         uint64_t arg2, uint64_t arg3, uint64_t arg4);
SHIM_EXPORT int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1,
                         uint64_t arg2, uint64_t arg3, uint64_t arg4,
                         uint64_t arg5);
SHIM_EXPORT void *xencall_alloc_buffer(xencall_handle *xcall, size_t size);
SHIM_EXPORT void xencall_free_buffer(xencall_handle *xcall, void *p);
SHIM_EXPORT void *xencall_alloc_buffer_pages(xencall_handle *xcall,
                                             size_t nr_pages);
SHIM_EXPORT void xencall_free_buffer_pages(xencall_handle *xcall, void *p,
                                           size_t nr_pages);

/* ---- libxenctrl ---------------------------------------------------- */

xc_interface *xc_interface_open(xentoollog_logger *logger,
                                xentoollog_logger *dombuild_logger,
                                unsigned open_flags)
{
    return calloc(1, 4096);
}

int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

/* ---- host facts ------------------------------------------------------ */

#define SHIM_MAX_CPUS 4096
#define SHIM_MAX_NODES 64

/* CPUs Linux has configured (Xen's max_cpus) and online, at least one. */
static int host_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_CONF);
    return n > 0 && n <= SHIM_MAX_CPUS ? (int)n : 1;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n <= host_cpus() ? (int)n : host_cpus();
}

static int use_sysfs(void)
{
    const char *v = getenv("XLSHIM_HOST");
    return v && !strcmp(v, "sysfs");
}

/* NUMA nodes: one, or (XLSHIM_HOST=sysfs) the nodeN entries of sysfs. */
static int host_nodes(void)
{
    DIR *d;
    struct dirent *e;
    int n = 0;

    if (!use_sysfs() || !(d = opendir("/sys/devices/system/node")))
        return 1;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            n++;
    closedir(d);
    return n > 0 && n <= SHIM_MAX_NODES ? n : 1;
}

/* The node of CPU cpu: 0, or the nodeN link in its sysfs directory. */
static uint32_t cpu_node(int cpu)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    uint32_t node = 0;

    if (!use_sysfs())
        return 0;
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", cpu);
    if (!(d = opendir(path)))
        return 0;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9') {
            node = (uint32_t)strtoul(e->d_name + 4, NULL, 10);
            break;
        }
    closedir(d);
    return node;
}

/* ---- libxenctrl: host information ------------------------------------ */

/* XENVER_* commands from public/version.h. */
int xc_version(xc_interface *xch, int cmd, void *arg)
{
    switch (cmd) {
    case 0: /* XENVER_version */
        return 4 << 16 | 17;
    case 1: /* XENVER_extraversion: char[16] */
        strcpy(arg, ".7");
        return 0;
    case 2: /* XENVER_compile_info: 4 x char[64] */
        memset(arg, 0, 4 * 64);
        return 0;
    case 3: /* XENVER_capabilities: char[1024] */
        strcpy(arg, "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        return 0;
    case 4: /* XENVER_changeset: char[64] */
        strcpy(arg, "xlshim");
        return 0;
    case 5: /* XENVER_platform_parameters: unsigned long virt_start */
        *(unsigned long *)arg = 0xffff800000000000UL;
        return 0;
    case 6: /* XENVER_get_features: {uint32 index, uint32 map} */
        ((uint32_t *)arg)[1] = 0;
        return 0;
    case 7: /* XENVER_pagesize */
        return 4096;
    case 9: /* XENVER_commandline: char[1024] */
        *(char *)arg = '\0';
        return 0;
    default:
        errno = ENOSYS;
        return -1;
    }
}

int xc_get_max_cpus(xc_interface *xch)
{
    return host_cpus();
}

int xc_get_online_cpus(xc_interface *xch)
{
    return online_cpus();
}

int xc_get_max_nodes(xc_interface *xch)
{
    return host_nodes();
}

int xc_get_cpu_levelling_caps(xc_interface *xch, uint32_t *caps)
{
    *caps = 0;
    return 0;
}

int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
    int cpus = host_cpus(), nodes = host_nodes();

    memset(info, 0, sizeof(*info));
    info->threads_per_core = 1;
    info->cores_per_socket = (uint32_t)cpus;
    info->nr_cpus = (uint32_t)online_cpus();
    info->max_cpu_id = (uint32_t)cpus - 1;
    info->nr_nodes = (uint32_t)nodes;
    info->max_node_id = (uint32_t)nodes - 1;
    info->cpu_khz = 2000000;
    info->capabilities = SHIM_PHYSCAP;
    info->total_pages = 1 << 20;     /* 4 GiB */
    info->free_pages = 1 << 19;
    info->max_mfn = (1 << 20) - 1;
    return 0;
}

/* With cputopo NULL, the number of CPUs; otherwise one entry per CPU:
 * core i of socket 0 on its node. */
int xc_cputopoinfo(xc_interface *xch, unsigned *max_cpus, xc_cputopo_t *cputopo)
{
    unsigned n = (unsigned)host_cpus();

    if (cputopo) {
        if (*max_cpus < n)
            n = *max_cpus;
        for (unsigned i = 0; i < n; i++) {
            cputopo[i].core = i;
            cputopo[i].socket = 0;
            cputopo[i].node = cpu_node((int)i);
        }
    }
    *max_cpus = n;
    return 0;
}

/* With meminfo NULL, the number of nodes; otherwise 2 GiB each and the
 * usual ACPI SLIT distances (10 local, 20 remote). */
int xc_numainfo(xc_interface *xch, unsigned *max_nodes, xc_meminfo_t *meminfo,
                uint32_t *distance)
{
    unsigned n = (unsigned)host_nodes();

    if (meminfo || distance) {
        if (*max_nodes < n)
            n = *max_nodes;
        for (unsigned i = 0; i < n; i++) {
            if (meminfo) {
                meminfo[i].memsize = 2ULL << 30;
                meminfo[i].memfree = 1ULL << 30;
            }
            if (distance)
                for (unsigned j = 0; j < n; j++)
                    distance[i * n + j] = i == j ? 10 : 20;
        }
    }
    *max_nodes = n;
    return 0;
}

/* ---- libxenstore --------------------------------------------------- */

static char xs_dummy[64];

struct xs_handle *xs_open(unsigned long flags)
{
    return (struct xs_handle *)xs_dummy;
}

struct xs_handle *xs_daemon_open(void)
{
    return (struct xs_handle *)xs_dummy;
}

void xs_close(struct xs_handle *xsh)
{
}

void xs_daemon_close(struct xs_handle *xsh)
{
}

/* A descriptor nobody will read from: /dev/null's would be ready for
 * reading; an end of a pipe that is never written is quiet. */
int xs_fileno(struct xs_handle *h)
{
    static int fds[2] = {-1, -1};

    if (fds[0] < 0 && pipe(fds) != 0)
        return -1;
    return fds[0];
}

/* ---- libxencall: every hypercall succeeds and returns 0 ------------ */

int xencall0(xencall_handle *xcall, unsigned int op)
{
    return 0;
}

int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1)
{
    return 0;
}

int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2)
{
    return 0;
}

int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3)
{
    return 0;
}

int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3, uint64_t arg4)
{
    return 0;
}

int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1,
             uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5)
{
    return 0;
}

void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
    return calloc(1, size ? size : 1);
}

void xencall_free_buffer(xencall_handle *xcall, void *p)
{
    free(p);
}

void *xencall_alloc_buffer_pages(xencall_handle *xcall, size_t nr_pages)
{
    void *p = mmap(NULL, nr_pages * 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void xencall_free_buffer_pages(xencall_handle *xcall, void *p, size_t nr_pages)
{
    if (p)
        munmap(p, nr_pages * 4096);
}
