/* test_stats.c — the generator against xoshiro256**'s published
 * reference outputs, quantiles and standard errors against numpy, and the
 * bootstrap against the normal approximation. */
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tap.h"

int
main(void)
{
	/* State {1,2,3,4}: the first outputs of the reference C code
	 * (prng.di.unimi.it/xoshiro256starstar.c). */
	rng_t r = {{1, 2, 3, 4}, 0, 0};
	uint64_t want[] = {11520, 0, 1509978240, 1215971899390074240ULL};
	int same = 1;
	for (int i = 0; i < 4; i++)
		same &= rng_next(&r) == want[i];
	ok(same, "xoshiro256** reference outputs from state {1,2,3,4}");

	rng_t a, b;
	rng_seed(&a, 42);
	rng_seed(&b, 42);
	same = 1;
	for (int i = 0; i < 100; i++)
		same &= rng_next(&a) == rng_next(&b);
	ok(same, "the same seed gives the same stream");
	rng_seed(&b, 43);
	ok(rng_next(&a) != rng_next(&b), "another seed, another stream");

	/* rng_below: 60000 draws in 6 bins, each within 5 sd of 10000. */
	int bins[6] = {0}, inrange = 1;
	for (int i = 0; i < 60000; i++) {
		uint64_t v = rng_below(&a, 6);
		inrange &= v < 6;
		bins[v < 6 ? v : 0]++;
	}
	int flat = 1;
	for (int i = 0; i < 6; i++)
		flat &= abs(bins[i] - 10000) < 5 * 91;   /* sd = sqrt(60000 * 1/6 * 5/6) */
	ok(inrange && flat, "rng_below(6) uniform");
	int bins32[6] = {0};
	for (int i = 0; i < 60000; i++)
		bins32[rng_below32(&a, 6) % 6]++;
	flat = 1;
	for (int i = 0; i < 6; i++)
		flat &= abs(bins32[i] - 10000) < 5 * 91;
	ok(flat, "rng_below32(6) uniform");
	double u = rng_uniform(&a);
	ok(u >= 0 && u < 1, "rng_uniform in [0,1)");

	ok(stats_hash("", 0, STATS_HASH_INIT) == 0xcbf29ce484222325ULL &&
	   stats_hash("a", 1, STATS_HASH_INIT) == 0xaf63dc4c8601ec8cULL, "FNV-1a 64 test vectors");

	/* numpy: np.quantile([.1,.4,.4,.9,1.3], q) */
	double s[] = {0.1, 0.4, 0.4, 0.9, 1.3};
	ok_close(stats_quantile(s, 5, 0.025), 0.13, 1e-15, 0, "quantile 0.025 as numpy");
	ok_close(stats_quantile(s, 5, 0.975), 1.26, 1e-15, 0, "quantile 0.975 as numpy");
	ok(stats_quantile(s, 5, 0) == 0.1 && stats_quantile(s, 5, 1) == 1.3, "quantile ends");

	/* numpy: x.mean(), x.std(ddof=1)/sqrt(8) */
	double x[] = {3, 1, 4, 1, 5, 9, 2, 6}, m, se;
	stats_mean_se(x, 8, &m, &se);
	ok_close(m, 3.875, 1e-15, 0, "mean");
	ok_close(se, 0.9716977043151993, 0, 1e-14, "standard error as numpy");

	/* Bootstrap of 2000 Bernoulli(0.3): the 95% interval is close to
	 * mean +- 1.96 se (within 15% of its width). */
	int n = 2000;
	double *y = malloc(n * sizeof *y);
	for (int i = 0; i < n; i++)
		y[i] = rng_uniform(&a) < 0.3;
	double lo, hi, lo2, hi2;
	stats_mean_se(y, n, &m, &se);
	stats_bootstrap(y, n, 2000, 0.95, 5, &lo, &hi);
	ok(lo < m && m < hi, "interval holds the mean");
	ok(fabs((hi - lo) - 2 * 1.96 * se) < 0.15 * 2 * 1.96 * se,
	   "95%% width %.4f near normal %.4f", hi - lo, 2 * 1.96 * se);
	stats_bootstrap(y, n, 2000, 0.95, 5, &lo2, &hi2);
	ok(lo == lo2 && hi == hi2, "seeded: the same interval twice");
	stats_bootstrap(y, n, 2000, 0.5, 5, &lo2, &hi2);
	ok(lo2 > lo && hi2 < hi, "a lower level, a narrower interval");
	double c[] = {0.25, 0.25, 0.25};
	stats_bootstrap(c, 3, 100, 0.95, 1, &lo, &hi);
	ok(lo == 0.25 && hi == 0.25, "constant data: a point interval");
	free(y);
	return tap_done();
}
