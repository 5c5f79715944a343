#!/usr/bin/env python3
"""test-debian-kernel.py: the real Debian cloud kernel (an LZ4 bzImage with
the PVH note), fetched by tests/fetch-debian-kernel into the test cache.
The kernel's payload is decompressed with the command-line tool, and what
kxl finds is compared with what readelf says of that ELF, never with a
stored number (the archive moves on):
  - the PVH entry equals the PHYS32_ENTRY note of `readelf -n`;
  - every PT_LOAD of `readelf -lW` appears in the plan at p_paddr with
    p_memsz, and its bytes are in guest memory there (--verify-elf);
  - with the Linux protocol forced, RIP is the ELF entry of `readelf -h`.
Exit 77 (skipped) when the kernel cannot be fetched (no network).

  test-debian-kernel.py KXL_BOOT_DUMP SRCDIR FETCH_SCRIPT
"""
import json
import glob
import os
import re
import subprocess
import sys
import tempfile

DUMP, SRC, FETCH = sys.argv[1:4]
TOOLS = {"lz4": ["lz4", "-d", "-c"], "xz": ["xz", "-d", "-c"], "gzip": ["gzip", "-d", "-c"],
         "zstd": ["zstd", "-d", "-c"], "bzip2": ["bzip2", "-d", "-c"], "lzma": ["lzma", "-d", "-c"],
         "lzo": ["lzop", "-d", "-c"]}


def main():
    r = subprocess.run([FETCH], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        print("cannot fetch the Debian kernel: skipped\n" + r.stderr)
        return 77
    kernels = glob.glob(os.path.join(r.stdout.strip(), "boot", "vmlinuz-*"))
    if not kernels:
        print("no boot/vmlinuz-* in the fetched package")
        return 1
    vmlinuz = kernels[0]
    fails = 0
    with tempfile.TemporaryDirectory() as t:
        payload = os.path.join(t, "payload")
        comp = subprocess.run([sys.executable, os.path.join(SRC, "bzpayload.py"), vmlinuz, payload],
                              stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        elf = os.path.join(t, "vmlinux")
        with open(payload, "rb") as fi, open(elf, "wb") as fo:
            subprocess.run(TOOLS[comp], stdin=fi, stdout=fo, check=True)
        notes = subprocess.run(["readelf", "-n", elf], stdout=subprocess.PIPE, text=True).stdout
        m = re.search(r"Xen\s+0x0*([48])\s+Unknown note type: \(0x00000012\)\s*\n\s*description data: ([0-9a-f ]+)", notes)
        if not m:
            print("readelf -n shows no Xen PHYS32_ENTRY note")
            return 1
        entry = int.from_bytes(bytes.fromhex(m.group(2).replace(" ", "")), "little")
        loads = []
        for line in subprocess.run(["readelf", "-lW", elf], stdout=subprocess.PIPE, text=True).stdout.splitlines():
            f = line.split()
            if f and f[0] == "LOAD":
                loads.append((int(f[3], 16), int(f[5], 16)))
        hdr = subprocess.run(["readelf", "-h", elf], stdout=subprocess.PIPE, text=True).stdout
        e_entry = int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", hdr).group(1), 16)

        for proto in ("auto", "linux"):
            r = subprocess.run([DUMP, vmlinuz, "--mem", "1024", "--json", "--protocol", proto,
                                "--cmdline", "console=ttyS0", "--verify-elf", elf],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                print(f"FAIL ({proto}): kxl-boot-dump exit {r.returncode}: {r.stderr}{r.stdout}")
                fails += 1
                continue
            js = json.loads(r.stdout[: r.stdout.rindex("}") + 1])
            print(r.stdout[r.stdout.rindex("}") + 1:].strip())
            rip = int(js["entry"]["rip"], 16)
            want = entry if proto == "auto" else e_entry
            if js["protocol"] != ("pvh" if proto == "auto" else "linux") or rip != want:
                print(f"FAIL ({proto}): protocol {js['protocol']} rip {rip:#x}, readelf says {want:#x}")
                fails += 1
            else:
                print(f"ok   ({proto}): protocol {js['protocol']}, rip {rip:#x} as readelf says")
            regions = {(int(x["gpa"], 16), int(x["size"], 16)) for x in js["regions"]
                       if x["what"].startswith("kernel PT_LOAD")}
            for pa, ms in loads:
                if (pa, ms) not in regions:
                    print(f"FAIL ({proto}): PT_LOAD at {pa:#x} size {ms:#x} not in the plan")
                    fails += 1
            if len(regions) != len(loads):
                print(f"FAIL ({proto}): {len(regions)} kernel regions, readelf shows {len(loads)} PT_LOADs")
                fails += 1
            print(f"ok   ({proto}): {len(loads)} PT_LOADs at readelf's p_paddr/p_memsz")
    return 1 if fails else 0


sys.exit(main())
