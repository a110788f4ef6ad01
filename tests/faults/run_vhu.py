#!/usr/bin/env python3
"""Countdown fault injection over the vhost-user daemon (see mk/faults.mk).

usage: run_vhu.py DAEMON WORKDIR

Scenario: start the daemon (built with tests/faults/inject.c and ASan/UBSan),
connect as a vhost-user front-end, negotiate, share guest memory, set up the
requestq, post one 64-byte writable buffer, kick, wait for the used element,
GET_VRING_BASE, disconnect, SIGTERM the daemon. Run 0 counts the wrapped
calls with no fault; run n fails the n-th call; stop at the first run whose
countdown is past the last call (no fault fired), which must succeed fully.

Every run must: exit by itself after SIGTERM (or earlier on a set-up failure)
with status 0 or 1, never by a signal, never hang; show no AddressSanitizer,
LeakSanitizer or UBSan report; and when a fault fired, either name the
injected error (strerror text) in the daemon's log or absorb it (the session
still got its entropy and the daemon exited 0).
"""
import mmap
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

REQ = dict(GET_FEATURES=1, SET_FEATURES=2, SET_OWNER=3, SET_MEM_TABLE=5, SET_VRING_NUM=8,
           SET_VRING_ADDR=9, SET_VRING_BASE=10, GET_VRING_BASE=11, SET_VRING_KICK=12,
           SET_VRING_CALL=13, GET_PROTOCOL_FEATURES=15, SET_PROTOCOL_FEATURES=16,
           SET_VRING_ENABLE=18)
F_VERSION_1 = 1 << 32
F_PROTOCOL_FEATURES = 1 << 30
GPA, UADDR, RAM = 0x100000, 0x7F0000000000, 0x10000
DESC, AVAIL, USED, BUF, QSIZE = 0x0, 0x80, 0x100, 0x1000, 8
SAN_RE = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")


class Closed(Exception):
    pass


class FrontEnd:
    def __init__(self, path, timeout=3.0):
        # The socket file appears at bind(), before listen(): retry a refused connect.
        deadline = time.monotonic() + 5.0
        while True:
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.settimeout(timeout)
            try:
                self.s.connect(path)
                return
            except (ConnectionRefusedError, FileNotFoundError):
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def send(self, req, payload=b"", fds=()):
        msg = struct.pack("<III", REQ[req], 1, len(payload)) + payload
        try:
            if fds:
                socket.send_fds(self.s, [msg], list(fds))
            else:
                self.s.sendall(msg)
        except OSError as e:
            raise Closed(f"send {req}: {e}") from e

    def recv_exact(self, n):
        out = b""
        while len(out) < n:
            try:
                chunk = self.s.recv(n - len(out))
            except OSError as e:
                raise Closed(f"recv: {e}") from e
            if not chunk:
                raise Closed("connection closed by the daemon")
            out += chunk
        return out

    def call(self, req, payload=b""):
        self.send(req, payload)
        req_id, flags, size = struct.unpack("<III", self.recv_exact(12))
        if req_id != REQ[req] or not flags & 0x4:
            raise Closed(f"bad reply to {req}: {req_id} {flags:#x}")
        return self.recv_exact(size)

    def close(self):
        self.s.close()


def session(path):
    """One front-end session; returns (True, detail) when entropy arrived."""
    memfd = os.memfd_create("guest", 0)
    os.ftruncate(memfd, RAM)
    ram = mmap.mmap(memfd, RAM)
    kick = os.eventfd(0, os.EFD_NONBLOCK)
    call = os.eventfd(0, os.EFD_NONBLOCK)
    fe = None
    try:
        fe = FrontEnd(path)
        feats = struct.unpack("<Q", fe.call("GET_FEATURES"))[0]
        fe.send("SET_OWNER")
        if feats & F_PROTOCOL_FEATURES:
            fe.call("GET_PROTOCOL_FEATURES")
            fe.send("SET_PROTOCOL_FEATURES", struct.pack("<Q", 0))
        fe.send("SET_FEATURES", struct.pack("<Q", feats & (F_VERSION_1 | F_PROTOCOL_FEATURES)))
        fe.send("SET_MEM_TABLE", struct.pack("<II", 1, 0) + struct.pack("<QQQQ", GPA, RAM, UADDR, 0), [memfd])
        fe.send("SET_VRING_NUM", struct.pack("<II", 0, QSIZE))
        fe.send("SET_VRING_BASE", struct.pack("<II", 0, 0))
        fe.send("SET_VRING_ADDR", struct.pack("<IIQQQQ", 0, 0, UADDR + DESC, UADDR + USED, UADDR + AVAIL, 0))
        fe.send("SET_VRING_CALL", struct.pack("<Q", 0), [call])
        fe.send("SET_VRING_KICK", struct.pack("<Q", 0), [kick])
        fe.send("SET_VRING_ENABLE", struct.pack("<II", 0, 1))
        # One 64-byte device-writable buffer, published, then a kick.
        struct.pack_into("<QIHH", ram, DESC, GPA + BUF, 64, 2, 0)
        struct.pack_into("<H", ram, AVAIL + 4, 0)
        struct.pack_into("<HH", ram, AVAIL, 0, 1)
        os.eventfd_write(kick, 1)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if struct.unpack_from("<H", ram, USED + 2)[0] == 1:
                break
            select.select([call], [], [], 0.05)
        else:
            return False, "no used element within 3 s"
        uid, ulen = struct.unpack_from("<II", ram, USED + 4)
        if uid != 0 or ulen != 64 or ram[BUF:BUF + 64] == bytes(64):
            return False, f"bad used element id={uid} len={ulen}"
        base = fe.call("GET_VRING_BASE", struct.pack("<II", 0, 0))
        if struct.unpack("<II", base)[1] != 1:
            return False, f"GET_VRING_BASE says {struct.unpack('<II', base)}"
        return True, "64 bytes delivered"
    except (Closed, OSError) as e:
        return False, str(e)
    finally:
        if fe is not None:
            fe.close()
        ram.close()
        for fd in (memfd, kick, call):
            os.close(fd)


def run(daemon, workdir, n):
    sock = os.path.join(workdir, f"vhu-{n}.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    env = dict(os.environ, SVD_FAULT_COUNTDOWN=str(n),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98")
    errpath = os.path.join(workdir, f"run-{n}.err")
    with open(errpath, "wb") as err:
        p = subprocess.Popen([daemon, "--socket-path", sock], stdout=subprocess.DEVNULL, stderr=err, env=env)
        t0 = time.monotonic()
        while not os.path.exists(sock) and p.poll() is None and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        ok, detail = (False, "daemon exited before listening") if p.poll() is not None else session(sock)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=10)
            hang = False
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            hang = True
    log = open(errpath, encoding="utf-8", errors="replace").read()
    fired = re.search(r"svd-fault: fail #\d+ (\S+) errno=\d+ \(([^)]*)\)", log)
    ex = re.search(r"svd-fault: exit calls=(\d+) fired=(\d)", log)
    calls = int(ex.group(1)) if ex else -1
    problems = []
    if hang:
        problems.append("hang after SIGTERM")
    if rc < 0:
        problems.append(f"killed by signal {-rc}")
    elif rc not in (0, 1):
        problems.append(f"exit status {rc}")
    if SAN_RE.search(log):
        problems.append("sanitizer report")
    if ex is None and not hang:
        problems.append("no exit report (process did not exit normally)")
    if fired:
        text = fired.group(2)
        own = "\n".join(l for l in log.splitlines() if not l.startswith("svd-fault:"))
        if text not in own and not (ok and rc == 0):
            problems.append(f"{fired.group(1)} failed with '{text}' but the daemon did not report it")
    elif not ok:
        problems.append(f"no fault fired yet the session failed: {detail}")
    return dict(n=n, ok=ok, detail=detail, rc=rc, calls=calls, fired=fired.group(1) if fired else None,
                problems=problems, log=errpath)


def main(argv):
    daemon, workdir = argv[1], argv[2]
    os.makedirs(workdir, exist_ok=True)
    base = run(daemon, workdir, 0)
    if base["problems"] or not base["ok"]:
        print(f"faults: baseline run failed: {base['problems']} {base['detail']} (log {base['log']})")
        return 1
    print(f"faults: baseline: {base['calls']} wrapped calls, session ok ({base['detail']})")
    failures, per_call, n = [], {}, 0
    while True:
        n += 1
        r = run(daemon, workdir, n)
        if r["fired"] is None:
            if r["problems"]:
                failures.append(r)
            print(f"faults: run {n}: countdown past the last call ({r['calls']} calls), "
                  f"session {'ok' if r['ok'] else 'FAILED'}")
            break
        per_call[r["fired"]] = per_call.get(r["fired"], 0) + 1
        status = "ok" if not r["problems"] else "FAIL: " + "; ".join(r["problems"])
        outcome = "absorbed (session ok)" if r["ok"] else f"session ended: {r['detail']}"
        print(f"faults: run {n:3d}: fail {r['fired']:16s} rc={r['rc']} {outcome} -> {status}")
        if r["problems"]:
            failures.append(r)
        if n > 1000:
            failures.append(dict(n=n, problems=["more than 1000 runs"], log=""))
            break
    summary = ", ".join(f"{k} {v}" for k, v in sorted(per_call.items()))
    print(f"faults: vhost-user daemon: {n - 1} injected faults ({summary}); {len(failures)} failing runs")
    for f in failures:
        print(f"faults: FAILED run {f['n']}: {'; '.join(f['problems'])} (log {f['log']})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
