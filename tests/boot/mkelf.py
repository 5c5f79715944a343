#!/usr/bin/env python3
"""mkelf.py: writes small synthetic x86 ELF kernels for the builder's tests.

Each PT_LOAD is filled with a pattern derived from its file offset
(byte = (offset * 7 + 3) & 0xff), so a test can check what landed where.
Xen notes go in a PT_NOTE segment (--notes phdr, the default), only in a
SHT_NOTE section (--notes shdr), or nowhere (--notes none).

  mkelf.py OUT [--bits 32|64] [--entry A] [--pvh A] [--pvh-size 4|8]
           [--guest-os S] [--pv-entry A] [--reloc ALIGN,MIN,MAX]
           [--seg PADDR:FILESZ:MEMSZ[:VADDR]]... [--notes phdr|shdr|none]
           [--truncate N] [--raw-note TYPE:HEXDESC]... [--corrupt-notes]
"""
import argparse
import struct


def note(name, ntype, desc):
    n = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def num(s):
    return int(s, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bits", type=int, default=64)
    ap.add_argument("--entry", type=num, default=0x1000000)
    ap.add_argument("--pvh", type=num)
    ap.add_argument("--pvh-size", type=int, default=8)
    ap.add_argument("--guest-os")
    ap.add_argument("--pv-entry", type=num)
    ap.add_argument("--reloc")
    ap.add_argument("--seg", action="append", default=[])
    ap.add_argument("--notes", default="phdr", choices=["phdr", "shdr", "none"])
    ap.add_argument("--truncate", type=num)
    ap.add_argument("--raw-note", action="append", default=[])
    ap.add_argument("--corrupt-notes", action="store_true",
                    help="give the first note a descriptor size past the note area")
    a = ap.parse_args()

    b64 = a.bits == 64
    notes = b""
    if a.guest_os is not None:
        notes += note("Xen", 6, a.guest_os.encode() + b"\0")
    notes += note("Xen", 7, b"2.6\0") if a.guest_os else b""
    notes += note("Xen", 5, b"xen-3.0\0") if a.guest_os else b""
    if a.pv_entry is not None:
        notes += note("Xen", 1, struct.pack("<Q" if b64 else "<I", a.pv_entry))
    if a.pvh is not None:
        fmt = {4: "<I", 8: "<Q"}.get(a.pvh_size)
        desc = struct.pack(fmt, a.pvh) if fmt else b"\x01" * a.pvh_size
        notes += note("Xen", 18, desc)
    if a.reloc:
        vals = [int(x, 0) for x in a.reloc.split(",") if x]
        notes += note("Xen", 19, b"".join(struct.pack("<I", v) for v in vals))
    for rn in a.raw_note:
        t, h = rn.split(":")
        notes += note("Xen", int(t, 0), bytes.fromhex(h))
    notes += note("GNU", 3, b"\x12\x34\x56\x78")   # a build-id note, not Xen's
    if a.corrupt_notes:
        notes = notes[:4] + struct.pack("<I", 0xFFFF) + notes[8:]

    segs = []
    for s in a.seg or ["0x1000000:0x3000:0x5000"]:
        f = [int(x, 0) for x in s.split(":")]
        paddr, filesz, memsz = f[0], f[1], f[2]
        vaddr = f[3] if len(f) > 3 else paddr + (0xffffffff80000000 if b64 else 0)
        segs.append((paddr, filesz, memsz, vaddr))

    ehsize, phentsize, shentsize = (64, 56, 64) if b64 else (52, 32, 40)
    use_pt_note = a.notes == "phdr"
    nph = len(segs) + (1 if use_pt_note else 0)
    off = ehsize + nph * phentsize
    off = (off + 0xfff) & ~0xfff
    body = bytearray()
    seg_offs = []
    for paddr, filesz, memsz, vaddr in segs:
        seg_offs.append(off + len(body))
        start = off + len(body)
        body += bytes(((start + i) * 7 + 3) & 0xFF for i in range(filesz))
        body += b"\0" * (-len(body) % 16)
    note_off = off + len(body)
    body += notes
    body += b"\0" * (-len(body) % 8)
    # section headers: null, .notes (when wanted), .shstrtab
    shstr = b"\0.notes\0.shstrtab\0"
    shstr_off = off + len(body)
    body += shstr
    body += b"\0" * (-len(body) % 8)
    sh_off = off + len(body)
    shdrs = []
    if b64:
        mk_sh = lambda name, t, o, sz: struct.pack("<IIQQQQIIQQ", name, t, 0, 0, o, sz, 0, 0, 4, 0)
    else:
        mk_sh = lambda name, t, o, sz: struct.pack("<IIIIIIIIII", name, t, 0, 0, o, sz, 0, 0, 4, 0)
    shdrs.append(mk_sh(0, 0, 0, 0))
    if a.notes != "none":
        shdrs.append(mk_sh(1, 7, note_off, len(notes)))
    else:
        shdrs.append(mk_sh(1, 1, note_off, len(notes)))   # PROGBITS: not a note
    shdrs.append(mk_sh(8, 3, shstr_off, len(shstr)))
    body += b"".join(shdrs)

    if b64:
        mk_ph = lambda t, o, v, p, fs, ms, fl: struct.pack("<IIQQQQQQ", t, fl, o, v, p, fs, ms, 0x1000)
    else:
        mk_ph = lambda t, o, v, p, fs, ms, fl: struct.pack("<IIIIIIII", t, o, v, p, fs, ms, fl, 0x1000)
    phdrs = b""
    for (paddr, filesz, memsz, vaddr), so in zip(segs, seg_offs):
        phdrs += mk_ph(1, so, vaddr & (0xFFFFFFFFFFFFFFFF if b64 else 0xFFFFFFFF), paddr,
                       filesz, memsz, 7)
    if use_pt_note:
        phdrs += mk_ph(4, note_off, 0, 0, len(notes), len(notes), 4)

    ident = b"\x7fELF" + bytes([2 if b64 else 1, 1, 1, 0]) + b"\0" * 8
    machine = 62 if b64 else 3
    if b64:
        eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, a.entry, ehsize, sh_off, 0,
                                 ehsize, phentsize, nph, shentsize, len(shdrs), len(shdrs) - 1)
    else:
        eh = ident + struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, a.entry, ehsize, sh_off, 0,
                                 ehsize, phentsize, nph, shentsize, len(shdrs), len(shdrs) - 1)
    img = bytearray(eh + phdrs)
    img += b"\0" * (off - len(img))
    img += body
    if a.truncate is not None:
        img = img[: a.truncate]
    with open(a.out, "wb") as f:
        f.write(img)


if __name__ == "__main__":
    main()
