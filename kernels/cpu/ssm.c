/* ssm.c — CPU causal conv1d, Mamba2 SSD recurrence, gated RMSNorm and the
 * MambaInLlama Mamba-1 selective scan (checkpoints.md sections 3 and 7).
 * Prefill and decode are the same per-token loop, so they agree exactly. */
#include "cpu.h"

/* y = silu(bias + sum_k w[k] in[t-K+1+k]): the K-1 previous inputs come
 * from the state (oldest first), which is left holding the last K-1. */
void
cpu_conv1d(float *y, const float *x, int ldx, void *state, const float *w, const float *bias,
	   const tts_batch *b, int channels, int K)
{
	float *st = state;
	for (int s = 0; s < b->n_seqs; s++) {
		int r0 = b->q_start[s], n = b->q_len[s];
		float *S = st + (size_t)b->slot[s] * channels * (K - 1);
#pragma omp parallel for schedule(static) if ((size_t)n * channels * K > (1u << 22))
		for (int c = 0; c < channels; c++) {
			float *h = S + (size_t)c * (K - 1);
			const float *wc = w + (size_t)c * K;
			for (int t = 0; t < n; t++) {
				float in = x[(size_t)(r0 + t) * ldx + c];
				float acc = bias ? bias[c] : 0.0f;
				for (int k = 0; k < K - 1; k++)
					acc += wc[k] * h[k];
				acc += wc[K - 1] * in;
				for (int k = 0; k + 1 < K - 1; k++)
					h[k] = h[k + 1];
				if (K > 1)
					h[K - 2] = in;
				y[(size_t)(r0 + t) * channels + c] = silu(acc);
			}
		}
	}
}

/* S = exp(dt A) S + dt x B^T; y = S C + D x, per head (checkpoints.md 3.2 step 5). */
void
cpu_ssd(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
	const float *dt_bias, const float *A_log, const float *D, const tts_model *m,
	const tts_batch *b)
{
	int H = m->m2_heads, P = m->m2_headdim, N = m->m2_state, ld = m->m2_conv_dim;
	int x_dim = m->m2_x_groups * P, b_dim = m->m2_b_groups * N;
	int xr = H / m->m2_x_groups, br = H / m->m2_b_groups, cr = H / m->m2_c_groups;
	float *st = state;
	for (int s = 0; s < b->n_seqs; s++) {
		int r0 = b->q_start[s], n = b->q_len[s];
		float *S0 = st + (size_t)b->slot[s] * H * P * N;
#pragma omp parallel for schedule(static) if ((size_t)n * H * P * N > (1u << 22))
		for (int h = 0; h < H; h++) {
			float *S = S0 + (size_t)h * P * N;
			float A = -expf(A_log[h]);
			for (int t = 0; t < n; t++) {
				size_t row = r0 + t;
				const float *xv = xbc + row * ld + (size_t)(h / xr) * P;
				const float *Bv = xbc + row * ld + x_dim + (size_t)(h / br) * N;
				const float *Cv = xbc + row * ld + x_dim + b_dim + (size_t)(h / cr) * N;
				float dt = softplus(dt_raw[row * lddt + h] + dt_bias[h]);
				dt = fminf(fmaxf(dt, (float)m->m2_dt_min), (float)m->m2_dt_max);
				float dA = expf(dt * A);
				float *yv = y + row * H * P + (size_t)h * P;
				for (int p = 0; p < P; p++) {
					float *Sp = S + (size_t)p * N, dtx = dt * xv[p], acc = 0;
					for (int k = 0; k < N; k++) {
						Sp[k] = Sp[k] * dA + dtx * Bv[k];
						acc += Sp[k] * Cv[k];
					}
					yv[p] = acc + D[h] * xv[p];
				}
			}
		}
	}
}

/* v = x silu(z); y = v / sqrt(mean_group v^2 + eps) * w  (gate before norm) */
void
cpu_gated_rmsnorm(float *y, const float *x, const float *z, int ldz, const float *w,
		  int rows, int dim, int group, float eps)
{
	for (int r = 0; r < rows; r++) {
		const float *xr = x + (size_t)r * dim, *zr = z + (size_t)r * ldz;
		float *yr = y + (size_t)r * dim;
		for (int g = 0; g < dim; g += group) {
			float ss = 0;
			for (int i = g; i < g + group; i++) {
				yr[i] = xr[i] * silu(zr[i]);
				ss += yr[i] * yr[i];
			}
			float inv = 1.0f / sqrtf(ss / group + eps);
			for (int i = g; i < g + group; i++)
				yr[i] = yr[i] * inv * w[i];
		}
	}
}

/* MambaInLlama Mamba-1 (checkpoints.md section 7): dt bias added a second
 * time; B from kv-group c/(N*rep), C from group c/N. */
void
cpu_m1_scan(float *y, const float *u, const float *dt, const float *dt_b, const float *Bx,
	    const float *Cx, const float *z, void *state, const float *A_log, const float *D,
	    const tts_model *m, const tts_batch *b)
{
	int E = m->m1_d_inner, N = m->m1_state, X = m->m1_d_xb, rep = E / X;
	float *st = state;
	for (int s = 0; s < b->n_seqs; s++) {
		int r0 = b->q_start[s], n = b->q_len[s];
		float *S0 = st + (size_t)b->slot[s] * E * N;
#pragma omp parallel for schedule(static) if ((size_t)n * E * N > (1u << 22))
		for (int c = 0; c < E; c++) {
			float *S = S0 + (size_t)c * N;
			for (int t = 0; t < n; t++) {
				size_t row = r0 + t;
				const float *Bv = Bx + row * X + (size_t)(c / (N * rep)) * N;
				const float *Cv = Cx + row * E + (size_t)(c / N) * N;
				float uc = u[row * E + c];
				float d = softplus(dt[row * E + c] + dt_b[c]), acc = 0;
				for (int k = 0; k < N; k++) {
					float A = -expf(A_log[(size_t)c * N + k]);
					S[k] = expf(d * A) * S[k] + d * Bv[k] * uc;
					acc += S[k] * Cv[k];
				}
				y[row * E + c] = (acc + D[c] * uc) * silu(z[row * E + c]);
			}
		}
	}
}
