/* jsontext.c — JSON text to and from jansson values (see jsontext.h).
 * Grammar: RFC 8259.  Strings are scanned 16 bytes at a time with SSE2
 * where the compiler targets it (every x86-64), a byte at a time otherwise. */
#include "jsontext.h"
#include "tts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { MAX_DEPTH = 2048 }; /* jansson's JSON_PARSER_MAX_DEPTH */

void
tts_buf_reserve(struct tts_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	b->p = erealloc(b->p, cap);
	b->cap = cap;
}

/* ---- parsing ---------------------------------------------------------- */

struct parser {
	const char *s, *p, *end;
	char *err;
	size_t errsize;
	int depth;
	struct tts_buf scratch; /* unescaped strings, used as a stack */
};

static void *
fail(struct parser *ps, const char *fmt, ...)
{
	if (ps->err[0])
		return NULL; /* keep the first, innermost message */
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(ps->err, ps->errsize, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < ps->errsize)
		snprintf(ps->err + n, ps->errsize - (size_t)n, " at column %td",
			 ps->p - ps->s + 1);
	return NULL;
}

static inline void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
		ps->p++;
}

/* The first byte at or after p that is '"', '\\', a control character or
 * not ASCII. */
static inline const char *
scan_plain(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed compare: bytes >= 0x80 are negative, so below 0x20 too */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
					 _mm_cmplt_epi8(v, sp));
		int mask = _mm_movemask_epi8(m);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
			break;
		p++;
	}
	return p;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF), or 0. */
static int
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	int n;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0) lo = 0xa0;
		if (c == 0xed) hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0) lo = 0x90;
		if (c == 0xf4) hi = 0x8f;
	} else
		return 0;
	if (end - p < n || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int
jsontext_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
#ifdef __SSE2__
		while (end - p >= 16 &&
		       !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)p)))
			p += 16; /* 16 ASCII bytes */
#endif
		if (p == end)
			break;
		if (*p < 0x80) {
			p++;
			continue;
		}
		int k = utf8_len(p, end);
		if (!k)
			return 0;
		p += k;
	}
	return 1;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
	if (end - p < 4)
		return -1;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	*out = v;
	return 0;
}

static void
put_utf8(struct tts_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	tts_buf_add(b, u, n);
}

/* One escape after the backslash at ps->p, appended to scratch. */
static int
unescape(struct parser *ps)
{
	const char *p = ps->p + 1;
	char c = p < ps->end ? *p : 0;
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = c ? strchr(from, c) : NULL;
	if (k) {
		tts_buf_addc(&ps->scratch, to[k - from]);
		ps->p = p + 1;
		return 0;
	}
	unsigned cp, lo;
	if (c != 'u' || hex4(p + 1, ps->end, &cp))
		return fail(ps, "invalid escape"), -1;
	p += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(ps, "lone low surrogate"), -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, ps->end, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, "lone high surrogate"), -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		p += 6;
	}
	put_utf8(&ps->scratch, cp);
	ps->p = p;
	return 0;
}

/* The string at ps->p (at its '"'): *s and *n are its bytes, either in the
 * input or at *off in scratch (*s NULL then: scratch may move). */
static int
parse_str(struct parser *ps, const char **s, size_t *n, size_t *off)
{
	const char *run = ++ps->p;
	int escaped = 0;
	*off = ps->scratch.len;
	for (;;) {
		ps->p = scan_plain(ps->p, ps->end);
		if (ps->p == ps->end)
			return fail(ps, "unterminated string"), -1;
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			int k = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
			if (!k)
				return fail(ps, "invalid UTF-8"), -1;
			ps->p += k;
		} else if (c == '\\') {
			tts_buf_add(&ps->scratch, run, (size_t)(ps->p - run));
			if (unescape(ps))
				return -1;
			run = ps->p;
			escaped = 1;
		} else {
			return fail(ps, "control character in string"), -1;
		}
	}
	if (escaped) {
		tts_buf_add(&ps->scratch, run, (size_t)(ps->p - run));
		*s = NULL;
		*n = ps->scratch.len - *off;
	} else {
		*s = run;
		*n = (size_t)(ps->p - run);
	}
	ps->p++;
	return 0;
}

static const double p10[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Clinger's fast path: a decimal m x 10^e with m < 2^53 and |e| <= 22 is
 * one correctly rounded IEEE multiplication or division of two exact
 * doubles, so it equals what strtod gives.  0 when the number is outside
 * that case (the caller uses strtod). */
static int
fast_real(const char *p, const char *end, double *out)
{
	int neg = *p == '-';
	uint64_t m = 0;
	int e = 0, digits = 0;
	p += neg;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (m || *p != '0')
			digits++;
		m = m * 10 + (uint64_t)(*p - '0');
		if (digits > 15)
			return 0;
	}
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			if (m || *p != '0')
				digits++;
			m = m * 10 + (uint64_t)(*p - '0');
			e--;
			if (digits > 15)
				return 0;
		}
	}
	if (p < end) { /* the exponent */
		int eneg = 0, x = 0;
		p++;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; p < end; p++) {
			x = x * 10 + (*p - '0');
			if (x > 400)
				return 0;
		}
		e += eneg ? -x : x;
	}
	if (e < -22 || e > 22)
		return 0;
	double d = (double)m;
	d = e < 0 ? d / p10[-e] : d * p10[e];
	*out = neg ? -d : d;
	return 1;
}

static json_t *
parse_number(struct parser *ps)
{
	const char *p = ps->p, *start = p, *end = ps->end;
	int real = 0;
#define DIGIT(q) ((q) < end && *(q) >= '0' && *(q) <= '9')
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (DIGIT(p))
		while (DIGIT(p))
			p++;
	else
		return fail(ps, "invalid number");
	if (p < end && *p == '.') {
		real = 1;
		if (!DIGIT(p + 1))
			return ps->p = p + 1, fail(ps, "invalid number");
		for (p++; DIGIT(p); p++)
			;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!DIGIT(p))
			return ps->p = p, fail(ps, "invalid number");
		while (DIGIT(p))
			p++;
	}
#undef DIGIT
	size_t n = (size_t)(p - start);
	if (!real && n <= 18) { /* fits: no overflow possible */
		const char *q = start + (*start == '-');
		long long v = 0;
		for (; q < p; q++)
			v = v * 10 + (*q - '0');
		ps->p = p;
		return json_integer(*start == '-' ? -v : v);
	}
	double d;
	if (real && fast_real(start, p, &d)) {
		ps->p = p;
		return json_real(d);
	}
	char small[64], *buf = n < sizeof small ? small : emalloc(n + 1);
	memcpy(buf, start, n);
	buf[n] = 0;
	json_t *v = NULL;
	errno = 0;
	if (real) {
		double d = strtod(buf, NULL);
		if (isinf(d))
			fail(ps, "real number out of range");
		else
			v = json_real(d);
	} else {
		long long i = strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			fail(ps, "integer out of range");
		else
			v = json_integer(i);
	}
	if (buf != small)
		free(buf);
	ps->p = p;
	return v;
}

static json_t *parse_value(struct parser *ps);

/* Past the '{' or '[' at ps->p: 1 if the container is empty (its close
 * consumed too), else 0. */
static int
open_list(struct parser *ps, char close)
{
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return 1;
	}
	return 0;
}

/* After an item: 1 on ',' (another item follows), 0 on the close, -1 on
 * anything else. */
static int
next_item(struct parser *ps, char close)
{
	skip_ws(ps);
	if (ps->p < ps->end && (*ps->p == ',' || *ps->p == close))
		return *ps->p++ == ',';
	fail(ps, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
	return -1;
}

static json_t *
parse_array(struct parser *ps)
{
	json_t *a = json_array();
	int more = !open_list(ps, ']');
	while (more > 0) {
		json_t *v = parse_value(ps);
		if (!v) {
			more = -1;
			break;
		}
		json_array_append_new(a, v);
		more = next_item(ps, ']');
	}
	if (more == 0)
		return a;
	json_decref(a);
	return NULL;
}

/* One "key": value of an object into o; 0 or -1. */
static int
parse_member(struct parser *ps, json_t *o)
{
	const char *key;
	size_t klen, off;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, "expected a string key"), -1;
	if (parse_str(ps, &key, &klen, &off))
		return -1;
	if (memchr(key ? key : ps->scratch.p + off, 0, klen))
		return fail(ps, "NUL in an object key"), -1;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return fail(ps, "expected ':'"), -1;
	ps->p++;
	json_t *v = parse_value(ps);
	if (!v)
		return -1;
	/* scratch may have moved while parsing v: the key is at off */
	json_object_setn_new_nocheck(o, key ? key : ps->scratch.p + off, klen, v);
	ps->scratch.len = off;
	return 0;
}

static json_t *
parse_object(struct parser *ps)
{
	json_t *o = json_object();
	int more = !open_list(ps, '}');
	while (more > 0)
		more = parse_member(ps, o) ? -1 : next_item(ps, '}');
	if (more == 0)
		return o;
	json_decref(o);
	return NULL;
}

static json_t *
parse_literal(struct parser *ps, const char *word, json_t *v)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, "invalid token");
	ps->p += n;
	return v;
}

static json_t *
parse_value(struct parser *ps)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	json_t *v;
	const char *s;
	size_t n, off;
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > MAX_DEPTH)
			return fail(ps, "too deeply nested");
		v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
		ps->depth--;
		return v;
	case '"':
		if (parse_str(ps, &s, &n, &off))
			return NULL;
		v = json_stringn_nocheck(s ? s : ps->scratch.p + off, n);
		ps->scratch.len = off;
		return v;
	case 't':
		return parse_literal(ps, "true", json_true());
	case 'f':
		return parse_literal(ps, "false", json_false());
	case 'n':
		return parse_literal(ps, "null", json_null());
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		return fail(ps, "invalid token");
	}
}

json_t *
jsontext_parse(const char *s, size_t n, char *err, size_t errsize)
{
	static _Thread_local struct tts_buf scratch;
	struct parser ps = { s, s, s + n, err, errsize, 0, scratch };
	err[0] = 0;
	ps.scratch.len = 0;
	json_t *v = parse_value(&ps);
	if (v) {
		skip_ws(&ps);
		if (ps.p != ps.end) {
			fail(&ps, "end of input expected");
			json_decref(v);
			v = NULL;
		}
	}
	scratch = ps.scratch; /* keep the buffer for the next call */
	return v;
}

/* ---- printing --------------------------------------------------------- */

/* The first byte at or after p that JSON needs escaped: '"', '\\' or a
 * control character. */
static inline const char *
scan_print(const char *p, const char *end)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i hi3 = _mm_set1_epi8((char)0xe0), zero = _mm_setzero_si128();
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i ctl = _mm_cmpeq_epi8(_mm_and_si128(v, hi3), zero); /* < 0x20 */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
					 ctl);
		int mask = _mm_movemask_epi8(m);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\' || c < 0x20)
			break;
		p++;
	}
	return p;
}

/* A JSON string: escapes for '"', '\\' and control characters; everything
 * else (UTF-8 included) as it is. */
static void
print_string(struct tts_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = s, *end = s + n;
	tts_buf_reserve(b, n + 2);
	tts_buf_addc(b, '"');
	for (;;) {
		const char *q = scan_print(p, end);
		tts_buf_add(b, p, (size_t)(q - p));
		if (q == end)
			break;
		unsigned char c = (unsigned char)*q;
		char e[6] = { '\\', 0 };
		size_t en = 2;
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\t': e[1] = 't'; break;
		case '\r': e[1] = 'r'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			en = 6;
		}
		tts_buf_add(b, e, en);
		p = q + 1;
	}
	tts_buf_addc(b, '"');
}

/* A fast path for print_real, for 1e-3 <= |d| < 1e15, where %g prints
 * fixed-point, in exact integer arithmetic: |d| = M / 2^s exactly; for
 * k = 0, 1, ... decimals take m = round(M 10^k / 2^s) and stop at the first
 * k where m / 10^k is nearer to d than half the gap to the neighbouring
 * doubles, i.e. where strtod reads it back as d.  Ties count as not read
 * back (strtod's ties-to-even could go either way), so the text is never
 * wrong and at most one digit longer than needed in that rare case.
 * Bounds: k <= 19 keeps 10^k in 64 bits, M 10^k < 2^53 10^19 < 2^117 and
 * m 2^s < 10^17 2^63 < 2^120 in 128. */
static int
print_real_fixed(struct tts_buf *b, double d)
{
	typedef unsigned __int128 u128;
	double a = fabs(d);
	if (!(a >= 1e-3 && a < 1e15))
		return 0;
	int e2;
	uint64_t M = (uint64_t)ldexp(frexp(a, &e2), 53); /* a = M 2^(e2-53) */
	int s = 53 - e2;                                  /* > 0 in this range */
	/* at most 17 significant digits: k <= 16 - floor(log10 a) (log10 may
	 * be off by one at a power of ten: that only moves the budget) */
	int kmax = 16 - (int)floor(log10(a));
	if (kmax > 19)
		kmax = 19;
	u128 one = (u128)1 << s;
	uint64_t tenk = 1;
	for (int k = 0; k <= kmax; k++, tenk *= 10) {
		u128 t = (u128)M * tenk;
		uint64_t m = (uint64_t)(t >> s);
		u128 r = t - ((u128)m << s);
		if (2 * r > one || (2 * r == one && (m & 1)))
			m++; /* to nearest, ties to even, as printf */
		u128 ms = (u128)m << s;
		int below = ms < t;
		u128 diff = below ? t - ms : ms - t;
		/* Half the gap to the next double is 2^-s / 2, scaled by 10^k 2^s:
		 * 10^k / 2; below a power of two the gap is half as wide. */
		int edge = below && M == (uint64_t)1 << 52;
		if ((diff << (edge ? 2 : 1)) >= tenk)
			continue;
		char txt[48], *q = txt + sizeof txt;
		for (int i = 0; i < k; i++, m /= 10)
			*--q = (char)('0' + m % 10);
		if (k > 0)
			*--q = '.';
		do
			*--q = (char)('0' + m % 10);
		while (m /= 10);
		if (d < 0)
			*--q = '-';
		tts_buf_add(b, q, (size_t)(txt + sizeof txt - q));
		if (k == 0)
			tts_buf_add(b, ".0", 2);
		return 1;
	}
	return 0;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double,
 * with ".0" added when it would read back as an integer. */
static void
print_real(struct tts_buf *b, double d)
{
	char s[40];
	int n = 0;
	if (print_real_fixed(b, d))
		return;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(s, sizeof s - 2, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (!strpbrk(s, ".eEn")) { /* "n": inf/nan cannot be built by jansson */
		memcpy(s + n, ".0", 3);
		n += 2;
	}
	tts_buf_add(b, s, (size_t)n);
}

static void
print_int(struct tts_buf *b, long long v)
{
	char s[24], *p = s + sizeof s;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	tts_buf_add(b, p, (size_t)(s + sizeof s - p));
}

void
jsontext_print(struct tts_buf *b, const json_t *v)
{
	const char *key;
	size_t klen, i;
	json_t *x;
	int first = 1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		tts_buf_addc(b, '{');
		json_object_keylen_foreach((json_t *)v, key, klen, x) {
			if (!first)
				tts_buf_addc(b, ',');
			first = 0;
			print_string(b, key, klen);
			tts_buf_addc(b, ':');
			jsontext_print(b, x);
		}
		tts_buf_addc(b, '}');
		break;
	case JSON_ARRAY:
		tts_buf_addc(b, '[');
		json_array_foreach(v, i, x) {
			if (i)
				tts_buf_addc(b, ',');
			jsontext_print(b, x);
		}
		tts_buf_addc(b, ']');
		break;
	case JSON_STRING:
		print_string(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		print_int(b, json_integer_value(v));
		break;
	case JSON_REAL:
		print_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		tts_buf_add(b, "true", 4);
		break;
	case JSON_FALSE:
		tts_buf_add(b, "false", 5);
		break;
	case JSON_NULL:
		tts_buf_add(b, "null", 4);
		break;
	}
}
