/* fuzz_tokenizer_json.c — a tokenizer.json through tts_tokenizer_load;
 * when it loads, the rest of the input (after a line "#text") is
 * tokenized and the ids detokenized. */
#include "fuzz.h"
#include "tokenizer.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t tlen;
	char *json = fuzz_part(&data, &size, "\n#text\n", NULL);
	char *text = fuzz_part(&data, &size, "\n#text\n", &tlen);
	fuzz_write("tokenizer.json", json, strlen(json));
	char path[128];
	snprintf(path, sizeof path, "%s/tokenizer.json", fuzz_dir());
	tts_tokenizer *t = tts_tokenizer_load(path, err, sizeof err);
	if (t && text) {
		int32_t *ids = NULL;
		size_t n = 0;
		if (tts_tokenize(t, text, tlen, TTS_TOK_ADD_SPECIAL, &ids, &n, err, sizeof err) == 0) {
			tts_str out = {0};
			(void)tts_detokenize(t, ids, n, 0, &out, err, sizeof err);
			tts_str_free(&out);
		}
		free(ids);
	}
	if (t)
		tts_tokenizer_free(t);
	free(json);
	free(text);
	return 0;
}
