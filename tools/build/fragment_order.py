#!/usr/bin/env python3
"""The build must not depend on the order in which the Makefile reads its fragments.

usage: fragment_order.py BUILD_DIR TARGET...      (run from the top directory)

Reads MK_FRAGMENTS from the Makefile (`make -pq`), then for the listed order,
its reverse and a rotation by half compares, with BUILD_DIR as an empty build
directory:
  1. make's database once every fragment is read: every variable's value and
     every rule (what the fragments append to -- PKGS, ALL_TARGETS, CLEAN_DIRS,
     .PHONY -- compared as sets);
  2. the commands `make -n TARGET` prints, for every TARGET.
Prints what differs from the listed order; exit status 1 if anything does.
"""
import re
import shutil
import subprocess
import sys

SET_VARS = ("PKGS", "ALL_TARGETS", "CLEAN_DIRS")
# Names whose value is the fragment order itself.
ORDER_VARS = ("MAKEFILE_LIST", "MK_FRAGMENTS", "-*-command-variables-*-")


def make(args, build):
    r = subprocess.run(["make", "--no-print-directory", f"B={build}", *args],
                       capture_output=True, text=True)
    # `make check` prints each stage's time.
    return r.returncode, re.sub(r" in \d+ s\b", " in N s", r.stdout + r.stderr)


def database(order, build):
    _, out = make(["-pq", f"MK_FRAGMENTS={' '.join(order)}"], build)
    lines = []
    for line in out.splitlines():
        if line.startswith("#") or line.split(" ", 1)[0] in ORDER_VARS:
            continue
        m = re.match(r"^(\w+) (:?=) ?(.*)$", line)
        if m and m.group(1) in SET_VARS:
            line = f"{m.group(1)} {m.group(2)} {' '.join(sorted(m.group(3).split()))}"
        elif line.startswith(".PHONY:"):
            line = ".PHONY: " + " ".join(sorted(line.split()[1:]))
        lines.append(line)
    return sorted(lines)


def fragments(build):
    _, out = make(["-pq"], build)
    m = re.search(r"^MK_FRAGMENTS :?= (.*)$", out, re.M)
    if not m:
        raise SystemExit("fragment-order: MK_FRAGMENTS not found in make's database")
    return m.group(1).split()


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    build, targets = sys.argv[1], sys.argv[2:]
    shutil.rmtree(build, ignore_errors=True)
    listed = fragments(build)
    half = len(listed) // 2
    orders = {"listed": listed, "reversed": listed[::-1], "rotated": listed[half:] + listed[:half]}
    ref_db = database(listed, build)
    ref_cmds = {t: make(["-n", t, f"MK_FRAGMENTS={' '.join(listed)}"], build) for t in targets}
    bad = 0
    for t, (rc, out) in ref_cmds.items():
        if rc != 0:
            print(f"fragment-order: make -n {t} fails with the listed order:\n{out[-2000:]}")
            bad += 1
    for name, order in orders.items():
        if name == "listed":
            continue
        db = database(order, build)
        if db != ref_db:
            diff = sorted(set(db) ^ set(ref_db))
            print(f"fragment-order: {name} order: make's database differs in {len(diff)} lines, e.g.")
            for line in diff[:10]:
                print("   ", line[:200])
            bad += 1
        for t in targets:
            rc, out = make(["-n", t, f"MK_FRAGMENTS={' '.join(order)}"], build)
            if (rc, out) != ref_cmds[t]:
                print(f"fragment-order: {name} order: make -n {t} differs (status {rc})")
                bad += 1
    shutil.rmtree(build, ignore_errors=True)
    print(f"fragment-order: {len(listed)} fragments in {len(orders)} orders "
          f"({', '.join(orders)}): database and make -n of {len(targets)} targets "
          f"{'identical' if bad == 0 else f'differ ({bad} differences)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
