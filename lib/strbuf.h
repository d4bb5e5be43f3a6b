/* strbuf.h — a growing NUL-terminated string (for building text in one
 * pass).  Start from strbuf b = {0}; sb_done hands over the string. */
#ifndef TTS_STRBUF_H
#define TTS_STRBUF_H

#include <stddef.h>

typedef struct { char *s; size_t n, cap; } strbuf;

void sb_add(strbuf *b, const char *s, size_t n);
void sb_c(strbuf *b, char c);
void sb_str(strbuf *b, const char *s);
/* The string (malloc'd, "" when nothing was added); b may be reused. */
char *sb_done(strbuf *b);
/* A malloc'd, NUL-terminated copy of s[0, n). */
char *str_dupn(const char *s, size_t n);

#endif
