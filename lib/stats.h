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

typedef struct {
	uint64_t s[4];
	uint64_t spare;         /* the unused half of an output, for rng_below32 */
	int has_spare;
} rng_t;

void rng_seed(rng_t *r, uint64_t seed);
static inline uint64_t rng_next(rng_t *r);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform(rng_t *r);
/* Uniform in [0, n) without bias (Lemire's multiply-and-reject), n >= 1. */
static inline uint64_t rng_below(rng_t *r, uint64_t n);
/* The same for 1 <= n < 2^32, spending 32 random bits per call (each
 * 64-bit output serves two calls): the Monte Carlo shuffles' hot path. */
static inline uint32_t rng_below32(rng_t *r, uint32_t n);

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

/* Inline: the Monte Carlo loops call these once per sample drawn. */
static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (prng.di.unimi.it/xoshiro256starstar.c) */
static inline uint64_t
rng_next(rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

/* D. Lemire, "Fast random integer generation in an interval", 2019. */
static inline uint64_t
rng_below(rng_t *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;
	if (low < n) {
		uint64_t threshold = -n % n;
		while (low < threshold) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

static inline uint32_t
rng_next32(rng_t *r)
{
	if (r->has_spare) {
		r->has_spare = 0;
		return (uint32_t)(r->spare >> 32);
	}
	r->spare = rng_next(r);
	r->has_spare = 1;
	return (uint32_t)r->spare;
}

static inline uint32_t
rng_below32(rng_t *r, uint32_t n)
{
	uint64_t m = (uint64_t)rng_next32(r) * n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t threshold = -n % n;
		while (low < threshold) {
			m = (uint64_t)rng_next32(r) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

#endif
