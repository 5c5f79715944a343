#!/usr/bin/env python3
"""bzpayload.py: writes a bzImage's compressed payload (without the u32
size trailer, except for gzip whose trailer is its own) to OUT, so that the
command-line tools can decompress it for comparison.

  bzpayload.py BZIMAGE OUT   (prints the compression name)
"""
import struct
import sys

MAGICS = [(b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\0", "xz"),
          (b"\x5d\0\0", "lzma"), (b"\x89LZO", "lzo"), (b"\x02\x21\x4c\x18", "lz4"),
          (b"\x28\xb5\x2f\xfd", "zstd")]

def main():
    d = open(sys.argv[1], "rb").read()
    sects = d[0x1F1] or 4
    off, length = struct.unpack_from("<II", d, 0x248)
    start = (sects + 1) * 512 + off
    p = d[start:start + length]
    comp = next((n for m, n in MAGICS if p.startswith(m)), "unknown")
    with open(sys.argv[2], "wb") as f:
        f.write(p if comp == "gzip" else p[:-4])
    print(comp)

main()
