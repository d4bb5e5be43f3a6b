/* attention.cu — the paged KV cache (bf16, [block][kv head][TTS_KV_BLOCK][hd])
 * and causal GQA attention over it, flash style: a thread block takes one
 * sequence, one KV head and a tile of QT consecutive query rows (QT = 1 in
 * decode), so each KV block is read from memory once for the G = Hq/Hkv
 * query heads times QT rows that share it; scores, the running max and sum
 * and the output accumulator live in shared memory (online softmax). */
#include <cstring>
#include "common.cuh"

#define KB TTS_KV_BLOCK

void *cu_kv_alloc(int n_blocks, int n_kv, int head_dim)
{
	size_t n = (size_t)n_blocks * n_kv * KB * head_dim * sizeof(bf16);
	void *p = NULL;
	cudaError_t e = cudaMalloc(&p, n);
	if (e != cudaSuccess) {
		fprintf(stderr, "tts: out of GPU memory for the KV cache: %zu bytes (%s)\n", n,
			cudaGetErrorString(e));
		exit(1);
	}
	cudaCheck(cudaMemsetAsync(p, 0, n, tts_stream));
	return p;
}

/* one thread per (row, element of the n_kv*hd row); kv_slot < 0 skips a row */
__global__ void kv_write_kernel(bf16 *kc, bf16 *vc, const float *k, const float *v,
				const int32_t *kv_slot, int rows, int n_kv, int hd)
{
	size_t width = (size_t)n_kv * hd;
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (t >= rows * width) return;
	int r = (int)(t / width), e = (int)(t % width);
	int slot = kv_slot[r];
	if (slot < 0) return;
	int blk = slot / KB, off = slot % KB, h = e / hd, d = e % hd;
	size_t o = (((size_t)blk * n_kv + h) * KB + off) * hd + d;
	kc[o] = __float2bfloat16_rn(k[t]);
	vc[o] = __float2bfloat16_rn(v[t]);
}

void cu_kv_write(void *kc, void *vc, const float *k, const float *v, const tts_batch *b,
		 int n_kv, int head_dim)
{
	size_t n = (size_t)b->rows * n_kv * head_dim;
	if (!n) return;
	kv_write_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>((bf16 *)kc, (bf16 *)vc, k, v,
							       b->kv_slot, b->rows, n_kv, head_dim);
	launchCheck();
}

void cu_kv_copy_block(void *kc, void *vc, int dst, int src, int n_kv, int head_dim)
{
	size_t n = (size_t)n_kv * KB * head_dim;
	cudaCheck(cudaMemcpyAsync((bf16 *)kc + dst * n, (bf16 *)kc + src * n, n * sizeof(bf16),
				  cudaMemcpyDeviceToDevice, tts_stream));
	cudaCheck(cudaMemcpyAsync((bf16 *)vc + dst * n, (bf16 *)vc + src * n, n * sizeof(bf16),
				  cudaMemcpyDeviceToDevice, tts_stream));
}

/* Shared memory of one block, in floats: Q and O [QT*G][hd], K [KB][hd+1]
 * (padded: the score loop reads K by key across a warp), V [KB][hd],
 * scores [QT*G][KB], then max, sum and correction per query vector, and QT
 * positions. */
static size_t attn_smem(int qt, int G, int hd)
{
	size_t nv = (size_t)qt * G;
	return (2 * nv * hd + (size_t)KB * (hd + 1) + (size_t)KB * hd + nv * KB + 3 * nv + qt) *
	       sizeof(float);
}

/* The steps both kernels share, on one KV block in shared memory, for the
 * query vectors v < nv (v = row i * G + head g) whose row i is in the mask
 * `mem`; each ends with a barrier. */
__device__ __forceinline__ void blk_load(float *K, float *V, const bf16 *kc, const bf16 *vc,
					 size_t base, int hd)
{
	for (int e = threadIdx.x; e < KB * hd; e += blockDim.x) {
		K[(e / hd) * (hd + 1) + e % hd] = __bfloat162float(kc[base + e]);
		V[e] = __bfloat162float(vc[base + e]);
	}
	__syncthreads();
}

/* S[v][t] = q_v . k_t, or -inf past the row's position (causal) */
__device__ __forceinline__ void blk_scores(float *S, const float *Q, const float *K, const int *P,
					   int nv, int G, int hd, int j, unsigned mem)
{
	for (int e = threadIdx.x; e < nv * KB; e += blockDim.x) {
		int v = e / KB, t = e % KB, i = v / G;
		if (!(mem >> i & 1)) continue;
		float a = -INFINITY;
		if (j * KB + t <= P[i]) {
			const float *qv = Q + v * hd, *kv = K + t * (hd + 1);
			a = 0.f;
			for (int d = 0; d < hd; d++) a += qv[d] * kv[d];
		}
		S[e] = a;
	}
	__syncthreads();
}

/* online softmax: new running max and sum; S becomes the weights, C the
 * factor that rescales the old output */
__device__ __forceinline__ void blk_softmax(float *S, float *M, float *L, float *C, int nv, int G,
					    unsigned mem)
{
	for (int v = threadIdx.x; v < nv; v += blockDim.x) {
		if (!(mem >> (v / G) & 1)) continue;
		float mo = M[v], mx = mo;
		for (int t = 0; t < KB; t++) mx = fmaxf(mx, S[v * KB + t]);
		float c = mx == -INFINITY ? 1.f : expf(mo - mx), l = L[v] * c;
		for (int t = 0; t < KB; t++) {
			float sc = S[v * KB + t];
			float pr = sc == -INFINITY ? 0.f : expf(sc - mx);
			S[v * KB + t] = pr;
			l += pr;
		}
		M[v] = mx, L[v] = l, C[v] = c;
	}
	__syncthreads();
}

__device__ __forceinline__ void blk_accum(float *O, const float *S, const float *V, const float *C,
					  int nv, int G, int hd, unsigned mem)
{
	for (int e = threadIdx.x; e < nv * hd; e += blockDim.x) {
		int v = e / hd, d = e % hd;
		if (!(mem >> (v / G) & 1)) continue;
		float a = O[e] * C[v];
		for (int t = 0; t < KB; t++) a += S[v * KB + t] * V[t * hd + d];
		O[e] = a;
	}
	__syncthreads();
}

/* The first kernel: one sequence, one KV head and QT of its rows a block */
__global__ void attn_kernel(float *out, const float *q, const bf16 *kc, const bf16 *vc,
			    const int32_t *q_start, const int32_t *q_len,
			    const int32_t *block_table, int max_blocks, const int32_t *pos,
			    int n_heads, int n_kv, int hd, int QT, float scale)
{
	extern __shared__ float sm[];
	const int G = n_heads / n_kv, s = blockIdx.y, kvh = blockIdx.z;
	const int tid = threadIdx.x, nt = blockDim.x;
	const int qlen = q_len[s], t0 = blockIdx.x * QT;
	if (t0 >= qlen) return;
	const int nq = min(QT, qlen - t0), r0 = q_start[s] + t0, nv = nq * G, hdp = hd + 1;
	float *Q = sm, *O = Q + QT * G * hd, *K = O + QT * G * hd, *V = K + KB * hdp;
	float *S = V + KB * hd, *M = S + QT * G * KB, *L = M + QT * G, *C = L + QT * G;
	int *P = (int *)(C + QT * G);
	const size_t ldq = (size_t)n_heads * hd;

	for (int e = tid; e < nv * hd; e += nt) {
		int v = e / hd, d = e % hd, i = v / G, g = v % G;
		Q[e] = q[(r0 + i) * ldq + (size_t)(kvh * G + g) * hd + d] * scale;
		O[e] = 0.f;
	}
	for (int v = tid; v < nv; v += nt) M[v] = -INFINITY, L[v] = 0.f;
	for (int i = tid; i < nq; i += nt) P[i] = pos[r0 + i];
	__syncthreads();
	int maxpos = 0;
	for (int i = 0; i < nq; i++) maxpos = max(maxpos, P[i]);
	const int nblk = maxpos / KB + 1;
	const int32_t *bt = block_table + (size_t)s * max_blocks;

	for (int j = 0; j < nblk; j++) {
		blk_load(K, V, kc, vc, ((size_t)bt[j] * n_kv + kvh) * KB * hd, hd);
		blk_scores(S, Q, K, P, nv, G, hd, j, ~0u);
		blk_softmax(S, M, L, C, nv, G, ~0u);
		blk_accum(O, S, V, C, nv, G, hd, ~0u);
	}
	for (int e = tid; e < nv * hd; e += nt) {
		int v = e / hd, d = e % hd, i = v / G, g = v % G;
		out[(r0 + i) * ldq + (size_t)(kvh * G + g) * hd + d] = O[e] / L[v];
	}
}

/* The tiled kernel: a thread block takes QT consecutive rows of the batch
 * (of any sequences), one KV head and one split of the key blocks.  At key
 * block j it groups its rows by the block id their sequences hold there:
 * rows of one prompt in prefill, and sibling samples in decode, share the
 * blocks of their common prefix, so such a block is read once for all of
 * them (shared-prefix attention); blocks past the fork are read per row.
 * With several splits, each writes its partial (max, sum, output) and a
 * second kernel merges them (flash decoding): that keeps the GPU full when
 * there are few rows and long contexts. */
__global__ void attn_tile_kernel(float *out, float *part_o, float2 *part_ml, const float *q,
				 const bf16 *kc, const bf16 *vc, const int32_t *seq_of_row,
				 const int32_t *block_table, int max_blocks, const int32_t *pos,
				 int rows, int n_heads, int n_kv, int hd, int QT, int bps, float scale)
{
	extern __shared__ float sm[];
	const int G = n_heads / n_kv, kvh = blockIdx.y, split = blockIdx.z;
	const int tid = threadIdx.x, nt = blockDim.x;
	const int r0 = blockIdx.x * QT, nq = min(QT, rows - r0), nv = nq * G, hdp = hd + 1;
	float *Q = sm, *O = Q + QT * G * hd, *K = O + QT * G * hd, *V = K + KB * hdp;
	float *S = V + KB * hd, *M = S + QT * G * KB, *L = M + QT * G, *C = L + QT * G;
	int *P = (int *)(C + QT * G), *SEQ = P + QT, *BID = SEQ + QT;
	const size_t ldq = (size_t)n_heads * hd;

	for (int e = tid; e < nv * hd; e += nt) {
		int v = e / hd, d = e % hd, i = v / G, g = v % G;
		Q[e] = q[(r0 + i) * ldq + (size_t)(kvh * G + g) * hd + d] * scale;
		O[e] = 0.f;
	}
	for (int v = tid; v < nv; v += nt) M[v] = -INFINITY, L[v] = 0.f;
	for (int i = tid; i < nq; i += nt) P[i] = pos[r0 + i], SEQ[i] = seq_of_row[r0 + i];
	__syncthreads();
	int maxpos = 0;
	for (int i = 0; i < nq; i++) maxpos = max(maxpos, P[i]);
	const int j0 = split * bps, j1 = min(j0 + bps, maxpos / KB + 1);

	for (int j = j0; j < j1; j++) {
		if (tid < nq)
			BID[tid] = j * KB <= P[tid] ? block_table[(size_t)SEQ[tid] * max_blocks + j] : -1;
		__syncthreads();
		unsigned pending = 0;
		for (int i = 0; i < nq; i++)
			if (BID[i] >= 0) pending |= 1u << i;
		while (pending) {
			const int bid = BID[__ffs(pending) - 1];
			unsigned mem = 0;
			for (int i = 0; i < nq; i++)
				if ((pending >> i & 1) && BID[i] == bid) mem |= 1u << i;
			pending &= ~mem;
			blk_load(K, V, kc, vc, ((size_t)bid * n_kv + kvh) * KB * hd, hd);
			blk_scores(S, Q, K, P, nv, G, hd, j, mem);
			blk_softmax(S, M, L, C, nv, G, mem);
			blk_accum(O, S, V, C, nv, G, hd, mem);
		}
		__syncthreads();   /* BID is rewritten next */
	}
	for (int e = tid; e < nv * hd; e += nt) {
		int v = e / hd, d = e % hd, i = v / G, g = v % G;
		size_t o = (r0 + i) * ldq + (size_t)(kvh * G + g) * hd + d;
		if (gridDim.z == 1) out[o] = O[e] / L[v];
		else part_o[split * rows * ldq + o] = O[e];
	}
	if (gridDim.z > 1)
		for (int v = tid; v < nv; v += nt) {
			int i = v / G, g = v % G;
			part_ml[((size_t)split * rows + r0 + i) * n_heads + kvh * G + g] = make_float2(M[v], L[v]);
		}
}

/* out = sum_s e^(M_s - m) O_s / sum_s e^(M_s - m) L_s, and its bf16
 * rounding in outb (o_proj's input); one block per (row, head) */
__global__ void attn_merge_kernel(float *out, bf16 *outb, const float *part_o,
				  const float2 *part_ml, int rows, int n_heads, int hd, int n_split)
{
	const int r = blockIdx.x, h = blockIdx.y;
	const size_t ldq = (size_t)n_heads * hd, stride = (size_t)rows * ldq;
	float m = -INFINITY;
	for (int s = 0; s < n_split; s++) m = fmaxf(m, part_ml[((size_t)s * rows + r) * n_heads + h].x);
	for (int d = threadIdx.x; d < hd; d += blockDim.x) {
		float num = 0.f, den = 0.f;
		for (int s = 0; s < n_split; s++) {
			float2 ml = part_ml[((size_t)s * rows + r) * n_heads + h];
			if (ml.y == 0.f) continue;
			float f = expf(ml.x - m);
			den += f * ml.y;
			num += f * part_o[s * stride + r * ldq + (size_t)h * hd + d];
		}
		out[r * ldq + (size_t)h * hd + d] = num / den;
		outb[r * ldq + (size_t)h * hd + d] = __float2bfloat16_rn(num / den);
	}
}

/* Decode (one new token per sequence): one warp per (row, KV head, split
 * of the keys), no shared memory and no barriers.  Lane l holds dims
 * [l*DPL, l*DPL+DPL) of the G query heads that share the KV head; each
 * iteration takes KPI = 32/G keys, so the KPI*G partial dot products fit
 * one reduce-scatter across the warp (31 shuffles), after which lane l
 * owns the score of key l/G for head l%G.  Sibling samples read the same
 * prompt blocks at about the same time, so after the first those reads
 * come from L2. */
/* one halving step of the reduce-scatter: keep half of v (by lane bit OFF),
 * add the partner's copy of that half */
template <int OFF>
__device__ __forceinline__ void rs_step(float *v, int lane)
{
	const bool up = lane & OFF;
#pragma unroll
	for (int j = 0; j < OFF; j++) {
		float send = up ? v[j] : v[j + OFF], keep = up ? v[j + OFF] : v[j];
		v[j] = keep + __shfl_xor_sync(0xffffffffu, send, OFF);
	}
}

template <int B> struct vec_bytes;
template <> struct vec_bytes<4> { typedef unsigned type; };
template <> struct vec_bytes<8> { typedef uint2 type; };
template <> struct vec_bytes<16> { typedef uint4 type; };

/* this lane's DPL dims of the cache rows of keys kb .. kb+KPI-1 (past k1:
 * key k1-1 again, masked by the caller) */
template <int KPI, int DPL>
__device__ __forceinline__ void load_keys(bf16 (*dst)[DPL], const bf16 *cache, const int32_t *bt,
					  int kb, int k1, int n_kv, int kvh, int lane)
{
	constexpr int hd = 32 * DPL;
#pragma unroll
	for (int k = 0; k < KPI; k++) {
		int key = min(kb + k, k1 - 1);
		const bf16 *p = cache + (((size_t)bt[key / KB] * n_kv + kvh) * KB + key % KB) * hd +
				lane * DPL;
		/* one 4-, 8- or 16-byte load (rows are hd*2 bytes, lane*DPL*2 aligned) */
		typedef typename vec_bytes<DPL * 2>::type V;
		*reinterpret_cast<V *>(dst[k]) = *reinterpret_cast<const V *>(p);
	}
}

template <int G, int DPL>
__global__ void __launch_bounds__(128)
attn_decode_kernel(float *out, float *part_o, float2 *part_ml, const float *q, const bf16 *kc,
		   const bf16 *vc, const int32_t *seq_of_row, const int32_t *block_table,
		   int max_blocks, const int32_t *pos, int rows, int n_kv, int n_split, int kps,
		   float scale)
{
	constexpr int KPI = 32 / G, hd = 32 * DPL;
	const int lane = threadIdx.x & 31;
	const int w = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
	if (w >= rows * n_kv * n_split) return;
	const int split = w % n_split, kvh = (w / n_split) % n_kv, r = w / n_split / n_kv;
	const int n_heads = n_kv * G, s = seq_of_row[r];
	const int k0 = split * kps, k1 = min(pos[r] + 1, k0 + kps);
	const size_t ldq = (size_t)n_heads * hd;
	const int32_t *bt = block_table + (size_t)s * max_blocks;

	float qv[G][DPL], o[G][DPL];
#pragma unroll
	for (int g = 0; g < G; g++)
#pragma unroll
		for (int i = 0; i < DPL; i++) {
			qv[g][i] = q[r * ldq + (size_t)(kvh * G + g) * hd + lane * DPL + i] * scale;
			o[g][i] = 0.f;
		}
	float m = -INFINITY, l = 0.f;          /* of head lane % G */

	for (int kb = k0; kb < k1; kb += KPI) {
		float v[32];
		/* the values are loaded with the keys: both round trips overlap */
		__align__(16) bf16 kv[KPI][DPL], vv[KPI][DPL];
		load_keys<KPI, DPL>(kv, kc, bt, kb, k1, n_kv, kvh, lane);
		load_keys<KPI, DPL>(vv, vc, bt, kb, k1, n_kv, kvh, lane);
#pragma unroll
		for (int k = 0; k < KPI; k++)
#pragma unroll
			for (int g = 0; g < G; g++) {
				float a = 0.f;
#pragma unroll
				for (int i = 0; i < DPL; i++) a += qv[g][i] * __bfloat162float(kv[k][i]);
				v[k * G + g] = a;
			}
		/* reduce-scatter: afterwards v[0] of lane l is the full sum of index l */
		rs_step<16>(v, lane);
		rs_step<8>(v, lane);
		rs_step<4>(v, lane);
		rs_step<2>(v, lane);
		rs_step<1>(v, lane);
		const float sc = kb + lane / G < k1 ? v[0] : -INFINITY;
		float mx = sc;
#pragma unroll
		for (int off = G; off < 32; off <<= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
		const float mn = fmaxf(m, mx);      /* finite: key kb is always in range */
		const float p = sc == -INFINITY ? 0.f : __expf(sc - mn), corr = __expf(m - mn);
		float ps = p;
#pragma unroll
		for (int off = G; off < 32; off <<= 1) ps += __shfl_xor_sync(0xffffffffu, ps, off);
		l = l * corr + ps;
		m = mn;
#pragma unroll
		for (int g = 0; g < G; g++) {
			const float cg = __shfl_sync(0xffffffffu, corr, g);
#pragma unroll
			for (int i = 0; i < DPL; i++) o[g][i] *= cg;
#pragma unroll
			for (int k = 0; k < KPI; k++) {
				const float pk = __shfl_sync(0xffffffffu, p, k * G + g);
#pragma unroll
				for (int i = 0; i < DPL; i++) o[g][i] += pk * __bfloat162float(vv[k][i]);
			}
		}
	}
#pragma unroll
	for (int g = 0; g < G; g++) {
		const float lg = __shfl_sync(0xffffffffu, l, g), mg = __shfl_sync(0xffffffffu, m, g);
		const size_t base = r * ldq + (size_t)(kvh * G + g) * hd + lane * DPL;
#pragma unroll
		for (int i = 0; i < DPL; i++) {
			if (n_split == 1) out[base + i] = o[g][i] / lg;
			else part_o[(size_t)split * rows * ldq + base + i] = o[g][i];
		}
		if (n_split > 1 && lane == 0)
			part_ml[((size_t)split * rows + r) * n_heads + kvh * G + g] = make_float2(mg, lg);
	}
}

/* Decode on tensor cores (head_dim 128; TTS_ATTN_MMA=0 sends it to
 * attn_decode_kernel instead): the same warp per (row, KV head, split) and
 * the same partial results as attn_decode_kernel, but the G query heads'
 * scores and outputs come from
 * mma.sync m16n8k16 (bf16 in, float32 accumulate).  The 16 rows of the A
 * operand are the G heads (the rest zero); a step takes 16 keys, one KV
 * block.  K and V of a block are staged in the warp's shared memory by
 * cp.async (keys past the context zero-filled) and read with ldmatrix:
 * scores = q (16 x 16 dims) times K^T (16 dims x 8 keys), eight chunks of
 * dims, two tiles of 8 keys; outputs = p (16 x 16 keys, built from the
 * score fragments in place) times V (16 keys x 8 dims, ldmatrix.trans).
 * MMA_ST stages: the copies of blocks j+1 .. j+MMA_ST-1 are in flight
 * while block j is computed.  On the H200 (GPU run 13, bench_ops 128 attn)
 * two stages took decode attention at batch 128 and contexts 584 / 968,
 * the first 208 tokens shared, from 111 / 187 us (the warp kernel) to
 * 84 / 130; one stage (load, wait, compute) to 95 / 147; three stages were
 * no better than two.
 * q and p are split into two bf16 terms (hi + lo), so their rounding error
 * is ~2^-17, as float32 as the check needs; K and V are bf16 already. */
#define MMA_HD 128
#define MMA_ROW (MMA_HD + 8)            /* bf16 a staged row: padded, no bank conflicts */
#define MMA_STAGE (2 * KB * MMA_ROW)    /* bf16 a stage: K then V */
#define MMA_ST 2                        /* stages a warp */

__device__ __forceinline__ uint32_t bf16x2_bits(float lo, float hi)
{
	__nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
	return *reinterpret_cast<uint32_t *>(&v);
}

/* x = hi + lo in bf16 pairs: a and b are the pair's two elements */
__device__ __forceinline__ void split_bf16x2(uint32_t &hi, uint32_t &lo, float a, float b)
{
	const float ah = __bfloat162float(__float2bfloat16_rn(a));
	const float bh = __bfloat162float(__float2bfloat16_rn(b));
	hi = bf16x2_bits(ah, bh);
	lo = bf16x2_bits(a - ah, b - bh);
}

/* (c0, c1) += A * B for row g of the tile: A's rows g (a0, a2) and g+8
 * (zeros), B (b0, b1).  Rows g+8 of the result are zero and thrown away,
 * so they take no registers across calls. */
__device__ __forceinline__ void mma_16816(float &c0, float &c1, uint32_t a0, uint32_t a2,
					  uint32_t b0, uint32_t b1)
{
	float d0, d1;
	[[maybe_unused]] float d2, d3;          /* rows g+8: zeros */
	asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
	    "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};\n"
	    : "=f"(d0), "=f"(d1), "=f"(d2), "=f"(d3)
	    : "r"(a0), "r"(0u), "r"(a2), "r"(0u), "r"(b0), "r"(b1), "f"(c0), "f"(c1), "f"(0.f),
	      "f"(0.f));
	c0 = d0, c1 = d1;
}

/* four 8x8 bf16 matrices from shared memory; lane L gives row L%8 of matrix L/8 */
template <bool TRANS>
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&b)[4], uint32_t addr)
{
	if (TRANS)
		asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
			     : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3]) : "r"(addr) : "memory");
	else
		asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
			     : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3]) : "r"(addr) : "memory");
}

/* start copying K and V of the block holding key kb (a multiple of KB) into
 * the stage at shared address st, keys from k1 on as zeros (a source size
 * of 0), so whatever the cache holds there cannot reach the sums; nothing
 * when kb is past the context (its block may not exist) */
__device__ __forceinline__ void mma_stage_in(uint32_t st, const bf16 *kc, const bf16 *vc,
					     const int32_t *bt, int kb, int k1, int n_kv, int kvh,
					     int lane)
{
	if (kb >= k1) return;
	const size_t base = ((size_t)bt[kb / KB] * n_kv + kvh) * KB * MMA_HD;
#pragma unroll
	for (int i = 0; i < KB * MMA_HD / 8 / 32; i++) {
		const int idx = lane + 32 * i, row = idx / (MMA_HD / 8), col = idx % (MMA_HD / 8);
		const size_t src = base + (size_t)row * MMA_HD + col * 8;
		const uint32_t dst = st + (uint32_t)((row * MMA_ROW + col * 8) * sizeof(bf16));
		const int n = kb + row < k1 ? 16 : 0;
		asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
			     :: "r"(dst), "l"(kc + src), "r"(n) : "memory");
		asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n"
			     :: "r"(dst + (uint32_t)(KB * MMA_ROW * sizeof(bf16))), "l"(vc + src),
			     "r"(n) : "memory");
	}
}

/* Cascade over a shared prompt (TTS_ATTN_CASCADE=1; off by default until
 * measured): decode rows go in groups of RG = 16 / G consecutive rows (the
 * samples of one prompt sit next to each other in a batch), and the leading
 * KV blocks every row of a group holds (the same block ids, every key
 * visible to every row: the prompt's blocks after a fork) are attended once
 * for the whole group by attn_mma_prefix_kernel, its RG rows x G heads
 * filling all 16 rows of the MMA tile (without it 16 - G rows are padding,
 * and each sample reads the prompt's blocks again, from L2);
 * attn_mma_kernel then starts each row's keys after its group's shared
 * blocks, and the merge folds both kernels' partial results.  Nothing on
 * the host says which rows share: each warp reads its group's block table
 * rows (a few hundred bytes) and finds the shared blocks itself.
 * The number of leading blocks the rows r0 .. r0+RG-1 (those < rows) share;
 * 0 for a lone row.  Every lane of the warp calls it and gets the same. */
__device__ __forceinline__ int group_shared_blocks(const int32_t *seq_of_row,
						   const int32_t *block_table, int max_blocks,
						   const int32_t *pos, int rows, int r0, int RG, int lane)
{
	const int n = min(RG, rows - r0);
	if (n < 2) return 0;
	int lim = pos[r0] + 1;
	for (int i = 1; i < n; i++) lim = min(lim, pos[r0 + i] + 1);
	const int full = min(lim / KB, max_blocks);     /* blocks every row sees whole */
	const int32_t *b0 = block_table + (size_t)seq_of_row[r0] * max_blocks;
	for (int j0 = 0; j0 < full; j0 += 32) {
		const int j = j0 + lane;
		bool diff = j >= full;
		if (!diff) {
			const int32_t id = b0[j];
			for (int i = 1; i < n; i++)
				diff |= block_table[(size_t)seq_of_row[r0 + i] * max_blocks + j] != id;
		}
		const unsigned m = __ballot_sync(0xffffffffu, diff);
		if (m) return j0 + __ffs(m) - 1;
	}
	return full;
}

template <int G, int MINB>
__global__ void __launch_bounds__(128, MINB)
attn_mma_kernel(float *out, float *part_o, float2 *part_ml, const float *q, const bf16 *kc,
		const bf16 *vc, const int32_t *seq_of_row, const int32_t *block_table,
		int max_blocks, const int32_t *pos, int rows, int n_kv, int n_split, int kps,
		float scale, int rg)
{
	constexpr int HD = MMA_HD, NC = HD / 16, ST = MMA_ST;
	static_assert(KB == 16, "a step is one KV block of 16 keys: two mma tiles of 8");
	extern __shared__ __align__(16) bf16 mma_smem[];    /* [warp][ST][K | V][KB][MMA_ROW] */
	const int lane = threadIdx.x & 31, wi = threadIdx.x >> 5;
	const int w = blockIdx.x * (blockDim.x >> 5) + wi;
	if (w >= rows * n_kv * n_split) return;
	const int split = w % n_split, kvh = (w / n_split) % n_kv, r = w / n_split / n_kv;
	const int s = seq_of_row[r], g = lane >> 2, t = lane & 3;
	/* with the cascade (rg > 0) the splits cover the keys after the group's
	 * shared blocks, which attn_mma_prefix_kernel takes */
	const int k0 = split * kps + (rg ? KB * group_shared_blocks(seq_of_row, block_table, max_blocks,
								     pos, rows, r - r % rg, rg, lane) : 0);
	const int k1 = min(pos[r] + 1, k0 + kps);
	const size_t ldq = (size_t)G * n_kv * HD;
	const int32_t *bt = block_table + (size_t)s * max_blocks;
	const uint32_t smem = (uint32_t)__cvta_generic_to_shared(mma_smem + (size_t)wi * ST * MMA_STAGE);
	constexpr uint32_t STAGE_B = MMA_STAGE * sizeof(bf16), V_B = KB * MMA_ROW * sizeof(bf16);

	/* the first ST-1 blocks' copies go out before anything else */
#pragma unroll
	for (int i = 0; i < ST - 1; i++) {
		mma_stage_in(smem + i * STAGE_B, kc, vc, bt, k0 + i * KB, k1, n_kv, kvh, lane);
		asm volatile("cp.async.commit_group;\n" ::: "memory");
	}
	/* q of head g (g < G): the A fragment of chunk c is dims 16c+2t, +1
	 * (a0) and 16c+8+2t, +1 (a2), split hi + lo */
	uint32_t qh[NC][2], ql[NC][2];
	{
		const float *qr = q + r * ldq + (size_t)(kvh * G + (g < G ? g : 0)) * HD + 2 * t;
#pragma unroll
		for (int c = 0; c < NC; c++) {
			float x[4];
#pragma unroll
			for (int i = 0; i < 4; i++)
				x[i] = g < G ? qr[16 * c + (i >> 1) * 8 + (i & 1)] * scale : 0.f;
			split_bf16x2(qh[c][0], ql[c][0], x[0], x[1]);
			split_bf16x2(qh[c][1], ql[c][1], x[2], x[3]);
		}
	}
	float o[HD / 8][2];                     /* row g, dims 8n + 2t, +1 */
#pragma unroll
	for (int n = 0; n < HD / 8; n++) o[n][0] = o[n][1] = 0.f;
	float m = -INFINITY, l = 0.f;          /* of row (head) g, the same in the quad */
	/* ldmatrix addresses: lane L gives row L%8 of matrix mi = L/8; for K
	 * (B of the scores, not transposed) the matrices are (keys 0-7 | 8-15,
	 * by mi/2) x (dims +0 | +8, by mi%2), for V (transposed) (keys by mi%2)
	 * x (dims by mi/2) */
	const int mi = lane >> 3;
	const uint32_t koff = (uint32_t)((((lane & 7) + (mi >> 1) * 8) * MMA_ROW + (mi & 1) * 8) *
					 sizeof(bf16));
	const uint32_t voff = V_B + (uint32_t)((((lane & 7) + (mi & 1) * 8) * MMA_ROW + (mi >> 1) * 8) *
					       sizeof(bf16));

	for (int kb = k0, it = 0; kb < k1; kb += KB, it++) {  /* k0 and kps are multiples of KB */
		mma_stage_in(smem + ((it + ST - 1) % ST) * STAGE_B, kc, vc, bt, kb + (ST - 1) * KB, k1,
			     n_kv, kvh, lane);
		asm volatile("cp.async.commit_group;\n" ::: "memory");
		asm volatile("cp.async.wait_group %0;\n" :: "n"(ST - 1) : "memory");
		__syncwarp();                   /* every lane's copies of block it have landed */
		const uint32_t st = smem + (it % ST) * STAGE_B;
		float s0[2] = { 0.f, 0.f }, s1[2] = { 0.f, 0.f };
#pragma unroll
		for (int c = 0; c < NC; c++) {
			uint32_t b[4];          /* keys 0-7: b[0], b[1]; keys 8-15: b[2], b[3] */
			ldmatrix_x4<false>(b, st + koff + 16 * c * sizeof(bf16));
			mma_16816(s0[0], s0[1], qh[c][0], qh[c][1], b[0], b[1]);
			mma_16816(s0[0], s0[1], ql[c][0], ql[c][1], b[0], b[1]);
			mma_16816(s1[0], s1[1], qh[c][0], qh[c][1], b[2], b[3]);
			mma_16816(s1[0], s1[1], ql[c][0], ql[c][1], b[2], b[3]);
		}
		/* row g's scores: keys kb+2t, +1 (s0) and kb+8+2t, +1 (s1) */
		float sc[4] = { s0[0], s0[1], s1[0], s1[1] };
#pragma unroll
		for (int j = 0; j < 4; j++)
			if (kb + (j >> 1) * 8 + 2 * t + (j & 1) >= k1) sc[j] = -INFINITY;
		float mx = fmaxf(fmaxf(sc[0], sc[1]), fmaxf(sc[2], sc[3]));
		mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
		mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
		const float mn = fmaxf(m, mx);  /* finite: key kb is always in range */
		const float corr = __expf(m - mn);
		float p[4], ps = 0.f;
#pragma unroll
		for (int j = 0; j < 4; j++) {
			p[j] = sc[j] == -INFINITY ? 0.f : __expf(sc[j] - mn);
			ps += p[j];
		}
		ps += __shfl_xor_sync(0xffffffffu, ps, 1);
		ps += __shfl_xor_sync(0xffffffffu, ps, 2);
		l = l * corr + ps;
		m = mn;
		uint32_t ph0, pl0, ph2, pl2;    /* the A fragment of p: keys 2t, 2t+1 and 8+2t, 9+2t */
		split_bf16x2(ph0, pl0, p[0], p[1]);
		split_bf16x2(ph2, pl2, p[2], p[3]);
#pragma unroll
		for (int j = 0; j < HD / 16; j++) {
			uint32_t b[4];          /* dims 16j..+7: b[0], b[1]; 16j+8..+15: b[2], b[3] */
			ldmatrix_x4<true>(b, st + voff + 16 * j * sizeof(bf16));
			o[2 * j][0] *= corr, o[2 * j][1] *= corr;
			o[2 * j + 1][0] *= corr, o[2 * j + 1][1] *= corr;
			mma_16816(o[2 * j][0], o[2 * j][1], ph0, ph2, b[0], b[1]);
			mma_16816(o[2 * j][0], o[2 * j][1], pl0, pl2, b[0], b[1]);
			mma_16816(o[2 * j + 1][0], o[2 * j + 1][1], ph0, ph2, b[2], b[3]);
			mma_16816(o[2 * j + 1][0], o[2 * j + 1][1], pl0, pl2, b[2], b[3]);
		}
		__syncwarp();                   /* the stage is refilled ST-1 steps on */
	}
	asm volatile("cp.async.wait_group 0;\n" ::: "memory");
	if (g >= G) return;
	const size_t ob = r * ldq + (size_t)(kvh * G + g) * HD + 2 * t;
#pragma unroll
	for (int n = 0; n < HD / 8; n++)
#pragma unroll
		for (int i = 0; i < 2; i++) {
			if (n_split == 1 && !rg) out[ob + 8 * n + i] = o[n][i] / l;
			else part_o[(size_t)split * rows * ldq + ob + 8 * n + i] = o[n][i];
		}
	if ((n_split > 1 || rg) && t == 0)
		part_ml[((size_t)split * rows + r) * (G * n_kv) + kvh * G + g] = make_float2(m, l);
}

/* c += A * B, all 16 rows of A (a0..a3 as mma.sync lays them out) */
__device__ __forceinline__ void mma_16816_rows16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
						 uint32_t b1)
{
	asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
	    "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
	    : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
	    : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* one step of the online softmax for a tile row: its four scores sc of the
 * block (the quad of lanes holds the row's 16), the running max m and sum
 * l; sc becomes the weights, the return value rescales the old output */
__device__ __forceinline__ float row_softmax(float (&sc)[4], float &m, float &l)
{
	float mx = fmaxf(fmaxf(sc[0], sc[1]), fmaxf(sc[2], sc[3]));
	mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
	mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
	const float mn = fmaxf(m, mx), corr = __expf(m - mn);
	float ps = 0.f;
#pragma unroll
	for (int j = 0; j < 4; j++) {
		sc[j] = __expf(sc[j] - mn);
		ps += sc[j];
	}
	ps += __shfl_xor_sync(0xffffffffu, ps, 1);
	ps += __shfl_xor_sync(0xffffffffu, ps, 2);
	l = l * corr + ps;
	m = mn;
	return corr;
}

/* The cascade's first half: one warp per (group of RG rows, KV head,
 * prefix split p of psplit), over the group's shared blocks p, p + psplit,
 * ...; tile row i*G + h is row r0+i's head h, so lane (g, t) holds tile
 * rows g (fragments 0, 1) and g+8 (2, 3).  The same staging, hi + lo
 * splitting and partial results (at split slot0 + p) as attn_mma_kernel;
 * every key of a shared block is visible, so nothing is masked. */
template <int G>
__global__ void __launch_bounds__(128)
attn_mma_prefix_kernel(float *part_o, float2 *part_ml, const float *q, const bf16 *kc,
		       const bf16 *vc, const int32_t *seq_of_row, const int32_t *block_table,
		       int max_blocks, const int32_t *pos, int rows, int n_kv, int slot0, int psplit,
		       float scale)
{
	constexpr int HD = MMA_HD, NC = HD / 16, ST = MMA_ST, RG = 16 / G;
	extern __shared__ __align__(16) bf16 mma_smem[];
	const int lane = threadIdx.x & 31, wi = threadIdx.x >> 5;
	const int w = blockIdx.x * (blockDim.x >> 5) + wi, groups = (rows + RG - 1) / RG;
	if (w >= groups * n_kv * psplit) return;
	const int p = w % psplit, kvh = (w / psplit) % n_kv, r0 = w / psplit / n_kv * RG;
	const int nsh = group_shared_blocks(seq_of_row, block_table, max_blocks, pos, rows, r0, RG, lane);
	const int g = lane >> 2, t = lane & 3, k1 = nsh * KB;
	const int32_t *bt = block_table + (size_t)seq_of_row[r0] * max_blocks;
	const int row[2] = { r0 + g / G, r0 + (g + 8) / G }, head[2] = { g % G, (g + 8) % G };
	const size_t ldq = (size_t)G * n_kv * HD;
	const uint32_t smem = (uint32_t)__cvta_generic_to_shared(mma_smem + (size_t)wi * ST * MMA_STAGE);
	constexpr uint32_t STAGE_B = MMA_STAGE * sizeof(bf16), V_B = KB * MMA_ROW * sizeof(bf16);
#pragma unroll
	for (int i = 0; i < ST - 1; i++) {
		mma_stage_in(smem + i * STAGE_B, kc, vc, bt, (p + i * psplit) * KB, k1, n_kv, kvh, lane);
		asm volatile("cp.async.commit_group;\n" ::: "memory");
	}
	/* A fragments of q: [c][0] row g dims 16c+2t,+1; [c][1] row g+8, the
	 * same dims; [c][2], [c][3] the same rows at dims 16c+8+2t,+1 */
	uint32_t qh[NC][4], ql[NC][4];
#pragma unroll
	for (int hr = 0; hr < 2; hr++) {
		const bool ok = row[hr] < rows;
		const float *qr = q + (ok ? row[hr] : r0) * ldq + (size_t)(kvh * G + head[hr]) * HD + 2 * t;
#pragma unroll
		for (int c = 0; c < NC; c++)
#pragma unroll
			for (int half = 0; half < 2; half++) {
				const float x0 = ok ? qr[16 * c + 8 * half] * scale : 0.f;
				const float x1 = ok ? qr[16 * c + 8 * half + 1] * scale : 0.f;
				split_bf16x2(qh[c][2 * half + hr], ql[c][2 * half + hr], x0, x1);
			}
	}
	float o[HD / 8][4];                     /* [0], [1] row g; [2], [3] row g+8 */
#pragma unroll
	for (int n = 0; n < HD / 8; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
	float m[2] = { -INFINITY, -INFINITY }, l[2] = { 0.f, 0.f };
	const int mi = lane >> 3;
	const uint32_t koff = (uint32_t)((((lane & 7) + (mi >> 1) * 8) * MMA_ROW + (mi & 1) * 8) *
					 sizeof(bf16));
	const uint32_t voff = V_B + (uint32_t)((((lane & 7) + (mi & 1) * 8) * MMA_ROW + (mi >> 1) * 8) *
					       sizeof(bf16));
	for (int jb = p, it = 0; jb < nsh; jb += psplit, it++) {
		mma_stage_in(smem + ((it + ST - 1) % ST) * STAGE_B, kc, vc, bt,
			     (jb + (ST - 1) * psplit) * KB, k1, n_kv, kvh, lane);
		asm volatile("cp.async.commit_group;\n" ::: "memory");
		asm volatile("cp.async.wait_group %0;\n" :: "n"(ST - 1) : "memory");
		__syncwarp();
		const uint32_t st = smem + (it % ST) * STAGE_B;
		float s0[4] = { 0.f, 0.f, 0.f, 0.f }, s1[4] = { 0.f, 0.f, 0.f, 0.f };
#pragma unroll
		for (int c = 0; c < NC; c++) {
			uint32_t b[4];
			ldmatrix_x4<false>(b, st + koff + 16 * c * sizeof(bf16));
			mma_16816_rows16(s0, qh[c], b[0], b[1]);
			mma_16816_rows16(s0, ql[c], b[0], b[1]);
			mma_16816_rows16(s1, qh[c], b[2], b[3]);
			mma_16816_rows16(s1, ql[c], b[2], b[3]);
		}
		/* row g: keys 2t,+1 (s0[0], s0[1]) and 8+2t,+1 (s1[0], s1[1]); row g+8: [2], [3] */
		float pa[4] = { s0[0], s0[1], s1[0], s1[1] }, pb[4] = { s0[2], s0[3], s1[2], s1[3] };
		const float ca = row_softmax(pa, m[0], l[0]), cb = row_softmax(pb, m[1], l[1]);
		uint32_t ph[4], pl[4];          /* the A fragments of p, as q's */
		split_bf16x2(ph[0], pl[0], pa[0], pa[1]);
		split_bf16x2(ph[1], pl[1], pb[0], pb[1]);
		split_bf16x2(ph[2], pl[2], pa[2], pa[3]);
		split_bf16x2(ph[3], pl[3], pb[2], pb[3]);
#pragma unroll
		for (int j = 0; j < HD / 16; j++) {
			uint32_t b[4];
			ldmatrix_x4<true>(b, st + voff + 16 * j * sizeof(bf16));
#pragma unroll
			for (int h = 0; h < 2; h++) {
				o[2 * j + h][0] *= ca, o[2 * j + h][1] *= ca;
				o[2 * j + h][2] *= cb, o[2 * j + h][3] *= cb;
				mma_16816_rows16(o[2 * j + h], ph, b[2 * h], b[2 * h + 1]);
				mma_16816_rows16(o[2 * j + h], pl, b[2 * h], b[2 * h + 1]);
			}
		}
		__syncwarp();
	}
	asm volatile("cp.async.wait_group 0;\n" ::: "memory");
	const size_t slot = (size_t)(slot0 + p) * rows * ldq;
#pragma unroll
	for (int hr = 0; hr < 2; hr++) {
		if (row[hr] >= rows) continue;
		const size_t ob = row[hr] * ldq + (size_t)(kvh * G + head[hr]) * HD + 2 * t;
#pragma unroll
		for (int n = 0; n < HD / 8; n++) {
			part_o[slot + ob + 8 * n] = o[n][2 * hr];
			part_o[slot + ob + 8 * n + 1] = o[n][2 * hr + 1];
		}
		if (t == 0)
			part_ml[((size_t)(slot0 + p) * rows + row[hr]) * (G * n_kv) + kvh * G + head[hr]] =
				make_float2(m[hr], l[hr]);
	}
}

/* launch attn_mma_kernel<G>: 4 warps a block, each its MMA_ST stages.
 * TTS_ATTN_OCC=3 (on trial) takes the instance built for 3 blocks a
 * multiprocessor (12 warps where registers allow 8 otherwise; its shared
 * memory, 3 x 70 KB, fits), at the price of a few spilled registers. */
template <int G>
static void mma_launch(int warps, float *out, float *po, float2 *pml, const float *q,
		       const bf16 *kc, const bf16 *vc, const int32_t *sor, const int32_t *bt,
		       int max_blocks, const int32_t *pos, int rows, int n_kv, int n_split, int kps,
		       float scale, int psplit)
{
	const int smem = 4 * MMA_ST * MMA_STAGE * (int)sizeof(bf16);
	static int attr, occ3;
	if (!attr) {
		const char *e = getenv("TTS_ATTN_OCC");
		occ3 = e && strcmp(e, "3") == 0;
		cudaCheck(cudaFuncSetAttribute(attn_mma_kernel<G, 1>,
					       cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
		cudaCheck(cudaFuncSetAttribute(attn_mma_kernel<G, 3>,
					       cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
		cudaCheck(cudaFuncSetAttribute(attn_mma_prefix_kernel<G>,
					       cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
		attr = 1;
	}
	const int rg = psplit ? 16 / G : 0;
	if (psplit) {
		const int pw = cdiv(rows, rg) * n_kv * psplit;
		attn_mma_prefix_kernel<G><<<cdiv(pw, 4), 128, smem, tts_stream>>>(
			po, pml, q, kc, vc, sor, bt, max_blocks, pos, rows, n_kv, n_split, psplit, scale);
	}
	if (occ3)
		attn_mma_kernel<G, 3><<<cdiv(warps, 4), 128, smem, tts_stream>>>(
			out, po, pml, q, kc, vc, sor, bt, max_blocks, pos, rows, n_kv, n_split, kps,
			scale, rg);
	else
		attn_mma_kernel<G, 1><<<cdiv(warps, 4), 128, smem, tts_stream>>>(
			out, po, pml, q, kc, vc, sor, bt, max_blocks, pos, rows, n_kv, n_split, kps,
			scale, rg);
}

static size_t attn_tile_smem(int qt, int G, int hd)
{
	return attn_smem(qt, G, hd) + 2 * (size_t)qt * sizeof(int);
}

static float *part_o;
static float2 *part_ml;
static size_t part_cap;   /* floats in part_o */

/* scratch for the partial results of split attention */
static void part_reserve(int n_split, int rows, int n_heads, int hd)
{
	size_t need = (size_t)n_split * rows * n_heads * hd;
	if (n_split < 2 || need <= part_cap) return;
	tts_scratch_grow();
	if (part_o) cudaCheck(cudaFree(part_o));
	if (part_ml) cudaCheck(cudaFree(part_ml));
	part_cap = need + need / 2;
	cudaCheck(cudaMalloc(&part_o, part_cap * sizeof(float)));
	cudaCheck(cudaMalloc(&part_ml, part_cap / hd * sizeof(float2)));
}

/* the merge also leaves the bf16 copy o_proj reads (no conversion there) */
static void attn_merge(float *out, int n_split, int rows, int n_heads, int hd)
{
	if (n_split < 2) return;
	const size_t n = (size_t)rows * n_heads * hd;
	bf16 *outb = tts_act_reserve(n);
	attn_merge_kernel<<<dim3(rows, n_heads), 128, 0, tts_stream>>>(out, outb, part_o, part_ml,
								    rows, n_heads, hd, n_split);
	launchCheck();
	tts_act_set(out, n);
}

/* decode attention by a decode kernel (tensor cores for head_dim 128, else
 * the warp kernel), when G and head_dim have an instance; 0 if not */
static int attention_decode(float *out, const float *q, const void *kc, const void *vc,
			    const tts_batch *b, int n_heads, int n_kv, int hd)
{
	const int G = n_heads / n_kv, rows = b->rows;
	if (b->max_q_len != 1 || (hd != 64 && hd != 128 && hd != 256) ||
	    (G != 1 && G != 2 && G != 4 && G != 8))
		return 0;
	/* about 32 warps a multiprocessor (the tensor-core kernel fits 8 at once: four
	 * waves); at least 64 keys a split */
	const int ctx = b->max_ctx > 0 ? b->max_ctx : 1;
	int n_split = cdiv(32 * tts_num_sms, rows * n_kv);
	n_split = max(1, min(n_split, cdiv(ctx, 64)));
	const int kps = cdiv(cdiv(ctx, n_split), 32) * 32;
	n_split = cdiv(ctx, kps);
	const int warps = rows * n_kv * n_split;
	const float scale = 1.f / sqrtf((float)hd);
	static int mma = -1, cascade;     /* the tensor-core kernel for head_dim 128 */
	if (mma < 0) {
		const char *e = getenv("TTS_ATTN_MMA");
		mma = !(e && strcmp(e, "0") == 0);
		e = getenv("TTS_ATTN_CASCADE");
		cascade = e && strcmp(e, "1") == 0;
	}
	/* the cascade's prefix splits (its partial results after the n_split
	 * of the rest): about 8 warps a multiprocessor over the groups */
	int psplit = 0;
	if (cascade && mma && hd == MMA_HD && rows >= 2)
		psplit = max(1, min(8, cdiv(8 * tts_num_sms, cdiv(rows, 16 / G) * n_kv)));
	part_reserve(n_split + psplit, rows, n_heads, hd);
	/* the same launch and partial results for both kernels */
#define ARGS out, part_o, part_ml, q, (const bf16 *)kc, (const bf16 *)vc, b->seq_of_row, \
		b->block_table, b->max_blocks, b->pos, rows, n_kv, n_split, kps, scale
#define DEC(GG, DD) attn_decode_kernel<GG, DD><<<cdiv(warps, 4), 128, 0, tts_stream>>>(ARGS)
#define DEC_G(GG) do { if (mma && hd == MMA_HD) mma_launch<GG>(warps, ARGS, psplit);   \
		else if (hd == 64) DEC(GG, 2); else if (hd == 128) DEC(GG, 4);          \
		else DEC(GG, 8); } while (0)
	if (G == 1) DEC_G(1);
	else if (G == 2) DEC_G(2);
	else if (G == 4) DEC_G(4);
	else DEC_G(8);
#undef DEC_G
#undef DEC
#undef ARGS
	launchCheck();
	attn_merge(out, n_split + psplit, rows, n_heads, hd);
	return 1;
}

static void attention_tiled(float *out, const float *q, const void *kc, const void *vc,
			    const tts_batch *b, int n_heads, int n_kv, int head_dim, size_t smem_cap)
{
	const int G = n_heads / n_kv;
	int qt = 16;
	while (qt > 1 && attn_tile_smem(qt, G, head_dim) > smem_cap) qt /= 2;
	size_t smem = attn_tile_smem(qt, G, head_dim);
	if (smem > smem_cap) {
		fprintf(stderr, "tts: attention: head_dim %d with %d query heads per KV head needs "
			"%zu bytes of shared memory\n", head_dim, G, smem);
		exit(1);
	}
	const int tiles = cdiv(b->rows, qt), nblk = cdiv(b->max_ctx > 0 ? b->max_ctx : 1, KB);
	/* split the keys until there are about two blocks per multiprocessor,
	 * keeping at least 4 KV blocks (64 keys) per split */
	int n_split = cdiv(2 * tts_num_sms, tiles * n_kv);
	n_split = max(1, min(n_split, nblk / 4));
	const int bps = cdiv(nblk, n_split);
	n_split = cdiv(nblk, bps);
	part_reserve(n_split, b->rows, n_heads, head_dim);
	dim3 grid(tiles, n_kv, n_split);
	attn_tile_kernel<<<grid, 256, smem, tts_stream>>>(out, part_o, part_ml, q, (const bf16 *)kc,
							   (const bf16 *)vc, b->seq_of_row,
							   b->block_table, b->max_blocks, b->pos,
							   b->rows, n_heads, n_kv, head_dim, qt, bps,
							   1.f / sqrtf((float)head_dim));
	launchCheck();
	attn_merge(out, n_split, b->rows, n_heads, head_dim);
}

/* Decode steps go to the decode kernels (attention_decode), the rest
 * (prefill, odd shapes) to the tiled one.  TTS_CUDA_ATTN=tiled forces the tiled kernel and
 * TTS_CUDA_ATTN=simple the first kernel (one sequence a block, no
 * sharing, no split), kept as second implementations to check against. */
void cu_attention(float *out, const float *q, const void *kc, const void *vc,
		  const tts_batch *b, int n_heads, int n_kv, int head_dim)
{
	static int attr_set, simple, tiled;
	const size_t smem_cap = 160 << 10;
	if (!attr_set) {
		cudaCheck(cudaFuncSetAttribute(attn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
					       (int)smem_cap));
		cudaCheck(cudaFuncSetAttribute(attn_tile_kernel,
					       cudaFuncAttributeMaxDynamicSharedMemorySize,
					       (int)smem_cap));
		const char *e = getenv("TTS_CUDA_ATTN");
		simple = e && strcmp(e, "simple") == 0;
		tiled = e && strcmp(e, "tiled") == 0;
		attr_set = 1;
	}
	if (b->rows <= 0 || b->n_seqs <= 0) return;
	if (!simple && !tiled && attention_decode(out, q, kc, vc, b, n_heads, n_kv, head_dim))
		return;
	if (!simple) {
		attention_tiled(out, q, kc, vc, b, n_heads, n_kv, head_dim, smem_cap);
		return;
	}
	int G = n_heads / n_kv;
	int qt = b->max_q_len < 16 ? b->max_q_len : 16;
	if (qt < 1) qt = 1;
	while (qt > 1 && attn_smem(qt, G, head_dim) > smem_cap) qt /= 2;
	size_t smem = attn_smem(qt, G, head_dim);
	if (smem > smem_cap) {
		fprintf(stderr, "tts: attention: head_dim %d with %d query heads per KV head needs "
			"%zu bytes of shared memory\n", head_dim, G, smem);
		exit(1);
	}
	dim3 grid(cdiv(b->max_q_len, qt), b->n_seqs, n_kv);
	attn_kernel<<<grid, 256, smem, tts_stream>>>(out, q, (const bf16 *)kc, (const bf16 *)vc,
						     b->q_start, b->q_len, b->block_table,
						     b->max_blocks, b->pos, n_heads, n_kv, head_dim,
						     qt, 1.f / sqrtf((float)head_dim));
	launchCheck();
}
