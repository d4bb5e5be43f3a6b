/* answer.c — final answers: the canonical string form and the one
 * equivalence (see answer.h and tts-extract(1)); extraction is extract.c,
 * the expression evaluator mathexpr.c.
 *
 * Every pass here is a single scan (or a scan plus one brace-matching
 * stack), so a hostile answer costs time linear in its length.  The
 * canonical form follows the spirit of Qwen2.5-Math's strip_string
 * (evaluation/parser.py) without its known bugs: no unit word list applied
 * inside answers ("and", "east", single letters), units only after a
 * number, thousands separators removed only where the whole answer is one
 * number. */
#include "answer.h"
#include "mathexpr.h"
#include "strbuf.h"
#include "tts.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest answer canonicalised; the rest is cut (an answer is short). */
#define ANS_MAX 65536

static int isal(int c) { return isalpha((unsigned char)c); }
static int isdig(int c) { return isdigit((unsigned char)c); }
static int issp(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Copy the \command at s[*i] whole (so passes never split a name). */
static void
copy_cmd(strbuf *b, const char *s, size_t *i)
{
	sb_c(b, s[(*i)++]);
	while (isal(s[*i]))
		sb_c(b, s[(*i)++]);
}

/* ------------------------------------------------------------------ */
/* Canonical form: a fixed sequence of linear passes.                   */

/* Replace every from with to; a command (from ending in a letter) must not
 * run on into a letter ("\right" is not the start of "\rightarrow"). */
static char *
subst(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from);
	int cmd = from[0] == '\\' && isal(from[fl - 1]);
	const char *p = s, *q;
	strbuf b = {0};
	while ((q = strstr(p, from)) != NULL) {
		sb_add(&b, p, (size_t)(q - p));
		/* not a command when its backslash is escaped ("\\\\ " is a row end) */
		if ((cmd && isal(q[fl])) || (from[0] == '\\' && q > s && q[-1] == '\\')) {
			sb_add(&b, q, fl);
		} else {
			sb_str(&b, to);
		}
		p = q + fl;
	}
	sb_str(&b, p);
	free(s);
	return sb_done(&b);
}

static const char *const rewrites[][2] = {
	{"\\dfrac", "\\frac"}, {"\\tfrac", "\\frac"}, {"\\cfrac", "\\frac"},
	{"\\left", ""}, {"\\right", ""}, {"\\bigl", ""}, {"\\bigr", ""},
	{"\\Bigl", ""}, {"\\Bigr", ""}, {"\\big", ""}, {"\\Big", ""},
	{"\\displaystyle", ""}, {"\\boxed", ""}, {"\\fbox", ""},
	{"\\neq", "\\ne"}, {"\\leq", "\\le"}, {"\\geq", "\\ge"},
	{"^{\\circ}", ""}, {"^\\circ", ""}, {"\\circ", ""}, {"\xc2\xb0", ""},
	{"\\degrees", ""}, {"\\degree", ""},
	{"\\$", ""}, {"$", ""}, {"\\(", ""}, {"\\)", ""}, {"\\[", ""}, {"\\]", ""},
	{"\xe2\x88\x92", "-"}, {"\xc3\x97", "\\times "}, {"\xc3\xb7", "\\div "},
	{"\xcf\x80", "\\pi "}, {"\xe2\x88\x9e", "\\infty "}, {"\xe2\x89\xa4", "\\le "},
	{"\xe2\x89\xa5", "\\ge "}, {"\xe2\x88\x9a", "\\sqrt"},
	{"{,}", ","}, {"\\%", "%"}, {"\\,", " "}, {"\\;", " "}, {"\\:", " "}, {"\\ ", " "},
	{"\\qquad", " "}, {"\\quad", " "}, {"~", " "},
	{"\\varnothing", "\\emptyset"}, {"\\{\\}", "\\emptyset"}, {"\\infin", "\\infty"},
	{"\\lvert", "|"}, {"\\rvert", "|"}, {"\\vert", "|"},
	{"\\begin{bmatrix}", "\\begin{pmatrix}"}, {"\\end{bmatrix}", "\\end{pmatrix}"},
	{"\\begin{matrix}", "\\begin{pmatrix}"}, {"\\end{matrix}", "\\end{pmatrix}"},
	{"\\begin{smallmatrix}", "\\begin{pmatrix}"}, {"\\end{smallmatrix}", "\\end{pmatrix}"},
	{"\\end{array}", "\\end{pmatrix}"},
};

/* Whitespace to ' '; "\!" deleted, and after ",\!" the spaces too, so
 * "11,\! 111" is one number. */
static char *
pass_space(char *s)
{
	strbuf b = {0};
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == '!') {
			i++;
			if (b.n && b.s[b.n - 1] == ',')
				while (s[i + 1] == ' ')
					i++;
			continue;
		}
		sb_c(&b, issp(s[i]) ? ' ' : s[i]);
	}
	free(s);
	return sb_done(&b);
}

/* "\begin{array}{cc}" -> "\begin{pmatrix}" (the column spec goes). */
static char *
pass_array(char *s)
{
	const char *key = "\\begin{array}";
	size_t kl = strlen(key);
	const char *p = s, *q;
	strbuf b = {0};
	while ((q = strstr(p, key)) != NULL) {
		sb_add(&b, p, (size_t)(q - p));
		sb_str(&b, "\\begin{pmatrix}");
		p = q + kl;
		if (*p == '{') {
			const char *e = strchr(p, '}');
			p = e ? e + 1 : p;
		}
	}
	sb_str(&b, p);
	free(s);
	return sb_done(&b);
}

static const char *const textcmds[] = {
	"\\text", "\\textbf", "\\textit", "\\textrm", "\\textnormal", "\\mathrm",
	"\\mathbf", "\\mathit", "\\mbox", "\\operatorname", "\\textsf", "\\mathsf",
};

/* Length of the text command at s (including a following '{'), else 0. */
static size_t
textcmd(const char *s)
{
	if (*s != '\\')
		return 0;
	for (size_t k = 0; k < sizeof textcmds / sizeof textcmds[0]; k++) {
		size_t l = strlen(textcmds[k]);
		if (!strncmp(s, textcmds[k], l)) {
			size_t j = l;
			while (s[j] == ' ')
				j++;
			if (s[j] == '{')
				return j + 1;
		}
	}
	return 0;
}

/* Does s[0,n) hold a letter outside a \command? */
static int
bare_letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			while (i + 1 < n && isal(s[i + 1]))
				i++;
		} else if (isal(s[i])) {
			return 1;
		}
	}
	return 0;
}

static int
has_digit_or_cmd(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isdig(s[i]) || (s[i] == '\\' && i + 1 < n && isal(s[i + 1])))
			return 1;
	return 0;
}

/* A trailing \text{...} after a number is a unit and goes ("10\text{
 * dollars}" -> "10"); then every text command is unwrapped, braces and
 * all, in one pass with a stack. */
static char *
pass_text(char *s)
{
	size_t n = strlen(s);
	/* find the last text command and whether its group ends the string */
	size_t last = (size_t)-1;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\' && textcmd(s + i))
			last = i;
	if (last != (size_t)-1) {
		size_t j = last + textcmd(s + last);
		int d = 1;
		for (; j < n && d; j++)
			d += s[j] == '{' ? 1 : s[j] == '}' ? -1 : 0;
		size_t e = j;
		while (e < n && (s[e] == ' ' || s[e] == '.'))
			e++;
		if (!d && e == n && has_digit_or_cmd(s, last) && !bare_letters(s, last))
			s[last] = 0, n = last;
	}
	strbuf b = {0};
	char *st = emalloc(n + 1);
	size_t nst = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = textcmd(s + i);
		if (l) {
			st[nst++] = 1;
			i += l - 1;
			continue;
		}
		if (s[i] == '{')
			st[nst++] = 0;
		else if (s[i] == '}' && nst && st[--nst])
			continue;
		sb_c(&b, s[i]);
	}
	free(st);
	free(s);
	return sb_done(&b);
}

static char *
trim(char *s)
{
	size_t a = 0, n = strlen(s);
	while (a < n && s[a] == ' ')
		a++;
	while (n > a && (s[n - 1] == ' ' || s[n - 1] == '.'))
		n--;
	if (a < n && s[a] == ':')
		for (a++; a < n && s[a] == ' '; a++)
			;
	memmove(s, s + a, n - a);
	s[n - a] = 0;
	return s;
}

/* Words: "infinity"/"inf" -> \infty, "percent" -> %, " and "/" or "
 * between items -> ", "; letters inside \commands are left alone. */
static char *
pass_words(char *s)
{
	strbuf b = {0};
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		if (s[i] == '\\') {
			copy_cmd(&b, s, &i);
			continue;
		}
		if (!isal(s[i])) {
			sb_c(&b, s[i++]);
			continue;
		}
		size_t j = i;
		while (j < n && isal(s[j]))
			j++;
		size_t l = j - i;
		const char *w = s + i;
		if ((l == 8 && !strncasecmp(w, "infinity", 8)) || (l == 3 && !strncasecmp(w, "inf", 3))) {
			sb_str(&b, "\\infty");
		} else if (l == 7 && !strncasecmp(w, "percent", 7) && b.n) {
			while (b.n && b.s[b.n - 1] == ' ')
				b.n--;
			sb_c(&b, '%');
		} else if (((l == 3 && !strncasecmp(w, "and", 3)) || (l == 2 && !strncasecmp(w, "or", 2))) &&
			   i > 0 && s[i - 1] == ' ' && j < n && s[j] == ' ' && b.n) {
			while (b.n && (b.s[b.n - 1] == ' ' || b.s[b.n - 1] == ','))
				b.n--;
			if (b.n)
				sb_c(&b, ',');
		} else {
			sb_add(&b, w, l);
		}
		i = j;
	}
	free(s);
	return sb_done(&b);
}

/* Per top-level item, drop a "v =" / "v \in" / "v \to" prefix naming one
 * variable (a letter, maybe subscripted): "x = 5" -> "5", "x \in [1,2]". */
static char *
pass_vareq(char *s)
{
	strbuf b = {0};
	size_t n = strlen(s), i = 0;
	while (i <= n) {
		/* the item s[i, e) */
		size_t e = i;
		int d = 0;
		for (; e < n; e++) {
			char c = s[e];
			if (c == '(' || c == '[' || c == '{') d++;
			else if (c == ')' || c == ']' || c == '}') d--;
			else if (c == ',' && d <= 0) break;
		}
		size_t a = i;
		while (a < e && s[a] == ' ')
			a++;
		/* "250 \\times 10 = 2500": arithmetic, then its result */
		const char *eq = memchr(s + a, '=', e - a);
		if (eq && !memchr(eq + 1, '=', (size_t)(s + e - eq - 1)) && eq > s + a &&
		    !bare_letters(s + a, (size_t)(eq - s - a)) && has_digit_or_cmd(s + a, (size_t)(eq - s - a)) &&
		    eq + 1 < s + e && !strchr("<>!\\", eq[-1])) {
			sb_add(&b, eq + 1, (size_t)(s + e - eq - 1));
			if (e < n)
				sb_c(&b, ',');
			i = e + 1;
			continue;
		}
		size_t j = a;
		if (j < e && isal(s[j]) && (j + 1 >= e || !isal(s[j + 1]))) {
			j++;
			if (j < e && s[j] == '_') {
				j++;
				if (j < e && s[j] == '{') {
					while (j < e && s[j] != '}')
						j++;
				}
				j++;
			}
			while (j < e && s[j] == ' ')
				j++;
			size_t k = 0;
			if (j < e && s[j] == '=' && !memchr(s + j + 1, '=', e - j - 1))
				k = 1;
			else if (j + 3 <= e && (!strncmp(s + j, "\\in", 3) || !strncmp(s + j, "\\to", 3)) &&
				 (j + 3 == e || !isal(s[j + 3])))
				k = 3;
			/* "y = 2x + 1" stays an equation (compared as one) */
			if (k == 1 && bare_letters(s + j + 1, e - j - 1))
				k = 0;
			if (k && j + k < e)
				a = j + k;
			else
				a = i;
		} else {
			a = i;
		}
		sb_add(&b, s + a, e - a);
		if (e < n)
			sb_c(&b, ',');
		i = e + 1;
	}
	free(s);
	return sb_done(&b);
}

static int
is_unit_word(const char *w, size_t l)
{
	static const char *const u[] = {
		"cm", "mm", "km", "kg", "mg", "ml", "ft", "mph", "kmh", "dollars", "dollar",
		"cents", "cent", "inches", "inch", "feet", "foot", "meters", "meter",
		"metres", "metre", "miles", "mile", "hours", "hour", "hrs", "hr",
		"minutes", "minute", "mins", "min", "seconds", "second", "secs", "sec",
		"days", "day", "weeks", "week", "years", "year", "units", "unit",
		"degrees", "degree", "sq", "lbs", "lb", "oz", "pounds", "liters", "litres",
		"gallons", "grams", "gram", "kilograms",
	};
	for (size_t k = 0; k < sizeof u / sizeof u[0]; k++)
		if (strlen(u[k]) == l && !strncasecmp(w, u[k], l))
			return 1;
	return 0;
}

/* Trailing unit words after a number go: "12 inches", "5 square feet",
 * "2 cm^2", "5 m", "18dollars".  The first word must follow a space (or be a known
 * unit right after a digit), and what is left must hold no bare letter. */
static char *
pass_units(char *s)
{
	size_t n = strlen(s), e = n, cut = n;
	for (;;) {
		size_t j = e;
		/* an optional ^2, ^3, ^{2}, ^{3} */
		if (j >= 2 && (s[j - 1] == '2' || s[j - 1] == '3') && s[j - 2] == '^')
			j -= 2;
		else if (j >= 4 && s[j - 1] == '}' && s[j - 4] == '^' && s[j - 3] == '{')
			j -= 4;
		size_t w = j;
		while (w > 0 && isal(s[w - 1]))
			w--;
		if (w == j || (w > 0 && s[w - 1] == '\\'))
			break;
		if (w > 0 && s[w - 1] == ' ' && (j - w >= 2 || strchr("mgshlL", s[w]))) {
			cut = w;
			e = w;
			while (e > 0 && s[e - 1] == ' ')
				e--;
			continue;
		}
		if (w > 0 && isdig(s[w - 1]) && is_unit_word(s + w, j - w))
			cut = e = w;
		break;
	}
	/* a leading "x =" may stay: "x = 5 cm" */
	size_t v = 0;
	if (isal(s[0]) && !isal(s[1])) {
		v = 1;
		while (s[v] == ' ')
			v++;
		v = s[v] == '=' ? v + 1 : 0;
	}
	if (cut < n && e > v && (isalnum((unsigned char)s[e - 1]) || strchr("})]%", s[e - 1])) &&
	    !bare_letters(s + v, e - v) && strpbrk(s, "0123456789") &&
	    strpbrk(s, "0123456789") < s + e)
		s[e] = 0;
	return s;
}

/* Spaces go, except one after a \command before a letter ("\pi r"); then
 * ", " after every comma (so a list never reads as thousands). */
static char *
pass_squeeze(char *s)
{
	strbuf b = {0};
	int incmd = 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		if (c == ' ') {
			size_t j = i;
			while (s[j + 1] == ' ')
				j++;
			if (incmd && isal(s[j + 1]))
				sb_c(&b, ' ');
			incmd = 0;
			i = j;
			continue;
		}
		if (c == '\\')
			incmd = isal(s[i + 1]);
		else if (!isal(c))
			incmd = 0;
		sb_c(&b, c);
		if (c == ',')
			sb_c(&b, ' ');
	}
	free(s);
	/* no space before the end */
	while (b.n && b.s[b.n - 1] == ' ')
		b.s[--b.n] = 0;
	return sb_done(&b);
}

/* One LaTeX argument at s: a balanced group, a command name, or a letter
 * or digit.
 * Returns its length, 0 if none. */
static size_t
latex_arg(const char *s)
{
	if (*s == '{') {
		int d = 0;
		size_t i = 0;
		for (; s[i]; i++) {
			if (s[i] == '{') d++;
			else if (s[i] == '}' && --d == 0) return i + 1;
		}
		return 0;
	}
	if (*s == '\\') {
		size_t i = 1;
		while (isal(s[i]))
			i++;
		return i > 1 ? i : 0;
	}
	return isalnum((unsigned char)*s) ? 1 : 0;
}

typedef struct { long depth; int left; } pending;

/* Emit the next k arguments of a command: a single token gets braces; a
 * braced group is opened and the rest are owed when it closes. */
static void
owe_args(const char *s, size_t *i, strbuf *b, int k, pending **pd, size_t *npd, size_t *cap,
	 long *depth)
{
	while (k > 0) {
		size_t sp = *i;
		while (s[sp] == ' ')
			sp++;
		if (s[sp] == '{' || latex_arg(s + sp))
			*i = sp;
		if (s[*i] == '{') {
			EGROW(*pd, *npd, *cap, 8);
			(*pd)[(*npd)++] = (pending){*depth, k - 1};
			sb_c(b, '{');
			(*depth)++;
			(*i)++;
			return;
		}
		size_t l = latex_arg(s + *i);
		if (!l)
			return;
		sb_c(b, '{');
		sb_add(b, s + *i, l);
		sb_c(b, '}');
		*i += l;
		k--;
	}
}

/* \frac12 -> \frac{1}{2}, \frac{a}b -> \frac{a}{b}, \sqrt2 -> \sqrt{2}.  One
 * pass; the arguments still owed after a group are kept on a stack. */
static char *
pass_braces(char *s)
{
	strbuf b = {0};
	size_t n = strlen(s), npd = 0, cap = 0;
	pending *pd = NULL;
	long depth = 0;
	for (size_t i = 0; i < n;) {
		int nargs = 0;
		if (!strncmp(s + i, "\\frac", 5) && !isal(s[i + 5]))
			nargs = 2, sb_str(&b, "\\frac"), i += 5;
		else if (!strncmp(s + i, "\\sqrt", 5) && !isal(s[i + 5]))
			nargs = 1, sb_str(&b, "\\sqrt"), i += 5;
		else if (!strncmp(s + i, "\\binom", 6) && !isal(s[i + 6]))
			nargs = 2, sb_str(&b, "\\binom"), i += 6;
		if (nargs) {
			if (nargs == 1 && s[i] == '[') {
				size_t e = i;
				while (e < n && s[e] != ']')
					e++;
				if (e < n) {
					sb_add(&b, s + i, e + 1 - i);
					i = e + 1;
				}
			}
			owe_args(s, &i, &b, nargs, &pd, &npd, &cap, &depth);
		} else if (s[i] == '\\') {
			copy_cmd(&b, s, &i);
		} else if (s[i] == '{') {
			depth++;
			sb_c(&b, s[i++]);
		} else if (s[i] == '}') {
			depth--;
			sb_c(&b, s[i++]);
			if (npd && pd[npd - 1].depth == depth) {
				int left = pd[--npd].left;
				owe_args(s, &i, &b, left, &pd, &npd, &cap, &depth);
			}
		} else {
			sb_c(&b, s[i++]);
		}
	}
	free(pd);
	free(s);
	return sb_done(&b);
}

static int
match_digits(const char *s, size_t *i)
{
	size_t b = *i;
	while (isdig(s[*i]))
		(*i)++;
	return *i > b;
}

/* Whole answer "1,234,567.5" (maybe signed, maybe %) -> "1234567.5". */
static char *
pass_thousands(char *s)
{
	size_t i = 0;
	if (s[i] == '-' || s[i] == '+')
		i++;
	size_t b = i;
	if (!match_digits(s, &i) || i - b > 3 || s[i] != ',')
		return s;
	while (s[i] == ',') {
		size_t g = ++i;
		if (!match_digits(s, &i) || i - g != 3)
			return s;
	}
	if (s[i] == '.') {
		i++;
		if (!match_digits(s, &i))
			return s;
	}
	if (s[i] == '%')
		i++;
	if (s[i])
		return s;
	size_t o = 0;
	for (i = 0; s[i]; i++)
		if (s[i] != ',')
			s[o++] = s[i];
	s[o] = 0;
	return s;
}

/* Whole answer "2 1/2" -> "2\frac{1}{2}"; "3/4" -> "\frac{3}{4}". */
static char *
pass_slash(char *s)
{
	size_t i = 0, w0, w1, a0, a1, b0, b1;
	int neg = 0;
	if (s[i] == '-')
		neg = 1, i++;
	w0 = i;
	if (!match_digits(s, &i))
		return s;
	w1 = i;
	if (s[i] == ' ') {
		while (s[i] == ' ')
			i++;
		a0 = i;
		if (!match_digits(s, &i))
			return s;
		a1 = i;
	} else {
		a0 = w0, a1 = w1, w1 = w0;
	}
	if (s[i] != '/')
		return s;
	i++;
	b0 = i;
	if (!match_digits(s, &i) || s[i])
		return s;
	b1 = i;
	strbuf b = {0};
	if (neg)
		sb_c(&b, '-');
	sb_add(&b, s + w0, w1 - w0);
	sb_str(&b, "\\frac{");
	sb_add(&b, s + a0, a1 - a0);
	sb_str(&b, "}{");
	sb_add(&b, s + b0, b1 - b0);
	sb_c(&b, '}');
	free(s);
	return sb_done(&b);
}

/* Remove braces that enclose the whole string (any number of layers, one
 * pass), and the parentheses of a lone letter: "(C)" -> "C". */
static char *
pass_outer(char *s)
{
	size_t n = strlen(s);
	if (n >= 3 && s[0] == '(' && s[2] == ')' && n == 3 && isal(s[1])) {
		s[0] = s[1];
		s[1] = 0;
		return s;
	}
	if (n < 2 || s[0] != '{')
		return s;
	/* match[] of the leading braces: depth at which each closes */
	size_t k = 0;
	while (k < n && s[k] == '{')
		k++;
	/* layer j (0-based) encloses all iff its brace closes at n-1-j */
	long *close = emalloc(k * sizeof *close);
	for (size_t j = 0; j < k; j++)
		close[j] = -1;
	size_t d = k;
	for (size_t i = k; i < n; i++) {
		if (s[i] == '{')
			d++;
		else if (s[i] == '}') {
			if (d == 0)
				break;
			d--;
			if (d < k)
				close[d] = (long)i;
		}
	}
	size_t layers = 0;
	while (layers < k && close[layers] == (long)(n - 1 - layers))
		layers++;
	free(close);
	if (layers) {
		memmove(s, s + layers, n - 2 * layers);
		s[n - 2 * layers] = 0;
	}
	return s;
}

/* Numbers: "18.00" -> "18", "0.50" -> "0.5", ".5" -> "0.5"; a whole-answer
 * number also loses a '+' and leading zeros ("007" -> "7", "-0" -> "0"). */
static char *
pass_numbers(char *s)
{
	strbuf b = {0};
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		if (!(isdig(s[i]) || (s[i] == '.' && isdig(s[i + 1]) && (i == 0 || !isdig(s[i - 1]))))) {
			if (s[i] == '\\')
				copy_cmd(&b, s, &i);
			else
				sb_c(&b, s[i++]);
			continue;
		}
		size_t a = i;
		while (isdig(s[i]))
			i++;
		if (a == i)
			sb_c(&b, '0');
		sb_add(&b, s + a, i - a);
		if (s[i] == '.' && isdig(s[i + 1])) {
			size_t f = i + 1, e = f;
			while (isdig(s[e]))
				e++;
			size_t z = e;
			while (z > f && s[z - 1] == '0')
				z--;
			if (z > f) {
				sb_c(&b, '.');
				sb_add(&b, s + f, z - f);
			}
			i = e;
		}
	}
	free(s);
	s = sb_done(&b);
	/* whole-answer number: sign and leading zeros */
	size_t i = 0, o = 0;
	int neg = 0;
	if (s[0] == '+' || s[0] == '-')
		neg = s[0] == '-', i = 1;
	size_t d = i;
	while (isdig(s[d]))
		d++;
	if (d == i || (s[d] && !(s[d] == '.' && !s[d + 1 + strspn(s + d + 1, "0123456789")])))
		return s;
	while (s[i] == '0' && isdig(s[i + 1]))
		i++;
	if (neg && !(s[i] == '0' && s[i + 1] == 0))
		s[o++] = '-';
	memmove(s + o, s + i, strlen(s + i) + 1);
	return s;
}

/* "five" -> "5", "twenty-one" -> "21" (the whole answer, 0 to 99). */
static char *
pass_wordnum(char *s)
{
	static const char *const ones[] = {"zero", "one", "two", "three", "four", "five",
		"six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
		"fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
	static const char *const tens[] = {"twenty", "thirty", "forty", "fifty", "sixty",
		"seventy", "eighty", "ninety"};
	int v = -1;
	for (int k = 0; k < 20; k++)
		if (!strcasecmp(s, ones[k]))
			v = k;
	for (int k = 0; k < 8 && v < 0; k++) {
		size_t l = strlen(tens[k]);
		if (strncasecmp(s, tens[k], l))
			continue;
		if (!s[l])
			v = 20 + 10 * k;
		else if (s[l] == '-')
			for (int u = 1; u < 10; u++)
				if (!strcasecmp(s + l + 1, ones[u]))
					v = 20 + 10 * k + u;
	}
	if (v < 0)
		return s;
	free(s);
	char buf[16];
	snprintf(buf, sizeof buf, "%d", v);
	return estrdup(buf);
}

/* One round of the passes. */
static char *
canon_once(char *s)
{
	s = pass_space(s);
	s = pass_array(s);
	for (size_t k = 0; k < sizeof rewrites / sizeof rewrites[0]; k++)
		if (strstr(s, rewrites[k][0]))
			s = subst(s, rewrites[k][0], rewrites[k][1]);
	s = trim(s);
	s = pass_outer(s);
	s = pass_text(s);
	s = trim(s);
	s = pass_words(s);
	s = pass_vareq(s);
	s = trim(s);
	s = pass_units(s);
	s = trim(s);
	s = pass_thousands(s);
	s = pass_slash(s);
	s = pass_squeeze(s);
	s = pass_braces(s);
	s = pass_squeeze(s);
	if (strstr(s, "\\{\\}"))
		s = subst(s, "\\{\\}", "\\emptyset");
	s = pass_outer(s);
	s = pass_numbers(s);
	s = pass_wordnum(s);
	return trim(s);
}

/* Rounds until nothing changes (one or two for real answers; a later pass
 * can expose work for an earlier one, as in "{x = 5}"), at most four. */
char *
ans_canon(const char *in)
{
	if (!in)
		return estrdup("");
	size_t n = strnlen(in, ANS_MAX);
	while (n == ANS_MAX && n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
		n--; /* cut on a UTF-8 character boundary */
	char *s = canon_once(str_dupn(in, n));
	/* a plain number is final after one round */
	if (strspn(s, "0123456789.-") == strlen(s))
		return s;
	for (int round = 1; round < 4; round++) {
		char *t = canon_once(estrdup(s));
		int same = !strcmp(s, t);
		free(s);
		s = t;
		if (same)
			break;
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* Equivalence                                                          */

static int
is_integer(const char *s)
{
	if (*s == '-')
		s++;
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* A canonical plain decimal: -?digits(.digits)? */
static int
is_decimal(const char *s)
{
	if (*s == '-')
		s++;
	size_t d = strspn(s, "0123456789");
	if (!d)
		return 0;
	s += d;
	if (*s == '.')
		s++, d = strspn(s, "0123456789"), s += d;
	return *s == 0 && d > 0;
}

/* A run of two or more letters outside \commands: words, where case does
 * not matter ("No", "no"); single letters are variables ("a" is not "A"). */
static int
has_word(const char *s)
{
	size_t run = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\') {
			while (isal(s[i + 1]))
				i++;
			run = 0;
		} else if (isal(s[i])) {
			if (++run >= 2)
				return 1;
		} else {
			run = 0;
		}
	}
	return 0;
}

/* The item around position p: back and forward to a comma at the same
 * depth or to the list bracket ("(", "[", "\{") around it; a LaTeX group
 * "{...}" is part of the item ("\frac{1\pm\sqrt5}{2}" is one item). */
static void
item_around(const char *s, size_t p, size_t *a, size_t *b)
{
	size_t n = strlen(s);
	int d = 0;
	size_t i = p;
	for (; i > 0; i--) {
		char c = s[i - 1];
		int esc = i >= 2 && s[i - 2] == '\\';
		if (c == ')' || c == ']' || c == '}') {
			d++;
		} else if (c == '(' || c == '[' || c == '{') {
			if (d > 0)
				d--;
			else if (c != '{' || esc)
				break;
		} else if (c == ',' && d == 0) {
			break;
		}
	}
	*a = i;
	d = 0;
	for (i = p; i < n; i++) {
		char c = s[i];
		if (c == '(' || c == '[' || c == '{') {
			d++;
		} else if (c == ')' || c == ']' || c == '}') {
			if (d > 0)
				d--;
			else if (c != '}' || (i > 0 && s[i - 1] == '\\'))
				break;
		} else if (c == ',' && d == 0) {
			break;
		}
	}
	if (i > *a && s[i - 1] == '\\')
		i--; /* before the backslash of "\}" */
	*b = i;
}

/* One "\pm" (or "\mp") makes its item two: "1\pm\sqrt2" -> "1+\sqrt2,
 * 1-\sqrt2", "\{1\pm\sqrt5, -2\}" -> "\{1+\sqrt5, 1-\sqrt5, -2\}". */
static char *
expand_pm(const char *s)
{
	const char *p = strstr(s, "\\pm"), *m = strstr(s, "\\mp");
	if ((p && m) || (!p && !m))
		return estrdup(s);
	int minus_first = !p;
	if (!p)
		p = m;
	if (strstr(p + 3, "\\pm") || strstr(p + 3, "\\mp") || isal(p[3]))
		return estrdup(s);
	size_t at = (size_t)(p - s), a, b;
	item_around(s, at, &a, &b);
	strbuf out = {0};
	sb_add(&out, s, a);
	for (int k = 0; k < 2; k++) {
		if (k)
			sb_str(&out, ", ");
		sb_add(&out, s + a, at - a);
		sb_c(&out, (k ^ minus_first) ? '-' : '+');
		sb_add(&out, p + 3, b - at - 3);
	}
	sb_str(&out, s + b);
	return sb_done(&out);
}

/* Two canonical forms, in a fixed order (so the result is symmetric). */
static int
equal_canon(const char *a, const char *b)
{
	if (!*a || !*b)
		return 0;
	if (!strcmp(a, b))
		return 1;
	if (is_integer(a) && is_integer(b))
		return 0; /* exact, however long */
	if (is_decimal(a) && is_decimal(b)) {
		/* the evaluator's tolerance without its parser (a fast path) */
		double x = strtod(a, NULL), y = strtod(b, NULL);
		return fabs(x - y) <= MX_REL_TOL * fmax(fabs(x), fabs(y)) + MX_ABS_TOL;
	}
	if (!strcasecmp(a, b) && has_word(a))
		return 1;
	char *xa = expand_pm(a), *xb = expand_pm(b);
	int r = mx_equal(xa, xb);
	free(xa);
	free(xb);
	return r == 1;
}

int
ans_equal_canon(const char *ca, const char *cb)
{
	if (!ca || !cb)
		return 0;
	return strcmp(ca, cb) <= 0 ? equal_canon(ca, cb) : equal_canon(cb, ca);
}

int
ans_equal(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	char *ca = ans_canon(a), *cb = ans_canon(b);
	int r = ans_equal_canon(ca, cb);
	free(ca);
	free(cb);
	return r;
}
