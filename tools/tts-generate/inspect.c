/* inspect.c — tts-generate --inspect, --tokenize, --detokenize (cmds.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "model.h"
#include "tokenizer.h"
#include "tts.h"
#include "weights.h"

static const char *
mixer_name(enum tts_mixer k)
{
	return k == MIXER_ATTN ? "attention" : k == MIXER_MAMBA2 ? "mamba2" : "mamba1";
}

static const char *
dtype_name(enum tts_dtype d)
{
	return d == TTS_F32 ? "F32" : d == TTS_F16 ? "F16" : "BF16";
}

typedef struct {
	json_t *tensors, *dtypes;
} walk;

static void
describe(const tts_tensor *t, void *arg)
{
	walk *w = arg;
	if (!t->data)
		return;
	const char *dn = dtype_name(t->dtype);
	json_object_set_new(w->dtypes, dn, json_integer(json_integer_value(json_object_get(w->dtypes, dn)) + 1));
	if (!w->tensors)
		return;
	json_t *shape = json_array();
	for (int i = 0; i < t->ndim; i++)
		json_array_append_new(shape, json_integer(t->shape[i]));
	json_object_set_new(w->tensors, t->name, json_pack("{s:s, s:o}", "dtype", dn, "shape", shape));
}

static json_t *
num_or_inf(double v)
{
	return isinf(v) ? json_string(v > 0 ? "Infinity" : "-Infinity") : json_real(v);
}

int
cmd_inspect(const char *dir, int tensors, rec_writer *w)
{
	tts_model *m = tts_model_load(dir);
	json_t *rec = json_object(), *kinds = json_array(), *eos = json_array();
	json_object_set_new(rec, "model", json_string(m->name));
	json_object_set_new(rec, "arch", json_string(m->arch));
	json_object_set_new(rec, "format", json_string(tts_model_format(m)));
	json_object_set_new(rec, "params", json_integer(tts_model_params(m)));
	json_object_set_new(rec, "layers", json_integer(m->n_layers));
	for (int i = 0; i < m->n_layers; i++)
		json_array_append_new(kinds, json_string(mixer_name(m->layers[i].mixer)));
	json_object_set_new(rec, "layer_kinds", kinds);
	json_object_set_new(rec, "d_model", json_integer(m->d_model));
	json_object_set_new(rec, "vocab", json_integer(m->vocab));
	json_object_set_new(rec, "d_ff", json_integer(m->d_ff));
	char eps[32];
	snprintf(eps, sizeof eps, "%.6g", m->norm_eps);       /* the config's value, not float noise */
	json_object_set_new(rec, "norm_eps", json_real(strtod(eps, NULL)));
	json_object_set_new(rec, "tied", json_boolean(m->tied));
	int attn = 0, m2 = 0, m1 = 0;
	for (int i = 0; i < m->n_layers; i++) {
		attn += m->layers[i].mixer == MIXER_ATTN;
		m2 += m->layers[i].mixer == MIXER_MAMBA2;
		m1 += m->layers[i].mixer == MIXER_MAMBA1;
	}
	if (attn) {
		static const char *const rope[] = {"none", "plain", "llama3"};
		json_t *a = json_pack("{s:i, s:i, s:i, s:s, s:f, s:i, s:i}", "heads", m->n_heads, "kv_heads", m->n_kv_heads,
				      "head_dim", m->head_dim, "rope", rope[m->rope], "rope_theta", m->rope_theta,
				      "rope_dim", m->rope_dim, "max_pos", m->max_pos);
		if (m->rope == ROPE_LLAMA3)
			json_object_set_new(a, "rope_scaling", json_pack("{s:f, s:f, s:f, s:i}", "factor", m->rope_factor,
									 "low_freq_factor", m->rope_low_freq, "high_freq_factor", m->rope_high_freq,
									 "original_max_position_embeddings", m->rope_orig_max_pos));
		json_object_set_new(rec, "attention", a);
	}
	if (m2) {
		json_t *a = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "heads", m->m2_heads,
				      "head_dim", m->m2_headdim, "state", m->m2_state, "conv", m->m2_conv,
				      "d_inner", m->m2_d_inner, "conv_dim", m->m2_conv_dim, "x_groups", m->m2_x_groups,
				      "b_groups", m->m2_b_groups, "c_groups", m->m2_c_groups, "norm_group", m->m2_norm_group);
		json_object_set_new(a, "dt_limit", json_pack("[o, o]", num_or_inf(m->m2_dt_min), num_or_inf(m->m2_dt_max)));
		json_object_set_new(rec, "mamba2", a);
	}
	if (m1)
		json_object_set_new(rec, "mamba1", json_pack("{s:i, s:i, s:i, s:i, s:i}", "d_inner", m->m1_d_inner,
							     "d_xb", m->m1_d_xb, "state", m->m1_state, "dt_rank", m->m1_dt_rank,
							     "conv", m->m1_conv));
	json_object_set_new(rec, "bos", m->bos_id >= 0 ? json_integer(m->bos_id) : json_null());
	for (int i = 0; i < m->n_eos; i++)
		json_array_append_new(eos, json_integer(m->eos_ids[i]));
	json_object_set_new(rec, "eos", eos);
	walk wk = {tensors ? json_object() : NULL, json_object()};
	tts_model_foreach_tensor(m, describe, &wk);
	json_object_set_new(rec, "dtypes", wk.dtypes);
	const char *first;
	int unused = tts_model_unused(m, &first);
	json_object_set_new(rec, "unused_tensors", json_integer(unused));
	if (unused)
		json_object_set_new(rec, "unused_example", json_string(first));
	if (wk.tensors)
		json_object_set_new(rec, "tensors", wk.tensors);
	rec_put(w, rec);
	json_decref(rec);
	tts_model_free(m);
	return 0;
}

struct tts_tokenizer *
cmd_load_tokenizer(const char *dir_or_file)
{
	char path[4200], err[1024];
	struct stat st;
	if (stat(dir_or_file, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof path, "%s/tokenizer.json", dir_or_file);
	else
		snprintf(path, sizeof path, "%s", dir_or_file);
	tts_tokenizer *t = tts_tokenizer_load(path, err, sizeof err);
	if (!t)
		eprintf("%s", err);
	return t;
}

int
cmd_tokenize(const char *dir, rec_reader *r, rec_writer *w, const char *key, int flags)
{
	tts_tokenizer *t = cmd_load_tokenizer(dir);
	json_t *rec;
	char err[512];
	while ((rec = rec_next(r))) {
		json_t *v = json_object_get(rec, key);
		if (!json_is_string(v))
			eprintf("%s: \"%s\": expected a string", rec_where(r), key);
		int32_t *ids;
		size_t n;
		if (tts_tokenize(t, json_string_value(v), json_string_length(v), flags, &ids, &n, err, sizeof err))
			eprintf("%s: \"%s\": %s", rec_where(r), key, err);
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer(ids[i]));
		json_object_set_new(rec, "ids", a);
		free(ids);
		rec_put(w, rec);
		json_decref(rec);
	}
	tts_tokenizer_free(t);
	return 0;
}

int
cmd_detokenize(const char *dir, rec_reader *r, rec_writer *w, int skip_special)
{
	tts_tokenizer *t = cmd_load_tokenizer(dir);
	json_t *rec;
	char err[512];
	int32_t *ids = NULL;
	size_t cap = 0;
	while ((rec = rec_next(r))) {
		json_t *a = json_object_get(rec, "ids"), *x;
		size_t i;
		if (!json_is_array(a))
			eprintf("%s: \"ids\": expected an array of token ids", rec_where(r));
		if (json_array_size(a) > cap) {
			cap = json_array_size(a) * 2;
			ids = erealloc(ids, cap * sizeof *ids);
		}
		json_array_foreach(a, i, x) {
			if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX)
				eprintf("%s: \"ids\"[%zu]: expected a token id", rec_where(r), i);
			ids[i] = (int32_t)json_integer_value(x);
		}
		tts_str s = {0};
		if (tts_detokenize(t, ids, json_array_size(a), skip_special, &s, err, sizeof err))
			eprintf("%s: %s", rec_where(r), err);
		json_object_set_new(rec, "text", json_stringn(s.p, s.len));
		tts_str_free(&s);
		rec_put(w, rec);
		json_decref(rec);
	}
	free(ids);
	tts_tokenizer_free(t);
	return 0;
}
