#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into tests/fuzz/corpus/.
Seeds are small valid scenarios; the fuzzer mutates them into hostile ones.
Run it again after changing an input layout; commit the result."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
GPA = 0x10000


def put(name, seed, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


def desc(addr, ln, flags, nxt):
    return struct.pack("<QIHH", addr, ln, flags, nxt)


def vq_seed(qsize_log2, flags, chains, ops, event_idx_val=0):
    """Rings at 0 / after desc / used aligned 4; buffers from 0x200."""
    qs = 1 << qsize_log2
    desc_off, avail_off = 0, 16 * qs
    used_off = (avail_off + 6 + 2 * qs + 3) & ~3
    ram = bytearray(0x400)
    heads = []
    for i, (d_list, head) in enumerate(chains):
        for idx, dd in d_list:
            if idx >= 0:
                ram[desc_off + 16 * idx:desc_off + 16 * idx + 16] = dd
            else:  # raw bytes at an absolute offset (indirect tables)
                off = -idx
                ram[off:off + len(dd)] = dd
        heads.append(head)
    struct.pack_into("<HH", ram, avail_off, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, avail_off + 4 + 2 * i, h)
    struct.pack_into("<H", ram, avail_off + 4 + 2 * qs, event_idx_val)
    hdr = struct.pack("<BBHHHHHHB", qsize_log2, flags, desc_off, avail_off, used_off, 0, 0, 0, len(ops))
    return hdr + bytes(ops) + bytes(ram)


def main():
    # Two chains: a readable+writable pair, and an indirect one.
    c0 = ([(0, desc(GPA + 0x200, 16, 1, 1)), (1, desc(GPA + 0x210, 64, 2, 0))], 0)
    ind = desc(GPA + 0x300, 8, 1, 1) + desc(GPA + 0x310, 16, 2, 0)
    c1 = ([(2, desc(GPA + 0x280, 32, 4, 0)), (-0x280, ind)], 2)
    ops = [0x00, 0x01, 0x10, 0x40, 0x41, 0x08, 0x02, 0x00, 0x03, 0x00]
    put("fuzz_vq", "two_chains_indirect", vq_seed(2, 3, [c0, c1], ops))
    put("fuzz_vq", "plain_no_features", vq_seed(3, 0, [c0], [0x00, 0x01, 0x40, 0x02, 0x00]))
    # Self-referential descriptor (rust-vmm #236) and a head out of range.
    loop = ([(0, desc(GPA + 0x200, 16, 1, 0))], 0)
    put("fuzz_vq", "self_loop", vq_seed(2, 0, [loop], [0x00, 0x00]))
    put("fuzz_vq", "two_regions", vq_seed(2, 4 | 1, [c0], [0x00, 0x01, 0x20, 0x02])[:0x10] +
        vq_seed(2, 4 | 1, [c0], [0x00, 0x01, 0x20, 0x02])[0x10:])


def ring_ram(ramlen=0x200):
    """Guest RAM at gpa 0x1000 for the transport targets: one 8-entry queue
    (desc 0x1000, avail 0x1080, used 0x10a0) with one 64-byte writable buffer."""
    ram = bytearray(ramlen)
    ram[0:16] = desc(0x1100, 64, 2, 0)
    struct.pack_into("<HHH", ram, 0x80, 0, 1, 0)
    return bytes(ram)


def transport_seeds():
    ramlen = 0x200
    w = lambda off, val, width=4: struct.pack("<BHBI", 1, off, width, val)
    r = lambda off, width=4: struct.pack("<BHB", 0, off, width)
    probe = (r(0x000) + r(0x004) + r(0x008) + w(0x070, 1) + w(0x070, 3) + w(0x014, 1) + r(0x010) +
             w(0x024, 1) + w(0x020, 1) + w(0x024, 0) + w(0x020, 0) + w(0x070, 0xb) + r(0x070) +
             w(0x030, 0) + r(0x034) + w(0x038, 8) + w(0x080, 0x1000) + w(0x084, 0) + w(0x090, 0x1080) +
             w(0x094, 0) + w(0x0a0, 0x10a0) + w(0x0a4, 0) + w(0x044, 1) + w(0x070, 0xf) + w(0x050, 0) +
             r(0x060) + w(0x064, 1) + r(0x100, 1) + struct.pack("<BH", 2, 5) + w(0x070, 0))
    put("fuzz_mmio", "linux_probe_one_request", struct.pack("<BH", 0, ramlen) + probe + ring_ram(ramlen))
    put("fuzz_mmio", "source_fails", struct.pack("<BH", 1, ramlen) + probe + ring_ram(ramlen))
    cw = lambda off, val, width=4: struct.pack("<BBBI", 1, off, width, val)
    cr = lambda off, width=4: struct.pack("<BBB", 0, off, width)
    bw = lambda off, val, width: struct.pack("<BHBQ", 3, off, width, val)
    br = lambda off, width: struct.pack("<BHB", 2, off, width)
    pci = (cr(0x00) + cr(0x08) + cr(0x34, 1) + cr(0x40) + cw(0x10, 0xffffffff) + cr(0x10) +
           cw(0x10, 0xfe000000) + cw(0x04, 0x6, 2) + bw(0x14, 1, 1) + bw(0x14, 3, 1) + bw(0x00, 1, 4) +
           br(0x04, 4) + bw(0x08, 1, 4) + bw(0x0c, 1, 4) + bw(0x14, 0xb, 1) + bw(0x16, 0, 2) + br(0x18, 2) +
           bw(0x18, 8, 2) + bw(0x20, 0x1000, 8) + bw(0x28, 0x1080, 8) + bw(0x30, 0x10a0, 8) + bw(0x1c, 1, 2) +
           bw(0x14, 0xf, 1) + br(0x1e, 2) + bw(0x3000, 0, 2) + br(0x1000, 1) + struct.pack("<BH", 4, 5) +
           cr(0x06, 2) + cr(0x84) + bw(0x14, 0, 1))
    put("fuzz_pci", "linux_probe_one_request", struct.pack("<BH", 0, ramlen) + pci + ring_ram(ramlen))
    put("fuzz_pci", "bar64_source_fails", struct.pack("<BH", 3, ramlen) + pci + ring_ram(ramlen))
    # MSI-X offered: Linux's order (enable, table, config vector 0, queue 0 vector 1), then the
    # same probe and request; vector 1 masked and unmasked around it.
    mctl = lambda val: struct.pack("<BH", 6, val)
    tbl = lambda dw, val: struct.pack("<BBI", 7, dw, val)
    msix = (cw(0x10, 0xfe000000) + cw(0x04, 0x6, 2) + mctl(0x8000) + tbl(0, 0xfee00000) + tbl(2, 0x40) + tbl(3, 0) +
            tbl(4, 0xfee00010) + tbl(6, 0x41) + tbl(7, 1) + bw(0x10, 0, 2) + bw(0x16, 0, 2) + bw(0x1a, 1, 2) +
            br(0x1a, 2) + bw(0x14, 1, 1))
    put("fuzz_pci", "msix_linux_vectors", struct.pack("<BH", 4, ramlen) + msix + pci + tbl(7, 0) +
        br(0x0c00, 8) + ring_ram(ramlen))


def wdt_seeds():
    ecw = lambda off, val, sz: struct.pack("<BBBI", 1, off, sz, val)
    emw = lambda off, val, sz: struct.pack("<BBBI", 3, off, sz, val)
    spw = lambda off, val: struct.pack("<BHBI", 5, off, 4, val)
    spr = lambda off: struct.pack("<BHB", 4, off, 4)
    tick = lambda ns, sh=0: struct.pack("<BIB", 6, ns, sh)
    # i6300ESB as Linux's i6300esb.c arms it: unlock sequence, preload, enable, keepalive.
    esb = (ecw(0x10, 0xfed00000, 4) + ecw(0x04, 0x2, 2) + ecw(0x60, 0x0, 2) +
           emw(0x0c, 0x80, 2) + emw(0x0c, 0x86, 2) + emw(0x00, 0x1000, 4) +
           emw(0x0c, 0x80, 2) + emw(0x0c, 0x86, 2) + emw(0x04, 0x1000, 4) + ecw(0x68, 0x2, 1) +
           emw(0x0c, 0x80, 2) + emw(0x0c, 0x86, 2) + emw(0x0c, 0x100, 2) + tick(1000000, 8) + tick(1 << 30, 10))
    # SP805 as Linux's sp805_wdt.c: unlock, load, enable int+reset, lock, ping, expire.
    sp = (spw(0xC00, 0x1ACCE551) + spw(0x000, 1000) + spw(0x008, 3) + spw(0xC00, 0) + spr(0x004) +
          tick(500, 0) + spw(0xC00, 0x1ACCE551) + spw(0x00C, 1) + tick(1 << 20, 12) + spr(0x010) + spr(0x014))
    put("fuzz_wdt", "linux_esb_arm_and_expire", struct.pack("<BI", 0, 1000000) + esb)
    put("fuzz_wdt", "linux_sp805_arm_and_expire", struct.pack("<BI", 3, 1000000) + sp)
    put("fuzz_wdt", "both_and_reset", struct.pack("<BI", 1, 32768) + esb + sp + bytes([7]) + tick(12345, 3))


def ib700_seeds():
    # access: kind 0, space byte (bit 7: port relative to the base), port, width, direction, value
    out = lambda port, val, width=1: struct.pack("<BBHBBI", 0, 2, port, width, 1, val)
    rel = lambda off, val, width=1: struct.pack("<BBHBBI", 0, 0x82, off, width, 1, val)
    inp = lambda port, width=1: struct.pack("<BBHBBI", 0, 2, port, width, 0, 0)
    tick = lambda ns, sh=0: struct.pack("<BIB", 1, ns, sh)
    back = lambda ns: struct.pack("<BI", 2, ns)
    # Linux ib700wdt.c at the default ports: open (30 s), pings, SETTIMEOUT 5 (value 12), magic close.
    linux = (out(0x443, 0) + out(0x80, 0) + tick(1 << 20, 12) + out(0x443, 0) + out(0x80, 0) +
             out(0x443, 12) + tick(1 << 30, 2) + out(0x443, 12) + inp(0x441) + out(0x441, 0) + out(0x80, 0) +
             tick(1 << 31, 4))
    put("fuzz_ib700", "linux_default_ports", struct.pack("<BH", 0, 0x441) + linux)
    # The same driver at another base, then expiry, a 0 s start, wide writes and a reset.
    other = (rel(2, 13) + tick(1 << 31, 2) + rel(2, 15) + rel(0, 0x000E00FF, 4) + rel(1, 0x0E00, 2) +
             back(12345) + inp(0x301, 2) + bytes([3]) + rel(2, 0x000F, 2))
    put("fuzz_ib700", "other_base_wide_and_reset", struct.pack("<BH", 1, 0x300) + other)


def vhu_seeds():
    def msg(req, payload=b"", nfd=0, fsel=0):
        return struct.pack("<BBBH", req, fsel, nfd, len(payload)) + payload

    def guest(off, data):
        return struct.pack("<BHB", 0xff, off, len(data)) + data
    UA = 0x7f0000000000
    setup = (msg(1) + msg(3) + msg(15) + msg(16, struct.pack("<Q", 0)) +
             msg(2, struct.pack("<Q", (1 << 32) | (1 << 30) | (1 << 29) | (1 << 28))) +
             msg(5, struct.pack("<IIQQQQ", 1, 0, 0x0, 0x10000, UA, 0), nfd=1) +
             msg(8, struct.pack("<II", 0, 8)) + msg(10, struct.pack("<II", 0, 0)) +
             msg(9, struct.pack("<IIQQQQ", 0, 0, UA, UA + 0x100, UA + 0x80, 0)) +
             msg(13, struct.pack("<Q", 0), nfd=1) + msg(12, struct.pack("<Q", 0), nfd=1) +
             msg(18, struct.pack("<II", 0, 1)))
    ring = guest(0x0, desc(0x1000, 64, 2, 0)) + guest(0x80, struct.pack("<HHH", 0, 1, 0))
    put("fuzz_vhu", "qemu_like_session", setup + ring + msg(11, struct.pack("<II", 0, 0)))
    put("fuzz_vhu", "polling_kick_then_reset", setup[:-0] + ring +
        msg(12, struct.pack("<Q", 1 << 8)) + msg(34) + msg(4))
    put("fuzz_vhu", "need_reply_and_bad_version", msg(1, fsel=0x08) + msg(3, fsel=0x80) + msg(99 % 40))


def qvm_opt_seeds():
    vals = [(0, b"18446744073709551615"), (0, b"18446744073709551616"), (1, b"64"), (2, b"0xffffffff"),
            (3, b"0x40000000"), (4, b"100"), (0, b"0x"), (0, b"1,2"), (0, b"0x1000,0x200"), (0, b"reset"),
            (0, b"terminate"), (0, b"dump"), (0, b"none"), (1, b"-1"), (1, b" 5"), (1, b"007")]
    for i, (sel, v) in enumerate(vals):
        put("fuzz_qvm_opts", f"opt_{i:02d}", bytes([sel]) + v)


def firmware_seeds():
    def dev(name, uid, base, size, gsi, flags):
        return name.encode() + struct.pack("<IIIIB", uid, base, size, gsi, flags)
    # QEMU microvm's VR23 (coherent, level) at full capacity; GIC SPI 16 level.
    put("fuzz_firmware", "microvm_vr23", struct.pack("<BH", 0, 0xffff) +
        dev("VR23", 23, 0xfeb02e00, 0x200, 47, 2) + struct.pack("<IBI", 48, 4, 0))
    # Two devices as on -M pc (level, edge); GIC PPI 0 edge with a phandle.
    put("fuzz_firmware", "two_devices_pc", struct.pack("<BH", 1, 0xffff) +
        dev("VR00", 0, 0xfeb00000, 0x200, 5, 0) + dev("VR01", 1, 0xfeb00200, 0x200, 6, 1) +
        struct.pack("<IBI", 16, 1, 0x8002))


def pdesc(addr, ln, buf_id, flags):
    return struct.pack("<QIHH", addr, ln, buf_id, flags)


def vqp_seeds():
    """Packed rings (fuzz_vqp): ring at 0, driver area after it, device area 4 later;
    buffers from 0x200, indirect tables at 0x300. AVAIL = 0x80 marks lap 1."""
    def seed(qsize_log2, flags, descs, ops, base=(0, 0), extra=()):
        qs = 1 << qsize_log2
        ram = bytearray(0x400)
        for i, d in descs:
            ram[16 * i:16 * i + 16] = d
        for off, data in extra:
            ram[off:off + len(data)] = data
        hdr = struct.pack("<BBHHHHHHB", qsize_log2, flags, 0, 16 * qs, 16 * qs + 4, 0, base[0], base[1], len(ops))
        return hdr + bytes(ops) + bytes(ram)
    A, N, W, I = 0x80, 1, 2, 4
    chain = [(0, pdesc(GPA + 0x200, 16, 0, A | N)), (1, pdesc(GPA + 0x210, 64, 3, A | W))]
    put("fuzz_vqp", "chain_and_single", seed(2, 1, chain + [(2, pdesc(GPA + 0x260, 64, 1, A | W))],
                                             [0x00, 0x01, 0x40, 0x40, 0x41, 0x10, 0x02, 0x03, 0x00]))
    ind = pdesc(GPA + 0x200, 8, 0, 0) + pdesc(GPA + 0x210, 32, 0, W)
    put("fuzz_vqp", "indirect", seed(2, 3, [(0, pdesc(GPA + 0x300, 32, 2, A | I))],
                                     [0x00, 0x01, 0x20, 0x02], extra=[(0x300, ind)]))
    # Chain across the end of the ring, resumed at position 3 of lap 1.
    wrapc = [(3, pdesc(GPA + 0x200, 16, 0, A | N)), (0, pdesc(GPA + 0x210, 16, 1, 0x8000 | W))]
    put("fuzz_vqp", "wrap_across_end", seed(2, 8, wrapc, [0x00, 0x01, 0x10, 0x03, 0x00],
                                            base=(0x8003, 0x8003)))
    # Wrong lap in the second descriptor, and a buffer id out of range.
    put("fuzz_vqp", "wrap_confusion", seed(2, 0, [(0, pdesc(GPA + 0x200, 16, 0, A | N)),
                                                  (1, pdesc(GPA + 0x210, 16, 1, W))], [0x00, 0x00]))
    put("fuzz_vqp", "id_out_of_range", seed(2, 0, [(0, pdesc(GPA + 0x200, 16, 9, A | W))], [0x00]))


if __name__ == "__main__":
    main()
    transport_seeds()
    wdt_seeds()
    ib700_seeds()
    vhu_seeds()
    qvm_opt_seeds()
    firmware_seeds()
    vqp_seeds()
