/* common.cuh — what every file of the CUDA backend shares: the checked-call
 * macros, the one stream and cuBLAS handle, bf16 helpers and the launchers'
 * declarations (one function per op; kernels/cuda/ops.cu builds the table). */
#ifndef TTS_CUDA_COMMON_CUH
#define TTS_CUDA_COMMON_CUH

#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cublas_v2.h>

extern "C" {
#include "ops.h"
}

typedef __nv_bfloat16 bf16;

/* Every CUDA and cuBLAS call goes through these: on failure, the call, the
 * file:line and the reason, then exit 1 (the engine has no recovery path). */
#define cudaCheck(call) tts_cuda_check((call), #call, __FILE__, __LINE__)
#define cublasCheck(call) tts_cublas_check((call), #call, __FILE__, __LINE__)
/* After every launch: a bad configuration shows up here, not later; with
 * TTS_CUDA_SYNC=1 in the environment it also waits for the kernel, so a
 * fault inside it is reported at its own launch (for debugging). */
#define launchCheck() tts_launch_check(__FILE__, __LINE__)
void tts_launch_check(const char *file, int line);
/* a 0/1 environment switch: unset or empty gives dflt, "0" off, else on */
int tts_env_on(const char *name, int dflt);

void tts_cuda_check(cudaError_t e, const char *call, const char *file, int line);
void tts_cublas_check(cublasStatus_t s, const char *call, const char *file, int line);

/* The bf16 copy of the activation the next matmuls read (ops.cu): a
 * kernel writing float32 src[n] that a matmul reads next writes its bf16
 * rounding into tts_act_reserve(n) and then calls tts_act_set(src, n);
 * launchCheck and the copies forget it. */
bf16 *tts_act_reserve(size_t n);
void tts_act_set(const float *src, size_t n);
void tts_act_forget(void);
/* Before a scratch buffer an op keeps moves: waits for the stream and
 * bumps tts_scratch_epoch, so recorded graphs using it are dropped. */
void tts_scratch_grow(void);
extern unsigned tts_scratch_epoch;

extern cudaStream_t tts_stream;        /* every op runs on this stream */
extern cublasHandle_t tts_cublas;
extern int tts_num_sms;

/* A weight matrix: bf16 [out][in], row-major like PyTorch. */
struct tts_w {
	int out, in;
	bf16 *d;
};

static inline int cdiv(long a, long b) { return (int)((a + b - 1) / b); }

__device__ __forceinline__ float silu_f(float x) { return x / (1.f + __expf(-x)); }
/* softplus with the identity above 20, as mamba_ssm's kernels do */
__device__ __forceinline__ float softplus_f(float x) { return x > 20.f ? x : log1pf(__expf(x)); }

__device__ __forceinline__ float warp_sum(float v)
{
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}
__device__ __forceinline__ float warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}
/* Sum over the block (blockDim.x a multiple of 32, at most 1024); every
 * thread gets the result.  sh: 32 floats of shared memory. */
__device__ __forceinline__ float block_sum(float v, float *sh)
{
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	v = warp_sum(v);
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	v = lane < nw ? sh[lane] : 0.f;
	return warp_sum(v);
}
__device__ __forceinline__ float block_max(float v, float *sh)
{
	int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
	v = warp_max(v);
	__syncthreads();
	if (lane == 0) sh[w] = v;
	__syncthreads();
	v = lane < nw ? sh[lane] : -INFINITY;
	return warp_max(v);
}

/* launchers (same arguments as the tts_ops members) */
void cu_matmul(float *y, const tts_w *w, const float *x, int rows);
void cu_embed(float *y, const tts_w *emb, const int32_t *ids, int rows);
void cu_rmsnorm(float *y, const float *x, const float *w, int rows, int dim, float eps);
void cu_add_rmsnorm(float *h, const float *x, float *y, const float *w, int rows, int dim,
		    float eps);
void cu_add(float *y, const float *x, size_t n);
void cu_gather_rows(float *y, const float *x, const int32_t *idx, int n, int dim);
void cu_repeat_groups(float *y, const float *x, int rows, int groups, int width, int rep);
void cu_add_bias(float *y, const float *b, int rows, int dim);
void cu_swiglu(float *y, const float *g, const float *u, int rows, int dim);
void cu_swiglu_gu(float *y, const float *gu, int rows, int dim);
void cu_split_rope(float *q, float *k, float *v, const float *qkv, const int32_t *pos, int rows,
		   int n_heads, int n_kv, int head_dim, int rot_dim, const float *inv_freq);
void cu_split_rope_kv(float *q, void *kc, void *vc, const float *qkv, const tts_batch *b,
		      int n_heads, int n_kv, int head_dim, int rot_dim, const float *inv_freq);
void cu_rope(float *x, const int32_t *pos, int rows, int heads, int head_dim, int rot_dim,
	     const float *inv_freq);
void cu_gated_rmsnorm(float *y, const float *x, const float *z, int ldz, const float *w,
		      int rows, int dim, int group, float eps);

void *cu_kv_alloc(int n_blocks, int n_kv, int head_dim);
void cu_kv_write(void *kc, void *vc, const float *k, const float *v, const tts_batch *b,
		 int n_kv, int head_dim);
void cu_kv_copy_block(void *kc, void *vc, int dst, int src, int n_kv, int head_dim);
void cu_attention(float *out, const float *q, const void *kc, const void *vc,
		  const tts_batch *b, int n_heads, int n_kv, int head_dim);

void cu_conv1d(float *y, const float *x, int ldx, void *state, const float *w,
	       const float *bias, const tts_batch *b, int channels, int K);
void cu_ssd(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
	    const float *dt_bias, const float *A_log, const float *D, const tts_model *m,
	    const tts_batch *b);
void cu_m1_scan(float *y, const float *u, const float *dt, const float *dt_b, const float *Bx,
		const float *Cx, const float *z, void *state, const float *A_log, const float *D,
		const tts_model *m, const tts_batch *b);

void cu_sample(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *p,
	       int rows, int vocab);

#endif
