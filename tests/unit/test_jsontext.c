/* test_jsontext.c — the JSON parser and printer against jansson (the
 * reference): the same texts accepted and rejected, the same values built,
 * on hand-picked cases, on random values and on random mutations of them. */
#include "jsontext.h"
#include "tap.h"
#include "tts.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 12345;

static double
p10(uint64_t k)
{
	double x = 1;
	while (k--)
		x *= 10;
	return x;
}

static uint64_t
rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static json_t *
ref_parse(const char *s, size_t n)
{
	json_error_t err;
	return json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
}

static json_t *
my_parse(const char *s, size_t n)
{
	char err[200];
	return jsontext_parse(s, n, err, sizeof err);
}

/* 1 when both parsers agree on s: both reject, or both accept and build
 * equal values. */
static int
agree(const char *s, size_t n)
{
	json_t *a = ref_parse(s, n), *b = my_parse(s, n);
	int same = (!a && !b) || (a && b && json_equal(a, b));
	json_decref(a);
	json_decref(b);
	return same;
}

static const char *cases[] = {
	"{}", "[]", "{\"a\":1}", " { \"a\" : [ 1 , 2.5 , -3e2 , true , false , null ] } ",
	"\"x\"", "0", "-0", "-0.0", "1e5", "1E+5", "1e-5", "0.5", "123456789012345678",
	"1234567890123456789", "9223372036854775807", "-9223372036854775808",
	"9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "1e-400",
	"01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "tru", "nul",
	"truex", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}", "{1:2}",
	"{'a':1}", "[1 2]", "[", "{", "\"abc", "\"a\\\"b\"", "\"\\u0041\"", "\"\\u00e9\"",
	"\"\\u0000\"", "{\"\\u0000k\":1}", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"",
	"\"\\ud83dx\"", "\"\\ud83d\\u0041\"", "\"\\x41\"", "\"\\u12\"", "\"\\u12g4\"",
	"\"tab\there\"", "\"nl\nhere\"", "\"\\/\\b\\f\\n\\r\\t\"", "\"\xc3\xa9\"",
	"\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"",
	"\"\xf0\x9f\x98\x80\"", "\"\xe0\x80\xaf\"", "\"\xff\"", "\"\x7f\"", "", "   ",
	"{}{}", "[] x", "{\"a\":{\"b\":{\"c\":[[[]]]}}}", "{\"a\":1,\"a\":2}",
	"\"0123456789abcdef0123456789abcdef\\n0123456789abcdef\xe4\xb8\x96\"",
	"[1.7976931348623157e308, 5e-324, 2.2250738585072014e-308]",
};

static char *
random_string(size_t *n, int nul)
{
	static const char *pieces[] = { "a", "hello ", "\"", "\\", "/", "\n", "\t", "\x01",
					"\x1f", "\x7f", "\xc3\xa9", "\xe4\xb8\x96",
					"\xf0\x9f\x98\x80", "0123456789abcdef" };
	size_t np = rnd() % 12, len = 0;
	char *s = emalloc(np * 16 + 2);
	for (size_t i = 0; i < np; i++) {
		if (nul && rnd() % 16 == 0) {
			s[len++] = 0;
			continue;
		}
		const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	s[len] = 0;
	*n = len;
	return s;
}

static json_t *
random_value(int depth)
{
	size_t n;
	char *s;
	json_t *v;
	switch (rnd() % (depth < 4 ? 8 : 6)) {
	case 0: return json_null();
	case 1: return json_boolean(rnd() & 1);
	case 2: return json_integer((json_int_t)(rnd() >> (rnd() % 64)) * ((rnd() & 1) ? 1 : -1));
	case 3: {
		double d;
		uint64_t bits = rnd();
		memcpy(&d, &bits, sizeof d);
		if (!isfinite(d) || rnd() % 2)
			d = (double)(int64_t)(rnd() % 2000000) / 1000.0;
		return json_real(d);
	}
	case 4:
	case 5:
		s = random_string(&n, 1);
		v = json_stringn(s, n);
		free(s);
		return v;
	case 6:
		v = json_array();
		for (uint64_t i = rnd() % 5; i > 0; i--)
			json_array_append_new(v, random_value(depth + 1));
		return v;
	default:
		v = json_object();
		for (uint64_t i = rnd() % 5; i > 0; i--) {
			s = random_string(&n, 0);
			json_object_setn_new(v, s, n, random_value(depth + 1));
			free(s);
		}
		return v;
	}
}

int
main(int argc, char **argv)
{
	tts_init(argc, argv);
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (!agree(cases[i], strlen(cases[i]))) {
			bad++;
			printf("# disagree on: %s\n", cases[i]);
		}
	}
	ok(bad == 0, "%zu hand-picked texts: same verdict and value as jansson",
	   sizeof cases / sizeof cases[0]);

	int rt_bad = 0, mut_bad = 0, ref_bad = 0;
	struct tts_buf b = { 0 };
	for (int i = 0; i < 3000; i++) {
		json_t *v = random_value(0);
		/* our printer, read back by us and by jansson */
		b.len = 0;
		jsontext_print(&b, v);
		json_t *mine = my_parse(b.p, b.len), *ref = ref_parse(b.p, b.len);
		rt_bad += !(mine && json_equal(v, mine));
		ref_bad += !(ref && json_equal(v, ref));
		json_decref(mine);
		json_decref(ref);
		/* jansson's printer (with \u escapes), read by both */
		size_t flags = JSON_ENCODE_ANY | JSON_ALLOW_NUL |
			       ((rnd() & 1) ? JSON_ENSURE_ASCII : 0) |
			       ((rnd() & 1) ? JSON_INDENT(2) : JSON_COMPACT);
		char *text = json_dumps(v, flags);
		size_t n = strlen(text);
		rt_bad += !agree(text, n);
		/* mutations: replace, delete or insert one byte */
		for (int m = 0; m < 20 && n > 0; m++) {
			static const char ins[] = "\"\\{}[],:01-.eE+u\x01\x80\xc3 tfn";
			char *t = emalloc(n + 2);
			size_t k = rnd() % n, tn = n;
			memcpy(t, text, n);
			switch (rnd() % 3) {
			case 0: t[k] = ins[rnd() % (sizeof ins - 1)]; break;
			case 1: memmove(t + k, t + k + 1, n - k - 1); tn--; break;
			default:
				memmove(t + k + 1, t + k, n - k);
				t[k] = ins[rnd() % (sizeof ins - 1)];
				tn++;
			}
			if (!agree(t, tn)) {
				if (mut_bad++ < 5)
					printf("# disagree on mutation: %.*s\n", (int)tn, t);
			}
			free(t);
		}
		free(text);
		json_decref(v);
	}
	free(b.p);
	ok(rt_bad == 0, "3000 random values: printed and parsed back equal (%d bad)", rt_bad);
	ok(ref_bad == 0, "jansson reads our printer's text as the same value (%d bad)", ref_bad);
	ok(mut_bad == 0, "60000 mutated texts: same verdict and value as jansson (%d bad)",
	   mut_bad);

	/* Reals: the fast paths (fixed-point printing, Clinger's parsing)
	 * against snprintf's shortest round trip and strtod. */
	int pr_bad = 0, rd_bad = 0;
	for (int i = 0; i < 100000; i++) {
		double d;
		if (i % 3 == 2) {
			d = (double)(rnd() >> 11) * 0x1p-53 * p10(rnd() % 4); /* [0, 1000) */
		} else if (i % 3) {
			uint64_t bits = rnd();
			memcpy(&d, &bits, sizeof d);
			d = fmod(fabs(d), 1e15);
			if (!isfinite(d) || d < 1e-4)
				d = (double)(rnd() % 100000) * 1e-4;
		} else {
			d = (double)(rnd() % 10000000) / p10(rnd() % 12);
		}
		if (rnd() & 1)
			d = -d;
		char want[40], got[48];
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(want, sizeof want, "%.*g", prec, d);
			if (strtod(want, NULL) == d)
				break;
		}
		if (!strpbrk(want, ".e"))
			strcat(want, ".0");
		json_t *v = json_real(d);
		b = (struct tts_buf){ 0 };
		jsontext_print(&b, v);
		snprintf(got, sizeof got, "%.*s", (int)b.len, b.p);
		free(b.p);
		json_decref(v);
		if (strcmp(want, got) != 0 && pr_bad++ < 5)
			printf("# %.17g: printed %s, snprintf %s\n", d, got, want);
		v = my_parse(got, strlen(got));
		if (!json_is_real(v) || json_real_value(v) != d)
			rd_bad++;
		json_decref(v);
		snprintf(got, sizeof got, "%.17g", d);
		v = my_parse(got, strlen(got));
		if (!v || json_number_value(v) != strtod(got, NULL))
			rd_bad++;
		json_decref(v);
	}
	ok(pr_bad == 0, "100000 reals print as snprintf's shortest round trip (%d differ)", pr_bad);
	ok(rd_bad == 0, "and read back exactly, as strtod reads them (%d bad)", rd_bad);

	int u_bad = 0;
	for (int i = 0; i < 20000; i++) {
		char u[40];
		size_t n = rnd() % sizeof u;
		for (size_t j = 0; j < n; j++)
			u[j] = (char)(rnd() % 4 ? rnd() % 0x80 : 0x80 + rnd() % 0x80);
		json_t *v = json_stringn(u, n);
		u_bad += jsontext_utf8_valid(u, n) != (v != NULL);
		json_decref(v);
	}
	ok(u_bad == 0, "UTF-8 validation agrees with jansson's (%d differ)", u_bad);

	char err[200];
	ok(!jsontext_parse("{\"a\":tru}", 9, err, sizeof err) &&
		   strcmp(err, "invalid token at column 6") == 0,
	   "error names the column: %s", err);
	char deep[5000];
	memset(deep, '[', sizeof deep);
	ok(!jsontext_parse(deep, sizeof deep, err, sizeof err) &&
		   strstr(err, "too deeply nested"),
	   "nesting is limited: %s", err);
	b = (struct tts_buf){ 0 };
	json_t *r = json_pack("{s:f,s:f,s:I,s:f}", "a", 1.0, "b", 0.1, "c",
			      (json_int_t)INT64_MIN, "d", -2.5e-10);
	jsontext_print(&b, r);
	const char *want = "{\"a\":1.0,\"b\":0.1,\"c\":-9223372036854775808,\"d\":-2.5e-10}";
	ok(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0,
	   "reals shortest and as reals, INT64_MIN: %.*s", (int)b.len, b.p);
	json_decref(r);
	free(b.p);
	return tap_done();
}
