/* vocab.c — whole-word tokens of a tokenizer.json (see vocab.h).  Only the
 * vocabulary map is read; the tokenizer itself lives elsewhere. */
#include "vocab.h"
#include "tts.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The word after a leading-space marker, or NULL when tok is not one. */
static const char *
whole_word(const char *tok, size_t len, size_t min_len)
{
	const char *w;
	if (len >= 2 && memcmp(tok, "\xc4\xa0", 2) == 0)          /* Ġ */
		w = tok + 2;
	else if (len >= 3 && memcmp(tok, "\xe2\x96\x81", 3) == 0) /* ▁ */
		w = tok + 3;
	else
		return NULL;
	size_t n = len - (size_t)(w - tok);
	if (n < min_len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return NULL;
	}
	return w;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
vocab_words(const char *path, size_t min_len, size_t *n)
{
	json_error_t err;
	json_t *root = json_load_file(path, 0, &err);
	if (!root)
		eprintf("%s:%d: %s", path, err.line, err.text);
	json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
	size_t cap = json_is_object(vocab) ? json_object_size(vocab)
		   : json_is_array(vocab) ? json_array_size(vocab) : 0;
	if (!json_is_object(vocab) && !json_is_array(vocab))
		eprintf("%s: no vocabulary map (model.vocab)", path);
	char **words = ecalloc(cap ? cap : 1, sizeof *words);
	size_t k = 0, i;
	const char *tok;
	json_t *v;
	if (json_is_object(vocab)) {
		json_object_foreach(vocab, tok, v) {
			const char *w = whole_word(tok, strlen(tok), min_len);
			if (w)
				words[k++] = estrdup(w);
		}
	} else {
		json_array_foreach(vocab, i, v) {
			json_t *t = json_is_array(v) ? json_array_get(v, 0) : v;
			if (!json_is_string(t))
				continue;
			const char *w = whole_word(json_string_value(t), json_string_length(t),
						   min_len);
			if (w)
				words[k++] = estrdup(w);
		}
	}
	json_decref(root);
	qsort(words, k, sizeof *words, cmp_str);
	size_t m = 0;
	for (i = 0; i < k; i++) {
		if (m > 0 && strcmp(words[m - 1], words[i]) == 0)
			free(words[i]);
		else
			words[m++] = words[i];
	}
	*n = m;
	return words;
}

void
vocab_free(char **words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
}
