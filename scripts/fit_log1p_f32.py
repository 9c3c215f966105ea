#!/usr/bin/env python3
"""Coefficients of the f32 fast path's log1p on [0, 1] (src/fast/math.rs, `log1p_unit_with`).

log1p(x) = x + x^2 Q(x), Q a polynomial of degree 8 fitted by Remez's exchange so that the
relative error of x + x^2 Q(x) (weight x^2 / log1p(x) on Q's error) is equioscillating. The
coefficients are rounded to f32 one at a time, lowest degree first, each time refitting the
higher ones with the rounded ones fixed, so rounding costs little. Prints the f32 coefficients
(as bit patterns and decimals) and the relative error of the rounded polynomial, evaluated
exactly, on a fine grid.

    pip install mpmath && python3 scripts/fit_log1p_f32.py
"""
import struct

import mpmath as mp

mp.mp.prec = 256
DEGREE = 8
GRID = [mp.mpf(i) / 20000 for i in range(1, 20001)]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def q_true(x):
    return (mp.log1p(x) - x) / x**2


def weight(x):
    return x**2 / mp.log1p(x)


def rel_err(c, x):
    return (x + x**2 * mp.polyval(c[::-1], x) - mp.log1p(x)) / mp.log1p(x)


def remez(fixed):
    """Minimax fit of the coefficients after the `fixed` ones; returns all of them."""
    free = DEGREE + 1 - len(fixed)
    n = free + 1
    xs = [(1 - mp.cos(mp.pi * (k + 0.5) / n)) / 2 for k in range(n)]
    c = None
    for _ in range(30):
        rows, rhs = [], []
        for i, x in enumerate(xs):
            base = len(fixed)
            rows.append([x ** (base + j) for j in range(free)] + [(-1) ** i / weight(x)])
            rhs.append(q_true(x) - sum(fixed[j] * x**j for j in range(len(fixed))))
        s = mp.lu_solve(mp.matrix(rows), mp.matrix(rhs))
        c = list(fixed) + [s[j] for j in range(free)]
        err = [rel_err(c, x) for x in GRID]
        # One extremum per run of equal sign.
        ext, best = [], None
        for i, e in enumerate(err):
            if best is not None and mp.sign(e) != mp.sign(err[best]):
                ext.append(best)
                best = None
            if best is None or abs(e) > abs(err[best]):
                best = i
        ext.append(best)
        if len(ext) < n:
            break
        # Keep the n largest-in-magnitude alternating extrema (drop from the smaller end).
        while len(ext) > n:
            ext.pop(0 if abs(err[ext[0]]) < abs(err[ext[-1]]) else -1)
        new = [GRID[i] for i in ext]
        if new == xs:
            break
        xs = new
    return c


fixed = []
for k in range(DEGREE + 1):
    c = remez(fixed)
    fixed.append(mp.mpf(f32(c[k])))
worst = max(abs(rel_err(fixed, x)) for x in GRID)
print("relative error of x + x^2 Q(x), f32 coefficients: %s (2^%.2f)"
      % (mp.nstr(worst, 5), float(mp.log(worst, 2))))
for k, v in enumerate(fixed):
    bits = struct.unpack("<I", struct.pack("<f", float(v)))[0]
    print("Q%d = f32::from_bits(0x%08x) = %r" % (k, bits, f32(v)))
