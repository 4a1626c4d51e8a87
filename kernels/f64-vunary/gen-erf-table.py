#!/usr/bin/env python3
"""Prints f64-vmath.h's erf table (vd_erf_tab and the 1/a intervals' mid
and 1 / half-width) and, on stderr, each h piece's error: h(a) = erfc(a)
exp(a^2) on the half binades of a from 0.75 to 4 and on [4, 8), [8, 27.5]
in u = 1/a (as a h(a)), each the Chebyshev interpolant of degree 15 in s =
(v - mid) ih written in powers of s; column 7 is Q, the small form's
Taylor series (kept as it was). Needs mpmath."""
import sys
import mpmath as mp

mp.mp.prec = 120
DEG = 15
PIECES = [(0.75, 1, 0), (1, 1.5, 0), (1.5, 2, 0), (2, 3, 0), (3, 4, 0),
          (4, 8, 1), (8, 27.5, 1)]
Q = ["-0x1.812746b0379e7p-2", "0x1.ce2f21a042be2p-4", "-0x1.b82ce31288b51p-6",
     "0x1.565bcd0e6a53fp-8", "-0x1.c02db40040b86p-11", "0x1.f9a326f9b89b7p-14",
     "-0x1.f4d25c3e0c2ebp-17", "0x1.b9e6c9dc651a3p-20",
     "-0x1.5f742ec43e71ap-23", "0x1.fcc5720624c1cp-27",
     "-0x1.51d7181c5d36dp-30", "0x1.9e6ad5e55a730p-34",
     "-0x1.d8453cb0c46eap-38", "0x1.f683ae4a97007p-42",
     "-0x1.f56f071a885cfp-46", "0x1.d70b3537f4765p-50"]


def h(z):
    return mp.erfc(z) * mp.exp(z * z)


def piece(lo, hi, inv):
    """The double coefficients in s, mid, ih, max relative error, last
    Chebyshev coefficient."""
    vlo, vhi = (1 / mp.mpf(hi), 1 / mp.mpf(lo)) if inv else (mp.mpf(lo),
                                                              mp.mpf(hi))
    mid, ih = float((vlo + vhi) / 2), float(2 / (vhi - vlo))
    hw = 1 / mp.mpf(ih)
    g = (lambda v: h(1 / v) / v) if inv else h
    n = DEG + 1
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    vals = [g(mid + hw * s) for s in nodes]
    c = [2 * mp.fsum(vals[k] * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n)
                     for k in range(n)) / n for j in range(n)]
    c[0] /= 2
    cheb = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]  # T_j in powers of s
    for j in range(2, n):
        a = [mp.mpf(0)] + [2 * x for x in cheb[j - 1]]
        b = cheb[j - 2] + [mp.mpf(0)] * (len(a) - len(cheb[j - 2]))
        cheb.append([x - y for x, y in zip(a, b)])
    mono = [mp.fsum(c[j] * cheb[j][i] for j in range(i, n)
                    if i < len(cheb[j])) for i in range(n)]
    dbl = [float(x) for x in mono]
    worst = 0
    for k in range(3001):
        v = mp.mpf(float(vlo + (vhi - vlo) * k / 3000))
        s = (v - mid) * ih
        p = mp.mpf(0)
        for x in reversed(dbl):
            p = p * s + x
        worst = max(worst, abs(p / g(v) - 1))
    return dbl, mid, ih, worst, abs(c[-1])


def main():
    cols = [piece(*p) for p in PIECES]
    for p, col in zip(PIECES, cols):
        print("piece %s: max rel err %.2g, last Chebyshev term %.2g" %
              (p, col[3], col[4]), file=sys.stderr)
    print("static const double vd_erf_tab[16][8] VD_ALIGN64 = {")
    for j in range(DEG + 1):
        row = [col[0][j].hex() for col in cols] + [Q[j]]
        print("    {" + ", ".join(row) + "},")
    print("};")
    for i in (5, 6):
        print("#define VD_ERFC_MID%d %s" % (i, cols[i][1].hex()))
        print("#define VD_ERFC_IH%d %s" % (i, cols[i][2].hex()))


if __name__ == "__main__":
    main()
