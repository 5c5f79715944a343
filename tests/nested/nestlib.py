# nestlib.py: shared helpers of the nested-host test harness (tests/nested)
# and the nested benchmark (bench/nested): locate Debian's cloud kernel
# (via tests/fetch-debian-kernel), extract its vmlinux ELF from the LZ4
# bzImage, write newc cpio archives without external tools, and collect
# executables together with the shared libraries they need (ldd).
import os
import shutil
import stat
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRCROOT = os.path.dirname(os.path.dirname(HERE))

# Debian's module paths, relative to lib/modules/<version>/kernel.
MOD_PATHS = {
    'irqbypass': 'virt/lib/irqbypass.ko',
    'kvm': 'arch/x86/kvm/kvm.ko',
    'kvm-amd': 'arch/x86/kvm/kvm-amd.ko',
    'pvpanic': 'drivers/misc/pvpanic/pvpanic.ko',
    'pvpanic-mmio': 'drivers/misc/pvpanic/pvpanic-mmio.ko',
    'button': 'drivers/acpi/button.ko',
    'evdev': 'drivers/input/evdev.ko',
    'virtio': 'drivers/virtio/virtio.ko',
    'virtio_ring': 'drivers/virtio/virtio_ring.ko',
    'virtio_mmio': 'drivers/virtio/virtio_mmio.ko',
    'virtio-rng': 'drivers/char/hw_random/virtio-rng.ko',
    'virtio_console': 'drivers/char/virtio_console.ko',
    'virtio_blk': 'drivers/block/virtio_blk.ko',
    # issue 14's network: the guest's virtio_net and what it needs, the
    # host's tap and bridge
    'failover': 'net/core/failover.ko',
    'net_failover': 'drivers/net/net_failover.ko',
    'virtio_net': 'drivers/net/virtio_net.ko',
    'llc': 'net/llc/llc.ko',
    'stp': 'net/802/stp.ko',
    'bridge': 'net/bridge/bridge.ko',
    'tun': 'drivers/net/tun.ko',
}


# The guest's disk stack (issue 14), in load order.
DISK_MODULES = ('virtio_ring', 'virtio', 'virtio_mmio', 'virtio_blk')
# The guest's network stack (issue 14), in load order.
NET_MODULES = ('virtio_ring', 'virtio', 'virtio_mmio', 'failover', 'net_failover', 'virtio_net')


class Skip(Exception):
    """A prerequisite is missing: the caller reports SKIP (exit 77)."""


def log(prog, msg):
    print('%s: %s' % (prog, msg), file=sys.stderr, flush=True)


def kernel_dir():
    """The unpacked linux-image package (KXL_KERNEL_DIR overrides)."""
    d = os.environ.get('KXL_KERNEL_DIR')
    if not d:
        fetch = os.path.join(SRCROOT, 'tests', 'fetch-debian-kernel')
        try:
            d = subprocess.run([fetch], check=True, stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as e:
            raise Skip('cannot fetch Debian cloud kernel: %s' % e)
    if not os.path.isdir(os.path.join(d, 'boot')):
        raise Skip('%s has no boot/ directory' % d)
    return d


def vmlinuz(kdir):
    boot = os.path.join(kdir, 'boot')
    names = sorted(n for n in os.listdir(boot) if n.startswith('vmlinuz-'))
    if not names:
        raise Skip('no vmlinuz in %s' % boot)
    return os.path.join(boot, names[-1])


def modules_root(kdir):
    base = os.path.join(kdir, 'lib', 'modules')
    vers = sorted(os.listdir(base))
    if not vers:
        raise Skip('no modules in %s' % base)
    return os.path.join(base, vers[-1], 'kernel')


def module_file(kdir, name):
    """Path of module NAME, decompressed into the cache if needed (busybox
    insmod reads plain .ko only)."""
    base = os.path.join(modules_root(kdir), MOD_PATHS[name])
    if os.path.exists(base):
        return base
    for ext, cmd in (('.xz', ['xz', '-dc']), ('.zst', ['zstd', '-dcq']),
                     ('.gz', ['gzip', '-dc'])):
        if os.path.exists(base + ext):
            out = os.path.join(kdir, 'plain-ko', name + '.ko')
            if not os.path.exists(out):
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out + '.tmp', 'wb') as f:
                    subprocess.run(cmd + [base + ext], stdout=f, check=True)
                os.rename(out + '.tmp', out)
            return out
    raise Skip('module %s not found under %s' % (name, modules_root(kdir)))


def vmlinux(kdir):
    """The ELF inside the bzImage, extracted once into the cache."""
    out = os.path.join(kdir, 'vmlinux')
    if os.path.exists(out):
        return out
    img = open(vmlinuz(kdir), 'rb').read()
    setup_sects = img[0x1f1] or 4
    poff, plen = struct.unpack_from('<II', img, 0x248)
    payload = img[(setup_sects + 1) * 512 + poff:][:plen]
    if payload[:4] == b'\x02\x21\x4c\x18':
        data = lz4_legacy_decompress(payload)
    elif payload[:2] == b'\x1f\x8b':
        import zlib
        data = zlib.decompressobj(31).decompress(payload)
    elif payload[:6] == b'\xfd7zXZ\x00':
        data = subprocess.run(['xz', '-dcq'], input=payload, stdout=subprocess.PIPE).stdout
    elif payload[:4] == b'\x28\xb5\x2f\xfd':
        data = subprocess.run(['zstd', '-dcq'], input=payload, stdout=subprocess.PIPE).stdout
    else:
        raise Skip('unknown bzImage payload compression %r' % payload[:6])
    if data[:4] != b'\x7fELF':
        raise Skip('bzImage payload did not decompress to an ELF')
    with open(out + '.tmp', 'wb') as f:
        f.write(data)
    os.rename(out + '.tmp', out)
    return out


def lz4_legacy_decompress(buf):
    """LZ4 legacy frame via the lz4 tool (it reads the legacy format)."""
    if not shutil.which('lz4'):
        raise Skip('lz4 is not installed')
    p = subprocess.run(['lz4', '-dcq'], input=buf, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    # The trailing u32 size makes lz4 complain after writing everything.
    return p.stdout


class Cpio:
    """A newc cpio archive written in memory order, directories first."""

    def __init__(self, f):
        self.f = f
        self.ino = 1
        self.dirs = set()
        self.files = set()

    def _entry(self, name, mode, data=b'', nlink=1, rdev=(0, 0)):
        name_b = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08x' % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        out = hdr.encode() + name_b
        out += b'\0' * (-len(out) % 4)
        out += data
        out += b'\0' * (-len(out) % 4)
        self.f.write(out)

    def mkdir(self, name):
        name = name.strip('/')
        if not name or name in self.dirs:
            return
        parent = os.path.dirname(name)
        if parent:
            self.mkdir(parent)
        self.dirs.add(name)
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o644):
        name = name.strip('/')
        self.files.add(name)
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFREG | mode, data)

    def chardev(self, name, major, minor):
        name = name.strip('/')
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def symlink(self, name, target):
        name = name.strip('/')
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def add_tree(self, src, dst):
        """Copy directory SRC into the archive at DST, following symlinks."""
        for root, dirs, files in os.walk(src, followlinks=True):
            dirs.sort()
            rel = os.path.relpath(root, src)
            ddir = dst if rel == '.' else os.path.join(dst, rel)
            self.mkdir(ddir)
            for n in sorted(files):
                p = os.path.join(root, n)
                self.file(os.path.join(ddir, n), open(p, 'rb').read(),
                          os.stat(p).st_mode & 0o777)

    def close(self):
        self._entry('TRAILER!!!', 0)


def shared_libs(paths):
    """Every shared library (and the loader) the ELF executables in PATHS
    need, as absolute host paths."""
    libs = set()
    for p in paths:
        try:
            with open(p, 'rb') as f:
                if f.read(4) != b'\x7fELF':
                    continue
        except OSError:
            continue
        r = subprocess.run(['ldd', p], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, universal_newlines=True)
        for line in r.stdout.splitlines():
            parts = line.split()
            if '=>' in parts:
                i = parts.index('=>')
                if i + 1 < len(parts) and parts[i + 1].startswith('/'):
                    libs.add(parts[i + 1])
            elif parts and parts[0].startswith('/'):
                libs.add(parts[0])
    return sorted(libs)


def executables(tree):
    out = []
    for root, _dirs, files in os.walk(tree, followlinks=True):
        for n in files:
            p = os.path.join(root, n)
            if os.path.isfile(p) and os.access(p, os.X_OK):
                out.append(p)
    return out


def cpu_khz():
    """The host TSC rate for tsc_early_khz (see kvm-host)."""
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('cpu MHz'):
                return int(float(line.split(':')[1]) * 1000)
    except OSError:
        pass
    return 0


def mkdtemp(prefix):
    base = os.environ.get('KXL_TEST_TMP') or tempfile.gettempdir()
    return tempfile.mkdtemp(prefix=prefix, dir=base)


ACPI_ACTION = b'#!/bin/sh\necho "KXL-ACPI-POWER $0"\npoweroff -f\n'
EXTRA_TEXT = b'KXL-EXTRA-CONTENT from the second cpio archive\n'
QEMU_FIRMWARE = ('bios-microvm.bin', 'pvh.bin', 'linuxboot_dma.bin')


def guest_initrd(kdir, out):
    """The busybox initramfs of the Linux guest (init: guest-init.sh)."""
    busybox = shutil.which('busybox') or '/bin/busybox'
    with open(out, 'wb') as f:
        c = Cpio(f)
        for d in ('bin', 'proc', 'sys', 'dev', 'tmp', 'lib/modules'):
            c.mkdir(d)
        c.file('bin/busybox', open(busybox, 'rb').read(), 0o755)
        c.symlink('bin/sh', 'busybox')
        c.file('init', open(os.path.join(HERE, 'guest-init.sh'), 'rb').read(), 0o755)
        for m in ('pvpanic', 'pvpanic-mmio', 'button', 'evdev', 'virtio', 'virtio_ring',
                  'virtio_mmio', 'virtio-rng', 'virtio_console'):
            c.file('lib/modules/%s.ko' % m, open(module_file(kdir, m), 'rb').read())
        # issue 14's disks: virtio_blk and the modules it needs, each once
        # (ext4 and its helpers are built into Debian's cloud kernel)
        for m in DISK_MODULES + NET_MODULES:
            if 'lib/modules/%s.ko' % m not in c.files:
                c.file('lib/modules/%s.ko' % m, open(module_file(kdir, m), 'rb').read())
        for ev in ('PWRF', 'PWRB'):
            c.file('etc/acpi/%s/00000080' % ev, ACPI_ACTION, 0o755)
        c.close()


def extra_cpio(out):
    with open(out, 'wb') as f:
        c = Cpio(f)
        c.file('extra/kxl-extra.txt', EXTRA_TEXT)
        c.close()


def qemu_firmware_dir():
    for d in ('/usr/share/qemu', '/usr/share/seabios', '/usr/local/share/qemu'):
        if all(os.path.exists(os.path.join(d, n)) for n in QEMU_FIRMWARE):
            return d
    return None


def prepare_payload(kdir, dest, kxl=None, tools=(), cfg_dirs=(), qemu=True):
    """Fills DEST with what the scenarios and the benchmark need: the kernel
    as bzImage (vmlinuz) and ELF (vmlinux), the guest initrd, extra.cpio,
    the xl.cfg files of CFG_DIRS, kxl, TOOLS and QEMU with its microvm
    firmware (qemu-data/). Returns what was left out, as a list of notes."""
    notes = []
    os.makedirs(dest, exist_ok=True)
    shutil.copyfile(vmlinuz(kdir), os.path.join(dest, 'vmlinuz'))
    shutil.copyfile(vmlinux(kdir), os.path.join(dest, 'vmlinux'))
    guest_initrd(kdir, os.path.join(dest, 'initrd.cpio'))
    extra_cpio(os.path.join(dest, 'extra.cpio'))
    for d in cfg_dirs:
        for n in sorted(os.listdir(d)):
            if n.endswith('.cfg') or n.endswith('.sh'):
                shutil.copyfile(os.path.join(d, n), os.path.join(dest, n))
    if kxl and os.access(kxl, os.X_OK):
        shutil.copy(kxl, os.path.join(dest, 'kxl'))
    else:
        notes.append('kxl binary not found (%s)' % kxl)
    for t in tools:
        shutil.copy(t, os.path.join(dest, os.path.basename(t)))
    if qemu:
        q = shutil.which('qemu-system-x86_64')
        fw = qemu_firmware_dir()
        if q and fw:
            shutil.copy(q, os.path.join(dest, 'qemu-system-x86_64'))
            os.makedirs(os.path.join(dest, 'qemu-data'), exist_ok=True)
            for n in QEMU_FIRMWARE:
                shutil.copyfile(os.path.join(fw, n), os.path.join(dest, 'qemu-data', n))
        else:
            notes.append('QEMU or its microvm firmware not found')
    return notes
