/* tokenizer.h — byte-level BPE from a Hugging Face tokenizer.json: the
 * vocabulary and merges (both the "a b" and the ["a", "b"] form, and
 * ignore_merges), the pre-tokenizer's split regex through PCRE2 with UTF
 * and UCP (the Llama-3 pattern needs \p{L}, \p{N}), the ByteLevel byte to
 * character mapping, added and special tokens recognised in the text
 * (leftmost-longest, before pre-tokenization), and the post-processor's
 * prefix (BOS), added unless the text already starts with it.  Decoding
 * maps tokens back to bytes; tts_utf8_* turn bytes into valid UTF-8 as
 * Python's errors="replace" does (U+FFFD per maximal invalid subpart),
 * holding back an incomplete character until the next token (streaming). */
#ifndef TTS_TOKENIZER_H
#define TTS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

typedef struct tts_tokenizer tts_tokenizer;

/* A growable byte string. */
typedef struct {
	char *p;
	size_t len, cap;
} tts_str;
void tts_str_add(tts_str *s, const void *p, size_t n);
void tts_str_free(tts_str *s);

enum {
	TTS_TOK_ADD_SPECIAL = 1,   /* the post-processor's tokens (BOS), unless already there */
	TTS_TOK_SPLIT_SPECIAL = 2, /* special tokens in the text are plain text */
};

/* NULL with a one-line message in err ("FILE: what") on failure. */
tts_tokenizer *tts_tokenizer_load(const char *path, char *err, size_t errlen);
void tts_tokenizer_free(tts_tokenizer *t);

/* Encode len bytes of UTF-8 text; *ids (malloc'd) gets *n ids.  Returns 0,
 * or -1 with err set (invalid UTF-8). */
int tts_tokenize(const tts_tokenizer *t, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
		 char *err, size_t errlen);

int tts_tokenizer_size(const tts_tokenizer *t);         /* largest id + 1 */
int tts_token_id(const tts_tokenizer *t, const char *token); /* -1 if absent */
int tts_token_is_special(const tts_tokenizer *t, int32_t id);
int tts_tokenizer_bos(const tts_tokenizer *t);           /* the post-processor's first prefix id, or -1 */
/* The raw bytes of a token (may be part of a UTF-8 character); NULL for
 * an unknown id. */
const char *tts_token_bytes(const tts_tokenizer *t, int32_t id, size_t *len);

/* Streaming UTF-8 repair: append bytes, emit valid UTF-8 to out. */
typedef struct {
	unsigned char b[4];
	int n;
} tts_utf8;
void tts_utf8_feed(tts_utf8 *st, const char *bytes, size_t n, tts_str *out);
void tts_utf8_finish(tts_utf8 *st, tts_str *out);

/* Decode ids to valid UTF-8 (out is appended to); skip_special drops
 * special tokens.  Unknown ids: -1 with err set. */
int tts_detokenize(const tts_tokenizer *t, const int32_t *ids, size_t n, int skip_special, tts_str *out,
		   char *err, size_t errlen);

#endif
