/* model.c — tts_model_load: read the config (config.c), map the weights
 * (weights.c: safetensors or torch zips), and bind every tensor the
 * architecture needs, checking presence, dtype and shape first. */
#include "model.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tts.h"
#include "weights.h"

typedef struct {
	tts_weights w;
	enum tts_family fam;
} model_priv;

/* ------------------------------------------------------------ tensors */

size_t
tts_tensor_numel(const tts_tensor *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= (size_t)t->shape[i];
	return t->data ? n : 0;
}

static float
half_to_float(uint16_t h)
{
	uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f, f = h & 0x3ff, bits;
	if (e == 0) {
		if (f == 0)
			bits = s;
		else {                           /* subnormal: normalise */
			e = 127 - 15 + 1;
			while (!(f & 0x400)) {
				f <<= 1;
				e--;
			}
			bits = s | e << 23 | (f & 0x3ff) << 13;
		}
	} else if (e == 31)
		bits = s | 0x7f800000u | f << 13;
	else
		bits = s | (e + 127 - 15) << 23 | f << 13;
	float out;
	memcpy(&out, &bits, 4);
	return out;
}

float
tts_tensor_get(const tts_tensor *t, size_t i)
{
	const unsigned char *p = t->data;
	float f;
	uint16_t h;
	uint32_t b;
	switch (t->dtype) {
	case TTS_F32:
		memcpy(&f, p + 4 * i, 4);
		return f;
	case TTS_F16:
		memcpy(&h, p + 2 * i, 2);
		return half_to_float(h);
	case TTS_BF16:
		memcpy(&h, p + 2 * i, 2);
		b = (uint32_t)h << 16;
		memcpy(&f, &b, 4);
		return f;
	}
	return NAN;
}

void
tts_tensor_to_f32(const tts_tensor *t, float *dst)
{
	size_t n = tts_tensor_numel(t);
	if (t->dtype == TTS_F32) {
		memcpy(dst, t->data, n * 4);
		return;
	}
	for (size_t i = 0; i < n; i++)
		dst[i] = tts_tensor_get(t, i);
}

/* ------------------------------------------------------------ binding */

typedef struct {
	const char *dir;
	tts_weights *w;
	char *err;
	size_t errlen;
} bctx;

static void
shape_str(char *buf, size_t n, int nd, const int64_t *s)
{
	size_t o = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < nd && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)s[i]);
	if (o < n)
		snprintf(buf + o, n - o, "]");
}

/* Bind dst to tensor `name`, which must have shape s[0..nd) (optional:
 * absent is allowed).  name is printf-formatted with the layer index. */
static int
bind(bctx *b, tts_tensor *dst, int optional, int nd, const int64_t *s, const char *fmt, ...)
{
	char name[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	tts_wtensor *t = tts_weights_find(b->w, name);
	memset(dst, 0, sizeof *dst);
	if (!t) {
		if (optional)
			return 0;
		char want[128];
		shape_str(want, sizeof want, nd, s);
		return tts_fail(b->err, b->errlen, "%s: tensor %s %s is missing", b->dir, name, want);
	}
	const char *file = b->w->files[t->file].path;
	if (t->dtype != WD_F32 && t->dtype != WD_F16 && t->dtype != WD_BF16)
		return tts_fail(b->err, b->errlen, "%s: %s: dtype %s, expected F32, F16 or BF16", file, name,
			    tts_wdtype_name(t->dtype));
	int same = t->ndim == nd;
	for (int i = 0; same && i < nd; i++)
		same = t->shape[i] == s[i];
	if (!same) {
		char got[128], want[128];
		shape_str(got, sizeof got, t->ndim, t->shape);
		shape_str(want, sizeof want, nd, s);
		return tts_fail(b->err, b->errlen, "%s: %s: shape %s, but config.json implies %s", file, name, got, want);
	}
	t->used = 1;
	dst->name = t->name;
	dst->data = t->data;
	dst->dtype = t->dtype == WD_F32 ? TTS_F32 : t->dtype == WD_F16 ? TTS_F16 : TTS_BF16;
	dst->ndim = nd;
	for (int i = 0; i < nd; i++)
		dst->shape[i] = s[i];
	return 0;
}

#define S1(a) 1, (int64_t[]){(a)}
#define S2(a, b) 2, (int64_t[]){(a), (b)}
#define S3(a, b, c) 3, (int64_t[]){(a), (b), (c)}

static int
bind_attn(bctx *b, tts_model *m, tts_layer *L, const char *p, int i)
{
	int64_t D = m->d_model, q = (int64_t)m->n_heads * m->head_dim, kv = (int64_t)m->n_kv_heads * m->head_dim;
	return bind(b, &L->wq, 0, S2(q, D), "%slayers.%d.self_attn.q_proj.weight", p, i) ||
	       bind(b, &L->wk, 0, S2(kv, D), "%slayers.%d.self_attn.k_proj.weight", p, i) ||
	       bind(b, &L->wv, 0, S2(kv, D), "%slayers.%d.self_attn.v_proj.weight", p, i) ||
	       bind(b, &L->wo, 0, S2(D, q), "%slayers.%d.self_attn.o_proj.weight", p, i) ||
	       bind(b, &L->bq, 1, S1(q), "%slayers.%d.self_attn.q_proj.bias", p, i) ||
	       bind(b, &L->bk, 1, S1(kv), "%slayers.%d.self_attn.k_proj.bias", p, i) ||
	       bind(b, &L->bv, 1, S1(kv), "%slayers.%d.self_attn.v_proj.bias", p, i) ||
	       bind(b, &L->bo, 1, S1(D), "%slayers.%d.self_attn.o_proj.bias", p, i) ? -1 : 0;
}

static int
bind_mamba2(bctx *b, tts_model *m, tts_layer *L, const char *p, int i, const char *mx)
{
	int64_t D = m->d_model, I = m->m2_d_inner, C = m->m2_conv_dim, H = m->m2_heads;
	return bind(b, &L->in_proj, 0, S2(I + C + H, D), "%slayers.%d.%s.in_proj.weight", p, i, mx) ||
	       bind(b, &L->conv_w, 0, S3(C, 1, m->m2_conv), "%slayers.%d.%s.conv1d.weight", p, i, mx) ||
	       bind(b, &L->conv_b, 1, S1(C), "%slayers.%d.%s.conv1d.bias", p, i, mx) ||
	       bind(b, &L->dt_bias, 0, S1(H), "%slayers.%d.%s.dt_bias", p, i, mx) ||
	       bind(b, &L->A_log, 0, S1(H), "%slayers.%d.%s.A_log", p, i, mx) ||
	       bind(b, &L->Dskip, 0, S1(H), "%slayers.%d.%s.D", p, i, mx) ||
	       bind(b, &L->gnorm, 0, S1(I), "%slayers.%d.%s.norm.weight", p, i, mx) ||
	       bind(b, &L->out_proj, 0, S2(D, I), "%slayers.%d.%s.out_proj.weight", p, i, mx) ? -1 : 0;
}

static int
bind_mamba1(bctx *b, tts_model *m, tts_layer *L, const char *p, int i)
{
	int64_t D = m->d_model, E = m->m1_d_inner, X = m->m1_d_xb, R = m->m1_dt_rank, N = m->m1_state;
	return bind(b, &L->m1_x, 0, S2(X, D), "%slayers.%d.mamba.in_proj_x.weight", p, i) ||
	       bind(b, &L->m1_z, 0, S2(E, D), "%slayers.%d.mamba.in_proj_z.weight", p, i) ||
	       bind(b, &L->m1_B, 0, S2(X, D), "%slayers.%d.mamba.B_proj.weight", p, i) ||
	       bind(b, &L->m1_C, 0, S2(E, D), "%slayers.%d.mamba.C_proj.weight", p, i) ||
	       bind(b, &L->m1_dt_down, 0, S2(R, D), "%slayers.%d.mamba.dt_proj_down.weight", p, i) ||
	       bind(b, &L->m1_dt_w, 0, S2(E, R), "%slayers.%d.mamba.dt_proj.weight", p, i) ||
	       bind(b, &L->m1_dt_b, 0, S1(E), "%slayers.%d.mamba.dt_proj.bias", p, i) ||
	       bind(b, &L->conv_w, 0, S3(E, 1, m->m1_conv), "%slayers.%d.mamba.conv1d.weight", p, i) ||
	       bind(b, &L->conv_b, 1, S1(E), "%slayers.%d.mamba.conv1d.bias", p, i) ||
	       bind(b, &L->A_log, 0, S2(E, N), "%slayers.%d.mamba.A_log", p, i) ||
	       bind(b, &L->Dskip, 0, S1(E), "%slayers.%d.mamba.D", p, i) ||
	       bind(b, &L->out_proj, 0, S2(D, E), "%slayers.%d.mamba.out_proj.weight", p, i) ? -1 : 0;
}

static int
bind_all(bctx *b, tts_model *m, enum tts_family fam)
{
	int64_t D = m->d_model, V = m->vocab, F = m->d_ff;
	const char *p = fam == FAM_MAMBA2 ? "backbone." : "model.";
	const char *post = fam == FAM_BAMBA ? "pre_ff_layernorm" : "post_attention_layernorm";
	const char *mlp = fam == FAM_BAMBA ? "feed_forward" : "mlp";
	if (fam == FAM_MAMBA2) {
		const char *emb = tts_weights_find(b->w, "backbone.embedding.weight") ? "backbone.embedding.weight"
										  : "backbone.embeddings.weight";
		if (bind(b, &m->embed, 0, S2(V, D), "%s", emb) ||
		    bind(b, &m->final_norm, 0, S1(D), "backbone.norm_f.weight"))
			return -1;
	} else if (bind(b, &m->embed, 0, S2(V, D), "model.embed_tokens.weight") ||
		   bind(b, &m->final_norm, 0, S1(D), fam == FAM_BAMBA ? "model.final_layernorm.weight" : "model.norm.weight"))
		return -1;
	if (m->n_labels) {    /* sequence classification: score head, no lm_head */
		if (bind(b, &m->score, 0, S2(m->n_labels, D), "score.weight"))
			return -1;
	} else if (bind(b, &m->lm_head, m->tied, S2(V, D), "lm_head.weight"))
		return -1;
	if (m->tied)
		m->lm_head = m->embed;
	for (int i = 0; i < m->n_layers; i++) {
		tts_layer *L = &m->layers[i];
		if (bind(b, &L->in_norm, 0, S1(D), fam == FAM_MAMBA2 ? "%slayers.%d.norm.weight"
								      : "%slayers.%d.input_layernorm.weight", p, i))
			return -1;
		int rc = L->mixer == MIXER_ATTN ? bind_attn(b, m, L, p, i)
			: L->mixer == MIXER_MAMBA1 ? bind_mamba1(b, m, L, p, i)
			: bind_mamba2(b, m, L, p, i, fam == FAM_MAMBA2 ? "mixer" : "mamba");
		if (rc)
			return -1;
		if (L->has_mlp && (bind(b, &L->post_norm, 0, S1(D), "%slayers.%d.%s.weight", p, i, post) ||
				   bind(b, &L->gate, 0, S2(F, D), "%slayers.%d.%s.gate_proj.weight", p, i, mlp) ||
				   bind(b, &L->up, 0, S2(F, D), "%slayers.%d.%s.up_proj.weight", p, i, mlp) ||
				   bind(b, &L->down, 0, S2(D, F), "%slayers.%d.%s.down_proj.weight", p, i, mlp)))
			return -1;
	}
	return 0;
}

/* MambaInLlama: Mamba2 or Mamba-1 layers, told apart by their tensors. */
static int
mil_kind_from_names(const tts_weights *w)
{
	for (size_t i = 0; i < w->n; i++) {
		const char *n = w->t[i].name, *d = strstr(n, ".mamba.");
		if (!d || strncmp(n, "model.layers.", 13) != 0)
			continue;
		if (strcmp(d, ".mamba.in_proj_x.weight") == 0)
			return MIXER_MAMBA1;
		if (strcmp(d, ".mamba.in_proj.weight") == 0)
			return MIXER_MAMBA2;
	}
	return -1;
}

int
tts_model_open(const char *dir_arg, tts_model **out, char *err, size_t errlen)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", dir_arg);
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = 0;
	tts_model *m = ecalloc(1, sizeof *m);
	model_priv *pv = ecalloc(1, sizeof *pv);
	m->priv = pv;
	tts_weights_init(&pv->w);
	*out = NULL;
	/* A MambaInLlama directory: the tensors say whether its layers are
	 * Mamba2 or Mamba-1, so read them before mamba_config.json. */
	char cpath[4200], mpath[4200];
	snprintf(cpath, sizeof cpath, "%s/config.json", dir);
	snprintf(mpath, sizeof mpath, "%s/mamba_config.json", dir);
	int early = access(cpath, F_OK) == 0 && access(mpath, F_OK) == 0, kind = -1;
	if (early) {
		if (tts_weights_open_dir(&pv->w, dir, err, errlen))
			goto bad;
		kind = mil_kind_from_names(&pv->w);
	}
	if (tts_config_read(dir, m, kind, &pv->fam, err, errlen) ||
	    (!early && tts_weights_open_dir(&pv->w, dir, err, errlen)))
		goto bad;
	bctx b = {dir, &pv->w, err, errlen};
	if (bind_all(&b, m, pv->fam))
		goto bad;
	*out = m;
	return 0;
bad:
	tts_model_free(m);
	return -1;
}

tts_model *
tts_model_load(const char *dir)
{
	char err[1024];
	tts_model *m;
	if (tts_model_open(dir, &m, err, sizeof err))
		eprintf("%s", err);
	return m;
}

void
tts_model_free(tts_model *m)
{
	if (!m)
		return;
	model_priv *pv = m->priv;
	if (pv) {
		tts_weights_free(&pv->w);
		free(pv);
	}
	free(m->layers);
	free(m);
}

static const size_t layer_tensors[] = {
	offsetof(tts_layer, in_norm), offsetof(tts_layer, wq), offsetof(tts_layer, wk), offsetof(tts_layer, wv),
	offsetof(tts_layer, wo), offsetof(tts_layer, bq), offsetof(tts_layer, bk), offsetof(tts_layer, bv),
	offsetof(tts_layer, bo), offsetof(tts_layer, in_proj), offsetof(tts_layer, conv_w), offsetof(tts_layer, conv_b),
	offsetof(tts_layer, dt_bias), offsetof(tts_layer, A_log), offsetof(tts_layer, Dskip), offsetof(tts_layer, gnorm),
	offsetof(tts_layer, out_proj), offsetof(tts_layer, m1_x), offsetof(tts_layer, m1_z), offsetof(tts_layer, m1_B),
	offsetof(tts_layer, m1_C), offsetof(tts_layer, m1_dt_down), offsetof(tts_layer, m1_dt_w),
	offsetof(tts_layer, m1_dt_b), offsetof(tts_layer, post_norm), offsetof(tts_layer, gate), offsetof(tts_layer, up),
	offsetof(tts_layer, down),
};

void
tts_model_foreach_tensor(const tts_model *m, void (*fn)(const tts_tensor *, void *), void *arg)
{
	fn(&m->embed, arg);
	if (m->n_labels)
		fn(&m->score, arg);
	else if (!m->tied)
		fn(&m->lm_head, arg);
	fn(&m->final_norm, arg);
	for (int i = 0; i < m->n_layers; i++)
		for (size_t k = 0; k < sizeof layer_tensors / sizeof *layer_tensors; k++)
			fn((const tts_tensor *)((const char *)&m->layers[i] + layer_tensors[k]), arg);
}

static void
count(const tts_tensor *t, void *arg)
{
	*(int64_t *)arg += (int64_t)tts_tensor_numel(t);
}

int64_t
tts_model_params(const tts_model *m)
{
	int64_t n = 0;
	tts_model_foreach_tensor(m, count, &n);
	return n;
}

int
tts_model_unused(const tts_model *m, const char **first)
{
	const model_priv *pv = m->priv;
	int n = 0;
	*first = NULL;
	for (size_t i = 0; pv && i < pv->w.n; i++)
		if (!pv->w.t[i].used) {
			if (!n)
				*first = pv->w.t[i].name;
			n++;
		}
	return n;
}

const char *
tts_model_format(const tts_model *m)
{
	const model_priv *pv = m->priv;
	return pv && pv->w.format ? pv->w.format : "?";
}
