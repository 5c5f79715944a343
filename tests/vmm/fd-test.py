#!/usr/bin/env python3
"""fd-test.py: what the guest-facing VMM process has open (tests vmm-fds
and life-fds).

The VMM child closes every descriptor it inherited except its keep-list
(child_keep_fds in src/vmm/child.c) before it creates the VM. This test
lists /proc/PID/fd of a running child and fails on anything that is not:

  /dev/kvm, the VM, one descriptor per vCPU and the eventfds and timers its devices make (its own);
  the socket to its parent; the console and the log it was given;
  /dev/null on standard descriptors it was not given.

Each inherited descriptor is matched to the one the parent passed (same
open file, the console pipe write-only), and the parent is given a decoy
it must not pass on: a file at descriptor 5000 (above the 4096 that the
old registry covered) without close-on-exec.

usage: fd-test.py vmm-run KXL-VMM-RUN GUEST   (the child of kxl-vmm-run)
       fd-test.py create KXL GUEST            (the child of a background
                                               domain's monitor, and of its
                                               restart while a console and a
                                               control client are attached)
"""
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

WAIT = 30


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def wait_for(what, fn, timeout=WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise Fail(f"timed out waiting for {what}")


def fds_of(pid):
    """{fd: (link target, access mode)} of a process."""
    out = {}
    for n in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{n}")
            with open(f"/proc/{pid}/fdinfo/{n}") as f:
                flags = int(re.search(r"^flags:\s*([0-7]+)", f.read(), re.M).group(1), 8)
        except (OSError, AttributeError):
            continue  # closed meanwhile
        out[int(n)] = (target, flags & 3)
    return out


def children(pid):
    kids = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def vcpu_threads_up(pid, vcpus):
    try:
        return len(os.listdir(f"/proc/{pid}/task")) >= 1 + vcpus
    except OSError:
        return False


def check_child(child, parent, vcpus, inherited, decoy):
    """inherited: {role: (fd in the child or None, predicate on (target, mode))}
    for what the child was given; every other descriptor must be its own."""
    fds = fds_of(child)
    pfds = fds_of(parent)
    print(f"VMM child {child} (parent {parent}):")
    for n, (t, mode) in sorted(fds.items()):
        print(f"  {n:3d} -> {t}  ({('r', 'w', 'rw', '?')[mode]})")
    check(decoy not in fds and all(t != pfds.get(decoy, ("?",))[0] for t, _ in fds.values()),
          f"the parent's decoy (fd {decoy}) reached the child")
    left = dict(fds)
    for role, (n, ok) in inherited.items():
        if n is not None:
            check(n in left and ok(*left[n]), f"{role}: fd {n} is {left.get(n)}")
            del left[n]
            continue
        hits = [k for k, v in left.items() if ok(*v)]
        check(len(hits) == 1, f"{role}: want one descriptor, found {hits}")
        del left[hits[0]]
    own = {"/dev/kvm": 1, "anon_inode:kvm-vm": 1, "anon_inode:[eventfd]": 1}
    for i in range(vcpus):
        own[f"anon_inode:kvm-vcpu:{i}"] = 1
    # The devices' eventfds and timers (virtio: ioeventfds, irqfd and
    # resample, wake, rate-limit timers) are created by the child after it
    # closed everything but the keep-list: any number of them is its own.
    made_here = ("anon_inode:[eventfd]", "anon_inode:[timerfd]")
    for n, (t, _) in sorted(left.items()):
        if t == "/dev/null" and n <= 2:
            continue  # a standard descriptor the child was not given
        if t in made_here and own.get(t, 0) <= 0:
            continue
        check(own.get(t, 0) > 0, f"unexpected descriptor {n} -> {t} in the VMM child")
        own[t] -= 1
    missing = [t for t, k in own.items() if k]
    check(not missing, f"the child lacks {missing}")
    print("  ok: nothing but the keep-list and the VM's own descriptors")


def decoy_fd():
    """A file at descriptor 5000 (or as high as the limit allows), inheritable."""
    want = 5001
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for lim in ((max(soft, want), max(hard, want)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, lim)
            break
        except (ValueError, OSError):
            pass
    n = min(5000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 1)
    fd = os.open(tempfile.mktemp(prefix="kxl-decoy-"), os.O_RDWR | os.O_CREAT, 0o600)
    os.dup2(fd, n, inheritable=True)
    os.close(fd)
    return n


def same_as(pid, n):
    """A predicate: the same open file as descriptor n of process pid."""
    target = os.readlink(f"/proc/{pid}/fd/{n}")
    return lambda t, mode: t == target


def t_vmm_run(driver, guest):
    decoy = decoy_fd()
    vcpus = 2
    proc = subprocess.Popen([driver, "-c", str(vcpus), guest, "spin"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, pass_fds=(decoy,), text=True)
    try:
        out = ""
        while "halting" not in out:
            line = proc.stdout.readline()
            if not line:
                break
            out += line
        check("halting" in out, "guest running")
        kids = children(proc.pid)
        check(len(kids) == 1, f"one VMM child: {kids}")
        child = kids[0]
        wait_for("the vCPU threads", lambda: vcpu_threads_up(child, vcpus))
        parent_pipes = {t for t, _ in fds_of(proc.pid).values() if t.startswith("pipe:")}
        check_child(child, proc.pid, vcpus, {
            # kxl-vmm-run passes its stderr as the log (spec.log_fd = 2)
            "log (stderr of kxl-vmm-run)": (2, same_as(proc.pid, 2)),
            "console output (the write end of kxl-vmm-run's pipe)":
                (None, lambda t, mode: t in parent_pipes and mode == os.O_WRONLY),
            "socket to the parent": (None, lambda t, mode: t.startswith("socket:")),
        }, decoy)
    finally:
        proc.terminate()
        proc.communicate(timeout=WAIT)


def t_create(kxl, guest):
    d = tempfile.mkdtemp(prefix="kxl-fds-")
    env = dict(os.environ, KXL_STATE_DIR=os.path.join(d, "state"),
               KXL_DUMP_DIR=os.path.join(d, "dump"))

    def run(*args, want=0):
        p = subprocess.run([kxl] + list(args), capture_output=True, text=True, env=env,
                           timeout=WAIT, pass_fds=(decoy,))
        print("$ kxl", " ".join(args), "->", p.returncode, p.stdout, p.stderr, sep="\n")
        check(want is None or p.returncode == want, f"kxl {args[0]} exited {p.returncode}")
        return p

    def console():
        try:
            with open(os.path.join(d, "state", "log", "f1.console.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    decoy = decoy_fd()
    cfg = os.path.join(d, "f1.cfg")
    vcpus = 2
    with open(cfg, "w") as f:
        f.write(f'name = "f1"\ntype = "pvh"\nkernel = "{guest}"\ncmdline = "ignore"\n'
                f'memory = 32\nvcpus = {vcpus}\non_reboot = "restart"\n')
    try:
        run("create", cfg)
        with open(os.path.join(d, "state", "dom", "f1", "pid")) as f:
            mon = int(f.read())
        wait_for("the guest", lambda: "ignoring the power button" in console())
        kids = children(mon)
        check(len(kids) == 1, f"one VMM child of the monitor: {kids}")
        child = kids[0]
        wait_for("the vCPU threads", lambda: vcpu_threads_up(child, vcpus))
        mon_sockets = {t for t, _ in fds_of(mon).values() if t.startswith("socket:")}

        def roles():
            return {
                # the monitor's own log: the VMM's messages (spec.log_fd = 2)
                "log (the monitor's log)": (2, same_as(mon, 2)),
                "console (the monitor's end of the console socketpair's peer)":
                    (None, lambda t, mode: t in mon_sockets),
                "socket to the parent (the monitor closed its copy)":
                    (None, lambda t, mode: t.startswith("socket:") and t not in mon_sockets),
            }
        check_child(child, mon, vcpus, roles(), decoy)

        # a restart forks a new child while the monitor has clients: a
        # console attached and a control connection open
        base = os.path.join(d, "state", "dom", "f1")
        con = socket.socket(socket.AF_UNIX)
        con.connect(os.path.join(base, "console.sock"))
        check(con.recv(3) == b"ok\n", "console attached")
        ctl = socket.socket(socket.AF_UNIX)
        ctl.connect(os.path.join(base, "ctl.sock"))
        ctl.sendall(b"info\n")
        check(ctl.recv(4096).startswith(b"ok"), "control connection answers")
        run("trigger", "f1", "reset")
        wait_for("the restart", lambda: console().count("ignoring the power button") >= 2)
        kids = wait_for("the new VMM child", lambda: [k for k in children(mon) if k != child])
        child = kids[-1]
        wait_for("the vCPU threads", lambda: vcpu_threads_up(child, vcpus))
        mon_sockets = {t for t, _ in fds_of(mon).values() if t.startswith("socket:")}
        check_child(child, mon, vcpus, roles(), decoy)
        con.close()
        ctl.close()
        run("destroy", "f1")
    finally:
        run("destroy", "f1", want=None)
        shutil.rmtree(d, ignore_errors=True)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("vmm-run", "create"):
        print(__doc__, file=sys.stderr)
        return 2
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("no access to /dev/kvm: skipped")
        return 77
    try:
        (t_vmm_run if sys.argv[1] == "vmm-run" else t_create)(*map(os.path.abspath, sys.argv[2:]))
    except Fail as e:
        print(f"FAIL: fds ({sys.argv[1]}): {e}", file=sys.stderr)
        return 1
    print(f"ok: fds ({sys.argv[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
