/* sample.cu — one token per row of logits on the GPU, one block per row,
 * by the rule of lib/philox.h (lib/sample.c is the CPU reference): greedy
 * or temperature, then top-k and top-p in rank order (logit descending,
 * id ascending), then min-p, then an inverse-CDF draw in token-id order,
 * all in double; logprob under the untouched softmax at temperature 1.
 *
 * No sort.  Each token gets a 64-bit rank key, its logit's ordered bits
 * above its complemented id, so the rank order is the key order and keys
 * are distinct.  "The first k in rank order" is then "key >= the k-th
 * largest key", and the top-p prefix is "key >= the largest key whose mass
 * at or above reaches p*S": both found by radix selection, 8 bits a pass,
 * stopping as soon as the chosen bucket holds one token.  The draw is a
 * block prefix scan over contiguous id chunks.  Sums run in another order
 * than on the CPU; that changes a token only when the uniform falls within
 * rounding of a boundary (philox.h). */
#include <climits>
#include "common.cuh"

#define SB 1024

/* Random123's Philox4x32-10, as lib/philox.c */
__device__ __forceinline__ void philox4x32_10(uint32_t k0, uint32_t k1, uint32_t c[4])
{
	for (int i = 0; i < 10; i++) {
		if (i) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
		uint32_t lo0 = 0xD2511F53u * c[0], hi0 = __umulhi(0xD2511F53u, c[0]);
		uint32_t lo1 = 0xCD9E8D57u * c[2], hi1 = __umulhi(0xCD9E8D57u, c[2]);
		uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
		c[0] = n0, c[1] = lo1, c[2] = n2, c[3] = lo0;
	}
}

/* float -> unsigned with the same order */
__device__ __forceinline__ uint32_t okey(float f)
{
	uint32_t b = __float_as_uint(f);
	return b & 0x80000000u ? ~b : b | 0x80000000u;
}

struct row_view {
	const float *l;
	double T, m;
	__device__ uint64_t key(int i) const { return (uint64_t)okey(l[i]) << 32 | (uint32_t)~i; }
	__device__ double w(int i) const { return exp((double)l[i] / T - m); }
};

/* Masses are summed in 2^-42 fixed point, each w rounded to nearest:
 * shared-memory atomics on 64-bit integers are single instructions, on
 * doubles compare-and-swap loops that serialise under contention (top-p
 * 0.95 over 128k tokens took 2 ms a row).  w <= 1, so a sum of up to 2^21
 * tokens fits; the rounding errors (2^-43 a token, random in sign) stay
 * orders of magnitude below the smallest w that can decide a cut. */
#define MASS_ONE 0x1p42

struct sel_shared {
	unsigned cnt[256];
	unsigned long long mass[256];
	int b, single;
	unsigned kk;
	double above;
	unsigned long long found;
};

__device__ double block_sum_d(double v, double *sh)
{
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	v = lane < nw ? sh[lane] : 0.0;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/* Among tokens with key >= floor: by_mass 0, the k-th largest key; by_mass
 * 1, the largest key v with sum of w over keys >= v reaching target (floor
 * itself when rounding leaves none: keep them all). */
__device__ uint64_t radix_select(const row_view &R, int vocab, uint64_t floor, int by_mass,
				 unsigned k, double target, sel_shared &sh)
{
	const int tid = threadIdx.x;
	uint64_t prefix = 0, mask = 0;
	double above = 0.0;
	for (int shift = 56; shift >= 0; shift -= 8) {
		if (tid < 256) sh.cnt[tid] = 0, sh.mass[tid] = 0;
		__syncthreads();
		/* a thread's tokens mostly fall in the bucket of its previous one
		 * (in the high digits nearly all tokens share one or two), so it
		 * counts runs locally and adds a run at a change of bucket:
		 * thousands of atomics on one shared address serialise */
		int cur = -1;
		unsigned cc = 0;
		unsigned long long cm = 0;
		for (int i = tid; i < vocab; i += SB) {
			uint64_t K = R.key(i);
			if (K < floor || (K & mask) != prefix) continue;
			int d = (int)(K >> shift) & 255;
			if (d != cur) {
				if (cur >= 0) {
					atomicAdd(&sh.cnt[cur], cc);
					if (by_mass) atomicAdd(&sh.mass[cur], cm);
				}
				cur = d, cc = 0, cm = 0;
			}
			cc++;
			if (by_mass) cm += (unsigned long long)(R.w(i) * MASS_ONE + 0.5);
		}
		if (cur >= 0) {
			atomicAdd(&sh.cnt[cur], cc);
			if (by_mass) atomicAdd(&sh.mass[cur], cm);
		}
		__syncthreads();
		if (tid == 0) {
			int b = 255;
			if (!by_mass) {
				unsigned acc = 0;
				for (; b >= 0; b--) {
					if (acc + sh.cnt[b] >= k) break;
					acc += sh.cnt[b];
				}
				k -= acc;
			} else {
				double acc = above;
				for (; b >= 0; b--) {
					const double mb = (double)sh.mass[b] / MASS_ONE;
					if (acc + mb >= target) break;
					acc += mb;
				}
				above = acc;
			}
			sh.b = b, sh.kk = k, sh.above = above, sh.single = b >= 0 && sh.cnt[b] == 1;
		}
		__syncthreads();
		const int b = sh.b, single = sh.single;
		k = sh.kk, above = sh.above;
		__syncthreads();
		if (b < 0) return floor;
		prefix |= (uint64_t)b << shift, mask |= 255ull << shift;
		if (single) {      /* one token left in the bucket: it is the answer */
			for (int i = tid; i < vocab; i += SB) {
				uint64_t K = R.key(i);
				if (K >= floor && (K & mask) == prefix) sh.found = K;
			}
			__syncthreads();
			prefix = sh.found;
			__syncthreads();
			return prefix;
		}
	}
	return prefix;
}

__global__ void __launch_bounds__(SB)
sample_kernel(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *params,
	      int vocab)
{
	__shared__ double shd[32];
	__shared__ float shf[32];
	__shared__ int shi[32];
	__shared__ sel_shared sel;
	__shared__ int pick;
	const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	const float *l = logits + (size_t)blockIdx.x * vocab;
	const tts_sample_params P = params[blockIdx.x];

	/* max and argmax (lowest id on ties) */
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
	const float M = shf[0];
	const int best = shi[0];
	double z = 0.0;
	for (int i = tid; i < vocab; i += SB) z += exp((double)l[i] - M);
	z = block_sum_d(z, shd);
	const double logz = (double)M + log(z);

	if (!(P.temperature > 0.f)) {
		if (tid == 0) tok[blockIdx.x] = best, logprob[blockIdx.x] = (float)(l[best] - logz);
		return;
	}
	row_view R;
	R.l = l, R.T = (double)P.temperature, R.m = (double)M / (double)P.temperature;

	uint64_t thr = 0;
	if (P.top_k > 0 && P.top_k < vocab)
		thr = radix_select(R, vocab, 0, 0, (unsigned)P.top_k, 0.0, sel);
	if (P.top_p < 1.f) {
		double S = 0.0;
		for (int i = tid; i < vocab; i += SB)
			if (R.key(i) >= thr) S += R.w(i);
		S = block_sum_d(S, shd);
		thr = radix_select(R, vocab, thr, 1, 0, (double)P.top_p * S, sel);
	}
	const double minp = P.min_p > 0.f ? (double)P.min_p : -1.0;

	/* the draw: thread tid owns ids [i0, i1); block scan of chunk sums */
	const int chunk = (vocab + SB - 1) / SB, i0 = min(tid * chunk, vocab), i1 = min(i0 + chunk, vocab);
	double loc = 0.0;
	int last = -1;
	for (int i = i0; i < i1; i++) {
		if (R.key(i) < thr) continue;
		double wi = R.w(i);
		if (wi >= minp) loc += wi, last = i;
	}
	double inc = loc;
	for (int o = 1; o < 32; o <<= 1) {
		double v = __shfl_up_sync(0xffffffffu, inc, o);
		if (lane >= o) inc += v;
	}
	double wex = __shfl_up_sync(0xffffffffu, inc, 1);   /* exclusive within the warp */
	if (lane == 0) wex = 0.0;
	__syncthreads();
	if (lane == 31) shd[w] = inc;
	if (tid == 0) pick = INT_MAX;
	__syncthreads();
	if (w == 0) {
		double v = shd[lane], x = v;
		for (int o = 1; o < 32; o <<= 1) {
			double t = __shfl_up_sync(0xffffffffu, x, o);
			if (lane >= o) x += t;
		}
		shd[lane] = x - v;          /* exclusive prefix of each warp */
		if (lane == 31) sel.above = x;   /* total kept mass */
	}
	__syncthreads();
	const double excl = shd[w] + wex, total = sel.above;
	uint32_t c[4] = {P.sample, P.step, 0u, 0u};
	philox4x32_10(P.key[0], P.key[1], c);
	const double u = (double)((((uint64_t)c[0] << 32) | c[1]) >> 11) * 0x1p-53;
	const double t = u * total;
	if (loc > 0.0 && excl <= t && t < excl + loc) {
		double run = excl;
		int got = last;
		for (int i = i0; i < i1; i++) {
			if (R.key(i) < thr) continue;
			double wi = R.w(i);
			if (wi < minp) continue;
			run += wi;
			if (run > t) { got = i; break; }
		}
		atomicMin(&pick, got);
	}
	__syncthreads();
	if (pick == INT_MAX) {   /* rounding left none: the last kept token */
		int m = (int)block_max((float)last, shf);
		if (tid == 0) pick = m;
		__syncthreads();
	}
	if (tid == 0) {
		int tk = pick < 0 ? best : pick;
		tok[blockIdx.x] = tk;
		logprob[blockIdx.x] = (float)(l[tk] - logz);
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
