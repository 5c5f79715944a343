#!/usr/bin/env python3
"""life-tests.py: the domain lifecycle tests (suite 'life').

Each test runs the kxl command on the tiny test guest (guest/pvh-main.c;
its scenario is the first word of the cmdline) in background domains,
with a private state directory (KXL_STATE_DIR) and dump directory
(KXL_DUMP_DIR), and checks what `kxl list', the console and the logs say.
No timed assertions: waits poll with generous timeouts.

usage: life-tests.py TEST KXL GUEST

The harness (check, Fail, Skip, timeouts, polling, temporary directories,
sanitizer reports, main) is tests/lib/kxltest.py, shared with vmm-tests.py.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import kxltest  # noqa: E402
from kxltest import EXIT, WAIT, Fail, Skip, check, tmpdir  # noqa: E402,F401

KXL = GUEST = None


class Env:
    def __init__(self):
        self.dir = tmpdir(prefix="kxl-life-")
        self.state = os.path.join(self.dir, "state")
        self.dump = os.path.join(self.dir, "dump")
        self.env = dict(os.environ, KXL_STATE_DIR=self.state, KXL_DUMP_DIR=self.dump)

    def kxl(self, *args, input=None, timeout=WAIT, want=None, prefix=()):
        cmd = list(prefix) + [KXL] + [str(a) for a in args]
        p = kxltest.run(cmd, timeout=timeout, input=input, env=self.env)
        if want is not None:
            check(p.returncode == want, f"`kxl {' '.join(map(str, args))}' exited "
                  f"{p.returncode}, want {want}: {p.stderr.strip()}")
        return p

    def cfg(self, name, cmdline, **keys):
        path = os.path.join(self.dir, name + ".cfg")
        lines = [f'name = "{name}"', 'type = "pvh"', f'kernel = "{GUEST}"',
                 f'cmdline = "{cmdline}"', "memory = 32"]
        for k, v in keys.items():
            lines.append(f"{k} = {json.dumps(v) if isinstance(v, str) else v}")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def create(self, name, cmdline, *opts, **keys):
        p = self.kxl("create", *opts, self.cfg(name, cmdline, **keys), want=0)
        m = re.search(r"domain (\S+) started with ID (\d+)", p.stdout)
        check(m and m.group(1) == name, "create prints the name and ID")
        return int(m.group(2))

    def log(self, name, which="console.log"):
        try:
            with open(os.path.join(self.state, "log", f"{name}.{which}"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, what, fn, timeout=WAIT):
        kxltest.wait_for(what, fn, timeout)

    def wait_console(self, name, text):
        self.wait_for(f"`{text}' on {name}'s console", lambda: text in self.log(name))

    def rows(self):
        p = self.kxl("list", want=0)
        lines = p.stdout.splitlines()
        check(lines and lines[0].startswith("Name") and "Time(s)" in lines[0], "list header")
        out = {}
        for ln in lines[1:]:
            f = ln.split()
            check(len(f) == 6, f"list row `{ln}'")
            out[f[0]] = {"id": int(f[1]), "mem": int(f[2]), "vcpus": int(f[3]),
                         "state": f[4], "time": float(f[5])}
        check("Domain-0" not in out, "no Domain-0 row")
        return out

    def wait_gone(self, name):
        self.wait_for(f"{name} to be gone", lambda: name not in self.rows())
        check(not os.path.exists(os.path.join(self.state, "dom", name)),
              f"{name}'s state directory is removed")

    def cleanup(self):
        """Destroys what is left; returns the sanitizer reports of the monitors."""
        try:
            for name in self.rows():
                self.kxl("destroy", name)
        except Exception as e:  # noqa: BLE001 - best effort
            print("cleanup:", e, file=sys.stderr)
        reports = []
        logdir = os.path.join(self.state, "log")
        for f in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            if f.endswith(".console.log"):
                continue
            with open(os.path.join(logdir, f), errors="replace") as fh:
                text = fh.read()
            if kxltest.sanitizer_report(text):
                reports.append(f"{f}:\n{text}")
        shutil.rmtree(self.dir, ignore_errors=True)
        return reports


def t_paused(e):
    """create -p, then unpause: the guest starts only then."""
    domid = e.create("p1", "powerbutton", "-p")
    r = e.rows()["p1"]
    check(r["id"] == domid and r["state"] == "--p---", f"paused state {r['state']}")
    check(r["mem"] == 32 and r["vcpus"] == 1, "Mem and VCPUs columns")
    time.sleep(0.3)
    check("guest:" not in e.log("p1"), "a paused guest prints nothing")
    e.kxl("unpause", "p1", want=0)
    e.wait_console("p1", "waiting for the power button")
    check(e.rows()["p1"]["state"] in ("r-----", "-b----"), "running after unpause")
    e.kxl("pause", domid, want=0)
    check(e.rows()["p1"]["state"] == "--p---", "pause by ID")
    e.kxl("unpause", domid, want=0)
    e.kxl("destroy", "p1", want=0)
    e.wait_gone("p1")


def t_console_buffer(e):
    """What the guest wrote before the attach is shown, then Ctrl-] detaches."""
    e.create("c1", "powerbutton")
    e.wait_console("c1", "waiting for the power button")
    p = e.kxl("console", "c1", input="\x1d", want=0)
    check('scenario "powerbutton"' in p.stdout and "waiting for the power button" in p.stdout,
          "buffered console output shown on attach")
    check("c1" in e.rows(), "the domain survives the detach")
    e.kxl("destroy", "c1", want=0)


def t_console_input(e):
    """create -c attaches at once; input reaches the guest's UART."""
    p = e.kxl("create", "-c", e.cfg("c2", "echo"), input="hi there.", want=0)
    check("echo: type" in p.stdout and "hi there" in p.stdout and "echo: done" in p.stdout,
          "echo guest output through create -c")
    check("has ended" in p.stderr, "the console client says the domain ended")
    e.wait_gone("c2")


def t_console_second(e):
    """A second attach is refused; destroy ends the first client cleanly."""
    e.create("c3", "powerbutton")
    e.wait_console("c3", "waiting for the power button")
    out_path = os.path.join(e.dir, "first.out")
    with open(out_path, "wb") as out:
        first = subprocess.Popen([KXL, "console", "c3"], stdin=subprocess.PIPE,
                                 stdout=out, stderr=subprocess.PIPE, env=e.env)

    def first_attached():
        check(first.poll() is None, "the first console client is running")
        with open(out_path, "rb") as f:
            return b"waiting for the power button" in f.read()
    e.wait_for("the first attach", first_attached)
    p = e.kxl("console", "c3", input="\x1d")
    check(p.returncode != 0 and "already attached" in p.stderr, "second attach refused")
    e.kxl("destroy", "c3", want=0)
    _, err = first.communicate(timeout=WAIT)
    print(err.decode(errors="replace"))
    check(first.returncode == 0, f"first console client exit {first.returncode}")
    check(b"has ended" in err, "the first client was told the domain ended")
    e.wait_gone("c3")


def t_shutdown(e):
    """shutdown -w of a guest that acts on the power button."""
    e.create("s1", "powerbutton")
    e.wait_console("s1", "waiting for the power button")
    p = e.kxl("shutdown", "-w", "s1", want=0)
    check("has shut down: poweroff" in p.stdout, "shutdown -w reports the poweroff")
    check("pressed, powering off" in e.log("s1"), "the guest saw the button")
    e.wait_gone("s1")


def t_shutdown_timeout(e):
    """shutdown --timeout destroys a guest that ignores the button."""
    e.create("s2", "ignore")
    e.wait_console("s2", "ignoring the power button")
    p = e.kxl("shutdown", "--timeout", "2", "s2", want=0)
    check("did not shut down within 2 s: destroying it" in p.stderr, "timeout message")
    check("press 1 ignored" in e.log("s2"), "the guest saw the button")
    check("ended: destroyed" in e.log("s2", "log"), "monitor log: destroyed")
    e.wait_gone("s2")


def t_shutdown_all(e):
    """shutdown -a -w stops every domain."""
    for n in ("a1", "a2"):
        e.create(n, "powerbutton")
    for n in ("a1", "a2"):
        e.wait_console(n, "waiting for the power button")
    p = e.kxl("shutdown", "-a", "-w", want=0)
    check(p.stdout.count("has shut down: poweroff") == 2, "both shut down")
    check(e.rows() == {}, "no domain left")


def t_reboot(e):
    """reboot with on_reboot=restart: same name, a new ID, the old one gone."""
    old = e.create("r1", "ignore", on_reboot="restart")
    e.wait_console("r1", "ignoring the power button")
    p = e.kxl("reboot", "-w", "r1", want=0)
    check("has rebooted: reboot" in p.stdout, "reboot -w reports the reboot")
    e.wait_for("the restart", lambda: e.log("r1").count("ignoring the power button") == 2)
    new = e.rows()["r1"]["id"]
    check(new != old, f"a restart gets a new ID ({old} -> {new})")
    check(e.kxl("domid", "r1", want=0).stdout.strip() == str(new), "domid NAME")
    check(e.kxl("domname", new, want=0).stdout.strip() == "r1", "domname ID")
    p = e.kxl("domname", old)
    check(p.returncode != 0 and f"no domain with ID {old}" in p.stderr, "the old ID is gone")
    # the guest's own reboot, with on_reboot=destroy
    e.create("r2", "reboot", on_reboot="destroy")
    e.wait_gone("r2")
    check("on_reboot=destroy" in e.log("r2", "log"), "r2 rebooted and was destroyed")
    e.kxl("destroy", "r1", want=0)


def t_trigger(e):
    """trigger reset restarts; trigger nmi crashes the guest (it has no NMI handler)."""
    old = e.create("t1", "ignore", on_reboot="restart", on_crash="preserve")
    e.wait_console("t1", "ignoring the power button")
    e.kxl("trigger", "t1", "reset", want=0)
    e.wait_for("the restart", lambda: e.log("t1").count("ignoring the power button") == 2)
    new = e.rows()["t1"]["id"]
    check(new != old, "trigger reset: a new ID")
    e.kxl("trigger", "t1", "power", want=0)
    e.wait_for("the button", lambda: "press 1 ignored" in e.log("t1"))
    e.kxl("trigger", "t1", "nmi", want=0)
    e.wait_for("the crash", lambda: e.rows()["t1"]["state"] == "----c-")
    check("crash" in e.log("t1", "log"), "monitor log: crash")
    p = e.kxl("trigger", "t1", "sleep")
    check(p.returncode != 0 and "not supported" in p.stderr, "trigger sleep: not supported")
    e.kxl("destroy", "t1", want=0)
    e.wait_gone("t1")


def t_preserve(e):
    """on_poweroff=preserve keeps the stopped domain (s) until destroy; wait answers at once."""
    e.create("v1", "powerbutton", on_poweroff="preserve")
    e.wait_console("v1", "waiting for the power button")
    p = e.kxl("shutdown", "-w", "v1", want=0)
    check("has shut down: poweroff" in p.stdout, "shutdown -w of a preserved domain returns")
    check(e.rows()["v1"]["state"] == "---s--", "state s")
    p = e.kxl("unpause", "v1")
    check(p.returncode != 0, "a stopped guest cannot be unpaused")
    p = e.kxl("shutdown", "-w", "v1")
    check(p.returncode != 0 and "stopped" in p.stderr, "shutdown of a stopped guest: refused")
    core = os.path.join(e.dir, "v1.core")
    e.kxl("dump-core", "v1", core, want=0)
    check(os.path.getsize(core) > 32 << 20, "core of the preserved guest")
    e.kxl("destroy", "v1", want=0)
    e.wait_gone("v1")


def t_restart_actions(e):
    """rename-restart and coredump-restart restart under the name with a new ID; -q is quiet."""
    p = e.kxl("create", "-q", e.cfg("x1", "ignore", on_reboot="rename-restart"), want=0)
    check(p.stdout == "", "create -q prints nothing")
    old = int(e.kxl("domid", "x1", want=0).stdout)
    e.wait_console("x1", "ignoring the power button")
    p = e.kxl("reboot", "-w", "x1", want=0)
    e.wait_for("the restart", lambda: e.log("x1").count("ignoring the power button") == 2)
    check(e.rows()["x1"]["id"] != old, "rename-restart: a new ID")
    check("rename-restart" in e.log("x1", "log"), "monitor log notes the rename-restart")
    e.kxl("destroy", "x1", want=0)
    e.create("x2", "triplefault", on_crash="coredump-restart")
    e.wait_for("two crashes", lambda: e.log("x2", "log").count("stopped: crash") >= 2)
    e.kxl("destroy", "x2", want=0)
    cores = [c for c in os.listdir(e.dump) if c.startswith("x2-")]
    print("cores:", cores)
    check(len(cores) >= 2 and len({c.split("-")[1] for c in cores}) >= 2,
          "one core per crash, each named with its own ID")


def t_foreground(e):
    """create -F: the domain is listed and reachable; its exit status tells the outcome."""
    cfg = e.cfg("f1", "powerbutton")
    fg = subprocess.Popen([KXL, "create", "-F", cfg], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=e.env)
    e.wait_for("f1 in the list", lambda: "f1" in e.rows())
    p = e.kxl("create", cfg)
    check(p.returncode != 0 and "already exists" in p.stderr, "the name is taken")
    e.wait_console("f1", "waiting for the power button")
    p = e.kxl("console", "f1", input="\x1d", want=0)
    check("waiting for the power button" in p.stdout, "kxl console attaches to a -F domain")
    e.kxl("shutdown", "-w", "f1", want=0)
    _, err = fg.communicate(timeout=WAIT)
    check(fg.returncode == EXIT["poweroff"], f"create -F exits 0 on poweroff, not {fg.returncode}")
    check(b"kxl console f1 attaches" in err, "create -F says where the console goes")
    e.wait_gone("f1")
    # -F -c: the console is the terminal's (here a pipe)
    out_path = os.path.join(e.dir, "fg.out")
    with open(out_path, "wb") as out:
        fg = subprocess.Popen([KXL, "create", "-F", "-c", cfg, 'cmdline="ignore"'],
                              stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE, env=e.env)

    def printed():
        with open(out_path, "rb") as f:
            return b"ignoring the power button" in f.read()
    e.wait_for("the console on stdout", printed)
    check("f1" in e.rows(), "a -F -c domain is listed")
    p = e.kxl("console", "f1", input="\x1d")
    check(p.returncode != 0 and "kxl create -F" in p.stderr, "-F -c keeps the console")
    fg.send_signal(signal.SIGTERM)
    fg.communicate(timeout=WAIT)
    check(fg.returncode == EXIT["destroyed"],
          f"create -F exits 5 when destroyed by SIGTERM, not {fg.returncode}")
    e.wait_gone("f1")


def t_race(e):
    """Of eight creates of one name at once, exactly one wins."""
    cfg = e.cfg("race", "powerbutton")
    procs = [subprocess.Popen([KXL, "create", cfg], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=e.env) for _ in range(8)]
    res = [(p.wait(timeout=WAIT), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    for r in res:
        print(r)
    wins = [r for r in res if r[0] == 0]
    check(len(wins) == 1, f"{len(wins)} creates won")
    check(all("already exists" in r[2] for r in res if r[0] != 0), "losers say it exists")
    rows = e.rows()
    check(list(rows) == ["race"], "one domain listed")
    e.kxl("destroy", "race", want=0)
    e.wait_gone("race")
    e.create("race", "powerbutton")   # the name is free again
    e.kxl("destroy", "race", want=0)


def procs_with(text):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def t_sigkill(e):
    """A monitor killed with SIGKILL: list notices, cleans up; nothing hangs."""
    e.create("k1", "powerbutton")
    e.wait_console("k1", "waiting for the power button")
    cfgpath = os.path.join(e.dir, "k1.cfg")
    check(procs_with(cfgpath), "the monitor and VMM processes exist")
    with open(os.path.join(e.state, "dom", "k1", "pid")) as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGKILL)
    e.wait_gone("k1")
    e.wait_for("the VMM processes to end", lambda: not procs_with(cfgpath))
    p = e.kxl("pause", "k1")
    check(p.returncode != 0 and "no domain named" in p.stderr, "k1 is unknown now")
    e.create("k1", "powerbutton")
    e.kxl("destroy", "k1", want=0)


def t_list_long(e):
    """list -l: the config with the defaults filled, per domain."""
    a = e.create("l1", "powerbutton")
    b = e.create("l2", "powerbutton", memory=48, vcpus=2, maxvcpus=3, on_crash="preserve")
    p = e.kxl("list", "-l", want=0)
    check(p.stdout.startswith('[\n    {\n        "domid": '), "xl's layout (4 spaces)")
    v = json.loads(p.stdout)
    check([d["domid"] for d in v] == [a, b], "domids in order")
    for d, name in zip(v, ["l1", "l2"]):
        c = d["config"]
        check(c["c_info"]["name"] == name and c["c_info"]["type"] == "pvh", "c_info")
        bi = c["b_info"]
        for k in ("target_memkb", "max_memkb", "max_vcpus", "avail_vcpus"):
            check(k in bi, f"default {k} filled")
        for k in ("on_poweroff", "on_reboot", "on_crash", "on_watchdog", "on_soft_reset"):
            check(k in c, f"default {k} filled")
        check(bi["kernel"] == GUEST, "the resolved kernel path")
    b1, b2 = v[0]["config"]["b_info"], v[1]["config"]["b_info"]
    check(b1["target_memkb"] == 32768 and b1["max_memkb"] == 32768, "l1 memory")
    check(b2["target_memkb"] == 49152, "l2 memory")
    check(b2["max_vcpus"] == 3, "l2 maxvcpus")
    check(v[1]["config"]["on_crash"] == "preserve", "l2 on_crash")
    check(v[0]["config"]["on_reboot"] == "restart", "xl's default on_reboot")
    # a third shape: ramdisk, cmdline extras, clock keys
    c = e.create("l3", "powerbutton extra=1", ramdisk=GUEST, localtime=1, rtc_timeoffset=3600,
                 on_poweroff="restart")
    v3 = json.loads(e.kxl("list", "-l", "l3", want=0).stdout)[0]
    check(v3["domid"] == c, "l3 domid")
    b3 = v3["config"]["b_info"]
    check(b3.get("ramdisk") == GUEST, "l3 resolved ramdisk")
    check(b3.get("cmdline") == "powerbutton extra=1", "l3 cmdline")
    check(b3.get("localtime") == "True" and b3.get("rtc_timeoffset") == 3600, "l3 clock keys")
    check(v3["config"]["on_poweroff"] == "restart", "l3 on_poweroff")
    e.kxl("destroy", "l3", want=0)
    one = json.loads(e.kxl("list", "-l", "l2", want=0).stdout)
    check(len(one) == 1 and one[0]["domid"] == b, "list -l DOMAIN")
    rows = e.rows()
    check(rows["l2"]["mem"] == 48 and rows["l2"]["vcpus"] == 2, "l2 row")
    p = e.kxl("list", "l1", str(b), want=0)
    check(len(p.stdout.splitlines()) == 3, "list by name and ID")
    for n in ("l1", "l2"):
        e.kxl("destroy", n, want=0)


def t_list_kvm(e):
    """list -l: what kxl changed to run a Xen config on KVM (pv as PVH, disk names, root=)."""
    disk = os.path.join(e.dir, "k1.img")
    with open(disk, "wb") as f:
        f.truncate(1024 * 1024)
    path = os.path.join(e.dir, "k1.cfg")
    with open(path, "w") as f:
        # (the test guest acts on the first word of its command line)
        f.write('name = "k1"\ntype = "pv"\nkernel = "%s"\n'
                'cmdline = "powerbutton root=/dev/xvda1"\nmemory = 32\n'
                "disk = [ 'format=raw,vdev=xvda1,target=%s' ]\n" % (GUEST, disk))
    p = e.kxl("create", path, want=0)
    for said in ("KVM has no PV mode", "/dev/xvda1 -> /dev/vda"):
        check(said in p.stderr, f"create says `{said}' on stderr")
    v = json.loads(e.kxl("list", "-l", "k1", want=0).stdout)[0]
    check(v["config"]["c_info"]["type"] == "pv", "the config stays xl's (type pv)")
    kvm = v.get("kvm", {})
    ch = kvm.get("changes", [])
    check(any("KVM has no PV mode" in c for c in ch), f"pv run as PVH recorded: {ch}")
    check(any("/dev/xvda1 -> /dev/vda" in c for c in ch), f"root= rewrite recorded: {ch}")
    check(kvm.get("disks") == [{"vdev": "xvda1", "guest": "/dev/vda"}], f"disk names: {kvm.get('disks')}")
    check(sum(1 for c in ch if "KVM has no PV mode" in c) == 1, "each change once")
    # a restart records what holds for its boot: the same notes here (no
    # bootloader), once, not the first boot's again after them
    old = e.rows()["k1"]["id"]
    e.wait_console("k1", "waiting for the power button")
    e.kxl("trigger", "k1", "reset", want=0)
    e.wait_for("k1's restart", lambda: e.log("k1").count("waiting for the power button") == 2)
    check(e.rows()["k1"]["id"] != old, "k1 restarted with a new ID")
    v = json.loads(e.kxl("list", "-l", "k1", want=0).stdout)[0]
    check(v.get("kvm", {}).get("changes") == ch, f"after the restart: {v.get('kvm')} (first boot: {ch})")
    check(v.get("kvm", {}).get("disks") == kvm.get("disks"), "disk names after the restart")
    e.create("k2", "powerbutton")
    v2 = json.loads(e.kxl("list", "-l", "k2", want=0).stdout)[0]
    check("kvm" not in v2, "nothing changed: no kvm object")
    for n in ("k1", "k2"):
        e.kxl("destroy", n, want=0)


GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def t_list_golden(e):
    """list -l pinned per config shape (golden/*.cfg -> .json; KXL_LIFE_REGEN=1 rewrites)."""
    for cfg in sorted(f for f in os.listdir(GOLDEN) if f.endswith(".cfg")):
        with open(os.path.join(GOLDEN, cfg)) as f:
            text = f.read().replace("@GUEST@", GUEST)
        name = re.search(r'name = "([^"]+)"', text).group(1)
        path = os.path.join(e.dir, cfg)
        with open(path, "w") as f:
            f.write(text)
        e.kxl("create", path, want=0)
        out = e.kxl("list", "-l", name, want=0).stdout
        e.kxl("destroy", name, want=0)
        out = re.sub(r'"domid": \d+', '"domid": @DOMID@', out.replace(GUEST, "@GUEST@"))
        gold = os.path.join(GOLDEN, cfg[:-4] + ".json")
        if os.environ.get("KXL_LIFE_REGEN"):
            with open(gold, "w") as f:
                f.write(out)
        with open(gold) as f:
            want = f.read()
        if out != want:
            import difflib
            sys.stderr.writelines(difflib.unified_diff(want.splitlines(True), out.splitlines(True),
                                                       gold, "kxl list -l"))
            raise Fail(f"{cfg}: list -l differs from {os.path.basename(gold)}")


def t_unknown(e):
    """Every verb: a clear error and a non-zero exit for an unknown domain."""
    e.create("u1", "powerbutton")
    for args in (["console", "nosuch"], ["shutdown", "nosuch"], ["reboot", "nosuch"],
                 ["destroy", "nosuch"], ["pause", "nosuch"], ["unpause", "nosuch"],
                 ["dump-core", "nosuch", os.path.join(e.dir, "x.core")],
                 ["trigger", "nosuch", "nmi"], ["domid", "nosuch"], ["domname", "4242"],
                 ["list", "nosuch"], ["pause", "4242"], ["shutdown", "-w", "4242"]):
        p = e.kxl(*args)
        check(p.returncode != 0, f"{args}: non-zero exit")
        check("no domain named `nosuch'" in p.stderr or "no domain with ID 4242" in p.stderr,
              f"{args}: clear error")
    p = e.kxl("save", "u1")
    check(p.returncode == 1 and "not supported" in p.stderr, "save: not supported")
    p = e.kxl("create", e.cfg("u1", "powerbutton"))
    check(p.returncode != 0 and "already exists" in p.stderr, "create of an existing name")
    e.kxl("destroy", "u1", want=0)


def t_other_uid(e):
    """Another user reaches neither the state directory nor the sockets."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv")
    e.create("o1", "powerbutton")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    os.chmod(e.dir, 0o755)      # let uid 65534 reach the state directory itself
    p = e.kxl("list", prefix=nobody)
    check(p.returncode != 0 and "not to you" in p.stderr, "list as another uid refused")
    sock = os.path.join(e.state, "dom", "o1", "ctl.sock")
    probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1])\nexcept OSError as x:\n print('refused', x.errno); sys.exit(0)\n"
             "print('answer', s.recv(200).decode().strip())\n")
    py = "/usr/bin/python3"
    p = subprocess.run(nobody + [py, "-c", probe, sock], capture_output=True, text=True, timeout=WAIT)
    print(p.stdout, p.stderr)
    check(p.stdout.startswith("refused 13"), "the socket is out of reach (EACCES)")
    # open every permission: the monitor still checks the peer's uid
    for d in (e.state, os.path.join(e.state, "dom"), os.path.join(e.state, "dom", "o1")):
        os.chmod(d, 0o755)
    for s in ("ctl.sock", "console.sock"):
        os.chmod(os.path.join(e.state, "dom", "o1", s), 0o666)
    for s in ("ctl.sock", "console.sock"):
        p = subprocess.run(nobody + [py, "-c", probe, os.path.join(e.state, "dom", "o1", s)],
                           capture_output=True, text=True, timeout=WAIT)
        print(p.stdout, p.stderr)
        check("answer error permission denied" in p.stdout, f"{s}: the monitor refuses the uid")
    p = e.kxl("list")
    check(p.returncode != 0 and "open to other users" in p.stderr, "an open state dir is refused")
    os.chmod(e.state, 0o700)
    e.kxl("destroy", "o1", want=0)


def t_dump_core(e):
    """dump-core of a live domain, and a coredump-destroy core named NAME-ID-TIME."""
    e.create("d1", "powerbutton")
    e.wait_console("d1", "waiting for the power button")
    core = os.path.join(e.dir, "d1.core")
    e.kxl("dump-core", "d1", core, want=0)
    with open(core, "rb") as f:
        check(f.read(4) == b"\x7fELF", "an ELF core")
    check("d1" in e.rows(), "the domain runs on")
    e.kxl("destroy", "d1", want=0)
    domid = e.create("d2", "triplefault", on_crash="coredump-destroy")
    e.wait_gone("d2")
    cores = os.listdir(e.dump) if os.path.isdir(e.dump) else []
    print("cores:", cores)
    check(any(re.fullmatch(rf"d2-{domid}-\d{{8}}-\d{{6}}\.core", c) for c in cores),
          "core named after the domain, its ID and the time")


def t_state_dir(e):
    """The state directory must be private; without the override, XDG_RUNTIME_DIR."""
    os.makedirs(e.state, mode=0o755)
    os.chmod(e.state, 0o755)
    p = e.kxl("list")
    check(p.returncode != 0 and "mode 755" in p.stderr, "a 0755 state directory is refused")
    os.chmod(e.state, 0o700)
    e.kxl("list", want=0)
    check(stat.S_IMODE(os.stat(os.path.join(e.state, "dom")).st_mode) == 0o700, "dom/ is 0700")


TESTS = {n[2:].replace("_", "-"): f for n, f in globals().items() if n.startswith("t_")}


def main():
    global KXL, GUEST
    if len(sys.argv) != 4:
        print(__doc__, "tests:", " ".join(TESTS), file=sys.stderr)
        return 2
    KXL, GUEST = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    return kxltest.main(TESTS, __doc__, sys.argv[1:2], setup=Env, teardown=Env.cleanup)


if __name__ == "__main__":
    sys.exit(main())
