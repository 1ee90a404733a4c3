/*
 * exact.h — exact one-sided tail tests for the early warning, so that no
 * flag can flip on a rounding error (issue 14: "no binary floating point in
 * a decision").
 *
 *   qx_hyper_tail_le   P(X >= x) <= num/den for X hypergeometric: x
 *                      nonconforming among n units drawn from N of which K
 *                      are nonconforming. Fisher's exact test, one-sided:
 *                      a unit (lot, model, maker) against its peers in the
 *                      2 x 2 table unit/peers x fail/pass, conditional on
 *                      the margins.
 *   qx_binom_tail_le   P(Y >= y) <= num/den for Y binomial(F, a/b): the
 *                      conditional test of two Poisson rates (Przyborowski
 *                      and Wilenski 1940): given F faults in all, a unit
 *                      with a of the b exposure days gets each fault with
 *                      probability a/b when its rate equals its peers'.
 *
 * Both are decided in integers (GMP): the tail is S/D with S a sum of
 * integer terms T(k+1) = T(k)·A(k)/B(k) (exact divisions) and D the whole
 * sum, and S·den <= num·D is compared exactly. The sum stops early only
 * when the answer is already certain: S alone exceeds the bound, or S plus
 * a geometric bound of the rest (the term ratios decrease in k, so once the
 * ratio r < 1 the rest is at most T/(1-r)) stays within it.
 *
 * qx_*_tail() give the tail as a double for display only (log-gamma
 * arithmetic), never for a decision. Thread-safe; no I/O.
 */
#ifndef ML_QUALITY_EXACT_H
#define ML_QUALITY_EXACT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when P(X >= x) <= num/den, 0 when not; -1 for impossible arguments
 * (K > N, n > N, x > n, x > K, n - x > N - K, den 0). */
int qx_hyper_tail_le(uint64_t N, uint64_t K, uint64_t n, uint64_t x, uint64_t num, uint64_t den);

/* 1 when P(Y >= y) <= num/den for Y ~ Bin(F, a/b), 0 when not; -1 for impossible
 * arguments (a > b, b 0, y > F, den 0). */
int qx_binom_tail_le(uint64_t F, uint64_t a, uint64_t b, uint64_t y, uint64_t num, uint64_t den);

/* The same tails as doubles, for display. */
double qx_hyper_tail(uint64_t N, uint64_t K, uint64_t n, uint64_t x);
double qx_binom_tail(uint64_t F, uint64_t a, uint64_t b, uint64_t y);

#ifdef __cplusplus
}
#endif
#endif
