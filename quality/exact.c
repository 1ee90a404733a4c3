/*
 * exact.c — exact tail comparisons in integers (GMP) and display-only
 * approximations (see exact.h for the tests and why).
 */
#include "quality/exact.h"

#include <gmp.h>
#include <math.h>

/* T(k+1) = T(k) * A(k) / B(k) */
typedef void ratio_fn(const void *ctx, uint64_t k, mpz_t a, mpz_t b);

struct hyper {
	uint64_t N, K, n;
};

static void hyper_ratio(const void *ctx, uint64_t k, mpz_t a, mpz_t b)
{
	const struct hyper *h = ctx;
	mpz_set_ui(a, h->K - k);
	mpz_mul_ui(a, a, h->n - k);
	mpz_set_ui(b, k + 1);
	mpz_mul_ui(b, b, h->N - h->K - h->n + k + 1);
}

struct binom {
	uint64_t F, a, b;
};

static void binom_ratio(const void *ctx, uint64_t k, mpz_t a, mpz_t b)
{
	const struct binom *p = ctx;
	mpz_set_ui(a, p->F - k);
	mpz_mul_ui(a, a, p->a);
	mpz_set_ui(b, k + 1);
	mpz_mul_ui(b, b, p->b - p->a);
}

/*
 * Is S/D <= num/den, S = sum of T(k) for k = x .. kmax, T(x) = t0?
 * Decided exactly; stops as soon as the answer is certain (exact.h).
 */
static int tail_le(const mpz_t t0, const mpz_t d, uint64_t x, uint64_t kmax, ratio_fn *ratio,
		   const void *ctx, uint64_t num, uint64_t den)
{
	mpz_t t, s, bound, lhs, rhs, a, b, a2, b2, w;
	mpz_inits(t, s, bound, lhs, rhs, a, b, a2, b2, w, NULL);
	mpz_set(t, t0);
	mpz_mul_ui(bound, d, num); /* the sum may not exceed D·num/den: compare S·den with D·num */
	int result = -1;
	for (uint64_t k = x, iter = 1;; k++, iter++) {
		mpz_add(s, s, t);
		mpz_mul_ui(lhs, s, den);
		if (mpz_cmp(lhs, bound) > 0) {
			result = 0;
			break;
		}
		if (k == kmax)
			break;
		ratio(ctx, k, a, b);
		if (mpz_sgn(a) == 0)
			break; /* every later term is zero */
		mpz_mul(t, t, a);
		mpz_divexact(t, t, b);
		/* geometric bound of the rest, checked at 1, 2, 4, 8 ... and every 64th term:
		 * the ratios decrease, so T(k+1)·(1 + r + r² + ...) with r = A(k+1)/B(k+1) < 1
		 * bounds the terms from k+1 on; certain when (S + T·B/(B-A))·den <= D·num */
		if (k + 1 < kmax && ((iter & (iter - 1)) == 0 || iter % 64 == 0)) {
			ratio(ctx, k + 1, a2, b2);
			if (mpz_cmp(a2, b2) < 0) {
				mpz_sub(w, b2, a2);     /* B - A > 0 */
				mpz_mul(lhs, s, w);     /* S·(B-A) */
				mpz_addmul(lhs, t, b2); /* + T·B */
				mpz_mul_ui(lhs, lhs, den);
				mpz_mul(rhs, bound, w);
				if (mpz_cmp(lhs, rhs) <= 0) {
					result = 1;
					break;
				}
			}
		}
	}
	if (result < 0) { /* the whole sum was added */
		mpz_mul_ui(lhs, s, den);
		result = mpz_cmp(lhs, bound) <= 0;
	}
	mpz_clears(t, s, bound, lhs, rhs, a, b, a2, b2, w, NULL);
	return result;
}

int qx_hyper_tail_le(uint64_t N, uint64_t K, uint64_t n, uint64_t x, uint64_t num, uint64_t den)
{
	if (den == 0 || K > N || n > N || x > n || x > K || n - x > N - K)
		return -1;
	uint64_t kmax = K < n ? K : n;
	mpz_t t0, d, tmp;
	mpz_inits(t0, d, tmp, NULL);
	mpz_bin_uiui(t0, K, x);
	mpz_bin_uiui(tmp, N - K, n - x);
	mpz_mul(t0, t0, tmp);
	mpz_bin_uiui(d, N, n);
	struct hyper h = { N, K, n };
	int r = tail_le(t0, d, x, kmax, hyper_ratio, &h, num, den);
	mpz_clears(t0, d, tmp, NULL);
	return r;
}

int qx_binom_tail_le(uint64_t F, uint64_t a, uint64_t b, uint64_t y, uint64_t num, uint64_t den)
{
	if (den == 0 || b == 0 || a > b || y > F)
		return -1;
	if (a == b || y == 0) /* P(Y >= y) = 1 */
		return num >= den;
	mpz_t t0, d, tmp;
	mpz_inits(t0, d, tmp, NULL);
	/* T(y) = C(F,y)·a^y·(b-a)^(F-y), D = b^F */
	mpz_bin_uiui(t0, F, y);
	mpz_ui_pow_ui(tmp, a, y);
	mpz_mul(t0, t0, tmp);
	mpz_ui_pow_ui(tmp, b - a, F - y);
	mpz_mul(t0, t0, tmp);
	mpz_ui_pow_ui(d, b, F);
	struct binom p = { F, a, b };
	int r = tail_le(t0, d, y, F, binom_ratio, &p, num, den);
	mpz_clears(t0, d, tmp, NULL);
	return r;
}

/* ---- display-only approximations ---- */

static double lnc(double n, double k)
{
	return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/* log(e^x + e^y) */
static double lse(double x, double y)
{
	if (x < y) {
		double t = x;
		x = y;
		y = t;
	}
	return y == -INFINITY ? x : x + log1p(exp(y - x));
}

/* Sum of terms from log T(x) with log-ratios lr(k); stops when negligible past the mode. */
static double tail_approx(double lt, uint64_t x, uint64_t kmax,
			  double (*lr)(const void *, uint64_t), const void *ctx)
{
	double ls = -INFINITY;
	for (uint64_t k = x;; k++) {
		ls = lse(ls, lt);
		if (k == kmax)
			break;
		double r = lr(ctx, k);
		if (r == -INFINITY)
			break;
		lt += r;
		if (r < 0 && lt < ls - 45)
			break;
	}
	double p = exp(ls);
	return p > 1 ? 1 : p;
}

static double hyper_lr(const void *ctx, uint64_t k)
{
	const struct hyper *h = ctx;
	if (h->K == k || h->n == k)
		return -INFINITY;
	return log((double)(h->K - k)) + log((double)(h->n - k)) - log((double)(k + 1)) -
	       log((double)(h->N - h->K - h->n + k + 1));
}

static double binom_lr(const void *ctx, uint64_t k)
{
	const struct binom *p = ctx;
	if (p->F == k)
		return -INFINITY;
	return log((double)(p->F - k)) + log((double)p->a) - log((double)(k + 1)) -
	       log((double)(p->b - p->a));
}

double qx_hyper_tail(uint64_t N, uint64_t K, uint64_t n, uint64_t x)
{
	if (K > N || n > N || x > n || x > K || n - x > N - K)
		return NAN;
	if (x == 0)
		return 1;
	double lt = lnc((double)K, (double)x) + lnc((double)(N - K), (double)(n - x)) -
		    lnc((double)N, (double)n);
	struct hyper h = { N, K, n };
	return tail_approx(lt, x, K < n ? K : n, hyper_lr, &h);
}

double qx_binom_tail(uint64_t F, uint64_t a, uint64_t b, uint64_t y)
{
	if (b == 0 || a > b || y > F)
		return NAN;
	if (y == 0 || a == b)
		return 1;
	if (a == 0)
		return 0;
	double pi = (double)a / (double)b;
	double lt = lnc((double)F, (double)y) + (double)y * log(pi) + (double)(F - y) * log1p(-pi);
	struct binom p = { F, a, b };
	return tail_approx(lt, y, F, binom_lr, &p);
}
