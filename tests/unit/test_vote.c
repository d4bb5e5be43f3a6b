/* test_vote.c — the voting estimators against brute-force enumeration of
 * every k-subset (n <= 12, tolerance 1e-12), Monte Carlo against the exact
 * majority value (within 4 standard errors, fixed seed), and hand-worked
 * cases. */
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tap.h"
#include "vote.h"

#define NMAX 12

struct problem {
	int n, nclass;
	int cls[128], size[128];
	unsigned char good[128];
	double reward[128];
	struct vote_problem p;
};

static void
finish(struct problem *q)
{
	memset(q->size, 0, sizeof q->size);
	for (int i = 0; i < q->n; i++)
		if (q->cls[i] >= 0)
			q->size[q->cls[i]]++;
	q->p = (struct vote_problem){q->n, q->nclass, q->cls, q->size, q->good, q->reward};
}

/* Random problem: classes with skewed sizes, some nulls, rewards from a
 * few levels so they tie, sometimes several correct classes. */
static void
random_problem(struct problem *q, rng_t *r, int n)
{
	q->n = n;
	q->nclass = 1 + (int)rng_below(r, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		if (rng_below(r, 6) == 0)
			q->cls[i] = -1;
		else    /* min of two draws: low classes more common */
		{
			int a = (int)rng_below(r, (uint64_t)q->nclass), b = (int)rng_below(r, (uint64_t)q->nclass);
			q->cls[i] = a < b ? a : b;
		}
		q->reward[i] = (double)rng_below(r, 4) / 4;
	}
	for (int c = 0; c < q->nclass; c++)
		q->good[c] = rng_below(r, 3) == 0;
	finish(q);
}

/* Brute force over all 2^n subsets: out[m][k] for majority, weighted,
 * best, pass (methods in vote.h order, first unused). */
static void
brute(const struct problem *q, double out[4][NMAX + 1])
{
	double cnt[NMAX + 1] = {0};
	memset(out, 0, sizeof(double) * 4 * (NMAX + 1));
	for (unsigned mask = 1; mask < 1u << q->n; mask++) {
		int k = __builtin_popcount(mask);
		double votes[128] = {0}, wsum[128] = {0};
		int any = 0, pass = 0, bt = 0, bg = 0;
		double btop = -1e300;
		for (int i = 0; i < q->n; i++) {
			if (!(mask >> i & 1) || q->cls[i] < 0)
				continue;
			int c = q->cls[i];
			any = 1;
			votes[c] += 1;
			wsum[c] += q->reward[i];
			pass |= q->good[c];
			if (q->reward[i] > btop) {
				btop = q->reward[i];
				bt = bg = 0;
			}
			if (q->reward[i] == btop) {
				bt++;
				bg += q->good[c];
			}
		}
		cnt[k]++;
		if (!any)
			continue;
		for (int m = 0; m < 2; m++) {
			const double *v = m ? wsum : votes;
			double top = -1e300;
			for (int c = 0; c < q->nclass; c++)
				if ((votes[c] > 0) && v[c] > top)
					top = v[c];
			int tied = 0, good = 0;
			for (int c = 0; c < q->nclass; c++)
				if (votes[c] > 0 && fabs(v[c] - top) <= 1e-9 * fabs(top)) {
					tied++;
					good += q->good[c];
				}
			out[m][k] += (double)good / tied;
		}
		out[2][k] += (double)bg / bt;
		out[3][k] += pass;
	}
	for (int m = 0; m < 4; m++)
		for (int k = 1; k <= q->n; k++)
			out[m][k] /= cnt[k];
}

/* Weighted voting at one budget; 1 when it enumerated every subset. */
static int
mc1(const struct vote_problem *p, const double *w, int k, int draws, uint64_t seed,
    double *mean, double *se)
{
	int exact;
	vote_mc(p, w, &k, 1, draws, seed, mean, se, &exact);
	return exact;
}

static void
test_brute(void)
{
	rng_t r;
	rng_seed(&r, 20240601);
	int ks[NMAX];
	double maj[NMAX], best[NMAX], want[4][NMAX + 1];
	double emaj = 0, ebest = 0, epass = 0;
	int cases = 300;
	for (int c = 0; c < cases; c++) {
		struct problem q;
		random_problem(&q, &r, 1 + (int)rng_below(&r, NMAX));
		for (int k = 1; k <= q.n; k++)
			ks[k - 1] = k;
		vote_majority(&q.p, ks, q.n, maj);
		vote_best(&q.p, ks, q.n, best);
		brute(&q, want);
		int c_ok = vote_ncorrect(&q.p);
		for (int k = 1; k <= q.n; k++) {
			emaj = fmax(emaj, fabs(maj[k - 1] - want[0][k]));
			ebest = fmax(ebest, fabs(best[k - 1] - want[2][k]));
			epass = fmax(epass, fabs(vote_pass(q.n, c_ok, k) - want[3][k]));
		}
	}
	ok(emaj <= 1e-12, "majority = brute force over all k-subsets, %d cases n<=12 (max err %.3g)", cases, emaj);
	ok(ebest <= 1e-12, "best-of-N = brute force (max err %.3g)", ebest);
	ok(epass <= 1e-12, "pass@k = brute force (max err %.3g)", epass);
}

static void
test_mc(void)
{
	rng_t r;
	rng_seed(&r, 7);
	int fails = 0, cases = 40, nmc = 0;
	double eenum = 0;
	for (int c = 0; c < cases; c++) {
		struct problem q;
		double want[4][NMAX + 1];
		random_problem(&q, &r, 10 + (int)rng_below(&r, NMAX - 9));
		brute(&q, want);
		/* C(n,k) >= 210 > 200 draws: Monte Carlo, not enumeration. */
		int k = 4 + (int)rng_below(&r, (uint64_t)q.n - 7);
		double m, se;
		nmc += !mc1(&q.p, q.reward, k, 200, 99 + (uint64_t)c, &m, &se);
		se = fmax(se, sqrt(want[1][k] * (1 - want[1][k]) / 200));
		if (fabs(m - want[1][k]) > 4 * se + 1e-12)
			fails++;
		/* Enough draws to cover every subset: exact. */
		int exact = mc1(&q.p, q.reward, k, 1000, 1, &m, &se);
		eenum = fmax(eenum, exact ? fabs(m - want[1][k]) : 1);
	}
	ok(fails == 0 && nmc > cases / 2, "weighted Monte Carlo within 4 se of brute force in %d cases (%d outside)", cases, fails);
	ok(eenum <= 1e-12, "weighted by enumeration when C(n,k) <= draws = brute force (err %.3g)", eenum);

	/* A big problem: 128 samples, the majority exact vs Monte Carlo. */
	struct problem q = {.n = 128, .nclass = 6};
	int sizes[6] = {40, 38, 20, 10, 5, 3}, i = 0;
	for (int c = 0; c < 6; c++)
		for (int j = 0; j < sizes[c]; j++)
			q.cls[i++] = c;
	while (i < 128)
		q.cls[i++] = -1;
	q.good[1] = 1;
	finish(&q);
	int ks[] = {1, 2, 4, 8, 16, 32, 64, 128};
	double exact[8];
	vote_majority(&q.p, ks, 8, exact);
	int bad = 0, exact_k[8];
	double mean[8], se[8];
	vote_mc(&q.p, NULL, ks, 8, 20000, 12345, mean, se, exact_k);
	for (int m = 0; m < 8; m++) {
		if (fabs(mean[m] - exact[m]) > 4 * se[m] + 1e-12) {
			bad++;
			printf("# k=%d exact %.6f mc %.6f se %.6f\n", ks[m], exact[m], mean[m], se[m]);
		}
	}
	ok(exact_k[0] && !exact_k[2] && exact_k[7], "enumeration at k=1 and k=n, Monte Carlo between");
	ok(bad == 0, "majority Monte Carlo within 4 se of exact at n=128, k=1..128");
	ok_close(exact[0], 38.0 / 128, 1e-15, 0, "majority at k=1 is c/n");

	/* Random problems of 64..128 samples, every budget. */
	bad = 0;
	for (int c = 0; c < 6; c++) {
		struct problem rq;
		random_problem(&rq, &r, 64 + (int)rng_below(&r, 65));
		int kk = 1 + (int)rng_below(&r, (uint64_t)rq.n);
		double e, mean, se;
		vote_majority(&rq.p, &kk, 1, &e);
		mc1(&rq.p, NULL, kk, 20000, 777 + (uint64_t)c, &mean, &se);
		/* se is 0 when no draw saw a rare outcome: floor it at the
		 * standard error the exact value implies, sqrt(e(1-e)/draws). */
		se = fmax(se, sqrt(e * (1 - e) / 20000));
		if (fabs(mean - e) > 4 * se + 1e-12) { bad++; printf("# n=%d nclass=%d k=%d exact %.6f mc %.6f se %.6f\n", rq.n, rq.nclass, kk, e, mean, se); }
	}
	ok(bad == 0, "random problems of 64..128 samples: exact within 4 se of Monte Carlo");

	/* All classes correct: the win probabilities add up to
	 * 1 - P(all nulls) = 1 - C(z,k)/C(n,k); a precision check at n=128. */
	for (int c = 0; c < 6; c++)
		q.good[c] = 1;
	vote_majority(&q.p, ks, 8, exact);
	double err = 0;
	for (int m = 0; m < 8; m++)
		err = fmax(err, fabs(exact[m] - (1 - (double)(vote_binom(12, ks[m]) / vote_binom(128, ks[m])))));
	ok(err <= 1e-12, "win probabilities sum to 1 - P(all null) at n=128 (err %.3g)", err);

	/* 128 singletons, one correct: ties everywhere. */
	struct problem s = {.n = 128, .nclass = 128};
	for (int j = 0; j < 128; j++)
		s.cls[j] = j;
	s.good[5] = 1;
	finish(&s);
	vote_majority(&s.p, ks, 8, exact);
	err = 0;
	for (int m = 0; m < 8; m++)
		err = fmax(err, fabs(exact[m] - 1.0 / 128));
	ok(err <= 1e-15, "128 singletons, one correct: 1/128 at every k (err %.3g)", err);
}

static void
set(struct problem *q, int n, const int *cls, const char *good, const double *rw)
{
	q->n = n;
	q->nclass = 0;
	for (int i = 0; i < n; i++) {
		q->cls[i] = cls[i];
		if (cls[i] + 1 > q->nclass)
			q->nclass = cls[i] + 1;
		q->reward[i] = rw ? rw[i] : 0;
	}
	for (int c = 0; c < q->nclass; c++)
		q->good[c] = good[c] == '1';
	finish(q);
}

static void
test_hand(void)
{
	struct problem q;
	int ks[] = {1, 2, 3, 4};
	double v[4];

	/* A A B null, A correct:  k=2: AA 1, AB 1/2 (x2), A- 1 (x2), B- 0,
	 * so 4/6;  k=3: AAB 1, AA- 1, AB- 1/2 (x2), so 3/4. */
	set(&q, 4, (int[]){0, 0, 1, -1}, "10", NULL);
	vote_majority(&q.p, ks, 4, v);
	ok_close(v[0], 0.5, 1e-15, 0, "A A B -: majority@1 = 1/2");
	ok_close(v[1], 4.0 / 6, 1e-15, 0, "A A B -: majority@2 = 2/3 (ties split)");
	ok_close(v[2], 0.75, 1e-15, 0, "A A B -: majority@3 = 3/4");
	ok_close(v[3], 1, 1e-15, 0, "A A B -: majority@4 = 1 (k = n)");

	/* Three singletons, one correct: a three-way tie at k = 3. */
	set(&q, 3, (int[]){0, 1, 2}, "100", NULL);
	vote_majority(&q.p, ks, 3, v);
	ok_close(v[2], 1.0 / 3, 1e-15, 0, "three-way tie splits: 1/3");
	ok_close(v[1], 1.0 / 3, 1e-15, 0, "pairs of singletons: 1/3");

	/* Nulls never win. */
	set(&q, 3, (int[]){-1, -1, -1}, "", NULL);
	vote_majority(&q.p, ks, 3, v);
	ok(v[0] == 0 && v[2] == 0, "all null: 0");
	ok(vote_prefix(&q.p, VOTE_MAJORITY, 3) == 0 && vote_winner(&q.p, VOTE_MAJORITY) == -1,
	   "all null: no winner on the prefix either");

	/* Single-sample problems. */
	set(&q, 1, (int[]){0}, "1", (double[]){0.3});
	vote_majority(&q.p, ks, 1, v);
	ok(v[0] == 1, "single correct sample: 1");
	vote_best(&q.p, ks, 1, v);
	ok(v[0] == 1 && vote_pass(1, 1, 1) == 1, "single correct sample: best 1, pass 1");
	set(&q, 1, (int[]){0}, "0", NULL);
	vote_majority(&q.p, ks, 1, v);
	ok(v[0] == 0 && vote_pass(1, 0, 1) == 0, "single wrong sample: 0");

	/* Best-of-N with a reward tie: [0.9 wrong, 0.9 right, 0.1 right]. */
	set(&q, 3, (int[]){0, 1, 1}, "01", (double[]){0.9, 0.9, 0.1});
	vote_best(&q.p, ks, 3, v);
	ok_close(v[0], 2.0 / 3, 1e-15, 0, "best@1 = 2/3");
	ok_close(v[1], 0.5, 1e-15, 0, "best@2 = (1/2 + 0 + 1)/3");
	ok_close(v[2], 0.5, 1e-15, 0, "best@3: reward tie split = 1/2");
	ok(vote_prefix(&q.p, VOTE_BEST, 2) == 0.5 && vote_prefix(&q.p, VOTE_BEST, 1) == 0,
	   "best on the first k: tie split, first sample alone");
	ok(vote_winner(&q.p, VOTE_BEST) == 0, "best winner: first of the tied samples");

	/* Weighted: two low rewards outvote one high one only by sum. */
	set(&q, 3, (int[]){0, 1, 1}, "10", (double[]){0.9, 0.3, 0.4});
	ok(vote_prefix(&q.p, VOTE_WEIGHTED, 3) == 1, "weighted: 0.9 beats 0.3+0.4");
	ok(vote_prefix(&q.p, VOTE_MAJORITY, 3) == 0, "majority: two beat one");
	ok(vote_winner(&q.p, VOTE_WEIGHTED) == 0 && vote_winner(&q.p, VOTE_MAJORITY) == 1,
	   "winners at k = n");
	double m, se;
	mc1(&q.p, q.reward, 3, 100, 1, &m, &se);
	ok(m == 1 && se == 0, "Monte Carlo at k = n is exact");

	/* pass@k by hand: n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1/2. */
	ok_close(vote_pass(4, 1, 2), 0.5, 1e-15, 0, "pass@2 with 1 of 4 correct = 1/2");
	ok(vote_pass(4, 3, 2) == 1, "pass@k = 1 when fewer than k are wrong");

	/* First-k convention. */
	set(&q, 4, (int[]){1, 0, 0, 1}, "10", NULL);
	ok(vote_prefix(&q.p, VOTE_MAJORITY, 1) == 0 && vote_prefix(&q.p, VOTE_MAJORITY, 3) == 1 &&
	   vote_prefix(&q.p, VOTE_MAJORITY, 4) == 0.5, "majority on the first 1, 3, 4 samples");
	ok(vote_prefix(&q.p, VOTE_PASS, 1) == 0 && vote_prefix(&q.p, VOTE_PASS, 2) == 1,
	   "pass on the first k");
	ok(vote_prefix(&q.p, VOTE_FIRST, 4) == 0, "first: sample 0");
}

static int
eq_num(const char *a, const char *b)
{
	return atof(a) == atof(b);
}

static int
eq_str(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static void
test_classes(void)
{
	const char *pred[] = {"1", NULL, "1.0", "2", "1", "2.00", NULL, "3"};
	int cls[8], rep[8], size[8];
	int m = vote_classes(pred, 8, eq_num, cls, rep, size);
	ok(m == 3, "3 classes under numeric equality");
	ok(cls[0] == 0 && cls[2] == 0 && cls[4] == 0 && cls[3] == 1 && cls[5] == 1 && cls[7] == 2,
	   "members join the first equal class");
	ok(cls[1] == -1 && cls[6] == -1, "null predictions: no class");
	ok(rep[0] == 0 && rep[1] == 3 && rep[2] == 7 && size[0] == 3 && size[1] == 2 && size[2] == 1,
	   "representatives are first members; sizes");
	m = vote_classes(pred, 8, eq_str, cls, rep, size);
	ok(m == 5 && cls[4] == 0 && cls[2] == 1, "string equality: 1.0 and 2.00 apart");
}

/* Against exact rationals from tests/fixtures/make_majority_ref.py (an
 * independent enumeration of class-count vectors, n up to 40). */
static void
test_reference(void)
{
	FILE *f = fopen("tests/fixtures/majority-ref.txt", "r");
	if (!f) {
		ok(0, "open tests/fixtures/majority-ref.txt (run from the top directory)");
		return;
	}
	char sizes[256], good[256], frac[512];
	int nnull, k, lines = 0;
	double err = 0;
	while (fscanf(f, "%255s %255s %d %d %511s", sizes, good, &nnull, &k, frac) == 5) {
		struct problem q = {0};
		int m = 0, i = 0;
		for (char *t = strtok(sizes, ","); t; t = strtok(NULL, ","), m++)
			for (int j = atoi(t); j > 0; j--)
				q.cls[i++] = m;
		m = 0;
		for (char *t = strtok(good, ","); t; t = strtok(NULL, ","))
			q.good[m++] = (unsigned char)atoi(t);
		q.nclass = m;
		while (nnull-- > 0)
			q.cls[i++] = -1;
		q.n = i;
		finish(&q);
		char *slash = strchr(frac, '/');
		*slash = 0;
		double want = (double)(strtold(frac, NULL) / strtold(slash + 1, NULL)), got;
		vote_majority(&q.p, &k, 1, &got);
		err = fmax(err, fabs(got - want));
		lines++;
	}
	fclose(f);
	ok(lines >= 100 && err <= 1e-12, "majority = exact rationals of an independent enumeration, %d values n<=40 (max err %.3g)", lines, err);
}

int
main(void)
{
	test_reference();
	test_brute();
	test_mc();
	test_hand();
	test_classes();
	return tap_done();
}
