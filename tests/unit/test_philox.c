/* test_philox.c — Philox4x32-10 against Random123's known-answer vectors
 * (kat_vectors), the key and uniform of philox.h, and the sampling rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "philox.h"
#include "tap.h"

static int
kat(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
    uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3)
{
	uint32_t c[4] = { c0, c1, c2, c3 }, k[2] = { k0, k1 }, x[4];
	philox4x32_10(c, k, x);
	return x[0] == e0 && x[1] == e1 && x[2] == e2 && x[3] == e3;
}

int
main(void)
{
	ok(kat(0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8),
	   "philox4x32-10 KAT: zero counter and key");
	ok(kat(~0u, ~0u, ~0u, ~0u, ~0u, ~0u, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd),
	   "philox4x32-10 KAT: all-ones counter and key");
	ok(kat(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
	       0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1),
	   "philox4x32-10 KAT: pi digits");

	/* FNV-1a 64 of "a" is af63dc4c8601ec8c (Fowler/Noll/Vo test vectors) */
	ok(fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull, "fnv1a64(\"a\")");
	ok(fnv1a64("", 0) == 0xcbf29ce484222325ull, "fnv1a64 of nothing is the offset basis");
	uint32_t key[2];
	philox_key(0, "a", 1, key);
	ok(key[0] == 0x8601ec8cu && key[1] == 0xaf63dc4cu, "key[0] is the low word");
	philox_key(0xaf63dc4c8601ec8cull, "a", 1, key);
	ok(key[0] == 0 && key[1] == 0, "key = seed ^ fnv1a64(id)");

	/* uniform from words 0 and 1: counter 0, key 0 -> 0x6627e8d5e169c58d >> 11 */
	uint32_t k0[2] = { 0, 0 };
	double u = philox_uniform(k0, 0, 0);
	ok(u == (double)(0x6627e8d5e169c58dull >> 11) * 0x1p-53, "uniform from x0:x1");
	double mean = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		double v = philox_uniform(key, i, 7);
		if (v < 0 || v >= 1) { mean = -1; break; }
		mean += v / 20000;
	}
	ok_close(mean, 0.5, 0.01, 0, "uniforms in [0,1), mean 1/2");

	tts_sample_scratch s = { 0 };
	float l[6] = { 1.0f, 3.0f, 2.0f, 3.0f, -1.0f, 0.5f };
	double lp, sum = 0;
	for (int i = 0; i < 6; i++)
		sum += exp(l[i]);
	ok(tts_sample_row(l, 6, 0, 0, 1, 0, 0.99, &lp, &s) == 1, "greedy: lowest id of the maxima");
	ok_close(lp, 3.0 - log(sum), 1e-12, 0, "logprob: log-softmax at temperature 1");
	ok(tts_sample_row(l, 6, 0.7f, 1, 1, 0, 0.99, &lp, &s) == 1, "top-k 1 is greedy");
	ok(tts_sample_row(l, 6, 1, 0, 1, 1.0f, 0.99, &lp, &s) == 3, "min-p 1 keeps the maxima");
	ok(tts_sample_row(l, 6, 1, 0, 1, 0, 0.0, &lp, &s) == 0, "u = 0 draws the first token");
	ok(tts_sample_row(l, 6, 1, 0, 1, 0, 0.999999, &lp, &s) == 5, "u near 1 draws the last");
	/* top-p 0.5 at T=1: ranks 1,3 (e^3 each) hold 2e^3/sum > 0.5 -> {1, 3} */
	int seen[6] = { 0 };
	for (int i = 0; i < 200; i++)
		seen[tts_sample_row(l, 6, 1, 0, 0.5f, 0, i / 200.0, &lp, &s)]++;
	ok(seen[1] == 100 && seen[3] == 100, "top-p keeps the smallest prefix: %d %d", seen[1], seen[3]);
	/* the draw is the inverse CDF in id order: frequencies follow softmax(l/T) */
	int cnt[6] = { 0 }, n = 200000;
	for (int i = 0; i < n; i++)
		cnt[tts_sample_row(l, 6, 2.0f, 0, 1, 0, philox_uniform(key, i, 0), &lp, &s)]++;
	double z = 0;
	for (int i = 0; i < 6; i++)
		z += exp(l[i] / 2);
	int good = 1;
	for (int i = 0; i < 6; i++)
		if (fabs(cnt[i] / (double)n - exp(l[i] / 2) / z) > 0.005)
			good = 0;
	ok(good, "temperature 2 frequencies follow softmax(l/2)");
	tts_sample_scratch_free(&s);
	return tap_done();
}
