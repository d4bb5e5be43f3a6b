/* config.c — model directory JSON files -> tts_model geometry (config.h).
 * Defaults are transformers' class defaults, since save_pretrained may
 * leave out values equal to them. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tts.h"

typedef struct {
	const char *path;        /* for messages */
	char *err;
	size_t errlen;
} ctx;

json_t *
tts_json_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		tts_fail(err, errlen, "%s: cannot open", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = emalloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = erealloc(buf, cap *= 2);
	}
	fclose(f);
	/* Quote bare NaN / Infinity / -Infinity outside strings. */
	char *out = emalloc(2 * n + 1);
	size_t o = 0;
	int instr = 0;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (instr) {
			out[o++] = c;
			if (c == '\\' && i + 1 < n)
				out[o++] = buf[++i];
			else if (c == '"')
				instr = 0;
			continue;
		}
		if (c == '"')
			instr = 1;
		static const char *const words[] = {"-Infinity", "Infinity", "NaN"};
		int hit = 0;
		for (int w = 0; w < 3 && !hit; w++) {
			size_t wl = strlen(words[w]);
			if (n - i >= wl && memcmp(buf + i, words[w], wl) == 0) {
				out[o++] = '"';
				memcpy(out + o, words[w], wl);
				o += wl;
				out[o++] = '"';
				i += wl - 1;
				hit = 1;
			}
		}
		if (!hit)
			out[o++] = c;
	}
	json_error_t je;
	json_t *j = json_loadb(out, o, 0, &je);
	free(buf);
	free(out);
	if (!j)
		tts_fail(err, errlen, "%s:%d: not JSON: %s", path, je.line, je.text);
	else if (!json_is_object(j)) {
		json_decref(j);
		j = NULL;
		tts_fail(err, errlen, "%s: not a JSON object", path);
	}
	return j;
}

int
tts_json_num(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	/* transformers 5 writes non-finite floats as {"__float__": "Infinity"} */
	const char *s = json_string_value(json_is_object(v) ? json_object_get(v, "__float__") : v);
	if (!s)
		return -1;
	if (strcmp(s, "Infinity") == 0)
		*out = INFINITY;
	else if (strcmp(s, "-Infinity") == 0)
		*out = -INFINITY;
	else if (strcmp(s, "NaN") == 0)
		*out = NAN;
	else
		return -1;
	return 0;
}

/* Getters: a missing key or null gives the default; a wrong type is an error. */
static int
gint(ctx *c, json_t *o, const char *k, long long dflt, long long lo, long long hi, long long *out)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected an integer in [%lld, %lld]", c->path, k, lo, hi);
	*out = json_integer_value(v);
	return 0;
}

/* Sizes: at most 2^20, so that products of two fit an int64 and the
 * products the loader forms (rows of in_proj) fit an int. */
static int
gi(ctx *c, json_t *o, const char *k, long long dflt, int *out)
{
	long long v = dflt;
	if (gint(c, o, k, dflt, 0, 1 << 20, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int
gpos(ctx *c, json_t *o, long long dflt, int *out)
{
	long long v = dflt;
	if (gint(c, o, "max_position_embeddings", dflt, 0, 1 << 30, &v))
		return -1;
	*out = (int)v;
	return 0;
}

static int
gnum(ctx *c, json_t *o, const char *k, double dflt, double *out)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (tts_json_num(v, out))
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected a number", c->path, k);
	return 0;
}

static int
gbool(ctx *c, json_t *o, const char *k, int dflt, int *out)
{
	json_t *v = json_object_get(o, k);
	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v))
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected true or false", c->path, k);
	*out = json_is_true(v);
	return 0;
}

static const char *
gstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
check_act(ctx *c, json_t *o, const char *k)
{
	const char *a = gstr(o, k);
	if (a && strcmp(a, "silu") != 0 && strcmp(a, "swish") != 0)
		return tts_fail(c->err, c->errlen, "%s: \"%s\": %s is not supported (only silu)", c->path, k, a);
	return 0;
}

/* A list of layer indices -> flags[n] (1 = listed). */
static int
index_list(ctx *c, json_t *o, const char *k, int n, int *flags)
{
	json_t *a = json_object_get(o, k), *v;
	size_t i;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected a list of layer indices", c->path, k);
	json_array_foreach(a, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= n)
			return tts_fail(c->err, c->errlen, "%s: \"%s\"[%zu]: expected a layer index in [0, %d)",
				    c->path, k, i, n);
		flags[json_integer_value(v)] = 1;
	}
	return 0;
}

/* RoPE from either schema: rope_parameters {rope_type, rope_theta, ...}
 * (current), or rope_theta + rope_scaling {rope_type|type, ...} (older). */
static int
rope(ctx *c, json_t *cfg, tts_model *m, double dflt_theta, double dflt_partial)
{
	json_t *rp = json_object_get(cfg, "rope_parameters");
	json_t *sc = json_is_object(rp) ? rp : json_object_get(cfg, "rope_scaling");
	double partial;
	if (gnum(c, cfg, "rope_theta", dflt_theta, &m->rope_theta) ||
	    gnum(c, cfg, "partial_rotary_factor", dflt_partial, &partial))
		return -1;
	m->rope = ROPE_PLAIN;
	if (json_is_object(sc)) {
		ctx c2 = *c;
		const char *type = gstr(sc, "rope_type");
		if (!type)
			type = gstr(sc, "type");
		if (gnum(&c2, sc, "rope_theta", m->rope_theta, &m->rope_theta) ||
		    gnum(&c2, sc, "partial_rotary_factor", partial, &partial))
			return -1;
		if (!type || strcmp(type, "default") == 0)
			;
		else if (strcmp(type, "llama3") == 0) {
			m->rope = ROPE_LLAMA3;
			if (gnum(&c2, sc, "factor", 8, &m->rope_factor) ||
			    gnum(&c2, sc, "low_freq_factor", 1, &m->rope_low_freq) ||
			    gnum(&c2, sc, "high_freq_factor", 4, &m->rope_high_freq) ||
			    gi(&c2, sc, "original_max_position_embeddings", 8192, &m->rope_orig_max_pos))
				return -1;
			if (m->rope_factor <= 0 || m->rope_low_freq <= 0 || m->rope_high_freq <= m->rope_low_freq)
				return tts_fail(c->err, c->errlen, "%s: llama3 rope scaling: bad factors", c->path);
		} else
			return tts_fail(c->err, c->errlen, "%s: rope type \"%s\" is not supported (default, llama3)",
				    c->path, type);
	} else if (sc && !json_is_null(sc))
		return tts_fail(c->err, c->errlen, "%s: \"rope_scaling\": expected an object or null", c->path);
	if (!(m->rope_theta > 0))
		return tts_fail(c->err, c->errlen, "%s: rope_theta must be positive", c->path);
	if (!(partial > 0 && partial <= 1))
		return tts_fail(c->err, c->errlen, "%s: partial_rotary_factor must be in (0, 1]", c->path);
	m->rope_dim = (int)(m->head_dim * partial);
	m->rope_dim -= m->rope_dim % 2;
	return 0;
}

/* Attention geometry shared by Llama, Bamba and the MambaInLlama hybrids. */
static int
attention(ctx *c, json_t *cfg, tts_model *m, int dflt_heads, int dflt_kv)
{
	if (gi(c, cfg, "num_attention_heads", dflt_heads, &m->n_heads) ||
	    gi(c, cfg, "num_key_value_heads", dflt_kv ? dflt_kv : m->n_heads, &m->n_kv_heads))
		return -1;
	if (m->n_heads <= 0 || m->n_kv_heads <= 0 || m->n_heads % m->n_kv_heads)
		return tts_fail(c->err, c->errlen, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d",
			    c->path, m->n_heads, m->n_kv_heads);
	if (gi(c, cfg, "head_dim", m->d_model / m->n_heads, &m->head_dim))
		return -1;
	if (m->head_dim <= 0)
		return tts_fail(c->err, c->errlen, "%s: head_dim must be positive", c->path);
	return 0;
}

static int
set_m2(ctx *c, tts_model *m, int H, int P, int N, int d_inner, int x_dim, int b_dim, int xg, int bg, int cg,
       int ng, int K)
{
	if (H <= 0 || P <= 0 || N <= 0 || K <= 0 || xg <= 0 || bg <= 0 || cg <= 0 || H % xg || H % bg || H % cg)
		return tts_fail(c->err, c->errlen, "%s: inconsistent Mamba2 geometry (heads %d, head dim %d, state %d, "
			    "groups x %d B %d C %d)", c->path, H, P, N, xg, bg, cg);
	if ((long long)d_inner + x_dim + b_dim + (long long)cg * N + H > INT32_MAX / 2)
		return tts_fail(c->err, c->errlen, "%s: Mamba2 dimensions too large", c->path);
	if (ng <= 0 || d_inner % ng)
		return tts_fail(c->err, c->errlen, "%s: gated norm group %d does not divide d_inner %d", c->path, ng, d_inner);
	m->m2_heads = H;
	m->m2_headdim = P;
	m->m2_state = N;
	m->m2_conv = K;
	m->m2_d_inner = d_inner;
	m->m2_conv_dim = x_dim + b_dim + cg * N;
	m->m2_x_groups = xg;
	m->m2_b_groups = bg;
	m->m2_c_groups = cg;
	m->m2_norm_group = ng;
	m->m2_z_off = 0;
	m->m2_xbc_off = d_inner;
	m->m2_dt_off = d_inner + m->m2_conv_dim;
	return 0;
}

static int
time_step_limit(ctx *c, json_t *o, const char *k, tts_model *m)
{
	json_t *a = json_object_get(o, k);
	m->m2_dt_min = 0;
	m->m2_dt_max = INFINITY;
	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) != 2 || tts_json_num(json_array_get(a, 0), &m->m2_dt_min) ||
	    tts_json_num(json_array_get(a, 1), &m->m2_dt_max) || !(m->m2_dt_min <= m->m2_dt_max))
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected [min, max]", c->path, k);
	return 0;
}

static void
alloc_layers(tts_model *m, enum tts_mixer kind, int has_mlp)
{
	m->layers = ecalloc((size_t)m->n_layers, sizeof *m->layers);
	for (int i = 0; i < m->n_layers; i++) {
		m->layers[i].mixer = kind;
		m->layers[i].has_mlp = has_mlp;
	}
}

static int
common(ctx *c, json_t *cfg, tts_model *m, int dflt_vocab, int dflt_hidden, int dflt_layers)
{
	if (gi(c, cfg, "vocab_size", dflt_vocab, &m->vocab) || gi(c, cfg, "hidden_size", dflt_hidden, &m->d_model) ||
	    gi(c, cfg, "num_hidden_layers", dflt_layers, &m->n_layers) ||
	    gbool(c, cfg, "tie_word_embeddings", 0, &m->tied))
		return -1;
	if (m->vocab <= 0 || m->d_model <= 0 || m->n_layers <= 0 || m->n_layers > 65536)
		return tts_fail(c->err, c->errlen, "%s: vocab_size, hidden_size and num_hidden_layers must be positive "
			    "(and layers at most 65536)", c->path);
	return 0;
}

static int
llama(ctx *c, json_t *cfg, tts_model *m)
{
	int mlp_bias;
	double eps;
	if (common(c, cfg, m, 32000, 4096, 32) || gi(c, cfg, "intermediate_size", 11008, &m->d_ff) ||
	    gnum(c, cfg, "rms_norm_eps", 1e-6, &eps) || gpos(c, cfg, 2048, &m->max_pos) ||
	    gbool(c, cfg, "mlp_bias", 0, &mlp_bias) || check_act(c, cfg, "hidden_act") ||
	    attention(c, cfg, m, 32, 0) || rope(c, cfg, m, 10000, 1))
		return -1;
	m->norm_eps = (float)eps;
	if (mlp_bias)
		return tts_fail(c->err, c->errlen, "%s: mlp_bias is not supported", c->path);
	alloc_layers(m, MIXER_ATTN, 1);
	return 0;
}

static int
mamba2_hf(ctx *c, json_t *cfg, tts_model *m)
{
	int H, P, N, G, K, bias, rms;
	double eps, expand;
	if (common(c, cfg, m, 32768, 4096, 64) || gi(c, cfg, "num_heads", 128, &H) || gi(c, cfg, "head_dim", 64, &P) ||
	    gi(c, cfg, "state_size", 128, &N) || gi(c, cfg, "n_groups", 8, &G) || gi(c, cfg, "conv_kernel", 4, &K) ||
	    gnum(c, cfg, "expand", 2, &expand) || gnum(c, cfg, "layer_norm_epsilon", 1e-5, &eps) ||
	    gbool(c, cfg, "use_bias", 0, &bias) || gbool(c, cfg, "rms_norm", 1, &rms) ||
	    gbool(c, cfg, "residual_in_fp32", 1, &m->residual_fp32) || check_act(c, cfg, "hidden_act") ||
	    time_step_limit(c, cfg, "time_step_limit", m))
		return -1;
	if (!(expand > 0 && expand <= 64))
		return tts_fail(c->err, c->errlen, "%s: \"expand\" must be in (0, 64]", c->path);
	int I = (int)(expand * m->d_model);
	if (I != (long long)H * P)
		return tts_fail(c->err, c->errlen, "%s: expand * hidden_size = %d but num_heads * head_dim = %lld", c->path, I,
			    (long long)H * P);
	if (bias)
		return tts_fail(c->err, c->errlen, "%s: use_bias (biased in_proj/out_proj) is not supported", c->path);
	if (!rms)
		return tts_fail(c->err, c->errlen, "%s: rms_norm false (no gated norm) is not supported", c->path);
	m->norm_eps = (float)eps;
	m->rope = ROPE_NONE;
	/* transformers' MambaRMSNormGated normalises over the whole d_inner. */
	if (set_m2(c, m, H, P, N, I, I, G * N, H, G, G, I, K))
		return -1;
	alloc_layers(m, MIXER_MAMBA2, 0);
	return 0;
}

static int
bamba(ctx *c, json_t *cfg, tts_model *m)
{
	int H, P, N, G, K, pbias;
	double eps, expand;
	if (common(c, cfg, m, 128000, 4096, 32) || gi(c, cfg, "intermediate_size", 14336, &m->d_ff) ||
	    gnum(c, cfg, "rms_norm_eps", 1e-5, &eps) || gpos(c, cfg, 262144, &m->max_pos) ||
	    check_act(c, cfg, "hidden_act") || attention(c, cfg, m, 32, 8) ||
	    gi(c, cfg, "mamba_n_heads", 128, &H) || gi(c, cfg, "mamba_n_groups", 1, &G) ||
	    gi(c, cfg, "mamba_d_state", 256, &N) || gi(c, cfg, "mamba_d_conv", 4, &K) ||
	    gnum(c, cfg, "mamba_expand", 2, &expand) || gbool(c, cfg, "mamba_proj_bias", 0, &pbias) ||
	    time_step_limit(c, cfg, "time_step_limit", m))
		return -1;
	if (!(expand > 0 && expand <= 64))
		return tts_fail(c->err, c->errlen, "%s: \"mamba_expand\" must be in (0, 64]", c->path);
	int I = (int)(expand * m->d_model);
	json_t *dh = json_object_get(cfg, "mamba_d_head");
	if (json_is_integer(dh) && json_integer_value(dh) > 0 && json_integer_value(dh) <= 1 << 20)
		P = (int)json_integer_value(dh);
	else if (!dh || json_is_null(dh) || (json_is_string(dh) && strcmp(json_string_value(dh), "auto") == 0))
		P = H > 0 ? I / H : 0;
	else
		return tts_fail(c->err, c->errlen, "%s: \"mamba_d_head\": expected an integer or \"auto\"", c->path);
	if (I != (long long)H * P)
		return tts_fail(c->err, c->errlen, "%s: mamba_expand * hidden_size = %d but mamba_n_heads * mamba_d_head = %lld",
			    c->path, I, (long long)H * P);
	if (pbias)
		return tts_fail(c->err, c->errlen, "%s: mamba_proj_bias is not supported", c->path);
	/* Partial RoPE: attn_rotary_emb (older configs) or partial_rotary_factor (0.5). */
	double partial = 0.5;
	long long rot = 0;
	if (gint(c, cfg, "attn_rotary_emb", 0, 0, 1 << 20, &rot))
		return -1;
	if (rot > 0)
		partial = (double)rot / m->head_dim;
	if (rope(c, cfg, m, 10000, partial))
		return -1;
	m->norm_eps = (float)eps;
	if (set_m2(c, m, H, P, N, I, I, G * N, H, G, G, I, K))
		return -1;
	alloc_layers(m, MIXER_MAMBA2, 1);
	int *attn = ecalloc((size_t)m->n_layers, sizeof *attn);
	int rc = index_list(c, cfg, "attn_layer_indices", m->n_layers, attn);
	for (int i = 0; i < m->n_layers; i++)
		if (attn[i])
			m->layers[i].mixer = MIXER_ATTN;
	free(attn);
	return rc;
}

/* MambaInLlama: a Llama config.json plus mamba_config.json. */
static int
mil(ctx *c, json_t *cfg, json_t *mc, tts_model *m, int kind)
{
	if (llama(c, cfg, m))
		return -1;
	ctx c2 = *c;
	char mpath[4200];
	snprintf(mpath, sizeof mpath, "%.*s/mamba_config.json",
		 (int)(strrchr(c->path, '/') ? strrchr(c->path, '/') - c->path : 1), c->path);
	c2.path = mpath;
	json_t *ssm = json_object_get(mc, "ssm_cfg");
	if (ssm && !json_is_object(ssm))
		return tts_fail(c->err, c->errlen, "%s: \"ssm_cfg\": expected an object", mpath);
	if (!ssm)
		ssm = json_object();
	else
		json_incref(ssm);
	int rc = -1, D, nl, ff, d_xb, d_inner, K, N;
	double expand;
	if (kind < 0)
		kind = json_object_get(ssm, "ngroups") ? MIXER_MAMBA2 : MIXER_MAMBA1;
	if (gi(&c2, mc, "d_model", m->d_model, &D) || gi(&c2, mc, "n_layer", m->n_layers, &nl) ||
	    gi(&c2, mc, "intermediate_size", m->d_ff, &ff) || gi(&c2, mc, "d_xb", 2560, &d_xb) ||
	    gnum(&c2, ssm, "expand", 2, &expand))
		goto out;
	if (!(expand > 0 && expand <= 64)) {
		tts_fail(c->err, c->errlen, "%s: ssm_cfg: \"expand\" must be in (0, 64]", mpath);
		goto out;
	}
	if (gi(&c2, mc, "d_inner", (int)(expand * D), &d_inner) ||
	    gi(&c2, ssm, "d_conv", 4, &K) || check_act(&c2, mc, "hidden_act"))
		goto out;
	if (D != m->d_model || nl != m->n_layers || ff != m->d_ff) {
		tts_fail(c->err, c->errlen, "%s: d_model %d, n_layer %d, intermediate_size %d disagree with config.json "
		     "(%d, %d, %d)", mpath, D, nl, ff, m->d_model, m->n_layers, m->d_ff);
		goto out;
	}
	int *attn = ecalloc((size_t)m->n_layers, sizeof *attn);
	if (index_list(&c2, mc, "attn_layers", m->n_layers, attn)) {
		free(attn);
		goto out;
	}
	for (int i = 0; i < m->n_layers; i++)
		m->layers[i].mixer = attn[i] ? MIXER_ATTN : (enum tts_mixer)kind;
	free(attn);
	if (kind == MIXER_MAMBA2) {
		int G, bias, cbias, rms, dhd;
		snprintf(m->arch, sizeof m->arch, "Mamba2InLlama");
		if (gi(&c2, ssm, "ngroups", 1, &G) || gi(&c2, ssm, "d_state", 128, &N) ||
		    gbool(&c2, ssm, "bias", 0, &bias) || gbool(&c2, ssm, "conv_bias", 1, &cbias) ||
		    gbool(&c2, ssm, "rmsnorm", 1, &rms) || gbool(&c2, ssm, "D_has_hdim", 0, &dhd) ||
		    time_step_limit(&c2, ssm, "dt_limit", m))
			goto out;
		if (bias || !rms || dhd || json_is_true(json_object_get(ssm, "repeat_kv_before_conv"))) {
			tts_fail(c->err, c->errlen, "%s: ssm_cfg: bias, rmsnorm false, D_has_hdim or repeat_kv_before_conv "
			     "is not supported", mpath);
			goto out;
		}
		/* MIL overrides the head geometry: nheads = ngroups, headdim = d_state;
		 * x and B come in d_xb/d_state groups, C per head, norm per head. */
		if (G <= 0 || N <= 0 || d_inner != (long long)G * N || d_xb % N) {
			tts_fail(c->err, c->errlen, "%s: need d_inner (%d) = ngroups (%d) * d_state (%d) and d_xb (%d) a "
			     "multiple of d_state", mpath, d_inner, G, N, d_xb);
			goto out;
		}
		if (set_m2(&c2, m, G, N, N, d_inner, d_xb, d_xb, d_xb / N, d_xb / N, G, d_inner / G, K))
			goto out;
	} else {
		int R;
		snprintf(m->arch, sizeof m->arch, "MambaInLlama");
		if (gi(&c2, ssm, "d_state", 16, &N))
			goto out;
		json_t *dr = json_object_get(ssm, "dt_rank");
		if (json_is_integer(dr) && json_integer_value(dr) > 0 && json_integer_value(dr) <= 1 << 20)
			R = (int)json_integer_value(dr);
		else
			R = (D + 15) / 16;
		json_t *rb = json_object_get(ssm, "repeat_kv_before_conv");
		if (rb && json_is_false(rb)) {
			tts_fail(c->err, c->errlen, "%s: ssm_cfg: repeat_kv_before_conv false is not supported", mpath);
			goto out;
		}
		if (N <= 0 || R <= 0 || d_inner % N || d_xb % N || (d_inner / N) % (d_xb / N ? d_xb / N : 1) || !d_xb) {
			tts_fail(c->err, c->errlen, "%s: need d_inner (%d) and d_xb (%d) multiples of d_state (%d), "
			     "d_inner/d_state a multiple of d_xb/d_state", mpath, d_inner, d_xb, N);
			goto out;
		}
		m->m1_d_inner = d_inner;
		m->m1_d_xb = d_xb;
		m->m1_state = N;
		m->m1_dt_rank = R;
		m->m1_conv = K;
	}
	rc = 0;
out:
	json_decref(ssm);
	return rc;
}

/* generation_config.json, falling back on config.json for bos/eos. */
static int
ids(ctx *c, json_t *v, const char *k, int *out, int max, int *n)
{
	size_t i;
	json_t *x;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		out[(*n)++] = (int)json_integer_value(v);
		return 0;
	}
	if (!json_is_array(v))
		return tts_fail(c->err, c->errlen, "%s: \"%s\": expected an id or a list of ids", c->path, k);
	json_array_foreach(v, i, x) {
		if (!json_is_integer(x))
			return tts_fail(c->err, c->errlen, "%s: \"%s\"[%zu]: expected an id", c->path, k, i);
		if (*n < max)
			out[(*n)++] = (int)json_integer_value(x);
	}
	return 0;
}

static int
generation(const char *dir, json_t *cfg, tts_model *m, char *err, size_t errlen)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/generation_config.json", dir);
	json_t *g = NULL;
	if (access(path, F_OK) == 0 && !(g = tts_json_load(path, err, errlen)))
		return -1;
	ctx cg = {path, err, errlen}, cc = {"config.json", err, errlen};
	int bos[4], nb = 0, rc = -1;
	m->gen_temperature = m->gen_top_p = -1;
	m->gen_top_k = -1;
	if (g && (ids(&cg, json_object_get(g, "bos_token_id"), "bos_token_id", bos, 4, &nb) ||
		  ids(&cg, json_object_get(g, "eos_token_id"), "eos_token_id", m->eos_ids, 16, &m->n_eos) ||
		  gnum(&cg, g, "temperature", -1, &m->gen_temperature) || gnum(&cg, g, "top_p", -1, &m->gen_top_p) ||
		  gi(&cg, g, "top_k", -1, &m->gen_top_k)))
		goto out;
	if (!nb && ids(&cc, json_object_get(cfg, "bos_token_id"), "bos_token_id", bos, 4, &nb))
		goto out;
	if (!m->n_eos && ids(&cc, json_object_get(cfg, "eos_token_id"), "eos_token_id", m->eos_ids, 16, &m->n_eos))
		goto out;
	m->bos_id = nb ? bos[0] : -1;
	rc = 0;
out:
	json_decref(g);
	return rc;
}

/* LlamaForSequenceClassification: transformers' num_labels is the size of
 * id2label when the config has one (PretrainedConfig), else 2. */
static int
seq_cls(ctx *c, json_t *cfg, tts_model *m)
{
	json_t *labels = json_object_get(cfg, "id2label");
	json_t *pad = json_object_get(cfg, "pad_token_id");
	m->n_labels = json_is_object(labels) ? (int)json_object_size(labels) : 2;
	if (m->n_labels < 1)
		return tts_fail(c->err, c->errlen, "%s: \"id2label\" is empty", c->path);
	m->pad_id = json_is_integer(pad) ? (int)json_integer_value(pad) : -1;
	return 0;
}

int
tts_config_read(const char *dir, tts_model *m, int mil_kind, enum tts_family *fam, char *err, size_t errlen)
{
	char path[4200], mpath[4200];
	snprintf(path, sizeof path, "%s/config.json", dir);
	snprintf(mpath, sizeof mpath, "%s/mamba_config.json", dir);
	if (access(path, F_OK) != 0)
		return tts_fail(err, errlen, "%s: no config.json: not a model directory", dir);
	json_t *cfg = tts_json_load(path, err, errlen), *mc = NULL;
	if (!cfg)
		return -1;
	ctx c = {path, err, errlen};
	int rc = -1;
	const char *arch = json_string_value(json_array_get(json_object_get(cfg, "architectures"), 0));
	const char *mt = gstr(cfg, "model_type");
	if (!arch)
		arch = mt ? mt : "(none)";
	const char *base = strrchr(dir, '/');
	snprintf(m->name, sizeof m->name, "%s", base && base[1] ? base + 1 : dir);
	snprintf(m->arch, sizeof m->arch, "%s", arch);
	int is_llama = strcmp(arch, "LlamaForCausalLM") == 0 || (mt && strcmp(mt, "llama") == 0);
	if (is_llama && access(mpath, F_OK) == 0) {
		if (!(mc = tts_json_load(mpath, err, errlen)))
			goto out;
		*fam = FAM_MIL;
		rc = mil(&c, cfg, mc, m, mil_kind);
	} else if (is_llama) {
		*fam = FAM_LLAMA;
		rc = strcmp(arch, "LlamaForSequenceClassification") == 0 ? seq_cls(&c, cfg, m) : 0;
		if (!m->n_labels)
			snprintf(m->arch, sizeof m->arch, "LlamaForCausalLM");
		if (rc == 0)
			rc = llama(&c, cfg, m);
	} else if (strcmp(arch, "Mamba2ForCausalLM") == 0 || (mt && strcmp(mt, "mamba2") == 0)) {
		*fam = FAM_MAMBA2;
		snprintf(m->arch, sizeof m->arch, "Mamba2ForCausalLM");
		rc = mamba2_hf(&c, cfg, m);
	} else if (strcmp(arch, "BambaForCausalLM") == 0 || (mt && strcmp(mt, "bamba") == 0)) {
		*fam = FAM_BAMBA;
		snprintf(m->arch, sizeof m->arch, "BambaForCausalLM");
		rc = bamba(&c, cfg, m);
	} else
		rc = tts_fail(err, errlen, "%s: architecture %s is not supported (LlamaForCausalLM, Mamba2ForCausalLM, "
			  "BambaForCausalLM, MambaInLlama hybrids)", path, arch);
	if (rc == 0)
		rc = generation(dir, cfg, m, err, errlen);
out:
	json_decref(cfg);
	json_decref(mc);
	return rc;
}
