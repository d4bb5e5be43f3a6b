/* fuzz_tokenize.c — arbitrary text through the fixture tokenizers (BPE,
 * merges as lists and as strings; TTS_TOKENIZER overrides), with and
 * without special-token splitting; the ids detokenize, and arbitrary ids
 * (the input read as int32s) detokenize or are refused. */
#include "fuzz.h"
#include "tokenizer.h"

static tts_tokenizer *tok[2];

static void
load(void)
{
	const char *paths[2] = {"tests/fixtures/tokenizer/tokenizer.json", "tests/fixtures/tokenizer/tokenizer-strmerges.json"};
	char err[512];
	if (getenv("TTS_TOKENIZER"))
		paths[0] = paths[1] = getenv("TTS_TOKENIZER");
	for (int i = 0; i < 2; i++)
		if (!(tok[i] = tts_tokenizer_load(paths[i], err, sizeof err))) {
			fprintf(stderr, "fuzz_tokenize: %s (run from the repository root)\n", err);
			abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	if (!tok[0])
		load();
	if (size < 1)
		return 0;
	const tts_tokenizer *t = tok[data[0] & 1];
	int flags = (data[0] >> 1) & 3;
	int32_t *ids = NULL;
	size_t n = 0;
	tts_str out = {0};
	if (tts_tokenize(t, (const char *)data + 1, size - 1, flags, &ids, &n, err, sizeof err) == 0)
		(void)tts_detokenize(t, ids, n, data[0] & 8, &out, err, sizeof err);
	free(ids);
	out.len = 0;
	size_t m = (size - 1) / 4;
	int32_t *raw = malloc((m ? m : 1) * sizeof *raw);
	memcpy(raw, data + 1, m * 4);
	(void)tts_detokenize(t, raw, m, data[0] & 8, &out, err, sizeof err);
	tts_utf8 st = {0};
	tts_utf8_feed(&st, (const char *)data + 1, size - 1, &out);
	tts_utf8_finish(&st, &out);
	free(raw);
	tts_str_free(&out);
	return 0;
}
