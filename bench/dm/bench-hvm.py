#!/usr/bin/env python3
"""bench-hvm.py: kxl's own cost on top of QEMU for an hvm domain.

usage: bench-hvm.py KXL [RUNS]

The boot-sector guest of tests/dm (prints a marker on COM1, powers off
through ACPI) under SeaBIOS: `kxl create -F CFG' (config read, QEMU's
command line, QEMU started paused, QMP handshake, cont, the poweroff event,
on_poweroff = destroy, QEMU quit) against the same QEMU command line run by
hand (kxl's argv without -S, -no-shutdown and the QMP socket, so that QEMU
runs at once and exits at the poweroff), alternating, RUNS times each
(default 10). Prints the medians and their ratio (target: <= 1.1).
Where /dev/kvm is missing, both use TCG (device_model_args_hvm), and the
ratio says so.
"""
import os, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
boot = {}
with open(os.path.join(HERE, "..", "..", "tests", "dm", "run-boot")) as f:
    exec(f.read().split("def main")[0].split('"""', 2)[2], boot)


def main():
    kxl = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    tmp = tempfile.mkdtemp(prefix="kxl-bench-hvm-")
    with open(os.path.join(tmp, "boot.img"), "wb") as f:
        f.write(boot["boot_sector"]("poweroff"))
        f.truncate(1 << 20)
    cfg = os.path.join(tmp, "bench.cfg")
    with open(cfg, "w") as f:
        f.write('type = "hvm"\nname = "bench-hvm-%d"\nmemory = 32\nvnc = 0\nvga = "none"\n'
                'disk = [ "boot.img,raw,hda,rw" ]\nboot = "c"\non_poweroff = "destroy"\n'
                'serial = "file:%s/com1"\n%s' % (os.getpid(), tmp, "" if kvm else
                'device_model_args_hvm = [ "-machine", "accel=tcg", "-cpu", "max" ]\n'))
    argv = subprocess.run([kxl, "create", "-q", "--dry-run-dm", cfg], check=True,
                          capture_output=True, text=True).stdout.splitlines()
    hand, skip = [], 0
    for i, a in enumerate(argv):
        if skip:
            skip -= 1
            continue
        if a in ("-S", "-no-shutdown"):
            continue
        if a in ("-chardev", "-mon") and "kxl-qmp" in argv[i + 1]:
            skip = 1
            continue
        hand.append(a)
    env = dict(os.environ, KXL_STATE_DIR=os.path.join(tmp, "state"))
    t_kxl, t_hand = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        r = subprocess.run([kxl, "create", "-F", "-q", cfg], env=env, capture_output=True)
        t_kxl.append(time.monotonic() - t0)
        if r.returncode:
            sys.exit("kxl create failed: %s" % r.stderr.decode())
        t0 = time.monotonic()
        r = subprocess.run(hand, capture_output=True, cwd=tmp)
        t_hand.append(time.monotonic() - t0)
        if r.returncode:
            sys.exit("QEMU by hand failed: %s" % r.stderr.decode())
    mk, mh = statistics.median(t_kxl), statistics.median(t_hand)
    print("hvm boot-sector guest, %s, %d runs each:" % ("KVM" if kvm else "TCG (no /dev/kvm)", runs))
    print("  kxl create -F:     median %.3f s (min %.3f)" % (mk, min(t_kxl)))
    print("  QEMU by hand:      median %.3f s (min %.3f)" % (mh, min(t_hand)))
    print("  ratio kxl/QEMU:    %.2fx (target <= 1.1x)" % (mk / mh))
    subprocess.run(["rm", "-rf", tmp])


main()
