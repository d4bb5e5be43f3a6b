/* strmap.h — a hash map from byte strings to int64 values (open addressing,
 * FNV-1a), for tensor names and tokenizer vocabularies.  Keys are copied. */
#ifndef TTS_STRMAP_H
#define TTS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char **keys;
	size_t *klen;
	int64_t *vals;
	size_t cap, n;          /* cap: a power of two */
} strmap;

void strmap_init(strmap *m);
void strmap_free(strmap *m);
/* Insert or replace; returns 1 if the key was new, 0 if replaced. */
int strmap_put(strmap *m, const char *k, size_t len, int64_t v);
/* The value, or -1 when absent (store only non-negative values). */
int64_t strmap_get(const strmap *m, const char *k, size_t len);
uint64_t strmap_hash(const char *k, size_t len);

#endif
