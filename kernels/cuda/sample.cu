/* sample.cu — one token per row of logits on the GPU, one block per row,
 * by the rule of lib/philox.h (lib/sample.c is the CPU reference): greedy
 * or temperature, then top-k and top-p in rank order (logit descending,
 * id ascending), then min-p, then an inverse-CDF draw in token-id order,
 * all in double; logprob under the untouched softmax at temperature 1.
 *
 * No sort of the vocabulary.  The rank order is the order of a 96-bit
 * composite key, most significant first:
 *   c0 = ~fix(d), d = (max l - l) / T in 2^-27 fixed point (saturating at
 *        32: those tokens, each under e^-32 of the top one, share c0 = 0),
 *   c1 = l's ordered bits, c2 = ~id,
 * so "the first k in rank order" is "key >= the k-th largest key" and the
 * top-p prefix is "key >= the largest key whose mass at or above reaches
 * p*S".  Both are found by radix selection over the key's 12 bytes, 256
 * buckets a pass, c0's first byte (1/8 of a temperature unit of logit per
 * bucket) in the same pass as the softmax sums; as soon as the chosen
 * bucket holds at most CAP tokens they are gathered into shared memory and
 * sorted, and the cut is read off their prefix sums.  Masses are w rounded
 * to 2^-42 fixed point and summed in integers (exact, any order).  The
 * histograms are per lane (bucket b, lane j at b*33 + j), so the lanes of a
 * warp never hit one address: shared-memory atomics are native only for
 * 32-bit integers (64-bit and floating-point ones are compare-and-swap
 * loops, which serialised the first version at 2 ms for 128 rows), hence
 * the 15-bit limbs.  The draw: warp sums over contiguous id chunks, then
 * the chunk holding u*T is searched (by the block with a scan in the plain
 * case, no top-k or top-p, where one pass over the row gives both the
 * softmax sum and the chunk sums; by its warp otherwise).  Sums run in
 * another order than on the CPU; that changes a token only when the
 * uniform falls within rounding of a boundary (philox.h). */
#include <climits>
#include "common.cuh"

#define SB 1024          /* threads per row */
#define NB 256           /* buckets a radix pass */
#define HP 33            /* lanes + 1: a bucket's 32 lane counters, padded */
#define CAP 8192         /* tokens gathered for the final sort */
#define MASS_ONE 0x1p42
#define LIMB 15

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

typedef unsigned long long u64;

struct row_view {
	const float *l;
	double T, m;            /* temperature, max l / T */
	float M, invT;          /* max l, 1 / T (the float key only) */
	__device__ uint64_t key(int i) const { return (uint64_t)okey(l[i]) << 32 | (uint32_t)~i; }
	__device__ double w(int i) const { return exp((double)l[i] / T - m); }
	/* the three words of the composite key */
	__device__ void comp(int i, uint32_t c[3]) const
	{
		float d = (M - l[i]) * invT;
		c[0] = d < 32.f ? ~(uint32_t)(d * 0x1p27f) : 0u;
		c[1] = okey(l[i]);
		c[2] = ~(uint32_t)i;
	}
};

__device__ __forceinline__ u64 wfix(double w) { return (u64)(w * MASS_ONE + 0.5); }

/* A radix pass's state: the digits chosen so far (pre under mask msk, per
 * word), the mass (fixed point) or count of the tokens above the bucket,
 * and the level (byte 0..11 of the composite key). */
struct sel_state {
	uint32_t pre[3], msk[3];
	int level;
	__device__ bool in(const uint32_t c[3]) const
	{
		return (c[0] & msk[0]) == pre[0] && (c[1] & msk[1]) == pre[1] &&
		       (c[2] & msk[2]) == pre[2];
	}
	__device__ int digit(const uint32_t c[3]) const
	{
		return (int)(c[level >> 2] >> (24 - 8 * (level & 3))) & 255;
	}
};

struct sel_shared {
	unsigned cnt[NB];
	u64 mass[NB];
	u64 above, total;
	unsigned k;
	int b, n, idx;
	u64 red[33];         /* block scans: 32 warps and the total */
};

/* hist: 4 arrays of NB*HP counters (count, then 3 limbs of the mass);
 * gather: CAP keys then CAP masses; they share the dynamic shared memory */
#define HIST_WORDS (4 * NB * HP)
#define SMEM_BYTES (HIST_WORDS * 4 > CAP * 16 ? HIST_WORDS * 4 : CAP * 16)

__device__ __forceinline__ void hist_add(uint32_t *H, int b, u64 wq, int by_mass)
{
	const int a = b * HP + (threadIdx.x & 31);
	atomicAdd(&H[a], 1u);
	if (by_mass) {
		atomicAdd(&H[NB * HP + a], (uint32_t)(wq & ((1u << LIMB) - 1)));
		atomicAdd(&H[2 * NB * HP + a], (uint32_t)(wq >> LIMB & ((1u << LIMB) - 1)));
		atomicAdd(&H[3 * NB * HP + a], (uint32_t)(wq >> 2 * LIMB));
	}
}

__device__ void hist_zero(uint32_t *H)
{
	for (int i = threadIdx.x; i < HIST_WORDS; i += SB) H[i] = 0;
}

/* Sum over the block of a double or u64; every thread gets it. */
template <typename T>
__device__ T block_sum_t(T v, T *sh)
{
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	v = lane < nw ? sh[lane] : (T)0;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

/* Exclusive prefix sum over the block (in thread order); *total gets the sum. */
__device__ u64 block_excl_u64(u64 v, u64 *sh, u64 *total)
{
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
	u64 x = v;
	for (int o = 1; o < 32; o <<= 1) {
		u64 t = __shfl_up_sync(0xffffffffu, x, o);
		if (lane >= o) x += t;
	}
	__syncthreads();
	if (lane == 31) sh[w] = x;
	__syncthreads();
	if (w == 0) {
		u64 s = sh[lane], y = s;
		for (int o = 1; o < 32; o <<= 1) {
			u64 t = __shfl_up_sync(0xffffffffu, y, o);
			if (lane >= o) y += t;
		}
		sh[lane] = y - s;
		if (lane == 31) sh[32] = y;   /* sh: 33 entries */
	}
	__syncthreads();
	u64 r = sh[w] + x - v;
	*total = sh[32];
	__syncthreads();
	return r;
}

/* Exclusive prefix sum of doubles over the block (in thread order), each
 * term added, none subtracted back out; sh: 32 entries. */
__device__ double block_excl_d(double v, double *sh)
{
	const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
	double x = v;
	for (int o = 1; o < 32; o <<= 1) {
		const double t = __shfl_up_sync(0xffffffffu, x, o);
		if (lane >= o) x += t;
	}
	double ex = __shfl_up_sync(0xffffffffu, x, 1);
	if (lane == 0) ex = 0.0;
	__syncthreads();
	if (lane == 31) sh[w] = x;
	__syncthreads();
	if (w == 0) {
		double y = sh[lane];
		for (int o = 1; o < 32; o <<= 1) {
			const double t = __shfl_up_sync(0xffffffffu, y, o);
			if (lane >= o) y += t;
		}
		const double yx = __shfl_up_sync(0xffffffffu, y, 1);
		sh[lane] = lane ? yx : 0.0;
	}
	__syncthreads();
	return sh[w] + ex;
}

/* Fold the per-lane histogram H into sh.cnt / sh.mass, then pick the
 * bucket holding the cut, scanning from the top (bucket 255): by_mass, the
 * first whose cumulative mass (after sh.above) reaches tgt; else the one
 * holding the k-th token (sh.k, counted after the tokens above).  Sets
 * sh.b (-1: none), updates sh.above / sh.k to what lies above sh.b. */
__device__ void pick_bucket(const uint32_t *H, int by_mass, double tgt, sel_shared &sh)
{
	const int tid = threadIdx.x, lane = tid & 31;
	if (tid < NB) {
		unsigned c = 0;
		u64 m0 = 0, m1 = 0, m2 = 0;
		for (int j = 0; j < 32; j++) {
			const int a = tid * HP + j;
			c += H[a];
			if (by_mass) m0 += H[NB * HP + a], m1 += H[2 * NB * HP + a], m2 += H[3 * NB * HP + a];
		}
		sh.cnt[tid] = c;
		sh.mass[tid] = m0 + (m1 << LIMB) + (m2 << 2 * LIMB);
	}
	__syncthreads();
	if (tid < 32) {
		/* lane j takes buckets 255 - 8j .. 248 - 8j */
		u64 ms = 0;
		unsigned cs = 0;
		for (int t = 0; t < 8; t++) {
			const int b = 255 - 8 * lane - t;
			ms += sh.mass[b], cs += sh.cnt[b];
		}
		u64 mx = ms;
		unsigned cx = cs;
		for (int o = 1; o < 32; o <<= 1) {
			u64 a = __shfl_up_sync(0xffffffffu, mx, o);
			unsigned c = __shfl_up_sync(0xffffffffu, cx, o);
			if (lane >= o) mx += a, cx += c;
		}
		u64 run = sh.above + mx - ms;     /* mass above this lane's buckets */
		unsigned acc = cx - cs;           /* tokens above them */
		const unsigned k = sh.k;
		int found = -1;
		u64 above = 0;
		unsigned kk = 0;
		for (int t = 0; t < 8 && found < 0; t++) {
			const int b = 255 - 8 * lane - t;
			if (by_mass ? (double)(run + sh.mass[b]) >= tgt && sh.cnt[b] > 0
				    : acc + sh.cnt[b] >= k && sh.cnt[b] > 0) {
				found = b, above = run, kk = k - acc;
			}
			run += sh.mass[b], acc += sh.cnt[b];
		}
		const unsigned bal = __ballot_sync(0xffffffffu, found >= 0);
		/* rounding left none (it cannot with exact sums, but be safe):
		 * the lowest non-empty bucket, which keeps everything */
		const unsigned ne = __ballot_sync(0xffffffffu, cs > 0);
		if (bal) {
			if (lane == __ffs(bal) - 1) sh.b = found, sh.above = above, sh.k = kk;
		} else if (ne) {
			const int last = 31 - __clz(ne);
			if (lane == last) {
				int b = 255 - 8 * lane - 7;
				while (sh.cnt[b] == 0) b++;
				sh.b = b, sh.above = run - sh.mass[b], sh.k = 1;
			}
		} else if (lane == 0) {
			sh.b = -1;
		}
	}
	__syncthreads();
}

/* Bitonic sort of n keys (with their masses) descending, in shared memory;
 * pads to a power of two with key 0. */
__device__ void sort_desc(u64 *key, u64 *mass, int n)
{
	int P = 1;
	while (P < n) P <<= 1;
	for (int i = n + threadIdx.x; i < P; i += SB) key[i] = 0, mass[i] = 0;
	__syncthreads();
	for (int k = 2; k <= P; k <<= 1)
		for (int j = k >> 1; j > 0; j >>= 1) {
			for (int i = threadIdx.x; i < P; i += SB) {
				const int p = i ^ j;
				if (p <= i) continue;
				const bool desc = (i & k) == 0;
				const u64 a = key[i], b = key[p];
				if (desc ? a < b : a > b) {
					key[i] = b, key[p] = a;
					const u64 t = mass[i]; mass[i] = mass[p]; mass[p] = t;
				}
			}
			__syncthreads();
		}
}

/* Among tokens with key >= floor: by_mass 0, the k-th largest key; by_mass
 * 1, the largest key v with the mass of keys >= v reaching tgt (fixed
 * point; sh.above preset to 0).  When by_mass, the first pass's histogram
 * is already in H (built with the softmax sums); else this builds it. */
__device__ uint64_t rank_select(const row_view &R, int vocab, uint64_t floor, int by_mass,
			   unsigned k, double tgt, uint32_t *H, sel_shared &sh)
{
	const int tid = threadIdx.x;
	sel_state st = {{0, 0, 0}, {0, 0, 0}, 0};
	if (tid == 0) sh.k = k, sh.above = 0;
	if (!by_mass) {
		hist_zero(H);
		__syncthreads();
		for (int i = tid; i < vocab; i += SB) {
			uint32_t c[3];
			R.comp(i, c);
			hist_add(H, st.digit(c), 0, 0);
		}
	}
	__syncthreads();
	for (;;) {
		pick_bucket(H, by_mass, tgt, sh);
		const int b = sh.b;
		if (b < 0) return floor;
		const unsigned n = sh.cnt[b];
		const int w = st.level >> 2, sft = 24 - 8 * (st.level & 3);
		st.pre[w] |= (uint32_t)b << sft, st.msk[w] |= 255u << sft;
		st.level++;
		__syncthreads();
		if (n <= CAP || st.level == 12) break;
		/* the next byte, over the tokens of bucket b */
		hist_zero(H);
		__syncthreads();
		for (int i = tid; i < vocab; i += SB) {
			uint32_t c[3];
			R.comp(i, c);
			if (!st.in(c) || R.key(i) < floor) continue;
			hist_add(H, st.digit(c), by_mass ? wfix(R.w(i)) : 0, by_mass);
		}
		__syncthreads();
	}
	/* gather bucket b's tokens, sort them by key, read off the cut */
	u64 *key = (u64 *)H, *mass = key + CAP;
	if (tid == 0) sh.n = 0, sh.idx = INT_MAX;
	__syncthreads();
	for (int i = tid; i < vocab; i += SB) {
		uint32_t c[3];
		R.comp(i, c);
		const uint64_t K = R.key(i);
		if (!st.in(c) || K < floor) continue;
		const int at = atomicAdd(&sh.n, 1);
		key[at] = K;
		mass[at] = by_mass ? wfix(R.w(i)) : 0;
	}
	__syncthreads();
	const int n = sh.n;
	sort_desc(key, mass, n);
	if (!by_mass) return key[min(max((int)sh.k, 1), n) - 1];
	/* thread t takes sorted entries [t*E, t*E + E) */
	const int E = (n + SB - 1) / SB, i0 = min(tid * E, n), i1 = min(i0 + E, n);
	u64 loc = 0;
	for (int i = i0; i < i1; i++) loc += mass[i];
	u64 tot;
	u64 run = sh.above + block_excl_u64(loc, sh.red, &tot);
	for (int i = i0; i < i1; i++) {
		run += mass[i];
		if ((double)run >= tgt) { atomicMin(&sh.idx, i); break; }
	}
	__syncthreads();
	return key[sh.idx == INT_MAX ? n - 1 : sh.idx];
}

/* The draw's state: each warp chunk's kept mass and last kept id; then the
 * chosen chunk (w, -1: none), the mass before it, t = u * total, the pick. */
struct draw_shared {
	double ws[32], red[32], excl, t;
	int last[32], w, pick, hit;
};

/* The uniform of philox.h for this row's (key, sample, step) */
__device__ __forceinline__ double draw_uniform(const tts_sample_params &P)
{
	uint32_t c[4] = {P.sample, P.step, 0u, 0u};
	philox4x32_10(P.key[0], P.key[1], c);
	return (double)((((uint64_t)c[0] << 32) | c[1]) >> 11) * 0x1p-53;
}

/* Warp 0: the first chunk whose running sum exceeds t = u * total, and
 * the row's last kept token for when rounding leaves none. */
__device__ void pick_chunk(double u, draw_shared &D)
{
	const int lane = threadIdx.x & 31;
	const double v = D.ws[lane];
	double x = v;
	for (int o = 1; o < 32; o <<= 1) {
		double t = __shfl_up_sync(0xffffffffu, x, o);
		if (lane >= o) x += t;
	}
	const double total = __shfl_sync(0xffffffffu, x, 31), t = u * total;
	const unsigned bal = __ballot_sync(0xffffffffu, v > 0.0 && x > t);
	int lk = D.last[lane];
	for (int o = 16; o > 0; o >>= 1) lk = max(lk, __shfl_xor_sync(0xffffffffu, lk, o));
	if (lane == 0) {
		D.pick = lk;             /* rounding left none: the last kept token */
		D.w = bal ? __ffs(bal) - 1 : -1;
		D.t = t;
	}
	if (bal && lane == __ffs(bal) - 1) D.excl = x - v;
}

__device__ __forceinline__ void max_take(float v, int i, float &bv, int &bi)
{
	if (v > bv) bv = v, bi = i;
}

/* max and argmax (lowest id on ties) into shf[0], shi[0]; vec: the row in
 * float4s, four loads in flight a thread */
__device__ void row_max(const float *l, int vocab, bool vec, float *shf, int *shi)
{
	const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	float bv = -INFINITY;
	int bi = INT_MAX;
	if (vec) {   /* a thread's ids still rise, so max_take keeps its lowest */
		const float4 *l4 = (const float4 *)l;
		const int n4 = vocab >> 2;
		for (int j = tid; j < n4; j += 4 * SB) {
			float4 a[4];
#pragma unroll
			for (int u = 0; u < 4; u++)
				a[u] = j + u * SB < n4 ? __ldg(l4 + j + u * SB)
						      : make_float4(-INFINITY, -INFINITY, -INFINITY,
								    -INFINITY);
#pragma unroll
			for (int u = 0; u < 4; u++) {
				const int i = 4 * (j + u * SB);
				max_take(a[u].x, i, bv, bi), max_take(a[u].y, i + 1, bv, bi);
				max_take(a[u].z, i + 2, bv, bi), max_take(a[u].w, i + 3, bv, bi);
			}
		}
	} else {
		for (int i = tid; i < vocab; i += SB) max_take(l[i], i, bv, bi);
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
}

/* The plain draw's weight w = exp(l/T - m) as R.w, bit for bit, without
 * its division: q = l * (1/T) is within an ulp or two of l/T, and one
 * residual step (Markstein) rounds it exactly, as a host run over every
 * float mantissa of l for 4014 temperatures confirmed (the bare product is
 * off in up to 46% of them); so the top token's w is exactly 1 and min-p
 * never drops it.  keep: w >= minp, as R.w's users; lmin, 2^-20 under log
 * minp, skips the exp of tokens min-p drops anyway (exp and log are within
 * an ulp, far inside that margin). */
struct plain_w {
	double T, invT, m, minp, lmin;
	__device__ __forceinline__ bool keep(float v, double &wi) const
	{
		const double l = (double)v, q = __dmul_rn(l, invT);
		const double x = fma(fma(-q, T, l), invT, q) - m;
		if (!(x >= lmin)) return false;   /* NaN too: exp(NaN) >= minp fails */
		wi = exp(x);
		return wi >= minp;
	}
	__device__ __forceinline__ double kept_w(float v) const
	{
		double wi = 0.0;
		return keep(v, wi) ? wi : 0.0;
	}
	__device__ __forceinline__ void take(float v, int i, double &ws, int &last) const
	{
		double wi = 0.0;
		if (keep(v, wi)) ws += wi, last = i;
	}
};

/* The plain draw (no top-k, no top-p; min-p as set) and its logprob.  One
 * pass over the row in chunk order (warp w owns ids [c0, c1)) sums the
 * softmax at temperature 1 (float exp into a double: only the logprob
 * reads it) and each chunk's kept mass; then the whole block searches the
 * chosen chunk, E consecutive ids a thread, a block scan from the mass
 * before the chunk, and the lowest id whose running sum exceeds t. */
__device__ void draw_plain(int32_t *tok, float *logprob, const float *l, int vocab, float M,
			   int best, const tts_sample_params &P, double *shd, draw_shared &D)
{
	const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	plain_w W;
	W.T = (double)P.temperature, W.invT = 1.0 / W.T, W.m = (double)M / W.T;
	W.minp = P.min_p > 0.f ? (double)P.min_p : -1.0;
	W.lmin = P.min_p > 0.f ? log(W.minp) - 0x1p-20 : -INFINITY;
	const int C = (vocab + 32 * 32 - 1) / (32 * 32) * 32;
	const int c0 = min(w * C, vocab), c1 = min(c0 + C, vocab);
	double z = 0.0, ws = 0.0;
	int last = -1;
	if (vocab % 4 == 0 && !((uintptr_t)l & 15)) {
		/* c0, c1 are multiples of 4: the chunk is whole float4s */
		const float4 *l4 = (const float4 *)l;
		const int e4 = c1 >> 2;
		for (int j = (c0 >> 2) + lane; j < e4; j += 4 * 32) {
			float4 a[4];
#pragma unroll
			for (int u = 0; u < 4; u++)
				a[u] = j + 32 * u < e4 ? __ldg(l4 + j + 32 * u)
						       : make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
			for (int u = 0; u < 4; u++) {
				if (j + 32 * u >= e4) break;
				const int i = 4 * (j + 32 * u);
				z += (double)(expf(a[u].x - M) + expf(a[u].y - M) +
					      expf(a[u].z - M) + expf(a[u].w - M));
				W.take(a[u].x, i, ws, last), W.take(a[u].y, i + 1, ws, last);
				W.take(a[u].z, i + 2, ws, last), W.take(a[u].w, i + 3, ws, last);
			}
		}
	} else {
		for (int i = c0 + lane; i < c1; i += 32) {
			const float v = l[i];
			z += (double)expf(v - M);
			W.take(v, i, ws, last);
		}
	}
	for (int o = 16; o > 0; o >>= 1) {
		ws += __shfl_xor_sync(0xffffffffu, ws, o);
		last = max(last, __shfl_xor_sync(0xffffffffu, last, o));
	}
	if (lane == 0) D.ws[w] = ws, D.last[w] = last;
	z = block_sum_t(z, shd);   /* its barriers publish D.ws, D.last */
	const double logz = (double)M + log(z);
	if (w == 0) pick_chunk(draw_uniform(P), D);
	__syncthreads();
	if (D.w >= 0) {
		const int s0 = D.w * C, s1 = min(s0 + C, vocab), E = (s1 - s0 + SB - 1) / SB;
		const int i0 = min(s0 + tid * E, s1), i1 = min(i0 + E, s1);
		double loc = 0.0;
		for (int i = i0; i < i1; i++) loc += W.kept_w(l[i]);
		if (tid == 0) D.hit = INT_MAX;
		double run = D.excl + block_excl_d(loc, D.red);
		const double t = D.t;
		for (int i = i0; i < i1; i++) {
			const double wi = W.kept_w(l[i]);
			run += wi;
			if (wi > 0.0 && run > t) { atomicMin(&D.hit, i); break; }
		}
		__syncthreads();
		/* rounding left none inside: the chunk's last kept token */
		if (tid == 0) D.pick = D.hit < INT_MAX ? D.hit : D.last[D.w];
	}
	if (tid == 0) {
		const int tk = D.pick < 0 ? best : D.pick;
		tok[blockIdx.x] = tk;
		logprob[blockIdx.x] = (float)(l[tk] - logz);
	}
}

/* fast: the plain draw by draw_plain and the max pass in float4s;
 * 0 (TTS_SAMPLE_FAST=0) the old one-warp draw, for comparison */
__global__ void __launch_bounds__(SB)
sample_kernel(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *params,
	      int vocab, int fast)
{
	extern __shared__ __align__(16) unsigned char dyn[];
	uint32_t *H = (uint32_t *)dyn;
	__shared__ double shd[32];
	__shared__ float shf[32];
	__shared__ int shi[32];
	__shared__ sel_shared sel;
	__shared__ draw_shared D;
	const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
	const float *l = logits + (size_t)blockIdx.x * vocab;
	const tts_sample_params P = params[blockIdx.x];

	row_max(l, vocab, fast && vocab % 4 == 0 && !((uintptr_t)l & 15), shf, shi);
	const float M = shf[0];
	const int best = shi[0];
	const bool greedy = !(P.temperature > 0.f);
	const bool top_k = !greedy && P.top_k > 0 && P.top_k < vocab;
	const bool top_p = !greedy && P.top_p < 1.f, t1 = P.temperature == 1.f;
	if (fast && !greedy && !top_k && !top_p) {
		draw_plain(tok, logprob, l, vocab, M, best, P, shd, D);
		return;
	}
	row_view R;
	R.l = l, R.T = (double)P.temperature, R.m = (double)M / (double)P.temperature;
	R.M = M, R.invT = 1.f / P.temperature;

	uint64_t thr = 0;
	if (top_k) thr = rank_select(R, vocab, 0, 0, (unsigned)P.top_k, 0.0, H, sel);
	__syncthreads();   /* every thread has read the cut out of H */

	/* the softmax sum at temperature 1 (logprob); with top-p also the mass
	 * S of the tokens kept so far and the first radix pass's histogram */
	if (top_p) hist_zero(H);
	__syncthreads();
	double z = 0.0;
	u64 S = 0;
	for (int i = tid; i < vocab; i += SB) {
		const double e = exp((double)l[i] - M);
		z += e;
		if (!top_p || R.key(i) < thr) continue;
		const u64 wq = wfix(t1 ? e : R.w(i));
		uint32_t c[3];
		R.comp(i, c);
		S += wq;
		hist_add(H, c[0] >> 24, wq, 1);
	}
	z = block_sum_t(z, shd);
	const double logz = (double)M + log(z);
	if (greedy) {
		if (tid == 0) tok[blockIdx.x] = best, logprob[blockIdx.x] = (float)(l[best] - logz);
		return;
	}
	if (top_p) {
		S = block_sum_t(S, sel.red);
		thr = rank_select(R, vocab, thr, 1, 0, (double)P.top_p * (double)S, H, sel);
	}
	const double minp = P.min_p > 0.f ? (double)P.min_p : -1.0;

	/* the draw: warp w owns ids [c0, c1), a multiple of 32 wide; the chosen
	 * warp scans its chunk 32 ids at a time */
	const int C = (vocab + 32 * 32 - 1) / (32 * 32) * 32;
	const int c0 = min(w * C, vocab), c1 = min(c0 + C, vocab);
	double ws = 0.0;
	int last = -1;
	for (int i = c0 + lane; i < c1; i += 32) {
		if (R.key(i) < thr) continue;
		const double wi = R.w(i);
		if (wi >= minp) ws += wi, last = i;
	}
	for (int o = 16; o > 0; o >>= 1) {
		ws += __shfl_xor_sync(0xffffffffu, ws, o);
		last = max(last, __shfl_xor_sync(0xffffffffu, last, o));
	}
	__syncthreads();
	if (lane == 0) D.ws[w] = ws, D.last[w] = last;
	__syncthreads();
	if (w == 0) pick_chunk(draw_uniform(P), D);
	__syncthreads();
	if (w == D.w) {
		double run = D.excl;
		const double t = D.t;
		int got = D.last[w];
		for (int base = c0; base < c1; base += 32) {
			const int i = base + lane;
			double wi = 0.0;
			if (i < c1 && R.key(i) >= thr) {
				wi = R.w(i);
				if (!(wi >= minp)) wi = 0.0;
			}
			double inc = wi;
			for (int o = 1; o < 32; o <<= 1) {
				double s = __shfl_up_sync(0xffffffffu, inc, o);
				if (lane >= o) inc += s;
			}
			const unsigned hit = __ballot_sync(0xffffffffu, wi > 0.0 && run + inc > t);
			if (hit) { got = base + __ffs(hit) - 1; break; }
			run += __shfl_sync(0xffffffffu, inc, 31);
		}
		if (lane == 0) D.pick = got;
	}
	__syncthreads();
	if (tid == 0) {
		const int tk = D.pick < 0 ? best : D.pick;
		tok[blockIdx.x] = tk;
		logprob[blockIdx.x] = (float)(l[tk] - logz);
	}
}

static tts_sample_params *dparams;
static int dparams_cap;

void cu_sample(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *p,
	       int rows, int vocab)
{
	static int attr_set, fast = -1;
	if (rows <= 0) return;
	if (!attr_set) {
		cudaCheck(cudaFuncSetAttribute(sample_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
					       SMEM_BYTES));
		attr_set = 1;
	}
	if (fast < 0) fast = tts_env_on("TTS_SAMPLE_FAST", 1);
	/* the parameters may come from the host (the driver's per-row array) or
	 * already sit on the device (tts_decode; always, while a graph records) */
	cudaStreamCaptureStatus cap;
	cudaCheck(cudaStreamIsCapturing(tts_stream, &cap));
	cudaPointerAttributes at;
	at.type = cudaMemoryTypeDevice;
	if (cap == cudaStreamCaptureStatusNone) cudaCheck(cudaPointerGetAttributes(&at, p));
	const tts_sample_params *dp = p;
	if (at.type != cudaMemoryTypeDevice) {
		if (rows > dparams_cap) {
			tts_scratch_grow();
			if (dparams) cudaCheck(cudaFree(dparams));
			dparams_cap = rows < 256 ? 256 : rows;
			cudaCheck(cudaMalloc(&dparams, dparams_cap * sizeof *dparams));
		}
		cudaCheck(cudaMemcpyAsync(dparams, p, rows * sizeof *p, cudaMemcpyHostToDevice,
					  tts_stream));
		dp = dparams;
	}
	sample_kernel<<<rows, SB, SMEM_BYTES, tts_stream>>>(tok, logprob, logits, dp, vocab, fast);
	launchCheck();
}
