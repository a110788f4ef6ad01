#!/usr/bin/env python3
"""Writes the seed inputs of tests/fuzz/fuzz_remote.c into
tests/fuzz/corpus/fuzz_remote/ (the record layout is described at the top of
that file). The seeds replay what QEMU 7.2's proxy sends while Linux probes
each device (as seen on the wire with tests/remote/wiretap.py), and the QMP
lines QEMU answers with. Run again after changing the layout; commit the result."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "fuzz", "corpus", "fuzz_remote")
SYNC, CFGW, CFGR, BARW, BARR, IRQFD, RESET = 0, 2, 3, 4, 5, 6, 7
SIZE_SEL = {0: 0, 8: 1, 12: 2, 24: 3, 192: 4}


def msg(cmd, payload=b"", nfds=0):
    return bytes([cmd, SIZE_SEL[len(payload)], nfds]) + payload


def cfg(cmd, addr, val, ln):
    return msg(cmd, struct.pack("<IIi", addr, val, ln))


def bar(cmd, addr, val, size):
    return msg(cmd, struct.pack("<QQIB3x", addr, val, size, 1))


def sysmem(regions):
    g = [r[0] for r in regions] + [0] * (8 - len(regions))
    s = [r[1] for r in regions] + [0] * (8 - len(regions))
    o = [r[2] for r in regions] + [0] * (8 - len(regions))
    return msg(SYNC, struct.pack("<8Q8Q8q", *g, *s, *o), len(regions))


def guest_write(off, data):
    return bytes([0xff]) + struct.pack("<HB", off, len(data)) + data


def qmp(state, line):
    b = line.encode()
    return bytes([0xfe, state]) + struct.pack("<H", len(b)) + b


def tick(ms):
    return bytes([0xfd]) + struct.pack("<H", ms)


def probe_bars(bar0):
    out = b""
    for b in range(0x10, 0x2c, 4):
        out += cfg(CFGR, b, 0, 4) + cfg(CFGW, b, 0xffffffff, 4) + cfg(CFGR, b, 0, 4) + cfg(CFGW, b, 0, 4)
    return out + cfg(CFGW, 0x10, bar0, 4) + cfg(CFGW, 0x04, 0x103, 2)


def esb_session():
    b = 0xfebf1000
    unlock = bar(BARW, b + 0xc, 0x80, 2) + bar(BARW, b + 0xc, 0x86, 2)
    s = bytes([0])  # i6300esb
    s += sysmem([(0, 0xa0000, 0), (0x100000, 0x300000, 0x100000)]) + msg(IRQFD, b"", 2)
    s += cfg(CFGR, 0, 0, 2) + cfg(CFGR, 2, 0, 2) + cfg(CFGR, 0xa, 0, 2) + cfg(CFGR, 0x2e, 0, 2)
    s += probe_bars(b) + msg(RESET)
    s += cfg(CFGW, 0x60, 0, 2) + cfg(CFGR, 0x68, 0, 1) + cfg(CFGW, 0x68, 0, 1)
    s += unlock + bar(BARR, b + 0xc, 0, 2) + unlock + bar(BARW, b + 0xc, 0x300, 2)
    s += unlock + bar(BARW, b, 2, 4) + unlock + bar(BARW, b + 4, 2, 4) + unlock + bar(BARW, b + 0xc, 0x100, 2)
    s += cfg(CFGW, 0x68, 2, 1) + tick(3) + tick(3) + bytes([0xfc]) + tick(10)
    return s


def virtio_session():
    b = 0xfebf0000
    ring = 0x1000
    s = bytes([1])  # virtio-entropy
    s += sysmem([(0, 0xa0000, 0), (0x100000, 0x300000, 0x100000)]) + msg(IRQFD, b"", 2)
    s += cfg(CFGR, 0, 0, 4) + cfg(CFGR, 0x34, 0, 1) + probe_bars(b)
    for off, val, size in ((0x14, 0, 1), (0x14, 1, 1), (0x14, 3, 1), (0x08, 1, 4), (0x0c, 1, 4),
                           (0x08, 0, 4), (0x0c, 0x30000000, 4), (0x14, 0xb, 1), (0x16, 0, 2), (0x18, 8, 2),
                           (0x20, ring, 8), (0x28, ring + 0x80, 8), (0x30, ring + 0x100, 8), (0x1c, 1, 2),
                           (0x14, 0xf, 1)):
        s += bar(BARW, b + off, val, size)
    desc = struct.pack("<QIHH", 0x8000, 64, 2, 0)
    s += guest_write(ring, desc) + guest_write(ring + 0x80, struct.pack("<HHH", 0, 1, 0))
    s += bar(BARW, b + 0x3000, 0, 2) + bar(BARR, b + 0x1000, 0, 1) + bytes([0xfc])
    return s


def qmp_session():
    s = bytes([0])
    s += qmp(1, '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}')
    s += qmp(2, '{"return": {}, "id": 2}')
    s += qmp(3, '{"return": {"status": "running", "singlestep": false, "running": true}, "id": 3}')
    s += qmp(4, '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "STOP"}')
    s += qmp(5, '{"error": {"class": "GenericError", "desc": "x\\u00e9"}, "id": 1}')
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in (("qemu_probe_i6300esb", esb_session()), ("qemu_probe_virtio", virtio_session()),
                       ("qmp_conversation", qmp_session())):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"fuzz_seeds: {name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
