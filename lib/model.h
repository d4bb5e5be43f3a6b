/* model.h — one in-memory description of a loaded model, whatever the
 * format it came from (HF Llama, HF Mamba2, Bamba, MambaInLlama Mamba2 and
 * Mamba-1 hybrids; safetensors or pytorch_model.bin).  The loader
 * (lib/model.c) fills it and checks every tensor's presence, dtype and
 * shape against the config; the engine (kernels/) consumes it.
 * Shapes follow PyTorch: a Linear weight is [out, in], y = W x.
 * See ../shared/reference/checkpoints.md for every formula. */
#ifndef TTS_MODEL_H
#define TTS_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum tts_dtype { TTS_F32, TTS_F16, TTS_BF16 };

typedef struct {
	const char *name;       /* checkpoint key, for messages */
	const void *data;       /* little-endian, in dtype; points into a mapping */
	enum tts_dtype dtype;
	int ndim;
	int64_t shape[4];
} tts_tensor;               /* data == NULL: absent (optional tensor) */

size_t tts_tensor_numel(const tts_tensor *t);
/* Element i as float, whatever the dtype. */
float tts_tensor_get(const tts_tensor *t, size_t i);
/* Convert the whole tensor to float32 into dst (numel floats). */
void tts_tensor_to_f32(const tts_tensor *t, float *dst);

enum tts_mixer { MIXER_ATTN, MIXER_MAMBA2, MIXER_MAMBA1 };
enum tts_rope_kind { ROPE_NONE, ROPE_PLAIN, ROPE_LLAMA3 };

typedef struct {
	enum tts_mixer mixer;
	tts_tensor in_norm;             /* [D] RMSNorm before the mixer */

	/* attention */
	tts_tensor wq, wk, wv, wo;      /* [Hq*hd, D], [Hkv*hd, D] x2, [D, Hq*hd] */
	tts_tensor bq, bk, bv, bo;      /* optional biases (attention_bias) */

	/* Mamba2 (HF Mamba2, Bamba, MambaInLlama) */
	tts_tensor in_proj;             /* [z + xBC + dt rows, D] */
	tts_tensor conv_w, conv_b;      /* [conv_dim, 1, K], [conv_dim] */
	tts_tensor dt_bias, A_log, Dskip; /* [H] each (Mamba-1: A_log [E, N], D [E]) */
	tts_tensor gnorm;               /* [d_inner] gated RMSNorm weight */
	tts_tensor out_proj;            /* [D, d_inner] */

	/* Mamba-1 (MambaInLlama): separate projections of the block input */
	tts_tensor m1_x, m1_z, m1_B, m1_C, m1_dt_down; /* [Xb,D] [E,D] [Xb,D] [E,D] [R,D] */
	tts_tensor m1_dt_w, m1_dt_b;    /* [E, R], [E] (bias added twice: see checkpoints.md) */

	/* SwiGLU MLP (absent in HF Mamba2) */
	int has_mlp;
	tts_tensor post_norm;           /* [D] */
	tts_tensor gate, up, down;      /* [F, D], [F, D], [D, F] */
} tts_layer;

typedef struct tts_model {
	char arch[64];          /* "LlamaForCausalLM", "Mamba2ForCausalLM", "BambaForCausalLM",
				   "Mamba2InLlama", "MambaInLlama" (the last two: Llama + mamba_config.json) */
	char name[256];         /* directory base name */
	int n_layers, d_model, vocab, d_ff;
	float norm_eps;
	int tied;               /* lm_head is the embedding */
	int residual_fp32;      /* informational (HF Mamba2 residual_in_fp32) */

	/* attention geometry */
	int n_heads, n_kv_heads, head_dim;
	int rope_dim;           /* dims rotated per head (partial RoPE: < head_dim) */
	enum tts_rope_kind rope;
	double rope_theta;
	double rope_factor, rope_low_freq, rope_high_freq; /* llama3 scaling */
	int rope_orig_max_pos;
	int max_pos;

	/* Mamba2 geometry: H heads of P channels, state N, conv width K.
	 * in_proj rows: z at m2_z_off (d_inner), xBC at m2_xbc_off (conv_dim),
	 * dt at m2_dt_off (H).  Inside xBC: x [0, x_dim), B [x_dim, x_dim+b_dim),
	 * C [x_dim+b_dim, conv_dim).  Head h reads x group h/(H/x_groups)
	 * (x group width P), B group h/(H/b_groups), C group h/(H/c_groups)
	 * (B, C group width N).  Gated norm over groups of m2_norm_group. */
	int m2_heads, m2_headdim, m2_state, m2_conv, m2_d_inner, m2_conv_dim;
	int m2_x_groups, m2_b_groups, m2_c_groups, m2_norm_group;
	int m2_z_off, m2_xbc_off, m2_dt_off;
	double m2_dt_min, m2_dt_max;   /* time_step_limit: clamp after softplus */

	/* Mamba-1 geometry (MambaInLlama): E channels, d_xb, state N, dt rank R */
	int m1_d_inner, m1_d_xb, m1_state, m1_dt_rank, m1_conv;

	tts_tensor embed;       /* [V, D] */
	tts_tensor final_norm;  /* [D] */
	tts_tensor lm_head;     /* [V, D]; equals embed when tied */
	tts_layer *layers;      /* n_layers */

	/* generation_config.json / config.json */
	int bos_id;             /* -1 if none */
	int eos_ids[16], n_eos;
	double gen_temperature, gen_top_p; int gen_top_k; /* < 0: unset */

	void *priv;             /* loader internals (mappings) */
} tts_model;

/* Load a model directory; on error prints one line naming the file and
 * what is wrong and exits 1.  Checks every tensor against the config. */
tts_model *tts_model_load(const char *dir);
void tts_model_free(tts_model *m);
/* Count of parameters (embedding counted once when tied). */
int64_t tts_model_params(const tts_model *m);

/* Like tts_model_load, but returns -1 with the message in err instead of
 * exiting (for tests and tools that report several models). */
int tts_model_open(const char *dir, tts_model **out, char *err, size_t errlen);
/* Call fn on every bound tensor (absent optional ones included, with
 * data == NULL; lm_head skipped when tied). */
void tts_model_foreach_tensor(const tts_model *m, void (*fn)(const tts_tensor *, void *), void *arg);
/* Checkpoint tensors the architecture does not use (count; *first names one). */
int tts_model_unused(const tts_model *m, const char **first);
/* "safetensors" or "pytorch": the format the weights came in. */
const char *tts_model_format(const tts_model *m);

#endif
