/* record.c — record streams: JSONL or msgpack, either optionally zstd
 * (see record.h).
 *
 * Reading: bytes come from a file descriptor, through ZSTD_decompressStream
 * when the stream starts with the zstd magic; JSONL is cut into lines and
 * each line parsed by jsontext_parse (jsontext.h: strict JSON, as jansson's
 * json_loadb, several times faster); msgpack goes through msgpack-c's
 * streaming unpacker, one top-level map per record.  Buffers are bounded by
 * the longest record, so memory does not grow with the stream.
 *
 * Writing: each record is serialised whole into an output buffer, which is
 * written (or compressed) only at record boundaries.  JSONL is printed by
 * jsontext_print rather than json_dumpb so that reals print in their
 * shortest form that reads back to the same double, and always as reals
 * ("1.0", not "1").
 *
 * Mapping between the encodings: msgpack ints are JSON integers (a uint64
 * above INT64_MAX is an error: jansson integers are int64), float32/64 are
 * reals, str and bin are strings (they must be valid UTF-8; NULs are kept),
 * ext is an error, map keys must be strings without NULs (as in JSON text,
 * where jansson refuses them too). */
#include "record.h"
#include "jsontext.h"
#include "tts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

enum { CHUNK = 1 << 16 };
/* msgpack-c's unpacker holds at most MSGPACK_EMBED_STACK_SIZE (32) open
 * containers, the record's own map included; deeper would not read back. */
enum { MSGPACK_MAX_DEPTH = 32 };

/* ---- reading ---------------------------------------------------------- */

enum kind { K_UNKNOWN, K_JSONL, K_MSGPACK, K_EMPTY };

struct rec_reader {
	int fd;
	char *name;
	enum kind kind;
	int raw_eof;              /* read() returned 0 */
	int tolerant;             /* rec_allow_truncated */
	/* zstd input */
	ZSTD_DCtx *dctx;
	char *zin;                /* compressed bytes, zi.src */
	ZSTD_inBuffer zi;
	size_t zlast;             /* last ZSTD_decompressStream result: 0 = frame ended */
	/* decoded bytes (JSONL; and the first bytes, before msgpack starts) */
	struct tts_buf buf;
	size_t beg;               /* unconsumed bytes are buf.p[beg .. buf.len) */
	long long line;           /* JSONL: line of the last record */
	long long nrec;           /* records returned */
	msgpack_unpacker mp;
	msgpack_unpacked mres;
	char where[64];
	char *where_s;
};

/* Read up to n raw bytes; 0 at the end of the file. */
static size_t
raw_read(rec_reader *r, char *dst, size_t n)
{
	if (r->raw_eof)
		return 0;
	for (;;) {
		ssize_t k = read(r->fd, dst, n);
		if (k > 0)
			return (size_t)k;
		if (k == 0) {
			r->raw_eof = 1;
			return 0;
		}
		if (errno != EINTR)
			eprintf("%s: read error:", r->name);
	}
}

/* A damaged end of the stream: fatal, or a warning after
 * rec_allow_truncated. */
static void __attribute__((format(printf, 2, 3)))
truncated(rec_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!r->tolerant)
		eprintf("%s", msg);
	weprintf("%s: ignoring the rest", msg);
}

/* Read up to n decoded bytes (decompressed when the stream is zstd);
 * 0 at the end of the stream. */
static size_t
dec_read(rec_reader *r, char *dst, size_t n)
{
	if (!r->dctx)
		return raw_read(r, dst, n);
	ZSTD_outBuffer out = { dst, n, 0 };
	while (out.pos == 0) {
		if (r->zi.pos == r->zi.size) {
			r->zi.size = raw_read(r, r->zin, ZSTD_DStreamInSize());
			r->zi.pos = 0;
			if (r->zi.size == 0) {
				if (r->zlast != 0)
					truncated(r, "%s: truncated zstd frame", r->name);
				r->zlast = 0;
				return 0;
			}
		}
		size_t ret = ZSTD_decompressStream(r->dctx, &out, &r->zi);
		if (ZSTD_isError(ret))
			eprintf("%s: zstd: %s", r->name, ZSTD_getErrorName(ret));
		r->zlast = ret;
	}
	return out.pos;
}

/* Append decoded bytes to r->buf, moving unconsumed bytes to the front
 * first; 0 at the end of the stream. */
static size_t
fill(rec_reader *r)
{
	if (r->beg > 0) {
		memmove(r->buf.p, r->buf.p + r->beg, r->buf.len - r->beg);
		r->buf.len -= r->beg;
		r->beg = 0;
	}
	if (r->buf.cap - r->buf.len < CHUNK / 2)
		tts_buf_reserve(&r->buf, r->buf.cap ? r->buf.cap : CHUNK);
	size_t k = dec_read(r, r->buf.p + r->buf.len, r->buf.cap - r->buf.len);
	r->buf.len += k;
	return k;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decide the encoding from the first bytes. */
static void
detect(rec_reader *r)
{
	static const unsigned char zmagic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	char head[4];
	size_t n = 0, k;
	while (n < 4 && (k = raw_read(r, head + n, 4 - n)) > 0)
		n += k;
	if (n == 4 && memcmp(head, zmagic, 4) == 0) {
		r->dctx = ZSTD_createDCtx();
		if (!r->dctx)
			eprintf("%s: cannot create a zstd context", r->name);
		r->zin = emalloc(ZSTD_DStreamInSize());
		memcpy(r->zin, head, 4);
		r->zi = (ZSTD_inBuffer){ r->zin, 4, 0 };
		r->zlast = 1;
	} else {
		tts_buf_add(&r->buf, head, n);
	}
	/* The first decoded byte that is not JSON whitespace decides. */
	size_t i = 0;
	for (;;) {
		while (i < r->buf.len && is_space((unsigned char)r->buf.p[i]))
			i++;
		if (i < r->buf.len || fill(r) == 0)
			break;
	}
	if (i == r->buf.len) {
		r->kind = K_EMPTY;
		return;
	}
	unsigned char c = (unsigned char)r->buf.p[i];
	if (i == 0 && ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf)) {
		r->kind = K_MSGPACK;
		msgpack_unpacker_init(&r->mp, CHUNK);
		msgpack_unpacked_init(&r->mres);
		if (!msgpack_unpacker_reserve_buffer(&r->mp, r->buf.len))
			eprintf("out of memory");
		memcpy(msgpack_unpacker_buffer(&r->mp), r->buf.p, r->buf.len);
		msgpack_unpacker_buffer_consumed(&r->mp, r->buf.len);
		r->buf.len = 0;
	} else if (c == '{' || (c >= 0x20 && c < 0x7f)) {
		r->kind = K_JSONL; /* so "[1]" gets "expected an object" */
	} else {
		eprintf("%s: not a record stream (expected JSONL, msgpack or zstd)", r->name);
	}
}

rec_reader *
rec_open(const char *path)
{
	rec_reader *r = ecalloc(1, sizeof *r);
	if (!path || strcmp(path, "-") == 0) {
		r->fd = 0;
		r->name = estrdup("<stdin>");
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			eprintf("%s:", path);
		r->name = estrdup(path);
		posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	return r;
}

static json_t *
next_jsonl(rec_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf.p + r->beg, '\n', r->buf.len - r->beg);
		size_t end;
		if (nl) {
			end = (size_t)(nl - r->buf.p);
		} else if (fill(r) > 0) {
			continue;
		} else if (r->beg < r->buf.len) {
			end = r->buf.len; /* a last line without its newline */
		} else {
			return NULL;
		}
		const char *s = r->buf.p + r->beg;
		size_t n = end - r->beg;
		r->beg = nl ? end + 1 : end;
		r->line++;
		size_t i = 0;
		while (i < n && is_space((unsigned char)s[i]))
			i++;
		if (i == n)
			continue; /* blank lines are allowed */
		char err[160];
		json_t *v = jsontext_parse(s, n, err, sizeof err);
		if (!v && !nl && r->tolerant) {
			truncated(r, "%s:%lld: incomplete last line", r->name, r->line);
			return NULL;
		}
		if (!v)
			eprintf("%s:%lld: invalid JSON: %s", r->name, r->line, err);
		if (!json_is_object(v)) {
			json_decref(v);
			eprintf("%s:%lld: expected an object", r->name, r->line);
		}
		return v;
	}
}

/* A str/bin object's bytes: msgpack-c may leave ptr NULL for an empty
 * one, which jansson would take as no string and drop. */
static const char *
str_ptr(const msgpack_object *o)
{
	return o->via.str.size ? o->via.str.ptr : "";
}

static json_t *
from_msgpack(rec_reader *r, const msgpack_object *o)
{
	json_t *v = NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			eprintf("%s: integer %llu is out of range (at most %lld)", rec_where(r),
				(unsigned long long)o->via.u64, (long long)INT64_MAX);
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (!isfinite(o->via.f64))
			eprintf("%s: %g cannot be a JSON number", rec_where(r), o->via.f64);
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN: {
		/* str and bin share the layout of via.str / via.bin. */
		const char *s = str_ptr(o);
		if (!jsontext_utf8_valid(s, o->via.str.size))
			eprintf("%s: string is not valid UTF-8", rec_where(r));
		return json_stringn_nocheck(s, o->via.str.size);
	}
	case MSGPACK_OBJECT_ARRAY:
		v = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			json_array_append_new(v, from_msgpack(r, &o->via.array.ptr[i]));
		return v;
	case MSGPACK_OBJECT_MAP:
		v = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if (kv->key.type != MSGPACK_OBJECT_STR)
				eprintf("%s: map key is not a string", rec_where(r));
			const char *k = str_ptr(&kv->key);
			if (memchr(k, 0, kv->key.via.str.size))
				eprintf("%s: NUL in a map key", rec_where(r));
			if (!jsontext_utf8_valid(k, kv->key.via.str.size))
				eprintf("%s: map key is not valid UTF-8", rec_where(r));
			json_object_setn_new_nocheck(v, k, kv->key.via.str.size, from_msgpack(r, &kv->val));
		}
		return v;
	default:
		eprintf("%s: unsupported msgpack type (ext)", rec_where(r));
	}
}

static json_t *
next_msgpack(rec_reader *r)
{
	for (;;) {
		msgpack_unpack_return ret = msgpack_unpacker_next(&r->mp, &r->mres);
		if (ret == MSGPACK_UNPACK_SUCCESS) {
			r->nrec++;
			if (r->mres.data.type != MSGPACK_OBJECT_MAP)
				eprintf("%s: expected a map", rec_where(r));
			json_t *v = from_msgpack(r, &r->mres.data);
			/* Drop the zone now so the unpacker can reuse its buffer. */
			msgpack_unpacked_destroy(&r->mres);
			msgpack_unpacked_init(&r->mres);
			return v;
		}
		if (ret == MSGPACK_UNPACK_PARSE_ERROR)
			eprintf("%s: record %lld: invalid msgpack", r->name, r->nrec + 1);
		if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
			eprintf("%s: record %lld: nested deeper than %d levels, or out of memory",
				r->name, r->nrec + 1, MSGPACK_MAX_DEPTH);
		/* MSGPACK_UNPACK_CONTINUE: more bytes needed. */
		if (!msgpack_unpacker_reserve_buffer(&r->mp, CHUNK))
			eprintf("out of memory");
		size_t k = dec_read(r, msgpack_unpacker_buffer(&r->mp),
				    msgpack_unpacker_buffer_capacity(&r->mp));
		if (k == 0) {
			/* bytes left over, or a map begun and not finished (its
			 * complete elements are consumed: message_size counts them) */
			if (msgpack_unpacker_message_size(&r->mp) > 0) {
				truncated(r, "%s: record %lld: truncated msgpack map", r->name,
					  r->nrec + 1);
				r->mp.off = r->mp.used; /* nothing left to parse */
			}
			return NULL;
		}
		msgpack_unpacker_buffer_consumed(&r->mp, k);
	}
}

json_t *
rec_next(rec_reader *r)
{
	if (r->kind == K_UNKNOWN)
		detect(r);
	switch (r->kind) {
	case K_JSONL:
		return next_jsonl(r);
	case K_MSGPACK:
		return next_msgpack(r);
	default:
		return NULL;
	}
}

const char *
rec_where(const rec_reader *r)
{
	if (!r)
		return "<record>";
	rec_reader *w = (rec_reader *)r; /* a cache, not a change of state */
	free(w->where_s);
	if (r->kind == K_MSGPACK) {
		if (asprintf(&w->where_s, "%s: record %lld", r->name, r->nrec) < 0)
			eprintf("out of memory");
	} else if (asprintf(&w->where_s, "%s:%lld", r->name, r->line) < 0) {
		eprintf("out of memory");
	}
	return w->where_s;
}

void
rec_allow_truncated(rec_reader *r)
{
	r->tolerant = 1;
}

const char *
rec_name(const rec_reader *r)
{
	return r->name;
}

void
rec_close(rec_reader *r)
{
	if (!r)
		return;
	if (r->kind == K_MSGPACK) {
		msgpack_unpacked_destroy(&r->mres);
		msgpack_unpacker_destroy(&r->mp);
	}
	if (r->fd > 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->zin);
	free(r->buf.p);
	free(r->name);
	free(r->where_s);
	free(r);
}

/* ---- writing ---------------------------------------------------------- */

struct rec_writer {
	int fd;
	char *name;
	enum rec_format fmt;
	ZSTD_CCtx *cctx;
	int frame_open;           /* bytes compressed since the last frame end */
	struct tts_buf out;         /* whole records not yet written */
	struct tts_buf zout;        /* compressed bytes */
	msgpack_packer pk;
};

static void
write_all(rec_writer *w, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			eprintf("%s: write error:", w->name);
		}
		p += k;
		n -= (size_t)k;
	}
}

/* Compress w->out; end the frame when end is set. */
static void
compress_out(rec_writer *w, int end)
{
	ZSTD_inBuffer in = { w->out.p, w->out.len, 0 };
	ZSTD_EndDirective mode = end ? ZSTD_e_end : ZSTD_e_continue;
	if (in.size > 0)
		w->frame_open = 1;
	if (end && !w->frame_open)
		return;
	for (;;) {
		ZSTD_outBuffer o = { w->zout.p, w->zout.cap, 0 };
		size_t left = ZSTD_compressStream2(w->cctx, &o, &in, mode);
		if (ZSTD_isError(left))
			eprintf("%s: zstd: %s", w->name, ZSTD_getErrorName(left));
		write_all(w, w->zout.p, o.pos);
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	if (end)
		w->frame_open = 0;
}

/* Write out the buffered records (they end on a record boundary). */
static void
drain(rec_writer *w, int end_frame)
{
	if (w->cctx)
		compress_out(w, end_frame);
	else
		write_all(w, w->out.p, w->out.len);
	w->out.len = 0;
}

static int
pack_cb(void *data, const char *buf, size_t len)
{
	tts_buf_add(data, buf, len);
	return 0;
}

rec_writer *
rec_writer_open(const char *path, enum rec_format fmt, int zstd)
{
	rec_writer *w = ecalloc(1, sizeof *w);
	if (!path || strcmp(path, "-") == 0) {
		w->fd = 1;
		w->name = estrdup("<stdout>");
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (w->fd < 0)
			eprintf("%s:", path);
		w->name = estrdup(path);
	}
	if ((fmt == REC_MSGPACK || zstd) && isatty(w->fd))
		eprintf("%s: refusing to write %s to a terminal", w->name,
			zstd ? "zstd" : "msgpack");
	w->fmt = fmt;
	if (zstd) {
		w->cctx = ZSTD_createCCtx();
		if (!w->cctx)
			eprintf("cannot create a zstd context");
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, 3);
		tts_buf_reserve(&w->zout, ZSTD_CStreamOutSize());
	}
	tts_buf_reserve(&w->out, 2 * CHUNK);
	msgpack_packer_init(&w->pk, &w->out, pack_cb);
	return w;
}

static int
has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

rec_writer *
rec_writer_for(const char *path, const char *fmt_opt, int zstd_opt)
{
	enum rec_format fmt = REC_JSONL;
	int zstd = zstd_opt;
	if (path && strcmp(path, "-") != 0) {
		size_t n = strlen(path);
		if (has_suffix(path, n, ".zst")) {
			zstd = 1;
			n -= 4;
		}
		if (has_suffix(path, n, ".msgpack") || has_suffix(path, n, ".mpk"))
			fmt = REC_MSGPACK;
	}
	if (fmt_opt) {
		if (strcmp(fmt_opt, "jsonl") == 0 || strcmp(fmt_opt, "json") == 0)
			fmt = REC_JSONL;
		else if (strcmp(fmt_opt, "msgpack") == 0)
			fmt = REC_MSGPACK;
		else {
			fprintf(stderr, "%s: -f: expected jsonl or msgpack, got '%s'\n",
				argv0, fmt_opt);
			exit(2);
		}
	}
	return rec_writer_open(path, fmt, zstd);
}


static void
put_msgpack(rec_writer *w, msgpack_packer *pk, json_t *v, int depth)
{
	if ((json_is_object(v) || json_is_array(v)) && depth > MSGPACK_MAX_DEPTH)
		eprintf("%s: a record nested deeper than %d levels cannot be written as msgpack",
			w->name, MSGPACK_MAX_DEPTH);
	const char *key;
	size_t klen, i;
	json_t *x;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(v));
		json_object_keylen_foreach(v, key, klen, x) {
			msgpack_pack_str_with_body(pk, key, klen);
			put_msgpack(w, pk, x, depth + 1);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, x)
			put_msgpack(w, pk, x, depth + 1);
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(v));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(v));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	}
}

void
rec_put(rec_writer *w, json_t *rec)
{
	if (!json_is_object(rec))
		eprintf("rec_put: a record must be an object");
	if (w->fmt == REC_MSGPACK) {
		put_msgpack(w, &w->pk, rec, 1);
	} else {
		jsontext_print(&w->out, rec);
		tts_buf_addc(&w->out, '\n');
	}
	if (w->out.len >= CHUNK)
		drain(w, 0);
}

void
rec_flush(rec_writer *w)
{
	drain(w, 1);
}

void
rec_writer_close(rec_writer *w)
{
	if (!w)
		return;
	drain(w, 1);
	if (w->fd != 1 && close(w->fd) < 0)
		eprintf("%s: write error:", w->name);
	ZSTD_freeCCtx(w->cctx);
	free(w->out.p);
	free(w->zout.p);
	free(w->name);
	free(w);
}

/* ---- field helpers ---------------------------------------------------- */

static json_t *
field(rec_reader *r, json_t *rec, const char *key, int required)
{
	json_t *v = json_object_get(rec, key);
	if (!v && required)
		eprintf("%s: missing key \"%s\"", rec_where(r), key);
	return v;
}

static void __attribute__((noreturn))
wrong_type(rec_reader *r, const char *key, const char *want)
{
	eprintf("%s: key \"%s\" is not %s", rec_where(r), key, want);
}

const char *
rec_get_str(rec_reader *r, json_t *rec, const char *key)
{
	json_t *v = field(r, rec, key, 1);
	if (!json_is_string(v))
		wrong_type(r, key, "a string");
	return json_string_value(v);
}

long long
rec_get_int(rec_reader *r, json_t *rec, const char *key)
{
	json_t *v = field(r, rec, key, 1);
	if (!json_is_integer(v))
		wrong_type(r, key, "an integer");
	return json_integer_value(v);
}

double
rec_get_num(rec_reader *r, json_t *rec, const char *key)
{
	json_t *v = field(r, rec, key, 1);
	if (!json_is_number(v))
		wrong_type(r, key, "a number");
	return json_number_value(v);
}

const char *
rec_opt_str(rec_reader *r, json_t *rec, const char *key)
{
	json_t *v = field(r, rec, key, 0);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v))
		wrong_type(r, key, "a string");
	return json_string_value(v);
}

double
rec_opt_num(rec_reader *r, json_t *rec, const char *key, double dflt)
{
	json_t *v = field(r, rec, key, 0);
	if (!v || json_is_null(v))
		return dflt;
	if (!json_is_number(v))
		wrong_type(r, key, "a number");
	return json_number_value(v);
}
