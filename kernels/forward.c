/* forward.c — the forward pass of every supported model, written once as a
 * sequence of tts_ops calls (checkpoints.md section 3 for the formulas):
 *
 *   h = embed[ids]
 *   per layer:  h += mixer(rmsnorm(h))      attention | Mamba2 | Mamba-1
 *               h += down(silu(gate(x)) * up(x)),  x = rmsnorm_post(h)   (when the layer has an MLP)
 *   logits = lm_head(rmsnorm_final(h[last row of each sequence]))
 */
#include "forward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tts.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))

static void graphs_free(tts_engine *e);

static tts_w *
wt(const tts_ops *o, const tts_tensor *t)
{
	return t->data ? o->weight(t) : NULL;
}

static float *
vc(const tts_ops *o, const tts_tensor *t)
{
	return t->data ? o->vec(t) : NULL;
}

/* RoPE inverse frequencies as transformers computes them: base^(-2i/dim),
 * and for rope_type llama3 the wavelength-dependent scaling of
 * _compute_llama3_parameters. */
static void
rope_inv_freq(const tts_model *m, float *f)
{
	int dim = m->rope_dim;
	for (int i = 0; i < dim / 2; i++) {
		double inv = 1.0 / pow(m->rope_theta, (double)(2 * i) / dim);
		if (m->rope == ROPE_LLAMA3) {
			double lo_wl = m->rope_orig_max_pos / m->rope_low_freq;
			double hi_wl = m->rope_orig_max_pos / m->rope_high_freq;
			double wl = 2 * M_PI / inv;
			if (wl > lo_wl) {
				inv /= m->rope_factor;
			} else if (wl >= hi_wl) {
				double sm = (m->rope_orig_max_pos / wl - m->rope_low_freq) /
					    (m->rope_high_freq - m->rope_low_freq);
				inv = (1 - sm) * inv / m->rope_factor + sm * inv;
			}
		}
		f[i] = (float)inv;
	}
}

/* The rows of matrices (or the elements of vectors) a, b[, c] stacked into
 * one backend tensor, so one GEMM computes all the projections of one
 * input: q|k|v, gate|up.  NULL when the backend does not pack (ops.h), or
 * any is absent, or they differ in dtype or row width. */
static void *
packed(const tts_ops *o, const tts_tensor *a, const tts_tensor *b, const tts_tensor *c, int mat)
{
	const tts_tensor *ts[3] = { a, b, c };
	int n = c ? 3 : 2;
	if (!o->pack)
		return NULL;
	size_t es = a->dtype == TTS_F32 ? 4 : 2, tot = 0, rows = 0;
	for (int i = 0; i < n; i++) {
		const tts_tensor *t = ts[i];
		if (!t->data || t->dtype != a->dtype || t->ndim != a->ndim ||
		    (t->ndim == 2 && t->shape[1] != a->shape[1]))
			return NULL;
		tot += tts_tensor_numel(t);
		rows += t->shape[0];
	}
	char *buf = emalloc(tot * es), *p = buf;
	for (int i = 0; i < n; i++) {
		memcpy(p, ts[i]->data, tts_tensor_numel(ts[i]) * es);
		p += tts_tensor_numel(ts[i]) * es;
	}
	tts_tensor t = *a;
	t.name = "packed", t.data = buf, t.shape[0] = (int64_t)rows;
	void *r = mat ? (void *)o->weight(&t) : (void *)o->vec(&t);
	free(buf);
	return r;
}

static void
layer_new(tts_engine *e, int i)
{
	const tts_ops *o = e->ops;
	const tts_model *m = e->m;
	const tts_layer *l = &m->layers[i];
	tts_engine_layer *L = &e->L[i];
	L->in_norm = vc(o, &l->in_norm);
	if (l->has_mlp) {
		L->post_norm = vc(o, &l->post_norm);
		L->gate_up = packed(o, &l->gate, &l->up, NULL, 1);
		if (!L->gate_up) {
			L->gate = wt(o, &l->gate);
			L->up = wt(o, &l->up);
		}
		L->down = wt(o, &l->down);
	}
	switch (l->mixer) {
	case MIXER_ATTN:
		L->wqkv = packed(o, &l->wq, &l->wk, &l->wv, 1);
		if (L->wqkv && l->bq.data) {
			L->bqkv = packed(o, &l->bq, &l->bk, &l->bv, 0);
			if (!L->bqkv) {
				o->weight_free(L->wqkv);
				L->wqkv = NULL;
			}
		}
		if (!L->wqkv) {
			L->wq = wt(o, &l->wq); L->wk = wt(o, &l->wk);
			L->wv = wt(o, &l->wv);
			L->bq = vc(o, &l->bq); L->bk = vc(o, &l->bk);
			L->bv = vc(o, &l->bv);
		}
		L->wo = wt(o, &l->wo);
		L->bo = vc(o, &l->bo);
		L->kc = o->kv_alloc(e->n_blocks, m->n_kv_heads, m->head_dim);
		L->vc = o->kv_alloc(e->n_blocks, m->n_kv_heads, m->head_dim);
		break;
	case MIXER_MAMBA2:
	case MIXER_MAMBA1:
		if (l->mixer == MIXER_MAMBA2) {
			L->in_proj = wt(o, &l->in_proj);
			L->in_w = (int)l->in_proj.shape[0];
			L->gnorm = vc(o, &l->gnorm);
			L->dt_bias = vc(o, &l->dt_bias);
		} else {
			L->m1_x = wt(o, &l->m1_x); L->m1_z = wt(o, &l->m1_z);
			L->m1_B = wt(o, &l->m1_B); L->m1_C = wt(o, &l->m1_C);
			L->m1_dt_down = wt(o, &l->m1_dt_down);
			L->m1_dt_w = wt(o, &l->m1_dt_w);
			L->m1_dt_b = vc(o, &l->m1_dt_b);
		}
		L->out_proj = wt(o, &l->out_proj);
		L->conv_w = vc(o, &l->conv_w);
		L->conv_b = vc(o, &l->conv_b);
		L->A_log = vc(o, &l->A_log);
		L->D = vc(o, &l->Dskip);
		L->conv_state = o->state_alloc(e->n_slots, e->conv_floats);
		L->ssm_state = o->state_alloc(e->n_slots, e->ssm_floats);
		break;
	}
}

tts_engine *
tts_engine_new(const tts_ops *o, const tts_model *m, int n_blocks, int n_slots, int max_rows,
	       int max_ctx)
{
	tts_engine *e = ecalloc(1, sizeof *e);
	e->ops = o;
	e->m = m;
	e->n_blocks = n_blocks;
	e->n_slots = n_slots;
	e->max_rows = max_rows;
	e->max_blocks = (max_ctx + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK;
	int D = m->d_model, F = m->d_ff, qd = m->n_heads * m->head_dim;
	int kvd = m->n_kv_heads * m->head_dim;
	int E = m->m1_d_inner, X = m->m1_d_xb;
	if (m->m2_heads) {
		e->conv_floats = (size_t)m->m2_conv_dim * (m->m2_conv - 1);
		e->ssm_floats = (size_t)m->m2_heads * m->m2_headdim * m->m2_state;
	}
	if (E) {
		e->conv_floats = MAX(e->conv_floats, (size_t)E * (m->m1_conv - 1));
		e->ssm_floats = MAX(e->ssm_floats, (size_t)E * m->m1_state);
	}
	size_t in_rows = m->m2_heads ? (size_t)m->layers[0].in_proj.shape[0] : 0;
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].mixer == MIXER_MAMBA2)
			in_rows = m->layers[i].in_proj.shape[0];
	e->big_w = MAX(MAX((size_t)qd + 2 * kvd, 2 * (size_t)F),
		       MAX(in_rows, 2 * (size_t)X + 3 * (size_t)E + m->m1_dt_rank));
	size_t yw = MAX(MAX(qd, m->m2_d_inner), MAX(E, D));
	size_t y2w = MAX(m->m2_conv_dim, E);
	size_t R = max_rows;
	e->h = o->alloc(R * D * sizeof(float));
	e->xn = o->alloc(R * D * sizeof(float));
	e->mix = o->alloc(R * D * sizeof(float));
	e->big = o->alloc(R * e->big_w * sizeof(float));
	/* the packed q|k|v or gate|up rows before they are split */
	e->pk = o->alloc(o->pack ? R * MAX((size_t)qd + 2 * kvd, 2 * (size_t)F) * sizeof(float) : 1);
	e->y = o->alloc(R * yw * sizeof(float));
	e->y2 = o->alloc(R * MAX(y2w, 1) * sizeof(float));
	e->logits = o->alloc(R * (size_t)m->vocab * sizeof(float));
	e->d_ids = o->alloc(R * sizeof(int32_t));
	e->d_out = o->alloc(R * sizeof(int32_t));
	/* batch arrays: q_start q_len ctx_len slot [R each], pos kv_slot
	 * seq_of_row [R each], block_table [R][max_blocks] */
	size_t nb = 7 * R + R * (size_t)MAX(e->max_blocks, 1);
	e->hbuf = ecalloc(nb, sizeof(int32_t));
	e->dbuf = o->alloc(nb * sizeof(int32_t));

	e->embed = o->weight(&m->embed);
	/* a sequence-classification model's score head takes lm_head's place:
	 * its "logits" are the n_labels scores (tts_head_width) */
	e->lm_head = m->n_labels ? o->weight(&m->score) : m->tied ? e->embed : o->weight(&m->lm_head);
	e->final_norm = o->vec(&m->final_norm);
	if (m->rope != ROPE_NONE && m->rope_dim > 0) {
		float *f = emalloc(m->rope_dim / 2 * sizeof(float) + 1);
		rope_inv_freq(m, f);
		e->inv_freq = o->alloc(m->rope_dim / 2 * sizeof(float) + 1);
		o->upload(e->inv_freq, f, m->rope_dim / 2 * sizeof(float));
		free(f);
	}
	e->L = ecalloc(m->n_layers, sizeof *e->L);
	for (int i = 0; i < m->n_layers; i++)
		layer_new(e, i);
	return e;
}

void
tts_engine_free(tts_engine *e)
{
	if (!e)
		return;
	const tts_ops *o = e->ops;
	for (int i = 0; i < e->m->n_layers; i++) {
		tts_engine_layer *L = &e->L[i];
		tts_w *ws[] = { L->wq, L->wk, L->wv, L->wo, L->in_proj, L->out_proj, L->gate,
				L->up, L->down, L->m1_x, L->m1_z, L->m1_B, L->m1_C,
				L->m1_dt_down, L->m1_dt_w, L->wqkv, L->gate_up };
		for (size_t j = 0; j < sizeof ws / sizeof ws[0]; j++)
			if (ws[j])
				o->weight_free(ws[j]);
		float *vs[] = { L->in_norm, L->post_norm, L->bq, L->bk, L->bv, L->bo, L->conv_w,
				L->conv_b, L->dt_bias, L->A_log, L->D, L->gnorm, L->m1_dt_b,
				L->bqkv };
		for (size_t j = 0; j < sizeof vs / sizeof vs[0]; j++)
			o->free(vs[j]);
		o->free(L->kc); o->free(L->vc);
		o->free(L->conv_state); o->free(L->ssm_state);
	}
	free(e->L);
	graphs_free(e);
	if (e->lm_head != e->embed)
		o->weight_free(e->lm_head);
	o->weight_free(e->embed);
	float *bufs[] = { e->final_norm, e->inv_freq, e->h, e->xn, e->mix, e->big, e->y,
			  e->y2, e->logits, e->pk };
	for (size_t j = 0; j < sizeof bufs / sizeof bufs[0]; j++)
		o->free(bufs[j]);
	o->free(e->d_ids); o->free(e->d_out); o->free(e->dbuf);
	free(e->hbuf);
	free(e);
}

/* Fill the host batch from the step and upload it; returns rows. */
static int
batch_upload(tts_engine *e, const tts_step *st)
{
	int R = e->max_rows, n = st->n_seqs, mb = MAX(e->max_blocks, 1);
	int32_t *H = e->hbuf, *q_start = H, *pos = H + 4 * R, *kv_slot = H + 5 * R;
	int32_t *sor = H + 6 * R, *bt = H + 7 * R;
	int rows = 0, maxq = 0, maxc = 0;
	for (int s = 0; s < n; s++) {
		int q = st->q_len[s], c = st->ctx_len[s];
		if (rows + q > R || c > e->max_blocks * TTS_KV_BLOCK)
			eprintf("internal error: step of %d rows or context %d too large", rows + q, c);
		q_start[s] = rows;
		for (int i = 0; i < q; i++) {
			int p = c - q + i;
			pos[rows + i] = p;
			sor[rows + i] = s;
			kv_slot[rows + i] = st->blocks && st->blocks[s] ?
				st->blocks[s][p / TTS_KV_BLOCK] * TTS_KV_BLOCK + p % TTS_KV_BLOCK : 0;
		}
		if (st->blocks && st->blocks[s])
			memcpy(bt + (size_t)s * mb, st->blocks[s],
			       (c + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK * sizeof(int32_t));
		rows += q;
		maxq = MAX(maxq, q);
		maxc = MAX(maxc, c);
	}
	memcpy(H + R, st->q_len, n * sizeof(int32_t));
	memcpy(H + 2 * R, st->ctx_len, n * sizeof(int32_t));
	memcpy(H + 3 * R, st->slot, n * sizeof(int32_t));
	const tts_ops *o = e->ops;
	o->upload(e->dbuf, H, (7 * (size_t)R + (size_t)n * mb) * sizeof(int32_t));
	o->upload(e->d_ids, st->ids, rows * sizeof(int32_t));
	int32_t *D = e->dbuf;
	e->db = (tts_batch){ .n_seqs = n, .rows = rows, .q_start = D, .q_len = D + R,
		.ctx_len = D + 2 * R, .slot = D + 3 * R, .pos = D + 4 * R,
		.kv_slot = D + 5 * R, .seq_of_row = D + 6 * R, .block_table = D + 7 * R,
		.max_blocks = mb, .max_q_len = maxq, .max_ctx = maxc };
	return rows;
}

static void
attention(tts_engine *e, tts_engine_layer *L, int rows)
{
	const tts_ops *o = e->ops;
	const tts_model *m = e->m;
	size_t R = e->max_rows;
	int hd = m->head_dim, qd = m->n_heads * hd, kvd = m->n_kv_heads * hd;
	float *q = e->big, *k = q + R * qd, *v = k + R * kvd;
	if (L->wqkv) {          /* one GEMM, then split (and rotated) */
		o->matmul(e->pk, L->wqkv, e->xn, rows);
		if (L->bqkv)
			o->add_bias(e->pk, L->bqkv, rows, qd + 2 * kvd);
		if (o->split_rope_kv)           /* k and v go straight to the cache */
			o->split_rope_kv(q, L->kc, L->vc, e->pk, &e->db, m->n_heads, m->n_kv_heads,
					 hd, m->rope_dim, e->inv_freq);
		else
			o->split_rope(q, k, v, e->pk, e->db.pos, rows, m->n_heads, m->n_kv_heads, hd,
				      m->rope_dim, e->inv_freq);
	} else {
		o->matmul(q, L->wq, e->xn, rows);
		o->matmul(k, L->wk, e->xn, rows);
		o->matmul(v, L->wv, e->xn, rows);
		if (L->bq) {
			o->add_bias(q, L->bq, rows, qd);
			o->add_bias(k, L->bk, rows, kvd);
			o->add_bias(v, L->bv, rows, kvd);
		}
		if (e->inv_freq) {
			o->rope(q, e->db.pos, rows, m->n_heads, hd, m->rope_dim, e->inv_freq);
			o->rope(k, e->db.pos, rows, m->n_kv_heads, hd, m->rope_dim, e->inv_freq);
		}
	}
	if (!(L->wqkv && o->split_rope_kv))
		o->kv_write(L->kc, L->vc, k, v, &e->db, m->n_kv_heads, hd);
	o->attention(e->y, q, L->kc, L->vc, &e->db, m->n_heads, m->n_kv_heads, hd);
	o->matmul(e->mix, L->wo, e->y, rows);
	if (L->bo)
		o->add_bias(e->mix, L->bo, rows, m->d_model);
}

/* in_proj -> [z | xBC | dt]; conv+silu on xBC; SSD; gated norm with z; out_proj */
static void
mamba2(tts_engine *e, tts_engine_layer *L, int rows)
{
	const tts_ops *o = e->ops;
	const tts_model *m = e->m;
	float *zxbcdt = e->big;
	int w = L->in_w;
	o->matmul(zxbcdt, L->in_proj, e->xn, rows);
	o->conv1d(e->y2, zxbcdt + m->m2_xbc_off, w, L->conv_state, L->conv_w, L->conv_b,
		  &e->db, m->m2_conv_dim, m->m2_conv);
	o->ssd(e->y, e->y2, zxbcdt + m->m2_dt_off, w, L->ssm_state, L->dt_bias, L->A_log,
	       L->D, m, &e->db);
	o->gated_rmsnorm(e->y, e->y, zxbcdt + m->m2_z_off, w, L->gnorm, rows, m->m2_d_inner,
			 m->m2_norm_group, m->norm_eps);
	o->matmul(e->mix, L->out_proj, e->y, rows);
}

/* MambaInLlama Mamba-1 (checkpoints.md section 7) */
static void
mamba1(tts_engine *e, tts_engine_layer *L, int rows)
{
	const tts_ops *o = e->ops;
	const tts_model *m = e->m;
	size_t R = e->max_rows;
	int E = m->m1_d_inner, X = m->m1_d_xb, N = m->m1_state;
	float *xr = e->big, *z = xr + R * X, *Br = z + R * E, *Cr = Br + R * X;
	float *r = Cr + R * E, *dt = r + R * m->m1_dt_rank;
	o->matmul(xr, L->m1_x, e->xn, rows);
	o->matmul(z, L->m1_z, e->xn, rows);
	o->matmul(Br, L->m1_B, e->xn, rows);
	o->matmul(Cr, L->m1_C, e->xn, rows);
	o->matmul(r, L->m1_dt_down, e->xn, rows);
	o->matmul(dt, L->m1_dt_w, r, rows);
	o->add_bias(dt, L->m1_dt_b, rows, E);       /* nn.Linear's bias: the first time */
	o->repeat_groups(e->y, xr, rows, X / N, N, E / X);
	o->conv1d(e->y2, e->y, E, L->conv_state, L->conv_w, L->conv_b, &e->db, E, m->m1_conv);
	o->m1_scan(e->y, e->y2, dt, L->m1_dt_b, Br, Cr, z, L->ssm_state, L->A_log, L->D, m,
		   &e->db);
	o->matmul(e->mix, L->out_proj, e->y, rows);
}

/* x = rmsnorm_post(h) is already in e->xn */
static void
mlp(tts_engine *e, tts_engine_layer *L, int rows)
{
	const tts_ops *o = e->ops;
	int F = e->m->d_ff;
	float *g = e->big, *u = g + (size_t)e->max_rows * F;
	if (L->gate_up) {
		o->matmul(e->pk, L->gate_up, e->xn, rows);
		o->swiglu_gu(g, e->pk, rows, F);
	} else {
		o->matmul(g, L->gate, e->xn, rows);
		o->matmul(u, L->up, e->xn, rows);
		o->swiglu(g, g, u, rows, F);
	}
	o->matmul(e->mix, L->down, g, rows);
}

/* The layers and the LM head over the uploaded batch (e->db): logits of
 * the n_out rows of h listed in e->d_out.  Each residual add goes into
 * the norm that follows it (add_rmsnorm). */
static void
layers_and_head(tts_engine *e, int rows, int n_out)
{
	const tts_ops *o = e->ops;
	const tts_model *m = e->m;
	int D = m->d_model;
	o->embed(e->h, e->embed, e->d_ids, rows);
	for (int i = 0; i < m->n_layers; i++) {
		tts_engine_layer *L = &e->L[i];
		if (i == 0)
			o->rmsnorm(e->xn, e->h, L->in_norm, rows, D, m->norm_eps);
		else      /* h += the last layer's mixer or MLP output */
			o->add_rmsnorm(e->h, e->mix, e->xn, L->in_norm, rows, D, m->norm_eps);
		switch (m->layers[i].mixer) {
		case MIXER_ATTN: attention(e, L, rows); break;
		case MIXER_MAMBA2: mamba2(e, L, rows); break;
		case MIXER_MAMBA1: mamba1(e, L, rows); break;
		}
		if (m->layers[i].has_mlp) {
			o->add_rmsnorm(e->h, e->mix, e->xn, L->post_norm, rows, D, m->norm_eps);
			mlp(e, L, rows);
		}
	}
	if (m->n_layers > 0)
		o->add(e->h, e->mix, (size_t)rows * D);
	o->gather_rows(e->xn, e->h, e->d_out, n_out, D);
	o->rmsnorm(e->xn, e->xn, e->final_norm, n_out, D, m->norm_eps);
	o->matmul(e->logits, e->lm_head, e->xn, n_out);
}

int
tts_forward(tts_engine *e, const tts_step *st, int all_rows)
{
	int rows = batch_upload(e, st);
	int n_out = st->out_rows ? st->n_out : all_rows ? rows : st->n_seqs;
	int32_t *idx = e->hbuf + 4 * (size_t)e->max_rows;  /* reuse: pos is on the backend now */
	if (st->out_rows)
		memcpy(idx, st->out_rows, n_out * sizeof *idx);
	for (int s = 0, r = 0; !st->out_rows && s < st->n_seqs; r += st->q_len[s], s++) {
		if (all_rows)
			for (int i = 0; i < st->q_len[s]; i++)
				idx[r + i] = r + i;
		else
			idx[s] = r + st->q_len[s] - 1;
	}
	e->ops->upload(e->d_out, idx, n_out * sizeof(int32_t));
	e->dec_idx = 0;
	layers_and_head(e, rows, n_out);
	return n_out;
}

/* ---- decode steps, recorded as graphs ---- */

/* the recorded body: one decode step of e->dec.rows sequences, then sampling */
static void
decode_body(void *ctx)
{
	tts_engine *e = ctx;
	layers_and_head(e, e->dec.rows, e->dec.rows);
	e->ops->sample(e->dec.tok, e->dec.lp, e->logits, e->dec.p, e->dec.rows, e->m->vocab);
}

static void
graphs_free(tts_engine *e)
{
	for (int i = 0; i < e->n_graphs; i++)
		if (e->graphs[i].g)
			e->ops->graph_free(e->graphs[i].g);
	e->n_graphs = 0;
}

void
tts_decode(tts_engine *e, const tts_step *st, const tts_sample_params *p, int32_t *tok,
	   float *logprob)
{
	const tts_ops *o = e->ops;
	int n = st->n_seqs;
	for (int s = 0; s < n; s++)
		if (st->q_len[s] != 1)
			eprintf("internal error: tts_decode: sequence %d has %d new tokens", s,
				st->q_len[s]);
	int rows = batch_upload(e, st);
	if (e->dec_idx != n) {    /* the logits of every row, in order */
		int32_t *idx = e->hbuf + 4 * (size_t)e->max_rows;
		for (int i = 0; i < n; i++)
			idx[i] = i;
		o->upload(e->d_out, idx, n * sizeof(int32_t));
		e->dec_idx = n;
	}
	/* launch shapes follow the context's bucket; the kernels read each
	 * row's own position */
	int cap = e->max_blocks * TTS_KV_BLOCK;
	int bucket = (e->db.max_ctx + TTS_CTX_BUCKET - 1) / TTS_CTX_BUCKET * TTS_CTX_BUCKET;
	e->db.max_ctx = bucket < cap ? bucket : cap;
	e->dec = (tts_decode_args){ rows, p, tok, logprob };
	if (!o->graph_capture) {
		decode_body(e);
		return;
	}
	tts_graph_entry *g = NULL;
	for (int i = 0; i < e->n_graphs && !g; i++) {
		tts_graph_entry *c = &e->graphs[i];
		if (c->rows == rows && c->max_ctx == e->db.max_ctx && c->p == p && c->tok == tok &&
		    c->lp == logprob)
			g = c;
	}
	if (g && g->g && o->graph_launch(g->g))
		return;
	if (g && g->g) {          /* stale: record it again */
		o->graph_free(g->g);
		g->g = NULL;
	}
	if (!g) {   /* a new shape runs once as it is (scratch buffers grow), then is recorded */
		if (e->n_graphs == TTS_GRAPHS)
			graphs_free(e);
		e->graphs[e->n_graphs++] = (tts_graph_entry){ rows, e->db.max_ctx, p, tok, logprob, NULL };
		decode_body(e);
		return;
	}
	g->g = o->graph_capture(decode_body, e);
	if (!g->g || !o->graph_launch(g->g))
		decode_body(e);
}

static void
each_state(tts_engine *e, int dst, int src)
{
	for (int i = 0; i < e->m->n_layers; i++) {
		tts_engine_layer *L = &e->L[i];
		if (!L->conv_state)
			continue;
		if (src < 0) {
			e->ops->state_zero(L->conv_state, dst, e->conv_floats);
			e->ops->state_zero(L->ssm_state, dst, e->ssm_floats);
		} else {
			e->ops->state_copy(L->conv_state, dst, src, e->conv_floats);
			e->ops->state_copy(L->ssm_state, dst, src, e->ssm_floats);
		}
	}
}

void tts_engine_slot_zero(tts_engine *e, int slot) { each_state(e, slot, -1); }
void tts_engine_slot_copy(tts_engine *e, int dst, int src) { each_state(e, dst, src); }

void
tts_engine_block_copy(tts_engine *e, int dst, int src)
{
	for (int i = 0; i < e->m->n_layers; i++)
		if (e->L[i].kc)
			e->ops->kv_copy_block(e->L[i].kc, e->L[i].vc, dst, src,
					      e->m->n_kv_heads, e->m->head_dim);
}

static double
numel(const tts_tensor *t)
{
	return t->data ? (double)tts_tensor_numel(t) : 0;
}

/* Per token: 2 FLOPs per matrix weight (lm_head counted only for tokens
 * whose logits are computed), 4*ctx*Hq*hd per attention layer (scores and
 * weighted values over ctx keys), per Mamba2 layer 2*conv_dim*K (conv) +
 * 4*H*P*N (state update and output), per Mamba-1 layer 2*E*K + 4*E*N. */
double
tts_flops(const tts_model *m, int ctx0, int n, int logit_rows)
{
	double mat = 0, attn = 0, ssm = 0;
	for (int i = 0; i < m->n_layers; i++) {
		const tts_layer *l = &m->layers[i];
		mat += numel(&l->gate) + numel(&l->up) + numel(&l->down);
		switch (l->mixer) {
		case MIXER_ATTN:
			mat += numel(&l->wq) + numel(&l->wk) + numel(&l->wv) + numel(&l->wo);
			attn += 4.0 * m->n_heads * m->head_dim;
			break;
		case MIXER_MAMBA2:
			mat += numel(&l->in_proj) + numel(&l->out_proj);
			ssm += 2.0 * m->m2_conv_dim * m->m2_conv +
			       4.0 * m->m2_heads * m->m2_headdim * m->m2_state;
			break;
		case MIXER_MAMBA1:
			mat += numel(&l->m1_x) + numel(&l->m1_z) + numel(&l->m1_B) +
			       numel(&l->m1_C) + numel(&l->m1_dt_down) + numel(&l->m1_dt_w) +
			       numel(&l->out_proj);
			ssm += 2.0 * m->m1_d_inner * m->m1_conv + 4.0 * m->m1_d_inner * m->m1_state;
			break;
		}
	}
	/* sum of contexts ctx0+1 .. ctx0+n */
	double ctx_sum = (double)n * ctx0 + (double)n * (n + 1) / 2;
	return n * (2 * mat + ssm) + attn * ctx_sum +
	       2.0 * logit_rows * m->vocab * m->d_model;
}
