/* tok.c — tts-generate's tokenizer adapter: the model's tokenizer, or for
 * the synthetic models an ASCII one (id = byte; bytes >= 128 become '?'). */
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "tts.h"

struct gen_tok {
	const tts_model *m;
	int ascii;
};

gen_tok *
gen_tok_open(const char *dir, const tts_model *m)
{
	gen_tok *t = ecalloc(1, sizeof *t);
	t->m = m;
	if (dir)
		eprintf("%s: the tokenizer is not built in yet", dir);
	t->ascii = 1;
	return t;
}

void
gen_tok_close(gen_tok *t)
{
	free(t);
}

int
gen_encode(gen_tok *t, const char *text, size_t n, int32_t **ids)
{
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

char *
gen_decode(gen_tok *t, const int32_t *ids, int n, size_t *len)
{
	(void)t;
	char *s = emalloc(n + 1);
	size_t k = 0;
	for (int i = 0; i < n; i++)
		if (ids[i] >= 32 || ids[i] == '\n')   /* control ids (BOS, EOS) decode to nothing */
			s[k++] = ids[i] < 128 ? (char)ids[i] : '?';
	s[k] = 0;
	*len = k;
	return s;
}
