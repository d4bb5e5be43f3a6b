/* vote.h — answer classes and the voting estimators of tts-vote.
 *
 * A problem is n samples in `sample` order.  Each sample has an answer
 * class (or none: a null prediction) and, for reward-based methods, a
 * reward.  A class is correct when its representative (first member)
 * equals the gold answer.  For a budget k <= n the value of a method is
 * its expected correctness over the C(n,k) uniformly random k-subsets of
 * the samples, ties split evenly (a tie of t classes gives each 1/t):
 *
 *   majority  exact: count the subsets with the multivariate
 *             hypergeometric distribution (vote_majority)
 *   best      exact: rank counting over the reward levels (vote_best)
 *   pass      exact: 1 - C(n-c,k)/C(n,k), c correct samples (vote_pass)
 *   weighted  Monte Carlo over random subsets, with its standard error
 *             (vote_mc); exact at k = 1 and k = n
 *
 * vote_prefix evaluates a method on one given subset (the first k
 * samples: the "first k" convention of other tools).  Null predictions
 * count in n and never win; a subset of nulls only scores 0.  All
 * estimators need n <= VOTE_NMAX. */
#ifndef TTS_VOTE_H
#define TTS_VOTE_H

#include <stdint.h>

#define VOTE_NMAX 2048

enum vote_method { VOTE_MAJORITY, VOTE_WEIGHTED, VOTE_BEST, VOTE_PASS, VOTE_FIRST, VOTE_NMETHODS };

extern const char *const vote_method_name[VOTE_NMETHODS];

/* One problem, classes already made. */
struct vote_problem {
	int n;                  /* samples */
	int nclass;             /* answer classes */
	const int *cls;         /* [n] class of each sample in sample order, -1 when null */
	const int *size;        /* [nclass] members of each class */
	const unsigned char *good; /* [nclass] 1 when the class is correct */
	const double *reward;   /* [n] rewards, or NULL when the methods need none */
};

/* Answer classes of n predictions in sample order (pred[i] NULL: a null
 * prediction, class -1): each joins the first class whose representative
 * it equals by eq(), else opens a new one.  Writes cls[n], rep[] (the
 * sample index of each class's first member) and size[]; returns the
 * number of classes.  Equal strings are compared once. */
int vote_classes(const char *const *pred, int n, int (*eq)(const char *, const char *),
		 int *cls, int *rep, int *size);

/* Correct samples: members of correct classes. */
int vote_ncorrect(const struct vote_problem *p);

/* Exact expectations for each of the nk budgets ks[] (1 <= k <= n) into
 * out[]. */
void vote_majority(const struct vote_problem *p, const int *ks, int nk, double *out);
void vote_best(const struct vote_problem *p, const int *ks, int nk, double *out);
double vote_pass(int n, int c, int k);

/* Weighted voting (class score = sum of w over its members in the
 * subset; w NULL: every sample weighs 1, i.e. majority) at each of the nk
 * budgets ks[] (ascending): the mean over every k-subset when C(n,k) <=
 * draws (exact[i] = 1, se[i] = 0), else Monte Carlo over draws random
 * k-subsets from a generator seeded with seed, with the standard error of
 * the mean in se[i].  The budgets share the draws: each draw shuffles
 * once and scores its prefixes.  Class sums within a relative 1e-9 of the
 * highest count as tied. */
void vote_mc(const struct vote_problem *p, const double *w, const int *ks, int nk, int draws,
	     uint64_t seed, double *mean, double *se, int *exact);

/* The method's value on the subset of the first k samples (sample
 * order), ties split evenly; first: whether sample 0 is correct. */
double vote_prefix(const struct vote_problem *p, enum vote_method m, int k);

/* The winning class on all n samples (majority: most members; weighted:
 * largest reward sum; best: class of the highest-reward sample), the
 * first in class order on a tie, or -1 when every prediction is null. */
int vote_winner(const struct vote_problem *p, enum vote_method m);

/* C(n, k) as a long double (exact below 2^64, then rounded); 0 when k < 0
 * or k > n.  n <= VOTE_NMAX. */
long double vote_binom(int n, int k);

#endif
