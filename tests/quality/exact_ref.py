#!/usr/bin/python3
"""Exact tail probabilities in Python integers, the independent reference for quality/exact.c.

stdin lines:  hyper N K n x [num den]      P(X >= x), X hypergeometric (N, K successes, n drawn)
              binom F a b y [num den]      P(Y >= y), Y binomial(F, a/b)
stdout, one line each: the tail as a reduced fraction "num den"; with num den given instead
"- - le", le = 1 when the tail <= num/den, else 0.
"""
import math
import sys
from fractions import Fraction


def hyper(N, K, n, x):
    s = sum(math.comb(K, k) * math.comb(N - K, n - k) for k in range(x, min(K, n) + 1))
    return s, math.comb(N, n)


def binom(F, a, b, y):
    s = sum(math.comb(F, k) * a ** k * (b - a) ** (F - k) for k in range(y, F + 1))
    return s, b ** F


for line in sys.stdin:
    f = line.split()
    if not f:
        continue
    v = [int(t) for t in f[1:]]
    s, d = hyper(*v[:4]) if f[0] == "hyper" else binom(*v[:4])
    if len(v) == 6:  # the decision only: S/D <= num/den in integers
        print("- - %d" % (1 if s * v[5] <= v[4] * d else 0))
    else:
        p = Fraction(s, d)
        print("%d %d" % (p.numerator, p.denominator))
