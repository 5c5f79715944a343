#!/usr/bin/env python3
"""mkbzimage.py: wraps an ELF in a synthetic bzImage, compressed with the
command-line tool of each compression the way Linux's Makefiles do it
(scripts/Makefile.lib): the compressed vmlinux followed by its size as a
little-endian u32 (gzip's own trailer already is that size).

  mkbzimage.py ELF OUT COMP [--version 0x20f] [--payload-offset N]
               [--payload-length N] [--trailer N] [--setup-sects N]
  COMP: gzip bzip2 xz lzma lzo lz4 zstd, or raw:FILE to use FILE as the
  payload verbatim.
"""
import argparse
import struct
import subprocess
import sys

CMDS = {
    "gzip": (["gzip", "-n", "-f", "-9", "-c"], False),
    "bzip2": (["bzip2", "-9", "-c"], True),
    "lzma": (["lzma", "-9", "-c"], True),
    "xz": (["xz", "--format=xz", "--check=crc32", "--x86", "--lzma2=dict=1MiB", "-c"], True),
    "lzo": (["lzop", "-9", "-c"], True),
    "lz4": (["lz4", "-l", "-9", "-c"], True),
    "zstd": (["zstd", "-19", "-q", "-c"], True),
}


def compress(comp, data):
    cmd, append = CMDS[comp]
    out = subprocess.run(cmd, input=data, stdout=subprocess.PIPE, check=True).stdout
    if append:
        out += struct.pack("<I", len(data))
    return out


def num(s):
    return int(s, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("elf")
    ap.add_argument("out")
    ap.add_argument("comp")
    ap.add_argument("--version", type=num, default=0x20F)
    ap.add_argument("--payload-offset", type=num)
    ap.add_argument("--payload-length", type=num)
    ap.add_argument("--trailer", type=num, help="override the size trailer")
    ap.add_argument("--setup-sects", type=num, default=4)
    a = ap.parse_args()

    data = open(a.elf, "rb").read()
    if a.comp.startswith("raw:"):
        payload = open(a.comp[4:], "rb").read()
    else:
        payload = compress(a.comp, data)
    if a.trailer is not None:
        payload = payload[:-4] + struct.pack("<I", a.trailer)

    sects = a.setup_sects or 4
    setup = bytearray((sects + 1) * 512)
    setup[0x1F1] = a.setup_sects
    struct.pack_into("<H", setup, 0x1FE, 0xAA55)
    setup[0x200] = 0xEB
    setup[0x201] = 0x66                      # header ends at 0x268
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, a.version)
    setup[0x210] = 0
    setup[0x211] = 0x01                      # LOADED_HIGH
    struct.pack_into("<I", setup, 0x230, 0x200000)   # kernel_alignment
    setup[0x234] = 1                         # relocatable
    struct.pack_into("<H", setup, 0x236, 0x1)        # XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 2047)       # cmdline_size
    stub = b"\x90" * 0x200                   # stands in for the decompressor
    off = len(stub) if a.payload_offset is None else a.payload_offset
    length = len(payload) if a.payload_length is None else a.payload_length
    struct.pack_into("<I", setup, 0x248, off)
    struct.pack_into("<I", setup, 0x24C, length)
    struct.pack_into("<Q", setup, 0x258, 0x1000000)  # pref_address
    struct.pack_into("<I", setup, 0x260, len(data) + 0x100000)  # init_size
    with open(a.out, "wb") as f:
        f.write(bytes(setup) + stub + payload)


if __name__ == "__main__":
    sys.exit(main())
