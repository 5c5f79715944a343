#!/usr/bin/env python3
"""vmm-tests.py: the VMM's scenario tests (suite 'vmm').

Each test runs kxl-vmm-run (the VMM's test driver) on a test guest and
checks the guest's console output against the spec it was given, the
outcome and the exit code (0 poweroff, 1 error, 3 reboot, 4 crash,
5 destroyed; see include/kxl/vmm.h).

usage: vmm-tests.py TEST DRIVER GUEST32 GUEST64

The harness (check, Fail, expect, EXIT, timeouts, temporary directories,
main) is tests/lib/kxltest.py, shared with life-tests.py.
"""
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kxltest  # noqa: E402
from kxltest import EXIT, TIMEOUT, Fail, check, expect, read_until, tmpdir  # noqa: E402,F401

DRIVER = GUEST = GUEST64 = None


def run(args, cmdline=None, kernel=None, timeout=TIMEOUT, stdin=None):
    """kxl-vmm-run ARGS KERNEL [CMDLINE] (the 32-bit test guest by default)."""
    cmd = [DRIVER] + args + [kernel or GUEST]
    if cmdline is not None:
        cmd.append(cmdline)
    return kxltest.run(cmd, timeout=timeout, input=stdin)


def t_info():
    d = tmpdir()
    m0 = os.path.join(d, "initrd.img")
    m1 = os.path.join(d, "extra.bin")
    with open(m0, "wb") as f:
        f.write(bytes((i * 7 + 3) & 0xff for i in range(5000)))
    with open(m1, "wb") as f:
        f.write(b"kxl module two\n" * 100)
    p = run(["-m", "64", "-M", m0 + "=first module", "-M", m1], "info one two=2")
    expect(p, "poweroff")
    out = p.stdout
    check("info: magic=0x336ec578 version=1" in out, "start_info magic/version")
    check('info: cmdline="info one two=2"' in out, "cmdline")
    check("info: nr_modules=2" in out, "module count")
    mods = re.findall(r'module (\d+) paddr=(0x[0-9a-f]+) size=(0x[0-9a-f]+) '
                      r'crc32=(0x[0-9a-f]+) cmdline="([^"]*)"', out)
    check(len(mods) == 2, "two module lines")
    for (i, paddr, size, crc, mc), path, want_cmd in zip(mods, [m0, m1], ["first module", ""]):
        data = open(path, "rb").read()
        check(int(size, 16) == len(data), f"module {i} size")
        check(int(crc, 16) == zlib.crc32(data), f"module {i} checksum")
        check(mc == want_cmd, f"module {i} cmdline {mc!r}")
        check(int(paddr, 16) % 4096 == 0, f"module {i} page-aligned")
    ram = 0
    for addr, size, typ in re.findall(r"memmap \d+ addr=(0x[0-9a-f]+) size=(0x[0-9a-f]+) type=(\d+)", out):
        if typ == "1":
            ram += int(size, 16)
    check(60 << 20 <= ram <= 64 << 20, f"memmap RAM {ram:#x} for 64 MiB")
    check(re.search(r"rsdp=0x[0-9a-f]+ sig=ok", out), "RSDP")


def t_entry():
    p = run(["-c", "2", "-C", "4"], "entry")
    expect(p, "poweroff")
    o = p.stdout
    m = re.search(r"cr0=(0x[0-9a-f]+) cr4=(0x[0-9a-f]+) cr3=0x[0-9a-f]+ eflags=(0x[0-9a-f]+) cs=(0x[0-9a-f]+) ebx=(0x[0-9a-f]+)", o)
    check(m, "entry line")
    check(int(m.group(1), 16) & ~0x10 == 1, "CR0 = PE")
    check(int(m.group(2), 16) == 0, "CR4 = 0")
    check(int(m.group(3), 16) == 2, "EFLAGS = 2")
    check(int(m.group(5), 16) != 0, "EBX = start_info")
    check("efer=0x0 " in o, "EFER = 0")
    check("mtrr_def_type=0x806" in o, "MTRRdefType enabled, WB")
    check("apic=0 logical=4 hypervisor=1" in o, "CPUID topology of vCPU 0")
    check("sig=KVMKVMKVM" in o, "KVM paravirt leaves")


def t_poweroff_restart():
    p = run(["--on-poweroff", "restart", "--ctl", "wait:scenario,wait:scenario,wait:scenario,destroy"], "poweroff")
    expect(p, "destroyed")
    check(p.stdout.count("scenario") >= 3, "three boots")


def t_reboot_destroy():
    p = run(["--on-reboot", "destroy"], "reboot")
    expect(p, "reboot")
    check("ACPI reset register" in p.stderr, "reason")


def t_reboot_kbd():
    p = run(["--on-reboot", "destroy"], "reboot kbd")
    expect(p, "reboot")
    check("i8042" in p.stderr, "reason")


def t_reboot_restart():
    p = run(["--ctl", 'wait:scenario "reboot",wait:scenario "reboot",destroy'], "reboot")
    expect(p, "destroyed")
    check(p.stdout.count('scenario "reboot"') >= 2, "the marker twice")
    check(re.search(r"restarts=[1-9]", p.stderr), "restarted")


def t_rename_restart():
    p = run(["--on-reboot", "rename-restart", "--ctl", "wait:scenario,wait:scenario,destroy"], "reboot")
    expect(p, "destroyed")
    check("rename-restart" in p.stderr and "restarting gen=1 rename" in p.stderr, "rename note")


def kvm_vendor():
    """'amd' or 'intel': which KVM module runs the guests. It matters at a
    triple fault: kvm-amd resets the vCPU before it reports the shutdown,
    so the registers are lost there; kvm-intel keeps them."""
    for v in ("amd", "intel"):
        if os.path.isdir(f"/sys/module/kvm_{v}"):
            return v
    with open("/proc/cpuinfo") as f:
        m = re.search(r"^vendor_id\s*:\s*(\S+)", f.read(), re.M)
    return "amd" if m and m.group(1) in ("AuthenticAMD", "HygonGenuine") else "intel"


LOST = ("triple fault (the CPU reset its registers before KVM reported it, as AMD does: "
        "the faulting rip is unknown)")


def t_triplefault():
    p = run([], "triplefault")
    expect(p, "crash")
    vendor = kvm_vendor()
    print("KVM vendor:", vendor)
    if vendor == "amd":
        check(LOST in p.stderr, "the message says the registers were lost")
        check("at rip 0xfff0" not in p.stderr, "no reset-state rip reported")
    else:
        m = re.search(r"triple fault \(KVM_EXIT_SHUTDOWN\) at rip (0x[0-9a-f]+)", p.stderr)
        check(m, "reason with the rip")
        check(int(m.group(1), 16) != 0xfff0, "the guest's rip, not the reset vector")


def t_noidt():
    p = run([], "noidt")
    expect(p, "crash")


def t_pvpanic():
    p = run([], "pvpanic")
    expect(p, "crash")
    check("pvpanic: capabilities 0x3" in p.stdout, "capability bits on read")
    check("pvpanic" in p.stderr, "reason")


def read_core(path):
    data = open(path, "rb").read()
    check(data[:4] == b"\x7fELF" and data[4] == 2, "ELF64")
    e_type, = struct.unpack_from("<H", data, 16)
    check(e_type == 4, "ET_CORE")
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    rips, loads, kxl_notes = [], [], []
    for i in range(phnum):
        p_type, _, off, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        if p_type == 4:
            o = off
            while o < off + filesz:
                namesz, descsz, ntype = struct.unpack_from("<III", data, o)
                desc = o + 12 + ((namesz + 3) & ~3)
                name = data[o + 12:o + 12 + namesz].rstrip(b"\0")
                if ntype == 1 and name == b"CORE":
                    rips.append(struct.unpack_from("<Q", data, desc + 112 + 16 * 8)[0])
                elif name == b"KXL":
                    kxl_notes.append(data[desc:desc + descsz].rstrip(b"\0").decode())
                o = desc + ((descsz + 3) & ~3)
        elif p_type == 1:
            loads.append((vaddr, off, filesz))
    return data, rips, loads, kxl_notes


def t_coredump():
    d = tmpdir()
    p = run(["--on-crash", "coredump-destroy", "--dump-dir", d], "triplefault")
    expect(p, "crash")
    cores = os.listdir(d)
    check(len(cores) == 1 and cores[0].startswith("test-0-"), f"one core in {d}: {cores}")
    data, rips, loads, notes = read_core(os.path.join(d, cores[0]))
    check(len(rips) == 1, "one vCPU note")
    check(sum(size for _, _, size in loads) >= 30 << 20, "the guest's memory (32 MiB) is in the core")
    if kvm_vendor() == "amd":
        # the registers are gone (see t_triplefault): the core says so,
        # holds zeros rather than the reset vector, and keeps the memory
        check(LOST in p.stderr, "the crash message says the registers were lost")
        print("KXL notes:", notes)
        check(len(notes) == 1 and "registers lost" in notes[0], "a KXL note on the lost registers")
        check(rips[0] == 0, f"rip {rips[0]:#x} in the core, want 0 (unknown)")
        return
    check(not notes, "no lost-registers note on Intel")
    rip = rips[0]
    for vaddr, off, size in loads:
        if vaddr <= rip < vaddr + size:
            check(data[off + rip - vaddr: off + rip - vaddr + 2] == b"\x0f\x0b", "rip at the ud2")
            break
    else:
        raise Fail("rip outside the core's memory")
    if os.path.exists("/usr/bin/gdb"):
        g = subprocess.run(["gdb", "-batch", "-ex", "x/i $pc", "-c", os.path.join(d, cores[0])],
                           capture_output=True, text=True, timeout=60)
        print(g.stdout)
        check("ud2" in g.stdout, "gdb opens the core")


def t_coredump_restart():
    d = tmpdir()
    p = run(["--on-crash", "coredump-restart", "--dump-dir", d, "-c", "2",
             "--ctl", "wait:scenario,wait:scenario,destroy"], "pvpanic")
    expect(p, "destroyed")
    check(len(os.listdir(d)) >= 1, "a core")
    _, rips, _, _ = read_core(os.path.join(d, sorted(os.listdir(d))[0]))
    check(len(rips) == 2, "a note per vCPU")


def t_dump_core_cmd():
    d = tmpdir()
    path = os.path.join(d, "live.core")
    p = run(["--ctl", f"wait:ignoring,dump:{path},destroy"], "ignore")
    expect(p, "destroyed")
    check(os.path.exists(path), "dump-core wrote the file")


def t_preserve():
    proc = subprocess.Popen([DRIVER, "--on-crash", "preserve", GUEST, "pvpanic"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err = read_until(proc.stderr, "preserved", time.time() + TIMEOUT)
    check("preserved" in err, "preserved event")
    check(proc.poll() is None, "kxl waits while preserved")
    proc.send_signal(signal.SIGTERM)
    out, rest = proc.communicate(timeout=TIMEOUT)
    print(err + rest, file=sys.stderr)
    check(proc.returncode == EXIT["crash"], f"exit {proc.returncode}, want the crash code")


def t_signal():
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([DRIVER, GUEST, "spin"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out = read_until(proc.stdout, "halting")
        check("halting" in out, "guest running")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=TIMEOUT)
        print(err, file=sys.stderr)
        check(proc.returncode == EXIT["destroyed"], f"{sig.name}: exit {proc.returncode}")
        check("destroyed by" in err, "note")


def t_powerbutton():
    p = run(["--ctl", "wait:waiting for the power button,power"], "powerbutton")
    expect(p, "poweroff")
    check("powerbutton: pressed" in p.stdout, "the guest saw the GED event")


def t_ignore_button():
    p = run(["--ctl", "wait:ignoring,power,wait:ignored,power,wait:press 2 ignored,destroy"], "ignore")
    expect(p, "destroyed")


def t_paused():
    p = run(["-P", "--ctl", "status,unpause,status,wait:info: done"], "info")
    expect(p, "poweroff")
    check("ctl: status -> 0 (paused)" in p.stderr, "starts paused")
    check(p.stderr.index("ctl: status -> 0 (paused)") < p.stderr.index("unpaused"), "order")


def t_pause_unpause():
    p = run(["--ctl", "wait:ignoring,pause,status,unpause,power,wait:press 1,destroy"], "ignore")
    expect(p, "destroyed")
    check("ctl: status -> 0 (paused)" in p.stderr, "pause")


def t_nmi():
    # the ignore guest has no NMI handler: an NMI makes it triple-fault
    p = run(["--ctl", "wait:ignoring,nmi"], "ignore")
    expect(p, "crash")
    check("ctl: nmi -> 0" in p.stderr, "nmi sent")


def t_reset():
    p = run(["--on-reboot", "destroy", "--ctl", "wait:ignoring,reset"], "ignore")
    expect(p, "reboot")


def t_smp():
    p = run(["-c", "4"], "smp")
    expect(p, "poweroff")
    ids = sorted(int(x) for x in re.findall(r"smp: apic (\d+)", p.stdout))
    check(ids == [0, 1, 2, 3], f"APIC IDs {ids}")
    check("4 of 4 cpus up" in p.stdout, "all up")
    p = run(["-c", "2", "-C", "4"], "smp")
    expect(p, "poweroff")
    check("2 of 2 cpus up" in p.stdout, "vcpus=2 maxvcpus=4: two online")


def t_hostile():
    seeds = [1, 2, 3, 42, 1234, 99999, 314159, 271828]
    for s in seeds:
        t0 = time.time()
        try:
            p = run(["-c", str(1 + s % 2), "--on-reboot", "destroy", "--on-poweroff", "destroy",
                     "--on-crash", "destroy"],
                    f"hostile seed={s}", timeout=kxltest.scaled(10))
        except subprocess.TimeoutExpired:
            raise Fail(f"seed {s}: kxl did not end within {kxltest.scaled(10):g} s")
        outcome = re.search(r"outcome=(\w+)", p.stderr)
        check(outcome and outcome.group(1) in ("poweroff", "reboot", "crash"),
              f"seed {s}: a defined outcome")
        check(p.returncode == EXIT[outcome.group(1)], f"seed {s}: exit code")
        check(f"on_{outcome.group(1)}=destroy" in p.stderr, f"seed {s}: action applied")
        print(f"seed {s}: {outcome.group(1)} in {time.time() - t0:.2f} s")


def t_hostile_restart():
    # with restart actions, the guest is rebuilt each time and ends on destroy
    p = run(["--on-crash", "restart", "--ctl", "wait:hostile,wait:hostile,destroy"], "hostile seed=7",
            timeout=kxltest.scaled(30))
    expect(p, "destroyed")


def t_linux64():
    p = run(["-p", "linux"], "linux64 cmdline works", kernel=GUEST64)
    expect(p, "poweroff")
    o = p.stdout
    check('cmdline="linux64 cmdline works"' in o, "cmdline through boot_params")
    m = re.search(r"efer=(0x[0-9a-f]+)", o)
    check(m and int(m.group(1), 16) & 0x500 == 0x500, "EFER.LME|LMA")
    check("cs=0x10" in o, "__BOOT_CS")
    check("header=HdrS" in o, "zero page header")
    check("linux64: done" in o, "finished")


def t_rtc():
    p = run(["--rtc-offset", str(366 * 86400)], "rtc")
    expect(p, "poweroff")
    m = re.search(r"rtc: (\d{4})-(\d\d)-(\d\d)", p.stdout)
    check(m, "rtc line")
    got = tuple(int(x) for x in m.groups())
    want = {time.gmtime(time.time() + 366 * 86400 - d)[:3] for d in (0, 300)}
    check(got in want, f"rtc_timeoffset applies: {got} not in {want}")


def t_wallclock():
    """rtc_timeoffset moves kvmclock's wall clock too (KVM_SET_CLOCK)."""
    for off in (0, 400 * 86400, -86400):
        p = run(["--rtc-offset", str(off)], "wallclock")
        expect(p, "poweroff")
        m = re.search(r"wallclock: version=\d+ sec=(\d+)", p.stdout)
        check(m, "wallclock line")
        # the boot epoch: host time at kvmclock 0, plus the offset
        check(abs(int(m.group(1)) - (time.time() + off)) < 120, f"offset {off}: sec {m.group(1)}")


def t_localtime():
    env = dict(os.environ, TZ="KXL-3")  # POSIX TZ: three hours east of UTC
    cmd = [DRIVER, "--localtime", GUEST, "rtc"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    print(p.stdout, p.stderr)
    check(p.returncode == 0, "exit 0")
    m = re.search(r"rtc: (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)", p.stdout)
    check(m, "rtc line")
    got = tuple(int(x) for x in m.groups())
    want = {time.gmtime(time.time() + 3 * 3600 - d)[:5] for d in (0, 60, 120)}
    check(got in want, f"localtime applies: {got} not in {want}")


def t_seccomp_child():
    """The process that runs the vCPUs is the one under the filter."""
    proc = subprocess.Popen([DRIVER, GUEST, "spin"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out = read_until(proc.stdout, "halting")
        check("halting" in out, "guest running")
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            kids = [int(x) for x in f.read().split()]
        check(len(kids) == 1, f"one VMM child: {kids}")
        status = open(f"/proc/{kids[0]}/status").read()
        print(status)
        check(re.search(r"^Seccomp:\s+2$", status, re.M), "child in seccomp filter mode")
        threads, devs, consoles = [], [], []
        for t in os.listdir(f"/proc/{kids[0]}/task"):
            st = open(f"/proc/{kids[0]}/task/{t}/status").read()
            check(re.search(r"^Seccomp:\s+2$", st, re.M), f"thread {t} filtered")
            comm = open(f"/proc/{kids[0]}/task/{t}/comm").read().strip()
            if comm.startswith("vio-"):  # a virtio device's thread
                devs.append(comm)
            elif comm == "console":  # the console merge's writer
                consoles.append(comm)
            elif not comm.startswith("kvm-"):  # KVM's own workers (kvm-nx-lpage-recovery)
                threads.append(t)
        check(len(threads) == 2, f"main thread + one vCPU thread: {threads}")
        check(sorted(devs) == ["vio-hvc0", "vio-rng"], f"one thread per virtio device: {devs}")
        check(consoles == ["console"], f"one console thread: {consoles}")
        parent = open(f"/proc/{proc.pid}/status").read()
        check(re.search(r"^Seccomp:\s+0$", parent, re.M), "the parent is not filtered")
    finally:
        proc.terminate()
        proc.communicate(timeout=TIMEOUT)


def t_console_input():
    p = run(["--stdin"], "echo", stdin="hello kxl.")
    expect(p, "poweroff")
    check("hello kxl" in p.stdout and "echo: done" in p.stdout, "input reached the guest")


def t_stuck_console():
    """A console nobody reads stalls the guest, never the VMM."""
    p = run(["--stuck-console", "--stdin", "--ctl", "sleep:500,pause,status,unpause,status,destroy"],
            "flood", stdin="")
    expect(p, "destroyed")
    check("ctl: pause -> 0 (paused)" in p.stderr, "pause answered")
    check("ctl: status -> 0 (running)" in p.stderr, "unpause answered")


def t_tty_raw():
    """Console input from a tty: raw mode (no echo by the line discipline)
    while the guest runs, the saved mode restored afterwards."""
    import pty
    import select
    import termios
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([DRIVER, "--stdin", GUEST, "echo"], stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = read_until(proc.stdout, "echo: type")
    check("echo: type" in out, "guest waiting for input")
    os.write(master, b"xyz.")
    rest, err = proc.communicate(timeout=TIMEOUT)
    print(out + rest, err)
    echoed = b""
    while select.select([master], [], [], 0)[0]:
        try:
            chunk = os.read(master, 100)
        except OSError:
            break
        if not chunk:
            break
        echoed += chunk
    after = termios.tcgetattr(slave)
    check(proc.returncode == 0, "poweroff")
    check("xyz" in rest, "input reached the guest")
    check(b"xyz" not in echoed, f"the tty did not echo (raw mode): {echoed!r}")
    check(after == before, "terminal mode restored")


def t_bad_kernel():
    p = run([], "info", kernel="/nonexistent/kernel")
    check(p.returncode == EXIT["error"], "exit 1")
    check("/nonexistent/kernel" in p.stderr, "the error names the file")


def t_no_acpi():
    p = run(["--no-acpi"], "info")
    expect(p, "poweroff")


TESTS = {n[2:].replace("_", "-"): f for n, f in globals().items() if n.startswith("t_")}


def main():
    global DRIVER, GUEST, GUEST64
    if len(sys.argv) != 5 or sys.argv[1] not in TESTS:
        print(__doc__, "tests:", " ".join(TESTS), file=sys.stderr)
        return 2
    DRIVER, GUEST, GUEST64 = sys.argv[2:5]
    return kxltest.main(TESTS, __doc__, sys.argv[1:2])


if __name__ == "__main__":
    sys.exit(main())
