/* sample.cu — one token per row of logits on the GPU, one block per row,
 * no sort.  The rule (the same as the CPU backend's; see REQUESTS/DESIGN):
 *   logprob = l[tok] - logsumexp(l)            (T = 1, unmodified logits)
 *   T == 0: argmax, lowest index on ties.
 *   else s = l / T, p = exp(s - max s); keep s >= (k-th largest s) when
 *   top_k > 0; drop p < min_p (max p is 1); top_p < 1: keep p >= tau, tau
 *   the largest value whose kept mass at or above it reaches top_p times
 *   the kept total (= the sorted-prefix cut, ties kept); then with u from
 *   Philox4x32-10 (key p.key, counter (sample, step, 0, 0)),
 *   r = u * total, and the token is the first in vocabulary order whose
 *   running kept mass exceeds r.
 * Thresholds are found by radix selection over the float bits (4 passes of
 * 8-bit digits); the draw is a block prefix scan over contiguous chunks. */
#include <climits>
#include "common.cuh"

#define SB 1024

__device__ __forceinline__ void philox4x32_10(uint32_t k0, uint32_t k1, uint32_t c[4])
{
	for (int i = 0; i < 10; i++) {
		uint32_t lo0 = 0xD2511F53u * c[0], hi0 = __umulhi(0xD2511F53u, c[0]);
		uint32_t lo1 = 0xCD9E8D57u * c[2], hi1 = __umulhi(0xCD9E8D57u, c[2]);
		uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
		c[0] = n0, c[1] = lo1, c[2] = n2, c[3] = lo0;
		k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
	}
}

/* float -> unsigned with the same order */
__device__ __forceinline__ uint32_t okey(float f)
{
	uint32_t b = __float_as_uint(f);
	return b & 0x80000000u ? ~b : b | 0x80000000u;
}
__device__ __forceinline__ float okey_inv(uint32_t k)
{
	return __uint_as_float(k & 0x80000000u ? k & 0x7fffffffu : ~k);
}

struct row_view {
	const float *l;
	float T, smax, sk, minp, tau;
	__device__ float s(int i) const { return l[i] / T; }
	__device__ float p(int i) const { return expf(s(i) - smax); }
	/* kept by top-k and min-p (before the top-p cut) */
	__device__ bool pre(int i, float *pi) const
	{
		float si = s(i);
		*pi = expf(si - smax);
		return si >= sk && *pi >= minp;
	}
};

__global__ void sample_kernel(int32_t *tok, float *logprob, const float *logits,
			      const tts_sample_params *params, int vocab)
{
	__shared__ float shf[32];
	__shared__ int shi[32];
	__shared__ float histf[256];
	__shared__ unsigned histu[256];
	__shared__ unsigned sel_prefix;
	__shared__ float sel_above;
	__shared__ int sel_done, pick;
	const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	const float *l = logits + (size_t)blockIdx.x * vocab;
	const tts_sample_params P = params[blockIdx.x];

	/* max and argmax (lowest index on ties) */
	float bv = -INFINITY;
	int bi = INT_MAX;
	for (int i = tid; i < vocab; i += SB) {
		float v = l[i];
		if (v > bv) bv = v, bi = i;
	}
	for (int o = 16; o > 0; o >>= 1) {
		float ov = __shfl_xor_sync(0xffffffffu, bv, o);
		int oi = __shfl_xor_sync(0xffffffffu, bi, o);
		if (ov > bv || (ov == bv && oi < bi)) bv = ov, bi = oi;
	}
	if (lane == 0) shf[w] = bv, shi[w] = bi;
	__syncthreads();
	if (w == 0) {
		bv = shf[lane], bi = shi[lane];
		for (int o = 16; o > 0; o >>= 1) {
			float ov = __shfl_xor_sync(0xffffffffu, bv, o);
			int oi = __shfl_xor_sync(0xffffffffu, bi, o);
			if (ov > bv || (ov == bv && oi < bi)) bv = ov, bi = oi;
		}
		if (lane == 0) shf[0] = bv, shi[0] = bi;
	}
	__syncthreads();
	const float mx = shf[0];
	const int amax = shi[0];
	float z = 0.f;
	for (int i = tid; i < vocab; i += SB) z += expf(l[i] - mx);
	z = block_sum(z, shf);
	const float logz = mx + logf(z);

	if (!(P.temperature > 0.f)) {
		if (tid == 0) tok[blockIdx.x] = amax, logprob[blockIdx.x] = l[amax] - logz;
		return;
	}
	row_view R;
	R.l = l, R.T = P.temperature, R.smax = mx / P.temperature, R.sk = -INFINITY;
	R.minp = P.min_p > 0.f ? P.min_p : 0.f, R.tau = 0.f;

	/* top-k: the k-th largest s, by radix selection on its ordered bits */
	if (P.top_k > 0 && P.top_k < vocab) {
		unsigned prefix = 0, mask = 0;
		int kk = P.top_k;
		for (int shift = 24; shift >= 0; shift -= 8) {
			if (tid < 256) histu[tid] = 0;
			__syncthreads();
			for (int i = tid; i < vocab; i += SB) {
				uint32_t k = okey(R.s(i));
				if ((k & mask) == prefix) atomicAdd(&histu[(k >> shift) & 255], 1u);
			}
			__syncthreads();
			if (tid == 0) {
				unsigned acc = 0;
				int b = 255;
				for (; b > 0; b--) {
					if (acc + histu[b] >= (unsigned)kk) break;
					acc += histu[b];
				}
				sel_prefix = prefix | (unsigned)b << shift;
				shi[0] = kk - (int)acc;
			}
			__syncthreads();
			prefix = sel_prefix, mask |= 255u << shift, kk = shi[0];
			__syncthreads();
		}
		R.sk = okey_inv(prefix);
	}

	/* top-p: the largest tau with kept mass at or above tau >= top_p * total */
	if (P.top_p < 1.f) {
		float tot = 0.f, pi;
		for (int i = tid; i < vocab; i += SB)
			if (R.pre(i, &pi)) tot += pi;
		tot = block_sum(tot, shf);
		const float target = P.top_p * tot;
		unsigned prefix = 0, mask = 0;
		float above = 0.f;
		if (tid == 0) sel_done = 0;
		for (int shift = 24; shift >= 0; shift -= 8) {
			if (tid < 256) histf[tid] = 0.f;
			__syncthreads();
			for (int i = tid; i < vocab; i += SB) {
				if (!R.pre(i, &pi)) continue;
				uint32_t k = __float_as_uint(pi);
				if ((k & mask) == prefix) atomicAdd(&histf[(k >> shift) & 255], pi);
			}
			__syncthreads();
			if (tid == 0 && !sel_done) {
				float acc = above;
				int b = 255;
				for (; b >= 0; b--) {
					if (acc + histf[b] >= target) break;
					acc += histf[b];
				}
				if (b < 0) sel_done = 1, sel_prefix = 0;   /* rounding: keep all */
				else sel_prefix = prefix | (unsigned)b << shift, sel_above = acc;
			}
			__syncthreads();
			prefix = sel_prefix, above = sel_above, mask |= 255u << shift;
			int done = sel_done;
			__syncthreads();
			if (done) break;
		}
		R.tau = __uint_as_float(prefix);
	}

	/* the draw: each thread a contiguous chunk, a block scan of chunk sums */
	const int chunk = (vocab + SB - 1) / SB, i0 = tid * chunk, i1 = min(i0 + chunk, vocab);
	float loc = 0.f, pi;
	int last = -1;
	for (int i = i0; i < i1; i++)
		if (R.pre(i, &pi) && pi >= R.tau) loc += pi, last = i;
	float inc = loc;
	for (int o = 1; o < 32; o <<= 1) {
		float v = __shfl_up_sync(0xffffffffu, inc, o);
		if (lane >= o) inc += v;
	}
	float wex = __shfl_up_sync(0xffffffffu, inc, 1);   /* exclusive within the warp */
	if (lane == 0) wex = 0.f;
	__syncthreads();
	if (lane == 31) shf[w] = inc;
	if (tid == 0) pick = INT_MAX;
	__syncthreads();
	if (w == 0) {
		float v = shf[lane], x = v;
		for (int o = 1; o < 32; o <<= 1) {
			float t = __shfl_up_sync(0xffffffffu, x, o);
			if (lane >= o) x += t;
		}
		shf[lane] = x - v;             /* exclusive prefix of each warp */
		if (lane == 31) histf[0] = x;  /* total kept mass */
	}
	__syncthreads();
	const float excl = shf[w] + wex, total = histf[0];
	uint32_t c[4] = {P.sample, P.step, 0u, 0u};
	philox4x32_10(P.key[0], P.key[1], c);
	const float r = (float)(c[0] >> 8) * 0x1p-24f * total;
	if (loc > 0.f && excl <= r && r < excl + loc) {
		float acc = excl;
		int got = last;
		for (int i = i0; i < i1; i++) {
			if (!(R.pre(i, &pi) && pi >= R.tau)) continue;
			acc += pi;
			if (acc > r) { got = i; break; }
		}
		atomicMin(&pick, got);
	}
	__syncthreads();
	if (pick == INT_MAX) {                 /* r at the very top: the last kept token */
		int m = block_max((float)last, shf);
		if (tid == 0) pick = m;
		__syncthreads();
	}
	if (tid == 0) {
		int t = pick < 0 ? amax : pick;
		tok[blockIdx.x] = t;
		logprob[blockIdx.x] = l[t] - logz;
	}
}

static tts_sample_params *dparams;
static int dparams_cap;

void cu_sample(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *p,
	       int rows, int vocab)
{
	if (rows <= 0) return;
	/* the parameters may come from the host (the driver's per-row array) or
	 * already sit on the device (a captured decode step) */
	cudaPointerAttributes at;
	cudaCheck(cudaPointerGetAttributes(&at, p));
	const tts_sample_params *dp = p;
	if (at.type != cudaMemoryTypeDevice) {
		if (rows > dparams_cap) {
			cudaCheck(cudaStreamSynchronize(tts_stream));
			if (dparams) cudaCheck(cudaFree(dparams));
			dparams_cap = rows < 256 ? 256 : rows;
			cudaCheck(cudaMalloc(&dparams, dparams_cap * sizeof *dparams));
		}
		cudaCheck(cudaMemcpyAsync(dparams, p, rows * sizeof *p, cudaMemcpyHostToDevice,
					  tts_stream));
		dp = dparams;
	}
	sample_kernel<<<rows, SB, 0, tts_stream>>>(tok, logprob, logits, dp, vocab);
	launchCheck();
}
