/* bench_ops.c — the GPU's ceilings and the CUDA ops' times at the shapes of
 * an 8B decode step, in one run (bench/gpu-bench.sh): device copy bandwidth,
 * the bf16 matmul rate (cuBLAS through ops->matmul; x is rounded to bf16
 * by the first call only, as after a norm, which writes the bf16 copy) by
 * batch rows, then each op of a decode step at batch B
 * (default 128) and context ~ 200 + 768/2, and the Llama-3-8B decode step
 * they add up to (ops launched back to back, no CUDA graph).
 * Usage: bench_ops [B [attn|proj]]   (attn: decode attention alone, at three
 * contexts, its blocks distinct and shared; proj: the four projections) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops.h"
#include "philox.h"
#include "tts.h"

static const tts_ops *G;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* mean seconds of a statement over n runs after 2 warm-ups */
#define TIMEIT(sec, n, stmt) do { for (int w_ = 0; w_ < 2; w_++) { stmt; } G->sync(); \
	double t0_ = now(); for (int k_ = 0; k_ < (n); k_++) { stmt; } G->sync(); \
	(sec) = (now() - t0_) / (n); } while (0)

static void *
gfill(size_t n, float scale)
{
	float *h = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		h[i] = scale * (float)((i * 2654435761u) % 1000 / 500.0 - 1.0);
	void *d = G->alloc(n * sizeof(float));
	G->upload(d, h, n * sizeof(float));
	free(h);
	return d;
}

static tts_w *
gweight(int out, int in)
{
	size_t n = (size_t)out * in;
	uint16_t *h = malloc(n * 2);
	for (size_t i = 0; i < n; i++)
		h[i] = 0x3c00 + (uint16_t)(i % 97);     /* bf16 values near 0.008 */
	tts_tensor t = { .name = "bench", .data = h, .dtype = TTS_BF16, .ndim = 2,
			 .shape = { out, in } };
	tts_w *w = G->weight(&t);
	free(h);
	return w;
}

/* a decode batch in host memory hb (7 B + B mb ints, laid out as
 * decode_batch's tts_batch points into it): B sequences of one new token at
 * context ctx, mb blocks a sequence laid out one sequence after another,
 * the first `shared` blocks of every sequence those of sequence 0 (the
 * samples of one prompt after a fork) */
static void
decode_batch_fill(int32_t *hb, int B, int ctx, int mb, int shared)
{
	int32_t *pos = hb + 4 * B, *kv = hb + 5 * B, *bt = hb + 7 * B;
	for (int i = 0; i < B; i++) {
		hb[i] = i, hb[B + i] = 1, hb[2 * B + i] = ctx, hb[3 * B + i] = i;
		pos[i] = ctx - 1, hb[6 * B + i] = i;
		for (int j = 0; j < mb; j++)
			bt[(size_t)i * mb + j] = j < shared ? j : i * mb + j;
		kv[i] = bt[(size_t)i * mb + (ctx - 1) / TTS_KV_BLOCK] * TTS_KV_BLOCK +
			(ctx - 1) % TTS_KV_BLOCK;
	}
}

/* the tts_batch over db, the device copy of decode_batch_fill's arrays */
static tts_batch
decode_batch(int32_t *db, int B, int ctx, int mb)
{
	return (tts_batch){ .n_seqs = B, .rows = B, .q_start = db, .q_len = db + B,
			    .ctx_len = db + 2 * B, .slot = db + 3 * B, .pos = db + 4 * B,
			    .kv_slot = db + 5 * B, .seq_of_row = db + 6 * B,
			    .block_table = db + 7 * B, .max_blocks = mb, .max_q_len = 1,
			    .max_ctx = ctx };
}

/* decode attention alone, Llama-3-8B's shape (32 query heads, 8 KV heads of
 * 128) at batch B: contexts from just past a 200-token prompt to its end
 * after 768 new tokens, with every sample's blocks distinct and with the
 * first 208 tokens (13 blocks) shared by all, as after a fork; bw is the
 * copy bandwidth.  bench_ops B attn prints only these. */
static void
attention_sweep(int B, double bw)
{
	static const int ctxs[] = { 328, 584, 968 };
	const int mb = (968 + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK;
	size_t nh = (size_t)7 * B + (size_t)B * mb;
	int32_t *hb = calloc(nh, 4), *db = G->alloc(nh * 4);
	float *q = gfill((size_t)B * 4096, 1), *y = gfill((size_t)B * 4096, 1);
	float *kv = gfill((size_t)B * 1024, 1);
	void *kc = G->kv_alloc(B * mb, 8, 128), *vc = G->kv_alloc(B * mb, 8, 128);
	for (int c = 0; c < 3; c++)
		for (int sh = 0; sh < 2; sh++) {
			int ctx = ctxs[c];
			decode_batch_fill(hb, B, ctx, mb, sh ? 13 : 0);
			G->upload(db, hb, nh * 4);
			tts_batch bb = decode_batch(db, B, ctx, mb);
			G->kv_write(kc, vc, kv, kv, &bb, 8, 128);
			double t;
			TIMEIT(t, 20, G->attention(y, q, kc, vc, &bb, 32, 8, 128));
			double all = 2.0 * B * ctx * 8 * 128 * 2;
			double dist = sh ? 2.0 * ((double)B * (ctx - 208) + 208) * 8 * 128 * 2 : all;
			printf("attention     decode B %d ctx %d%s: %.1f us, %.0f GB/s of distinct KV "
			       "(%.0f%% of copy bandwidth), %.0f GB/s of KV read\n", B, ctx,
			       sh ? ", 208 shared" : "", t * 1e6, dist / t / 1e9,
			       100 * dist / t / bw, all / t / 1e9);
		}
	G->free(kc), G->free(vc), G->free(db), G->free(q), G->free(y), G->free(kv);
	free(hb);
}

/* Llama-3-8B's four projections of a layer alone at batch B (bench_ops B
 * proj; for a profiler: each is launched 2 + 20 times, in this order) */
static void
projections(int B)
{
	static const int shape[4][2] = { { 6144, 4096 }, { 4096, 4096 }, { 28672, 4096 },
					 { 4096, 14336 } };
	static const char *name[4] = { "qkv", "o", "gate+up", "down" };
	float *x = gfill((size_t)B * 14336, 1), *y = gfill((size_t)B * 28672, 1);
	for (int i = 0; i < 4; i++) {
		tts_w *w = gweight(shape[i][0], shape[i][1]);
		double t;
		TIMEIT(t, 20, G->matmul(y, w, x, B));
		double by = 2.0 * shape[i][0] * shape[i][1];
		printf("projection    %-8s %5dx%-5d rows %d: %7.1f us  %6.0f GB/s weights\n", name[i],
		       shape[i][0], shape[i][1], B, t * 1e6, by / t / 1e9);
		G->weight_free(w);
	}
	G->free(x), G->free(y);
}

/* Mamba2InLlama_1's SSD decode alone at batch B (bench_ops B ssd; each
 * case launched 2 + 20 times): float32 state, then bf16 */
static void
ssd_alone(int B, double bw)
{
	tts_model m;
	memset(&m, 0, sizeof m);
	m.m2_heads = 32, m.m2_headdim = 128, m.m2_state = 128, m.m2_x_groups = 8;
	m.m2_b_groups = 8, m.m2_c_groups = 32, m.m2_conv_dim = 6144, m.m2_dt_max = INFINITY;
	int32_t *hb = calloc((size_t)8 * B, 4), *db = G->alloc((size_t)8 * B * 4);
	decode_batch_fill(hb, B, 1, 1, 0);
	G->upload(db, hb, (size_t)8 * B * 4);
	tts_batch bb = decode_batch(db, B, 1, 1);
	float *x = gfill((size_t)B * 10272, 1), *y = gfill((size_t)B * 4096, 1);
	float *dtb = gfill(32, 0.1f), *al = gfill(32, 0.5f), *Dv = gfill(32, 1);
	void *ss = G->state_alloc(B, (size_t)32 * 128 * 128);
	double t, bytes = 2.0 * B * 32 * 128 * 128 * 4;
	TIMEIT(t, 20, G->ssd(y, x, x, 10272, ss, dtb, al, Dv, &m, &bb));
	const char *mode = getenv("TTS_SSD");
	printf("ssd           B %d H32 P128 N128 (TTS_SSD=%s, TTS_SSM_STATE=%s): %.1f us, %.0f GB/s of "
	       "state r+w (%.0f%% of copy bandwidth)\n", B, mode ? mode : "default",
	       getenv("TTS_SSM_STATE") ? getenv("TTS_SSM_STATE") : "f32", t * 1e6, bytes / t / 1e9,
	       100 * bytes / t / bw);
	G->free(ss), G->free(x), G->free(y), G->free(dtb), G->free(al), G->free(Dv), G->free(db);
	free(hb);
}

int
main(int argc, char **argv)
{
	char err[256];
	int B = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 128;
	if (B < 1 || B > 1024) B = 128;
	G = tts_cuda_ops(0, err, sizeof err);
	if (!G) {
		fprintf(stderr, "bench_ops: %s\n", err);
		return 77;
	}
	double s;

	/* copy bandwidth: 2 GiB device to device, bytes read + written */
	size_t cb = (size_t)2 << 30;
	void *a = G->alloc(cb), *b = G->alloc(cb);
	G->zero(a, cb);
	TIMEIT(s, 10, G->copy(b, a, cb));
	double bw = 2.0 * cb / s;
	printf("copy          %zu MiB d2d: %.3f ms, %.0f GB/s (read + write)\n", cb >> 20, s * 1e3, bw / 1e9);
	G->free(a);
	G->free(b);
	if (argc > 2 && strcmp(argv[2], "attn") == 0) {
		attention_sweep(B, bw);
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "ssd") == 0) {
		ssd_alone(B, bw);
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "proj") == 0) {
		projections(B);
		return 0;
	}

	/* matmul rate: gate/up shape and the LM head, by rows */
	tts_w *wf = gweight(14336, 4096);
	static const int rows[] = { 1, 2, 4, 8, 32, 64, 128, 256, 512, 1024, 4096, 8192 };
	float *x = gfill((size_t)8192 * 14336, 1), *y = gfill((size_t)8192 * 14336, 1);
	double peak = 0;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int r = rows[i];
		TIMEIT(s, 20, G->matmul(y, wf, x, r));
		double fl = 2.0 * r * 14336 * 4096, by = 14336.0 * 4096 * 2;
		peak = fmax(peak, fl / s);
		printf("matmul        14336x4096 rows %5d: %8.1f us  %6.1f TFLOP/s  %6.0f GB/s weights\n",
		       r, s * 1e6, fl / s / 1e12, by / s / 1e9);
	}
	tts_w *wl = gweight(128256, 4096);
	TIMEIT(s, 10, G->matmul(y, wl, x, B));
	printf("matmul        LM head 128256x4096 rows %d: %.1f us\n", B, s * 1e6);
	double t_lm = s;

	/* one Llama-3-8B layer at batch B, decode: projections + small ops */
	tts_w *wqkv = gweight(6144, 4096), *wo = gweight(4096, 4096), *wgu = gweight(28672, 4096);
	tts_w *wd = gweight(4096, 14336);
	double t_qkv, t_o, t_gu, t_d;
	TIMEIT(t_qkv, 20, G->matmul(y, wqkv, x, B));
	TIMEIT(t_o, 20, G->matmul(y, wo, x, B));
	TIMEIT(t_gu, 20, G->matmul(y, wgu, x, B));
	TIMEIT(t_d, 20, G->matmul(y, wd, x, B));
	float *nw = gfill(4096, 1), *h = gfill((size_t)B * 4096, 1);
	double t_norm, t_add, t_swi, t_rope, t_kvw, t_att, t_anorm, t_split, t_cvt;
	TIMEIT(t_norm, 50, G->rmsnorm(y, h, nw, B, 4096, 1e-5f));
	TIMEIT(t_add, 50, G->add(y, h, (size_t)B * 4096));
	TIMEIT(t_anorm, 50, G->add_rmsnorm(h, x, y, nw, B, 4096, 1e-5f));
	TIMEIT(t_swi, 50, G->swiglu_gu(y, x, B, 14336));
	/* the one conversion left a layer: o_proj's input (attention's output);
	 * an upload in between makes matmul convert again */
	double t_o_cold;
	TIMEIT(t_o_cold, 20, (G->upload(x, &B, 4), G->matmul(y, wo, x, B)));
	/* batch: B sequences of one token, context ctx, blocks laid out per sequence */
	int ctx = 200 + 384, mb = (ctx + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK;
	int nblk = B * mb;
	size_t nh = (size_t)7 * B + (size_t)B * mb;
	int32_t *hb = calloc(nh, 4), *db = G->alloc(nh * 4);
	decode_batch_fill(hb, B, ctx, mb, 0);
	G->upload(db, hb, nh * 4);
	tts_batch bb = decode_batch(db, B, ctx, mb);
	float *inv = gfill(64, 0.01f);
	TIMEIT(t_rope, 50, G->rope(x, bb.pos, B, 40, 128, 128, inv));
	TIMEIT(t_split, 50, G->split_rope(y, y + (size_t)B * 4096, y + (size_t)B * 5120, x, bb.pos,
					  B, 32, 8, 128, 128, inv));
	void *kc = G->kv_alloc(nblk, 8, 128), *vc = G->kv_alloc(nblk, 8, 128);
	TIMEIT(t_kvw, 50, G->kv_write(kc, vc, x, x, &bb, 8, 128));
	TIMEIT(t_att, 20, G->attention(y, x, kc, vc, &bb, 32, 8, 128));
	double kvbytes = 2.0 * B * ctx * 8 * 128 * 2;
	printf("attention     decode B %d ctx %d: %.1f us, %.0f GB/s of KV\n", B, ctx, t_att * 1e6,
	       kvbytes / t_att / 1e9);
	/* the same with the samples of one 208-token prompt: 13 shared blocks */
	decode_batch_fill(hb, B, ctx, mb, 13);
	G->upload(db, hb, nh * 4);
	double t_att_sh;
	TIMEIT(t_att_sh, 20, G->attention(y, x, kc, vc, &bb, 32, 8, 128));
	double kv_sh = 2.0 * ((double)B * (ctx - 208) + 208) * 8 * 128 * 2;
	printf("attention     decode B %d ctx %d, 208 shared: %.1f us, %.0f GB/s of distinct KV\n",
	       B, ctx, t_att_sh * 1e6, kv_sh / t_att_sh / 1e9);
	printf("small ops     rmsnorm %.1f  add %.1f  swiglu %.1f  rope %.1f  kv_write %.1f us\n",
	       t_norm * 1e6, t_add * 1e6, t_swi * 1e6, t_rope * 1e6, t_kvw * 1e6);
	t_cvt = t_o_cold - t_o;
	printf("fused ops     add_rmsnorm %.1f  split_rope %.1f  swiglu_gu %.1f  o_proj input "
	       "conversion (+ a 4-byte upload) %.1f us\n", t_anorm * 1e6, t_split * 1e6, t_swi * 1e6, t_cvt * 1e6);
	printf("projections   qkv %.1f  o %.1f  gate+up %.1f  down %.1f us\n", t_qkv * 1e6,
	       t_o * 1e6, t_gu * 1e6, t_d * 1e6);

	/* Mamba2InLlama decode at batch B */
	tts_model m;
	memset(&m, 0, sizeof m);
	m.m2_heads = 32, m.m2_headdim = 128, m.m2_state = 128, m.m2_x_groups = 8;
	m.m2_b_groups = 8, m.m2_c_groups = 32, m.m2_conv_dim = 6144, m.m2_dt_max = INFINITY;
	m.m1_d_inner = 4096, m.m1_d_xb = 1024, m.m1_state = 16;
	void *ss = G->state_alloc(B, (size_t)32 * 128 * 128), *cs = G->state_alloc(B, 6144 * 3);
	float *cw = gfill(6144 * 4, 0.3f), *cbias = gfill(6144, 0.1f), *dtb = gfill(32, 0.1f);
	float *al = gfill(4096 * 16, 0.5f), *Dv = gfill(4096, 1);
	double t_conv, t_ssd, t_gn, t_m1, t_samp;
	TIMEIT(t_conv, 50, G->conv1d(y, x, 10272, cs, cw, cbias, &bb, 6144, 4));
	TIMEIT(t_ssd, 20, G->ssd(y, x, x, 10272, ss, dtb, al, Dv, &m, &bb));
	TIMEIT(t_gn, 50, G->gated_rmsnorm(y, x, x, 10272, nw, B, 4096, 128, 1e-5f));
	void *s1 = G->state_alloc(B, 4096 * 16);
	TIMEIT(t_m1, 20, G->m1_scan(y, x, x, Dv, x, x, x, s1, al, Dv, &m, &bb));
	double ssd_bytes = 2.0 * B * 32 * 128 * 128 * 4;
	printf("mamba2        conv1d %.1f  ssd %.1f us (%.0f GB/s of state r+w)  gated_norm %.1f us\n",
	       t_conv * 1e6, t_ssd * 1e6, ssd_bytes / t_ssd / 1e9, t_gn * 1e6);
	printf("mamba1        m1_scan %.1f us\n", t_m1 * 1e6);

	/* sampling B rows of 128256 logits, top-p 0.95 at T 0.7 */
	float *lg = gfill((size_t)B * 128256, 4);
	tts_sample_params *p = calloc(B, sizeof *p);
	for (int i = 0; i < B; i++) {
		p[i].temperature = 0.7f, p[i].top_p = 0.95f, p[i].sample = i;
		philox_key(1, "x", 1, p[i].key);
	}
	int32_t *tok = G->alloc(B * 4);
	float *lp = G->alloc(B * 4);
	TIMEIT(t_samp, 10, G->sample(tok, lp, lg, p, B, 128256));
	p[0].top_p = 1;
	for (int i = 0; i < B; i++) p[i].top_p = 1;
	double t_samp1;
	TIMEIT(t_samp1, 10, G->sample(tok, lp, lg, p, B, 128256));
	for (int i = 0; i < B; i++) p[i].min_p = 0.05f;
	double t_samp2;
	TIMEIT(t_samp2, 10, G->sample(tok, lp, lg, p, B, 128256));
	printf("sample        B %d V 128256: top-p 0.95 %.1f us, plain %.1f us, "
	       "plain min-p 0.05 %.1f us\n", B, t_samp * 1e6, t_samp1 * 1e6, t_samp2 * 1e6);

	/* the Llama-3-8B decode step these add up to (launch back to back) */
	/* a layer as kernels/forward.c runs it on this backend: add_rmsnorm,
	 * packed qkv, split_rope, kv_write, attention, o_proj (with its
	 * input's conversion), add_rmsnorm, packed gate|up, swiglu_gu, down */
	double layer = 2 * t_anorm + t_qkv + t_split + t_kvw + t_att + t_o_cold + t_gu + t_swi + t_d;
	double step = 32 * layer + t_lm + t_norm + t_samp;
	double wbytes = 32 * (6144.0 + 4096 + 28672 + 14336) * 4096 * 2 + 128256.0 * 4096 * 2;
	double roof = (wbytes + 32 * kvbytes) / bw;   /* every weight and KV byte read once */
	printf("llama-8b step B %d ctx %d, summed from the ops (each timed alone, back to back): "
	       "%.2f ms = %.0f tok/s; weights+KV at measured copy bandwidth %.2f ms (%.0f%% of it)\n", B, ctx, step * 1e3, B / step, roof * 1e3,
	       100 * roof / step);
	return 0;
}
