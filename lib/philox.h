/* philox.h — the random stream and the sampling rule of tts-generate,
 * specified exactly so that every backend draws the same token from the
 * same logits.
 *
 * Random stream.  Philox4x32-10 (Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011; Random123's philox4x32 with 10 rounds).
 *   key (2 words):     k = seed ^ FNV-1a-64(id)   (id: the record's `id`
 *                      bytes, FNV-1a 64-bit: offset 0xcbf29ce484222325,
 *                      prime 0x100000001b3);
 *                      key[0] = (uint32_t)k (low word), key[1] = k >> 32.
 *   counter (4 words): (sample, step, 0, 0): sample = 0-based sample index
 *                      within its problem, step = 0-based index of the
 *                      generated token.
 *   uniform:           x = philox(counter, key);
 *                      u = (double)((((uint64_t)x[0] << 32) | x[1]) >> 11) * 2^-53,
 *                      so u is in [0, 1) with 53 random bits.
 *
 * Sampling one token from logits l[0..V) (float32), in double precision:
 *  1. temperature == 0 (greedy): the lowest id among the maximal l.
 *  2. z_i = (double)l_i / (double)temperature, m = max z, w_i = exp(z_i - m).
 *     Order the tokens by (l desc, id asc): the "rank order".
 *     top-k (0 < k < V): keep the first k tokens in rank order.
 *     top-p (p < 1): over the kept tokens in rank order, with S their sum of
 *       w (summed in rank order), keep the shortest prefix whose running sum
 *       reaches p*S (running >= p*S); at least one token.
 *     min-p (> 0): then drop kept tokens with w_i < min_p (w is relative to
 *       the most likely token, whose w is 1; it is never dropped).
 *     Draw: T = sum of w over the kept tokens in token-id order;
 *       t = u*T; the token is the first kept token, in id order, at which
 *       the running sum (in id order) exceeds t; if rounding leaves none,
 *       the last kept token in id order.
 *  3. logprob: the log-probability of the chosen token under the softmax of
 *     the unmodified logits at temperature 1: l_tok - M - log(sum_i exp(l_i -
 *     M)), M = max l, summed in id order in double.  Being independent of
 *     the sampling settings, it is the model's own likelihood (and is
 *     meaningful for greedy runs, where the sampled distribution is a point).
 *
 * A GPU reduction sums in another order, so it may differ in the last bits
 * of T or S; that changes a token only when t falls within rounding of a
 * boundary (probability ~1e-15 per draw).
 */
#ifndef TTS_PHILOX_H
#define TTS_PHILOX_H

#include <stddef.h>
#include <stdint.h>

/* One Philox4x32-10 block: out = philox(ctr, key). */
void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* FNV-1a 64-bit of n bytes. */
uint64_t fnv1a64(const void *s, size_t n);
/* key[0], key[1] from seed and id (bytes, length n) as above. */
void philox_key(uint64_t seed, const char *id, size_t n, uint32_t key[2]);
/* The uniform of the (sample, step) draw. */
double philox_uniform(const uint32_t key[2], uint32_t sample, uint32_t step);

/* Scratch for tts_sample_row: vocab entries. */
typedef struct {
	int32_t *idx;
	double *w;
	int cap;
} tts_sample_scratch;

/* Sample one row by the rule above (p: a tts_sample_params from ops.h,
 * passed as its fields to keep this header free of the kernels). */
int32_t tts_sample_row(const float *logits, int vocab, float temperature, int top_k,
		       float top_p, float min_p, double u, double *logprob,
		       tts_sample_scratch *s);
void tts_sample_scratch_free(tts_sample_scratch *s);

#endif
