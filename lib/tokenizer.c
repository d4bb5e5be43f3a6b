/* tokenizer.c — byte-level BPE from tokenizer.json (see tokenizer.h).
 * Follows Hugging Face tokenizers: added tokens split the text first
 * (leftmost-longest), each remaining segment goes through the
 * pre-tokenizers (Split regex, ByteLevel), each piece through BPE with a
 * merge-rank hash map and a heap (lowest rank, then leftmost, first). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "tts.h"

#define GPT2_SPLIT "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

enum { PRE_SPLIT, PRE_BYTELEVEL };

typedef struct {
	int kind;
	pcre2_code *re;          /* Split, or ByteLevel with use_regex */
	int removed;             /* Split behavior "Removed" (else "Isolated") */
	int prefix_space;        /* ByteLevel add_prefix_space */
} pre_step;

typedef struct {
	char *s;                 /* content */
	size_t len;
	int32_t id;
	int special, lstrip, rstrip, single_word;
} added_tok;

typedef struct {
	uint64_t key;            /* a << 32 | b, + 1 so that 0 means empty */
	int32_t rank, id;
} merge_slot;

struct tts_tokenizer {
	char path[1024];
	int size;                /* largest id + 1 */
	char **tok;              /* id -> token string as in the file (NULL: unused id) */
	char *bytes;             /* id -> decoded bytes at off[id], off[id+1] */
	size_t *off;
	unsigned char *special;  /* id -> special added token */
	strmap vocab;            /* token string -> id (model vocab) */
	merge_slot *merges;
	size_t mcap;
	int byte_id[256];        /* the vocab id of each byte's character */
	int ignore_merges;
	pre_step *pre;
	int npre;
	added_tok *added;
	int nadded;
	int *first[256];         /* added tokens by first byte, -1 terminated */
	int32_t prefix[8], suffix[8];
	int nprefix, nsuffix;
	/* a cache of BPE results per piece */
	strmap cache;
	int32_t *cache_ids;
	size_t cache_len, cache_cap;
};

void
tts_str_add(tts_str *s, const void *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->p = erealloc(s->p, s->cap);
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = 0;
}

void
tts_str_free(tts_str *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

/* GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to
 * U+0100 upwards in byte order. */
static int
byte_char(int b)
{
	static int tab[256], init;
	if (!init) {
		int n = 0;
		for (int i = 0; i < 256; i++) {
			int printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
			tab[i] = printable ? i : 256 + n++;
		}
		init = 1;
	}
	return tab[b];
}

static int
utf8_put(char *o, int cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Next code point of valid UTF-8 s[*i..n); -1 on invalid. */
static int
utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned c = s[*i];
	int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
	if (!len || *i + (size_t)len > n)
		return -1;
	int cp = len == 1 ? (int)c : len == 2 ? (int)(c & 0x1F) : len == 3 ? (int)(c & 0x0F) : (int)(c & 0x07);
	for (int k = 1; k < len; k++) {
		if ((s[*i + k] & 0xC0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3F);
	}
	*i += (size_t)len;
	return cp;
}

/* Token string (byte-level characters) -> raw bytes; a token with a
 * character outside the table is taken as its UTF-8 (as tokenizers does). */
static void
token_to_bytes(const char *tok, tts_str *out)
{
	static int rev[324], init;
	if (!init) {
		for (int i = 0; i < 324; i++)
			rev[i] = -1;
		for (int b = 0; b < 256; b++)
			rev[byte_char(b)] = b;
		init = 1;
	}
	size_t n = strlen(tok), i = 0, start = out->len;
	while (i < n) {
		int cp = utf8_next((const unsigned char *)tok, n, &i);
		if (cp < 0 || cp >= 324 || rev[cp] < 0) {
			out->len = start;
			tts_str_add(out, tok, n);
			return;
		}
		char c = (char)rev[cp];
		tts_str_add(out, &c, 1);
	}
}

static char *
dupn(const char *s, size_t n)
{
	char *p = emalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* ------------------------------------------------------------- merges */

static merge_slot *
merge_find(const tts_tokenizer *t, int32_t a, int32_t b)
{
	uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
	size_t mask = t->mcap - 1, i = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 17) & mask;
	while (t->merges[i].key && t->merges[i].key != key)
		i = (i + 1) & mask;
	return &t->merges[i];
}

static int
add_merge(tts_tokenizer *t, const char *a, const char *b, int32_t rank, char *err, size_t errlen)
{
	int64_t ia = strmap_get(&t->vocab, a, strlen(a)), ib = strmap_get(&t->vocab, b, strlen(b));
	size_t la = strlen(a), lb = strlen(b);
	char *ab = emalloc(la + lb + 1);
	memcpy(ab, a, la);
	memcpy(ab + la, b, lb + 1);
	int64_t im = strmap_get(&t->vocab, ab, la + lb);
	free(ab);
	if (ia < 0 || ib < 0 || im < 0)
		return tts_fail(err, errlen, "%s: merge %d (\"%s\" \"%s\"): %s not in the vocabulary", t->path, rank, a, b,
			    ia < 0 ? "first part" : ib < 0 ? "second part" : "the merged token");
	merge_slot *s = merge_find(t, (int32_t)ia, (int32_t)ib);
	if (!s->key) {           /* the first (lowest-rank) occurrence wins */
		s->key = ((uint64_t)(uint32_t)ia << 32 | (uint32_t)ib) + 1;
		s->rank = rank;
		s->id = (int32_t)im;
	}
	return 0;
}

/* ---------------------------------------------------------------- load */

static pcre2_code *
compile(const char *pat, int literal, const char *path, char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
				       PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0), &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof msg);
		tts_fail(err, errlen, "%s: pre-tokenizer regex at offset %zu: %s", path, (size_t)eo, (char *)msg);
	}
	return re;
}

static int
load_pre(tts_tokenizer *t, json_t *p, char *err, size_t errlen)
{
	if (!p || json_is_null(p))
		return 0;
	const char *type = json_string_value(json_object_get(p, "type"));
	if (!type)
		return tts_fail(err, errlen, "%s: pre_tokenizer without a type", t->path);
	if (strcmp(type, "Sequence") == 0) {
		json_t *a = json_object_get(p, "pretokenizers"), *v;
		size_t i;
		json_array_foreach(a, i, v)
			if (load_pre(t, v, err, errlen))
				return -1;
		return 0;
	}
	t->pre = erealloc(t->pre, (size_t)(t->npre + 1) * sizeof *t->pre);
	pre_step *s = &t->pre[t->npre];
	memset(s, 0, sizeof *s);
	if (strcmp(type, "Split") == 0) {
		json_t *pat = json_object_get(p, "pattern");
		const char *re = json_string_value(json_object_get(pat, "Regex")), *str = json_string_value(json_object_get(pat, "String"));
		const char *beh = json_string_value(json_object_get(p, "behavior"));
		if (!re && !str)
			return tts_fail(err, errlen, "%s: Split pre-tokenizer without a pattern", t->path);
		if (json_is_true(json_object_get(p, "invert")))
			return tts_fail(err, errlen, "%s: Split with invert is not supported", t->path);
		if (beh && strcmp(beh, "Isolated") != 0 && strcmp(beh, "Removed") != 0)
			return tts_fail(err, errlen, "%s: Split behavior %s is not supported (Isolated, Removed)", t->path, beh);
		s->kind = PRE_SPLIT;
		s->removed = beh && strcmp(beh, "Removed") == 0;
		if (!(s->re = compile(re ? re : str, !re, t->path, err, errlen)))
			return -1;
	} else if (strcmp(type, "ByteLevel") == 0) {
		s->kind = PRE_BYTELEVEL;
		s->prefix_space = json_is_true(json_object_get(p, "add_prefix_space"));
		json_t *ur = json_object_get(p, "use_regex");
		if ((!ur || json_is_true(ur)) && !(s->re = compile(GPT2_SPLIT, 0, t->path, err, errlen)))
			return -1;
	} else
		return tts_fail(err, errlen, "%s: pre-tokenizer %s is not supported (Split, ByteLevel, Sequence)", t->path, type);
	t->npre++;
	return 0;
}

/* TemplateProcessing's "single" template: the special tokens around $A. */
static int
load_post(tts_tokenizer *t, json_t *p, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(p, "type"));
	if (!type)
		return 0;
	if (strcmp(type, "Sequence") == 0) {
		json_t *a = json_object_get(p, "processors"), *v;
		size_t i;
		json_array_foreach(a, i, v)
			if (load_post(t, v, err, errlen))
				return -1;
		return 0;
	}
	if (strcmp(type, "TemplateProcessing") != 0)
		return 0;        /* ByteLevel (offsets only) and others add no tokens */
	json_t *single = json_object_get(p, "single"), *sp = json_object_get(p, "special_tokens"), *v;
	size_t i;
	int seen_a = 0;
	json_array_foreach(single, i, v) {
		json_t *st = json_object_get(v, "SpecialToken");
		if (json_object_get(v, "Sequence")) {
			seen_a = 1;
			continue;
		}
		const char *name = json_string_value(json_object_get(st, "id"));
		json_t *ids = json_object_get(json_object_get(sp, name ? name : ""), "ids"), *x;
		size_t k;
		if (!name || !json_is_array(ids))
			return tts_fail(err, errlen, "%s: post_processor: special token %s without ids", t->path, name ? name : "?");
		json_array_foreach(ids, k, x) {
			int32_t *arr = seen_a ? t->suffix : t->prefix;
			int *n = seen_a ? &t->nsuffix : &t->nprefix;
			if (*n < 8)
				arr[(*n)++] = (int32_t)json_integer_value(x);
		}
	}
	return 0;
}

static void
set_token(tts_tokenizer *t, int64_t id, const char *s)
{
	if (id >= t->size) {
		int nsize = (int)id + 1;
		t->tok = erealloc(t->tok, (size_t)nsize * sizeof *t->tok);
		t->special = erealloc(t->special, (size_t)nsize);
		memset(t->tok + t->size, 0, (size_t)(nsize - t->size) * sizeof *t->tok);
		memset(t->special + t->size, 0, (size_t)(nsize - t->size));
		t->size = nsize;
	}
	free(t->tok[id]);
	t->tok[id] = estrdup(s);
}

static int
load_model(tts_tokenizer *t, json_t *model, char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(model, "type"));
	if (type && strcmp(type, "BPE") != 0)
		return tts_fail(err, errlen, "%s: model type %s is not supported (BPE)", t->path, type);
	if (json_is_true(json_object_get(model, "byte_fallback")))
		return tts_fail(err, errlen, "%s: BPE with byte_fallback (SentencePiece style) is not supported", t->path);
	const char *cp = json_string_value(json_object_get(model, "continuing_subword_prefix"));
	const char *ew = json_string_value(json_object_get(model, "end_of_word_suffix"));
	if ((cp && *cp) || (ew && *ew))
		return tts_fail(err, errlen, "%s: continuing_subword_prefix / end_of_word_suffix are not supported", t->path);
	t->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
	json_t *vocab = json_object_get(model, "vocab"), *v;
	const char *k;
	if (!json_is_object(vocab))
		return tts_fail(err, errlen, "%s: model.vocab: expected an object", t->path);
	json_object_foreach(vocab, k, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > (1 << 22))
			return tts_fail(err, errlen, "%s: vocab[\"%s\"]: expected an id", t->path, k);
		strmap_put(&t->vocab, k, strlen(k), json_integer_value(v));
		set_token(t, json_integer_value(v), k);
	}
	json_t *merges = json_object_get(model, "merges");
	size_t n = json_array_size(merges), i;
	for (t->mcap = 16; t->mcap < 2 * n + 16; t->mcap *= 2)
		;
	t->merges = ecalloc(t->mcap, sizeof *t->merges);
	json_array_foreach(merges, i, v) {
		if (json_is_string(v)) {
			const char *s = json_string_value(v), *sp = strchr(s, ' ');
			if (!sp || strchr(sp + 1, ' '))
				return tts_fail(err, errlen, "%s: merge %zu \"%s\": expected two tokens", t->path, i, s);
			char *a = dupn(s, (size_t)(sp - s));
			int rc = add_merge(t, a, sp + 1, (int32_t)i, err, errlen);
			free(a);
			if (rc)
				return -1;
		} else if (json_is_array(v) && json_array_size(v) == 2 && json_is_string(json_array_get(v, 0)) &&
			   json_is_string(json_array_get(v, 1))) {
			if (add_merge(t, json_string_value(json_array_get(v, 0)), json_string_value(json_array_get(v, 1)),
				      (int32_t)i, err, errlen))
				return -1;
		} else
			return tts_fail(err, errlen, "%s: merge %zu: expected \"a b\" or [\"a\", \"b\"]", t->path, i);
	}
	return 0;
}

static int
load_added(tts_tokenizer *t, json_t *a, char *err, size_t errlen)
{
	json_t *v;
	size_t i;
	t->added = ecalloc(json_array_size(a) + 1, sizeof *t->added);
	json_array_foreach(a, i, v) {
		const char *c = json_string_value(json_object_get(v, "content"));
		json_t *id = json_object_get(v, "id");
		if (!c || !*c || !json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > (1 << 22))
			return tts_fail(err, errlen, "%s: added_tokens[%zu]: needs content and id", t->path, i);
		added_tok *x = &t->added[t->nadded++];
		x->s = estrdup(c);
		x->len = strlen(c);
		x->id = (int32_t)json_integer_value(id);
		x->special = json_is_true(json_object_get(v, "special"));
		x->lstrip = json_is_true(json_object_get(v, "lstrip"));
		x->rstrip = json_is_true(json_object_get(v, "rstrip"));
		x->single_word = json_is_true(json_object_get(v, "single_word"));
		set_token(t, x->id, c);
		t->special[x->id] = (unsigned char)x->special;
	}
	/* Index by first byte. */
	int cnt[256] = {0};
	for (int k = 0; k < t->nadded; k++)
		cnt[(unsigned char)t->added[k].s[0]]++;
	for (int b = 0; b < 256; b++) {
		t->first[b] = emalloc((size_t)(cnt[b] + 1) * sizeof(int));
		int n = 0;
		for (int k = 0; k < t->nadded; k++)
			if ((unsigned char)t->added[k].s[0] == b)
				t->first[b][n++] = k;
		t->first[b][n] = -1;
	}
	return 0;
}

static int
finish(tts_tokenizer *t, char *err, size_t errlen)
{
	for (int b = 0; b < 256; b++) {
		char c[4];
		int n = utf8_put(c, byte_char(b));
		int64_t id = strmap_get(&t->vocab, c, (size_t)n);
		t->byte_id[b] = (int)id;
	}
	for (int b = 0; b < 256; b++)
		if (t->byte_id[b] < 0)
			return tts_fail(err, errlen, "%s: the vocabulary lacks byte 0x%02x's character: not a byte-level BPE",
				    t->path, b);
	tts_str all = {0};
	t->off = emalloc((size_t)(t->size + 1) * sizeof *t->off);
	for (int i = 0; i < t->size; i++) {
		t->off[i] = all.len;
		if (t->tok[i])
			token_to_bytes(t->tok[i], &all);
	}
	t->off[t->size] = all.len;
	t->bytes = all.p ? all.p : estrdup("");
	return 0;
}

tts_tokenizer *
tts_tokenizer_load(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j) {
		if (je.line <= 0 || je.position == 0)
			tts_fail(err, errlen, "%s: %s", path, je.text);
		else
			tts_fail(err, errlen, "%s:%d: not JSON: %s", path, je.line, je.text);
		return NULL;
	}
	tts_tokenizer *t = ecalloc(1, sizeof *t);
	snprintf(t->path, sizeof t->path, "%s", path);
	strmap_init(&t->vocab);
	strmap_init(&t->cache);
	json_t *norm = json_object_get(j, "normalizer");
	int rc = 0;
	if (norm && !json_is_null(norm))
		rc = tts_fail(err, errlen, "%s: normalizer %s is not supported", path,
			  json_string_value(json_object_get(norm, "type")) ? json_string_value(json_object_get(norm, "type")) : "?");
	if (!rc)
		rc = load_model(t, json_object_get(j, "model"), err, errlen);
	if (!rc)
		rc = load_added(t, json_object_get(j, "added_tokens"), err, errlen);
	if (!rc)
		rc = load_pre(t, json_object_get(j, "pre_tokenizer"), err, errlen);
	if (!rc)
		rc = load_post(t, json_object_get(j, "post_processor"), err, errlen);
	if (!rc)
		rc = finish(t, err, errlen);
	json_decref(j);
	if (rc) {
		tts_tokenizer_free(t);
		return NULL;
	}
	return t;
}

void
tts_tokenizer_free(tts_tokenizer *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->size; i++)
		free(t->tok[i]);
	free(t->tok);
	free(t->special);
	free(t->bytes);
	free(t->off);
	strmap_free(&t->vocab);
	strmap_free(&t->cache);
	free(t->cache_ids);
	free(t->merges);
	for (int i = 0; i < t->npre; i++)
		pcre2_code_free(t->pre[i].re);
	free(t->pre);
	for (int i = 0; i < t->nadded; i++)
		free(t->added[i].s);
	free(t->added);
	for (int b = 0; b < 256; b++)
		free(t->first[b]);
	free(t);
}

int
tts_tokenizer_size(const tts_tokenizer *t)
{
	return t->size;
}

int
tts_token_id(const tts_tokenizer *t, const char *token)
{
	for (int i = 0; i < t->nadded; i++)
		if (strcmp(t->added[i].s, token) == 0)
			return t->added[i].id;
	return (int)strmap_get(&t->vocab, token, strlen(token));
}

int
tts_token_is_special(const tts_tokenizer *t, int32_t id)
{
	return id >= 0 && id < t->size && t->special[id];
}

int
tts_tokenizer_bos(const tts_tokenizer *t)
{
	return t->nprefix ? t->prefix[0] : -1;
}

const char *
tts_token_bytes(const tts_tokenizer *t, int32_t id, size_t *len)
{
	if (id < 0 || id >= t->size || !t->tok[id])
		return NULL;
	*len = t->off[id + 1] - t->off[id];
	return t->bytes + t->off[id];
}

/* ----------------------------------------------------------------- BPE */

typedef struct {
	int32_t rank, pos, right, id;
} heap_e;

static int
heap_less(const heap_e *a, const heap_e *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static void
heap_push(heap_e **h, size_t *n, size_t *cap, heap_e e)
{
	EGROW(*h, *n, *cap, 64);
	size_t i = (*n)++;
	while (i && heap_less(&e, &(*h)[(i - 1) / 2])) {
		(*h)[i] = (*h)[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	(*h)[i] = e;
}

static heap_e
heap_pop(heap_e *h, size_t *n)
{
	heap_e top = h[0], last = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap_less(&h[c + 1], &h[c]))
			c++;
		if (!heap_less(&h[c], &last))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

static void
try_pair(const tts_tokenizer *t, const int32_t *id, int32_t l, int32_t r, heap_e **h, size_t *n, size_t *cap)
{
	if (l < 0 || r < 0)
		return;
	merge_slot *s = merge_find(t, id[l], id[r]);
	if (s->key)
		heap_push(h, n, cap, (heap_e){s->rank, l, r, s->id});
}

/* BPE of one piece of raw bytes; ids appended to out. */
static void
bpe(const tts_tokenizer *t, const unsigned char *p, size_t n, int32_t **out, size_t *on, size_t *ocap)
{
	int32_t *id = emalloc(n * sizeof *id), *nx = emalloc(n * sizeof *nx), *pv = emalloc(n * sizeof *pv);
	for (size_t i = 0; i < n; i++) {
		id[i] = t->byte_id[p[i]];
		nx[i] = i + 1 < n ? (int32_t)i + 1 : -1;
		pv[i] = (int32_t)i - 1;
	}
	heap_e *h = NULL;
	size_t hn = 0, hcap = 0;
	for (size_t i = 0; i + 1 < n; i++)
		try_pair(t, id, (int32_t)i, (int32_t)i + 1, &h, &hn, &hcap);
	while (hn) {
		heap_e e = heap_pop(h, &hn);
		/* Stale if either side was merged away or changed since. */
		if (id[e.pos] < 0 || nx[e.pos] != e.right || id[e.right] < 0)
			continue;
		merge_slot *s = merge_find(t, id[e.pos], id[e.right]);
		if (!s->key || s->id != e.id || s->rank != e.rank)
			continue;
		id[e.pos] = e.id;
		id[e.right] = -1;
		nx[e.pos] = nx[e.right];
		if (nx[e.pos] >= 0)
			pv[nx[e.pos]] = e.pos;
		try_pair(t, id, pv[e.pos], e.pos, &h, &hn, &hcap);
		try_pair(t, id, e.pos, nx[e.pos], &h, &hn, &hcap);
	}
	for (int32_t i = 0; n && i >= 0; i = nx[i]) {
		EGROW(*out, *on, *ocap, 64);
		(*out)[(*on)++] = id[i];
	}
	free(h);
	free(id);
	free(nx);
	free(pv);
}

static void
push_ids(int32_t **out, size_t *on, size_t *ocap, const int32_t *ids, size_t k)
{
	if (*on + k > *ocap) {
		*ocap = (*on + k) * 2;
		*out = erealloc(*out, *ocap * sizeof **out);
	}
	memcpy(*out + *on, ids, k * sizeof *ids);
	*on += k;
}

/* One pre-tokenized piece: ignore_merges lookup, cache, BPE. */
static void
piece(tts_tokenizer *t, const unsigned char *p, size_t n, int32_t **out, size_t *on, size_t *ocap)
{
	if (!n)
		return;
	int64_t c = strmap_get(&t->cache, (const char *)p, n);
	if (c >= 0) {
		push_ids(out, on, ocap, t->cache_ids + (c >> 16), (size_t)(c & 0xFFFF));
		return;
	}
	size_t start = *on;
	int done = 0;
	if (t->ignore_merges) {
		tts_str s = {0};
		for (size_t i = 0; i < n; i++) {
			char b[4];
			tts_str_add(&s, b, (size_t)utf8_put(b, byte_char(p[i])));
		}
		int64_t id = strmap_get(&t->vocab, s.p, s.len);
		tts_str_free(&s);
		if (id >= 0) {
			int32_t x = (int32_t)id;
			push_ids(out, on, ocap, &x, 1);
			done = 1;
		}
	}
	if (!done)
		bpe(t, p, n, out, on, ocap);
	size_t k = *on - start;
	if (n <= 256 && k < 0xFFFF && t->cache.n < 200000) {
		if (t->cache_len + k > t->cache_cap) {
			t->cache_cap = (t->cache_len + k) * 2;
			t->cache_ids = erealloc(t->cache_ids, t->cache_cap * sizeof *t->cache_ids);
		}
		memcpy(t->cache_ids + t->cache_len, *out + start, k * sizeof **out);
		strmap_put(&t->cache, (const char *)p, n, (int64_t)t->cache_len << 16 | (int64_t)k);
		t->cache_len += k;
	}
}

/* Apply pre-tokenizer steps from `step` on, then BPE. */
static int
pretok(tts_tokenizer *t, int step, const unsigned char *p, size_t n, int32_t **out, size_t *on, size_t *ocap,
       pcre2_match_data *md, char *err, size_t errlen)
{
	if (step == t->npre) {
		piece(t, p, n, out, on, ocap);
		return 0;
	}
	const pre_step *s = &t->pre[step];
	unsigned char *tmp = NULL;
	if (s->kind == PRE_BYTELEVEL && s->prefix_space && (n == 0 || p[0] != ' ')) {
		tmp = emalloc(n + 1);
		tmp[0] = ' ';
		memcpy(tmp + 1, p, n);
		p = tmp;
		n++;
	}
	int rc = 0;
	if (!s->re) {
		rc = pretok(t, step + 1, p, n, out, on, ocap, md, err, errlen);
		free(tmp);
		return rc;
	}
	size_t pos = 0, last = 0;
	while (pos <= n) {
		int r = pcre2_match(s->re, p, n, pos, pos ? PCRE2_NO_UTF_CHECK : 0, md, NULL);
		if (r == PCRE2_ERROR_NOMATCH)
			break;
		if (r < 0) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(r, msg, sizeof msg);
			rc = tts_fail(err, errlen, "pre-tokenizer regex: %s", (char *)msg);
			break;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t ms = ov[0], me = ov[1];
		if (me == ms) {          /* empty match: step one character */
			pos = ms + 1;
			while (pos < n && (p[pos] & 0xC0) == 0x80)
				pos++;
			continue;
		}
		if (ms > last && !s->removed && (rc = pretok(t, step + 1, p + last, ms - last, out, on, ocap, md, err, errlen)))
			break;
		if ((rc = pretok(t, step + 1, p + ms, me - ms, out, on, ocap, md, err, errlen)))
			break;
		last = pos = me;
	}
	if (!rc && last < n && !s->removed)
		rc = pretok(t, step + 1, p + last, n - last, out, on, ocap, md, err, errlen);
	free(tmp);
	return rc;
}

static int
is_word(unsigned char c)
{
	return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The leftmost-longest added token in p[from..n): its index, start, end
 * (with lstrip/rstrip whitespace); -1 if none. */
static int
find_added(const tts_tokenizer *t, const unsigned char *p, size_t n, size_t from, int split_special,
	   size_t *ms, size_t *me)
{
	for (size_t i = from; i < n; i++) {
		int best = -1;
		for (int *k = t->first[p[i]]; k && *k >= 0; k++) {
			const added_tok *a = &t->added[*k];
			if ((split_special && a->special) || a->len > n - i || memcmp(p + i, a->s, a->len) != 0)
				continue;
			if (a->single_word && ((i > 0 && is_word(p[i - 1])) || (i + a->len < n && is_word(p[i + a->len]))))
				continue;
			if (best < 0 || a->len > t->added[best].len)
				best = *k;
		}
		if (best >= 0) {
			const added_tok *a = &t->added[best];
			*ms = i;
			*me = i + a->len;
			if (a->lstrip)
				while (*ms > from && is_ws(p[*ms - 1]))
					(*ms)--;
			if (a->rstrip)
				while (*me < n && is_ws(p[*me]))
					(*me)++;
			return best;
		}
	}
	return -1;
}

static int
valid_utf8(const unsigned char *s, size_t n, size_t *bad)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		int cp = utf8_next(s, n, &j);
		/* reject overlong forms, surrogates, > U+10FFFF */
		int len = (int)(j - i);
		if (cp < 0 || (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
			*bad = i;
			return 0;
		}
		i = j;
	}
	return 1;
}

int
tts_tokenize(const tts_tokenizer *tc, const char *text, size_t len, int flags, int32_t **ids, size_t *n,
	     char *err, size_t errlen)
{
	tts_tokenizer *t = (tts_tokenizer *)tc;   /* the piece cache is mutable state */
	const unsigned char *p = (const unsigned char *)text;
	size_t bad, on = 0, ocap = 0;
	int32_t *out = NULL;
	*ids = NULL;
	*n = 0;
	if (!valid_utf8(p, len, &bad))
		return tts_fail(err, errlen, "invalid UTF-8 at byte %zu", bad);
	pcre2_match_data *md = pcre2_match_data_create(4, NULL);
	size_t pos = 0, ms, me;
	int rc = 0;
	while (pos < len && !rc) {
		int k = find_added(t, p, len, pos, flags & TTS_TOK_SPLIT_SPECIAL, &ms, &me);
		size_t seg_end = k >= 0 ? ms : len;
		if (seg_end > pos)
			rc = pretok(t, 0, p + pos, seg_end - pos, &out, &on, &ocap, md, err, errlen);
		if (k >= 0 && !rc)
			push_ids(&out, &on, &ocap, &t->added[k].id, 1);
		pos = k >= 0 ? me : len;
	}
	pcre2_match_data_free(md);
	if (rc) {
		free(out);
		return -1;
	}
	if (flags & TTS_TOK_ADD_SPECIAL) {
		int have = t->nprefix == 0 ||
			   (on >= (size_t)t->nprefix && memcmp(out, t->prefix, (size_t)t->nprefix * sizeof *out) == 0);
		if (t->nprefix && !have) {
			push_ids(&out, &on, &ocap, t->prefix, (size_t)t->nprefix);   /* grow, then move to the front */
			memmove(out + t->nprefix, out, (on - (size_t)t->nprefix) * sizeof *out);
			memcpy(out, t->prefix, (size_t)t->nprefix * sizeof *out);
		}
		if (t->nsuffix)
			push_ids(&out, &on, &ocap, t->suffix, (size_t)t->nsuffix);
	}
	if (!out)
		out = emalloc(sizeof *out);
	*ids = out;
	*n = on;
	return 0;
}

/* -------------------------------------------------------------- decode */

/* Length of the valid UTF-8 sequence that lead byte c starts (0: invalid
 * lead), and the allowed range of its second byte. */
static int
lead(unsigned c, unsigned *lo, unsigned *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c < 0x80) return 1;
	if (c >= 0xC2 && c <= 0xDF) return 2;
	if (c >= 0xE0 && c <= 0xEF) {
		if (c == 0xE0) *lo = 0xA0;
		if (c == 0xED) *hi = 0x9F;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (c == 0xF0) *lo = 0x90;
		if (c == 0xF4) *hi = 0x8F;
		return 4;
	}
	return 0;
}

static const char repl[] = "\xEF\xBF\xBD";

/* Decode st->b plus bytes; keep an incomplete valid prefix at the end
 * unless final. */
static void
utf8_run(tts_utf8 *st, const unsigned char *in, size_t n, int final, tts_str *out)
{
	size_t i = 0;
	for (;;) {
		/* Refill the pending sequence from the input. */
		if (st->n == 0) {
			/* fast path: copy a run of ASCII */
			size_t j = i;
			while (j < n && in[j] < 0x80)
				j++;
			if (j > i)
				tts_str_add(out, in + i, j - i);
			i = j;
			if (i == n)
				break;
			st->b[st->n++] = in[i++];
		}
		unsigned lo, hi;
		int need = lead(st->b[0], &lo, &hi);
		if (need == 0) {
			tts_str_add(out, repl, 3);
			memmove(st->b, st->b + 1, (size_t)--st->n);
			continue;
		}
		/* Check the continuation bytes we hold, then take more. */
		int k = 1, broken = 0;
		for (; k < st->n; k++) {
			unsigned c = st->b[k], l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
			if (c < l || c > h) {
				broken = 1;
				break;
			}
		}
		while (!broken && st->n < need && i < n) {
			unsigned c = in[i], l = st->n == 1 ? lo : 0x80, h = st->n == 1 ? hi : 0xBF;
			if (c < l || c > h) {
				broken = 1;
				k = st->n;
				break;
			}
			st->b[st->n++] = in[i++];
			k = st->n;
		}
		if (broken) {            /* the maximal subpart b[0..k) is one U+FFFD */
			tts_str_add(out, repl, 3);
			memmove(st->b, st->b + k, (size_t)(st->n - k));
			st->n -= k;
			continue;
		}
		if (st->n == need) {
			tts_str_add(out, st->b, (size_t)need);
			st->n = 0;
			continue;
		}
		/* incomplete and the input is exhausted */
		if (final) {
			tts_str_add(out, repl, 3);
			st->n = 0;
		}
		break;
	}
}

void
tts_utf8_feed(tts_utf8 *st, const char *bytes, size_t n, tts_str *out)
{
	utf8_run(st, (const unsigned char *)bytes, n, 0, out);
}

void
tts_utf8_finish(tts_utf8 *st, tts_str *out)
{
	utf8_run(st, NULL, 0, 1, out);
}

int
tts_detokenize(const tts_tokenizer *t, const int32_t *ids, size_t n, int skip_special, tts_str *out,
	       char *err, size_t errlen)
{
	tts_utf8 st = {{0}, 0};
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *b = tts_token_bytes(t, ids[i], &len);
		if (!b)
			return tts_fail(err, errlen, "token id %d is not in the vocabulary (size %d)", ids[i], t->size);
		if (skip_special && t->special[ids[i]])
			continue;
		tts_utf8_feed(&st, b, len, out);
	}
	tts_utf8_finish(&st, out);
	if (!out->p)
		tts_str_add(out, "", 0);
	return 0;
}
