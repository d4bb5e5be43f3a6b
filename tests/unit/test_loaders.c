/* test_loaders.c — safetensors, torch zip and config loading on the
 * fixtures in tests/fixtures/bad/ (good and broken files, written by
 * make_fixtures.py), and the dtype conversions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "model.h"
#include "tap.h"
#include "tts.h"
#include "weights.h"

#define BAD "tests/fixtures/bad/"

static char err[1024];

/* Loading dir fails with a message containing want. */
static void
refused(const char *dir, const char *want)
{
	tts_model *m;
	int rc = tts_model_open(dir, &m, err, sizeof err);
	ok(rc == -1 && strstr(err, want), "%s refused: %s", dir + strlen(BAD), err);
	if (rc == 0)
		tts_model_free(m);
}

static tts_model *
loads(const char *dir)
{
	tts_model *m = NULL;
	int rc = tts_model_open(dir, &m, err, sizeof err);
	ok(rc == 0, "%s loads %s", dir + strlen(BAD), rc ? err : "");
	return rc ? NULL : m;
}

static void
good_tiny(const char *dir, const char *format, double tol, int from_bin)
{
	tts_model *m = loads(dir);
	if (!m)
		return;
	ok(strcmp(m->arch, "LlamaForCausalLM") == 0 && m->n_layers == 1 && m->d_model == 8 && m->vocab == 16 &&
	   m->n_heads == 2 && m->n_kv_heads == 1 && m->head_dim == 4 && m->d_ff == 16, "%s: geometry", dir);
	ok(m->tied && m->lm_head.data == m->embed.data, "%s: tied lm_head is the embedding", dir);
	ok(tts_model_params(m) == 728, "%s: 728 parameters (got %lld)", dir, (long long)tts_model_params(m));
	ok(strcmp(tts_model_format(m), format) == 0, "%s: format %s", dir, format);
	ok(m->rope == ROPE_PLAIN && m->rope_theta == 10000 && m->rope_dim == 4, "%s: plain rope over head_dim", dir);
	ok(m->bos_id == 1 && m->n_eos == 1 && m->eos_ids[0] == 2, "%s: bos/eos from config.json", dir);
	/* values as make_fixtures.py wrote them */
	const tts_tensor *e = &m->embed;
	int bad = 0;
	for (size_t i = 0; i < tts_tensor_numel(e); i++) {
		double want = from_bin ? cos(0.21 * (double)i) : sin(0.37 * (double)i + 25);
		if (fabs(tts_tensor_get(e, i) - want) > tol)
			bad++;
	}
	ok(!bad, "%s: embedding values (tolerance %g)", dir, tol);
	float *f = emalloc(tts_tensor_numel(e) * sizeof *f);
	tts_tensor_to_f32(e, f);
	ok(f[5] == tts_tensor_get(e, 5), "%s: to_f32 agrees with get", dir);
	free(f);
	tts_model_free(m);
}

static void
halves(void)
{
	static const struct { uint16_t h; float f; } cases[] = {
		{0x3c00, 1.0f}, {0xc000, -2.0f}, {0x0001, 5.9604645e-8f}, {0x03ff, 6.0975552e-5f},
		{0x7bff, 65504.0f}, {0x7c00, INFINITY}, {0x8000, -0.0f}, {0x3555, 0.33325195f},
	};
	tts_tensor t = {"h", NULL, TTS_F16, 1, {1}};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		t.data = &cases[i].h;
		bad += tts_tensor_get(&t, 0) != cases[i].f;
	}
	uint16_t nan = 0x7e00, bf = 0x3f80;
	t.data = &nan;
	ok(!bad && isnan(tts_tensor_get(&t, 0)), "f16 -> f32: normal, subnormal, inf, nan");
	t.dtype = TTS_BF16;
	t.data = &bf;
	ok(tts_tensor_get(&t, 0) == 1.0f, "bf16 -> f32");
}

static void
json_inf(void)
{
	char path[] = "/tmp/tts-test-XXXXXX";
	int fd = mkstemp(path);
	const char *s = "{\"a\": [0.0, Infinity], \"b\": \"Infinity\", \"c\": -Infinity, \"d\": NaN, "
			"\"e\": {\"__float__\": \"Infinity\"}}";
	ok(fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s), "temp file");
	close(fd);
	json_t *j = tts_json_load(path, err, sizeof err);
	double a1 = 0, c = 0, d = 0, e = 0;
	ok(j && !tts_json_num(json_array_get(json_object_get(j, "a"), 1), &a1) && isinf(a1) && a1 > 0 &&
	   !tts_json_num(json_object_get(j, "c"), &c) && isinf(c) && c < 0 &&
	   !tts_json_num(json_object_get(j, "d"), &d) && isnan(d) &&
	   !tts_json_num(json_object_get(j, "e"), &e) && isinf(e) &&
	   strcmp(json_string_value(json_object_get(j, "b")), "Infinity") == 0,
	   "config JSON with Python's Infinity / NaN");
	json_decref(j);
	unlink(path);
}

int
main(void)
{
	good_tiny(BAD "st-good", "safetensors", 1e-7, 0);
	good_tiny(BAD "st-good-bf16", "safetensors", 1.0 / 128, 0);
	good_tiny(BAD "st-good-f16", "safetensors", 1.0 / 1024, 0);
	good_tiny(BAD "st-shard-good", "safetensors", 1e-7, 0);
	good_tiny(BAD "bin-good", "pytorch", 1e-7, 1);
	good_tiny(BAD "bin-good-zip64", "pytorch", 1e-7, 1);

	refused(BAD "st-empty", "too short");
	refused(BAD "st-short", "too short");
	refused(BAD "st-hdrlen-huge", "runs past the end of the file");
	refused(BAD "st-hdrlen-bad", "header is not JSON");
	refused(BAD "st-notjson", "header is not JSON");
	refused(BAD "st-truncated", "outside the");
	refused(BAD "st-offset-outside", "outside the");
	refused(BAD "st-shape-mismatch", "576 bytes, but data_offsets [0, 512] hold 512");
	refused(BAD "st-overlap", "overlap");
	refused(BAD "st-dtype-unknown", "unknown dtype Q4");
	refused(BAD "st-dtype-int", "dtype I32, expected F32, F16 or BF16");
	refused(BAD "st-offsets-reversed", "end before begin");
	refused(BAD "st-missing-tensor", "model.layers.0.mlp.up_proj.weight [16, 8] is missing");
	refused(BAD "st-wrong-shape", "k_proj.weight: shape [8, 8], but config.json implies [4, 8]");
	refused(BAD "st-shard-missing", "shard model-00002-of-00002.safetensors");
	refused(BAD "bin-evil-os-system", "data.pkl: refusing global os.system");
	refused(BAD "bin-evil-builtins-eval", "data.pkl: refusing global builtins.eval");
	refused(BAD "bin-evil-midway", "data.pkl: refusing global posix.system");
	refused(BAD "bin-evil-newobj", "data.pkl: refusing global subprocess.Popen");
	refused(BAD "bin-evil-inst", "refusing pickle opcode 0x69 (INST)");
	refused(BAD "bin-compressed", "compressed");
	refused(BAD "bin-truncated", "truncated");
	refused(BAD "bin-storage-short", "do not fit storage");
	refused(BAD "bin-not-zip", "legacy torch.save");
	refused(BAD "cfg-unknown-arch", "architecture GPT2LMHeadModel is not supported");
	refused(BAD "cfg-not-json", "config.json:1: not JSON");
	refused(BAD "no-weights", "no weights");
	refused(BAD "does-not-exist", "no config.json");

	halves();
	json_inf();
	return tap_done();
}
