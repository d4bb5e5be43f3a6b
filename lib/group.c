/* group.c — grouping records by key values (see group.h).  An open
 * addressing hash table from a key's bytes to a group index. */
#include "group.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tts.h"

struct grouper {
	const char *const *keys;
	int nkeys;
	size_t ngroups, cap;         /* groups; table slots (a power of 2) */
	size_t *slot;                /* group index + 1, 0 when empty */
	uint64_t *hash;              /* per group */
	char **key;                  /* per group: the key bytes */
	size_t *keylen;
	json_t **values;             /* per group */
	char *buf;                   /* scratch for building a key */
	size_t buflen, bufcap;
};

grouper *
grouper_new(const char *const *keys, int nkeys)
{
	grouper *g = ecalloc(1, sizeof *g);
	g->keys = keys;
	g->nkeys = nkeys;
	g->cap = 64;
	g->slot = ecalloc(g->cap, sizeof *g->slot);
	return g;
}

void
grouper_free(grouper *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ngroups; i++) {
		free(g->key[i]);
		json_decref(g->values[i]);
	}
	free(g->slot);
	free(g->hash);
	free(g->key);
	free(g->keylen);
	free(g->values);
	free(g->buf);
	free(g);
}

static void
put(grouper *g, const void *p, size_t n)
{
	if (g->buflen + n > g->bufcap) {
		g->bufcap = 2 * (g->buflen + n) + 64;
		g->buf = erealloc(g->buf, g->bufcap);
	}
	memcpy(g->buf + g->buflen, p, n);
	g->buflen += n;
}

/* Each value as a tag, its length and its bytes: strings raw, other
 * values as compact JSON, so no two different tuples share a key. */
static void
build_key(grouper *g, json_t *rec)
{
	g->buflen = 0;
	for (int i = 0; i < g->nkeys; i++) {
		json_t *v = json_object_get(rec, g->keys[i]);
		if (!v || json_is_null(v)) {
			put(g, "n", 1);
		} else if (json_is_string(v)) {
			size_t n = json_string_length(v);
			put(g, "s", 1);
			put(g, &n, sizeof n);
			put(g, json_string_value(v), n);
		} else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
			if (!s)
				eprintf("out of memory");
			size_t n = strlen(s);
			put(g, "j", 1);
			put(g, &n, sizeof n);
			put(g, s, n);
			free(s);
		}
	}
}

static void
rehash(grouper *g)
{
	free(g->slot);
	g->cap *= 2;
	g->slot = ecalloc(g->cap, sizeof *g->slot);
	for (size_t i = 0; i < g->ngroups; i++) {
		size_t s = g->hash[i] & (g->cap - 1);
		while (g->slot[s])
			s = (s + 1) & (g->cap - 1);
		g->slot[s] = i + 1;
	}
}

size_t
grouper_find(grouper *g, json_t *rec, int *isnew)
{
	build_key(g, rec);
	uint64_t h = stats_hash(g->buf, g->buflen, STATS_HASH_INIT);
	size_t s = h & (g->cap - 1);
	for (; g->slot[s]; s = (s + 1) & (g->cap - 1)) {
		size_t i = g->slot[s] - 1;
		if (g->hash[i] == h && g->keylen[i] == g->buflen && !memcmp(g->key[i], g->buf, g->buflen)) {
			if (isnew)
				*isnew = 0;
			return i;
		}
	}
	size_t i = g->ngroups++;
	if ((i & (i - 1)) == 0 || i == 0) {      /* grow the arrays at powers of 2 */
		size_t n = i ? 2 * i : 1;
		g->hash = erealloc(g->hash, n * sizeof *g->hash);
		g->key = erealloc(g->key, n * sizeof *g->key);
		g->keylen = erealloc(g->keylen, n * sizeof *g->keylen);
		g->values = erealloc(g->values, n * sizeof *g->values);
	}
	g->hash[i] = h;
	g->key[i] = emalloc(g->buflen);
	memcpy(g->key[i], g->buf, g->buflen);
	g->keylen[i] = g->buflen;
	g->values[i] = json_object();
	for (int k = 0; k < g->nkeys; k++) {
		json_t *v = json_object_get(rec, g->keys[k]);
		if (v && !json_is_null(v))
			json_object_set(g->values[i], g->keys[k], v);
	}
	g->slot[s] = i + 1;
	if (2 * g->ngroups > g->cap)
		rehash(g);
	if (isnew)
		*isnew = 1;
	return i;
}

size_t
grouper_count(const grouper *g)
{
	return g->ngroups;
}

json_t *
grouper_values(const grouper *g, size_t i)
{
	return g->values[i];
}

const char *
grouper_key(const grouper *g, size_t i, size_t *len)
{
	*len = g->keylen[i];
	return g->key[i];
}

static int
type_rank(json_t *v)
{
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v))
		return 1;
	if (json_is_number(v))
		return 2;
	if (json_is_string(v))
		return 3;
	return 4;
}

int
json_order(json_t *a, json_t *b)
{
	int ra = type_rank(a), rb = type_rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 0:
		return 0;
	case 1:
		return json_is_true(a) - json_is_true(b);
	case 2: {
		double x = json_number_value(a), y = json_number_value(b);
		return (x > y) - (x < y);
	}
	case 3:
		return strverscmp(json_string_value(a), json_string_value(b));
	default: {
		char *x = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		char *y = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
		int c = strcmp(x ? x : "", y ? y : "");
		free(x);
		free(y);
		return c;
	}
	}
}

static const grouper *sort_g;   /* qsort has no context argument in C11 */

static int
cmp_groups(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	for (int k = 0; k < sort_g->nkeys; k++) {
		const char *key = sort_g->keys[k];
		int c = json_order(json_object_get(sort_g->values[a], key),
				   json_object_get(sort_g->values[b], key));
		if (c)
			return c;
	}
	/* Values that order as equal but differ (1 and 1.0): by key bytes. */
	size_t n = sort_g->keylen[a] < sort_g->keylen[b] ? sort_g->keylen[a] : sort_g->keylen[b];
	int c = memcmp(sort_g->key[a], sort_g->key[b], n);
	return c ? c : (sort_g->keylen[a] > sort_g->keylen[b]) - (sort_g->keylen[a] < sort_g->keylen[b]);
}

size_t *
grouper_sorted(const grouper *g)
{
	size_t *ix = emalloc((g->ngroups + 1) * sizeof *ix);
	for (size_t i = 0; i < g->ngroups; i++)
		ix[i] = i;
	sort_g = g;
	qsort(ix, g->ngroups, sizeof *ix, cmp_groups);
	return ix;
}

char **
split_list(const char *s, const char *opt, const char *usage, int *n)
{
	int count = 1;
	for (const char *p = s; *p; p++)
		count += *p == ',';
	size_t len = strlen(s) + 1;
	char **v = emalloc((size_t)(count + 1) * sizeof *v + len);
	char *copy = (char *)(v + count + 1);
	memcpy(copy, s, len);
	int i = 0;
	for (char *tok = copy, *next; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = 0;
		if (!*tok)
			usage_error(usage, "%s: empty item in '%s'", opt, s);
		v[i++] = tok;
	}
	v[i] = NULL;
	*n = i;
	return v;
}

json_t *
consts_start(json_t *rec, const char *const *skip)
{
	json_t *c = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(rec, key, v) {
		int skipped = 0;
		for (int i = 0; skip && skip[i] && !skipped; i++)
			skipped = !strcmp(key, skip[i]);
		if (!skipped)
			json_object_set(c, key, v);
	}
	return c;
}

void
consts_meet(json_t *consts, json_t *rec)
{
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(consts, tmp, key, v) {
		json_t *w = json_object_get(rec, key);
		if (!w || (w != v && !json_equal(w, v)))
			json_object_del(consts, key);
	}
}
