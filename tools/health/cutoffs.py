#!/usr/bin/env python3
"""Cut-off values of the NIST SP 800-90B section 4.4 continuous health tests.

usage: cutoffs.py [--check]

For 8-bit samples with a stated min-entropy of H bits per sample (H = 1..8)
and a false-positive probability alpha = 2^-40 per test:
  repetition count test:      C = 1 + ceil(-log2(alpha) / H)          (4.4.1)
  adaptive proportion test:   W = 512 (non-binary samples),
                              C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)   (4.4.2)
CRITBINOM(n, p, q) is the smallest k with P(X <= k) >= q for X ~ B(n, p),
computed here exactly with rational arithmetic. The table printed is the one
in src/core/health.c; --check also recomputes NIST's own table 2 (alpha =
2^-20, W = 512: H = 1, 2, 4, 8 -> 311, 177, 62, 13) to show the formula is
read the way the standard means it, and exits 1 on any difference."""
import math
import sys
from fractions import Fraction

W = 512
LOG2_INV_ALPHA = 40


def critbinom(n, p, q):
    cum = Fraction(0)
    for k in range(n + 1):
        cum += math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if cum >= q:
            return k
    return n


def rct_cutoff(h, log2_inv_alpha=LOG2_INV_ALPHA):
    return 1 + -(-log2_inv_alpha // h)


def apt_cutoff(h, log2_inv_alpha=LOG2_INV_ALPHA):
    return 1 + critbinom(W, Fraction(1, 2**h), 1 - Fraction(1, 2**log2_inv_alpha))


def main(argv):
    rows = [(h, rct_cutoff(h), apt_cutoff(h)) for h in range(1, 9)]
    print("H  RCT  APT   (alpha = 2^-40, W = 512)")
    for h, r, a in rows:
        print(f"{h}  {r:3d}  {a:3d}")
    if "--check" in argv:
        nist = {1: 311, 2: 177, 4: 62, 8: 13}
        got = {h: apt_cutoff(h, 20) for h in nist}
        print(f"NIST table 2 (alpha = 2^-20): expected {nist}, computed {got}")
        return 0 if got == nist else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
