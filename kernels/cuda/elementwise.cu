/* elementwise.cu — the small ops: embedding gather, RMSNorm, residual add,
 * bias, SwiGLU, RoPE and the gated RMSNorm of Mamba2.  Norms reduce in
 * float32, one block per row (per row and group for the gated norm). */
#include "common.cuh"

__global__ void embed_kernel(float *y, const bf16 *emb, const int32_t *ids, int dim)
{
	const bf16 *e = emb + (size_t)ids[blockIdx.x] * dim;
	float *o = y + (size_t)blockIdx.x * dim;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = __bfloat162float(e[i]);
}

void cu_embed(float *y, const tts_w *emb, const int32_t *ids, int rows)
{
	if (rows <= 0) return;
	embed_kernel<<<rows, 256, 0, tts_stream>>>(y, emb->d, ids, emb->in);
	launchCheck();
}

/* y = x / sqrt(mean x^2 + eps) * w; y may be x (each thread rereads only
 * its own elements after the reduction).  With h set (add_rmsnorm), first
 * h += x in the same pass and normalise h.  yb: y's bf16 copy for the
 * matmuls that read it next (tts_act), rounded as matmul would. */
__global__ void rmsnorm_kernel(float *y, bf16 *yb, float *h, const float *x, const float *w,
			       int dim, float eps)
{
	__shared__ float sh[32];
	const size_t o = (size_t)blockIdx.x * dim;
	const float *xr = x + o;
	float *yr = y + o, *hr = h ? h + o : NULL;
	float ss = 0.f;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) {
		float v = xr[i];
		if (hr) hr[i] = v = hr[i] + v;
		ss += v * v;
	}
	ss = block_sum(ss, sh);
	float inv = rsqrtf(ss / dim + eps);
	const float *src = hr ? hr : xr;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) {
		float v = src[i] * inv * w[i];
		yr[i] = v;
		if (yb) yb[o + i] = __float2bfloat16_rn(v);
	}
}

/* rmsnorm_kernel with the row held in registers: NV float4 a thread of
 * RMS_THREADS, every load of a pass issued before the first use.  The
 * scalar kernel's loop waits out one load latency per element a thread
 * (8 at dim 4096) in each of its two passes, ~5.7 us for 128 rows on the
 * H200 (GPU run 7) where 4 MB of traffic takes ~1 us.  Same products, the
 * sum of squares in another order. */
#define RMS_THREADS 256
template <int NV>
__global__ void __launch_bounds__(RMS_THREADS)
rmsnorm_vec_kernel(float *y, bf16 *yb, float *h, const float *x, const float *w, int dim, float eps)
{
	__shared__ float sh[32];
	const int n4 = dim / 4;
	const size_t o = (size_t)blockIdx.x * dim;
	const float4 *xr = (const float4 *)(x + o);
	float4 *hr = h ? (float4 *)(h + o) : NULL;
	float4 v[NV];
#pragma unroll
	for (int j = 0; j < NV; j++) {
		const int i = threadIdx.x + j * RMS_THREADS;
		v[j] = i < n4 ? xr[i] : make_float4(0.f, 0.f, 0.f, 0.f);
	}
	if (hr) {
#pragma unroll
		for (int j = 0; j < NV; j++) {
			const int i = threadIdx.x + j * RMS_THREADS;
			if (i >= n4) continue;
			const float4 a = hr[i];
			v[j] = make_float4(a.x + v[j].x, a.y + v[j].y, a.z + v[j].z, a.w + v[j].w);
			hr[i] = v[j];
		}
	}
	float ss = 0.f;
#pragma unroll
	for (int j = 0; j < NV; j++)
		ss += v[j].x * v[j].x + v[j].y * v[j].y + v[j].z * v[j].z + v[j].w * v[j].w;
	ss = block_sum(ss, sh);
	const float inv = rsqrtf(ss / dim + eps);
	const float4 *wr = (const float4 *)w;
	float4 *yr = (float4 *)(y + o);
#pragma unroll
	for (int j = 0; j < NV; j++) {
		const int i = threadIdx.x + j * RMS_THREADS;
		if (i >= n4) continue;
		const float4 g = wr[i];
		const float4 r = make_float4(v[j].x * inv * g.x, v[j].y * inv * g.y, v[j].z * inv * g.z,
					     v[j].w * inv * g.w);
		yr[i] = r;
		__nv_bfloat162 b[2] = { __floats2bfloat162_rn(r.x, r.y), __floats2bfloat162_rn(r.z, r.w) };
		*(uint2 *)(yb + o + 4 * (size_t)i) = *(const uint2 *)b;
	}
}

/* TTS_VEC=0: the scalar norm and SwiGLU kernels (to compare) */
static int vec_on(void)
{
	static int on = -1;
	if (on < 0) on = tts_env_on("TTS_VEC", 1);
	return on;
}

/* the vector kernel when rows are whole float4s (16-byte aligned) and fit
 * 8 a thread (dim <= 8192), else the scalar one */
static void rmsnorm_launch(float *y, float *h, const float *x, const float *w, int rows, int dim,
			   float eps)
{
	bf16 *yb = tts_act_reserve((size_t)rows * dim);
	const int nv = cdiv(dim / 4, RMS_THREADS);
	const int vec = vec_on() && dim % 4 == 0 && nv <= 8 && !((uintptr_t)y & 15) && !((uintptr_t)x & 15) &&
			!((uintptr_t)w & 15) && !((uintptr_t)h & 15) && !((uintptr_t)yb & 15);
	if (!vec)
		rmsnorm_kernel<<<rows, dim >= 1024 ? 512 : 128, 0, tts_stream>>>(y, yb, h, x, w, dim, eps);
	else if (nv <= 1)
		rmsnorm_vec_kernel<1><<<rows, RMS_THREADS, 0, tts_stream>>>(y, yb, h, x, w, dim, eps);
	else if (nv <= 2)
		rmsnorm_vec_kernel<2><<<rows, RMS_THREADS, 0, tts_stream>>>(y, yb, h, x, w, dim, eps);
	else if (nv <= 4)
		rmsnorm_vec_kernel<4><<<rows, RMS_THREADS, 0, tts_stream>>>(y, yb, h, x, w, dim, eps);
	else
		rmsnorm_vec_kernel<8><<<rows, RMS_THREADS, 0, tts_stream>>>(y, yb, h, x, w, dim, eps);
	launchCheck();
	tts_act_set(y, (size_t)rows * dim);
}

void cu_rmsnorm(float *y, const float *x, const float *w, int rows, int dim, float eps)
{
	if (rows <= 0) return;
	rmsnorm_launch(y, NULL, x, w, rows, dim, eps);
}

void cu_add_rmsnorm(float *h, const float *x, float *y, const float *w, int rows, int dim,
		    float eps)
{
	if (rows <= 0) return;
	rmsnorm_launch(y, h, x, w, rows, dim, eps);
}

__global__ void add_kernel(float *y, const float *x, size_t n)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i < n) y[i] += x[i];
}

void cu_add(float *y, const float *x, size_t n)
{
	if (!n) return;
	add_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(y, x, n);
	launchCheck();
}

__global__ void add_bias_kernel(float *y, const float *b, size_t n, int dim)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i < n) y[i] += b[i % dim];
}

void cu_add_bias(float *y, const float *b, int rows, int dim)
{
	size_t n = (size_t)rows * dim;
	if (!n) return;
	add_bias_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(y, b, n, dim);
	launchCheck();
}

__global__ void swiglu_kernel(float *y, bf16 *yb, const float *g, const float *u, size_t n)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i >= n) return;
	float v = silu_f(g[i]) * u[i];
	y[i] = v;
	yb[i] = __float2bfloat16_rn(v);
}

void cu_swiglu(float *y, const float *g, const float *u, int rows, int dim)
{
	size_t n = (size_t)rows * dim;
	if (!n) return;
	bf16 *yb = tts_act_reserve(n);
	swiglu_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(y, yb, g, u, n);
	launchCheck();
	tts_act_set(y, n);
}

/* SwiGLU of the packed [gate | up] rows, with the bf16 copy for down_proj */
__global__ void swiglu_gu_kernel(float *y, bf16 *yb, const float *gu, size_t n, int dim)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i >= n) return;
	const float *g = gu + i / dim * 2 * dim + i % dim;
	float v = silu_f(g[0]) * g[dim];
	y[i] = v;
	yb[i] = __float2bfloat16_rn(v);
}

/* the same, four neighbours a thread in float4s, the row from blockIdx.y
 * (no 64-bit division by dim per element) */
__global__ void swiglu_gu_vec_kernel(float *y, bf16 *yb, const float *gu, int dim)
{
	const int i = blockIdx.x * blockDim.x + threadIdx.x, r = blockIdx.y;
	if (i >= dim / 4) return;
	const float4 g = ((const float4 *)(gu + (size_t)r * 2 * dim))[i];
	const float4 u = ((const float4 *)(gu + (size_t)r * 2 * dim + dim))[i];
	const float4 v = make_float4(silu_f(g.x) * u.x, silu_f(g.y) * u.y, silu_f(g.z) * u.z,
				     silu_f(g.w) * u.w);
	((float4 *)(y + (size_t)r * dim))[i] = v;
	__nv_bfloat162 b[2] = { __floats2bfloat162_rn(v.x, v.y), __floats2bfloat162_rn(v.z, v.w) };
	*(uint2 *)(yb + (size_t)r * dim + 4 * (size_t)i) = *(const uint2 *)b;
}

void cu_swiglu_gu(float *y, const float *gu, int rows, int dim)
{
	size_t n = (size_t)rows * dim;
	if (!n) return;
	bf16 *yb = tts_act_reserve(n);
	if (vec_on() && dim % 4 == 0 && rows <= 65535 && !((uintptr_t)y & 15) && !((uintptr_t)gu & 15) &&
	    !((uintptr_t)yb & 15))
		swiglu_gu_vec_kernel<<<dim3(cdiv(dim / 4, 256), rows), 256, 0, tts_stream>>>(y, yb, gu,
											      dim);
	else
		swiglu_gu_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(y, yb, gu, n, dim);
	launchCheck();
	tts_act_set(y, n);
}

/* element j (in q or k) of a packed q|k|v row src after RoPE, as
 * rope_kernel computes it: the pair (i, i + rot/2) of its head's first rot
 * dims rotated by pos * inv_freq[i]; the rest, and every element without
 * inv_freq, as it is */
__device__ __forceinline__ float qk_rotated(const float *src, int j, int hd, int rot, int32_t pos,
					    const float *inv_freq)
{
	const int d = j % hd, half = rot / 2;
	if (!inv_freq || d >= rot) return src[j];
	const int i = d < half ? d : d - half, h0 = j - d;
	float s, c;
	sincosf((float)pos * inv_freq[i], &s, &c);
	const float x0 = src[h0 + i], x1 = src[h0 + i + half];
	return d < half ? x0 * c - x1 * s : x1 * c + x0 * s;
}

/* The packed q|k|v rows split into dense q, k, v, with RoPE on q and k.
 * One thread per element of a packed row. */
__global__ void split_rope_kernel(float *q, float *k, float *v, const float *qkv,
				  const int32_t *pos, int rows, int hq, int hk, int hd, int rot,
				  const float *inv_freq)
{
	const int qd = hq * hd, kvd = hk * hd, w = qd + 2 * kvd;
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (t >= (size_t)rows * w) return;
	const int r = (int)(t / w), j = (int)(t % w);
	const float *src = qkv + (size_t)r * w;
	if (j >= qd + kvd) {
		v[(size_t)r * kvd + j - qd - kvd] = src[j];
		return;
	}
	float *dst = j < qd ? q + (size_t)r * qd + j : k + (size_t)r * kvd + j - qd;
	*dst = qk_rotated(src, j, hd, rot, pos[r], inv_freq);
}

void cu_split_rope(float *q, float *k, float *v, const float *qkv, const int32_t *pos, int rows,
		   int n_heads, int n_kv, int head_dim, int rot_dim, const float *inv_freq)
{
	size_t n = (size_t)rows * (n_heads + 2 * n_kv) * head_dim;
	if (!n) return;
	split_rope_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(q, k, v, qkv, pos, rows, n_heads,
							       n_kv, head_dim, rot_dim, inv_freq);
	launchCheck();
}

/* split_rope with k and v stored to the paged KV cache (bf16) at the
 * row's kv_slot instead of dense arrays; q as split_rope writes it.  One
 * thread per element of the packed row, like split_rope_kernel. */
__global__ void split_rope_kv_kernel(float *q, bf16 *kc, bf16 *vc, const float *qkv,
				     const int32_t *pos, const int32_t *kv_slot, int rows, int hq,
				     int hk, int hd, int rot, const float *inv_freq)
{
	const int qd = hq * hd, kvd = hk * hd, w = qd + 2 * kvd;
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (t >= (size_t)rows * w) return;
	const int r = (int)(t / w), j = (int)(t % w);
	const float *src = qkv + (size_t)r * w;
	const float x = j < qd + kvd ? qk_rotated(src, j, hd, rot, pos[r], inv_freq) : src[j];
	if (j < qd) {
		q[(size_t)r * qd + j] = x;
		return;
	}
	const int slot = kv_slot[r];
	if (slot < 0) return;
	const int e = j < qd + kvd ? j - qd : j - qd - kvd;
	const size_t o = (((size_t)(slot / TTS_KV_BLOCK) * hk + e / hd) * TTS_KV_BLOCK +
			  slot % TTS_KV_BLOCK) * hd + e % hd;
	(j < qd + kvd ? kc : vc)[o] = __float2bfloat16_rn(x);
}

void cu_split_rope_kv(float *q, void *kc, void *vc, const float *qkv, const tts_batch *b,
		      int n_heads, int n_kv, int head_dim, int rot_dim, const float *inv_freq)
{
	size_t n = (size_t)b->rows * (n_heads + 2 * n_kv) * head_dim;
	if (!n) return;
	split_rope_kv_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(
		q, (bf16 *)kc, (bf16 *)vc, qkv, b->pos, b->kv_slot, b->rows, n_heads, n_kv, head_dim,
		rot_dim, inv_freq);
	launchCheck();
}

/* Rotate-half RoPE: pairs (i, i + rot/2) of each head's first rot dims,
 * angle pos * inv_freq[i] rounded to float32 first, as transformers (and
 * the CPU backend) compute it; sincosf reduces large angles exactly.  One
 * thread per (row, head, pair). */
__global__ void rope_kernel(float *x, const int32_t *pos, int rows, int heads, int hd, int rot,
			    const float *inv_freq)
{
	int half = rot / 2;
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (t >= (size_t)rows * heads * half) return;
	int i = (int)(t % half);
	size_t rh = t / half;                      /* row * heads + head */
	int r = (int)(rh / heads);
	float s, c;
	sincosf((float)pos[r] * inv_freq[i], &s, &c);
	float *p = x + rh * hd;
	float x0 = p[i], x1 = p[i + half];
	p[i] = x0 * c - x1 * s;
	p[i + half] = x1 * c + x0 * s;
}

void cu_rope(float *x, const int32_t *pos, int rows, int heads, int head_dim, int rot_dim,
	     const float *inv_freq)
{
	size_t n = (size_t)rows * heads * (rot_dim / 2);
	if (!n) return;
	rope_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(x, pos, rows, heads, head_dim, rot_dim, inv_freq);
	launchCheck();
}

/* v = x * silu(z); y = v / rms(v over the group) * w.  Block per (row, group). */
__global__ void gated_rmsnorm_kernel(float *y, bf16 *yb, const float *x, const float *z, int ldz,
				     const float *w, int dim, int group, float eps)
{
	__shared__ float sh[32];
	int r = blockIdx.x, g0 = blockIdx.y * group;
	const float *xr = x + (size_t)r * dim + g0, *zr = z + (size_t)r * ldz + g0;
	float *yr = y + (size_t)r * dim + g0;
	float ss = 0.f;
	for (int i = threadIdx.x; i < group; i += blockDim.x) {
		float v = xr[i] * silu_f(zr[i]);
		ss += v * v;
	}
	ss = block_sum(ss, sh);
	float inv = rsqrtf(ss / group + eps);
	for (int i = threadIdx.x; i < group; i += blockDim.x) {
		float v = xr[i] * silu_f(zr[i]) * inv * w[g0 + i];
		yr[i] = v;
		yb[(size_t)r * dim + g0 + i] = __float2bfloat16_rn(v);
	}
}

void cu_gated_rmsnorm(float *y, const float *x, const float *z, int ldz, const float *w,
		      int rows, int dim, int group, float eps)
{
	if (rows <= 0) return;
	bf16 *yb = tts_act_reserve((size_t)rows * dim);
	dim3 grid(rows, dim / group);
	gated_rmsnorm_kernel<<<grid, group >= 1024 ? 512 : 128, 0, tts_stream>>>(y, yb, x, z, ldz, w,
									      dim, group, eps);
	launchCheck();
	tts_act_set(y, (size_t)rows * dim);
}

/* y[i] = x[idx[i]] (rows of dim).  In place (y == x) it goes through a
 * scratch copy, so rows are not overwritten before they are read; other
 * overlaps of y and x are not supported. */
__global__ void gather_rows_kernel(float *y, const float *x, const int32_t *idx, int dim)
{
	const float *xr = x + (size_t)idx[blockIdx.x] * dim;
	float *yr = y + (size_t)blockIdx.x * dim;
	for (int i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i];
}

static float *gather_tmp;
static size_t gather_cap;

void cu_gather_rows(float *y, const float *x, const int32_t *idx, int n, int dim)
{
	if (n <= 0) return;
	size_t bytes = (size_t)n * dim * sizeof(float);
	float *dst = y;
	if (y == x) {
		if (bytes > gather_cap) {
			tts_scratch_grow();
			if (gather_tmp) cudaCheck(cudaFree(gather_tmp));
			cudaCheck(cudaMalloc(&gather_tmp, bytes));
			gather_cap = bytes;
		}
		dst = gather_tmp;
	}
	gather_rows_kernel<<<n, 256, 0, tts_stream>>>(dst, x, idx, dim);
	launchCheck();
	if (dst != y)
		cudaCheck(cudaMemcpyAsync(y, dst, bytes, cudaMemcpyDeviceToDevice, tts_stream));
}

/* y[r][(g*rep + k)*width + d] = x[r][g*width + d] */
__global__ void repeat_groups_kernel(float *y, const float *x, size_t n, int groups, int width,
				     int rep)
{
	size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (t >= n) return;
	size_t ow = (size_t)groups * rep * width;
	size_t r = t / ow;
	int e = (int)(t % ow), d = e % width, g = e / (width * rep);
	y[t] = x[r * groups * width + (size_t)g * width + d];
}

void cu_repeat_groups(float *y, const float *x, int rows, int groups, int width, int rep)
{
	size_t n = (size_t)rows * groups * rep * width;
	if (!n) return;
	repeat_groups_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(y, x, n, groups, width, rep);
	launchCheck();
}
