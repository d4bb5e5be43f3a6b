/* test_answer.c — ans_equal on the corpus tests/fixtures/answers.tsv (its
 * header says the format), plus what every case must also satisfy:
 * symmetry, canonical forms that are fixed points, and the same verdict on
 * canonical forms as on raw ones.  Then extraction and hostile inputs. */
#include "answer.h"
#include "mathexpr.h"
#include "tap.h"
#include "tts.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
corpus(const char *path)
{
	FILE *f = fopen(path, "r");
	ok(f != NULL, "open %s", path);
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, cases = 0, bad = 0, asym = 0, unstable = 0, rawcanon = 0;
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		char *pred = line, *gold = strchr(pred, '\t');
		char *verdict = gold ? strchr(gold + 1, '\t') : NULL;
		if (!verdict) {
			ok(0, "%s:%d: expected pred<TAB>gold<TAB>verdict", path, lineno);
			continue;
		}
		*gold++ = 0;
		*verdict++ = 0;
		char *note = strchr(verdict, '\t');
		if (note)
			*note++ = 0;
		int want = verdict[0] == '=';
		cases++;
		int got = ans_equal(pred, gold);
		if (got != want) {
			char *cp = ans_canon(pred), *cg = ans_canon(gold);
			ok(0, "%s:%d: ans_equal(\"%s\", \"%s\") = %d, want %d (canon \"%s\" \"%s\")%s%s",
			   path, lineno, pred, gold, got, want, cp, cg, note ? " — " : "", note ? note : "");
			free(cp);
			free(cg);
			bad++;
		}
		if (ans_equal(gold, pred) != got) {
			ok(0, "%s:%d: not symmetric", path, lineno);
			asym++;
		}
		const char *sides[2] = {pred, gold};
		char *c[2];
		for (int k = 0; k < 2; k++) {
			c[k] = ans_canon(sides[k]);
			char *cc = ans_canon(c[k]);
			if (strcmp(c[k], cc)) {
				ok(0, "%s:%d: canon not a fixed point: \"%s\" -> \"%s\" -> \"%s\"",
				   path, lineno, sides[k], c[k], cc);
				unstable++;
			}
			free(cc);
		}
		if (ans_equal_canon(c[0], c[1]) != got) {
			ok(0, "%s:%d: verdict differs on canonical forms", path, lineno);
			rawcanon++;
		}
		free(c[0]);
		free(c[1]);
	}
	free(line);
	fclose(f);
	ok(cases >= 300, "corpus has %d cases (at least 300)", cases);
	ok(bad == 0, "corpus: %d of %d verdicts wrong", bad, cases);
	ok(asym == 0 && unstable == 0 && rawcanon == 0,
	   "corpus: symmetric, canon idempotent, same verdict on canonical forms");
}

static void
extraction(void)
{
	static const struct { const char *text; int rules; const char *want, *rule; } t[] = {
		{"so \\boxed{5} and then \\boxed{\\frac{1}{2}}.", ANS_ALL, "\\frac{1}{2}", "boxed"},
		{"nested \\boxed{\\frac{a}{b}}", ANS_ALL, "\\frac{a}{b}", "boxed"},
		{"\\boxed 7$", ANS_ALL, "7", "boxed"},
		{"\\fbox{3}", ANS_ALL, "3", "boxed"},
		{"\\boxed{4} then truncated \\boxed{12", ANS_ALL, "4", "boxed"},
		{"\\boxed{12", ANS_ALL, "12", "last_number"},
		{"\\boxed{}", ANS_ALL, NULL, NULL},
		{"\\boxed{} \\boxed{}", ANS_BOXED, NULL, NULL},
		{"#### 1,234\n", ANS_ALL, "1,234", "hash"},
		{"x #### 5\nmore\n#### 6", ANS_ALL, "6", "hash"},
		{"The answer is 18. Let me double check.", ANS_ALL, "18", "answer_is"},
		{"The final answer is $\\frac{1}{2}$. I hope it is correct.", ANS_ALL, "$\\frac{1}{2}$", "answer_is"},
		{"Final Answer: 42", ANS_ALL, "42", "answer_is"},
		{"so 3 apples and 4.5 pears", ANS_ALL, "4.5", "last_number"},
		{"It costs 1,080 dollars", ANS_ALL, "1,080", "last_number"},
		{"x = -7", ANS_ALL, "-7", "last_number"},
		{"3-5", ANS_ALL, "5", "last_number"},
		{"about 3/4 of it", ANS_ALL, "3/4", "last_number"},
		{"no numbers here", ANS_ALL, NULL, NULL},
		{"\\boxed{5}", ANS_HASH | ANS_SAYS, NULL, NULL},
		{"\\boxed{5}", ANS_LAST, "5", "last_number"},
	};
	for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
		const char *rule;
		char *a = ans_extract(t[k].text, t[k].rules, &rule);
		int good = (a == NULL) == (t[k].want == NULL) && (!a || !strcmp(a, t[k].want)) &&
			   (rule == NULL) == (t[k].rule == NULL) && (!rule || !strcmp(rule, t[k].rule));
		ok(good, "extract %zu: -> \"%s\" (%s)", k, a ? a : "(null)", rule ? rule : "-");
		free(a);
	}
	ok(ans_rules("boxed,hash") == (ANS_BOXED | ANS_HASH), "rules list");
	ok(ans_rules("boxed,nope") == -1, "unknown rule");
}

/* Hostile inputs: time grows linearly (checked loosely: 8x the input must
 * not cost more than 40x the time), nothing recurses without bound. */
static double
cost(char *(*make)(size_t), size_t n)
{
	char *s = make(n);
	double t0 = now_s();
	const char *rule;
	free(ans_extract(s, ANS_ALL, &rule));
	free(ans_canon(s));
	ans_equal(s, s + 1);
	double t = now_s() - t0;
	free(s);
	return t;
}

/* unit repeated n times. */
static char *
mk_repeat(size_t n, const char *unit)
{
	size_t l = strlen(unit);
	char *s = emalloc(l * n + 1), *p = s;
	for (size_t i = 0; i < n; i++, p += l)
		memcpy(p, unit, l);
	*p = 0;
	return s;
}

static char *mk_nested_box(size_t n) { return mk_repeat(n, "\\boxed{"); }
static char *mk_repeat_box(size_t n) { return mk_repeat(n, "\\boxed{}5 "); }

/* n opens, a middle, n closes: "{{{5}}}", "(((1)))". */
static char *
mk_nest(size_t n, char open, char mid, char close)
{
	char *s = emalloc(2 * n + 2), *p = s;
	memset(p, open, n);
	p += n;
	*p++ = mid;
	memset(p, close, n);
	p[n] = 0;
	return s;
}

static char *mk_braces(size_t n) { return mk_nest(n, '{', '5', '}'); }
static char *mk_parens(size_t n) { return mk_nest(n, '(', '1', ')'); }

static char *
mk_fracs(size_t n)
{
	char *s = mk_repeat(n + 1, "\\frac1");
	strcpy(s + 6 * n, "2");
	return s;
}

static void
hostile(void)
{
	struct { const char *name; char *(*make)(size_t); } h[] = {
		{"nested \\boxed{", mk_nested_box}, {"repeated \\boxed{}", mk_repeat_box},
		{"nested braces", mk_braces}, {"nested parentheses", mk_parens},
		{"chained \\frac1", mk_fracs},
	};
	for (size_t k = 0; k < sizeof h / sizeof h[0]; k++) {
		double a = cost(h[k].make, 20000), b = cost(h[k].make, 160000);
		ok(b < 40 * a + 0.05, "linear on %s (%.4f s -> %.4f s)", h[k].name, a, b);
	}
	ok(!mx_parses("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"),
	   "nesting beyond MX_MAX_DEPTH does not parse");
}

int
main(void)
{
	const char *dir = getenv("FIXTURES");
	char path[4096];
	snprintf(path, sizeof path, "%s/answers.tsv", dir ? dir : "tests/fixtures");
	corpus(path);
	extraction();
	hostile();
	return tap_done();
}
