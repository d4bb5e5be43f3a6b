/* stats.h — seeded pseudo-random numbers, means and bootstrap intervals.
 *
 * The generator is xoshiro256** (Blackman & Vigna, 2018) seeded through
 * splitmix64, so a 64-bit seed gives the same stream on every machine.
 * Derive independent streams from one user seed with stats_hash (FNV-1a
 * 64), e.g. hash the group's key and the budget k, so results never
 * depend on the order in which groups are processed. */
#ifndef TTS_STATS_H
#define TTS_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(rng_t *r);
/* Uniform in [0, n) without bias (Lemire's multiply-and-reject), n >= 1. */
uint64_t rng_below(rng_t *r, uint64_t n);

#define STATS_HASH_INIT 0xcbf29ce484222325ULL
/* FNV-1a 64 of n bytes, continuing from h (STATS_HASH_INIT to start). */
uint64_t stats_hash(const void *p, size_t n, uint64_t h);

/* Mean and standard error of the mean (sample standard deviation /
 * sqrt(n); 0 when n < 2). */
void stats_mean_se(const double *x, size_t n, double *mean, double *se);

/* Percentile bootstrap interval of the mean of x[0..n): reps resamples of
 * n values drawn with replacement; lo and hi are the (1-level)/2 and
 * (1+level)/2 quantiles of the resampled means, interpolated linearly
 * between order statistics (numpy's default "linear" quantile). */
void stats_bootstrap(const double *x, size_t n, int reps, double level, uint64_t seed,
		     double *lo, double *hi);

/* The q-quantile (0 <= q <= 1) of sorted x[0..n), linear interpolation. */
double stats_quantile(const double *sorted, size_t n, double q);

#endif
