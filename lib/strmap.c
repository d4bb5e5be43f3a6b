/* strmap.c — see strmap.h. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "tts.h"

uint64_t
strmap_hash(const char *k, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)k[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
strmap_init(strmap *m)
{
	memset(m, 0, sizeof *m);
}

void
strmap_free(strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->klen);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

static size_t
find_slot(const strmap *m, const char *k, size_t len)
{
	size_t mask = m->cap - 1, i = strmap_hash(k, len) & mask;
	while (m->keys[i] && !(m->klen[i] == len && memcmp(m->keys[i], k, len) == 0))
		i = (i + 1) & mask;
	return i;
}

static void
grow(strmap *m)
{
	strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 64;
	m->keys = ecalloc(m->cap, sizeof *m->keys);
	m->klen = ecalloc(m->cap, sizeof *m->klen);
	m->vals = ecalloc(m->cap, sizeof *m->vals);
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = find_slot(m, old.keys[i], old.klen[i]);
		m->keys[j] = old.keys[i];
		m->klen[j] = old.klen[i];
		m->vals[j] = old.vals[i];
	}
	free(old.keys);
	free(old.klen);
	free(old.vals);
}

int
strmap_put(strmap *m, const char *k, size_t len, int64_t v)
{
	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	size_t i = find_slot(m, k, len);
	if (m->keys[i]) {
		m->vals[i] = v;
		return 0;
	}
	m->keys[i] = emalloc(len + 1);
	memcpy(m->keys[i], k, len);
	m->keys[i][len] = 0;
	m->klen[i] = len;
	m->vals[i] = v;
	m->n++;
	return 1;
}

int64_t
strmap_get(const strmap *m, const char *k, size_t len)
{
	if (!m->cap)
		return -1;
	size_t i = find_slot(m, k, len);
	return m->keys[i] ? m->vals[i] : -1;
}
