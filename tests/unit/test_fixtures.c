/* test_fixtures.c — the CPU engine against the reference implementations'
 * fixtures (tests/fixtures/models/NAME: expected.json with prompt ids,
 * greedy ids and top-1/top-2 margins; logits.f32 [positions][vocab]):
 *   max over the vocabulary of |ours - ref| / max|ref| <= 1e-4 at every
 *   prompt position, and the greedy continuation identical while the
 *   reference margin is clear (> MARGIN). */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forward.h"
#include "tap.h"
#include "tts.h"
#include "../fixtures_util.h"

#define MARGIN 1e-3

static void
check(const char *name)
{
	char dir[512], path[600];
	json_t *ex = fx_expected(name, dir, sizeof dir);
	if (!ex)
		return;
	json_t *pid = json_object_get(ex, "prompt_ids"), *gid = json_object_get(ex, "greedy_ids");
	json_t *mar = json_object_get(ex, "margins");
	int L = json_array_size(pid), G = json_array_size(gid);
	if (!fx_loadable(dir)) {
		printf("ok %d - %s # SKIP the loader refuses it (message above)\n", ++tap_n, name);
		json_decref(ex);
		return;
	}
	tts_model *m = tts_model_load(dir);
	int V = m->vocab;
	snprintf(path, sizeof path, "%s/logits.f32", dir);
	float *ref = fx_read_f32(path, (size_t)L * V);
	if (!ref) {
		ok(0, "%s: reading %s", name, path);
		return;
	}
	tts_engine *e = tts_engine_new(&tts_cpu_ops, m, 16, 1, 256, 256);
	int32_t *ids = malloc((L + G + 1) * sizeof *ids), blocks[16];
	for (int i = 0; i < 16; i++)
		blocks[i] = i;
	for (int i = 0; i < L; i++)
		ids[i] = json_integer_value(json_array_get(pid, i));
	tts_engine_slot_zero(e, 0);
	int32_t ql = L, cl = L, sl = 0;
	const int32_t *bl[1] = { blocks };
	tts_step st = { .n_seqs = 1, .ids = ids, .q_len = &ql, .ctx_len = &cl, .slot = &sl,
			.blocks = bl };
	tts_forward(e, &st, 1);
	double worst = 0;
	int worst_pos = 0;
	for (int p = 0; p < L; p++) {
		const float *a = e->logits + (size_t)p * V, *b = ref + (size_t)p * V;
		double d = 0, mx = 0;
		for (int i = 0; i < V; i++) {
			d = fmax(d, fabs((double)a[i] - b[i]));
			mx = fmax(mx, fabs(b[i]));
		}
		if (d / mx > worst) {
			worst = d / mx;
			worst_pos = p;
		}
	}
	ok(worst <= 1e-4, "%s: logits at all %d positions within 1e-4 of the reference (worst %.2g at %d)",
	   name, L, worst, worst_pos);
	/* greedy: prefill's last logits, then one decode step per token */
	int same = 1, compared = 0;
	int t = fx_argmax(e->logits + (size_t)(L - 1) * V, V);
	for (int k = 0; k < G; k++) {
		if (json_real_value(json_array_get(mar, k)) <= MARGIN)
			break;
		compared++;
		if (t != json_integer_value(json_array_get(gid, k))) {
			same = 0;
			printf("# %s: greedy token %d: ours %d, reference %lld\n", name, k, t,
			       json_integer_value(json_array_get(gid, k)));
			break;
		}
		ids[L + k] = t;
		ql = 1;
		cl = L + k + 1;
		st.ids = ids + L + k;
		tts_forward(e, &st, 0);
		t = fx_argmax(e->logits, V);
	}
	ok(same && compared > 0, "%s: greedy continuation identical for the %d clear tokens", name,
	   compared);
	tts_engine_free(e);
	tts_model_free(m);
	free(ref);
	free(ids);
	json_decref(ex);
}

int
main(void)
{
	if (fx_each(check) < 0) {
		printf("ok 1 - # SKIP no %s\n1..1\n", FIXDIR);
		return 0;
	}
	return tap_done();
}
