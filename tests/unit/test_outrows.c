/* test_outrows.c — tts_step.out_rows (the forward option reward scoring
 * uses): the head's output at chosen rows of a step, in the order given,
 * equals those rows of the all-rows output, on synthetic models of every
 * mixer kind, with two sequences in one step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "synth.h"
#include "tap.h"

#define N1 7
#define N2 20

static void
check_kind(enum synth_kind kind)
{
	tts_model *m = tts_model_synthetic(kind, 64, 3);
	int V = m->vocab;
	tts_engine *e = tts_engine_new(&tts_cpu_ops, m, 16, 4, 64, 128);
	int32_t ids[N1 + N2];
	for (int i = 0; i < N1 + N2; i++)
		ids[i] = (i * 29 + 5) % V;
	int32_t q[2] = { N1, N2 }, c[2] = { N1, N2 }, sl[2] = { 0, 1 };
	int32_t b0[] = { 3 }, b1[] = { 4, 6 }, b2[] = { 7 }, b3[] = { 8, 9 };
	const int32_t *bl[2] = { b0, b1 }, *bl2[2] = { b2, b3 };
	float *all = malloc((size_t)(N1 + N2) * V * sizeof(float));

	tts_engine_slot_zero(e, 0);
	tts_engine_slot_zero(e, 1);
	tts_step st = { .n_seqs = 2, .ids = ids, .q_len = q, .ctx_len = c, .slot = sl, .blocks = bl };
	int n = tts_forward(e, &st, 1);
	memcpy(all, e->logits, (size_t)n * V * sizeof(float));

	int32_t rows[] = { N1 + N2 - 1, 0, N1 + 3, N1 - 1 };
	tts_engine_slot_zero(e, 0);
	tts_engine_slot_zero(e, 1);
	st.blocks = bl2;
	st.out_rows = rows;
	st.n_out = 4;
	int n2 = tts_forward(e, &st, 1);
	int same = n2 == 4;
	for (int k = 0; k < 4 && same; k++)
		same = memcmp(e->logits + (size_t)k * V, all + (size_t)rows[k] * V, V * sizeof(float)) == 0;
	ok(same, "%s: out_rows gives the chosen rows of the all-rows output, in order",
	   synth_kind_name[kind]);
	tts_engine_free(e);
	tts_model_synthetic_free(m);
	free(all);
}

int
main(void)
{
	for (int k = SYN_LLAMA; k <= SYN_BAMBA; k++)
		check_kind(k);
	return tap_done();
}
