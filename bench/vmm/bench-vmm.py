#!/usr/bin/env python3
"""bench-vmm.py: kxl's VMM against QEMU microvm and a bare-KVM floor.

1. Tiny guest, create to exit: the wall time of a whole process that
   creates the VM, boots the PVH test guest (scenario "exit") and sees it
   leave; QEMU boots the same ELF with -M microvm and leaves through
   isa-debug-exit; bare-kvm runs three instructions. Median of N runs,
   interleaved, 50 ms apart. kxl returns once its guest has stopped and
   its VMM child is killed; the kernel's teardown of that VM (12-16 ms with
   an in-kernel irqchip on this host) is not waited for. Targets:
   QEMU/kxl >= 10, kxl/bare <= 1.5.
2. VMM memory overhead: the test guest boots and halts; then, over all of
   kxl's processes (the parent that built the image and the seccomp-confined
   child that runs it), the sum of Pss minus Pss_Shmem (guest RAM is a
   memfd, i.e. shmem, shared by both) and, more conservatively, the sum of
   peak RSS (VmHWM) minus the guest memory each touched (RssShmem). QEMU is
   given a memfd RAM backend too, so the same formula applies. Target:
   at most 2 MiB.

usage: bench-vmm.py KXL_VMM_RUN GUEST.elf BARE_KVM [RUNS]
"""
import os
import statistics
import subprocess
import sys
import time

QEMU = "qemu-system-x86_64"


def timed(cmd):
    # let the kernel finish tearing down the previous VM (kxl does not wait
    # for its killed VMM child; its irqchip teardown takes 12-16 ms here)
    time.sleep(0.05)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.returncode


def qemu_cmd(guest, cmdline, extra=()):
    return [QEMU, "-M", "microvm,accel=kvm", "-m", "32", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
            "-kernel", guest, "-append", cmdline, *extra]


def rollup(pid):
    v = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1].isdigit():
                v[parts[0].rstrip(":")] = int(parts[1])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmHWM:", "RssShmem:")):
                v[line.split(":")[0]] = int(line.split()[1])
    return v


def descendants(pid):
    out = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                for c in f.read().split():
                    out += descendants(int(c))
    except FileNotFoundError:
        pass
    return out


def mem_of(cmd, marker):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    buf = b""
    while marker not in buf:
        b = p.stdout.read1(4096)
        if not b:
            break
        buf += b
    time.sleep(0.2)
    pss = pss_shmem = hwm = shmem = 0
    for pid in descendants(p.pid):
        v = rollup(pid)
        pss += v.get("Pss", 0)
        pss_shmem += v.get("Pss_Shmem", 0)
        hwm += v.get("VmHWM", 0)
        shmem += v.get("RssShmem", 0)
    p.terminate()
    p.wait()
    return (pss - pss_shmem) / 1024, (hwm - shmem) / 1024, pss_shmem / 1024


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    kxl, guest, bare = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    kxl_cmd = [kxl, "-m", "32", guest, "exit"]
    have_qemu = subprocess.run(["which", QEMU], capture_output=True).returncode == 0
    res = {"kxl": [], "bare": [], "qemu": []}
    for _ in range(runs):
        t, rc = timed(kxl_cmd)
        assert rc == 0, f"kxl exit {rc}"
        res["kxl"].append(t)
        t, rc = timed([bare])
        assert rc == 0, f"bare-kvm exit {rc}"
        res["bare"].append(t)
        if have_qemu:
            t, rc = timed(qemu_cmd(guest, "exit"))
            assert rc == 1, f"qemu exit {rc} (isa-debug-exit gives 1)"
            res["qemu"].append(t)
    med = {k: statistics.median(v) * 1000 for k, v in res.items() if v}
    best = {k: min(v) * 1000 for k, v in res.items() if v}
    print(f"create-to-exit, median of {runs}: kxl {med['kxl']:.1f} ms, bare-KVM "
          f"{med['bare']:.1f} ms" + (f", QEMU microvm {med['qemu']:.1f} ms" if have_qemu else ""))
    if have_qemu:
        print(f"ratio QEMU/kxl = {med['qemu'] / med['kxl']:.1f} (target >= 10)")
    print(f"ratio kxl/bare-KVM = {med['kxl'] / med['bare']:.2f} (target <= 1.5)")
    print(f"fastest runs: kxl {best['kxl']:.1f} ms, bare-KVM {best['bare']:.1f} ms"
          + (f", QEMU {best['qemu']:.1f} ms" if have_qemu else "")
          + f"; ratio kxl/bare-KVM {best['kxl'] / best['bare']:.2f}")

    kp, kh, kg = mem_of([kxl, "-m", "32", guest, "spin"], b"halting")
    print(f"kxl memory overhead: {kp:.2f} MiB (sum Pss - guest shmem), "
          f"{kh:.2f} MiB (sum peak RSS - guest RSS); guest memory touched {kg:.2f} MiB")
    if have_qemu:
        qp, qh, qg = mem_of(qemu_cmd(guest, "spin", ["-object", "memory-backend-memfd,id=m,size=32M",
                                                      "-machine", "memory-backend=m"]), b"halting")
        print(f"QEMU memory overhead: {qp:.2f} MiB (Pss - guest shmem), {qh:.2f} MiB (peak RSS - "
              f"guest RSS); guest memory touched {qg:.2f} MiB")
        print(f"ratio QEMU/kxl memory overhead = {qp / kp:.1f} (Pss), {qh / kh:.1f} (peak RSS)")
    print(f"target: kxl overhead <= 2 MiB: {'met' if kp <= 2 else 'not met'} (Pss), "
          f"{'met' if kh <= 2 else 'not met'} (peak RSS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
