#!/usr/bin/env python3
"""make fdt-check: the qvm adapters' device-tree nodes against real ones.

1. QEMU 7.2's aarch64 `-M virt` tree (-machine dumpdtb) with the adapters'
   GEN_FDT nodes grafted in (fdt_adapters) is decompiled by dtc; every dtc
   warning is an error (none is accepted). dtc checks
   the interrupt cells against the GIC's #interrupt-cells, the phandles and the
   unit addresses.
2. Our virtio-mmio node at 0xa000000 (intr gic:48) is compared property by
   property, after dtc -I dtb -O dts, with the node QEMU generates for its
   first transport (SPI 16): equal but for the differences EXPLAINED lists.
3. The SP805 node has the shape Linux's arm,sp805 binding requires:
   compatible "arm,sp805","arm,primecell"; one reg entry; interrupts of the
   GIC's cell count; clocks = two phandles of nodes with #clock-cells 0;
   clock-names exactly "wdog_clk","apb_pclk".
usage: check_fdt.py FDT_ADAPTERS ENTROPY.so SP805.so OUTDIR
"""
# REQ: REQ-FDT-010 REQ-FDT-011 REQ-FDT-012
import os
import re
import subprocess
import sys

# Differences from QEMU's node, each with the reason it is right for us.
EXPLAINED = {
    "interrupts": ("<0x00 0x10 0x01>", "<0x00 0x10 0x04>",
                   "QEMU declares its virtio-mmio line edge-rising (1); our adapter drives a level "
                   "(GIS_ON while InterruptStatus is non-zero, GIS_OFF once the driver acks), so it "
                   "declares level-high (4). Linux's virtio_mmio driver reads and acks "
                   "InterruptStatus either way."),
}
def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def nodes(dts):
    """Top-level nodes of a dts: name -> {property: value text}."""
    out = {}
    for m in re.finditer(r"^\t([^\s{]+) \{\n(.*?)^\t\};", dts, re.S | re.M):
        props = {}
        for line in m.group(2).splitlines():
            line = line.strip()
            if not line or line.endswith("{") or line == "};" or line.startswith("\t"):
                continue
            pm = re.match(r"([^\s=;]+)(?: = (.*))?;$", line)
            if pm:
                props[pm.group(1)] = pm.group(2) or ""
        out[m.group(1)] = props
    return out


def main():
    tool, ent_so, sp_so, outdir = sys.argv[1:5]
    os.makedirs(outdir, exist_ok=True)
    qemu_dtb = os.path.join(outdir, "qemu-virt.dtb")
    ours_dtb = os.path.join(outdir, "virt-with-ours.dtb")
    p = run(["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-nographic", "-nodefaults",
             "-machine", f"dumpdtb={qemu_dtb}"])
    if not os.path.exists(qemu_dtb):
        sys.exit(f"fdt-check: qemu dumpdtb failed: {p.stderr}")
    p = run([tool, ent_so, sp_so, qemu_dtb, ours_dtb])
    print(p.stdout, end="")
    if p.returncode != 0:
        sys.exit(f"fdt-check: fdt_adapters failed: {p.stderr}")
    bad = 0
    dts = {}
    for name, path in (("qemu", qemu_dtb), ("ours", ours_dtb)):
        d = run(["dtc", "-I", "dtb", "-O", "dts", path])
        if d.returncode != 0:
            sys.exit(f"fdt-check: dtc failed on {path}: {d.stderr}")
        dts[name] = d.stdout
        with open(path[:-4] + ".dts", "w") as f:
            f.write(d.stdout)
        for w in d.stderr.splitlines():
            print(f"fdt-check: FAIL dtc ({name}): {w}")
            bad += 1
        print(f"fdt-check: dtc -I dtb -O dts ({name}): {len(d.stderr.splitlines())} warnings")
    q, o = nodes(dts["qemu"]), nodes(dts["ours"])
    key = "virtio_mmio@a000000"
    qn, on = q.get(key), o.get(key)
    if qn is None or on is None:
        sys.exit(f"fdt-check: {key} missing (qemu {qn is not None}, ours {on is not None})")
    for prop in sorted(set(qn) | set(on)):
        a, b = qn.get(prop), on.get(prop)
        if a == b:
            print(f"fdt-check: {key}: {prop} = {a or '(empty)'}: equal to QEMU's")
        elif prop in EXPLAINED and (a, b) == EXPLAINED[prop][:2]:
            print(f"fdt-check: {key}: {prop}: QEMU {a}, ours {b}: explained: {EXPLAINED[prop][2]}")
        else:
            print(f"fdt-check: FAIL {key}: {prop}: QEMU {a}, ours {b}")
            bad += 1
    # The GIC's cell count, from QEMU's interrupt controller node.
    gic = next(n for n, p in q.items() if n.startswith("intc@"))
    cells = int(q[gic]["#interrupt-cells"].strip("<>"), 16)
    wd = o.get("watchdog@1c0f0000")
    if wd is None:
        sys.exit("fdt-check: watchdog@1c0f0000 missing")
    phandles = {int(p["phandle"].strip("<>"), 16): (n, p) for n, p in o.items() if "phandle" in p}
    clk = wd.get("clocks", "<>").strip("<>").split()
    checks = [
        ("compatible", wd.get("compatible") == '"arm,sp805\\0arm,primecell"'),
        ("reg (one address/size pair of the root's 2+2 cells)", len(wd.get("reg", "<>").strip("<>").split()) == 4),
        (f"interrupts ({cells} cells, the GIC's #interrupt-cells)",
         len(wd.get("interrupts", "<>").strip("<>").split()) == cells),
        ("clocks (two phandles)", len(clk) == 2),
        ("clock-names", wd.get("clock-names") == '"wdog_clk\\0apb_pclk"'),
    ]
    for c in clk:
        n = phandles.get(int(c, 16))
        checks.append((f"clock {c} resolves to a node with #clock-cells 0",
                       n is not None and n[1].get("#clock-cells") == "<0x00>"))
    for what, ok in checks:
        print(f"fdt-check: watchdog@1c0f0000 (arm,sp805 binding): {what}: {'ok' if ok else 'FAIL'}")
        bad += 0 if ok else 1
    if bad:
        sys.exit(f"fdt-check: {bad} failure(s)")
    print("fdt-check: adapters' nodes decompile in QEMU's virt tree; virtio-mmio node equal to QEMU's but for "
          f"{len(EXPLAINED)} explained difference; sp805 node has the binding's shape")


if __name__ == "__main__":
    main()
