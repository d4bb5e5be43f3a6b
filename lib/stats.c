/* stats.c — seeded generator, means, bootstrap intervals (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "tts.h"

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rng_seed(rng_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
	r->spare = 0;
	r->has_spare = 0;
}

double
rng_uniform(rng_t *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t
stats_hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
stats_mean_se(const double *x, size_t n, double *mean, double *se)
{
	double m = 0, ss = 0;
	/* Welford: one pass, no cancellation. */
	for (size_t i = 0; i < n; i++) {
		double d = x[i] - m;
		m += d / (double)(i + 1);
		ss += d * (x[i] - m);
	}
	*mean = n ? m : NAN;
	*se = n > 1 ? sqrt(ss / (double)(n - 1) / (double)n) : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double
stats_quantile(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double h = q * (double)(n - 1);
	size_t i = (size_t)floor(h);
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

void
stats_bootstrap(const double *x, size_t n, int reps, double level, uint64_t seed,
		double *lo, double *hi)
{
	if (n == 0 || reps < 1) {
		*lo = *hi = NAN;
		return;
	}
	double *means = emalloc((size_t)reps * sizeof *means);
	rng_t r;
	rng_seed(&r, seed);
	for (int b = 0; b < reps; b++) {
		double s = 0;
		for (size_t i = 0; i < n; i++)
			s += x[rng_below(&r, n)];
		means[b] = s / (double)n;
	}
	qsort(means, (size_t)reps, sizeof *means, cmp_double);
	*lo = stats_quantile(means, (size_t)reps, (1 - level) / 2);
	*hi = stats_quantile(means, (size_t)reps, (1 + level) / 2);
	free(means);
}
