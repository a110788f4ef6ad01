#!/usr/bin/env python3
"""End-to-end tests: an unmodified Linux guest (Debian 6.1 cloud kernel,
busybox initramfs) under QEMU 7.2 TCG reads /dev/hwrng from our vhost-user
entropy daemon. Every verdict is taken from what the guest prints ("E2E:"
lines from tests/e2e/guest-init.sh) and from rngtest run on the host over the
bytes the guest wrote to its virtio-blk disk.

Usage: e2e.py [--list] [CASE ...]       (no CASE: every case, in order)
       e2e.py --demo
Environment: B (build dir, default build), E2E_DAEMON (daemon binary),
E2E_RNGTEST_MIB (size of the rngtest sample, MiB), E2E_TIMEOUT (s per guest).
"""

import os
import re
import shutil
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
B = os.path.join(ROOT, os.environ.get("B", "build"))
E2E = os.path.join(B, "e2e")
KERNEL = os.path.join(E2E, "kernel", "vmlinuz")
INITRD = os.path.join(E2E, "initramfs.cpio.gz")
DAEMON = os.environ.get("E2E_DAEMON",
                        os.path.join(B, "vhost-user", "vhost-user-entropy"))
QEMU = "qemu-system-x86_64"
MIB = 1 << 20
GUEST_TIMEOUT = float(os.environ.get("E2E_TIMEOUT", "300"))
# rngtest works on 20000-bit blocks; an ideal source fails about 0.1% of them
# (measured here: 100 of 99999 blocks of /dev/urandom), so the 0.2% bound is
# only meaningful on a large sample; see docs/req/e2e.md for the numbers.
RNGTEST_MIB = int(os.environ.get("E2E_RNGTEST_MIB", "24"))
RNGTEST_MAX_FAIL = 0.002
RATE = 16384          # bytes/s for the rate-limit case
RATE_TOL = 0.10


class CaseFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CaseFailed(what)
    print(f"    ok: {what}", flush=True)


def log(msg):
    print(f"    {msg}", flush=True)


class Daemon:
    """Our vhost-user back-end on SOCKETS sockets under a private directory."""

    def __init__(self, workdir, count=1, extra=(), name="d"):
        self.base = os.path.join(workdir, f"{name}.sock")
        self.count = count
        self.extra = list(extra)
        self.logpath = os.path.join(workdir, f"{name}.log")
        self.proc = None

    def sockets(self):
        if self.count == 1:
            return [self.base]
        return [f"{self.base}{i}" for i in range(self.count)]

    def start(self):
        if not os.access(DAEMON, os.X_OK):
            raise CaseFailed(f"daemon {DAEMON} not built")
        for s in self.sockets():
            if os.path.exists(s):
                os.unlink(s)
        args = [DAEMON, "--socket-path", self.base]
        if self.count != 1:
            args += ["--socket-count", str(self.count)]
        args += self.extra
        if os.environ.get("E2E_DAEMON_LOG"):
            args += ["--log-level", os.environ["E2E_DAEMON_LOG"]]
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CaseFailed(f"daemon exited with {self.proc.returncode}: "
                                 f"{self.tail()}")
            if all(self._listening(s) for s in self.sockets()):
                return
            time.sleep(0.05)
        raise CaseFailed("daemon sockets did not appear within 10 s")

    @staticmethod
    def _listening(path):
        if not os.path.exists(path):
            return False
        # Probe with connect only once the file exists; do not hold the
        # connection (a back-end serves one front-end per socket).
        return True

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


def microvm_clock_args():
    """microvm has no HPET or ACPI PM timer, so under TCG the kernel cannot
    calibrate the TSC against the PIT (boot then stalls when the host is
    busy), and the jiffies clocksource loses ticks. TCG's guest TSC is the
    host TSC, so hand the kernel the host's TSC rate and trust the TSC."""
    khz = 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    khz = int(float(line.split(":")[1]) * 1000)
                    break
    except (OSError, ValueError):
        pass
    return f" tsc_early_khz={khz or 2000000} tsc=reliable"


class Guest:
    """One QEMU TCG guest running guest-init.sh; parses its E2E: lines."""

    def __init__(self, workdir, kind, nbytes, chunk=None, sock=None, name="g",
                 quiet=True, reconnect=False, wait_go=False, packed=False):
        self.kind = kind          # pci-vhu | mmio-vhu | pci-builtin
        self.packed = packed      # packed=on: QEMU offers VIRTIO_F_RING_PACKED to the guest
        # QEMU 7.2 connects a reconnect=1 chardev asynchronously, but
        # vhost-user-rng realizes (and talks to the back-end) at once, so a
        # device given on the command line fails with "Failed to set msg fds"
        # and QEMU aborts. With reconnect the guest is therefore created
        # paused (-S), the device is added over QMP once the chardev is
        # connected, and then the guest starts.
        self.reconnect = reconnect
        self.wait_go = wait_go    # guest waits for go() before reading
        self.qmp_path = os.path.join(workdir, f"{name}.qmp")
        self.nbytes = nbytes
        self.chunk = chunk or nbytes
        self.sock = sock
        self.name = name
        self.disk = os.path.join(workdir, f"{name}.img")
        self.logpath = os.path.join(workdir, f"{name}.console")
        self.quiet = quiet
        self.lines = []           # (host monotonic time, text)
        self.cond = threading.Condition()
        self.proc = None
        self.reader = None

    def cmdline(self):
        disk_mib = (self.nbytes + MIB - 1) // MIB + 1
        with open(self.disk, "wb") as f:
            f.truncate(disk_mib * MIB)
        append = ("console=ttyS0 quiet loglevel=3 reboot=t panic=-1 "
                  f"e2e.bytes={self.nbytes} e2e.chunk={self.chunk} "
                  f"e2e.label={self.name} e2e.wait={int(self.wait_go)}")
        mem = ["-m", "512M", "-object",
               "memory-backend-memfd,id=mem,size=512M,share=on"]
        args = [QEMU, "-accel", "tcg", "-nographic", "-no-reboot", "-nic", "none"]
        if self.kind == "mmio-vhu":
            append += microvm_clock_args()
            args += ["-M", "microvm,memory-backend=mem"] + mem
            if self.packed:
                # QEMU 7.2's virtio-mmio is legacy (version 1) unless told
                # otherwise: the guest then acks only the low 32 feature
                # bits, and RING_PACKED (bit 34) cannot be negotiated.
                args += ["-global", "virtio-mmio.force-legacy=false"]
            blk = "virtio-blk-device"
        else:
            args += ["-M", "pc"]
            if self.kind == "pci-vhu":
                args += mem + ["-numa", "node,memdev=mem"]
            else:
                args += ["-m", "512M"]
            blk = "virtio-blk-pci"
        if self.kind == "pci-builtin":
            args += ["-object", "rng-random,id=rng0,filename=/dev/urandom",
                     "-device", "virtio-rng-pci,rng=rng0"]
        else:
            if self.reconnect:
                args += ["-S", "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
                         "-chardev", f"socket,id=vu0,path={self.sock},reconnect=1"]
            else:
                args += ["-chardev", f"socket,id=vu0,path={self.sock}",
                         "-device", f"{self.rng_driver()},chardev=vu0" + (",packed=on" if self.packed else "")]
        args += ["-drive", f"file={self.disk},format=raw,if=none,id=d0",
                 "-device", f"{blk},drive=d0",
                 "-kernel", KERNEL, "-initrd", INITRD, "-append", append]
        return args

    def rng_driver(self):
        return "vhost-user-rng" if self.kind == "mmio-vhu" else "vhost-user-rng-pci"

    def _qmp_plug(self):
        deadline = time.monotonic() + 20
        while not os.path.exists(self.qmp_path):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise CaseFailed(f"{self.name}: QEMU QMP socket did not appear")
            time.sleep(0.05)
        qs = socket.socket(socket.AF_UNIX)
        qs.settimeout(60)
        qs.connect(self.qmp_path)
        f = qs.makefile("rw")
        f.readline()

        def cmd(name, **kw):
            f.write(json.dumps({"execute": name, "arguments": kw}) + "\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "error" in reply:
                    raise CaseFailed(f"{self.name}: QMP {name}: {reply['error']}")
                if "return" in reply:
                    return reply["return"]

        cmd("qmp_capabilities")
        while True:
            chars = {c["label"]: c["filename"] for c in cmd("query-chardev")}
            if not chars.get("vu0", "disconnected").startswith("disconnected"):
                break
            if time.monotonic() > deadline:
                raise CaseFailed(f"{self.name}: chardev never connected to {self.sock}")
            time.sleep(0.05)
        extra = {"packed": True} if self.packed else {}
        cmd("device_add", driver=self.rng_driver(), chardev="vu0", id="rng0", **extra)
        cmd("cont")
        qs.close()

    def start(self):
        args = self.cmdline()
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.PIPE if self.wait_go
                                     else subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if self.reconnect:
            self._qmp_plug()

    def _read(self):
        with open(self.logpath, "wb") as log_f:
            for raw in self.proc.stdout:
                log_f.write(raw)
                log_f.flush()
                text = raw.decode(errors="replace").rstrip("\r\n")
                i = text.find("E2E:")
                if i < 0:
                    continue
                text = text[i + 4:]
                if not self.quiet:
                    print(f"    [{self.name}] {text}", flush=True)
                with self.cond:
                    self.lines.append((time.monotonic(), text))
                    self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, prefix, timeout=None):
        """Return (time, text) of the first line starting with prefix."""
        deadline = time.monotonic() + (timeout or GUEST_TIMEOUT)
        with self.cond:
            while True:
                for t, text in self.lines:
                    if text.startswith(prefix):
                        return t, text
                if not self.reader.is_alive():
                    raise CaseFailed(f"{self.name}: guest ended without '{prefix}'; "
                                     f"console in {self.logpath}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CaseFailed(f"{self.name}: no '{prefix}' within timeout; "
                                     f"console in {self.logpath}")
                self.cond.wait(min(left, 1.0))

    def go(self):
        """Release a guest started with wait_go (a line on its serial console)."""
        self.proc.stdin.write(b"go\n")
        self.proc.stdin.flush()

    def has(self, prefix):
        with self.cond:
            return any(text.startswith(prefix) for _, text in self.lines)

    def finish(self, timeout=None):
        """Wait for QEMU to exit; kill it on timeout. Returns parsed results."""
        try:
            self.wait_for("END", timeout)
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.reader.join(timeout=5)
        return self.result()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def field(self, prefix, key):
        for _, text in self.lines:
            if text.startswith(prefix):
                m = re.search(rf"\b{key}=(\S*)", text)
                if m:
                    return m.group(1)
        return None

    def result(self):
        r = {"rng_current": None, "rng_available": None}
        for _, text in self.lines:
            if text.startswith("RNG_CURRENT="):
                r["rng_current"] = text.split("=", 1)[1].strip()
            elif text.startswith("RNG_AVAILABLE="):
                r["rng_available"] = text.split("=", 1)[1].strip()
        r["bytes"] = int(self.field("READ_DONE", "bytes") or 0)
        r["cs"] = int(self.field("READ_DONE", "cs") or 0)
        r["disk_bytes"] = int(self.field("DISK_WRITTEN", "bytes") or 0)
        r["rc"] = self.field("END", "rc")
        r["bps"] = r["bytes"] * 100.0 / r["cs"] if r["cs"] else 0.0
        return r

    def host_seconds(self):
        """READ_START to READ_DONE on the host clock (a cross-check of the
        guest's own measurement; includes console latency)."""
        return self.wait_for("READ_DONE", 1)[0] - self.wait_for("READ_START", 1)[0]

    def data(self):
        r = self.result()
        with open(self.disk, "rb") as f:
            return f.read(r["disk_bytes"])


def assert_read(g, r, nbytes):
    """The common verdict of a guest that had to read nbytes from our device."""
    check(r["rng_current"] == "virtio_rng.0",
          f"{g.name}: guest rng_current is virtio_rng.0 (got {r['rng_current']!r})")
    check(r["bytes"] >= nbytes,
          f"{g.name}: guest read {r['bytes']} >= {nbytes} bytes from /dev/hwrng")
    check(r["disk_bytes"] == r["bytes"],
          f"{g.name}: guest wrote the {r['bytes']} bytes to its virtio-blk disk")
    check(r["rc"] == "0", f"{g.name}: guest init ended with rc=0")
    data = g.data()
    check(len(data) == r["bytes"] and data.count(0) < len(data) // 2,
          f"{g.name}: host reads back {len(data)} bytes, not a zero-filled disk")
    return data


def rngtest(data):
    p = subprocess.run(["rngtest"], input=data, capture_output=True)
    out = p.stderr.decode(errors="replace")
    ok = int(re.search(r"successes: (\d+)", out).group(1))
    bad = int(re.search(r"failures: (\d+)", out).group(1))
    detail = {k: int(v) for k, v in
              re.findall(r"FIPS 140-2\(2001-10-10\) ([A-Za-z ]+): (\d+)", out)}
    return ok, bad, detail


def mibs(r):
    return r["bps"] / MIB


class Run:
    """State shared by the cases of one invocation."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="e2e.", dir=E2E)
        self.pool = bytearray()        # every byte our daemon gave a guest
        self.ours = None               # pci case result
        self.figures = []

    def daemon(self, **kw):
        return Daemon(self.work, **kw)

    def guest(self, kind, nbytes, **kw):
        return Guest(self.work, kind, nbytes, **kw)


# The daemon logs at info level in the cases that check the ring format it served.
INFO = ["--log-level", "info"]


def single_read(run, kind, nbytes, name, packed=False):
    d = run.daemon(name=f"{name}-d", extra=INFO)
    d.start()
    try:
        g = run.guest(kind, nbytes, sock=d.sockets()[0], name=name, packed=packed)
        g.start()
        r = g.finish()
    finally:
        g.kill()
        status = d.stop()
    data = assert_read(g, r, nbytes)
    check(status == 0, f"daemon exits 0 on SIGTERM (got {status})")
    check(not os.path.exists(d.sockets()[0]), "daemon removed its socket file")
    ring_format_check(d, packed)
    run.pool += data
    log(f"{name}: {r['bytes']} bytes in {r['cs'] / 100:.2f} s = {mibs(r):.3f} MiB/s (guest clock; "
        f"host clock {r['bytes'] / g.host_seconds() / MIB:.3f} MiB/s)")
    return r


def ring_format_check(d, packed):
    """The daemon's log names the format every ring started with."""
    try:
        with open(d.logpath, "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        text = ""
    want = "ring started: packed" if packed else "ring started: split"
    other = "ring started: split" if packed else "ring started: packed"
    check(want in text and other not in text,
          f"daemon served a {'packed' if packed else 'split'} ring (log: {want!r})")
    check("SET_FEATURES" not in text, "no SET_FEATURES was refused")


# REQ: REQ-VHU-100 REQ-VHU-107
def case_pci(run):
    """vhost-user-rng-pci: the guest binds virtio_rng.0 and reads 1 MiB."""
    run.ours = single_read(run, "pci-vhu", MIB, "pci")
    log(f"pci: {mibs(run.ours):.3f} MiB/s")


# REQ: REQ-VHU-106
def case_baseline(run):
    """QEMU's built-in virtio-rng-pci on /dev/urandom vs ours, alternating."""
    def builtin(name):
        g = run.guest("pci-builtin", MIB, name=name)
        g.start()
        try:
            r = g.finish()
        finally:
            g.kill()
        check(r["rng_current"] == "virtio_rng.0" and r["bytes"] >= MIB,
              f"built-in virtio-rng-pci: guest read {r['bytes']} bytes via {r['rng_current']}")
        log(f"{name}: {r['bytes']} bytes in {r['cs'] / 100:.2f} s = {mibs(r):.3f} MiB/s")
        return r

    # The host is shared and TCG speed follows its load, so the two devices
    # alternate (ours, built-in, ours, built-in) and the totals are compared.
    ours = [run.ours] if run.ours else [single_read(run, "pci-vhu", MIB, "ours1")]
    theirs = [builtin("builtin1")]
    ours.append(single_read(run, "pci-vhu", MIB, "ours2"))
    theirs.append(builtin("builtin2"))

    def rate(rs):
        return sum(r["bytes"] for r in rs) * 100.0 / sum(r["cs"] for r in rs) / MIB

    o, t = rate(ours), rate(theirs)
    line = (f"guest MiB/s: ours (vhost-user-rng-pci) {o:.3f}, built-in virtio-rng-pci "
            f"(rng-random /dev/urandom) {t:.3f}, ratio ours/built-in {o / t:.2f} "
            f"(runs: ours {' '.join(f'{mibs(r):.3f}' for r in ours)}, "
            f"built-in {' '.join(f'{mibs(r):.3f}' for r in theirs)})")
    run.figures.append(line)
    log(line)


# REQ: REQ-VHU-101 REQ-VHU-107
def case_mmio(run):
    """microvm + vhost-user-rng (virtio-mmio, found through ACPI): 1 MiB."""
    single_read(run, "mmio-vhu", MIB, "mmio")


# REQ: REQ-VHU-080 REQ-VHU-081.a REQ-VHU-108
def case_packed_pci(run):
    """vhost-user-rng-pci,packed=on: a packed ring; MiB/s next to split in this run."""
    # The host is shared and TCG speed follows its load: packed and split
    # alternate (packed, split, packed, split) and the totals are compared.
    packed, split = [], []
    for i in (1, 2):
        packed.append(single_read(run, "pci-vhu", MIB, f"packed-pci{i}", packed=True))
        split.append(single_read(run, "pci-vhu", MIB, f"split-pci{i}"))

    def rate(rs):
        return sum(r["bytes"] for r in rs) * 100.0 / sum(r["cs"] for r in rs) / MIB

    line = (f"guest MiB/s vhost-user-rng-pci: packed {rate(packed):.3f}, split {rate(split):.3f} "
            f"(same run, alternating, guest clock; runs: packed "
            f"{' '.join(f'{mibs(r):.3f}' for r in packed)}, split {' '.join(f'{mibs(r):.3f}' for r in split)})")
    run.figures.append(line)
    log(line)


# REQ: REQ-VHU-080 REQ-VHU-108
def case_packed_mmio(run):
    """microvm + vhost-user-rng,packed=on (virtio-mmio): a packed ring, 1 MiB."""
    r = single_read(run, "mmio-vhu", MIB, "packed-mmio", packed=True)
    run.figures.append(f"guest MiB/s vhost-user-rng (mmio): packed {mibs(r):.3f}")


# REQ: REQ-VHU-102
def case_rngtest(run):
    """The bytes guests read pass FIPS 140-2 (rngtest) with <= 0.2% failed blocks."""
    want = RNGTEST_MIB * MIB
    if len(run.pool) < want:
        extra = want - len(run.pool)
        single_read(run, "pci-vhu", extra, "rngtest")
    data = bytes(run.pool)
    ok, bad, detail = rngtest(data)
    total = ok + bad
    log(f"rngtest over {len(data)} bytes: {total} blocks, {ok} passed, {bad} failed {detail}")
    run.figures.append(f"rngtest: {len(data) / MIB:.1f} MiB, {total} blocks, {bad} failed "
                       f"({100.0 * bad / max(total, 1):.3f}%)")
    check(total >= (len(data) * 8 - 32) // 20000, "rngtest saw every block")
    check(bad <= RNGTEST_MAX_FAIL * total,
          f"FIPS 140-2 failures {bad}/{total} <= 0.2% of blocks")


def daemon_rate_args(rate):
    """Rate-limit options of the daemon: bytes/s and no one-time burst (its
    standing bucket is a tenth of a second's worth, 1% of a 10 s read)."""
    return ["--rate-bytes", str(rate), "--rate-burst", "0"]


# REQ: REQ-VHU-103
def case_ratelimit(run):
    """Daemon limited to 16 KiB/s: the guest's measured rate is within 10%."""
    nbytes = 10 * RATE    # about 10 s of reading
    d = run.daemon(name="rate-d", extra=daemon_rate_args(RATE))
    d.start()
    try:
        g = run.guest("pci-vhu", nbytes, sock=d.sockets()[0], name="rate")
        g.start()
        r = g.finish(timeout=GUEST_TIMEOUT)
    finally:
        g.kill()
        d.stop()
    run.pool += assert_read(g, r, nbytes)
    dev = r["bps"] / RATE - 1.0
    line = (f"rate limit {RATE} B/s: guest measured {r['bps']:.0f} B/s over "
            f"{r['cs'] / 100:.2f} s ({dev * 100:+.1f}%)")
    run.figures.append(line)
    log(line)
    check(abs(dev) <= RATE_TOL, f"guest rate within 10% of {RATE} B/s")
    if run.ours:
        # The limit, not the emulation, must be what held the guest back.
        check(run.ours["bps"] > 2 * RATE,
              f"unlimited rate in this run ({run.ours['bps']:.0f} B/s) is over twice the limit")


def reconnect_read(run, name, packed):
    nbytes = MIB
    d = run.daemon(name=f"{name}-d", extra=INFO)
    d.start()
    g = run.guest("pci-vhu", nbytes, chunk=32768, sock=d.sockets()[0], name=name,
                  reconnect=True, packed=packed)
    try:
        g.start()
        g.wait_for("PROGRESS")
        check(not g.has("READ_DONE"), "daemon killed while the guest is still reading")
        d.kill9()
        log(f"daemon killed with SIGKILL after first progress line")
        time.sleep(1.0)
        d.start()
        log("daemon restarted on the same socket")
        r = g.finish()
    finally:
        g.kill()
        status = d.stop()
    run.pool += assert_read(g, r, nbytes)
    check(status == 0, f"restarted daemon exits 0 on SIGTERM (got {status})")
    ring_format_check(d, packed)
    return d


# REQ: REQ-VHU-104 REQ-VHU-107
def case_reconnect(run):
    """kill -9 the daemon mid-read, start it again; the guest finishes its read."""
    reconnect_read(run, "reconnect", False)


# REQ: REQ-VHU-104 REQ-VHU-108 REQ-VHU-083
def case_packed_reconnect(run):
    """packed=on: kill -9 mid-read, restart; QEMU 7.2 resends a stale base, the ring resyncs."""
    d = reconnect_read(run, "packed-reco", True)
    with open(d.logpath, "rb") as f:
        text = f.read().decode(errors="replace")
    stale = [l for l in text.splitlines() if "start position stale" in l]
    log("packed reconnect: " + (stale[-1].strip() if stale else "base was current"))


# REQ: REQ-VHU-105 REQ-VHU-107
def case_twoguests(run):
    """Two guests on two sockets of one daemon read at the same time."""
    nbytes = MIB // 2
    d = run.daemon(name="two-d", count=2)
    d.start()
    gs = [run.guest("pci-vhu", nbytes, sock=s, name=f"two{i}", wait_go=True)
          for i, s in enumerate(d.sockets())]
    try:
        for g in gs:
            g.start()
        # Boot times differ by seconds; both guests hold their read until
        # both are up, then start together.
        for g in gs:
            g.wait_for("READY")
        for g in gs:
            g.go()
        rs = [g.finish() for g in gs]
    finally:
        for g in gs:
            g.kill()
        status = d.stop()
    datas = [assert_read(g, r, nbytes) for g, r in zip(gs, rs)]
    spans = [(g.wait_for("READ_START")[0], g.wait_for("READ_DONE")[0]) for g in gs]
    overlap = min(s[1] for s in spans) - max(s[0] for s in spans)
    shorter = min(s[1] - s[0] for s in spans)
    check(overlap >= 0.5 * shorter,
          f"the two reads overlapped for at least half of the shorter one on the host "
          f"clock ({overlap:.2f} s of {shorter:.2f} s)")
    check(datas[0][:4096] != datas[1][:4096], "the two guests got different bytes")
    check(status == 0, f"daemon exits 0 on SIGTERM (got {status})")
    for data in datas:
        run.pool += data


CASES = [
    ("pci", case_pci),
    ("baseline", case_baseline),
    ("mmio", case_mmio),
    ("ratelimit", case_ratelimit),
    ("reconnect", case_reconnect),
    ("packed-pci", case_packed_pci),
    ("packed-mmio", case_packed_mmio),
    ("packed-reconnect", case_packed_reconnect),
    ("twoguests", case_twoguests),
    ("rngtest", case_rngtest),
]


def demo():
    """make demo: one guest, our daemon, the guest's own view and rngtest."""
    run = Run()
    nbytes = 2 * MIB
    d = run.daemon(name="demo-d")
    print(f"demo: starting {DAEMON} --socket-path {d.base}", flush=True)
    d.start()
    g = run.guest("pci-vhu", nbytes, chunk=256 * 1024, sock=d.sockets()[0],
                  name="demo", quiet=False)
    print("demo: booting Linux (Debian cloud kernel) under QEMU TCG with "
          "vhost-user-rng-pci; guest console lines:", flush=True)
    print("  " + " ".join(g.cmdline()), flush=True)
    try:
        g.start()
        r = g.finish()
    finally:
        g.kill()
        status = d.stop()
    print(f"demo: daemon stopped with SIGTERM, exit status {status}", flush=True)
    print("demo: the guest's own view", flush=True)
    print(f"  rng_available : {r['rng_available']}")
    print(f"  rng_current   : {r['rng_current']}")
    print(f"  bytes read    : {r['bytes']} from /dev/hwrng")
    print(f"  throughput    : {mibs(r):.3f} MiB/s ({r['cs'] / 100:.2f} s, guest clock)")
    data = g.data()
    ok, bad, detail = rngtest(data)
    print(f"demo: rngtest (FIPS 140-2) on the {len(data)} bytes the guest wrote to its disk:")
    print(f"  blocks {ok + bad}, passed {ok}, failed {bad} {detail}")
    print("  (an ideal source fails about 0.1% of blocks; `make e2e` asserts <= 0.2% "
          f"on a {RNGTEST_MIB} MiB sample)", flush=True)
    shutil.rmtree(run.work, ignore_errors=True)
    good = r["rng_current"] == "virtio_rng.0" and r["bytes"] >= nbytes
    return 0 if good else 1


def main(argv):
    if "--list" in argv:
        print(" ".join(n for n, _ in CASES))
        return 0
    for p in (KERNEL, INITRD):
        if not os.path.exists(p):
            print(f"e2e: {p} missing (make e2e-prep)", file=sys.stderr)
            return 2
    if "--demo" in argv:
        return demo()
    names = argv or [n for n, _ in CASES]
    table = dict(CASES)
    for n in names:
        if n not in table:
            print(f"e2e: unknown case {n}; cases: {' '.join(table)}", file=sys.stderr)
            return 2
    run = Run()
    results = []
    t0 = time.monotonic()
    for n in names:
        print(f"--- e2e case {n}: {table[n].__doc__}", flush=True)
        t = time.monotonic()
        try:
            table[n](run)
            verdict = "PASS"
        except CaseFailed as e:
            verdict = f"FAIL: {e}"
        results.append((n, verdict, time.monotonic() - t))
        print(f"--- e2e case {n}: {verdict} ({time.monotonic() - t:.1f} s)", flush=True)
    print("=== e2e summary")
    for line in run.figures:
        print(f"  {line}")
    for n, v, dt in results:
        print(f"  {n:10s} {v} ({dt:.1f} s)")
    failed = [n for n, v, _ in results if v != "PASS"]
    print(f"e2e: {len(results) - len(failed)}/{len(results)} cases passed "
          f"in {time.monotonic() - t0:.0f} s" + (f"; failed: {' '.join(failed)}" if failed else ""))
    if not failed:
        shutil.rmtree(run.work, ignore_errors=True)
    else:
        print(f"e2e: logs kept in {run.work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
