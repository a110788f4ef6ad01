#!/usr/bin/env python3
"""Wire tap for QEMU 7.2's multi-process protocol (research and e2e tool).

Sits between QEMU's x-pci-proxy-dev (fd A) and a device process (fd B),
relays every message both ways with its file descriptors (SCM_RIGHTS), and
writes one line per message: time, direction, command, size, fd count and
the decoded payload. Written from our reading of QEMU 7.2's
include/hw/remote/mpqemu-link.h (x86-64 layout: int cmd, 4 bytes padding,
size_t size; payload of `size` bytes; fds ride on the header).

Usage as a module: Tap(sock_proxy, sock_device, logfile).start()
"""

import array
import os
import socket
import struct
import threading
import time

NAMES = ["SYNC_SYSMEM", "RET", "PCI_CFGWRITE", "PCI_CFGREAD", "BAR_WRITE",
         "BAR_READ", "SET_IRQFD", "DEVICE_RESET"]
HDR = 16
MAX_FDS = 8


def cmd_name(c):
    return NAMES[c] if 0 <= c < len(NAMES) else f"CMD{c}"


def decode(cmd, data, nfds):
    """Human-readable payload."""
    name = cmd_name(cmd)
    if name in ("PCI_CFGWRITE", "PCI_CFGREAD") and len(data) == 12:
        addr, val, ln = struct.unpack("<IIi", data)
        return f"addr=0x{addr:02x} len={ln} val=0x{val:x}"
    if name in ("BAR_WRITE", "BAR_READ") and len(data) == 24:
        addr, val, size, mem = struct.unpack("<QQIB3x", data)
        return f"addr=0x{addr:x} size={size} memory={mem} val=0x{val:x} pad={data[21:24].hex()}"
    if name == "SYNC_SYSMEM" and len(data) == 192:
        gpas = struct.unpack("<8Q", data[0:64])
        sizes = struct.unpack("<8Q", data[64:128])
        offs = struct.unpack("<8q", data[128:192])
        regs = [f"gpa=0x{gpas[i]:x} size=0x{sizes[i]:x} off=0x{offs[i]:x}" for i in range(nfds)]
        unused_zero = all(v == 0 for v in gpas[nfds:] + sizes[nfds:] + offs[nfds:])
        return "; ".join(regs) + f" (unused entries zero: {unused_zero})"
    if name == "RET":
        return f"u64=0x{struct.unpack('<Q', data)[0]:x}" if len(data) == 8 else f"({len(data)} bytes)"
    return data.hex()


class Tap:
    def __init__(self, proxy_end, device_end, logpath):
        self.a = proxy_end
        self.b = device_end
        self.log = open(logpath, "w", buffering=1)
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.counts = {}

    def _recv_exact(self, s, n, want_fds):
        buf = b""
        fds = []
        while len(buf) < n:
            if want_fds and not buf:
                fdarr = array.array("i")
                msg, anc, _flags, _ = s.recvmsg(n - len(buf), socket.CMSG_SPACE(MAX_FDS * 4 * 2))
                for level, typ, d in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fdarr.frombytes(d[:len(d) - (len(d) % fdarr.itemsize)])
                fds += list(fdarr)
            else:
                msg = s.recv(n - len(buf))
            if not msg:
                return None, fds
            buf += msg
        return buf, fds

    def _pump(self, src, dst, arrow):
        while True:
            try:
                hdr, fds = self._recv_exact(src, HDR, True)
                if hdr is None:
                    break
                cmd, pad, size = struct.unpack("<iIQ", hdr)
                data = b""
                if size:
                    data, more = self._recv_exact(src, size, False)
                    if data is None:
                        break
                with self.lock:
                    n = cmd_name(cmd)
                    self.counts[(arrow, n)] = self.counts.get((arrow, n), 0) + 1
                    self.log.write(f"{time.monotonic() - self.t0:10.6f} {arrow} {n} size={size} "
                                   f"fds={len(fds)} pad=0x{pad:x} {decode(cmd, data, len(fds))}\n")
                if fds:
                    dst.sendmsg([hdr + data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                                array.array("i", fds).tobytes())])
                    for fd in fds:
                        os.close(fd)
                else:
                    dst.sendall(hdr + data)
            except OSError as e:
                with self.lock:
                    self.log.write(f"{time.monotonic() - self.t0:10.6f} {arrow} error {e}\n")
                break
        with self.lock:
            self.log.write(f"{time.monotonic() - self.t0:10.6f} {arrow} end of stream\n")
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def start(self):
        for src, dst, arrow in ((self.a, self.b, "Q>D"), (self.b, self.a, "D>Q")):
            threading.Thread(target=self._pump, args=(src, dst, arrow), daemon=True).start()
        return self
