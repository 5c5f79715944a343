#!/usr/bin/env python3
"""suite-runner.py: runs a list of Meson tests one at a time and marks each
one's start, output and end on stdout, for run-kvm-suites to read. It runs
inside the nested KVM host (under Debian's python3, with the paths already
rewritten to /payload) or directly on this machine, with the same list.

    suite-runner.py LIST.json

LIST.json: {"tests": [{"name", "cmd", "env", "workdir", "timeout"}, ...],
"env": {...}} (the common environment, e.g. ASAN_OPTIONS). Each test runs
in its own session with stdin from /dev/null, stdout and stderr merged,
for at most its timeout (then its process group is killed). Lines:

    @@KXLTEST start NAME
    ...the test's output...
    @@KXLTEST alive NAME SECONDS     (every 10 s without output: a heartbeat)
    @@KXLTEST end NAME STATUS SECONDS [timeout]
    @@KXLTEST done

STATUS is the exit status (negative: killed by that signal). Standard
library only, and no more of it than needed: the host ships a trimmed one.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time

MARK = "@@KXLTEST"
HEARTBEAT = 10.0


def say(*words):
    sys.stdout.write(" ".join([MARK] + [str(w) for w in words]) + "\n")
    sys.stdout.flush()


def run_one(t, common):
    env = dict(os.environ)
    env.update(common)
    env.update(t.get("env") or {})
    env.setdefault("PYTHONUNBUFFERED", "1")  # output in the order it was written
    timeout = t.get("timeout") or 30
    say("start", t["name"])
    t0 = time.monotonic()
    p = subprocess.Popen(t["cmd"], cwd=t.get("workdir") or None, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    fd = p.stdout.fileno()
    out = sys.stdout.buffer
    last = t0
    timed_out = False
    ended = None
    newline = True
    while True:
        now = time.monotonic()
        if p.poll() is not None and ended is None:
            ended = now
        # a daemon the test started may hold the pipe open: stop reading
        # shortly after the test itself has ended
        if ended is not None and now - ended > 1.0:
            break
        if ended is None and now - t0 > timeout:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            ended = time.monotonic()
        if now - last >= HEARTBEAT:
            say("alive", t["name"], "%.0f" % (now - t0))
            last = now
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                if ended is None:
                    p.wait()
                    ended = time.monotonic()
                break
            out.write(chunk)
            out.flush()
            newline = chunk.endswith(b"\n")
            last = time.monotonic()
    p.stdout.close()
    took = time.monotonic() - t0
    if not newline:  # the marker starts a line of its own
        out.write(b"\n")
    say("end", t["name"], p.wait(), "%.1f" % took, "timeout" if timed_out else "")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    for t in spec["tests"]:
        run_one(t, spec.get("env") or {})
    say("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
