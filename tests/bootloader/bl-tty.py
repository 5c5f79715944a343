#!/usr/bin/env python3
# bl-tty.py KXL_BOOTLOADER: the interactive menu (tmenu.c) on a pseudo
# terminal, as libxl attaches one when the console is wanted: the default
# entry after the countdown, Down and Enter, `e' with the command line
# edited, Escape out of the editor; and no menu when stdin is not a
# terminal or with -q. The image is built at test time (mkfs.ext4 -d). TAP.
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
import time

BL = sys.argv[1]
TMP = tempfile.mkdtemp(prefix='kxl-bl-tty-')
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


root = os.path.join(TMP, 'root')
os.makedirs(os.path.join(root, 'boot/grub'))
for k in ('a', 'b', 'c'):
    with open(os.path.join(root, 'boot/vmlinuz-' + k), 'wb') as f:
        f.write(b'kernel ' + k.encode())
with open(os.path.join(root, 'boot/grub/grub.cfg'), 'w') as f:
    f.write('set default=1\nset timeout=%s\n'
            "menuentry 'Alpha' {\n linux /boot/vmlinuz-a alpha=1\n}\n"
            "menuentry 'Beta' {\n linux /boot/vmlinuz-b beta=1\n}\n"
            "menuentry 'Gamma\x1b[31m' {\n linux /boot/vmlinuz-c gamma=1\n}\n" % os.environ.get('T', '1'))
img = os.path.join(TMP, 'fs.img')
subprocess.run(['mkfs.ext4', '-q', '-F', '-d', root, img, '4M'], check=True, stdout=subprocess.DEVNULL)


def on_pty(keys, extra=(), wait=0.5):
    """Runs the bootloader on a pty, typing keys (a list of (delay, bytes));
    returns (status, screen text, records)."""
    out_r, out_w = os.pipe()
    pid, master = pty.fork()
    if pid == 0:
        os.dup2(out_w, 3)
        os.environ['TERM'] = 'xterm'
        os.execv(BL, [BL, '-n', '--output-format=simple', '--output=/dev/fd/3'] + list(extra) + [img])
    os.close(out_w)
    screen = b''
    for delay, k in keys:
        end = time.monotonic() + delay
        while time.monotonic() < end:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    screen += os.read(master, 65536)
                except OSError:
                    break
        os.write(master, k)
    end = time.monotonic() + 10
    st = None
    while time.monotonic() < end:
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                screen += os.read(master, 65536)
            except OSError:
                pass
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            break
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    recs = b''
    while True:
        r, _, _ = select.select([out_r], [], [], 0.2)
        if not r:
            break
        b = os.read(out_r, 4096)
        if not b:
            break
        recs += b
    os.close(out_r)
    os.close(master)
    rec = dict(line.split(' ', 1) for line in recs.decode().split('\n') if ' ' in line)
    return st, screen.decode('latin-1'), rec


st, screen, rec = on_pty([(3.5, b'')])
ok(st == 0 and rec.get('args') == 'beta=1' and 'Alpha' in screen and 'booting the selected entry in 1 s'
   in screen, 'the default entry boots when the countdown ends', (st, screen, rec))
ok('\x1b[31m' not in screen and 'Gamma [31m' in screen, 'a title\'s escape byte never reaches the terminal',
   repr(screen[-400:]))
st, screen, rec = on_pty([(0.5, b'\x1b[B'), (0.3, b'\r')])
ok(st == 0 and rec.get('args') == 'gamma=1' and rec.get('kernel') == '<kernel:/boot/vmlinuz-c>',
   'Down and Enter boot the next entry', (st, rec))
st, screen, rec = on_pty([(0.5, b'\x1b[A'), (0.3, b'e'), (0.3, b'\x7f2 x=y'), (0.3, b'\r')])
ok(st == 0 and rec.get('args') == 'alpha=2 x=y' and rec.get('kernel') == '<kernel:/boot/vmlinuz-a>',
   'e edits the command line (Backspace, typing, Enter boots)', (st, rec))
st, screen, rec = on_pty([(0.5, b'e'), (0.3, b'zzz'), (0.3, b'\x1b'), (0.3, b'\r')])
ok(st == 0 and rec.get('args') == 'beta=1', 'Escape leaves the editor unchanged', (st, rec))
st, screen, rec = on_pty([(0.5, b'')], extra=['-q'])
ok(st == 0 and rec.get('args') == 'beta=1' and 'choose the entry' not in screen, '-q shows no menu',
   (st, screen))
st, screen, rec = on_pty([(0.5, b'\r')], extra=['--args=extra=1'])
ok(st == 0 and rec.get('args') == 'beta=1 extra=1', '--args are in the menu\'s command line', (st, rec))
r = subprocess.run([BL, '-n', '--output-format=simple', img], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
ok(r.returncode == 0 and b'args beta=1' in r.stdout and not r.stderr,
   'no menu when stdin is not a terminal', r)

shutil.rmtree(TMP, ignore_errors=True)
print('1..%d' % n)
sys.exit(1 if failed else 0)
