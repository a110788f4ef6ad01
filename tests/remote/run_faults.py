#!/usr/bin/env python3
"""Countdown fault injection of qemu-remote-vdev (SQLite's malloc tests
applied to syscalls; the injector is tests/remote/inject_remote.c).

Two scenarios, each run with SVD_FAULT_COUNTDOWN=1, 2, ... until a run sees
no fault fired:
  i6300esb  --fd socketpair + --qmp: QEMU's messages up to a started timer
            with 2-tick stages, the expiry must reach the fake QMP server as
            system_reset; then the proxy closes its end (the daemon exits 0).
  entropy   --socket: the proxy connects, shares a memfd, sets up virtio-pci
            queue 0 and posts one 64-byte buffer, which must come back filled;
            then SIGTERM.
Every run is checked: no crash, no sanitizer or leak report, no hang, an
exit status of 0 or 1, and a failed call reported by the daemon with its
error text (unless the failure was absorbed and the session still passed).

Usage: run_faults.py DAEMON WORKDIR
"""
import mmap
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

SYNC, RET, CFGW, CFGR, BARW, BARR, IRQFD, RESET = range(8)
SAN_RE = re.compile(r"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error)")


class Proxy:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(3)

    def send(self, cmd, payload=b"", fds=()):
        data = struct.pack("<iIQ", cmd, 0, len(payload)) + payload
        if fds:
            socket.send_fds(self.s, [data], list(fds))
        else:
            self.s.sendall(data)

    def ret(self):
        buf = b""
        while len(buf) < 24:
            chunk = self.s.recv(24 - len(buf))
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
        cmd, _, size, val = struct.unpack("<iIQQ", buf)
        if cmd != RET or size != 8:
            raise OSError("not a RET")
        return val

    def cfg(self, cmd, addr, val=0, ln=4):
        self.send(cmd, struct.pack("<IIi", addr, val, ln))
        return self.ret()

    def bar(self, cmd, addr, val=0, size=4):
        self.send(cmd, struct.pack("<QQIB3x", addr, val, size, 1))
        return self.ret()

    def sysmem(self, fd, regions):
        g = [r[0] for r in regions] + [0] * (8 - len(regions))
        s = [r[1] for r in regions] + [0] * (8 - len(regions))
        o = [r[2] for r in regions] + [0] * (8 - len(regions))
        self.send(SYNC, struct.pack("<8Q8Q8q", *g, *s, *o), [fd] * len(regions))

    def irqfd(self):
        a, b = os.eventfd(0, os.EFD_CLOEXEC), os.eventfd(0, os.EFD_CLOEXEC)
        self.send(IRQFD, b"", [a, b])
        return a, b


class FakeQmp(threading.Thread):
    """A QMP server that answers everything and records the commands."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.cmds = []
        if os.path.exists(path):
            os.unlink(path)
        self.ls = socket.socket(socket.AF_UNIX)
        self.ls.bind(path)
        self.ls.listen(4)
        self.ls.settimeout(0.1)
        self.stop = False

    def run(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except OSError:
                continue
            c.settimeout(0.1)
            try:
                c.sendall(b'{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}\r\n')
            except OSError:
                c.close()
                continue
            buf = b""
            while not self.stop:
                try:
                    d = c.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not d:
                    break
                buf += d
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    m = re.search(rb'"execute":"([^"]+)","id":(\d+)', line)
                    if not m:
                        continue
                    self.cmds.append(m.group(1).decode())
                    ret = b'{"status": "running", "running": true}' if m.group(1) == b"query-status" else b"{}"
                    try:
                        c.sendall(b'{"return": ' + ret + b', "id": ' + m.group(2) + b"}\r\n")
                    except OSError:
                        break
            c.close()

    def close(self):
        self.stop = True
        self.join(timeout=2)
        self.ls.close()


def esb_session(p, qmp, memfd, deadline=3.0):
    b = 0xfebf1000
    p.sysmem(memfd, [(0, 0xa0000, 0), (0x100000, 0x300000, 0x100000)])
    a, r = p.irqfd()
    if p.cfg(CFGR, 0, 0, 2) != 0x8086:
        return False, "wrong vendor"
    p.cfg(CFGW, 0x10, b)
    p.cfg(CFGW, 0x04, 0x102, 2)
    p.cfg(CFGW, 0x60, 3, 2)
    for off, val in ((0, 2), (4, 2), (0xc, 0x100)):
        p.bar(BARW, b + 0xc, 0x80, 2)
        p.bar(BARW, b + 0xc, 0x86, 2)
        p.bar(BARW, b + off, val, 4 if off < 0xc else 2)
    p.cfg(CFGW, 0x68, 2, 1)
    t0 = time.monotonic()
    while "system_reset" not in qmp.cmds and time.monotonic() - t0 < deadline:
        time.sleep(0.01)
    for fd in (a, r):
        os.close(fd)
    return ("system_reset" in qmp.cmds), f"QMP saw {qmp.cmds}"


def entropy_session(p, memfd, ram):
    vb = 0xfebf0000
    p.sysmem(memfd, [(0, 0xa0000, 0), (0x100000, 0x300000, 0x100000)])
    a, r = p.irqfd()
    p.cfg(CFGW, 0x10, vb)
    p.cfg(CFGW, 0x04, 0x106, 2)
    ring = 0x200000
    for off, val, size in ((0x14, 1, 1), (0x14, 3, 1), (0x08, 1, 4), (0x0c, 1, 4), (0x14, 0xb, 1),
                           (0x16, 0, 2), (0x18, 8, 2), (0x20, ring, 8), (0x28, ring + 0x80, 8),
                           (0x30, ring + 0x100, 8), (0x1c, 1, 2), (0x14, 0xf, 1)):
        p.bar(BARW, vb + off, val, size)
    ram[0x300000:0x300040] = bytes(64)
    ram[ring:ring + 16] = struct.pack("<QIHH", 0x300000, 64, 2, 0)
    ram[ring + 0x80:ring + 0x86] = struct.pack("<HHH", 0, 1, 0)
    p.bar(BARW, vb + 0x3000, 0, 2)
    t0 = time.monotonic()
    while struct.unpack_from("<H", ram, ring + 0x102)[0] == 0 and time.monotonic() - t0 < 1:
        time.sleep(0.01)  # a failed source is retried from the timer
    used_idx, = struct.unpack_from("<H", ram, ring + 0x102)
    _, ln = struct.unpack_from("<II", ram, ring + 0x104)
    for fd in (a, r):
        os.close(fd)
    ok = used_idx == 1 and ln == 64 and ram[0x300000:0x300040] != bytes(64)
    return ok, f"used idx {used_idx} len {ln}"


def connect_listening(path, proc):
    """The socket file appears at bind(), a moment before listen(): retry a refused connect."""
    t0 = time.monotonic()
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except ConnectionRefusedError:
            s.close()
            if proc.poll() is not None or time.monotonic() - t0 > 2:
                raise
            time.sleep(0.01)


def run(daemon, workdir, scenario, n, deadline=3.0, tag=""):
    env = dict(os.environ, SVD_FAULT_COUNTDOWN=str(n),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98")
    errpath = os.path.join(workdir, f"{scenario}{tag}-{n}.err")
    memfd = os.memfd_create("ram")
    os.ftruncate(memfd, 4 << 20)
    ram = mmap.mmap(memfd, 4 << 20)
    qmp = None
    ok, detail = False, "not run"
    with open(errpath, "wb") as err:
        if scenario == "i6300esb":
            qpath = os.path.join(workdir, f"q-{n}.sock")
            qmp = FakeQmp(qpath)
            qmp.start()
            mine, theirs = socket.socketpair()
            p = subprocess.Popen([daemon, "--device", "i6300esb", "--qmp", qpath, "--fd", str(theirs.fileno())],
                                 pass_fds=[theirs.fileno()], stdout=subprocess.DEVNULL, stderr=err, env=env)
            theirs.close()
            try:
                ok, detail = esb_session(Proxy(mine), qmp, memfd, deadline)
            except OSError as e:
                ok, detail = False, f"proxy: {e}"
            mine.close()  # QEMU leaves: the daemon exits on its own
        else:
            spath = os.path.join(workdir, f"d-{n}.sock")
            if os.path.exists(spath):
                os.unlink(spath)
            p = subprocess.Popen([daemon, "--device", "virtio-entropy", "--socket", spath],
                                 stdout=subprocess.DEVNULL, stderr=err, env=env)
            t0 = time.monotonic()
            while not os.path.exists(spath) and p.poll() is None and time.monotonic() - t0 < 5:
                time.sleep(0.01)
            if p.poll() is None:
                try:
                    s = connect_listening(spath, p)
                    ok, detail = entropy_session(Proxy(s), memfd, ram)
                    s.close()
                except OSError as e:
                    ok, detail = False, f"proxy: {e}"
            else:
                detail = "daemon exited before listening"
            time.sleep(0.05)
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=10)
            hang = False
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            hang = True
    if qmp is not None:
        qmp.close()
    ram.close()
    os.close(memfd)
    log = open(errpath, encoding="utf-8", errors="replace").read()
    fired = re.search(r"svd-fault: fail #\d+ (\S+) errno=\d+ \(([^)]*)\)", log)
    ex = re.search(r"svd-fault: exit calls=(\d+) fired=(\d)", log)
    problems = []
    if hang:
        problems.append("hang")
    if rc < 0:
        problems.append(f"killed by signal {-rc}")
    elif rc not in (0, 1):
        problems.append(f"exit status {rc}")
    if SAN_RE.search(log):
        problems.append("sanitizer report")
    if ex is None and not hang:
        problems.append("no exit report")
    if fired:
        own = "\n".join(l for l in log.splitlines() if not l.startswith("svd-fault:"))
        if fired.group(2) not in own and not (ok and rc == 0):
            problems.append(f"{fired.group(1)} failed with '{fired.group(2)}' but the daemon did not report it")
    elif not ok:
        problems.append(f"no fault fired yet the session failed: {detail}")
    return dict(n=n, ok=ok, detail=detail, rc=rc, calls=int(ex.group(1)) if ex else -1,
                fired=fired.group(1) if fired else None, problems=problems, log=errpath)


# The watchdog's timer failing to arm (each timerfd_settime of a session in
# turn fails, the others succeed) delays no expiry: the loop waits no longer
# than the engine's deadline, so the reset still reaches QEMU within 0.5 s of
# the enabling write (the hardware: two 2-tick stages, about 4 ms).
# REQ: REQ-RMT-030.b
def timer_arm_failures_delay_no_expiry(daemon, workdir):
    fails, n = 0, 0
    os.environ["SVD_FAULT_ONLY"] = "timerfd_settime"
    try:
        while True:
            n += 1
            r = run(daemon, workdir, "i6300esb", n, deadline=0.5, tag="-timer")
            if r["fired"] is None:
                break
            if r["problems"] or not r["ok"]:
                fails += 1
                print(f"faults-remote timer: arm {n} failed -> {'; '.join(r['problems']) or r['detail']} ({r['log']})")
            if n > 50:
                fails += 1
                break
    finally:
        del os.environ["SVD_FAULT_ONLY"]
    if n == 1:
        print("faults-remote timer: no timerfd_settime was made, nothing checked")
        fails += 1
    print(f"faults-remote timer: {n - 1} sessions, each with one failed timerfd_settime: the reset came "
          f"within 0.5 s in all but {fails}")
    return fails


# REQ: REQ-RMT-018.a REQ-RMT-018.b REQ-RMT-018.c REQ-RMT-015
def main(argv):
    daemon, workdir = argv[1], argv[2]
    os.makedirs(workdir, exist_ok=True)
    total_fail = 0
    for scenario in ("i6300esb", "entropy"):
        base = run(daemon, workdir, scenario, 0)
        if base["problems"] or not base["ok"]:
            print(f"faults-remote {scenario}: baseline failed: {base['problems']} {base['detail']} ({base['log']})")
            return 1
        print(f"faults-remote {scenario}: baseline: {base['calls']} wrapped calls, session ok")
        per, fails, n, absorbed = {}, [], 0, 0
        while True:
            n += 1
            r = run(daemon, workdir, scenario, n)
            if r["fired"] is None:
                if r["problems"]:
                    fails.append(r)
                break
            per[r["fired"]] = per.get(r["fired"], 0) + 1
            absorbed += 1 if r["ok"] else 0
            if r["problems"]:
                fails.append(r)
                print(f"faults-remote {scenario}: run {n}: fail {r['fired']} -> {'; '.join(r['problems'])} "
                      f"({r['log']})")
            if n > 600:
                fails.append(dict(n=n, problems=["more than 600 runs"], log=""))
                break
        summary = ", ".join(f"{k} {v}" for k, v in sorted(per.items()))
        print(f"faults-remote {scenario}: {n - 1} injected faults ({summary}); {absorbed} absorbed "
              f"(session still passed), the others ended the session cleanly; {len(fails)} failing runs")
        total_fail += len(fails)
    total_fail += timer_arm_failures_delay_no_expiry(daemon, workdir)
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
