/* mamba.cu — the recurrent ops: Mamba2's causal conv1d, the SSD recurrence
 * (prefill and decode are one kernel: a sequence's new tokens are scanned
 * in order with the state in registers) and the Mamba-1 selective scan.
 * States are float32, [slot][...] as ops.h lays them out; each kernel
 * reads a sequence's state once, runs its tokens, and writes it back once. */
#include <cstring>
#include "common.cuh"

#define MAXK 8   /* widest conv kernel supported (models use 4) */

/* one thread per (channel, sequence); the last K-1 inputs ride in registers */
__global__ void conv1d_kernel(float *y, const float *x, int ldx, float *state, const float *w,
			      const float *bias, const int32_t *q_start, const int32_t *q_len,
			      const int32_t *slot, int channels, int K)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x, s = blockIdx.y;
	if (c >= channels) return;
	float win[MAXK], wk[MAXK];
	float *st = state + ((size_t)slot[s] * channels + c) * (K - 1);
#pragma unroll
	for (int k = 0; k < MAXK; k++) {
		win[k] = k < K - 1 ? st[k] : 0.f;
		wk[k] = k < K ? w[(size_t)c * K + k] : 0.f;
	}
	const float b = bias ? bias[c] : 0.f;
	const int r0 = q_start[s], n = q_len[s];
	for (int t = 0; t < n; t++) {
		float xv = x[(size_t)(r0 + t) * ldx + c], a = b;
#pragma unroll
		for (int k = 0; k < MAXK; k++) {
			if (k < K - 1) a += wk[k] * win[k];
			else if (k == K - 1) a += wk[k] * xv;
		}
		y[(size_t)(r0 + t) * channels + c] = silu_f(a);
#pragma unroll
		for (int k = 0; k < MAXK - 1; k++)
			if (k < K - 2) win[k] = win[k + 1];
#pragma unroll
		for (int k = 0; k < MAXK; k++)
			if (k == K - 2) win[k] = xv;
	}
#pragma unroll
	for (int k = 0; k < MAXK; k++)
		if (k < K - 1) st[k] = win[k];
}

void cu_conv1d(float *y, const float *x, int ldx, void *state, const float *w,
	       const float *bias, const tts_batch *b, int channels, int K)
{
	if (K < 2 || K > MAXK) {
		fprintf(stderr, "tts: conv1d: kernel width %d not supported (2..%d)\n", K, MAXK);
		exit(1);
	}
	if (b->n_seqs <= 0) return;
	dim3 grid(cdiv(channels, 128), b->n_seqs);
	conv1d_kernel<<<grid, 128, 0, tts_stream>>>(y, x, ldx, (float *)state, w, bias, b->q_start,
						    b->q_len, b->slot, channels, K);
	launchCheck();
}

/* SSD: one warp per (head, PR consecutive P rows, sequence); lane holds
 * state columns n = lane*NPL .. lane*NPL+NPL-1 of each of its rows in
 * registers, so a row's read and write are 16-byte accesses coalesced
 * across the warp, the PR rows' loads are in flight together, and B and C
 * are read once for the PR rows; y by warp reductions. */
#define SSD_WARPS 4
#define SSD_PR 4
struct ssd_geom {
	int H, P, N, ld, x_dim, b_dim, xdiv, bdiv, cdiv_, pblocks;
	float dt_min, dt_max;
};

/* NPL consecutive floats from p (n0 = lane*NPL), zero past N */
template <int NPL>
__device__ __forceinline__ void ld_cols(float *d, const float *p, int n0, int N)
{
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 15) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) {
			float4 v = *reinterpret_cast<const float4 *>(p + j);
			d[j] = v.x, d[j + 1] = v.y, d[j + 2] = v.z, d[j + 3] = v.w;
		}
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++) d[j] = n0 + j < N ? p[j] : 0.f;
	}
}

template <int NPL>
__device__ __forceinline__ void st_cols(float *p, const float *d, int n0, int N)
{
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 15) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4)
			*reinterpret_cast<float4 *>(p + j) = make_float4(d[j], d[j + 1], d[j + 2], d[j + 3]);
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++)
			if (n0 + j < N) p[j] = d[j];
	}
}

/* four bf16 (8 bytes) to floats and back */
__device__ __forceinline__ void unpack4(float *d, uint2 u)
{
	float2 a = __bfloat1622float2(*reinterpret_cast<__nv_bfloat162 *>(&u.x));
	float2 b = __bfloat1622float2(*reinterpret_cast<__nv_bfloat162 *>(&u.y));
	d[0] = a.x, d[1] = a.y, d[2] = b.x, d[3] = b.y;
}

__device__ __forceinline__ uint2 pack4(const float *d)
{
	__nv_bfloat162 a = __floats2bfloat162_rn(d[0], d[1]), b = __floats2bfloat162_rn(d[2], d[3]);
	uint2 u;
	u.x = *reinterpret_cast<unsigned *>(&a), u.y = *reinterpret_cast<unsigned *>(&b);
	return u;
}

/* the same for a bf16 state (TTS_SSM_STATE=bf16): 8-byte loads of 4 */
template <int NPL>
__device__ __forceinline__ void ld_cols(float *d, const bf16 *p, int n0, int N)
{
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 7) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) unpack4(d + j, *reinterpret_cast<const uint2 *>(p + j));
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++) d[j] = n0 + j < N ? __bfloat162float(p[j]) : 0.f;
	}
}

template <int NPL>
__device__ __forceinline__ void st_cols(bf16 *p, const float *d, int n0, int N)
{
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 7) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) *reinterpret_cast<uint2 *>(p + j) = pack4(d + j);
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++)
			if (n0 + j < N) p[j] = __float2bfloat16_rn(d[j]);
	}
}

/* SSM states are float32 unless TTS_SSM_STATE=bf16 (half the state
 * traffic of a decode step).  Either way a slot keeps the float32 size
 * ops->state_alloc gave it (slot s starts at byte s * floats_per_slot * 4),
 * so state_copy and state_zero work unchanged; a bf16 state fills the
 * first half of its slot. */
static int ssm_bf16(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("TTS_SSM_STATE");
		v = e && strcmp(e, "bf16") == 0;
	}
	return v;
}

/* TTS_SSD (read once): 1, the default, reads and writes the state as
 * streaming data (ld/st .cs, evict first: each byte is touched once a
 * step); 0 with plain loads and stores.  On the H200 (GPU run 16,
 * bench_ops 128 ssd, Mamba2InLlama_1's shape) the hints took the float32
 * state's step from 167.9 to 138.9 us: 75 to 91 % of the copy bandwidth. */
static int ssd_mode(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("TTS_SSD");
		v = e && *e ? atoi(e) != 0 : 1;
	}
	return v;
}

template <int NPL, bool CS>
__device__ __forceinline__ void ld_state(float *d, const float *p, int n0, int N)
{
	if (!CS) return ld_cols<NPL>(d, p, n0, N);
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 15) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) {
			float4 v = __ldcs(reinterpret_cast<const float4 *>(p + j));
			d[j] = v.x, d[j + 1] = v.y, d[j + 2] = v.z, d[j + 3] = v.w;
		}
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++) d[j] = n0 + j < N ? __ldcs(p + j) : 0.f;
	}
}

template <int NPL, bool CS>
__device__ __forceinline__ void st_state(float *p, const float *d, int n0, int N)
{
	if (!CS) return st_cols<NPL>(p, d, n0, N);
	if (NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 15) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4)
			__stcs(reinterpret_cast<float4 *>(p + j), make_float4(d[j], d[j + 1], d[j + 2], d[j + 3]));
	} else {
#pragma unroll
		for (int j = 0; j < NPL; j++)
			if (n0 + j < N) __stcs(p + j, d[j]);
	}
}

template <int NPL, bool CS>
__device__ __forceinline__ void ld_state(float *d, const bf16 *p, int n0, int N)
{
	if (CS && NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 7) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) unpack4(d + j, __ldcs(reinterpret_cast<const uint2 *>(p + j)));
	} else {
		ld_cols<NPL>(d, p, n0, N);
	}
}

template <int NPL, bool CS>
__device__ __forceinline__ void st_state(bf16 *p, const float *d, int n0, int N)
{
	if (CS && NPL % 4 == 0 && n0 + NPL <= N && ((uintptr_t)p & 7) == 0) {
#pragma unroll
		for (int j = 0; j < NPL; j += 4) __stcs(reinterpret_cast<uint2 *>(p + j), pack4(d + j));
	} else {
		st_cols<NPL>(p, d, n0, N);
	}
}

/* the state rows of item (s, h, p0) start at lane n0 */
template <typename T>
__device__ __forceinline__ T *ssd_rows(void *state, const int32_t *slot, int s, int h, int p0, int n0,
				       const ssd_geom &g)
{
	return (T *)((char *)state + (size_t)slot[s] * g.H * g.P * g.N * sizeof(float)) +
	       ((size_t)h * g.P + p0) * g.N + n0;
}

template <int NPL, typename T, bool CS>
__device__ __forceinline__ void ssd_load(float (&S)[SSD_PR][NPL], const T *st, int p0, int n0,
					 const ssd_geom &g)
{
#pragma unroll
	for (int k = 0; k < SSD_PR; k++) {
		if (p0 + k < g.P) ld_state<NPL, CS>(S[k], st + (size_t)k * g.N, n0, g.N);
		else
#pragma unroll
			for (int j = 0; j < NPL; j++) S[k][j] = 0.f;
	}
}

template <int NPL, typename T, bool CS>
__device__ __forceinline__ void ssd_store(T *st, const float (&S)[SSD_PR][NPL], int p0, int n0,
					  const ssd_geom &g)
{
#pragma unroll
	for (int k = 0; k < SSD_PR; k++)
		if (p0 + k < g.P) st_state<NPL, CS>(st + (size_t)k * g.N, S[k], n0, g.N);
}

/* the tokens of sequence s through rows p0.. of head h, the state in S */
template <int NPL>
__device__ __forceinline__ void ssd_scan(float (&S)[SSD_PR][NPL], float *y, const float *xbc,
					 const float *dt_raw, int lddt, const float *dt_bias,
					 const float *A_log, const float *D, int r0, int n_tok, int h,
					 int p0, int lane, const ssd_geom &g)
{
	const int n0 = lane * NPL;
	const float A = -expf(A_log[h]), Dh = D[h], bias = dt_bias[h];
	const int xo = (h / g.xdiv) * g.P + p0, bo = g.x_dim + (h / g.bdiv) * g.N + n0;
	const int co = g.x_dim + g.b_dim + (h / g.cdiv_) * g.N + n0;
	for (int t = 0; t < n_tok; t++) {
		const float *row = xbc + (size_t)(r0 + t) * g.ld;
		float dt = softplus_f(dt_raw[(size_t)(r0 + t) * lddt + h] + bias);
		dt = fminf(fmaxf(dt, g.dt_min), g.dt_max);
		const float dA = expf(dt * A);
		float Bv[NPL], Cv[NPL];
		ld_cols<NPL>(Bv, row + bo, n0, g.N);
		ld_cols<NPL>(Cv, row + co, n0, g.N);
		float acc[SSD_PR], xv[SSD_PR];
#pragma unroll
		for (int k = 0; k < SSD_PR; k++) {
			xv[k] = p0 + k < g.P ? row[xo + k] : 0.f;
			const float dx = dt * xv[k];
			float a = 0.f;
#pragma unroll
			for (int j = 0; j < NPL; j++) {
				S[k][j] = S[k][j] * dA + dx * Bv[j];
				a += S[k][j] * Cv[j];
			}
			acc[k] = a;
		}
#pragma unroll
		for (int k = 0; k < SSD_PR; k++) acc[k] = warp_sum(acc[k]);
		if (lane < SSD_PR && p0 + lane < g.P) {
			float a = acc[0];
#pragma unroll
			for (int k = 1; k < SSD_PR; k++)
				if (lane == k) a = acc[k];
			float x = xv[0];
#pragma unroll
			for (int k = 1; k < SSD_PR; k++)
				if (lane == k) x = xv[k];
			y[(size_t)(r0 + t) * g.H * g.P + (size_t)h * g.P + p0 + lane] = a + Dh * x;
		}
	}
}

/* grid (H * pblocks, sequences): one warp a (head, SSD_PR rows, sequence) */
template <int NPL, typename T, bool CS>
__global__ void ssd_kernel(float *y, const float *xbc, const float *dt_raw, int lddt,
			   void *state, const float *dt_bias, const float *A_log, const float *D,
			   const int32_t *q_start, const int32_t *q_len, const int32_t *slot,
			   ssd_geom g)
{
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n0 = lane * NPL;
	const int h = blockIdx.x / g.pblocks;
	const int p0 = ((blockIdx.x % g.pblocks) * SSD_WARPS + warp) * SSD_PR;
	const int s = blockIdx.y;
	if (p0 >= g.P) return;
	T *st = ssd_rows<T>(state, slot, s, h, p0, n0, g);
	float S[SSD_PR][NPL];
	ssd_load<NPL, T, CS>(S, st, p0, n0, g);
	ssd_scan<NPL>(S, y, xbc, dt_raw, lddt, dt_bias, A_log, D, q_start[s], q_len[s], h, p0, lane, g);
	ssd_store<NPL, T, CS>(st, S, p0, n0, g);
}

template <int NPL, typename T>
static void ssd_launch(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
		       const float *dt_bias, const float *A_log, const float *D, const tts_batch *b,
		       const ssd_geom &g)
{
	const int mode = ssd_mode();
	dim3 grid(g.H * g.pblocks, b->n_seqs), blk(32 * SSD_WARPS);
	if (mode == 1)
		ssd_kernel<NPL, T, true><<<grid, blk, 0, tts_stream>>>(y, xbc, dt_raw, lddt, state,
			dt_bias, A_log, D, b->q_start, b->q_len, b->slot, g);
	else
		ssd_kernel<NPL, T, false><<<grid, blk, 0, tts_stream>>>(y, xbc, dt_raw, lddt, state,
			dt_bias, A_log, D, b->q_start, b->q_len, b->slot, g);
}

void cu_ssd(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
	    const float *dt_bias, const float *A_log, const float *D, const tts_model *m,
	    const tts_batch *b)
{
	ssd_geom g;
	g.H = m->m2_heads, g.P = m->m2_headdim, g.N = m->m2_state, g.ld = m->m2_conv_dim;
	g.x_dim = m->m2_x_groups * g.P, g.b_dim = m->m2_b_groups * g.N;
	g.xdiv = g.H / m->m2_x_groups, g.bdiv = g.H / m->m2_b_groups, g.cdiv_ = g.H / m->m2_c_groups;
	g.pblocks = cdiv(g.P, SSD_WARPS * SSD_PR);
	g.dt_min = (float)m->m2_dt_min, g.dt_max = (float)m->m2_dt_max;
	if (b->n_seqs <= 0) return;
#define SSD_LAUNCH(NPL) do { if (ssm_bf16()) \
		ssd_launch<NPL, bf16>(y, xbc, dt_raw, lddt, state, dt_bias, A_log, D, b, g); \
	else ssd_launch<NPL, float>(y, xbc, dt_raw, lddt, state, dt_bias, A_log, D, b, g); } while (0)
	if (g.N <= 32) SSD_LAUNCH(1);
	else if (g.N <= 64) SSD_LAUNCH(2);
	else if (g.N <= 128) SSD_LAUNCH(4);
	else if (g.N <= 256) SSD_LAUNCH(8);
	else {
		fprintf(stderr, "tts: ssd: state size %d not supported (at most 256)\n", g.N);
		exit(1);
	}
#undef SSD_LAUNCH
	launchCheck();
}

/* Mamba-1 (checkpoints.md section 7): one thread per (channel c, sequence),
 * its N state values in registers.  B of channel c is Bx group
 * c / (N*rep), C is Cx group c / N, rep = E / d_xb; dt_b is added again
 * before the softplus (the checkpoints were trained that way). */
template <int MAXN, typename T>
__global__ void m1_scan_kernel(float *y, const float *u, const float *dt, const float *dt_b,
			       const float *Bx, const float *Cx, const float *z, void *state,
			       const float *A_log, const float *D, const int32_t *q_start,
			       const int32_t *q_len, const int32_t *slot, int E, int X, int N)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x, s = blockIdx.y;
	if (c >= E) return;
	const int rep = E / X, bo = (c / (N * rep)) * N, co = (c / N) * N;
	T *st = (T *)((char *)state + (size_t)slot[s] * E * N * sizeof(float)) + (size_t)c * N;
	float S[MAXN], A[MAXN];
	ld_cols<MAXN>(S, st, 0, N);
	ld_cols<MAXN>(A, A_log + (size_t)c * N, 0, N);
#pragma unroll
	for (int n = 0; n < MAXN; n++) A[n] = -expf(A[n]);
	const float Dc = D[c], bias = dt_b[c];
	const int r0 = q_start[s], n_tok = q_len[s];
	for (int t = 0; t < n_tok; t++) {
		size_t r = r0 + t;
		float uu = u[r * E + c], d = softplus_f(dt[r * E + c] + bias), acc = 0.f;
		float Br[MAXN], Cr[MAXN];   /* zero past N: those terms vanish */
		ld_cols<MAXN>(Br, Bx + r * X + bo, 0, N);
		ld_cols<MAXN>(Cr, Cx + r * E + co, 0, N);
#pragma unroll
		for (int n = 0; n < MAXN; n++) {
			S[n] = expf(d * A[n]) * S[n] + d * Br[n] * uu;
			acc += S[n] * Cr[n];
		}
		y[r * E + c] = (acc + Dc * uu) * silu_f(z[r * E + c]);
	}
	st_cols<MAXN>(st, S, 0, N);
}

void cu_m1_scan(float *y, const float *u, const float *dt, const float *dt_b, const float *Bx,
		const float *Cx, const float *z, void *state, const float *A_log, const float *D,
		const tts_model *m, const tts_batch *b)
{
	int E = m->m1_d_inner, X = m->m1_d_xb, N = m->m1_state;
	if (b->n_seqs <= 0) return;
	dim3 grid(cdiv(E, 128), b->n_seqs);
#define M1_LAUNCH(MN) do { if (ssm_bf16()) \
		m1_scan_kernel<MN, bf16><<<grid, 128, 0, tts_stream>>>(y, u, dt, dt_b, Bx, Cx, z, \
			state, A_log, D, b->q_start, b->q_len, b->slot, E, X, N); \
	else m1_scan_kernel<MN, float><<<grid, 128, 0, tts_stream>>>(y, u, dt, dt_b, Bx, Cx, z, \
			state, A_log, D, b->q_start, b->q_len, b->slot, E, X, N); } while (0)
	if (N <= 16) M1_LAUNCH(16);
	else if (N <= 32) M1_LAUNCH(32);
	else {
		fprintf(stderr, "tts: m1_scan: state size %d not supported (at most 32)\n", N);
		exit(1);
	}
#undef M1_LAUNCH
	launchCheck();
}
