/* forward.h — the forward pass, written once against a tts_ops table.
 *
 * An engine holds a model's weights in the backend's format, the paged KV
 * caches of its attention layers, the Mamba state slots of its Mamba
 * layers, and scratch activations for up to max_rows tokens per step.
 * The caller (the scheduler) owns the allocation of KV blocks and slots;
 * it describes a step on the host (tts_step) and the engine uploads it. */
#ifndef TTS_FORWARD_H
#define TTS_FORWARD_H

#include "ops.h"

typedef struct {
	tts_w *wq, *wk, *wv, *wo, *in_proj, *out_proj, *gate, *up, *down;
	tts_w *m1_x, *m1_z, *m1_B, *m1_C, *m1_dt_down, *m1_dt_w;
	tts_w *wqkv, *gate_up;          /* packed q|k|v, gate|up (wq..wv, gate, up NULL) */
	float *bqkv;
	float *in_norm, *post_norm, *bq, *bk, *bv, *bo;
	float *conv_w, *conv_b, *dt_bias, *A_log, *D, *gnorm, *m1_dt_b;
	int in_w;                       /* Mamba2: in_proj rows (its output width) */
	void *kc, *vc;                  /* attention: paged KV cache */
	void *conv_state, *ssm_state;   /* Mamba: per-slot states */
} tts_engine_layer;

/* Decode steps recorded as graphs (tts_decode): one per shape — rows,
 * context bucket, sampling buffers — up to TTS_GRAPHS, then all dropped. */
#define TTS_GRAPHS 256
#define TTS_CTX_BUCKET 256      /* tokens of context per launch-shape bucket */

typedef struct {
	int rows;
	const tts_sample_params *p;
	int32_t *tok;
	float *lp;
} tts_decode_args;

typedef struct {
	int rows, max_ctx;
	const tts_sample_params *p;
	int32_t *tok;
	float *lp;
	void *g;                        /* NULL: seen once, not yet recorded */
} tts_graph_entry;

typedef struct {
	const tts_ops *ops;
	const tts_model *m;
	int n_blocks, n_slots, max_rows, max_blocks;
	size_t conv_floats, ssm_floats;       /* per slot, per Mamba layer */
	tts_w *embed, *lm_head;
	float *final_norm, *inv_freq;
	tts_engine_layer *L;
	/* scratch in backend memory */
	float *h, *xn, *big, *mix, *y, *y2, *logits, *pk;
	int32_t *d_ids, *d_out;
	tts_batch hb, db;      /* host batch arrays, backend copies */
	int32_t *hbuf, *dbuf;  /* one buffer each, carved into the batch arrays */
	size_t big_w;
	int dec_idx;           /* rows whose identity index list is in d_out (tts_decode) */
	tts_decode_args dec;
	tts_graph_entry graphs[TTS_GRAPHS];
	int n_graphs;
} tts_engine;

/* n_blocks KV blocks per attention layer, n_slots Mamba state slots,
 * up to max_rows new tokens and max_ctx context per sequence in a step. */
tts_engine *tts_engine_new(const tts_ops *ops, const tts_model *m, int n_blocks,
			   int n_slots, int max_rows, int max_ctx);
void tts_engine_free(tts_engine *e);

/* One step on the host side: n_seqs sequences, sequence s has q_len[s]
 * new tokens (ids at rows q_start[s]..), ctx_len[s] tokens in context
 * after the step, state slot slot[s] and KV blocks blocks[s][0..]. */
typedef struct {
	int n_seqs;
	const int32_t *ids;          /* [rows] */
	const int32_t *q_len, *ctx_len, *slot;
	const int32_t *const *blocks;
	/* Optional (reward scoring): when out_rows is set, logits only of
	 * these n_out rows of the step (indices into ids), in this order;
	 * all_rows is then ignored. */
	const int32_t *out_rows;
	int n_out;
} tts_step;

/* Run the step; logits of the last new token of each sequence (all_rows 0:
 * [n_seqs][vocab]) or of every new token (all_rows 1: [rows][vocab]) are
 * left in e->logits (backend memory).  Returns the number of logit rows. */
int tts_forward(tts_engine *e, const tts_step *st, int all_rows);

/* One decode step (every q_len 1) and its sampling: the tokens and their
 * log-probabilities (tts_ops.sample) into tok and logprob, with the
 * per-row parameters p — all three in backend memory.  On a backend with
 * graphs each shape is run once, then recorded and replayed (the batch is
 * uploaded before the replay; TTS_CUDA_GRAPHS=0 turns it off). */
void tts_decode(tts_engine *e, const tts_step *st, const tts_sample_params *p, int32_t *tok,
		float *logprob);

/* Width of a logits row: the vocabulary, or a sequence-classification
 * model's n_labels. */
static inline int tts_head_width(const tts_model *m) { return m->n_labels ? m->n_labels : m->vocab; }

/* Mamba state helpers over every Mamba layer. */
void tts_engine_slot_zero(tts_engine *e, int slot);
void tts_engine_slot_copy(tts_engine *e, int dst, int src);
void tts_engine_block_copy(tts_engine *e, int dst, int src);

/* Analytic FLOPs of n tokens following ctx0 tokens of context, with
 * logits computed for logit_rows of them (formula in tts-generate(1)). */
double tts_flops(const tts_model *m, int ctx0, int n, int logit_rows);

#endif
