#!/usr/bin/env python3
# bl-tests.py: the bootloader suite's image tests (issue 16). Builds disk
# images at test time in a temporary directory (mkfs.ext4 -d populates
# without root or loop mounts, sfdisk writes MBR/GPT tables, debugfs -w adds
# symlinks and hostile edits; nothing is committed), runs kxl-bootloader on
# each and checks the kernel, ramdisk and arguments byte for byte; where
# Debian's pygrub handles the case it runs too, and the two outputs must
# agree (records in sxp/simple/simple0 form, file contents). Hostile images
# must give one line on stderr, exit status 1 and no file left behind.
# TAP output. With --bench: the time from disk image to files, against
# pygrub, and the ratio.
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

KXL = sys.argv[1]
BENCH = '--bench' in sys.argv
PYGRUB = '/usr/lib/xen-4.17/bin/pygrub'
HAVE_PYGRUB = os.access(PYGRUB, os.X_OK)
TMP = tempfile.mkdtemp(prefix='kxl-bl-')
n = 0
failed = 0


def ok(cond, name, detail=''):
    global n, failed
    n += 1
    print('%s %d - %s%s' % ('ok' if cond else 'not ok', n, name, (': ' + detail) if detail and not cond else ''))
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print('# ' + line)


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def tree(name, files):
    """A directory holding files {path: bytes or ('link', target) or ('dir',)}."""
    root = os.path.join(TMP, name + '.d')
    os.makedirs(root)
    for path, data in files.items():
        p = os.path.join(root, path.lstrip('/'))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(data, tuple) and data[0] == 'link':
            os.symlink(data[1], p)
        elif isinstance(data, tuple) and data[0] == 'dir':
            os.makedirs(p, exist_ok=True)
        elif isinstance(data, tuple) and data[0] == 'sparse':
            with open(p, 'wb') as f:
                f.truncate(data[1])
        else:
            with open(p, 'wb') as f:
                f.write(data)
    return root


def mkfs(name, files, mb=24, opts=()):
    img = os.path.join(TMP, name + '.fs')
    run('mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', *opts, '-d', tree(name, files), img, '%dM' % mb)
    return img


def disk(name, fss, label='dos', layout=None):
    """fss: list of fs images; partitions 1 MiB aligned, in order. layout:
    an sfdisk script to use instead (partitions receive fss in order)."""
    img = os.path.join(TMP, name + '.img')
    sizes = [os.path.getsize(f) if f else 1 << 20 for f in fss]
    total = 2 + sum(s // (1 << 20) + 2 for s in sizes) + 2
    with open(img, 'wb') as f:
        f.truncate(total << 20)
    if layout is None:
        layout = 'label: %s\n' % label + ''.join(
            'size=%dKiB, type=%s\n' % (s // 1024, '83' if label == 'dos' else 'linux') for s in sizes)
    subprocess.run(['sfdisk', '-q', img], input=layout.encode(), check=True, stdout=subprocess.DEVNULL)
    parts = json.loads(run('sfdisk', '-J', img).stdout)['partitiontable']['partitions']
    parts = [p for p in parts if p.get('type') not in ('5', 'f', '85')]
    for fs, p in zip(fss, parts):
        if not fs:
            continue
        with open(fs, 'rb') as src, open(img, 'r+b') as dst:
            dst.seek(p['start'] * 512)
            shutil.copyfileobj(src, dst, 1 << 20)
    return img


def debugfs(fs, *cmds):
    run('debugfs', '-w', '-f', '-', fs, input='\n'.join(cmds).encode())


def outdir(name):
    d = os.path.join(TMP, 'out-' + name)
    os.makedirs(d, exist_ok=True)
    return d


def records(out, fmt):
    """Parses the output records into {key: value}, files replaced by contents."""
    text = out.decode('latin-1')
    rec = {}
    if fmt == 'sxp':
        for k, v in re.findall(r"\((kernel|ramdisk|args) ('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\)", text):
            rec[k] = eval(v)  # Python string literals, as pygrub wrote them
    else:
        sep = '\n' if fmt == 'simple' else '\0'
        for r in text.split(sep):
            if r:
                k, _, v = r.partition(' ')
                rec[k] = v
    return rec


def boot(prog, img, fmt='simple', extra=(), name='x'):
    d = outdir(name)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    cmd = ([PYGRUB, '-q'] if prog == 'pygrub' else [KXL]) + ['--output-format=' + fmt,
                                                           '--output-directory=' + d] + list(extra) + [img]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    res = {'rc': p.returncode, 'stderr': p.stderr.decode(errors='replace'), 'raw': p.stdout,
           'files': sorted(os.listdir(d))}
    if p.returncode == 0:
        rec = records(p.stdout, fmt)
        for k in ('kernel', 'ramdisk'):
            if k in rec:
                with open(rec[k], 'rb') as f:
                    rec[k] = f.read()
        res['rec'] = rec
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    return res


T0 = time.perf_counter()


def stamp(what):
    if os.environ.get('BL_TIMING'):
        print('# %6.2fs %s' % (time.perf_counter() - T0, what))


def expect(name, img, kernel, ramdisk, args, extra=(), pygrub=True, fmt='simple'):
    stamp(name)
    r = boot('kxl', img, fmt, extra, name)
    want = {'kernel': kernel}
    if ramdisk is not None:
        want['ramdisk'] = ramdisk
    if args:
        want['args'] = args
    got = r.get('rec')
    ok(r['rc'] == 0 and got == want, name,
       'rc=%d %s\ngot keys %s args %r, want args %r' % (r['rc'], r['stderr'].strip(), sorted(got or {}),
                                                       (got or {}).get('args'), args))
    if pygrub and HAVE_PYGRUB:
        p = boot('pygrub', img, fmt, extra, name + '-pygrub')
        ok(p['rc'] == 0 and p.get('rec') == got, name + ' (same as pygrub)',
           'pygrub rc=%d %s args %r' % (p['rc'], p['stderr'].strip()[-300:], (p.get('rec') or {}).get('args')))
        if r['rc'] == 0 and p['rc'] == 0:
            # the records themselves, with the random file names made equal
            norm = lambda s: re.sub(rb'boot_(kernel|ramdisk)\.[A-Za-z0-9_]+', rb'boot_\1.X',
                                    s.replace(outdir(name + '-pygrub').encode(), outdir(name).encode()))
            ok(norm(r['raw']) == norm(p['raw']), name + ' (%s records byte for byte as pygrub)' % fmt,
               '%r\n%r' % (norm(r['raw']), norm(p['raw'])))


def refuse(name, img, want_msg, extra=()):
    stamp(name)
    r = boot('kxl', img, 'simple', extra, name)
    lines = r['stderr'].strip().splitlines()
    ok(r['rc'] == 1 and len(lines) == 1 and re.search(want_msg, r['stderr']) and not r['files'],
       name + ' is refused cleanly', 'rc=%d stderr=%r files=%s' % (r['rc'], r['stderr'], r['files']))


K = os.urandom(3 << 20)     # a "kernel"
R = os.urandom(1 << 20)     # a "ramdisk"
K2 = os.urandom(100000)
R2 = os.urandom(50000)
UCODE = os.urandom(3000)

DEBIAN_CFG = b"""# DO NOT EDIT THIS FILE
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="0"
fi
if [ x"${feature_menuentry_id}" = xy ]; then
  menuentry_id_option="--id"
else
  menuentry_id_option=""
fi
export menuentry_id_option
function load_video {
  if [ x$feature_all_video_module = xy ]; then
    insmod all_video
  fi
}
terminal_output gfxterm
set timeout=5
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-simple-1234' {
	load_video
	insmod gzio
	if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi
	insmod part_msdos
	insmod ext2
	set root='hd0,msdos1'
	if [ x$feature_platform_search_hint = xy ]; then
	  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos1 --hint-efi=hd0,msdos1 --hint-baremetal=ahci0,msdos1  1234
	else
	  search --no-floppy --fs-uuid --set=root 1234
	fi
	echo	'Loading Linux 6.1.0-18-amd64 ...'
	linux	/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro  console=hvc0 quiet
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-6.1.0-18-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-1234' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-6.1.0-18-amd64-advanced-1234' {
		load_video
		linux	/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro  console=hvc0 quiet
		initrd	/boot/initrd.img-6.1.0-18-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64 (recovery mode)' --class debian --class gnu-linux --class gnu --class os $menuentry_id_option 'gnulinux-6.1.0-18-amd64-recovery-1234' {
		load_video
		linux	/boot/vmlinuz-6.1.0-18-amd64 root=UUID=1234 ro single console=hvc0
		initrd	/boot/initrd.img-6.1.0-18-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 5.10.0-28-amd64' --class debian $menuentry_id_option 'gnulinux-5.10.0-28-amd64-advanced-1234' {
		linux	/vmlinuz.old root=UUID=1234 ro  console=hvc0
		initrd	/initrd.img.old
	}
}
"""

DEBIAN_FILES = {
    '/boot/grub/grub.cfg': DEBIAN_CFG,
    '/boot/vmlinuz-6.1.0-18-amd64': K, '/boot/initrd.img-6.1.0-18-amd64': R,
    '/boot/vmlinuz-5.10.0-28-amd64': K2, '/boot/initrd.img-5.10.0-28-amd64': R2,
    # Debian's symlinks in / (relative), and an absolute one
    '/vmlinuz': ('link', 'boot/vmlinuz-6.1.0-18-amd64'),
    '/vmlinuz.old': ('link', '/boot/vmlinuz-5.10.0-28-amd64'),
    '/initrd.img.old': ('link', 'boot/../boot/./initrd.img-5.10.0-28-amd64'),
    '/etc/hostname': b'guest\n',
}


def main():
    print('# images in %s; pygrub %s' % (TMP, 'found' if HAVE_PYGRUB else 'missing: comparisons skipped'))
    if BENCH:
        return bench()

    # 1. Debian's grub.cfg (submenu, $menuentry_id_option, functions) on MBR partition 1, 4 KiB blocks
    deb = disk('debian', [mkfs('debian', DEBIAN_FILES, 32)])
    expect('debian grub.cfg, MBR, default entry', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet')
    expect('debian, sxp output', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet', fmt='sxp')
    expect('debian, simple0 output', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet', fmt='simple0')
    blockdev(deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet')
    expect('debian, --entry=0 --args appended', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet xen=1',
           extra=['--entry=0', '--args=xen=1'])
    expect('debian, --entry by title of the top entry', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet',
           extra=['--entry=Debian GNU/Linux'])
    # GRUB's submenu paths (pygrub numbers entries flat, so only kxl is asked)
    expect('debian, --entry=1>2: old kernel through absolute and ../ symlinks', deb, K2, R2,
           'root=UUID=1234 ro  console=hvc0', extra=['--entry=1>2'], pygrub=False)
    expect('debian, --entry by submenu>entry ids', deb, K, R, 'root=UUID=1234 ro single console=hvc0',
           extra=['--entry=gnulinux-advanced-1234>gnulinux-6.1.0-18-amd64-recovery-1234'], pygrub=False)
    expect('debian, --kernel/--ramdisk through /vmlinuz symlink', deb, K, R2, 'console=hvc0',
           extra=['--kernel=/vmlinuz', '--ramdisk=/boot/initrd.img-5.10.0-28-amd64', '--args=console=hvc0'])
    expect('debian, --offset of partition 1', deb, K, R, 'root=UUID=1234 ro  console=hvc0 quiet',
           extra=['--offset=%d' % (2048 * 512)])
    r = subprocess.run([KXL, '-l', deb], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok(r.returncode == 0 and r.stdout.count(b'kernel:') == 4 and b'1>1: Debian GNU/Linux, with Linux 6.1.0-18-amd64 (recovery mode)' in r.stdout,
       '-l lists the four entries with their GRUB paths', r.stdout.decode() + r.stderr.decode())

    # 2. grubenv's saved_entry and variables (pygrub ignores both)
    files = dict(DEBIAN_FILES)
    files['/boot/grub/grub.cfg'] = DEBIAN_CFG.replace(b'set default="0"', b'set default="${saved_entry}"').replace(
        b'console=hvc0 quiet\n\techo', b'console=hvc0 quiet $vt_handoff\n\techo').replace(
        b'terminal_output gfxterm', b'set vt_handoff=vt.handoff=7')
    files['/boot/grub/grubenv'] = (b'# GRUB Environment Block\nsaved_entry=gnulinux-advanced-1234>gnulinux-5.10.0-28-amd64-advanced-1234\n').ljust(1024, b'#')
    env = disk('grubenv', [mkfs('grubenv', files, 32)])
    expect('saved_entry from grubenv (submenu path of ids)', env, K2, R2, 'root=UUID=1234 ro  console=hvc0', pygrub=False)
    expect('--entry=0 with $vt_handoff expanded', env, K, R, 'root=UUID=1234 ro  console=hvc0 quiet vt.handoff=7',
           extra=['--entry=0'], pygrub=False)

    # 3. separate /boot partition (ext2, 1 KiB blocks) then root: GPT
    bootcfg = (b"set default=0\nmenuentry 'Debian' {\n\tset root='(hd0,gpt2)'\n"
               b"\tlinux (hd0,gpt2)/vmlinuz-6.1 root=/dev/xvda3 ro\n\tinitrd /initrd.img-6.1\n}\n")
    bootfs = mkfs('bootpart', {'/grub/grub.cfg': bootcfg, '/vmlinuz-6.1': K, '/initrd.img-6.1': R}, 16,
                  ['-t', 'ext2', '-b', '1024'])
    rootfs = mkfs('rootpart', {'/etc/hostname': b'guest\n'}, 8)
    gpt = disk('gpt', [None, bootfs, rootfs], layout='label: gpt\nsize=1MiB, type=21686148-6449-6E6F-744E-656564454649\n'
               'size=%dKiB, type=linux\nsize=%dKiB, type=linux\n' % (os.path.getsize(bootfs) // 1024,
                                                                      os.path.getsize(rootfs) // 1024))
    expect('GPT, /boot partition 2 (ext2, 1 KiB blocks), (hd0,gpt2) prefix', gpt, K, R, 'root=/dev/xvda3 ro')
    mbr2 = disk('mbr2', [bootfs, rootfs])
    expect('MBR, /boot partition 1 and root partition 2', mbr2, K, R, 'root=/dev/xvda3 ro')

    # 4. a logical partition (pygrub reads primary partitions only)
    logical = disk('logical', [mkfs('logical', DEBIAN_FILES, 32)],
                   layout='label: dos\nsize=40MiB, type=5\nsize=33MiB, type=83\n')
    expect('MBR logical partition 5', logical, K, R, 'root=UUID=1234 ro  console=hvc0 quiet', pygrub=False)

    # 5. GRUB legacy menu.lst on a whole-disk ext3
    menulst = (b"default 1\ntimeout 5\ntitle Old\n\troot (hd0,0)\n\tkernel /boot/vmlinuz-old ro\n"
               b"title CentOS (2.6.32)\n\troot (hd0,0)\n\tkernel /boot/vmlinuz-2.6.32 ro root=/dev/xvda1 console=hvc0\n"
               b"\tinitrd /boot/initramfs-2.6.32.img\n")
    legacy = mkfs('legacy', {'/boot/grub/menu.lst': menulst, '/boot/vmlinuz-2.6.32': K2,
                             '/boot/initramfs-2.6.32.img': R2, '/boot/vmlinuz-old': K}, 16, ['-t', 'ext3'])
    expect('GRUB legacy menu.lst, default 1, whole-disk ext3', legacy, K2, R2, 'ro root=/dev/xvda1 console=hvc0')

    # 6. extlinux with INITRD
    ext = (b"DEFAULT linux\nTIMEOUT 30\nLABEL rescue\n  KERNEL /boot/vmlinuz-old\nLABEL linux\n"
           b"  KERNEL /boot/vmlinuz\n  INITRD /boot/initrd.img\n  APPEND root=/dev/xvda1 ro console=hvc0\n")
    extl = disk('extlinux', [mkfs('extlinux', {'/boot/extlinux/extlinux.conf': ext, '/boot/vmlinuz': K2,
                                               '/boot/initrd.img': R2, '/boot/vmlinuz-old': K}, 16)])
    expect('extlinux.conf with INITRD (pygrub ignores INITRD)', extl, K2, R2, 'root=/dev/xvda1 ro console=hvc0', pygrub=False)
    ext2 = ext.replace(b"  INITRD /boot/initrd.img\n", b"").replace(b"APPEND ", b"APPEND initrd=/boot/initrd.img ")
    extl2 = disk('extlinux2', [mkfs('extlinux2', {'/extlinux.conf': ext2, '/boot/vmlinuz': K2,
                                                 '/boot/initrd.img': R2, '/boot/vmlinuz-old': K}, 16)])
    expect('/extlinux.conf with initrd= in APPEND', extl2, K2, R2, 'root=/dev/xvda1 ro console=hvc0')

    # 7. Fedora: grub.cfg with blscfg, BLS entries, grubenv's saved_entry and kernelopts
    fcfg = (b"set pager=1\nif [ -f ${config_directory}/grubenv ]; then\n  load_env -f ${config_directory}/grubenv\n"
            b"elif [ -s $prefix/grubenv ]; then\n  load_env\nfi\nif [ \"${next_entry}\" ] ; then\n"
            b"   set default=\"${next_entry}\"\nelse\n   set default=\"${saved_entry}\"\nfi\n"
            b"set timeout=5\ninsmod blscfg\nblscfg\n")
    fenv = (b"# GRUB Environment Block\nsaved_entry=abc-6.5.6-300.fc39.x86_64\n"
            b"kernelopts=root=UUID=77 ro rhgb quiet\n").ljust(1024, b'#')
    bls = lambda v: ('title Fedora Linux (%s) 39\nversion %s\nlinux /vmlinuz-%s\ninitrd /initramfs-%s.img\n'
                     'options $kernelopts\ngrub_users $grub_users\nid fedora-%s\n' % (v, v, v, v, v)).encode()
    fed = disk('fedora', [mkfs('fedora-boot', {
        '/grub2/grub.cfg': fcfg, '/grub2/grubenv': fenv,
        '/loader/entries/abc-6.5.6-300.fc39.x86_64.conf': bls('6.5.6-300.fc39.x86_64'),
        '/loader/entries/abc-6.7.1-200.fc39.x86_64.conf': bls('6.7.1-200.fc39.x86_64'),
        '/vmlinuz-6.5.6-300.fc39.x86_64': K2, '/initramfs-6.5.6-300.fc39.x86_64.img': R2,
        '/vmlinuz-6.7.1-200.fc39.x86_64': K, '/initramfs-6.7.1-200.fc39.x86_64.img': R}, 16)])
    expect('Fedora BLS with grubenv saved_entry and $kernelopts', fed, K2, R2, 'root=UUID=77 ro rhgb quiet', pygrub=False)
    expect('Fedora BLS, --entry=0 is the newest', fed, K, R, 'root=UUID=77 ro rhgb quiet', extra=['--entry=0'], pygrub=False)

    # 8. ext4 features: 64bit, metadata_csum, extents, inline_data (a tiny initrd inside its inode),
    #    htree (a /boot with 3000 names, indexed by e2fsck -D)
    files = {'/boot/grub/grub.cfg': b"menuentry 'x' {\n linux /boot/vmlinuz root=/dev/xvda1\n initrd /boot/ucode /boot/tiny /boot/initrd.img\n}\n",
             '/boot/vmlinuz': K, '/boot/initrd.img': R, '/boot/ucode': UCODE, '/boot/tiny': b'TINY\n'}
    for i in range(3000):
        files['/boot/f%05d' % i] = b''
    feat = mkfs('features', files, 32, ['-O', '64bit,metadata_csum,extent,inline_data,dir_index'])
    subprocess.run(['e2fsck', '-fyD', feat], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ino = run('debugfs', '-R', 'stat /boot/tiny', feat).stdout
    htree = run('debugfs', '-R', 'htree /boot', feat).stdout
    ok(b'Size of inline data' in ino and b'Root node dump' in htree, 'the image has inline data and an htree',
       ino.decode()[:300] + htree.decode()[:200])
    expect('ext4 64bit+metadata_csum+inline_data+htree, three initrds concatenated', disk('features', [feat]),
           K, UCODE + b'TINY\n' + R, 'root=/dev/xvda1', pygrub=False)

    # 9. hostile images: each one line, exit 1, nothing left behind
    zero = mkfs('zero', DEBIAN_FILES, 32)
    with open(zero, 'r+b') as f:
        f.seek(1024)
        f.write(bytes(1024))
    refuse('zeroed superblock', zero, r'no filesystem')
    corrupt = mkfs('corrupt', DEBIAN_FILES, 32, ['-O', '^metadata_csum'])
    blk = int(run('debugfs', '-R', 'blocks /boot/grub', corrupt).stdout.split()[0])
    bs = int(re.search(rb'Block size:\s+(\d+)', run('debugfs', '-R', 'stats', corrupt).stdout).group(1))
    with open(corrupt, 'r+b') as f:    # the directory block: "." then a rec_len of 3
        f.seek(blk * bs + 12)
        f.write(struct.pack('<IHBB', 2, 3, 200, 2) + os.urandom(64))
    refuse('directory entry with a bad length', corrupt, r'grub|director|corrupt', )
    loop = mkfs('loop', {'/boot/grub/x': b''}, 16)
    debugfs(loop, 'symlink /boot/grub/grub.cfg /boot/grub/grub.cfg')
    refuse('grub.cfg a symlink to itself', loop, r'grub.cfg.*link')
    chain = mkfs('chain', {'/boot/grub/x': b''}, 16)
    debugfs(chain, *['symlink /l%d /l%d' % (i, i + 1) for i in range(40)] + ['symlink /boot/grub/grub.cfg /l0'])
    refuse('a chain of 40 symlinks', chain, r'link')
    # a symlink whose recorded size (1.4 GB) is far past its 60-byte store:
    # libext2fs's namei takes the size as the target's length (fuzz_extfs)
    huge = mkfs('hugelink', {'/boot/grub/x': b''}, 16)
    debugfs(huge, 'symlink /boot/grub/grub.cfg /boot/grub/x', 'sif /boot/grub/grub.cfg size 1408964162')
    refuse('a symlink whose size is past its store', huge, r'grub.cfg.*symbolic link.*corrupt')
    esc = mkfs('escape', {'/boot/grub/grub.cfg': b"menuentry x {\nlinux /boot/k\n}\n", '/etc/hostname': b'guest\n',
                          '/boot/k': ('link', '../../../../../../../../etc/hostname')}, 16)
    expect('a ../ symlink stops at the guest root (reads the guest\'s /etc/hostname)', esc, b'guest\n', None, None, pygrub=False)
    esc2 = mkfs('escape2', {'/boot/grub/grub.cfg': b"menuentry x {\nlinux /boot/k\n}\n",
                            '/boot/k': ('link', '/../../etc/shadow')}, 16)
    refuse('an absolute symlink to a host file', esc2, r'/boot/k: no such file')
    big = mkfs('big', {'/boot/grub/grub.cfg': ('sparse', 200 << 20)}, 16)
    refuse('a 200 MiB grub.cfg', big, r'more than the 1024 KiB')
    bigk = mkfs('bigk', {'/boot/grub/grub.cfg': b"menuentry x {\nlinux /k\n}\n", '/k': ('sparse', 300 << 20)}, 16)
    refuse('a 300 MiB kernel', bigk, r'more than the 256 MiB')
    asdir = mkfs('asdir', {'/boot/grub/grub.cfg': ('dir',)}, 16)
    refuse('grub.cfg a directory', asdir, r'not a regular file')
    dev = mkfs('dev', {'/boot/grub/x': b''}, 16)
    debugfs(dev, 'cd /boot/grub', 'mknod grub.cfg b 8 0')
    refuse('grub.cfg a block device', dev, r'not a regular file')
    nomenu = mkfs('nomenu', {'/etc/hostname': b'x'}, 16)
    refuse('no menu anywhere', nomenu, r'no boot menu')
    # GPT whose header claims 2^32-1 entries (header CRC fixed up) and GPT with garbage entries
    g1 = os.path.join(TMP, 'gpt-huge.img')
    shutil.copy(gpt, g1)
    with open(g1, 'r+b') as f:
        f.seek(512)
        h = bytearray(f.read(92))
        struct.pack_into('<I', h, 80, 0xffffffff)
        struct.pack_into('<I', h, 16, 0)
        struct.pack_into('<I', h, 16, zlib.crc32(bytes(h)) & 0xffffffff)
        f.seek(512)
        f.write(h)
        f.seek(os.path.getsize(g1) - 512)
        f.write(bytes(512))           # and no backup header to fall back on
    refuse('GPT with 2^32-1 entries', g1, r'no filesystem|no boot menu|unsupported')
    g2 = os.path.join(TMP, 'gpt-garbage.img')
    shutil.copy(gpt, g2)
    with open(g2, 'r+b') as f:
        f.seek(1024)
        f.write(os.urandom(16384))
        f.seek(os.path.getsize(g2) - 512 * 33)
        f.write(os.urandom(512 * 33))
    refuse('GPT with garbage entries (CRC mismatch)', g2, r'no filesystem|no boot menu|unsupported')
    # an MBR extended partition whose EBR links to itself
    ebr = os.path.join(TMP, 'ebr-loop.img')
    with open(ebr, 'wb') as f:
        f.truncate(8 << 20)
        mbr = bytearray(512)
        struct.pack_into('<B3sB3sII', mbr, 446, 0, b'\0\0\0', 0x05, b'\0\0\0', 2048, 8192)
        mbr[510:512] = b'\x55\xaa'
        f.seek(0)
        f.write(mbr)
        e = bytearray(512)
        struct.pack_into('<B3sB3sII', e, 446, 0, b'\0\0\0', 0x83, b'\0\0\0', 63, 100)
        struct.pack_into('<B3sB3sII', e, 462, 0, b'\0\0\0', 0x05, b'\0\0\0', 0, 8192)
        e[510:512] = b'\x55\xaa'
        f.seek(2048 * 512)
        f.write(e)
    refuse('MBR extended partition linking to itself', ebr, r'no filesystem')
    xfs = os.path.join(TMP, 'swap.fs')
    with open(xfs, 'wb') as f:
        f.truncate(4 << 20)
    run('mkswap', xfs)
    refuse('a swap partition', disk('swap', [xfs]), r'unsupported filesystem swap on partition 1')
    refuse('--offset past the end', deb, r'past the end', extra=['--offset=999999999999'])
    refuse('--entry naming nothing', deb, r'no boot entry', extra=['--entry=nope'])
    isconfig()
    iso9660()


def blockdev(img, kernel, ramdisk, args):
    """The same disk as a block device (a read-only loop device), as a
    phy: first disk is; skipped, saying why, where no loop device can be had."""
    why = None
    if os.geteuid() != 0:
        why = 'not root'
    elif not shutil.which('losetup'):
        why = 'no losetup'
    else:
        p = subprocess.run(['losetup', '-r', '-f', '--show', img], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            why = 'losetup: ' + p.stderr.strip()
    if why:
        ok(True, 'debian on a loop block device # SKIP %s' % why)
        return
    dev = p.stdout.strip()
    try:
        expect('debian on a loop block device (%s)' % dev, dev, kernel, ramdisk, args)
    finally:
        subprocess.run(['losetup', '-d', dev])


def mkiso(name, files, opts=('-R', '-J')):
    """An ISO 9660 image of files (tree()'s form) made by xorriso."""
    iso = os.path.join(TMP, name + '.iso')
    run('xorriso', '-as', 'mkisofs', *opts, '-o', iso, tree(name + '-iso', files))
    return iso


def iso_record(img, name):
    """Offset of the directory record whose name is exactly name (bytes)."""
    with open(img, 'rb') as f:
        data = f.read()
    i = data.find(bytes([len(name)]) + name)
    assert i >= 32, name
    return i - 32


def iso_patch(img, name, field, value):
    """Sets a both-endian field (extent at 2, size at 10) of a record."""
    out = img[:-4] + '-' + field + '.iso'
    shutil.copy(img, out)
    at = iso_record(out, name) + {'extent': 2, 'size': 10}[field]
    with open(out, 'r+b') as f:
        f.seek(at)
        f.write(struct.pack('<I', value) + struct.pack('>I', value))
    return out


def iso9660():
    """ISO 9660 through libiso9660: images made by xorriso, as whole disks,
    isohybrid-style (an MBR whose partition 1 starts at sector 0) and inside
    a partition; compared with pygrub where pygrub reads them; hostile ones
    refused cleanly."""
    if not shutil.which('xorriso'):
        ok(True, 'ISO 9660 # SKIP no xorriso (install-deps TEST has it)')
        return
    grub = ("set default=1\nmenuentry 'Try' {\n linux /live/vmlinuz boot=live\n initrd /live/initrd.gz\n}\n"
            "menuentry 'Install' {\n linux /install/vmlinuz priority=low\n initrd /install/initrd.gz\n}\n")
    files = {'/boot/grub/grub.cfg': grub.encode(), '/live/vmlinuz': R, '/live/initrd.gz': b'live',
             '/install/vmlinuz': K, '/install/initrd.gz': R[:4096]}
    rr = mkiso('rr', files)
    expect('ISO 9660 (Rock Ridge, Joliet), grub.cfg, whole disk', rr, K, R[:4096], 'priority=low')
    plain = mkiso('plain', files, opts=())
    expect('ISO 9660 level 1 names only', plain, K, R[:4096], 'priority=low')
    joliet = mkiso('joliet', files, opts=('-J',))
    expect('ISO 9660 with Joliet only', joliet, K, R[:4096], 'priority=low', extra=['--entry=1'])
    # isohybrid-style: an MBR in the system area, partition 1 from sector 0
    hyb = os.path.join(TMP, 'hybrid.iso')
    shutil.copy(rr, hyb)
    with open(hyb, 'r+b') as f:
        mbr = bytearray(512)
        struct.pack_into('<B3sB3sII', mbr, 446, 0x80, b'\0\0\0', 0x17, b'\0\0\0', 0,
                         os.path.getsize(hyb) // 512)
        mbr[510:512] = b'\x55\xaa'
        f.write(mbr)
    expect('ISO 9660 isohybrid (partition 1 at sector 0)', hyb, K, R[:4096], 'priority=low')
    part = disk('isopart', [rr])
    expect('ISO 9660 inside an MBR partition', part, K, R[:4096], 'priority=low', pygrub=False)
    iso_lx = mkiso('isolinux', {'/isolinux/isolinux.cfg': b'DEFAULT inst\nLABEL inst\n KERNEL /install/vmlinuz\n'
                                b' APPEND initrd=/install/initrd.gz auto=true\n',
                                '/install/vmlinuz': K, '/install/initrd.gz': R})
    expect('ISO 9660 with /isolinux/isolinux.cfg (pygrub does not look there)', iso_lx, K, R,
           'auto=true', pygrub=False)
    # hostile images
    bad = os.path.join(TMP, 'bad-vd.iso')
    shutil.copy(plain, bad)
    with open(bad, 'r+b') as f:
        f.seek(16 * 2048)
        f.write(b'\x01CD001\x01\x00' + os.urandom(2040))   # the signature kept, the rest garbage
    refuse('ISO 9660 with a garbage primary volume descriptor', bad,
           r'iso9660 on the whole disk|no filesystem|no boot menu')
    zero = os.path.join(TMP, 'zero-vd.iso')
    shutil.copy(plain, zero)
    with open(zero, 'r+b') as f:
        f.seek(16 * 2048)
        f.write(bytes(2048 * 4))
    refuse('ISO 9660 with zeroed volume descriptors', zero, r'no filesystem')
    refuse('ISO 9660 file of 4 GiB', iso_patch(plain, b'VMLINUZ.;1', 'size', 0xfffffff0),
           r'past the end of the filesystem|more than')
    refuse('ISO 9660 file past the end of the image', iso_patch(plain, b'VMLINUZ.;1', 'extent', 0x7fffff00),
           r'past the end of the filesystem')
    with open(plain, 'rb') as f:
        f.seek(16 * 2048 + 156 + 2)
        root_extent = struct.unpack('<I', f.read(4))[0]
    refuse('ISO 9660 directory that is its own ancestor (a loop)',
           iso_patch(plain, b'BOOT', 'extent', root_extent), r'no boot menu')
    refuse('ISO 9660 directory of 4 GiB', iso_patch(plain, b'BOOT', 'size', 0xfffff800),
           r'no boot menu|no such file|cannot read|iso9660')
    big = mkiso('bigcfg', {'/boot/grub/grub.cfg': b'#' * ((1 << 20) + 1), '/live/vmlinuz': R})
    refuse('ISO 9660 with a grub.cfg over 1 MiB', big, r'more than')
    dircfg = mkiso('dircfg', {'/boot/grub/grub.cfg/x': b'', '/live/vmlinuz': R})
    refuse('ISO 9660 whose grub.cfg is a directory', dircfg, r'not a regular file')
    link = mkiso('link', {'/boot/grub/grub.cfg': b"menuentry 'l' {\n linux /vmlinuz\n}\n",
                          '/vmlinuz': ('link', '/etc/shadow')})
    refuse('ISO 9660 kernel that is a symlink to a host file', link, r'symbolic link|no such file')


def isconfig():
    """--isconfig: the file is a menu read as grub.cfg (pygrub's first
    parser); the chosen entry is printed as pygrub prints it."""
    cfg = os.path.join(TMP, 'isconfig.cfg')
    with open(cfg, 'w') as f:
        f.write("set default=\"1\"\n"
                "menuentry 'A' {\n linux /boot/vmlinuz-a root=/dev/xvda1 ro quiet\n"
                " initrd /boot/initrd-a\n}\n"
                "menuentry 'B' --id b-id {\n\tlinux\t/boot/vmlinuz-b root=/dev/xvda1 ro single\n"
                "\tinitrd\t/boot/initrd-b\n}\n"
                "menuentry 'C' {\n\tlinux\t/boot/vmlinuz-c\n}\n")
    want = {
        (): '  kernel: /boot/vmlinuz-b\n  initrd: /boot/initrd-b\n  args: root=/dev/xvda1 ro single\n',
        ('--entry=0',): '  kernel: /boot/vmlinuz-a\n  initrd: /boot/initrd-a\n  args: root=/dev/xvda1 ro quiet\n',
        ('--entry=2',): '  kernel: /boot/vmlinuz-c\n  args: \n',
        ('--args=x=1',): '  kernel: /boot/vmlinuz-b\n  initrd: /boot/initrd-b\n  args: root=/dev/xvda1 ro single x=1\n',
    }
    for extra, text in want.items():
        r = subprocess.run([KXL, '-q', '--isconfig'] + list(extra) + [cfg], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        ok(r.returncode == 0 and r.stdout == text, '--isconfig %s' % ' '.join(extra),
           'rc=%d out=%r err=%r' % (r.returncode, r.stdout, r.stderr))
        if HAVE_PYGRUB:
            p = subprocess.run([PYGRUB, '-q', '--isconfig'] + list(extra) + [cfg], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            ok(p.returncode == 0 and p.stdout == r.stdout, '--isconfig %s: as pygrub' % ' '.join(extra),
               'pygrub rc=%d out=%r, kxl %r' % (p.returncode, p.stdout, r.stdout))
    bad = os.path.join(TMP, 'isconfig-bad.cfg')
    with open(bad, 'w') as f:
        f.write('menuentry x {\n')
    big = os.path.join(TMP, 'isconfig-big.cfg')
    with open(big, 'wb') as f:
        f.write(b'#' * ((1 << 20) + 1))
    for name, path, msg in (('an unclosed block', bad, 'end of file inside'),
                            ('a 1 MiB + 1 file', big, 'larger than 1048576 bytes'),
                            ('a directory', TMP, '--isconfig takes a configuration file'),
                            ('a device', '/dev/null', '--isconfig takes a configuration file')):
        r = subprocess.run([KXL, '-q', '--isconfig', path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        ok(r.returncode == 1 and msg in r.stderr and len(r.stderr.splitlines()) == 1 and not r.stdout,
           '--isconfig refuses %s' % name, 'rc=%d out=%r err=%r' % (r.returncode, r.stdout, r.stderr))


def bench():
    # Debian-like: ext4 /boot with 1 KiB blocks, a 7 MiB kernel plus initramfs
    files = dict(DEBIAN_FILES)
    files['/boot/vmlinuz-6.1.0-18-amd64'] = os.urandom(7 << 20)
    files['/boot/initrd.img-6.1.0-18-amd64'] = os.urandom(7 << 20)
    img = disk('bench', [mkfs('bench', files, 64, ['-b', '1024'])])
    d = outdir('bench')

    def once(cmd):
        t = time.perf_counter()
        subprocess.run(cmd + ['--output-format=simple', '--output-directory=' + d, img], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.perf_counter() - t
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        return t
    kx, py = [], []
    for _ in range(11):   # interleaved, so both see the same machine
        kx.append(once([KXL]))
        if HAVE_PYGRUB:
            py.append(once([PYGRUB, '-q']))
    kx.sort()
    py.sort()
    print('kxl-bootloader: median %.1f ms (min %.1f)' % (kx[5] * 1e3, kx[0] * 1e3))
    if py:
        print('pygrub:         median %.1f ms (min %.1f)' % (py[5] * 1e3, py[0] * 1e3))
        print('ratio: kxl-bootloader is %.1fx faster than pygrub (median; %.1fx min to min; '
              'target 10x)' % (py[5] / kx[5], py[0] / kx[0]))


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
if not BENCH:
    print('1..%d' % n)
sys.exit(1 if failed else 0)
