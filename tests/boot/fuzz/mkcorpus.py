#!/usr/bin/env python3
"""mkcorpus.py: seed corpora for the fuzz targets, made from synthetic
kernels (mkelf.py, mkbzimage.py) and the compressors.

  mkcorpus.py SRCDIR OUTDIR   -> OUTDIR/{elf,bzimage,decomp}/
"""
import os
import struct
import subprocess
import sys

src, out = sys.argv[1], sys.argv[2]
for d in ("elf", "bzimage", "decomp"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
py = sys.executable
elfs = {
    "pvh64": ["--pvh", "0x1000010", "--guest-os", "linux", "--seg", "0x1000000:0x300:0x500"],
    "pvh32": ["--bits", "32", "--pvh", "0x100000c", "--pvh-size", "4", "--notes", "shdr",
              "--seg", "0x100000:0x200:0x300"],
    "nonote": ["--seg", "0x1000000:0x300:0x500"],
    "reloc": ["--pvh", "0x40000010", "--reloc", "0x200000,0x1000000,0x3fffffff",
              "--seg", "0x40000000:0x100:0x200"],
}
for name, args in elfs.items():
    path = os.path.join(out, "elf", name)
    subprocess.run([py, os.path.join(src, "mkelf.py"), path, *args], check=True)
elf = os.path.join(out, "elf", "pvh64")
comps = ["gzip", "bzip2", "xz", "lzma", "lzo", "lz4", "zstd"]
data = open(elf, "rb").read()
for i, c in enumerate(comps):
    bz = os.path.join(out, "bzimage", c)
    subprocess.run([py, os.path.join(src, "mkbzimage.py"), elf, bz, c], check=True)
    d = open(bz, "rb").read()
    sects = d[0x1F1] or 4
    off, length = struct.unpack_from("<II", d, 0x248)
    start = (sects + 1) * 512 + off
    payload = d[start:start + length]
    stream = payload if c == "gzip" else payload[:-4]
    n = len(data)
    with open(os.path.join(out, "decomp", c), "wb") as f:
        f.write(bytes([i, n & 0xFF, (n >> 8) & 0xFF]) + stream)
