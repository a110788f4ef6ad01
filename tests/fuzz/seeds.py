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


if __name__ == "__main__":
    main()
