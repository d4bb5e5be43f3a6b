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

/* Class sums of the samples drawn so far: a weighted vote (w[i] = 1 for
 * majority).  Branch-free on the hot path: touched[] collects a class the
 * first time its count leaves 0. */
struct tally {
	double *sum;
	int *cnt, *touched, nt;
	const double *w;
	double *ones;
};

static void
tally_init(struct tally *t, const struct vote_problem *p, const double *w)
{
	t->sum = ecalloc((size_t)p->nclass + 1, sizeof *t->sum);
	t->cnt = ecalloc((size_t)p->nclass + 1, sizeof *t->cnt);
	t->touched = emalloc((size_t)(p->nclass + 1) * sizeof *t->touched);
	t->nt = 0;
	t->ones = NULL;
	if (!w) {
		t->ones = emalloc((size_t)(p->n + 1) * sizeof *t->ones);
		for (int i = 0; i < p->n; i++)
			t->ones[i] = 1;
		w = t->ones;
	}
	t->w = w;
}

static void
tally_free(struct tally *t)
{
	free(t->sum);
	free(t->cnt);
	free(t->touched);
	free(t->ones);
}

static inline void
tally_add(struct tally *t, const struct vote_problem *p, int i)
{
	int c = p->cls[i];
	if (c < 0)
		return;
	t->touched[t->nt] = c;
	t->nt += t->cnt[c]++ == 0;
	t->sum[c] += t->w[i];
}

/* The share of correct classes among those tied at the top. */
static double
tally_value(const struct tally *t, const struct vote_problem *p)
{
	if (!t->nt)
		return 0;
	double top = t->sum[t->touched[0]];
	for (int i = 1; i < t->nt; i++)
		if (t->sum[t->touched[i]] > top)
			top = t->sum[t->touched[i]];
	double floor = top - 1e-9 * fabs(top);
	int tied = 0, good = 0;
	for (int i = 0; i < t->nt; i++)
		if (t->sum[t->touched[i]] >= floor) {
			tied++;
			good += p->good[t->touched[i]];
		}
	return (double)good / tied;
}

static void
tally_clear(struct tally *t)
{
	for (int i = 0; i < t->nt; i++) {
		t->sum[t->touched[i]] = 0;
		t->cnt[t->touched[i]] = 0;
	}
	t->nt = 0;
}

/* Every k-subset in lexicographic order: the exact mean. */
static double
enumerate_all(const struct vote_problem *p, int k, struct tally *t)
{
	int *idx = emalloc((size_t)k * sizeof *idx);
	for (int i = 0; i < k; i++)
		idx[i] = i;
	long double total = 0;
	long count = 0;
	for (;;) {
		for (int i = 0; i < k; i++)
			tally_add(t, p, idx[i]);
		total += tally_value(t, p);
		tally_clear(t);
		count++;
		int i = k - 1;
		while (i >= 0 && idx[i] == p->n - k + i)
			i--;
		if (i < 0)
			break;
		idx[i]++;
		for (int j = i + 1; j < k; j++)
			idx[j] = idx[j - 1] + 1;
	}
	free(idx);
	return (double)(total / count);
}

/* The Monte Carlo loop: draws shuffles, each scored at the budgets
 * ks[mk[0..nmk)] (ascending) as it goes.  Written out flat, with the
 * running top kept as the sums grow when no weight is negative, because
 * this is where tts-vote spends its time. */
static void
mc_draws(const struct vote_problem *p, const double *w, const int *ks, const int *mk, int nmk,
	 int draws, uint64_t seed, double *mean, double *ss)
{
	const int n = p->n, kmax = ks[mk[nmk - 1]];
	const unsigned char *good = p->good;
	double *sum = ecalloc((size_t)p->nclass + 1, sizeof *sum);
	int *cnt = ecalloc((size_t)p->nclass + 1, sizeof *cnt);
	int *touched = emalloc((size_t)(p->nclass + 1) * sizeof *touched);
	/* The shuffled items carry their class and weight: one load each. */
	struct item { double w; int c; } *perm = emalloc((size_t)n * sizeof *perm);
	int monotone = 1;
	for (int i = 0; i < n; i++) {
		perm[i] = (struct item){w[i], p->cls[i]};
		monotone &= w[i] >= 0;
	}
	rng_t r;
	rng_seed(&r, seed);
	for (int d = 0; d < draws; d++) {
		double inv = 1.0 / (d + 1), top = -INFINITY;
		int nt = 0, next = 0, stop = ks[mk[0]];
		/* Partial Fisher-Yates: every prefix perm[0..k) is a uniform
		 * k-subset, whatever order perm was left in, so one shuffle
		 * serves every budget. */
		for (int i = 0; i < kmax; i++) {
			int j = i + (int)rng_below32(&r, (uint32_t)(n - i));
			struct item s = perm[j];
			perm[j] = perm[i];
			perm[i] = s;
			if (s.c >= 0) {
				touched[nt] = s.c;
				nt += cnt[s.c]++ == 0;
				double v = sum[s.c] += s.w;
				top = v > top ? v : top;
			}
			if (i + 1 < stop)
				continue;
			if (!monotone)
				for (int u = 0; u < nt; u++)
					top = u == 0 || sum[touched[u]] > top ? sum[touched[u]] : top;
			double floor = top - 1e-9 * fabs(top), v = 0;
			int tied = 0, ngood = 0;
			for (int u = 0; u < nt; u++) {
				int ge = sum[touched[u]] >= floor;
				tied += ge;
				ngood += ge & good[touched[u]];
			}
			if (tied)
				v = (double)ngood / tied;
			int q = mk[next];
			double delta = v - mean[q];
			mean[q] += delta * inv;         /* Welford */
			ss[q] += delta * (v - mean[q]);
			if (++next < nmk)
				stop = ks[mk[next]];
		}
		for (int u = 0; u < nt; u++)
			sum[touched[u]] = 0, cnt[touched[u]] = 0;
	}
	free(sum);
	free(cnt);
	free(touched);
	free(perm);
}

void
vote_mc(const struct vote_problem *p, const double *w, const int *ks, int nk, int draws,
	uint64_t seed, double *mean, double *se, int *exact)
{
	int n = p->n, ngood = 0, nnull = n;
	for (int c = 0; c < p->nclass; c++) {
		ngood += p->good[c];
		nnull -= p->size[c];
	}
	if (ngood == 0 || ngood == p->nclass) {
		/* Every class wrong, or every class right: any vote gives the
		 * same verdict whenever the subset holds a prediction. */
		for (int q = 0; q < nk; q++) {
			exact[q] = 1;
			se[q] = 0;
			mean[q] = ngood ? (double)(1 - vote_binom(nnull, ks[q]) / vote_binom(n, ks[q])) : 0;
		}
		return;
	}
	struct tally t;
	tally_init(&t, p, w);
	double *ss = ecalloc((size_t)nk + 1, sizeof *ss);
	int *mk = emalloc((size_t)nk * sizeof *mk), nmk = 0;
	for (int q = 0; q < nk; q++) {
		exact[q] = vote_binom(n, ks[q]) <= draws;
		mean[q] = se[q] = 0;
		if (exact[q])
			mean[q] = enumerate_all(p, ks[q], &t);
		else
			mk[nmk++] = q;
	}
	if (nmk)
		mc_draws(p, t.w, ks, mk, nmk, draws, seed, mean, ss);
	for (int q = 0; q < nk; q++)
		if (!exact[q])
			se[q] = draws > 1 ? sqrt(ss[q] / (draws - 1) / draws) : 0;
	free(mk);
	free(ss);
	tally_free(&t);
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
		struct tally t;
		tally_init(&t, p, m == VOTE_WEIGHTED ? p->reward : NULL);
		for (int i = 0; i < k; i++)
			tally_add(&t, p, i);
		double v = tally_value(&t, p);
		tally_free(&t);
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
