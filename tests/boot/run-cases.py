#!/usr/bin/env python3
"""run-cases.py: the builder's end-to-end cases, through kxl-boot-dump.

Generates synthetic kernels (mkelf.py), bzImages in all seven compressions
(mkbzimage.py, with the command-line compressors) and modules in a
temporary directory, then checks:
  - every good kernel builds, its PT_LOAD bytes land at p_paddr
    (--verify-elf) and its plan JSON equals the golden file in golden/
    (paths replaced by @DIR@; --update-golden rewrites them);
  - every bad input fails with exit status 1 and an error that names the
    file and the cause, never a crash.

  run-cases.py KXL_BOOT_DUMP SRCDIR [--update-golden] [--only NAME]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

DUMP, SRC = sys.argv[1], sys.argv[2]
UPDATE = "--update-golden" in sys.argv
ONLY = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
GOLDEN = os.path.join(SRC, "golden")
COMPS = ["gzip", "bzip2", "xz", "lzma", "lzo", "lz4", "zstd"]
failures = []
T = tempfile.mkdtemp(prefix="kxl-boot-cases-")


def p(name):
    return os.path.join(T, name)


def mkelf(name, *args):
    subprocess.run([sys.executable, os.path.join(SRC, "mkelf.py"), p(name), *args], check=True)
    return p(name)


def mkbz(elf, name, comp, *args):
    subprocess.run([sys.executable, os.path.join(SRC, "mkbzimage.py"), elf, p(name), comp, *args],
                   check=True)
    return p(name)


def run(kernel, *args):
    r = subprocess.run([DUMP, kernel, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace")
    return r.returncode, r.stdout, r.stderr


def fail(name, why):
    failures.append(name)
    print(f"FAIL {name}: {why}")


def good(name, kernel, *args, golden=True, verify=None, expect=()):
    if ONLY and ONLY != name:
        return
    extra = ["--verify-elf", verify] if verify else []
    rc, out, err = run(kernel, "--json", *args, *extra)
    if rc != 0:
        return fail(name, f"exit {rc}: {err.strip()}")
    text = out.replace(T + "/", "@DIR@/")
    js = text[: text.rindex("}") + 1]
    for e in expect:
        if e not in out + err:
            return fail(name, f"expected {e!r} in output:\n{out}{err}")
    if golden:
        gf = os.path.join(GOLDEN, name + ".json")
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(gf, "w") as f:
                f.write(js + "\n")
        elif not os.path.exists(gf):
            return fail(name, f"no golden file {gf} (run with --update-golden)")
        elif json.loads(open(gf).read()) != json.loads(js):
            return fail(name, f"plan differs from {gf}:\n{js}")
    print(f"ok   {name}")


def bad(name, kernel, *args, expect=(), file=None):
    if ONLY and ONLY != name:
        return
    rc, out, err = run(kernel, "--quiet", *args)
    if rc < 0 or rc > 1:
        return fail(name, f"exit {rc} (crash?): {err.strip()}")
    if rc != 1:
        return fail(name, f"built, but should have failed with {expect}")
    named = file if file is not None else kernel
    if named and named not in err:
        return fail(name, f"error does not name {named}: {err.strip()}")
    for e in expect:
        if e not in err:
            return fail(name, f"expected {e!r} in: {err.strip()}")
    print(f"ok   {name}: {err.strip().splitlines()[0]}")


def main():
    segs = ["--seg", "0x1000000:0x3000:0x5000", "--seg", "0x1200000:0x100:0x2000"]
    linux = mkelf("elf64-pvh-linux", "--pvh", "0x1000010", "--guest-os", "linux", *segs)
    other = mkelf("elf64-pvh-other", "--pvh", "0x1000010", "--guest-os", "FreeBSD", *segs)
    elf32 = mkelf("elf32-pvh-shdr", "--bits", "32", "--pvh", "0x100000c", "--pvh-size", "4",
                  "--notes", "shdr", "--seg", "0x100000:0x2000:0x3000")
    nonote = mkelf("elf64-nonote", "--seg", "0x1000000:0x3000:0x5000")
    pvonly = mkelf("elf64-pv-only", "--pv-entry", "0xffffffff81000000", "--guest-os", "linux",
                   "--seg", "0x1000000:0x3000:0x5000")
    reloc = mkelf("elf64-reloc", "--pvh", "0x40000010", "--reloc", "0x200000,0x1000000,0x3fffffff",
                  "--seg", "0x40000000:0x1000:0x2000", "--seg", "0x40200000:0x100:0x100")
    cpio = p("initrd.cpio")
    with open(cpio, "wb") as f:
        f.write(b"070701" + bytes(range(256)) * 8)
    plain = p("data.bin")
    with open(plain, "wb") as f:
        f.write(bytes(range(200)))

    # ---- good kernels ----
    good("elf64-pvh-linux", linux, "--mem", "128", "--vcpus", "2", "--maxvcpus", "4",
         "--cmdline", "console=ttyS0", "--module", cpio + "=rd", "--module", plain + "=x",
         verify=linux, expect=["dropped", "not a cpio archive"])
    good("elf64-pvh-other", other, "--mem", "128", "--module", cpio + "=rd", "--module", plain + "=x",
         verify=other)
    good("elf32-pvh-shdr", elf32, "--mem", "64", expect=["from SHT_NOTE"])
    good("elf64-nonote-linux", nonote, "--mem", "64", "--module", cpio, verify=nonote,
         expect=['"protocol": "linux"'])
    good("elf64-forced-linux", linux, "--mem", "64", "--protocol", "linux", verify=linux,
         expect=["forced"])
    good("elf64-pv-only", pvonly, "--mem", "64", expect=["only the PV ENTRY note"])
    good("elf64-pvh-xen-pv", linux, "--mem", "64", "--xen-pv", expect=['"protocol": "pvh"'],
         golden=False)
    good("elf64-reloc", reloc, "--mem", "64", "--decode", expect=["relocated", "rip 0x1000010"])
    good("elf64-no-acpi", other, "--mem", "64", "--no-acpi", expect=["no ACPI tables"])
    for c in COMPS:
        bz = mkbz(linux, f"bz-{c}", c)
        good(f"bz-{c}", bz, "--mem", "128", "--module", cpio, verify=linux,
             expect=[f"{c}) -> ELF64"])
    # relocation needs the staging path (the stream loads only at p_paddr)
    good("bz-reloc-gzip", mkbz(reloc, "bz-reloc-gzip", "gzip"), "--mem", "64", "--decode",
         expect=["relocated", "rip 0x1000010"])
    # notes only in a section outside the segments: the stream falls back
    good("bz-shdr-notes-zstd", mkbz(elf32, "bz-shdr-notes-zstd", "zstd"), "--mem", "64",
         verify=None, expect=["from SHT_NOTE"])
    good("bz-nonote-lz4", mkbz(nonote, "bz-nonote-lz4", "lz4"), "--mem", "64", verify=nonote,
         expect=['"protocol": "linux"'])

    # ---- bad ELF ----
    bad("elf-not-a-kernel", plain, expect=["neither an ELF nor a bzImage"])
    bad("elf-truncated-header", mkelf("t1", "--truncate", "40", "--pvh", "0x1000000"),
        expect=["truncated"])
    bad("elf-truncated-phdrs", mkelf("t2", "--truncate", "100", "--pvh", "0x1000000"),
        expect=["truncated ELF", "program headers"])
    bad("elf-truncated-segment", mkelf("t3", "--truncate", "0x1800", "--pvh", "0x1000000"),
        expect=["truncated ELF: PT_LOAD 0"])
    with open(linux, "rb") as f:
        d = bytearray(f.read())
    d[4] = 9
    with open(p("t4"), "wb") as f:
        f.write(d)
    bad("elf-bad-class", p("t4"), expect=["class 9"])
    bad("elf-overlap", mkelf("t5", "--pvh", "0x1000000", "--seg", "0x1000000:0x100:0x3000",
                             "--seg", "0x1002000:0x100:0x1000"), expect=["overlaps"])
    bad("elf-in-hole", mkelf("t6", "--pvh", "0xc0000000", "--seg", "0xc0000000:0x100:0x1000"),
        "--mem", "8192", expect=["MMIO hole"])
    bad("elf-outside-ram", mkelf("t7", "--pvh", "0x20000000", "--seg", "0x20000000:0x100:0x1000"),
        "--mem", "64", expect=["outside guest RAM"])
    bad("elf-past-ram", mkelf("t7b", "--pvh", "0x3f00000", "--seg", "0x3f00000:0x100:0x200000"),
        "--mem", "64", expect=["past the end of guest RAM"])
    bad("elf-below-1m", mkelf("t8", "--pvh", "0x10000", "--seg", "0x10000:0x100:0x1000"),
        expect=["below 1 MiB"])
    bad("elf-pvh-note-size", mkelf("t9", "--pvh", "0x1000000", "--pvh-size", "6"),
        expect=["PHYS32_ENTRY (type 18) has a 6-byte descriptor"])
    bad("elf-reloc-note-size", mkelf("t9b", "--pvh", "0x1000000", "--raw-note", "19:0102"),
        expect=["PHYS32_RELOC (type 19) has a 2-byte descriptor"])
    bad("elf-corrupt-notes", mkelf("t10", "--pvh", "0x1000000", "--corrupt-notes"),
        expect=["corrupt ELF note"])
    bad("elf-reloc-impossible", mkelf("t11", "--pvh", "0x40000010", "--reloc", "0x200000,0x1000000,0x1100000",
                                      "--seg", "0x40000000:0x1000:0x400000"), "--mem", "64",
        expect=["PHYS32_RELOC bounds"])
    bad("elf-force-pvh-without-note", nonote, "--protocol", "pvh", expect=["no Xen PHYS32_ENTRY note"])
    bad("elf-pv-only-forced-pvh", pvonly, "--protocol", "pvh", expect=["type 1"])
    # type = "pv" (issue 14): runs as PVH when the kernel can; a PV-only one needs Xen
    bad("elf-pv-only-xen-pv", pvonly, "--xen-pv", expect=['type = "pv"', "needs Xen"])
    bad("elf-nonote-xen-pv", nonote, "--xen-pv", expect=["no PVH entry", "needs Xen"])
    bad("elf32-no-note", mkelf("t12", "--bits", "32", "--seg", "0x100000:0x100:0x100"),
        expect=["not a 64-bit x86 kernel"])
    bad("elf-no-segments", mkelf("t13", "--pvh", "0x1000000", "--seg", "0x1000000:0:0"),
        expect=["no PT_LOAD"])

    # ---- bad modules ----
    bad("module-missing", linux, "--module", p("nope.cpio"), expect=["cannot open module 0"],
        file=p("nope.cpio"))
    bad("module-directory", linux, "--module", T, expect=["not a regular file"], file=T)
    big = p("big.bin")
    with open(big, "wb") as f:
        f.truncate(40 << 20)
    low = mkelf("low", "--pvh", "0x100000", "--seg", "0x100000:0x100:0x1000")
    bad("module-does-not-fit", low, "--mem", "16", "--module", cpio, "--module", big,
        expect=["module 1", "does not fit"], file=big)
    bad("kernel-missing", p("no-such-kernel"), expect=["cannot open"])
    bad("memory-too-small", linux, "--mem", "8", expect=["too small"], file="")

    # ---- bad bzImages ----
    bad("bz-old-protocol", mkbz(linux, "b1", "gzip", "--version", "0x206"), expect=["older than 2.08"])
    bad("bz-payload-offset", mkbz(linux, "b2", "gzip", "--payload-offset", "0x10000000"),
        expect=["impossible bzImage payload"])
    bad("bz-payload-length", mkbz(linux, "b3", "gzip", "--payload-length", "0x7fffffff"),
        expect=["impossible bzImage payload"])
    bad("bz-payload-tiny", mkbz(linux, "b3b", "gzip", "--payload-length", "4"),
        expect=["impossible bzImage payload length"])
    bad("bz-unknown-compression", mkbz(linux, "b4", "raw:" + plain), expect=["not recognised"])
    bad("bz-trailer-beyond-memory", mkbz(linux, "b5", "lz4", "--trailer", "0xffffffff"),
        "--mem", "64", expect=["more than guest memory"])
    for c in COMPS:
        # gzip's trailer is its own ISIZE: a wrong one also fails zlib's check
        bad(f"bz-bomb-{c}", mkbz(linux, f"bomb-{c}", c, "--trailer", "1000"),
            expect=["decompression bomb"])
        bad(f"bz-short-{c}", mkbz(linux, f"short-{c}", c, "--trailer", "0x100000"),
            expect=["incorrect length check" if c == "gzip" else "size trailer declares"])
        # corrupt: flip bytes in the middle of the compressed stream. Linux's
        # legacy LZ4 frame has no checksum, so a flipped literal cannot be
        # seen: damage its first block's size instead.
        with open(p(f"bz-{c}"), "rb") as f:
            d = bytearray(f.read())
        mid = 0xc00 + (len(d) - 0xc00) // 2
        if c == "lz4":
            mid = 0xc00 + 4 + 3
        for i in range(mid, min(mid + 64, len(d) - 8)):
            d[i] ^= 0x5a
        with open(p(f"corrupt-{c}"), "wb") as f:
            f.write(d)
        bad(f"bz-corrupt-{c}", p(f"corrupt-{c}"), expect=[])
        # truncated stream: cut the payload in half, keep the header's length
        cut = mkbz(linux, f"cut-{c}", c)
        with open(cut, "rb") as f:
            d = f.read()
        with open(cut, "wb") as f:
            f.write(d[: 0xc00 + (len(d) - 0xc00) // 2])
        bad(f"bz-cut-{c}", cut, expect=["impossible bzImage payload"])

    shutil.rmtree(T)
    if failures:
        print(f"{len(failures)} failed: {' '.join(failures)}")
        return 1
    print("all cases passed")
    return 0


sys.exit(main())
