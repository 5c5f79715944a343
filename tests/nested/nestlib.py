# nestlib.py: shared helpers of the nested-host test harness (tests/nested)
# and the nested benchmark (bench/nested): locate Debian's cloud kernel
# (via tests/fetch-debian-kernel), extract its vmlinux ELF from the LZ4
# bzImage, write newc cpio archives without external tools, and collect
# executables together with the shared libraries they need (ldd). Also the
# pieces that run-nested, run-kvm-suites and run-in-host share: the KVM
# calibration (direct or nested host), the checks of the host's
# prerequisites, the mapping of source and build paths into the host's
# /payload, and the host's root tree (Debian's python3 with the part of its
# standard library that the test drivers import, util-linux's setpriv).
import json
import os
import re
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
    # issue 16: the host's loop devices (a block device as a pygrub disk)
    'loop': 'drivers/block/loop.ko',
    # issue 14's network: the guest's virtio_net and what it needs, the
    # host's tap and bridge
    'failover': 'net/core/failover.ko',
    'net_failover': 'drivers/net/net_failover.ko',
    'virtio_net': 'drivers/net/virtio_net.ko',
    'llc': 'net/llc/llc.ko',
    'stp': 'net/802/stp.ko',
    'bridge': 'net/bridge/bridge.ko',
    'tun': 'drivers/net/tun.ko',
    'fuse': 'fs/fuse/fuse.ko',
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
        at = self.f.tell() + len(out)
        out += data
        out += b'\0' * (-len(out) % 4)
        self.f.write(out)
        return at

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
        """Adds a regular file; returns the offset of its data in the
        archive (a caller may patch it in place)."""
        name = name.strip('/')
        self.files.add(name)
        self.mkdir(os.path.dirname(name))
        return self._entry(name, stat.S_IFREG | mode, data)

    def chardev(self, name, major, minor):
        name = name.strip('/')
        self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def symlink(self, name, target):
        name = name.strip('/')
        if name in self.dirs:
            return
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
HVM_FIRMWARE = (('bios-256k.bin', ('/usr/share/seabios', '/usr/share/qemu')),
                ('kvmvapic.bin', ('/usr/share/qemu', '/usr/share/seabios')),
                ('keymaps/en-us', ('/usr/share/qemu',)),	# read even for -vnc none
                # the e1000 NIC's option ROM (package ipxe-qemu)
                ('efi-e1000.rom', ('/usr/lib/ipxe/qemu', '/usr/share/qemu')),
                ('OVMF_CODE_4M.fd', ('/usr/share/OVMF',)),	# bios = "ovmf" (package ovmf)
                ('OVMF_VARS_4M.fd', ('/usr/share/OVMF',)))


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


# Where Debian's QEMU keeps its loadable modules (CONFIG_QEMU_MODDIR).
QEMU_MODULE_DIRS = ('/usr/lib/x86_64-linux-gnu/qemu', '/usr/lib64/qemu', '/usr/lib/qemu')


def qemu_module(name):
    """The path of QEMU's loadable module NAME (block-iscsi.so: package
    qemu-block-extra), or None."""
    return next((os.path.join(d, name) for d in QEMU_MODULE_DIRS
                 if os.path.exists(os.path.join(d, name))), None)


def prepare_payload(kdir, dest, kxl=None, tools=(), cfg_dirs=(), qemu=True, qemu_modules=()):
    """Fills DEST with what the scenarios and the benchmark need: the kernel
    as bzImage (vmlinuz) and ELF (vmlinux), the guest initrd, extra.cpio,
    the xl.cfg files of CFG_DIRS, kxl, TOOLS and QEMU with its microvm
    firmware (qemu-data/), and the QEMU_MODULES (names such as
    block-iscsi.so) in DEST/qemu-modules: a QEMU binary copied elsewhere
    finds its modules only relative to itself, so the scenarios point
    QEMU_MODULE_DIR there. The modules are made executable so that kvm-host
    brings their shared libraries along (it collects those of the payload's
    executables). Returns what was left out, as a list of notes."""
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
    for m in qemu_modules:
        src = qemu_module(m)
        if src:
            os.makedirs(os.path.join(dest, 'qemu-modules'), exist_ok=True)
            shutil.copyfile(src, os.path.join(dest, 'qemu-modules', m))
            os.chmod(os.path.join(dest, 'qemu-modules', m), 0o755)
        else:
            notes.append('QEMU module %s not found (package qemu-block-extra)' % m)
    if qemu:
        q = shutil.which('qemu-system-x86_64')
        fw = qemu_firmware_dir()
        if q and fw:
            shutil.copy(q, os.path.join(dest, 'qemu-system-x86_64'))
            os.makedirs(os.path.join(dest, 'qemu-data'), exist_ok=True)
            for n in QEMU_FIRMWARE:
                shutil.copyfile(os.path.join(fw, n), os.path.join(dest, 'qemu-data', n))
            # the pc machine of hvm guests: SeaBIOS, the option ROM QEMU
            # loads with KVM, the keymap (its cfgs give QEMU -L qemu-data)
            for n, where in HVM_FIRMWARE:
                src = next((os.path.join(d, n) for d in where
                            if os.path.exists(os.path.join(d, n))), None)
                if src:
                    os.makedirs(os.path.dirname(os.path.join(dest, 'qemu-data', n)), exist_ok=True)
                    shutil.copyfile(src, os.path.join(dest, 'qemu-data', n))
                else:
                    notes.append('QEMU firmware %s not found (hvm scenarios fail)' % n)
        else:
            notes.append('QEMU or its microvm firmware not found')
    return notes


# ---- direct or nested: shared by run-nested, run-kvm-suites and run-in-host

FAST_MS = 1000.0	# a 16M-iteration loop: ~0.1 s on real KVM, ~30 s emulated


def kvm_is_fast(prog, tool):
    """True when this machine's /dev/kvm runs guest code at hardware speed:
    kvm-calibrate (TOOL) times a guest loop. KXL_NESTED_MODE=direct|host
    forces the answer. Every decision is logged under PROG's name."""
    mode = os.environ.get('KXL_NESTED_MODE')
    if mode in ('direct', 'host'):
        log(prog, 'mode forced: %s' % mode)
        return mode == 'direct'
    if not os.path.exists('/dev/kvm'):
        log(prog, 'no /dev/kvm here: using the nested host')
        return False
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        log(prog, 'no access to /dev/kvm here: using the nested host')
        return False
    if not tool or not os.access(tool, os.X_OK):
        log(prog, 'kvm-calibrate not built (%s): using the nested host' % tool)
        return False
    try:
        r = subprocess.run([tool, 'loop', '-t', '3'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True,
                           timeout=20)
    except subprocess.TimeoutExpired:
        log(prog, 'calibration guest hung: using the nested host')
        return False
    m = re.search(r'run_ms=([0-9.]+)', r.stdout)
    if r.returncode == 0 and m:
        ms = float(m.group(1))
        fast = ms < FAST_MS
        log(prog, 'calibration: 16M-iteration guest loop took %.0f ms: %s'
            % (ms, 'real KVM, running directly' if fast else 'slow KVM, using the nested host'))
        return fast
    log(prog, 'calibration: %s (rc=%d): using the nested host'
        % (r.stdout.strip() or 'no output', r.returncode))
    return False


def host_prereqs():
    """Raises Skip naming the package when this machine cannot run the
    nested host (QEMU, a static busybox, the kernel package); returns the
    unpacked kernel package."""
    if not (os.environ.get('KVM_HOST_QEMU') or shutil.which('qemu-system-x86_64')):
        raise Skip('qemu-system-x86_64 not installed (package qemu-system-x86)')
    bb = shutil.which('busybox') or '/bin/busybox'
    if not os.path.exists(bb) or shared_libs([bb]):
        raise Skip('no static busybox (package busybox-static)')
    return kernel_dir()


# ---- this machine's files as the host sees them

PAYLOAD = '/payload'


class PathMap:
    """Where the nested host sees this machine's source and build files. The
    source tree goes to /payload/src (a build directory inside it comes along
    at the same relative place, so paths relative to an xl.cfg keep working);
    a build directory outside it goes to /payload/build. add() copies a file
    or directory into STAGE (the payload directory kvm-host copies to
    /payload) and returns its path in the host."""

    def __init__(self, srcroot, builddir, stage):
        self.src = os.path.realpath(srcroot)
        self.build = os.path.realpath(builddir)
        self.stage = stage

    def host(self, path, cwd=None):
        """The host's path for PATH (relative to CWD), or None when it lies
        in neither tree."""
        p = os.path.normpath(os.path.join(cwd or self.build, path))
        rp = os.path.realpath(p)
        for root, to in ((self.src, 'src'), (self.build, 'build')):
            for cand in (p, rp):
                if cand == root or cand.startswith(root + '/'):
                    return os.path.join(PAYLOAD, to, os.path.relpath(cand, root))
        return None

    def add(self, path, cwd=None):
        h = self.host(path, cwd)
        if h is None:
            return None
        src = os.path.normpath(os.path.join(cwd or self.build, path))
        dst = os.path.join(self.stage, os.path.relpath(h, PAYLOAD))
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        elif os.path.isfile(src) and not os.path.exists(dst):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
        return h


class BuildPayload:
    """A build's commands as the nested host runs them: command() copies
    what a command names (executables with the libraries they take from the
    build, guest images, scripts with their directory) into STAGE and
    rewrites its paths (PathMap); py_sources collects the Python files among
    them, for python_root()."""

    def __init__(self, srcroot, build, stage):
        self.src = os.path.realpath(srcroot)
        self.build = os.path.realpath(build)
        self.map = PathMap(self.src, self.build, stage)
        self.py_sources = set()

    def host(self, path):
        return self.map.host(path) or PAYLOAD

    def add_python(self, d):
        """Directory D (a Python library) into the payload."""
        self.map.add(d)
        self.py_sources.update(os.path.join(d, n) for n in os.listdir(d) if n.endswith('.py'))

    def file(self, arg, cwd):
        """Copies what ARG names and returns ARG as the host sees it (a
        relative path stays relative: the layout under /payload is the
        same)."""
        path = os.path.normpath(os.path.join(cwd, arg))
        if not os.path.isfile(path) or self.map.host(path) is None:
            return arg
        real = os.path.realpath(path)
        self.map.add(path)
        if not real.startswith(self.build + '/'):
            # a script of the source tree: its directory comes along (data
            # such as tests/life/golden)
            d = os.path.dirname(real)
            if d != self.src:
                self.map.add(d)
            with open(real, 'rb') as f:
                head = f.read(64)
            if real.endswith('.py') or (head.startswith(b'#!') and b'python' in head.split(b'\n')[0]):
                self.py_sources.add(real)
        for lib in shared_libs([real]):
            if self.map.host(lib) is not None:
                self.map.add(lib)
        return self.map.host(path) if os.path.isabs(arg) else arg

    def value(self, v, cwd):
        """An environment value: each absolute path of a PATH-like list."""
        return ':'.join(self.file(x, cwd) if os.path.isabs(x) else x for x in v.split(':'))

    def command(self, cmd, cwd):
        cmd = list(cmd)
        if os.path.basename(cmd[0]).startswith('python'):
            cmd[0] = DEBIAN_PYTHON  # Meson's python3 may be a pyenv shim
        else:
            cmd[0] = self.file(cmd[0], cwd)
        return cmd[:1] + [self.file(a, cwd) for a in cmd[1:]]


# ---- the host's root tree: Debian's python3, trimmed, and setpriv

DEBIAN_PYTHON = '/usr/bin/python3'
SETPRIV = '/usr/bin/setpriv'
# Modules the host's python needs beyond what the scanned sources import:
# the codecs of a C/UTF-8 locale.
PY_EXTRA = ('encodings.utf_8', 'encodings.ascii', 'encodings.latin_1')
IMPORT_RES = (re.compile(r'\bimport\s+([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)'),
              re.compile(r'\bfrom\s+([A-Za-z_][\w.]*)\s+import\b'))
# Run by Debian's python: imports the names given (those that are not
# standard modules fail quietly) and prints the standard library's files
# that were loaded, with python's own start-up modules (site and its kin).
PY_PROBE = r'''
import importlib, json, os, sys
for n in sys.argv[1:]:
    try:
        importlib.import_module(n)
    except Exception:
        pass
files = sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())})
print(json.dumps({'stdlib': os.path.dirname(os.__file__), 'files': [f for f in files if f]}))
'''


def imported_names(paths):
    """Every module name an import statement in the files PATHS mentions,
    also inside strings (a `python3 -c "import socket"` probe)."""
    names = set()
    for p in paths:
        try:
            text = open(p, errors='replace').read()
        except OSError:
            continue
        for rx in IMPORT_RES:
            for m in rx.finditer(text):
                for n in m.group(1).split(','):
                    names.add(n.strip())
    return names


def python_root(dest, sources):
    """Puts Debian's python3 into DEST/usr/bin with the standard library
    modules the Python files SOURCES import (and what those import in turn),
    as the same interpreter loads them. Returns the stdlib's size in bytes."""
    if not os.path.exists(DEBIAN_PYTHON):
        raise Skip("Debian's python3 is not installed (%s, package python3-minimal)"
                   % DEBIAN_PYTHON)
    names = sorted(imported_names(sources) | set(PY_EXTRA))
    r = subprocess.run([DEBIAN_PYTHON, '-I', '-c', PY_PROBE] + names,
                       stdout=subprocess.PIPE, universal_newlines=True, check=True)
    probe = json.loads(r.stdout)
    stdlib = probe['stdlib']
    exe = os.path.realpath(DEBIAN_PYTHON)
    os.makedirs(os.path.join(dest, 'usr/bin'), exist_ok=True)
    # one copy, as /usr/bin/python3 (the drivers name that path)
    shutil.copy2(exe, os.path.join(dest, 'usr/bin/python3'))
    size = 0
    os.makedirs(os.path.join(dest, stdlib.lstrip('/'), 'lib-dynload'), exist_ok=True)
    for f in probe['files']:
        if not f.startswith(stdlib + '/') or '-packages/' in f or \
                os.path.basename(f) in ('sitecustomize.py', 'usercustomize.py'):
            continue
        out = os.path.join(dest, f.lstrip('/'))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copyfile(os.path.realpath(f), out)
        if f.endswith('.so'):
            os.chmod(out, 0o755)
        size += os.path.getsize(out)
    return size


def host_root(dest, py_sources):
    """The root tree the test drivers need in the host (kvm-host --root):
    Debian's python3, trimmed to what PY_SOURCES import, and util-linux's
    setpriv (busybox's has no --reuid). Returns the stdlib's size."""
    if not os.path.exists(SETPRIV):
        raise Skip("util-linux's setpriv is not installed (%s)" % SETPRIV)
    size = python_root(dest, py_sources)
    shutil.copy2(SETPRIV, os.path.join(dest, 'usr/bin/setpriv'))
    return size
