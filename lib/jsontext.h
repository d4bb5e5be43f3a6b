/* jsontext.h — JSON text to and from jansson values, for the record layer.
 *
 * jansson's own parser reads a byte at a time through a stream interface
 * and reaches about 40 MB/s on sample records; this one scans strings 16
 * bytes at a time and builds the same json_t values several times faster.
 * It accepts exactly RFC 8259 JSON, as json_loadb does with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL (checked against it in
 * tests/unit/test_jsontext.c): strings may hold NULs, object keys may not.  The printer writes compact JSON with reals
 * in their shortest round-trip form, always as reals ("1.0"). */
#ifndef TTS_JSONTEXT_H
#define TTS_JSONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* A growable byte buffer. */
struct tts_buf {
	char *p;
	size_t len, cap;
};
void tts_buf_reserve(struct tts_buf *b, size_t more);
static inline void
tts_buf_add(struct tts_buf *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	tts_buf_reserve(b, n);
	__builtin_memcpy(b->p + b->len, s, n);
	b->len += n;
}
static inline void
tts_buf_addc(struct tts_buf *b, char c)
{
	if (b->len == b->cap)
		tts_buf_reserve(b, 1);
	b->p[b->len++] = c;
}

/* Parse one JSON value filling s[0..n) (whitespace around it allowed).
 * NULL on error, with a message like "invalid escape at column 12" in err
 * (columns are 1-based byte offsets). */
json_t *jsontext_parse(const char *s, size_t n, char *err, size_t errsize);

/* 1 if s[0..n) is valid UTF-8 (RFC 3629), else 0; NULs are valid. */
int jsontext_utf8_valid(const char *s, size_t n);

/* Append the compact JSON text of v to b (no newline). */
void jsontext_print(struct tts_buf *b, const json_t *v);

#endif
