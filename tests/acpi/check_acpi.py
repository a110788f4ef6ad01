#!/usr/bin/env python3
"""make acpi-check: our AML (src/core/aml.c) checked three ways.

1. iasl round trip: iasl -d disassembles our SSDT with no error or warning,
   and iasl recompiles the listing, with 0 errors, warnings and remarks, to a
   table whose bytes equal ours but for the creator ID, creator revision and
   checksum, which iasl writes as its own by definition.
2. QEMU 7.2's microvm: a Linux guest with a virtio-rng-device reads its DSDT
   from /sys/firmware/acpi/tables; the node QEMU wrote for the transport
   (Device VR23: 0xFEB02E00, 0x200, GSI 47) is equal, after iasl -d, to ours
   for the same device, address and interrupt, and our Device term's bytes
   occur verbatim in QEMU's DSDT.
3. The SSDT the qvm virtio-entropy adapter hands acpi_add_table() at
   GEN_ACPI (loc 0xfeb00000, intr ioapic:5), assembled as qvm would
   (acpi_adapter: the harness builds the header from the call's arguments,
   docs/qvm-compat.md), equals our writer's table for the same device but for
   the OEM ID, creator and checksum; iasl disassembles and recompiles it
   (0 errors, warnings, remarks) to the same body. A Linux guest on `-M pc`
   given it (-acpitable file=) reads it back unchanged, enumerates
   \\_SB.V800 as LNRO0005:00 with the adapter's _UID, puts the window in
   /proc/iomem, and the virtio-mmio driver probes it (no device answers behind
   the window on -M pc, so the driver reports the magic value it read: the
   probe ran on our resources).
usage: check_acpi.py AML_SSDT KERNEL INITRD OUTDIR ACPI_ADAPTER ENTROPY.so
"""
# REQ: REQ-ACPI-004 REQ-ACPI-005 REQ-ACPI-006 REQ-ACPI-008
import os
import re
import subprocess
import sys

QEMU = os.environ.get("QEMU", "qemu-system-x86_64")
MICROVM_DEV = ("VR23", "23", "0xfeb02e00", "0x200", "0x2f", "level", "cca")
# The qvm adapter's device at 0xfeb00000: named and numbered from base / 512 = 0x7f5800.
PC_DEV = ("V800", str(0x7f5800), "0xfeb00000", "0x200", "5", "level", "cca")
bad = 0


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def result(ok, what):
    global bad
    print(f"acpi-check: {what}: {'ok' if ok else 'FAIL'}")
    bad += 0 if ok else 1


def ours(tool, out, dev):
    p = run([tool, out] + list(dev))
    if p.returncode != 0:
        sys.exit(f"acpi-check: {p.stderr}")
    return open(out, "rb").read(), open(out + ".dev", "rb").read()


def disasm(aml):
    p = run(["iasl", "-d", aml])
    dsl = aml[:-4] + ".dsl"
    if p.returncode != 0 or not os.path.exists(dsl):
        sys.exit(f"acpi-check: iasl -d {aml} failed: {p.stdout}{p.stderr}")
    return p, open(dsl).read()


def device_block(dsl, name):
    m = re.search(r"^( *)Device \(" + name + r"\)\n\1\{\n.*?^\1\}\n", dsl, re.S | re.M)
    if m is None:
        return None
    return "\n".join(line.strip() for line in m.group(0).splitlines())


def guest(kernel, initrd, extra, log, timeout=180):
    khz = 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                khz = int(float(line.split(":")[1]) * 1000)
                break
    append = f"console=ttyS0 quiet loglevel=3 reboot=t panic=-1 tsc_early_khz={khz or 2000000} tsc=reliable"
    cmd = [QEMU, "-accel", "tcg", "-nographic", "-no-reboot", "-nic", "none", "-m", "256M"] + extra + \
          ["-kernel", kernel, "-initrd", initrd, "-append", append]
    with open(log, "w") as f:
        subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    lines = [l.rstrip("\r") for l in open(log, errors="replace").read().splitlines() if l.startswith("ACPI:")]
    if "ACPI:END" not in lines:
        sys.exit(f"acpi-check: the guest did not finish ({' '.join(cmd)}); see {log}")
    return lines


def tables(lines):
    out = []
    for l in lines:
        m = re.match(r"ACPI:TABLE (\S+) ([0-9a-f]+)$", l)
        if m:
            out.append((m.group(1), bytes.fromhex(m.group(2))))
    return out


def roundtrip(aml, name):
    """iasl -d then iasl: the recompiled table (b"" if it failed) and the summary line."""
    _, dsl = disasm(aml)
    with open(name + ".dsl", "w") as f:
        f.write(dsl)
    p = run(["iasl", "-p", name, name + ".dsl"])
    summary = next((l for l in p.stdout.splitlines() if l.startswith("Compilation")), p.stdout + p.stderr)
    ok = p.returncode == 0 and "0 Errors, 0 Warnings, 0 Remarks" in summary
    return (open(name + ".aml", "rb").read() if ok and os.path.exists(name + ".aml") else b""), summary


def main():
    tool, kernel, initrd, outdir, qvm_tool, ent_so = sys.argv[1:7]
    os.makedirs(outdir, exist_ok=True)
    os.chdir(outdir)

    # 1. iasl round trip
    table, dev = ours(tool, "ours.aml", MICROVM_DEV)
    p, dsl = disasm("ours.aml")
    result("Warning" not in p.stdout + p.stderr and "Error" not in p.stdout + p.stderr,
           "iasl -d disassembles our SSDT with no error or warning")
    with open("rt.dsl", "w") as f:
        f.write(dsl)
    p = run(["iasl", "-p", "rt", "rt.dsl"])
    summary = next((l for l in p.stdout.splitlines() if l.startswith("Compilation")), p.stdout + p.stderr)
    print(f"acpi-check: iasl recompiles the listing: {summary}")
    result(p.returncode == 0 and "0 Errors, 0 Warnings, 0 Remarks" in summary, "iasl: 0 errors, warnings, remarks")
    rt = open("rt.aml", "rb").read() if os.path.exists("rt.aml") else b""
    diff = [i for i in range(max(len(rt), len(table))) if i >= len(rt) or i >= len(table) or rt[i] != table[i]]
    allowed = set([9] + list(range(28, 36)))  # checksum, creator ID, creator revision
    print(f"acpi-check: round trip: {len(table)} bytes ours, {len(rt)} iasl's; differing offsets {diff} "
          f"(9 checksum, 28-31 creator ID {table[28:32]!r} vs {rt[28:32]!r}, 32-35 creator revision)")
    result(len(rt) == len(table) and set(diff) <= allowed and rt[36:] == table[36:],
           "iasl's table equals ours byte for byte but for checksum and creator fields")

    # 2. QEMU microvm's node for the same device, address and interrupt
    lines = guest(kernel, initrd, ["-M", "microvm", "-device", "virtio-rng-device"], "microvm.console")
    dsdt = next((b for n, b in tables(lines) if n == "DSDT"), None)
    if dsdt is None:
        sys.exit("acpi-check: the microvm guest printed no DSDT")
    open("microvm-dsdt.aml", "wb").write(dsdt)
    _, qdsl = disasm("microvm-dsdt.aml")
    qb, ob = device_block(qdsl, "VR23"), device_block(dsl, "VR23")
    print("acpi-check: QEMU microvm's DSDT node:\n" + (qb or "(none)"))
    result(qb is not None and qb == ob, "our Device (VR23), after iasl -d, equals QEMU microvm's line for line")
    result(dsdt.find(dev) >= 0, f"our Device term ({len(dev)} bytes) occurs verbatim in QEMU's DSDT")
    result(any(re.match(r"ACPI:PHYS LNRO0005:00 .* driver=virtio-mmio$", l) for l in lines),
           "the microvm guest binds virtio-mmio to QEMU's LNRO0005 node (the reference works)")

    # 3. the qvm adapter's table, as qvm builds it from acpi_add_table(), in a Linux guest on -M pc
    p = run([qvm_tool, ent_so, "qvm.aml"])
    print(p.stdout, end="")
    if p.returncode != 0:
        sys.exit(f"acpi-check: acpi_adapter failed: {p.stderr}")
    table = open("qvm.aml", "rb").read()
    core, _ = ours(tool, "pc.aml", PC_DEV)
    diff = [i for i in range(max(len(core), len(table))) if i >= len(core) or i >= len(table) or core[i] != table[i]]
    allowed = set([9] + list(range(10, 16)) + list(range(28, 36)))  # checksum, OEM ID, creator ID and revision
    print(f"acpi-check: adapter's table {len(table)} bytes, our writer's {len(core)}; differing offsets {diff} "
          f"(OEM ID {table[10:16]!r} vs {core[10:16]!r}, creator {table[28:32]!r} vs {core[28:32]!r})")
    result(len(table) == len(core) and set(diff) <= allowed,
           "the adapter's GEN_ACPI table equals our writer's but for checksum, OEM ID and creator fields")
    rt, summary = roundtrip("qvm.aml", "qvm-rt")
    print(f"acpi-check: iasl recompiles the adapter's table: {summary}")
    result(len(rt) == len(table) and rt[36:] == table[36:],
           "iasl round trip of the adapter's table: 0 errors, warnings, remarks; the same body")
    lines = guest(kernel, initrd, ["-M", "pc", "-vga", "none", "-acpitable", "file=qvm.aml"], "pc.console")
    for l in lines:
        if not l.startswith("ACPI:TABLE"):
            print(f"acpi-check: pc guest: {l[5:]}")
    result(any(n.startswith("SSDT") and b == table for n, b in tables(lines)),
           "the pc guest's /sys/firmware/acpi/tables holds the adapter's SSDT unchanged")
    result(any(l.startswith(f"ACPI:DEV LNRO0005:00 path=\\_SB_.V800 uid={PC_DEV[1]} ") for l in lines),
           f"the pc guest enumerates \\_SB.V800 as LNRO0005:00 with _UID {PC_DEV[1]}")
    result("ACPI:IOMEM feb00000-feb001ff : LNRO0005:00" in lines, "/proc/iomem holds our window for LNRO0005:00")
    result(any(re.search(r"virtio-mmio LNRO0005:00: Wrong magic value 0x[0-9a-f]+!", l) for l in lines),
           "the virtio-mmio driver probed LNRO0005:00 at our window (no device behind it on -M pc)")
    if bad:
        sys.exit(f"acpi-check: {bad} failure(s)")
    print("acpi-check: iasl round trip, QEMU microvm's node and the pc guest all agree with our AML")


if __name__ == "__main__":
    main()
