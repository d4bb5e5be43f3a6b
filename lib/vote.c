/* vote.c — answer classes and voting estimators (see vote.h).
 *
 * Counts of subsets are long doubles: C(n,k) stays below 1e620 for
 * n <= VOTE_NMAX, and every count is a sum of products of positive terms,
 * so the relative error of an expectation is a few units of 2^-64 times
 * the number of terms: far inside the 1e-12 the tests ask for. */
#include "vote.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tts.h"

const char *const vote_method_name[VOTE_NMETHODS] = {
	"majority", "weighted", "best", "pass", "first",
};

/* Pascal's triangle, rows 0..binom_n, row m at binom_tab[m*(m+1)/2]. */
static long double *binom_tab;
static int binom_n = -1;

static void
binom_grow(int n)
{
	if (n <= binom_n)
		return;
	if (n > VOTE_NMAX)
		eprintf("%d samples in one problem: at most %d are supported", n, VOTE_NMAX);
	binom_tab = erealloc(binom_tab, (size_t)(n + 1) * (n + 2) / 2 * sizeof *binom_tab);
	for (int m = binom_n + 1; m <= n; m++) {
		long double *row = binom_tab + (size_t)m * (m + 1) / 2;
		long double *up = binom_tab + (size_t)(m - 1) * m / 2;
		row[0] = row[m] = 1;
		for (int k = 1; k < m; k++)
			row[k] = up[k - 1] + up[k];
	}
	binom_n = n;
}

long double
vote_binom(int n, int k)
{
	if (k < 0 || n < 0 || k > n)
		return 0;
	binom_grow(n);
	return binom_tab[(size_t)n * (n + 1) / 2 + k];
}

int
vote_classes(const char *const *pred, int n, int (*eq)(const char *, const char *),
	     int *cls, int *rep, int *size)
{
	/* Distinct strings seen so far, with their class: a string equal to
	 * an earlier one joins the same class (eq is deterministic and the
	 * classes it could have joined instead were all there already). */
	uint64_t *hash = emalloc((size_t)n * sizeof *hash);
	int *first = emalloc((size_t)n * sizeof *first);
	int ndistinct = 0, nclass = 0;
	for (int i = 0; i < n; i++) {
		cls[i] = -1;
		if (!pred[i])
			continue;
		uint64_t h = stats_hash(pred[i], strlen(pred[i]), STATS_HASH_INIT);
		int c = -1;
		for (int d = 0; d < ndistinct && c < 0; d++)
			if (hash[d] == h && strcmp(pred[first[d]], pred[i]) == 0)
				c = cls[first[d]];
		if (c < 0) {
			for (int j = 0; j < nclass && c < 0; j++)
				if (eq(pred[rep[j]], pred[i]))
					c = j;
			if (c < 0) {
				c = nclass++;
				rep[c] = i;
				size[c] = 0;
			}
			hash[ndistinct] = h;
			first[ndistinct++] = i;
		}
		cls[i] = c;
		size[c]++;
	}
	free(hash);
	free(first);
	return nclass;
}

int
vote_ncorrect(const struct vote_problem *p)
{
	int c = 0;
	for (int j = 0; j < p->nclass; j++)
		if (p->good[j])
			c += p->size[j];
	return c;
}

/* Majority, exactly.  The subset holds X_i members of class i; class j
 * wins with X_j = x >= 1 when every other class has X_i <= x, sharing the
 * win with the t classes that have X_i = x, so
 *
 *   P(j wins) = sum_x C(c_j,x) / C(n,k) * sum_t N(k-x, t) / (t+1)
 *
 * where N(r, t) counts the ways to draw r of the remaining samples with
 * exactly t other classes at x and none above.  Its generating function
 * in y (samples drawn) and s (ties) is a product over the other classes:
 *
 *   classes with c_i >= x:   sum_{a<x} C(c_i,a) y^a + s C(c_i,x) y^x
 *   the rest and the nulls:  (1+y)^S, S their total size
 *
 * The first product is a DP over (t, d), d the y-degree; the binomial is
 * applied last, for every k at once.  A term with t ties has
 * t x <= d <= t x + (b-t)(x-1) after b classes, which keeps the table to
 * the states that can occur. */
struct tiedp {
	long double *a;     /* rows t = 0..tmax, row t holds d in [t x, hi(t, tmax)] */
	size_t *off;
	int tmax, x, dcap;
	size_t cap;
};

/* The highest d row t can reach after b classes. */
static int
tdp_hi(const struct tiedp *q, int t, int b)
{
	int hi = t * q->x + (b - t) * (q->x - 1);
	return hi < q->dcap ? hi : q->dcap;
}

/* Set up for x with B classes at or above x. */
static void
tdp_init(struct tiedp *q, int x, int B, int dcap)
{
	q->x = x;
	q->dcap = dcap;
	q->tmax = B;
	q->off = erealloc(q->off, (size_t)(B + 1) * sizeof *q->off);
	size_t total = 0;
	for (int t = 0; t <= B; t++) {
		q->off[t] = total;
		int lo = t * x, hi = tdp_hi(q, t, B);
		if (hi >= lo)
			total += (size_t)(hi - lo + 1);
	}
	if (total > q->cap) {
		q->a = erealloc(q->a, total * sizeof *q->a);
		q->cap = total;
	}
	memset(q->a, 0, total * sizeof *q->a);
	q->a[0] = 1;        /* t = 0, d = 0; dcap >= 0 so the row exists */
}

/* Multiply in a class of size c (>= x) as the b-th class, in place:
 * t and d run downwards so every read sees the product of b-1 classes,
 * where row t holds d in [t x, hi(t, b-1)]. */
static void
tdp_mul(struct tiedp *q, int c, int b)
{
	int x = q->x;
	long double cb[x + 1];
	for (int a = 0; a <= x; a++)
		cb[a] = vote_binom(c, a);
	for (int t = (b < q->tmax ? b : q->tmax); t >= 0; t--) {
		int lo = t * x, hi = tdp_hi(q, t, b), prevhi = tdp_hi(q, t, b - 1);
		long double *row = q->a + q->off[t];            /* row[d - lo] */
		long double *up = t ? q->a + q->off[t - 1] : NULL; /* up[d - (lo - x)] */
		int uphi = t ? tdp_hi(q, t - 1, b - 1) : -1;
		for (int d = hi; d >= lo; d--) {
			long double v = 0;
			int amin = d - prevhi > 0 ? d - prevhi : 0;
			int amax = d - lo < x - 1 ? d - lo : x - 1;
			for (int a = amin; a <= amax; a++)
				v += cb[a] * row[d - a - lo];
			if (t && d - x <= uphi)
				v += cb[x] * up[d - lo];
			row[d - lo] = v;
		}
	}
}

void
vote_majority(const struct vote_problem *p, const int *ks, int nk, double *out)
{
	int n = p->n;
	binom_grow(n);
	long double *acc = ecalloc((size_t)nk, sizeof *acc);
	long double *W = emalloc((size_t)(n + 1) * sizeof *W);
	int *big = emalloc((size_t)(p->nclass + 1) * sizeof *big);
	struct tiedp q = {0};
	int nnull = n;
	for (int i = 0; i < p->nclass; i++)
		nnull -= p->size[i];

	for (int j = 0; j < p->nclass; j++) {
		if (!p->good[j])
			continue;
		for (int x = 1; x <= p->size[j]; x++) {
			int B = 0, S = nnull;
			for (int i = 0; i < p->nclass; i++) {
				if (i == j)
					continue;
				if (p->size[i] >= x)
					big[B++] = p->size[i];
				else
					S += p->size[i];
			}
			int dcap = n - x;
			tdp_init(&q, x, B, dcap);
			for (int b = 0; b < B; b++)
				tdp_mul(&q, big[b], b + 1);
			/* W[d] = sum_t N(d, t) / (t+1): the tie split.  The
			 * B classes reach degree B x at most. */
			int dreach = B * x < dcap ? B * x : dcap;
			for (int d = 0; d <= dreach; d++)
				W[d] = 0;
			for (int t = 0; t <= B; t++) {
				const long double *row = q.a + q.off[t];
				for (int d = t * x, hi = tdp_hi(&q, t, B); d <= hi; d++)
					W[d] += row[d - t * x] / (t + 1);
			}
			long double cjx = vote_binom(p->size[j], x);
			const long double *cs = binom_tab + (size_t)S * (S + 1) / 2;
			for (int m = 0; m < nk; m++) {
				int r = ks[m] - x;
				long double s = 0;
				for (int d = r > S ? r - S : 0; d <= r && d <= dreach; d++)
					s += W[d] * cs[r - d];
				acc[m] += cjx * s;
			}
		}
	}
	for (int m = 0; m < nk; m++)
		out[m] = (double)(acc[m] / vote_binom(n, ks[m]));
	free(q.a);
	free(q.off);
	free(acc);
	free(W);
	free(big);
}

/* pass@k = 1 - C(n-c,k)/C(n,k), the ratio as a product (Chen et al. 2021,
 * "Evaluating large language models trained on code", eq. 1 and fig. 3). */
double
vote_pass(int n, int c, int k)
{
	if (n - c < k)
		return 1;
	long double miss = 1;
	for (int i = 0; i < k; i++)
		miss *= (long double)(n - c - i) / (long double)(n - i);
	return (double)(1 - miss);
}

struct ranked {
	double reward;
	int good;
};

static int
by_reward_desc(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->reward, y = ((const struct ranked *)b)->reward;
	return (x < y) - (x > y);
}

/* Best-of-N, exactly.  Rank the non-null samples by reward; a level of g
 * samples with equal reward, G samples above it, wins when the subset
 * holds none of the G and f >= 1 of the g:
 *   P(level) = sum_{f=1}^{g} C(g,f) C(n-G-g, k-f) / C(n,k)
 * and then, by symmetry, each of its g members is the (tie-split) pick
 * with the same probability, so the level adds P(level) * correct/g. */
void
vote_best(const struct vote_problem *p, const int *ks, int nk, double *out)
{
	int n = p->n, m = 0;
	binom_grow(n);
	struct ranked *r = emalloc((size_t)n * sizeof *r);
	for (int i = 0; i < n; i++)
		if (p->cls[i] >= 0)
			r[m++] = (struct ranked){p->reward[i], p->good[p->cls[i]]};
	qsort(r, (size_t)m, sizeof *r, by_reward_desc);
	for (int q = 0; q < nk; q++)
		out[q] = 0;
	for (int G = 0, g; G < m; G += g) {
		int good = 0;
		for (g = 0; G + g < m && r[G + g].reward == r[G].reward; g++)
			good += r[G + g].good;
		if (!good)
			continue;
		int rest = n - G - g;
		for (int q = 0; q < nk; q++) {
			long double s = 0;
			for (int f = 1; f <= g && f <= ks[q]; f++)
				s += vote_binom(g, f) * vote_binom(rest, ks[q] - f);
			out[q] += (double)(s / vote_binom(n, ks[q]) * good / g);
		}
	}
	free(r);
}

/* Weighted (or, w NULL, majority) vote on the subset idx[0..k): the
 * share of correct classes among those tied at the top. */
static double
subset_vote(const struct vote_problem *p, const double *w, const int *idx, int k,
	    double *sum, int *touched)
{
	int nt = 0;
	for (int i = 0; i < k; i++) {
		int c = p->cls[idx[i]];
		if (c < 0)
			continue;
		if (isnan(sum[c])) {
			sum[c] = 0;
			touched[nt++] = c;
		}
		sum[c] += w ? w[idx[i]] : 1;
	}
	if (!nt)
		return 0;
	double top = sum[touched[0]];
	for (int i = 1; i < nt; i++)
		if (sum[touched[i]] > top)
			top = sum[touched[i]];
	double tol = 1e-9 * fabs(top);
	int tied = 0, good = 0;
	for (int i = 0; i < nt; i++) {
		int c = touched[i];
		if (sum[c] >= top - tol) {
			tied++;
			good += p->good[c];
		}
		sum[c] = NAN;
	}
	return (double)good / tied;
}

static double *
nan_sums(int nclass)
{
	double *sum = emalloc((size_t)(nclass + 1) * sizeof *sum);
	for (int c = 0; c < nclass; c++)
		sum[c] = NAN;
	return sum;
}

void
vote_mc(const struct vote_problem *p, const double *w, int k, int draws,
	uint64_t seed, double *mean, double *se)
{
	int n = p->n;
	int *perm = emalloc((size_t)n * sizeof *perm);
	int *touched = emalloc((size_t)(p->nclass + 1) * sizeof *touched);
	double *sum = nan_sums(p->nclass);
	for (int i = 0; i < n; i++)
		perm[i] = i;
	rng_t r;
	rng_seed(&r, seed);
	double m = 0, ss = 0;
	for (int d = 0; d < draws; d++) {
		/* Partial Fisher-Yates: perm[0..k) is a uniform k-subset
		 * whatever order perm was left in. */
		for (int i = 0; i < k; i++) {
			int j = i + (int)rng_below(&r, (uint64_t)(n - i));
			int t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
		double v = subset_vote(p, w, perm, k, sum, touched);
		double delta = v - m;
		m += delta / (d + 1);
		ss += delta * (v - m);
	}
	*mean = m;
	*se = draws > 1 ? sqrt(ss / (draws - 1) / draws) : 0;
	free(perm);
	free(touched);
	free(sum);
}

/* Best-of-k on the first k samples, reward ties split. */
static double
prefix_best(const struct vote_problem *p, int k)
{
	int tied = 0, good = 0;
	double top = -INFINITY;
	for (int i = 0; i < k; i++) {
		int c = p->cls[i];
		if (c < 0)
			continue;
		if (!tied || p->reward[i] > top) {
			top = p->reward[i];
			tied = good = 0;
		}
		if (p->reward[i] == top) {
			tied++;
			good += p->good[c];
		}
	}
	return tied ? (double)good / tied : 0;
}

double
vote_prefix(const struct vote_problem *p, enum vote_method m, int k)
{
	switch (m) {
	case VOTE_MAJORITY:
	case VOTE_WEIGHTED: {
		int *idx = emalloc((size_t)k * sizeof *idx);
		int *touched = emalloc((size_t)(p->nclass + 1) * sizeof *touched);
		double *sum = nan_sums(p->nclass);
		for (int i = 0; i < k; i++)
			idx[i] = i;
		double v = subset_vote(p, m == VOTE_WEIGHTED ? p->reward : NULL, idx, k, sum, touched);
		free(idx);
		free(touched);
		free(sum);
		return v;
	}
	case VOTE_BEST:
		return prefix_best(p, k);
	case VOTE_PASS:
		for (int i = 0; i < k; i++)
			if (p->cls[i] >= 0 && p->good[p->cls[i]])
				return 1;
		return 0;
	case VOTE_FIRST:
		return p->n > 0 && p->cls[0] >= 0 && p->good[p->cls[0]];
	default:
		return 0;
	}
}

int
vote_winner(const struct vote_problem *p, enum vote_method m)
{
	int best = -1;
	double top = -INFINITY;
	switch (m) {
	case VOTE_MAJORITY:
	case VOTE_WEIGHTED: {
		double *sum = ecalloc((size_t)p->nclass + 1, sizeof *sum);
		for (int i = 0; i < p->n; i++)
			if (p->cls[i] >= 0)
				sum[p->cls[i]] += m == VOTE_WEIGHTED ? p->reward[i] : 1;
		for (int c = 0; c < p->nclass; c++)
			if (best < 0 || sum[c] > top) {
				best = c;
				top = sum[c];
			}
		free(sum);
		return best;
	}
	case VOTE_BEST:
		for (int i = 0; i < p->n; i++)
			if (p->cls[i] >= 0 && (best < 0 || p->reward[i] > top)) {
				best = p->cls[i];
				top = p->reward[i];
			}
		return best;
	case VOTE_FIRST:
		return p->n > 0 ? p->cls[0] : -1;
	default:
		return -1;
	}
}
