/* safetensors.c — one .safetensors file, memory-mapped and checked:
 * 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
 * then the data; offsets are relative to the end of the header.  Checks:
 * the header fits the file, every tensor's bytes lie inside the data and
 * equal dtype size x elements, no two tensors share bytes. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tts.h"
#include "weights.h"

#define MAX_HEADER (100u << 20)

static int
get_u64(json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* One header entry -> t (data relative to the data section start). */
static int
parse_entry(const char *path, const char *name, json_t *e, uint64_t dlen, tts_wtensor *t,
	    char *err, size_t errlen)
{
	if (!json_is_object(e))
		return tts_fail(err, errlen, "%s: header: %s: expected an object", path, name);
	const char *ds = json_string_value(json_object_get(e, "dtype"));
	json_t *shape = json_object_get(e, "shape"), *offs = json_object_get(e, "data_offsets");
	if (!ds)
		return tts_fail(err, errlen, "%s: header: %s: no dtype", path, name);
	if ((t->dtype = tts_wdtype_from_name(ds)) < 0)
		return tts_fail(err, errlen, "%s: header: %s: unknown dtype %s", path, name, ds);
	if (!json_is_array(shape) || json_array_size(shape) > 8)
		return tts_fail(err, errlen, "%s: header: %s: shape must be an array of at most 8 sizes", path, name);
	uint64_t numel = 1;
	t->ndim = (int)json_array_size(shape);
	for (int i = 0; i < t->ndim; i++) {
		uint64_t s;
		if (get_u64(json_array_get(shape, (size_t)i), &s) || s > (1ULL << 40))
			return tts_fail(err, errlen, "%s: header: %s: bad shape", path, name);
		t->shape[i] = (int64_t)s;
		if (s && numel > UINT64_MAX / s / 8)
			return tts_fail(err, errlen, "%s: header: %s: shape too large", path, name);
		numel *= s;
	}
	uint64_t b, e_;
	if (!json_is_array(offs) || json_array_size(offs) != 2 ||
	    get_u64(json_array_get(offs, 0), &b) || get_u64(json_array_get(offs, 1), &e_))
		return tts_fail(err, errlen, "%s: header: %s: data_offsets must be [begin, end]", path, name);
	if (e_ < b)
		return tts_fail(err, errlen, "%s: header: %s: data_offsets [%llu, %llu] end before begin",
			    path, name, (unsigned long long)b, (unsigned long long)e_);
	if (e_ > dlen)
		return tts_fail(err, errlen, "%s: %s: data_offsets [%llu, %llu] outside the %llu data bytes of the file",
			    path, name, (unsigned long long)b, (unsigned long long)e_, (unsigned long long)dlen);
	uint64_t want = numel * (uint64_t)tts_wdtype_size(t->dtype);
	if (e_ - b != want) {
		char sh[160];
		size_t o = 0;
		for (int i = 0; i < t->ndim && o < sizeof sh; i++)
			o += (size_t)snprintf(sh + o, sizeof sh - o, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
		if (!t->ndim)
			sh[0] = 0;
		return tts_fail(err, errlen, "%s: %s: %s [%s] is %llu elements = %llu bytes, but data_offsets [%llu, %llu] "
			    "hold %llu", path, name, ds, sh, (unsigned long long)numel, (unsigned long long)want,
			    (unsigned long long)b, (unsigned long long)e_, (unsigned long long)(e_ - b));
	}
	t->data = (const void *)(uintptr_t)b;    /* rebased by the caller */
	t->nbytes = want;
	return 0;
}

static int
by_offset(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const tts_wtensor *)a)->data, y = (uintptr_t)((const tts_wtensor *)b)->data;
	return x < y ? -1 : x > y;
}

int
tts_safetensors_open(tts_weights *w, const char *path, char *err, size_t errlen)
{
	int fi = tts_weights_map(w, path, err, errlen);
	if (fi < 0)
		return -1;
	const unsigned char *p = w->files[fi].map;
	size_t len = w->files[fi].len;
	if (len < 8)
		return tts_fail(err, errlen, "%s: %zu bytes: too short for a safetensors file (8-byte header length)", path, len);
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | p[i];
	if (hl > len - 8)
		return tts_fail(err, errlen, "%s: header length %llu runs past the end of the file (%zu bytes)",
			    path, (unsigned long long)hl, len);
	if (hl > MAX_HEADER)
		return tts_fail(err, errlen, "%s: header length %llu is implausible", path, (unsigned long long)hl);
	json_error_t je;
	json_t *h = json_loadb((const char *)p + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
	if (!h)
		return tts_fail(err, errlen, "%s: header is not JSON (length %llu): %s", path,
			    (unsigned long long)hl, je.text);
	if (!json_is_object(h)) {
		json_decref(h);
		return tts_fail(err, errlen, "%s: header is not a JSON object", path);
	}
	uint64_t dlen = len - 8 - hl;
	size_t n = json_object_size(h), k = 0;
	tts_wtensor *ts = ecalloc(n ? n : 1, sizeof *ts);
	const char *name;
	json_t *e;
	int rc = 0;
	json_object_foreach(h, name, e) {
		if (strcmp(name, "__metadata__") == 0)
			continue;
		ts[k].name = (char *)name;
		ts[k].file = fi;
		if ((rc = parse_entry(path, name, e, dlen, &ts[k], err, errlen)) < 0)
			goto out;
		k++;
	}
	/* No two tensors may share bytes (empty ones take none). */
	qsort(ts, k, sizeof *ts, by_offset);
	for (size_t i = 1; i < k; i++) {
		uintptr_t prev_end = (uintptr_t)ts[i - 1].data + ts[i - 1].nbytes;
		if (ts[i].nbytes && ts[i - 1].nbytes && (uintptr_t)ts[i].data < prev_end) {
			rc = tts_fail(err, errlen, "%s: tensors %s and %s overlap (bytes %llu..%llu and %llu..)", path,
				  ts[i - 1].name, ts[i].name, (unsigned long long)(uintptr_t)ts[i - 1].data,
				  (unsigned long long)prev_end, (unsigned long long)(uintptr_t)ts[i].data);
			goto out;
		}
	}
	for (size_t i = 0; i < k; i++) {
		ts[i].data = p + 8 + hl + (uintptr_t)ts[i].data;
		if ((rc = tts_weights_add(w, &ts[i], err, errlen)) < 0)
			goto out;
	}
out:
	free(ts);
	json_decref(h);
	return rc;
}
