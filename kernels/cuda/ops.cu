/* ops.cu — the CUDA backend's table: device choice, memory, weights (bf16,
 * converted on the device from bf16/f16/f32 as they are uploaded) and the
 * projections through cuBLAS.
 *
 * Activations stay float32 as ops.h says.  cuBLAS wants both GEMM inputs in
 * bf16, so matmul reads x rounded to bf16 from a scratch buffer (rows x in,
 * small next to the weight it multiplies: at 128 rows and d 4096 it is 1 MB
 * against a 32 MB weight) and accumulates and writes float32.  The kernels
 * whose output the next matmuls read (the norms, SwiGLU) write that bf16
 * copy themselves (tts_act below), so matmul converts only other inputs
 * (attention's output, Mamba-1's dt rank) — once for several matmuls of one
 * x.  Decode steps can be recorded as CUDA graphs and replayed
 * (graph_capture / graph_launch; TTS_CUDA_GRAPHS=0 turns them off). */
#include <cstring>
#include <cublasLt.h>
#include <cuda_fp16.h>
#include "common.cuh"

cudaStream_t tts_stream;
cublasHandle_t tts_cublas;
int tts_num_sms;

void tts_cuda_check(cudaError_t e, const char *call, const char *file, int line)
{
	if (e == cudaSuccess) return;
	fprintf(stderr, "tts: CUDA error %s (%s) in %s at %s:%d\n", cudaGetErrorName(e),
		cudaGetErrorString(e), call, file, line);
	exit(1);
}

void tts_cublas_check(cublasStatus_t s, const char *call, const char *file, int line)
{
	if (s == CUBLAS_STATUS_SUCCESS) return;
	fprintf(stderr, "tts: cuBLAS error %d (%s) in %s at %s:%d\n", (int)s,
		cublasGetStatusString(s), call, file, line);
	exit(1);
}

static int debug_sync = -1;

int tts_env_on(const char *name, int dflt)
{
	const char *e = getenv(name);
	return e && *e ? strcmp(e, "0") != 0 : dflt;
}

/* launchCheck without forgetting the bf16 copy of x: for a kernel that
 * reads it and writes elsewhere (the GEMV below) */
static void launch_check_keep(const char *file, int line)
{
	tts_cuda_check(cudaGetLastError(), "kernel launch", file, line);
	if (debug_sync < 0) debug_sync = tts_env_on("TTS_CUDA_SYNC", 0);
	if (debug_sync) tts_cuda_check(cudaStreamSynchronize(tts_stream), "kernel run", file, line);
}

void tts_launch_check(const char *file, int line)
{
	tts_act_forget();     /* the kernel may have rewritten the bf16 copy's source */
	launch_check_keep(file, line);
}

/* Scratch buffers the ops keep (the bf16 activation, attention's partial
 * results, ...) grow on demand, waiting for the stream first; a graph
 * records their addresses, so every move bumps the epoch and graphs of an
 * older epoch are not replayed.  Growing while a graph is being recorded
 * would wait inside the capture: the engine runs each step shape once
 * before recording it, so it does not happen. */
unsigned tts_scratch_epoch;

void tts_scratch_grow(void)
{
	cudaStreamCaptureStatus st;
	cudaCheck(cudaStreamIsCapturing(tts_stream, &st));
	if (st != cudaStreamCaptureStatusNone) {
		fprintf(stderr, "tts: internal error: a CUDA scratch buffer grows during graph capture\n");
		exit(1);
	}
	cudaCheck(cudaStreamSynchronize(tts_stream));
	tts_scratch_epoch++;
}

/* ---- memory ---- */

static void *cu_alloc(size_t bytes)
{
	void *p = NULL;
	cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
	if (e != cudaSuccess) {
		size_t fr = 0, tot = 0;
		cudaMemGetInfo(&fr, &tot);
		fprintf(stderr, "tts: out of GPU memory: %zu bytes asked, %zu of %zu free (%s)\n",
			bytes, fr, tot, cudaGetErrorString(e));
		exit(1);
	}
	return p;
}

static void cu_free(void *p) { if (p) cudaCheck(cudaFree(p)); }

/* From pageable host memory: cudaMemcpyAsync stages it and returns once the
 * source may be reused, so the caller can free src at once. */
static void cu_upload(void *dst, const void *src, size_t n)
{
	tts_act_forget();
	cudaCheck(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, tts_stream));
}

static void cu_download(void *dst, const void *src, size_t n)
{
	cudaCheck(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, tts_stream));
	cudaCheck(cudaStreamSynchronize(tts_stream));
}

static void cu_copy(void *dst, const void *src, size_t n)
{
	tts_act_forget();
	cudaCheck(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, tts_stream));
}

static void cu_zero(void *dst, size_t n)
{
	tts_act_forget();
	cudaCheck(cudaMemsetAsync(dst, 0, n, tts_stream));
}
static void cu_sync(void) { cudaCheck(cudaStreamSynchronize(tts_stream)); }

static size_t cu_mem_free(void)
{
	size_t fr = 0, tot = 0;
	cudaCheck(cudaMemGetInfo(&fr, &tot));
	return fr;
}

/* ---- weights ---- */

template <typename T>
__global__ void to_bf16_kernel(bf16 *dst, const T *src, size_t n)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i < n) dst[i] = __float2bfloat16_rn((float)src[i]);
}
template <typename T>
__global__ void to_f32_kernel(float *dst, const T *src, size_t n)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	if (i < n) dst[i] = (float)src[i];
}

static size_t dtype_size(enum tts_dtype t) { return t == TTS_F32 ? 4 : 2; }

/* Upload n elements of host tensor data in chunks through a staging buffer
 * and convert each chunk on the device, to bf16 (out_bf16) or float32. */
static void upload_convert(void *dst, const tts_tensor *t, size_t n, int out_bf16)
{
	const size_t chunk = (size_t)16 << 20;   /* elements per chunk */
	size_t es = dtype_size(t->dtype);
	void *stage = cu_alloc((n < chunk ? n : chunk) * es);
	for (size_t off = 0; off < n; off += chunk) {
		size_t m = n - off < chunk ? n - off : chunk;
		cu_upload(stage, (const char *)t->data + off * es, m * es);
		int g = cdiv(m, 256);
		if (out_bf16) {
			bf16 *o = (bf16 *)dst + off;
			if (t->dtype == TTS_F32) to_bf16_kernel<<<g, 256, 0, tts_stream>>>(o, (const float *)stage, m);
			else if (t->dtype == TTS_F16) to_bf16_kernel<<<g, 256, 0, tts_stream>>>(o, (const __half *)stage, m);
			else cu_copy(o, stage, m * 2);
		} else {
			float *o = (float *)dst + off;
			if (t->dtype == TTS_F32) cu_copy(o, stage, m * 4);
			else if (t->dtype == TTS_F16) to_f32_kernel<<<g, 256, 0, tts_stream>>>(o, (const __half *)stage, m);
			else to_f32_kernel<<<g, 256, 0, tts_stream>>>(o, (const bf16 *)stage, m);
		}
		launchCheck();
	}
	cu_sync();
	cu_free(stage);
}

static size_t numel(const tts_tensor *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
	return n;
}

static tts_w *cu_weight(const tts_tensor *t)
{
	tts_w *w = (tts_w *)calloc(1, sizeof *w);
	if (!w) { fprintf(stderr, "tts: out of memory\n"); exit(1); }
	size_t n = numel(t);
	w->out = (int)t->shape[0];
	w->in = (int)(n / (size_t)(w->out ? w->out : 1));
	w->d = (bf16 *)cu_alloc(n * sizeof(bf16));
	upload_convert(w->d, t, n, 1);
	return w;
}

static float *cu_vec(const tts_tensor *t)
{
	size_t n = numel(t);
	float *d = (float *)cu_alloc(n * sizeof(float));
	upload_convert(d, t, n, 0);
	return d;
}

static void cu_weight_free(tts_w *w)
{
	if (!w) return;
	cu_free(w->d);
	free(w);
}

/* ---- projections ---- */

/* The bf16 copy of one float32 activation (src, n floats) in xbf. */
static bf16 *xbf;
static size_t xbf_cap;
static const float *act_src;
static size_t act_n;

bf16 *tts_act_reserve(size_t n)
{
	if (n > xbf_cap) {
		tts_scratch_grow();
		cu_free(xbf);
		xbf_cap = n + n / 4;
		xbf = (bf16 *)cu_alloc(xbf_cap * sizeof(bf16));
	}
	return xbf;
}

void tts_act_set(const float *src, size_t n) { act_src = src, act_n = n; }
void tts_act_forget(void) { act_src = NULL; }

__global__ void f32_to_bf16_kernel(bf16 *dst, const float *src, size_t n)
{
	size_t i = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) * 4;
	if (i + 3 < n) {
		float4 v = *(const float4 *)(src + i);
		__nv_bfloat162 a = __floats2bfloat162_rn(v.x, v.y), b = __floats2bfloat162_rn(v.z, v.w);
		*(__nv_bfloat162 *)(dst + i) = a;
		*(__nv_bfloat162 *)(dst + i + 2) = b;
	} else {
		for (; i < n; i++) dst[i] = __float2bfloat16_rn(src[i]);
	}
}

/* x rounded to bf16: the copy a norm or an earlier matmul left, else a conversion */
static const bf16 *act_bf16(const float *x, size_t n)
{
	if (x == act_src && n == act_n) return xbf;
	bf16 *d = tts_act_reserve(n);
	/* the vector path needs 16-byte aligned rows of floats; cudaMalloc'd
	 * activations are, and the scalar tail covers the rest */
	if (((uintptr_t)x & 15) == 0) {
		f32_to_bf16_kernel<<<cdiv(cdiv(n, 4), 256), 256, 0, tts_stream>>>(d, x, n);
	} else {
		to_bf16_kernel<<<cdiv(n, 256), 256, 0, tts_stream>>>(d, x, n);
	}
	launchCheck();
	tts_act_set(x, n);
	return d;
}

/* Decode GEMMs are skinny (rows <= a few hundred against a weight of
 * millions).  With TTS_CUBLASLT=1 each (out, in, rows) with rows <=
 * LT_TUNE_ROWS gets the fastest of cuBLASLt's heuristic candidates and
 * cublasGemmEx, timed once on first use (never while a graph records: the
 * engine runs each shape once before); larger shapes take the heuristic's
 * first.  Off by default: on the H200 the Llama-3-8B decode step at batch
 * 128 took 8.39 ms with it and 8.35 ms with cublasGemmEx alone
 * (bench/RESULTS.md, GPU run 7), so the default stays the plain call. */
#define LT_TUNE_ROWS 256
#define LT_CANDIDATES 8
/* TTS_CUBLASLT=2 (on trial) widens the search: up to LT_WIDE of the
 * heuristic's candidates, and the first LT_CANDIDATES again with the keys
 * split 2, 4 or 8 ways (each reduction scheme the kernel supports but the
 * in-place one), every variant checked by cublasLtMatmulAlgoCheck.  Aimed
 * at the decode shapes with few output tiles: o_proj and down_proj at 128
 * rows have 32 tiles of 128 x 128 for 132 multiprocessors, and run at
 * 62-70 % of the copy bandwidth (GPU run 7). */
#define LT_WIDE 32
#define LT_VARIANTS (LT_WIDE + LT_CANDIDATES * 3 * 2)

struct lt_plan {
	int out, in, rows, ok;         /* ok 0: no candidate, GemmEx */
	unsigned align;                /* of y, up to 256 bytes (the heuristic's default) */
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t a, b, c;
	cublasLtMatmulAlgo_t algo;
};

static cublasLtHandle_t lt;
static void *lt_ws;
static const size_t lt_ws_bytes = (size_t)32 << 20;
static lt_plan *plans;
static int n_plans, cap_plans, lt_on = -1;

static void gemm_ex(float *y, const tts_w *w, const bf16 *xb, int rows)
{
	const float one = 1.f, zero = 0.f;
	cublasCheck(cublasGemmEx(tts_cublas, CUBLAS_OP_T, CUBLAS_OP_N, w->out, rows, w->in, &one,
				 w->d, CUDA_R_16BF, w->in, xb, CUDA_R_16BF, w->in, &zero, y,
				 CUDA_R_32F, w->out, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

static int lt_run(const lt_plan *p, const cublasLtMatmulAlgo_t *algo, float *y, const bf16 *w,
		  const bf16 *xb)
{
	const float one = 1.f, zero = 0.f;
	return cublasLtMatmul(lt, p->op, &one, w, p->a, xb, p->b, &zero, y, p->c, y, p->c, algo,
			      lt_ws, lt_ws_bytes, tts_stream) == CUBLAS_STATUS_SUCCESS;
}

/* the plan of this shape, made (and tuned) on first use; NULL: use GemmEx */
static const lt_plan *lt_plan_for(const tts_w *w, int rows, float *y, const bf16 *xb)
{
	unsigned align = 256;
	while (align > 4 && ((uintptr_t)y & (align - 1))) align >>= 1;
	for (int i = 0; i < n_plans; i++)
		if (plans[i].out == w->out && plans[i].in == w->in && plans[i].rows == rows &&
		    plans[i].align == align)
			return plans[i].ok ? &plans[i] : NULL;
	if (n_plans == cap_plans) {
		cap_plans = cap_plans ? 2 * cap_plans : 64;
		plans = (lt_plan *)realloc(plans, cap_plans * sizeof *plans);
		if (!plans) { fprintf(stderr, "tts: out of memory\n"); exit(1); }
	}
	lt_plan p = { w->out, w->in, rows, 0, align };
	const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
	cublasCheck(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
	cublasCheck(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
	cublasCheck(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
	cublasCheck(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16BF, w->in, w->out, w->in));
	cublasCheck(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, w->in, rows, w->in));
	cublasCheck(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_32F, w->out, rows, w->out));
	cublasLtMatmulPreference_t pref;
	cublasCheck(cublasLtMatmulPreferenceCreate(&pref));
	cublasCheck(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
							 &lt_ws_bytes, sizeof lt_ws_bytes));
	/* W and the bf16 x are cudaMalloc'd (256-byte aligned); y may be a slice */
	cublasCheck(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
							 &align, sizeof align));
	cublasCheck(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
							 &align, sizeof align));
	cublasLtMatmulHeuristicResult_t res[LT_WIDE];
	int n = 0;
	if (cublasLtMatmulAlgoGetHeuristic(lt, p.op, p.a, p.b, p.c, p.c, pref,
					   lt_on == 2 ? LT_WIDE : LT_CANDIDATES, res, &n)
	    != CUBLAS_STATUS_SUCCESS)
		n = 0;
	cublasCheck(cublasLtMatmulPreferenceDestroy(pref));
	cublasLtMatmulAlgo_t cand[LT_VARIANTS];
	int nc = 0;
	for (int i = 0; i < n; i++) cand[nc++] = res[i].algo;
	for (int i = 0; lt_on == 2 && i < n && i < LT_CANDIDATES; i++) {
		int32_t sk_ok = 0;
		uint32_t schemes = 0;
		size_t got;
		if (cublasLtMatmulAlgoCapGetAttribute(&res[i].algo, CUBLASLT_ALGO_CAP_SPLITK_SUPPORT,
						      &sk_ok, sizeof sk_ok, &got) != CUBLAS_STATUS_SUCCESS ||
		    !sk_ok ||
		    cublasLtMatmulAlgoCapGetAttribute(&res[i].algo, CUBLASLT_ALGO_CAP_REDUCTION_SCHEME_MASK,
						      &schemes, sizeof schemes, &got) != CUBLAS_STATUS_SUCCESS)
			continue;
		static const int32_t splits[] = { 2, 4, 8 };
		static const uint32_t red[] = { CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE,
						CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE };
		for (int k = 0; k < 3; k++)
			for (int r = 0; r < 2; r++) {
				if (!(schemes & red[r])) continue;
				cublasLtMatmulAlgo_t a = res[i].algo;
				cublasLtMatmulHeuristicResult_t chk;
				if (cublasLtMatmulAlgoConfigSetAttribute(&a, CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
									 &splits[k], sizeof splits[k]) ||
				    cublasLtMatmulAlgoConfigSetAttribute(&a, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME,
									 &red[r], sizeof red[r]) ||
				    cublasLtMatmulAlgoCheck(lt, p.op, p.a, p.b, p.c, p.c, &a, &chk) ||
				    chk.workspaceSize > lt_ws_bytes)
					continue;
				cand[nc++] = a;
			}
	}
	cudaStreamCaptureStatus cap;
	cudaCheck(cudaStreamIsCapturing(tts_stream, &cap));
	int best = 0;     /* -1: GemmEx was faster */
	if (nc > 0 && rows <= LT_TUNE_ROWS && cap == cudaStreamCaptureStatusNone) {
		cudaEvent_t e0, e1;
		cudaCheck(cudaEventCreate(&e0));
		cudaCheck(cudaEventCreate(&e1));
		float best_ms = 1e30f;
		for (int i = -1; i < nc; i++) {   /* -1: GemmEx; each after a warm-up call */
			int ok = 1;
			for (int k = 0; k < 4; k++) {
				if (k == 1) cudaCheck(cudaEventRecord(e0, tts_stream));
				if (i < 0) gemm_ex(y, w, xb, rows);
				else ok &= lt_run(&p, &cand[i], y, w->d, xb);
			}
			cudaCheck(cudaEventRecord(e1, tts_stream));
			cudaCheck(cudaEventSynchronize(e1));
			float ms;
			cudaCheck(cudaEventElapsedTime(&ms, e0, e1));
			if (ok && ms < best_ms) best_ms = ms, best = i;
		}
		cudaCheck(cudaEventDestroy(e0));
		cudaCheck(cudaEventDestroy(e1));
	}
	if (nc > 0 && best >= 0) p.algo = cand[best], p.ok = 1;
	plans[n_plans++] = p;
	return p.ok ? &plans[n_plans - 1] : NULL;
}

/* One row (batch-1 decode, the last sequence of a run): a matrix-vector
 * product streaming W once, one warp per output, each lane 16-byte loads of
 * W that bypass L1 (x, read by every warp, stays there), GEMV_UNROLL loads
 * in flight per lane, a float32 sum reduced across the warp.  On the H200
 * (GPU run 9) it streams 14336 x 4096 at 3.64 TB/s where cuBLAS's kernel
 * reaches 3.47, and the Llama-3-8B batch-1 step fell from 5.63 to 5.25 ms.
 * The same kernel over 2 or 4 rows of x was no faster than cuBLAS (2) or
 * slower (4: 2.67 TB/s, bound by the reads of x), so it takes one row
 * only.  TTS_GEMV=0 turns it off. */
#define GEMV_WARPS 8
#define GEMV_UNROLL 4

static __device__ __forceinline__ uint4 ld_stream(const void *p)
{
	uint4 v;
	asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];"
		     : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
	return v;
}

static __device__ __forceinline__ void dot8(float &acc, uint4 w, uint4 x)
{
	const __nv_bfloat162 *a = (const __nv_bfloat162 *)&w, *b = (const __nv_bfloat162 *)&x;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		float2 fa = __bfloat1622float2(a[i]), fb = __bfloat1622float2(b[i]);
		acc = fmaf(fa.x, fb.x, acc);
		acc = fmaf(fa.y, fb.y, acc);
	}
}

__global__ void __launch_bounds__(GEMV_WARPS * 32)
gemv_kernel(float *__restrict__ y, const bf16 *__restrict__ w, const bf16 *__restrict__ x, int out, int in)
{
	const int o = blockIdx.x * GEMV_WARPS + threadIdx.x / 32, lane = threadIdx.x % 32;
	if (o >= out) return;
	const int chunks = in / 8;      /* 16-byte pieces of a row */
	const uint4 *wr = (const uint4 *)(w + (size_t)o * in);
	const uint4 *xr = (const uint4 *)x;
	float acc = 0.f;
	int c = lane;
	for (; c + 32 * (GEMV_UNROLL - 1) < chunks; c += 32 * GEMV_UNROLL) {
		uint4 wv[GEMV_UNROLL];
#pragma unroll
		for (int u = 0; u < GEMV_UNROLL; u++) wv[u] = ld_stream(wr + c + 32 * u);
#pragma unroll
		for (int u = 0; u < GEMV_UNROLL; u++) dot8(acc, wv[u], __ldg(xr + c + 32 * u));
	}
	for (; c < chunks; c += 32) dot8(acc, ld_stream(wr + c), __ldg(xr + c));
#pragma unroll
	for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
	if (lane == 0) y[o] = acc;
}

/* 1: the GEMV path took this product */
static int gemv(float *y, const tts_w *w, const bf16 *xb, int rows)
{
	static int on = -1;
	if (on < 0) on = tts_env_on("TTS_GEMV", 1);
	if (!on || rows != 1 || w->in % 8 || ((uintptr_t)xb & 15) || ((uintptr_t)w->d & 15))
		return 0;
	gemv_kernel<<<cdiv(w->out, GEMV_WARPS), GEMV_WARPS * 32, 0, tts_stream>>>(y, w->d, xb, w->out,
										 w->in);
	/* the bf16 copy of x stays valid for other products of the same x
	 * (Mamba's, the packed ones' neighbours); cu_matmul forgets it if y overlaps x */
	launch_check_keep(__FILE__, __LINE__);
	return 1;
}

/* y[r][o] = sum_i x[r][i] W[o][i].  Column-major view: y^T (out x rows) =
 * W^T-as-stored (op T of the in x out column-major matrix) times x^T. */
void cu_matmul(float *y, const tts_w *w, const float *x, int rows)
{
	if (rows <= 0) return;
	const size_t n = (size_t)rows * w->in;
	const bf16 *xb = act_bf16(x, n);
	if (!gemv(y, w, xb, rows)) {
		if (lt_on < 0) {
			const char *e = getenv("TTS_CUBLASLT");
			lt_on = e ? atoi(e) : 0;
		}
		const lt_plan *p = lt_on ? lt_plan_for(w, rows, y, xb) : NULL;
		if (!p || !lt_run(p, &p->algo, y, w->d, xb)) gemm_ex(y, w, xb, rows);
	}
	if (y < x + n && x < y + (size_t)rows * w->out) tts_act_forget();
}

/* ---- CUDA graphs ---- */

struct cu_graph {
	cudaGraphExec_t exec;
	unsigned epoch;
};

static void *cu_graph_capture(void (*fn)(void *), void *ctx)
{
	static int on = -1;
	if (on < 0) on = tts_env_on("TTS_CUDA_GRAPHS", 1) && !tts_env_on("TTS_CUDA_SYNC", 0);
	if (!on) return NULL;
	const unsigned epoch = tts_scratch_epoch;
	cudaGraph_t g = NULL;
	tts_act_forget();
	cudaCheck(cudaStreamBeginCapture(tts_stream, cudaStreamCaptureModeRelaxed));
	fn(ctx);
	cudaError_t err = cudaStreamEndCapture(tts_stream, &g);
	tts_act_forget();     /* nothing ran: the scratch holds what it held before */
	cu_graph *h = (cu_graph *)calloc(1, sizeof *h);
	if (!h) { fprintf(stderr, "tts: out of memory\n"); exit(1); }
	if (err == cudaSuccess) err = cudaGraphInstantiate(&h->exec, g, 0);
	if (g) cudaCheck(cudaGraphDestroy(g));
	if (err != cudaSuccess) {     /* the steps still run, op by op */
		fprintf(stderr, "tts: warning: CUDA graphs off: recording a decode step failed (%s)\n",
			cudaGetErrorString(err));
		cudaGetLastError();
		free(h);
		on = 0;
		return NULL;
	}
	h->epoch = epoch;
	return h;
}

static int cu_graph_launch(void *p)
{
	cu_graph *h = (cu_graph *)p;
	if (h->epoch != tts_scratch_epoch) return 0;
	tts_act_forget();
	cudaCheck(cudaGraphLaunch(h->exec, tts_stream));
	return 1;
}

static void cu_graph_free(void *p)
{
	cu_graph *h = (cu_graph *)p;
	if (!h) return;
	cudaCheck(cudaGraphExecDestroy(h->exec));
	free(h);
}

/* ---- the table ---- */

static void *cu_state_alloc(int n_slots, size_t floats_per_slot)
{
	size_t n = (size_t)n_slots * floats_per_slot * sizeof(float);
	void *p = cu_alloc(n);
	cu_zero(p, n);
	return p;
}

static void cu_state_copy(void *state, int dst, int src, size_t fps)
{
	float *s = (float *)state;
	cu_copy(s + (size_t)dst * fps, s + (size_t)src * fps, fps * sizeof(float));
}

static void cu_state_zero(void *state, int slot, size_t fps)
{
	cu_zero((float *)state + (size_t)slot * fps, fps * sizeof(float));
}

static tts_ops cuda_table;

extern "C" const tts_ops *tts_cuda_ops(int device, char *err, size_t errlen)
{
	static int ready = -1;
	if (ready == device) return &cuda_table;
	if (ready >= 0) {
		snprintf(err, errlen, "CUDA backend already started on device %d", ready);
		return NULL;
	}
	int n = 0;
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		snprintf(err, errlen, "no CUDA device (%s)",
			 e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return NULL;
	}
	if (device < 0 || device >= n) {
		snprintf(err, errlen, "no CUDA device %d (%d present)", device, n);
		return NULL;
	}
	cudaDeviceProp prop;
	cudaCheck(cudaGetDeviceProperties(&prop, device));
	if (prop.major < 8) {
		snprintf(err, errlen, "CUDA device %d (%s) has compute capability %d.%d; bf16 needs 8.0",
			 device, prop.name, prop.major, prop.minor);
		return NULL;
	}
	cudaCheck(cudaSetDevice(device));
	tts_num_sms = prop.multiProcessorCount;
	cudaCheck(cudaStreamCreateWithFlags(&tts_stream, cudaStreamNonBlocking));
	cublasCheck(cublasCreate(&tts_cublas));
	cublasCheck(cublasSetStream(tts_cublas, tts_stream));
	cublasCheck(cublasSetMathMode(tts_cublas, CUBLAS_DEFAULT_MATH));
	/* a fixed workspace: cuBLAS then allocates nothing while a graph records */
	static void *ws;
	const size_t ws_bytes = (size_t)32 << 20;
	cudaCheck(cudaMalloc(&ws, ws_bytes));
	cublasCheck(cublasSetWorkspace(tts_cublas, ws, ws_bytes));
	cublasCheck(cublasLtCreate(&lt));
	cudaCheck(cudaMalloc(&lt_ws, lt_ws_bytes));

	tts_ops *o = &cuda_table;
	o->name = "cuda";
	o->pack = 1;        /* cu_weight converts into device memory: a copy */
	o->alloc = cu_alloc;
	o->free = cu_free;
	o->upload = cu_upload;
	o->download = cu_download;
	o->copy = cu_copy;
	o->zero = cu_zero;
	o->sync = cu_sync;
	o->weight = cu_weight;
	o->vec = cu_vec;
	o->weight_free = cu_weight_free;
	o->matmul = cu_matmul;
	o->embed = cu_embed;
	o->rmsnorm = cu_rmsnorm;
	o->add_rmsnorm = cu_add_rmsnorm;
	o->add = cu_add;
	o->gather_rows = cu_gather_rows;
	o->repeat_groups = cu_repeat_groups;
	o->add_bias = cu_add_bias;
	o->swiglu = cu_swiglu;
	o->swiglu_gu = cu_swiglu_gu;
	o->split_rope = cu_split_rope;
	/* TTS_ROPE_KV=1: k and v to the cache from split_rope, no kv_write (off
	 * until checked on a GPU) */
	if (tts_env_on("TTS_ROPE_KV", 0)) o->split_rope_kv = cu_split_rope_kv;
	o->rope = cu_rope;
	o->kv_alloc = cu_kv_alloc;
	o->kv_write = cu_kv_write;
	o->kv_copy_block = cu_kv_copy_block;
	o->attention = cu_attention;
	o->conv1d = cu_conv1d;
	o->ssd = cu_ssd;
	o->gated_rmsnorm = cu_gated_rmsnorm;
	o->m1_scan = cu_m1_scan;
	o->state_alloc = cu_state_alloc;
	o->state_copy = cu_state_copy;
	o->state_zero = cu_state_zero;
	o->sample = cu_sample;
	o->mem_free = cu_mem_free;
	o->graph_capture = cu_graph_capture;
	o->graph_launch = cu_graph_launch;
	o->graph_free = cu_graph_free;
	ready = device;
	return o;
}
