/* strbuf.c — see strbuf.h. */
#include "strbuf.h"
#include "tts.h"

#include <string.h>

static void
grow(strbuf *b, size_t more)
{
	if (b->n + more + 1 > b->cap) {
		b->cap = 2 * (b->n + more + 1) + 16;
		b->s = erealloc(b->s, b->cap);
	}
}

void
sb_add(strbuf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

void sb_c(strbuf *b, char c) { sb_add(b, &c, 1); }
void sb_str(strbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

char *
sb_done(strbuf *b)
{
	grow(b, 0);
	b->s[b->n] = 0;
	char *s = b->s;
	b->s = NULL;
	b->n = b->cap = 0;
	return s;
}

char *
str_dupn(const char *s, size_t n)
{
	char *p = emalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}
