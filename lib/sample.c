/* sample.c — the reference sampling rule of philox.h: greedy, temperature,
 * top-k, top-p, min-p, inverse CDF in token-id order. */
#include "philox.h"

#include <math.h>
#include <stdlib.h>

#include "tts.h"

static const float *rank_logits;   /* qsort has no context argument */

/* Rank order: logit descending, id ascending. */
static int
rank_cmp(const void *a, const void *b)
{
	int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
	float li = rank_logits[i], lj = rank_logits[j];
	if (li != lj)
		return li > lj ? -1 : 1;
	return (i > j) - (i < j);
}

static int
int_cmp(const void *a, const void *b)
{
	int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
	return (i > j) - (i < j);
}

/* log softmax at temperature 1 of token tok. */
static double
log_softmax_at(const float *l, int vocab, int32_t tok)
{
	float M = l[0];
	for (int i = 1; i < vocab; i++)
		if (l[i] > M)
			M = l[i];
	double sum = 0;
	for (int i = 0; i < vocab; i++)
		sum += exp((double)l[i] - M);
	return (double)l[tok] - M - log(sum);
}

int32_t
tts_sample_row(const float *l, int vocab, float temperature, int top_k, float top_p,
	       float min_p, double u, double *logprob, tts_sample_scratch *s)
{
	int32_t best = 0;
	for (int i = 1; i < vocab; i++)
		if (l[i] > l[best])
			best = i;
	if (temperature <= 0) {
		*logprob = log_softmax_at(l, vocab, best);
		return best;
	}
	if (s->cap < vocab) {
		s->idx = erealloc(s->idx, vocab * sizeof *s->idx);
		s->w = erealloc(s->w, vocab * sizeof *s->w);
		s->cap = vocab;
	}
	double m = (double)l[best] / temperature;
	for (int i = 0; i < vocab; i++) {
		s->w[i] = exp((double)l[i] / temperature - m);
		s->idx[i] = i;
	}
	int n = vocab;
	int ranked = (top_k > 0 && top_k < vocab) || top_p < 1;
	if (ranked) {
		rank_logits = l;
		qsort(s->idx, vocab, sizeof *s->idx, rank_cmp);
		if (top_k > 0 && top_k < n)
			n = top_k;
		if (top_p < 1) {
			double S = 0, run = 0;
			for (int i = 0; i < n; i++)
				S += s->w[s->idx[i]];
			int keep = 0;
			while (keep < n) {
				run += s->w[s->idx[keep++]];
				if (run >= top_p * S)
					break;
			}
			n = keep;
		}
	}
	if (min_p > 0) {
		int k = 0;
		for (int i = 0; i < n; i++)
			if (s->w[s->idx[i]] >= min_p)
				s->idx[k++] = s->idx[i];
		n = k;   /* the top token has w = 1 >= min_p (min_p <= 1) */
	}
	if (ranked)   /* draw in token-id order */
		qsort(s->idx, n, sizeof *s->idx, int_cmp);
	double T = 0;
	for (int i = 0; i < n; i++)
		T += s->w[s->idx[i]];
	double t = u * T, run = 0;
	int32_t tok = s->idx[n - 1];
	for (int i = 0; i < n; i++) {
		run += s->w[s->idx[i]];
		if (run > t) {
			tok = s->idx[i];
			break;
		}
	}
	*logprob = log_softmax_at(l, vocab, tok);
	return tok;
}

void
tts_sample_scratch_free(tts_sample_scratch *s)
{
	free(s->idx);
	free(s->w);
	s->idx = NULL;
	s->w = NULL;
	s->cap = 0;
}
