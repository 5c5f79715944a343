#!/usr/bin/env python3
# bl-create.py KXL GUEST_ELF: `kxl check' and `kxl layout' (the dry build:
# guest memory built, nothing run) on configs with bootloader = "pygrub",
# whose disk is built at test time (mkfs.ext4 -d, sfdisk; never committed)
# and holds the test kernel, an initramfs and a grub.cfg. Checks that the
# bootloader's kernel, ramdisk and arguments reach the builder (sizes in the
# load plan, the arguments in check's note), that kernel=/ramdisk=/cmdline=
# and bootloader_args keep xl's meaning, that every bootloader name of
# pygrub means kxl's own and any other program is refused, and that a disk
# without a kernel is refused by check with one line naming the disk. TAP.
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

KXL, GUEST = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix='kxl-bl-create-')
n = 0
failed = 0


def ok(cond, name, detail=''):
    global n, failed
    n += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n, name))
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print('# ' + line)


def run(*cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


GRUB = """set default=0
set timeout=5
menuentry 'Test' {
\tlinux /boot/vmlinuz-1.0 root=/dev/xvda1 ro  console=hvc0
\tinitrd /boot/initrd.img-1.0
}
menuentry 'Other' {
\tlinux /boot/vmlinuz-1.0 other
}
"""
INITRD = b'070701' + b'0' * 200 + b'TRAILER!!!\0'


def image(name, grub=GRUB):
    root = os.path.join(TMP, name + '.d')
    os.makedirs(os.path.join(root, 'boot/grub'))
    shutil.copy(GUEST, os.path.join(root, 'boot/vmlinuz-1.0'))
    with open(os.path.join(root, 'boot/initrd.img-1.0'), 'wb') as f:
        f.write(INITRD)
    if grub is not None:
        with open(os.path.join(root, 'boot/grub/grub.cfg'), 'w') as f:
            f.write(grub)
    fs = os.path.join(TMP, name + '.fs')
    subprocess.run(['mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', '-d', root, fs, '8M'],
                   check=True, stdout=subprocess.DEVNULL)
    img = os.path.join(TMP, name + '.img')
    with open(img, 'wb') as f:
        f.truncate(10 << 20)
    subprocess.run(['sfdisk', '-q', img], input=b'label: dos\nstart=2048, type=83\n', check=True,
                   stdout=subprocess.DEVNULL)
    with open(fs, 'rb') as src, open(img, 'r+b') as dst:
        dst.seek(1 << 20)
        shutil.copyfileobj(src, dst)
    return img


def cfg(name, img, extra='', bootloader='pygrub', typ='pvh'):
    p = os.path.join(TMP, name + '.cfg')
    with open(p, 'w') as f:
        f.write('name = "%s"\ntype = "%s"\nmemory = 64\nbootloader = "%s"\n'
                'disk = [ "%s,raw,xvda,w" ]\n%s' % (name, typ, bootloader, img, extra))
    return p


def layout(c):
    r = run(KXL, 'layout', '--json', c)
    if r.returncode:
        return None, r
    return json.loads(r.stdout), r


def region(plan, what):
    return [g for g in plan['regions'] if g['what'].startswith(what)]


img = image('main')
ksize = os.path.getsize(GUEST)

# check: accepted, the note says what the bootloader found
c = cfg('plain', img)
r = run(KXL, 'check', c)
ok(r.returncode == 0, 'check accepts a bootloader config whose disk is readable', r.stdout + r.stderr)
ok('bootloader: kernel %s:/boot/vmlinuz-1.0 (%d bytes), ramdisk %s:/boot/initrd.img-1.0, '
   'arguments "root=/dev/xvda1 ro  console=hvc0"' % (img, ksize, img) in r.stderr,
   'check notes the kernel, ramdisk and arguments (spaces as written)', r.stderr)

# layout: the memfds reach the builder
plan, r = layout(c)
ok(plan is not None, 'layout builds guest memory from the bootloader\'s memfds', r.stderr)
if plan:
    k = region(plan, 'kernel PT_LOAD')
    ok(k and all(g['source'] == img + ':/boot/vmlinuz-1.0' for g in k),
       'the kernel\'s segments come from the disk\'s /boot/vmlinuz-1.0', json.dumps(k))
    m = region(plan, 'module 0')
    ok(len(m) == 1 and int(m[0]['size'], 16) == len(INITRD) and
       m[0]['source'] == img + ':/boot/initrd.img-1.0', 'the ramdisk is module 0, byte count equal',
       json.dumps(m))
    cl = region(plan, 'command lines')
    ok(cl and int(cl[0]['size'], 16) == len('root=/dev/xvda1 ro  console=hvc0') + 1,
       'the command line is the entry\'s', json.dumps(cl))

# the same disk as a block device (a read-only loop device, phy: as xl
# writes it): check and layout read the kernel from it
why = ('not root' if os.geteuid() != 0 else 'no losetup' if not shutil.which('losetup') else None)
if not why:
    lo = run('losetup', '-r', '-f', '--show', img)
    why = None if lo.returncode == 0 else 'losetup: ' + lo.stderr.strip()
if why:
    ok(True, 'a block device as the first disk # SKIP %s' % why)
else:
    dev = lo.stdout.strip()
    try:
        c = os.path.join(TMP, 'blockdev.cfg')
        with open(c, 'w') as f:
            f.write('name = "blockdev"\ntype = "pvh"\nmemory = 64\nbootloader = "pygrub"\n'
                    'disk = [ "phy:%s,xvda,r" ]\n' % dev)
        r = run(KXL, 'check', c)
        ok(r.returncode == 0 and 'bootloader: kernel %s:/boot/vmlinuz-1.0 (%d bytes)' % (dev, ksize) in r.stderr,
           'check reads the kernel from a block device as the first disk (%s)' % dev, r.stdout + r.stderr)
        plan, r = layout(c)
        ok(plan is not None and region(plan, 'kernel PT_LOAD') and
           all(g['source'] == dev + ':/boot/vmlinuz-1.0' for g in region(plan, 'kernel PT_LOAD')),
           'layout builds from the block device\'s kernel', r.stderr)
    finally:
        run('losetup', '-d', dev)

# an installer-style ISO 9660 image as a devtype=cdrom first disk
if not shutil.which('xorriso'):
    ok(True, 'an ISO 9660 cdrom as the first disk # SKIP no xorriso')
else:
    root = os.path.join(TMP, 'iso.d')
    os.makedirs(os.path.join(root, 'boot/grub'))
    shutil.copy(GUEST, os.path.join(root, 'boot/vmlinuz-1.0'))
    with open(os.path.join(root, 'boot/initrd.img-1.0'), 'wb') as f:
        f.write(INITRD)
    with open(os.path.join(root, 'boot/grub/grub.cfg'), 'w') as f:
        f.write(GRUB)
    iso = os.path.join(TMP, 'cd.iso')
    subprocess.run(['xorriso', '-as', 'mkisofs', '-R', '-J', '-o', iso, root], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = os.path.join(TMP, 'cdrom.cfg')
    with open(c, 'w') as f:
        f.write('name = "cdrom"\ntype = "pvh"\nmemory = 64\nbootloader = "pygrub"\n'
                'disk = [ "%s,raw,xvdc,r,devtype=cdrom" ]\n' % iso)
    r = run(KXL, 'check', c)
    ok(r.returncode == 0 and 'bootloader: kernel %s:/boot/vmlinuz-1.0 (%d bytes), ramdisk %s:/boot/initrd.img-1.0'
       % (iso, ksize, iso) in r.stderr, 'check reads the kernel from an ISO 9660 cdrom first disk',
       r.stdout + r.stderr)

# every name of pygrub is kxl's own; kxl-bootloader too
for i, name in enumerate(['/usr/bin/pygrub', '/usr/lib/xen-4.17/bin/pygrub', 'kxl-bootloader']):
    r = run(KXL, 'check', cfg('name%d' % i, img, bootloader=name))
    ok(r.returncode == 0 and 'bootloader: kernel' in r.stderr, 'bootloader = "%s" is kxl\'s own' % name,
       r.stdout + r.stderr)

# another program is refused, with the reason
r = run(KXL, 'layout', cfg('other', img, bootloader='/usr/local/bin/my-loader'))
ok(r.returncode != 0 and 'kxl runs only its own bootloader' in r.stderr,
   'another bootloader program is refused', r.stderr)
r = run(KXL, 'check', cfg('other', img, bootloader='/usr/local/bin/my-loader'))
ok(r.returncode == 1 and 'kxl runs only its own bootloader' in r.stderr, 'check refuses it too', r.stderr)

# bootloader_args: --entry picks the second entry (no ramdisk there)
r = run(KXL, 'check', cfg('entry', img, 'bootloader_args = [ "--entry=1" ]\n'))
ok(r.returncode == 0 and 'no ramdisk, arguments "other"' in r.stderr, 'bootloader_args --entry=1',
   r.stderr)
r = run(KXL, 'check', cfg('entry2', img, 'bootloader_args = [ "-q", "--entry", "Other" ]\n'))
ok(r.returncode == 0 and 'arguments "other"' in r.stderr, 'bootloader_args --entry TITLE', r.stderr)
r = run(KXL, 'check', cfg('badarg', img, 'bootloader_args = [ "--isconfig" ]\n'))
ok(r.returncode == 1 and "bootloader_args: `--isconfig' is not an option" in r.stderr,
   'an option kxl\'s bootloader does not take is refused', r.stderr)

# cmdline= (and root=/extra=) are extra arguments, as libxl passes --args
r = run(KXL, 'check', cfg('args', img, 'extra = "quiet"\n'))
ok(r.returncode == 0 and 'arguments "root=/dev/xvda1 ro  console=hvc0 quiet"' in r.stderr,
   'extra= is appended to the entry\'s arguments', r.stderr)

# kernel= and ramdisk=: files inside the guest's disk, the menu unused
r = run(KXL, 'check', cfg('direct', img, 'kernel = "/boot/vmlinuz-1.0"\nramdisk = "/boot/initrd.img-1.0"\n'
                          'cmdline = "console=hvc0 direct"\n'))
ok(r.returncode == 0 and 'ramdisk %s:/boot/initrd.img-1.0, arguments "console=hvc0 direct"' % img
   in r.stderr, 'kernel=, ramdisk= and cmdline= name files inside the disk', r.stderr)
r = run(KXL, 'check', cfg('direct-missing', img, 'kernel = "/boot/nothing"\n'))
ok(r.returncode == 1 and '/boot/nothing' in r.stderr, 'kernel= naming no file inside the disk is refused',
   r.stderr)

# type = "pv" with a bootloader (almost every Xen guest): the kernel runs as PVH
r = run(KXL, 'check', cfg('pv', img, typ='pv'))
ok(r.returncode == 0 and 'bootloader: kernel' in r.stderr, 'a pv config with pygrub is checked by booting '
   'its kernel as PVH', r.stdout + r.stderr)

# refused cleanly: no menu, no disk, a disk that is a directory
r = run(KXL, 'check', cfg('nomenu', image('nomenu', grub=None)))
errs = [line for line in r.stderr.splitlines() if 'error' in line]
ok(r.returncode == 1 and len(errs) == 1 and 'nomenu.img' in errs[0], 'a disk without a menu: one error '
   'naming the disk', r.stderr)
p = os.path.join(TMP, 'nodisk.cfg')
with open(p, 'w') as f:
    f.write('name = "nodisk"\ntype = "pvh"\nmemory = 64\nbootloader = "pygrub"\n')
r = run(KXL, 'layout', p)
ok(r.returncode != 0 and 'the config has none' in r.stderr, 'a config without a disk is refused', r.stderr)
r = run(KXL, 'check', cfg('garbage', img, 'bootloader_args = [ "--offset=1" ]\n'))
ok(r.returncode == 1 and 'error' in r.stderr, 'a filesystem offset with no filesystem is refused', r.stderr)

# a qcow2 copy, read through qemu-storage-daemon's FUSE export
qemu = shutil.which('qemu-img') and shutil.which('qemu-storage-daemon') and os.path.exists('/dev/fuse')
if qemu:
    q = os.path.join(TMP, 'main.qcow2')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', img, q], check=True)
    p = os.path.join(TMP, 'qcow2.cfg')
    with open(p, 'w') as f:
        f.write('name = "q"\ntype = "pvh"\nmemory = 64\nbootloader = "pygrub"\n'
                'disk = [ "format=qcow2,vdev=xvda,target=%s" ]\n' % q)
    before = set(os.listdir('/tmp'))
    r = run(KXL, 'check', p)
    if 'FUSE' in r.stderr and r.returncode:
        print('ok %d - qcow2 # SKIP no FUSE mount here: %s' % (n + 1, r.stderr.strip().splitlines()[0]))
        n += 1
    else:
        ok(r.returncode == 0 and 'bootloader: kernel %s:/boot/vmlinuz-1.0 (%d bytes), ramdisk' % (q, ksize)
           in r.stderr, 'a qcow2 disk is read through qemu-storage-daemon', r.stdout + r.stderr)
        plan, r = layout(p)
        ok(plan is not None and int(region(plan, 'module 0')[0]['size'], 16) == len(INITRD),
           'layout from the qcow2 disk', r.stderr)
        left = [f for f in set(os.listdir('/tmp')) - before if f.startswith('kxl-bl.')]
        ok(not left, 'qemu-storage-daemon\'s directory is removed', left)
        r = run('ps', '-eo', 'args')
        ok(q not in r.stdout, 'qemu-storage-daemon has ended', r.stdout)
        # the image in use with its write lock held, as the domain's own
        # daemon holds it at a reboot: still read (force-share)
        sock = os.path.join(TMP, 'nbd.sock')
        holder = subprocess.Popen(['qemu-storage-daemon', '--blockdev',
                                   'driver=file,node-name=f,filename=' + q, '--blockdev',
                                   'driver=qcow2,node-name=d,file=f', '--nbd-server',
                                   'addr.type=unix,addr.path=' + sock, '--export',
                                   'type=nbd,id=e,node-name=d,writable=on'],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                if os.path.exists(sock):
                    break
                time.sleep(0.02)
            r = run(KXL, 'check', p)
            ok(r.returncode == 0 and 'bootloader: kernel %s:/boot/vmlinuz-1.0' % q in r.stderr,
               'a qcow2 disk whose write lock another qemu-storage-daemon holds', r.stdout + r.stderr)
        finally:
            holder.kill()
            holder.wait()
        # not root: the daemon gets a user namespace of its own for the mount
        if os.geteuid() == 0 and shutil.which('setpriv'):
            os.chmod(TMP, 0o755)
            os.chmod(q, 0o644)
            p2 = os.path.join(TMP, 'qcow2-ro.cfg')
            with open(p2, 'w') as f:
                f.write('name = "q"\ntype = "pvh"\nmemory = 64\nbootloader = "pygrub"\n'
                        'disk = [ "format=qcow2,vdev=xvda,access=ro,target=%s" ]\n' % q)
            os.chmod(p2, 0o644)
            r = run('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'env',
                    'XDG_RUNTIME_DIR=', 'HOME=/tmp', KXL, 'check', p2)
            ok(r.returncode == 0 and 'bootloader: kernel %s:/boot/vmlinuz-1.0' % q in r.stderr,
               'a qcow2 disk as an unprivileged user (nobody)', r.stdout + r.stderr)
else:
    print('ok %d - qcow2 # SKIP qemu-img, qemu-storage-daemon or /dev/fuse missing' % (n + 1))
    n += 1

# create -c on a terminal shows the menu first (Down, Enter: the second
# entry); the note says what was chosen before the VMM starts (here /dev/kvm
# may be missing: the choice is made before)
def create_on_pty(c, keys):
    import pty
    import select
    import signal
    import time
    pid, master = pty.fork()
    if pid == 0:
        os.environ['TERM'] = 'dumb'
        os.execv(KXL, [KXL, 'create', '-F', '-c', c])
    out = b''
    for delay, k in keys + [(20, b'')]:
        end = time.monotonic() + delay
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    end = 0
            if b'bootloader: kernel' in out and not k:
                break
        if k:
            os.write(master, k)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.5)
    try:
        while True:
            r, _, _ = select.select([master], [], [], 0.2)
            if not r:
                break
            out += os.read(master, 65536)
    except OSError:
        pass
    if os.waitpid(pid, os.WNOHANG) == (0, 0):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(master)
    return out.decode('latin-1')


out = create_on_pty(cfg('menu', img), [(1.5, b'j'), (0.5, b'\r')])
ok('choose the entry to boot' in out and 'arguments "other"' in out, 'create -c on a terminal: the menu, '
   'Down and Enter boot the second entry', out[-1500:])
out = create_on_pty(cfg('menuq', img, 'bootloader_args = [ "-q" ]\n'), [])
ok('choose the entry to boot' not in out and 'arguments "root=/dev/xvda1 ro  console=hvc0"' in out,
   'bootloader_args -q: no menu', out[-1500:])

# nothing left behind: the kernel and ramdisk were only ever memfds
left = [f for f in os.listdir(TMP) if f.startswith('boot_')]
ok(not left, 'no file written', left)

shutil.rmtree(TMP, ignore_errors=True)
print('1..%d' % n)
sys.exit(1 if failed else 0)
