/* test_tokenizer.c — lib/tokenizer.c against the ids and decodes the
 * `tokenizers` library gave (tests/fixtures/tokenizer/cases.json). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tokenizer.h"
#include "tts.h"

#define FX "tests/fixtures/tokenizer/"

static int
same_ids(const int32_t *a, size_t n, json_t *want)
{
	if (json_array_size(want) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (json_integer_value(json_array_get(want, i)) != a[i])
			return 0;
	return 1;
}

/* s equals the JSON string v (which may hold NULs) */
static int
eq(const tts_str *s, json_t *v)
{
	size_t n = json_string_length(v);
	return s->len == n && (n == 0 || memcmp(s->p, json_string_value(v), n) == 0);
}

static int32_t *
ids_of(json_t *a, size_t *n)
{
	*n = json_array_size(a);
	int32_t *v = emalloc((*n + 1) * sizeof *v);
	for (size_t i = 0; i < *n; i++)
		v[i] = (int32_t)json_integer_value(json_array_get(a, i));
	return v;
}

static void
check_encode(tts_tokenizer *t, json_t *cases, const char *label)
{
	json_t *c;
	size_t i;
	int bad[3] = {0}, n = 0;
	char err[256];
	json_array_foreach(cases, i, c) {
		const char *text = json_string_value(json_object_get(c, "text"));
		size_t len = json_string_length(json_object_get(c, "text"));
		static const struct { int flags; const char *key; } runs[3] = {
			{TTS_TOK_ADD_SPECIAL, "ids_tts"}, {0, "ids_no_bos"}, {TTS_TOK_SPLIT_SPECIAL, "ids_split_special"}};
		for (int r = 0; r < 3; r++) {
			int32_t *ids;
			size_t k;
			if (tts_tokenize(t, text, len, runs[r].flags, &ids, &k, err, sizeof err) ||
			    !same_ids(ids, k, json_object_get(c, runs[r].key))) {
				if (bad[r]++ < 3)
					printf("# %s %s differs for %s\n", label, runs[r].key, json_dumps(json_object_get(c, "text"), JSON_ENCODE_ANY));
			}
			free(ids);
		}
		n++;
	}
	ok(!bad[0], "%s: ids with BOS rule equal tokenizers' on %d texts", label, n);
	ok(!bad[1], "%s: ids without special additions equal tokenizers'", label);
	ok(!bad[2], "%s: ids with special tokens as text equal tokenizers'", label);
}

int
main(void)
{
	char err[512];
	json_error_t je;
	json_t *cases = json_load_file(FX "cases.json", JSON_ALLOW_NUL, &je);
	ok(cases != NULL, "cases.json loads");
	if (!cases)
		return tap_done();
	tts_tokenizer *t = tts_tokenizer_load(FX "tokenizer.json", err, sizeof err);
	ok(t != NULL, "tokenizer.json loads %s", t ? "" : err);
	tts_tokenizer *t2 = tts_tokenizer_load(FX "tokenizer-strmerges.json", err, sizeof err);
	ok(t2 != NULL, "tokenizer with \"a b\" merges loads %s", t2 ? "" : err);
	if (!t || !t2)
		return tap_done();
	json_t *enc = json_object_get(cases, "encode"), *meta = json_object_get(cases, "meta");
	check_encode(t, enc, "pair merges");
	check_encode(t2, enc, "string merges");
	ok(tts_tokenizer_bos(t) == json_integer_value(json_object_get(meta, "bos_id")), "BOS from the post-processor");
	ok(tts_tokenizer_size(t) == json_integer_value(json_object_get(meta, "vocab_size")), "vocabulary size");
	ok(tts_token_is_special(t, tts_token_id(t, "<|eot_id|>")), "<|eot_id|> is special");

	/* Decoding: whole, skipping special tokens, and streamed per token. */
	json_t *c;
	size_t i;
	int bad_dec = 0, bad_skip = 0, bad_stream = 0;
	json_array_foreach(enc, i, c) {
		size_t n;
		int32_t *ids = ids_of(json_object_get(c, "ids_no_bos"), &n);
		tts_str a = {0}, b = {0}, s = {0};
		tts_detokenize(t, ids, n, 0, &a, err, sizeof err);
		tts_detokenize(t, ids, n, 1, &b, err, sizeof err);
		tts_utf8 st = {{0}, 0};
		for (size_t k = 0; k < n; k++) {
			size_t len;
			const char *p = tts_token_bytes(t, ids[k], &len);
			tts_utf8_feed(&st, p, len, &s);
		}
		tts_utf8_finish(&st, &s);
		bad_dec += !eq(&a, json_object_get(c, "decoded"));
		bad_skip += !eq(&b, json_object_get(c, "decoded_skip_special"));
		bad_stream += s.len != a.len || (s.len && memcmp(s.p, a.p, a.len) != 0);
		tts_str_free(&a);
		tts_str_free(&b);
		tts_str_free(&s);
		free(ids);
	}
	ok(!bad_dec, "decode equals tokenizers' decode (%d differ)", bad_dec);
	ok(!bad_skip, "decode with skip_special_tokens (%d differ)", bad_skip);
	ok(!bad_stream, "streamed decode equals whole decode (%d differ)", bad_stream);
	int bad_inv = 0, bad_inv_stream = 0;
	json_array_foreach(json_object_get(cases, "decode"), i, c) {
		size_t n;
		int32_t *ids = ids_of(json_object_get(c, "ids"), &n);
		tts_str a = {0}, s = {0};
		tts_detokenize(t, ids, n, 0, &a, err, sizeof err);
		const char *want = json_string_value(json_object_get(c, "python_replace"));
		if (strcmp(a.p, want)) {
			bad_inv++;
			printf("# bytes %s: got '%s' want '%s'\n", json_string_value(json_object_get(c, "bytes_hex")), a.p, want);
		}
		tts_utf8 st = {{0}, 0};
		for (size_t k = 0; k < n; k++) {     /* one byte at a time */
			size_t len;
			const char *p = tts_token_bytes(t, ids[k], &len);
			tts_utf8_feed(&st, p, len, &s);
		}
		tts_utf8_finish(&st, &s);
		bad_inv_stream += strcmp(s.p ? s.p : "", want) != 0;
		tts_str_free(&a);
		tts_str_free(&s);
		free(ids);
	}
	ok(!bad_inv, "invalid UTF-8 becomes U+FFFD per maximal subpart, as Python's errors=replace");
	ok(!bad_inv_stream, "the same, fed one byte at a time");

	int32_t *ids;
	size_t n;
	ok(tts_tokenize(t, "a\xff", 2, 0, &ids, &n, err, sizeof err) == -1 && strstr(err, "invalid UTF-8"),
	   "invalid UTF-8 input is refused: %s", err);
	int32_t unk = 99999;
	tts_str o = {0};
	ok(tts_detokenize(t, &unk, 1, 0, &o, err, sizeof err) == -1, "unknown id refused: %s", err);
	tts_str_free(&o);
	ok(tts_tokenizer_load("tests/fixtures/tokenizer/cases.json", err, sizeof err) == NULL,
	   "a file that is not a tokenizer is refused: %s", err);
	tts_tokenizer_free(t);
	tts_tokenizer_free(t2);
	json_decref(cases);
	return tap_done();
}
