"""kxltest.py: the harness shared by kxl's Python test drivers.

tests/vmm/vmm-tests.py and tests/life/life-tests.py import it (they put
tests/lib on sys.path themselves): the Fail and Skip exceptions and check(),
kxl's exit codes and expect(), a logged subprocess run, polling with a
timeout, reading a child's output up to a marker, private temporary
directories removed at exit, the time scale of a slow (sanitized) build,
the scan of logs for sanitizer reports, and
main(), which turns a table of test functions into the driver's command
line and exit status (0 pass, 1 fail, 77 skip: no usable /dev/kvm, or the
test's own Skip). Standard library only: in the nested KVM host the drivers
run under Debian's python3 with a trimmed standard library
(tests/nested/nestlib.py imports whatever this file and the drivers import).
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

# Seconds to wait for a command or for something to happen. The tests poll
# rather than assert timings, so these only bound a hang.
TIMEOUT = 60
WAIT = 30
# A factor for the tighter bounds (scaled()): run-kvm-suites sets it for a
# sanitized build, whose VMM runs several times slower (more so in the
# nested host, under emulation).
TIME_SCALE = float(os.environ.get("KXL_TEST_TIME_SCALE") or 1)


def scaled(seconds):
    return seconds * TIME_SCALE

# The VMM's and `kxl create -F`'s exit codes (include/kxl/vmm.h).
EXIT = {"poweroff": 0, "error": 1, "reboot": 3, "crash": 4, "destroyed": 5}


class Fail(Exception):
    """The test failed: the message says what was wrong."""


class Skip(Exception):
    """The test cannot run here: the message says what is missing."""


def check(cond, what):
    if not cond:
        raise Fail(what)


def show(cmd):
    return " ".join(repr(c) if " " in c else c for c in map(str, cmd))


def run(cmd, timeout=TIMEOUT, input=None, env=None, quiet=False):
    """Runs CMD to its end (text mode, undecodable bytes replaced) and logs
    the command line and its output; returns the CompletedProcess."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       timeout=timeout, input=input, env=env, errors="replace")
    if not quiet:
        print("$", show(cmd), "->", p.returncode)
        if p.stdout:
            print(p.stdout, end="" if p.stdout.endswith("\n") else "\n")
        if p.stderr:
            print(p.stderr, end="" if p.stderr.endswith("\n") else "\n", file=sys.stderr)
    return p


def expect(p, outcome, restarts=None):
    """P (a VMM run) ended with OUTCOME: its exit code and its report."""
    check(p.returncode == EXIT[outcome],
          f"exit code {p.returncode}, want {EXIT[outcome]} ({outcome})")
    check(f"outcome={outcome}" in p.stderr, f"outcome {outcome} not reported")
    if restarts is not None:
        check(f"restarts={restarts}" in p.stderr, f"want {restarts} restarts")


def wait_for(what, fn, timeout=WAIT, every=0.05):
    """Polls FN until it returns true; Fail names WHAT after TIMEOUT s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(every)
    raise Fail(f"timed out waiting for {what}")


def read_until(stream, text, deadline=None):
    """Reads lines of STREAM (a child's text pipe) until one holds TEXT, the
    stream ends, or time.time() passes DEADLINE; returns what was read."""
    out = ""
    while text not in out and (deadline is None or time.time() < deadline):
        line = stream.readline()
        if not line:
            break
        out += line
    return out


_tmpdirs = []


def tmpdir(prefix="kxl-test-"):
    """A private temporary directory, removed when the driver exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    _tmpdirs.append(d)
    return d


@atexit.register
def _remove_tmpdirs():
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_report(text):
    """True when TEXT (a log) holds an ASan, LSan or UBSan report."""
    return any(m in text for m in SANITIZER_MARKS)


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def main(tests, usage, argv, setup=None, teardown=None):
    """The driver's entry point: ARGV is [TEST, ...the driver's own
    arguments], already consumed by the driver except TEST. Runs
    tests[TEST](*setup()); TEARDOWN(state) returns a list of problems found
    afterwards (sanitizer reports), which fail the test. Any exception is a
    failure (with its traceback unless it is a Fail), Skip and a missing
    /dev/kvm are a skip (77)."""
    if not argv or argv[0] not in tests:
        print(usage, "tests:", " ".join(tests), file=sys.stderr)
        return 2
    name = argv[0]
    if not kvm_usable():
        print("no access to /dev/kvm: skipped")
        return 77
    state = setup() if setup else None
    args = (state,) if setup else ()
    rc, problems = 0, []
    try:
        tests[name](*args)
    except Skip as x:
        print(f"skipped: {x}")
        rc = 77
    except Fail as x:
        print(f"FAIL: {name}: {x}", file=sys.stderr)
        rc = 1
    except Exception as x:  # noqa: BLE001 - any error fails the test, cleanly
        traceback.print_exc()
        print(f"FAIL: {name}: {x!r}", file=sys.stderr)
        rc = 1
    finally:
        if teardown:
            problems = teardown(state)
    if rc == 77:
        return rc
    for r in problems:
        print(r, file=sys.stderr)
    if problems and rc == 0:
        print(f"FAIL: {name}: sanitizer reports in the monitor logs", file=sys.stderr)
        rc = 1
    if rc == 0:
        print(f"ok: {name}")
    return rc
