/* tok.c — tts-generate's tokenizer adapter: the model's tokenizer.json
 * (lib/tokenizer.c), or for the synthetic models an ASCII one (id = byte,
 * bytes >= 128 become '?', BOS 1). */
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "gen.h"
#include "tokenizer.h"
#include "tts.h"

struct gen_tok {
	const tts_model *m;
	tts_tokenizer *t;        /* NULL: ASCII */
};

gen_tok *
gen_tok_open(const char *dir, const tts_model *m)
{
	gen_tok *t = ecalloc(1, sizeof *t);
	t->m = m;
	if (dir) {
		t->t = cmd_load_tokenizer(dir);
		if (tts_tokenizer_size(t->t) > m->vocab)
			eprintf("%s: tokenizer has %d ids, the model's vocabulary %d", dir,
				tts_tokenizer_size(t->t), m->vocab);
	}
	return t;
}

void
gen_tok_close(gen_tok *t)
{
	if (t->t)
		tts_tokenizer_free(t->t);
	free(t);
}

int
gen_encode(gen_tok *t, const char *text, size_t n, int32_t **ids)
{
	if (t->t) {
		char err[512];
		size_t k;
		if (tts_tokenize(t->t, text, n, TTS_TOK_ADD_SPECIAL, ids, &k, err, sizeof err))
			eprintf("prompt: %s", err);
		return (int)k;
	}
	int32_t *v = emalloc((n + 1) * sizeof *v);
	int k = 0;
	if (t->m->bos_id >= 0 && !(n > 0 && (unsigned char)text[0] == t->m->bos_id))
		v[k++] = t->m->bos_id;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = text[i];
		v[k++] = c < 128 && c < (unsigned)t->m->vocab ? c : '?';
	}
	*ids = v;
	return k;
}

/* Special tokens are left out of the text (as vLLM's skip_special_tokens). */
char *
gen_decode(gen_tok *t, const int32_t *ids, int n, size_t *len)
{
	if (t->t) {
		tts_str s = { 0 };
		char err[512];
		int32_t *known = emalloc((n + 1) * sizeof *known);
		int k = 0;
		size_t bl;
		for (int i = 0; i < n; i++)   /* ids past the tokenizer (padded vocabularies) */
			if (tts_token_bytes(t->t, ids[i], &bl))
				known[k++] = ids[i];
		int rc = tts_detokenize(t->t, known, k, 1, &s, err, sizeof err);
		free(known);
		if (rc)
			eprintf("decode: %s", err);
		tts_str_add(&s, "", 1);
		*len = s.len - 1;
		return s.p;
	}
	char *s = emalloc(n + 1);
	size_t k = 0;
	for (int i = 0; i < n; i++)
		if (ids[i] >= 32 || ids[i] == '\n')   /* control ids (BOS, EOS) decode to nothing */
			s[k++] = ids[i] < 128 ? (char)ids[i] : '?';
	s[k] = 0;
	*len = k;
	return s;
}
