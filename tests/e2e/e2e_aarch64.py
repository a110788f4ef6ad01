#!/usr/bin/env python3
"""An aarch64 Linux guest end to end: QEMU 7.2 qemu-system-aarch64 -M virt
(TCG), Debian's arm64 cloud kernel with a busybox initramfs (the same
guest-init.sh as the x86 runs), our vhost-user daemon (the host build)
serving vhost-user-rng on one of virt's virtio-mmio transports, and a
virtio-blk disk on another for the bytes the guest read.

Cases, in this order:
  aarch64      the guest boots with the device tree QEMU generates
  aarch64-fdt  QEMU's tree (-machine dumpdtb) with the rng transport's node
               replaced by the one the qvm virtio-entropy adapter writes at
               GEN_FDT (fdt_graft: level-high, where QEMU writes edge-rising),
               booted with -dtb: the guest must still find and use the device
               on that level-triggered line, and the node it probed the
               transport from must be ours (its interrupts' trigger cell is 4)
In both the guest must bind virtio_rng.0 on that transport, read
E2E_A64_MIB MiB (default 2) from /dev/hwrng and write them to its disk; every byte of both
runs then goes through rngtest.
  daemon-tests the daemon's own test suite (tests/vhost_user/test_vhu.c) and the
               daemon, both built for aarch64, run inside the guest on its
               kernel (guest-run.sh as /init, an initramfs overlay by
               mkoverlay.sh): seccomp sandbox, /proc and signals are the real
               ones, which qemu-user cannot give a foreign process

Usage: e2e_aarch64.py [CASE ...]
Environment: B, E2E_DAEMON (the daemon), E2E_TIMEOUT (s per guest),
E2E_A64_VHU_INITRD (the initramfs with the aarch64 daemon tests),
E2E_A64_MIB (MiB per guest, default 2), E2E_A64_GRAFT (the fdt_graft tool).
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # importing e2e.py must leave no __pycache__ in the source tree
import e2e  # noqa: E402  (the x86 runner: daemon, guest console parsing, verdicts)
from e2e import CaseFailed, check, log, MIB  # noqa: E402

A64 = os.path.join(e2e.B, "e2e-aarch64")
KERNEL = os.path.join(A64, "kernel", "vmlinuz")
INITRD = os.path.join(A64, "initramfs.cpio.gz")
GRAFT = os.environ.get("E2E_A64_GRAFT", os.path.join(A64, "fdt_graft"))
VHU_INITRD = os.environ.get("E2E_A64_VHU_INITRD", os.path.join(A64, "initramfs-vhu.cpio.gz"))
# Paths inside that initramfs (mkoverlay.sh puts the programs in /run/bin).
VHU_RUN = ("e2e.run=/run/bin/test_vhu "
           "e2e.env=VHU_DAEMON=/run/bin/vhost-user-entropy,VHU_TMP=/tmp/vhu")
QEMU = "qemu-system-aarch64"
NBYTES = int(os.environ.get("E2E_A64_MIB", "2")) * MIB
# hw/arm/virt.c (QEMU 7.2): 32 virtio-mmio transports from 0x0a000000, 0x200
# bytes apart, on GIC SPIs 16.. ; bus virtio-mmio-bus.N is transport N.
VIRT_MMIO_BASE = 0x0A000000
VIRT_MMIO_SIZE = 0x200
VIRT_MMIO_SPI = 16
RNG_SLOT = 7
BLK_SLOT = 8
# rngtest on a few MiB: an ideal source fails about 0.1% of the 20000-bit
# blocks; a biased one fails nearly all. 1% keeps the check meaningful on a
# small sample without flaking.
RNGTEST_MAX_FAIL = 0.01


def slot_base(slot):
    return VIRT_MMIO_BASE + slot * VIRT_MMIO_SIZE


class Arm64Guest(e2e.Guest):
    """A -M virt guest: the parent's console parsing and results, this
    machine's command line."""

    def __init__(self, workdir, nbytes, sock, name, dtb=None):
        super().__init__(workdir, "mmio-vhu", nbytes, sock=sock, name=name)
        self.dtb = dtb

    def machine(self, append):
        """Everything but the vhost-user device: also what -machine dumpdtb is given."""
        disk_mib = (self.nbytes + MIB - 1) // MIB + 1
        with open(self.disk, "wb") as f:
            f.truncate(disk_mib * MIB)
        # Modern (virtio 1.x) transports: virt's default is the legacy one.
        return [QEMU, "-M", "virt,memory-backend=mem", "-cpu", "cortex-a57", "-m", "512M",
                "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                "-accel", "tcg", "-nographic", "-no-reboot", "-nic", "none",
                "-global", "virtio-mmio.force-legacy=false",
                "-drive", f"file={self.disk},format=raw,if=none,id=d0",
                "-device", f"virtio-blk-device,drive=d0,bus=virtio-mmio-bus.{BLK_SLOT}",
                "-kernel", KERNEL, "-initrd", INITRD, "-append", append]

    def append(self):
        return ("console=ttyAMA0 quiet loglevel=3 reboot=t panic=-1 "
                f"e2e.bytes={self.nbytes} e2e.chunk={self.chunk} e2e.label={self.name} e2e.wait=0")

    def cmdline(self):
        args = self.machine(self.append())
        args += ["-chardev", f"socket,id=vu0,path={self.sock}",
                 "-device", f"vhost-user-rng,chardev=vu0,bus=virtio-mmio-bus.{RNG_SLOT}"]
        if self.dtb:
            args += ["-dtb", self.dtb]
        return args

    def of_props(self):
        props = {}
        for _, text in self.lines:
            if text.startswith("OF_PROP "):
                kv = dict(part.split("=", 1) for part in text.split()[1:])
                props[kv["name"]] = kv.get("hex", "")
        # Linux adds "name" from the node name; it is not a property of the blob.
        props.pop("name", None)
        return props


class RunGuest(e2e.Guest):
    """A -M virt guest with no device that runs one program (guest-run.sh)."""

    def __init__(self, workdir, name, initrd, run_args):
        super().__init__(workdir, "mmio-vhu", 0, name=name)
        self.initrd = initrd
        self.run_args = run_args

    def cmdline(self):
        return [QEMU, "-M", "virt", "-cpu", "cortex-a57", "-m", "512M", "-accel", "tcg",
                "-nographic", "-no-reboot", "-nic", "none", "-kernel", KERNEL, "-initrd", self.initrd,
                "-append", f"console=ttyAMA0 quiet loglevel=3 reboot=t panic=-1 {self.run_args}"]

    def output(self):
        return [t[4:] for _, t in self.lines if t.startswith("OUT ")]


def read_props(path):
    out = {"ours": {}, "qemu": {}}
    with open(path) as f:
        for line in f:
            who, name, *val = line.split()
            out[who][name] = val[0] if val else ""
    return out


class Run:
    def __init__(self):
        self.work = os.path.join(A64, f"run.{os.getpid()}")
        os.makedirs(self.work, exist_ok=True)
        self.pool = bytearray()
        self.props = None
        self.figures = []

    def graft(self):
        """QEMU's tree for exactly this command line, and ours from it."""
        if self.props is not None:
            return self.props
        g = Arm64Guest(self.work, NBYTES, None, "dump")
        qemu_dtb = os.path.join(self.work, "qemu.dtb")
        p = subprocess.run(g.machine(g.append()) + ["-machine", f"dumpdtb={qemu_dtb}"],
                               capture_output=True, text=True, timeout=60)
        if p.returncode != 0 or not os.path.exists(qemu_dtb):
            raise CaseFailed(f"qemu -machine dumpdtb failed: {p.stderr.strip()}")
        self.dtb = os.path.join(self.work, "ours.dtb")
        props = os.path.join(self.work, "props.txt")
        p = subprocess.run([GRAFT, qemu_dtb, self.dtb, hex(slot_base(RNG_SLOT)), hex(VIRT_MMIO_SIZE),
                                str(VIRT_MMIO_SPI + RNG_SLOT), props], capture_output=True, text=True)
        for line in (p.stdout + p.stderr).splitlines():
            log(line)
        check(p.returncode == 0, "fdt_graft: our node matches QEMU's where they overlap, tree rebuilt")
        self.props = read_props(props)
        return self.props


def boot(run, name, dtb=None):
    d = e2e.Daemon(run.work, name=f"{name}-d")
    d.start()
    g = None
    try:
        g = Arm64Guest(run.work, NBYTES, d.sockets()[0], name, dtb=dtb)
        t0 = time.monotonic()
        g.start()
        r = g.finish()
        wall = time.monotonic() - t0
    finally:
        if g:
            g.kill()
        status = d.stop()
    data = e2e.assert_read(g, r, NBYTES)
    check(status == 0, f"daemon exits 0 on SIGTERM (got {status})")
    run.pool += data
    want = f"platform/{slot_base(RNG_SLOT):x}.virtio_mmio/"
    dev = next((t.split("=", 1)[1] for _, t in g.lines if t.startswith("RNG_DEV=")), "")
    check(want in dev, f"{name}: virtio_rng.0 is on virt's transport {RNG_SLOT} ({dev})")
    node = next((t.split("=", 1)[1] for _, t in g.lines if t.startswith("OF_NODE=")), "")
    check(node == f"/virtio_mmio@{slot_base(RNG_SLOT):x}",
          f"{name}: the guest probed that transport from device-tree node {node}")
    line = (f"{name}: {r['bytes']} bytes in {r['cs'] / 100:.2f} s = {e2e.mibs(r):.3f} MiB/s "
            f"(guest clock), {wall:.1f} s from QEMU start to its exit")
    run.figures.append(line)
    log(line)
    return g


# REQ: REQ-PORT-010
def case_aarch64(run):
    """-M virt with QEMU's device tree: virtio_rng.0 on a virtio-mmio transport reads from our daemon."""
    props = run.graft()["qemu"]
    g = boot(run, "aarch64")
    seen = g.of_props()
    check(seen == props, f"aarch64: the guest's node is QEMU's ({sorted(seen)})")


# REQ: REQ-PORT-011
def case_aarch64_fdt(run):
    """The same with that transport's node as the qvm adapter writes it: level-triggered (-dtb)."""
    ours = run.graft()["ours"]
    g = boot(run, "aarch64-fdt", dtb=run.dtb)
    seen = g.of_props()
    check(seen == ours, f"aarch64-fdt: the guest's node is ours, byte for byte ({sorted(seen)})")
    qemu = run.graft()["qemu"]
    check(seen.get("interrupts", "").endswith("00000004") and qemu.get("interrupts", "").endswith("00000001"),
          f"aarch64-fdt: its interrupt is level-high (ours {seen.get('interrupts')}, QEMU's edge-rising "
          f"{qemu.get('interrupts')}), and virtio_rng read through it")


# REQ: REQ-PORT-012
def case_daemon_tests(run):
    """The daemon's test suite, built for aarch64, on the aarch64 guest's own kernel."""
    g = RunGuest(run.work, "daemon-tests", VHU_INITRD, VHU_RUN)
    t0 = time.monotonic()
    g.start()
    try:
        r = g.finish()
    finally:
        g.kill()
    out = g.output()
    passed = sum(int(m.group(1)) for m in (re.match(r"\[  PASSED  \] (\d+) test", o) for o in out) if m)
    failed = [o for o in out if o.startswith("[  FAILED  ] test")]
    for o in out:
        if o.startswith("[  FAILED  ]") or o.startswith("[  ERROR   ]") or o.startswith("[   LINE   ]"):
            log(f"guest: {o}")
    line = f"daemon-tests: {passed} passed, {len(failed)} failed on aarch64 ({time.monotonic() - t0:.1f} s)"
    run.figures.append(line)
    log(line)
    check(r["rc"] == "0" and not failed and passed > 0,
          f"daemon-tests: test_vhu exits 0 in the aarch64 guest with every test passed (rc={r['rc']})")


# REQ: REQ-PORT-010 REQ-PORT-011
def case_rngtest(run):
    """rngtest (FIPS 140-2) over every byte the aarch64 guests read."""
    ok, bad, _ = e2e.rngtest(bytes(run.pool))
    total = ok + bad
    line = f"aarch64 rngtest: {len(run.pool) / MIB:.1f} MiB, {total} blocks, {bad} failed"
    run.figures.append(line)
    log(line)
    check(total >= (len(run.pool) * 8 - 32) // 20000, "rngtest saw every block")
    check(bad <= RNGTEST_MAX_FAIL * total, f"FIPS 140-2 failures {bad}/{total} <= 1% of blocks")


CASES = [("aarch64", case_aarch64), ("aarch64-fdt", case_aarch64_fdt), ("rngtest", case_rngtest),
         ("daemon-tests", case_daemon_tests)]


def main(argv):
    for p in (KERNEL, INITRD, GRAFT, VHU_INITRD):
        if not os.path.exists(p):
            print(f"e2e-aarch64: {p} missing (make e2e-aarch64-prep)", file=sys.stderr)
            return 2
    table = dict(CASES)
    names = argv or [n for n, _ in CASES]
    for n in names:
        if n not in table:
            print(f"e2e-aarch64: unknown case {n}; cases: {' '.join(table)}", file=sys.stderr)
            return 2
    run = Run()
    results = []
    t0 = time.monotonic()
    for n in names:
        print(f"--- e2e-aarch64 case {n}: {table[n].__doc__}",
              flush=True)
        t = time.monotonic()
        try:
            table[n](run)
            verdict = "PASS"
        except CaseFailed as e:
            verdict = f"FAIL: {e}"
        results.append((n, verdict, time.monotonic() - t))
        print(f"--- e2e-aarch64 case {n}: {verdict} ({time.monotonic() - t:.1f} s)", flush=True)
    print("=== e2e-aarch64 summary")
    for line in run.figures:
        print(f"  {line}")
    for n, v, dt in results:
        print(f"  {n:12s} {v} ({dt:.1f} s)")
    failed = [n for n, v, _ in results if v != "PASS"]
    print(f"e2e-aarch64: {len(results) - len(failed)} passed, {len(failed)} failed "
          f"in {time.monotonic() - t0:.0f} s" + (f": {' '.join(failed)}" if failed else ""))
    if failed:
        print(f"e2e-aarch64: logs kept in {run.work}")
    else:
        shutil.rmtree(run.work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
