/* mathexpr.c — parse a canonical answer string into a tree and compare two
 * trees by value (see mathexpr.h).  A recursive-descent parser with an
 * explicit depth limit; sums and products are n-ary so a long flat chain
 * ("1+1+...+1") makes a shallow tree.  Every node lives in one growing
 * array per parse, freed at the end. */
#include "mathexpr.h"
#include "tts.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum kind {
	K_NUM, K_VAR, K_ADD, K_MUL, K_NEG, K_INV, K_POW, K_ROOT, K_FN, K_LOG,
	K_FACT, K_PCT, K_ABS, K_BINOM,
	/* not scalars */
	K_LIST, K_TUPLE, K_SET, K_MATRIX, K_EQ, K_CUP, K_REALS,
};

enum fn { F_SIN, F_COS, F_TAN, F_SEC, F_CSC, F_COT, F_ASIN, F_ACOS, F_ATAN,
	F_SINH, F_COSH, F_TANH, F_LN, F_EXP };

static const struct { const char *name; int fn; } fns[] = {
	{"sin", F_SIN}, {"cos", F_COS}, {"tan", F_TAN}, {"sec", F_SEC},
	{"csc", F_CSC}, {"cot", F_COT}, {"arcsin", F_ASIN}, {"arccos", F_ACOS},
	{"arctan", F_ATAN}, {"sinh", F_SINH}, {"cosh", F_COSH}, {"tanh", F_TANH},
	{"ln", F_LN}, {"exp", F_EXP},
};

/* LaTeX letters that name variables. */
static const char *greek[] = {
	"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
	"theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho",
	"sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
	"Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
};

typedef struct {
	int kind, fn, n, first;  /* first: index of the first kid in kids[] */
	double v;                /* K_NUM value */
	uint64_t h;              /* K_VAR: hash of the name */
	char lb, rb;             /* K_TUPLE brackets */
	int rows, cols;          /* K_MATRIX */
	int lit_int;             /* K_NUM written as a bare integer */
	int int_frac;            /* K_MUL from \frac{int}{int} */
} node;

typedef struct {
	const char *s;
	size_t i, len;
	node *nd;
	int nn, ncap;
	int *kids;
	int nk, kcap;
	int depth, err, in_abs;
} parser;

typedef struct { int *v, n, cap; } ivec;

static void
iv_push(ivec *a, int x)
{
	EGROW(a->v, a->n, a->cap, 8);
	a->v[a->n++] = x;
}

static int
mk(parser *p, int kind)
{
	EGROW(p->nd, p->nn, p->ncap, 64);
	node *n = &p->nd[p->nn];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	return p->nn++;
}

/* A node of kind with the kids in a (a is emptied). */
static int
mkn(parser *p, int kind, ivec *a)
{
	int id = mk(p, kind);
	if (p->nk + a->n > p->kcap) {
		while (p->nk + a->n > p->kcap)
			p->kcap = p->kcap ? 2 * p->kcap : 64;
		p->kids = erealloc(p->kids, (size_t)p->kcap * sizeof *p->kids);
	}
	p->nd[id].first = p->nk;
	p->nd[id].n = a->n;
	if (a->n) /* no kids yet: both may be NULL, and memcpy's pointers must not be */
		memcpy(p->kids + p->nk, a->v, (size_t)a->n * sizeof *a->v);
	p->nk += a->n;
	a->n = 0;
	return id;
}

static int
mk1(parser *p, int kind, int k)
{
	ivec a = {0};
	iv_push(&a, k);
	int id = mkn(p, kind, &a);
	free(a.v);
	return id;
}

static int
mk2(parser *p, int kind, int k0, int k1)
{
	ivec a = {0};
	iv_push(&a, k0);
	iv_push(&a, k1);
	int id = mkn(p, kind, &a);
	free(a.v);
	return id;
}

static int kid(const parser *p, int id, int j) { return p->kids[p->nd[id].first + j]; }

static void
skipsp(parser *p)
{
	while (p->i < p->len && p->s[p->i] == ' ')
		p->i++;
}

static int
peek(parser *p)
{
	skipsp(p);
	return p->i < p->len ? (unsigned char)p->s[p->i] : 0;
}

/* Literal lit at the cursor; a command (\name) must not run on into a letter. */
static int
at(parser *p, const char *lit)
{
	skipsp(p);
	size_t n = strlen(lit);
	if (p->len - p->i < n || memcmp(p->s + p->i, lit, n))
		return 0;
	if (lit[0] == '\\' && isalpha((unsigned char)lit[n - 1]) && p->i + n < p->len &&
	    isalpha((unsigned char)p->s[p->i + n]))
		return 0;
	return 1;
}

static int
eat(parser *p, const char *lit)
{
	if (!at(p, lit))
		return 0;
	p->i += strlen(lit);
	return 1;
}

static int
fail(parser *p)
{
	p->err = 1;
	return -1;
}

static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The name of the command at the cursor (after '\'), its length in *n. */
static const char *
cmdname(parser *p, size_t *n)
{
	skipsp(p);
	if (p->i + 1 >= p->len || p->s[p->i] != '\\')
		return NULL;
	size_t j = p->i + 1;
	while (j < p->len && isalpha((unsigned char)p->s[j]))
		j++;
	*n = j - p->i - 1;
	return *n ? p->s + p->i + 1 : NULL;
}

static int cmdis(const char *c, size_t n, const char *w) { return strlen(w) == n && !memcmp(c, w, n); }

static int
fn_lookup(const char *c, size_t n)
{
	for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++)
		if (cmdis(c, n, fns[k].name))
			return fns[k].fn;
	return -1;
}

static int
greek_lookup(const char *c, size_t n)
{
	for (size_t k = 0; k < sizeof greek / sizeof greek[0]; k++)
		if (cmdis(c, n, greek[k]))
			return 1;
	return 0;
}

static int parse_sum(parser *p);
static int parse_unary(parser *p);
static int parse_power(parser *p);
static int parse_primary(parser *p);

/* Can a factor start here (for implicit multiplication)? */
static int
starts_factor(parser *p)
{
	int c = peek(p);
	if (isdigit(c) || c == '.' || isalpha(c) || c == '(' || c == '{')
		return 1;
	if (c == '|')
		return !p->in_abs;
	size_t n;
	const char *cn = cmdname(p, &n);
	if (!cn)
		return 0;
	return cmdis(cn, n, "frac") || cmdis(cn, n, "sqrt") || cmdis(cn, n, "pi") ||
	       cmdis(cn, n, "infty") || cmdis(cn, n, "binom") || cmdis(cn, n, "log") ||
	       fn_lookup(cn, n) >= 0 || greek_lookup(cn, n);
}

static int
num_literal(parser *p)
{
	size_t b = p->i;
	int dot = 0;
	while (p->i < p->len && (isdigit((unsigned char)p->s[p->i]) || (p->s[p->i] == '.' && !dot))) {
		if (p->s[p->i] == '.') {
			/* "1." followed by a non-digit ends the number */
			if (p->i + 1 >= p->len || !isdigit((unsigned char)p->s[p->i + 1]))
				break;
			dot = 1;
		}
		p->i++;
	}
	if (p->i == b)
		return fail(p);
	char *t = emalloc(p->i - b + 1);
	memcpy(t, p->s + b, p->i - b);
	t[p->i - b] = 0;
	int id = mk(p, K_NUM);
	p->nd[id].v = strtod(t, NULL);
	p->nd[id].lit_int = !dot;
	free(t);
	return id;
}

/* A variable: name hash plus an optional subscript (_x or _{...}). */
static int
variable(parser *p, const char *name, size_t n)
{
	uint64_t h = fnv(0xcbf29ce484222325ULL, name, n);
	if (p->i < p->len && p->s[p->i] == '_') {
		p->i++;
		size_t b = p->i;
		if (p->i < p->len && p->s[p->i] == '{') {
			int d = 0;
			for (; p->i < p->len; p->i++) {
				if (p->s[p->i] == '{') d++;
				else if (p->s[p->i] == '}' && --d == 0) break;
			}
			if (p->i >= p->len)
				return fail(p);
			p->i++;
		} else if (p->i < p->len) {
			p->i++;
		} else {
			return fail(p);
		}
		h = fnv(h ^ 0x5f, p->s + b, p->i - b);
	}
	int id = mk(p, K_VAR);
	p->nd[id].h = h;
	return id;
}

/* A braced group or a single token: the argument of \frac, \sqrt, ^. */
static int
parse_arg(parser *p)
{
	int c = peek(p);
	if (c == '{') {
		p->i++;
		int x = parse_sum(p);
		if (x < 0 || !eat(p, "}"))
			return fail(p);
		return x;
	}
	if (isdigit(c)) {
		int id = mk(p, K_NUM);
		p->nd[id].v = c - '0';
		p->nd[id].lit_int = 1;
		p->i++;
		return id;
	}
	if (isalpha(c)) {
		p->i++;
		if (c == 'e') {
			int id = mk(p, K_NUM);
			p->nd[id].v = M_E;
			return id;
		}
		return variable(p, p->s + p->i - 1, 1);
	}
	if (c == '\\')
		return parse_primary(p);
	return fail(p);
}

/* The comma-separated items up to (not including) a closer. */
static void
parse_items(parser *p, ivec *items)
{
	do {
		int x = parse_sum(p);
		if (x < 0) {
			fail(p);
			return;
		}
		iv_push(items, x);
	} while (eat(p, ","));
}

static int
parse_matrix(parser *p)
{
	ivec cells = {0};
	int rows = 0, cols = 0, c = 0;
	for (;;) {
		int x = parse_sum(p);
		if (x < 0)
			break;
		iv_push(&cells, x);
		c++;
		if (eat(p, "&"))
			continue;
		if (rows && c != cols)
			break;
		cols = c, c = 0, rows++;
		if (eat(p, "\\\\")) {
			if (at(p, "\\end{pmatrix}"))
				goto end;
			continue;
		}
	end:
		if (!eat(p, "\\end{pmatrix}"))
			break;
		int id = mkn(p, K_MATRIX, &cells);
		p->nd[id].rows = rows, p->nd[id].cols = cols;
		free(cells.v);
		return id;
	}
	free(cells.v);
	return fail(p);
}

static int
bracketed(parser *p, char open)
{
	ivec items = {0};
	parse_items(p, &items);
	int c = peek(p);
	int close = 0;
	if (!p->err && ((open == '{' && c == '}') || (open != '{' && (c == ')' || c == ']'))))
		close = c;
	if (!close) {
		free(items.v);
		return fail(p);
	}
	p->i++;
	int id;
	if (items.n == 1 && (open == '{' || (open == '(' && close == ')') || (open == '[' && close == ']'))) {
		id = items.v[0];
	} else if (open == '{') {
		id = mkn(p, K_SET, &items);
	} else {
		id = mkn(p, K_TUPLE, &items);
		p->nd[id].lb = open, p->nd[id].rb = (char)close;
	}
	free(items.v);
	return id;
}

/* The argument of a function: parenthesised, braced, or the next power. */
static int
fn_arg(parser *p)
{
	int c = peek(p);
	if (c == '(' || c == '{')
		return parse_primary(p);
	return parse_power(p);
}

static int
command(parser *p)
{
	size_t n;
	const char *c = cmdname(p, &n);
	if (!c) {
		/* "\{" opens a set */
		if (eat(p, "\\{")) {
			ivec items = {0};
			if (!at(p, "\\}"))
				parse_items(p, &items);
			int id = -1;
			if (!p->err && eat(p, "\\}"))
				id = mkn(p, K_SET, &items);
			free(items.v);
			return id < 0 ? fail(p) : id;
		}
		return fail(p);
	}
	p->i += n + 1;
	if (cmdis(c, n, "frac") || cmdis(c, n, "dfrac") || cmdis(c, n, "tfrac")) {
		int a = parse_arg(p);
		int b = a < 0 ? -1 : parse_arg(p);
		if (b < 0)
			return fail(p);
		int ints = p->nd[a].kind == K_NUM && p->nd[a].lit_int &&
			   p->nd[b].kind == K_NUM && p->nd[b].lit_int;
		int id = mk2(p, K_MUL, a, mk1(p, K_INV, b));
		p->nd[id].int_frac = ints;
		return id;
	}
	if (cmdis(c, n, "sqrt")) {
		int idx;
		if (eat(p, "[")) {
			idx = parse_sum(p);
			if (idx < 0 || !eat(p, "]"))
				return fail(p);
		} else {
			idx = mk(p, K_NUM);
			p->nd[idx].v = 2;
		}
		int a = parse_arg(p);
		return a < 0 ? fail(p) : mk2(p, K_ROOT, idx, a);
	}
	if (cmdis(c, n, "binom")) {
		int a = parse_arg(p);
		int b = a < 0 ? -1 : parse_arg(p);
		return b < 0 ? fail(p) : mk2(p, K_BINOM, a, b);
	}
	if (cmdis(c, n, "pi")) {
		int id = mk(p, K_NUM);
		p->nd[id].v = M_PI;
		return id;
	}
	if (cmdis(c, n, "infty")) {
		int id = mk(p, K_NUM);
		p->nd[id].v = INFINITY;
		return id;
	}
	if (cmdis(c, n, "emptyset")) {
		ivec none = {0};
		return mkn(p, K_SET, &none);
	}
	if (cmdis(c, n, "mathbb")) {
		if (!eat(p, "{R}"))
			return fail(p);
		return mk(p, K_REALS);
	}
	if (cmdis(c, n, "begin")) {
		if (!eat(p, "{pmatrix}"))
			return fail(p);
		return parse_matrix(p);
	}
	if (cmdis(c, n, "log")) {
		int base;
		if (eat(p, "_")) {
			base = parse_arg(p);
		} else {
			base = mk(p, K_NUM);
			p->nd[base].v = M_E;
		}
		int a = base < 0 ? -1 : fn_arg(p);
		return a < 0 ? fail(p) : mk2(p, K_LOG, base, a);
	}
	int f = fn_lookup(c, n);
	if (f >= 0) {
		int pw = -1;
		if (eat(p, "^")) {
			pw = parse_arg(p);
			if (pw < 0)
				return fail(p);
		}
		int a = fn_arg(p);
		if (a < 0)
			return fail(p);
		int id = mk1(p, K_FN, a);
		p->nd[id].fn = f;
		return pw < 0 ? id : mk2(p, K_POW, id, pw);
	}
	if (greek_lookup(c, n))
		return variable(p, c - 1, n + 1);
	return fail(p);
}

/* Plain-text words: function names, "pi", else one letter = one variable;
 * a run of three or more other letters is a word, not math. */
static int
letters(parser *p)
{
	size_t b = p->i, j = b;
	while (j < p->len && isalpha((unsigned char)p->s[j]))
		j++;
	size_t run = j - b;
	const char *w = p->s + b;
	if (run >= 2) {
		for (size_t len = run; len >= 2; len--) {
			int f = fn_lookup(w, len);
			if (f >= 0 && (len == run || p->s[b + len] == '(')) {
				p->i += len;
				int a = fn_arg(p);
				if (a < 0)
					return fail(p);
				int id = mk1(p, K_FN, a);
				p->nd[id].fn = f;
				return id;
			}
		}
		if (run == 2 && !memcmp(w, "pi", 2)) {
			p->i += 2;
			int id = mk(p, K_NUM);
			p->nd[id].v = M_PI;
			return id;
		}
		if (run == 4 && !memcmp(w, "sqrt", 4)) {
			p->i += 4;
			int a = fn_arg(p);
			if (a < 0)
				return fail(p);
			int two = mk(p, K_NUM);
			p->nd[two].v = 2;
			return mk2(p, K_ROOT, two, a);
		}
		if (run >= 3)
			return fail(p);
	}
	p->i++;
	if (*w == 'e') {
		int id = mk(p, K_NUM);
		p->nd[id].v = M_E;
		return id;
	}
	return variable(p, w, 1);
}

static int
parse_primary(parser *p)
{
	if (++p->depth > MX_MAX_DEPTH)
		return fail(p);
	int c = peek(p), r;
	if (isdigit(c) || c == '.') {
		r = num_literal(p);
	} else if (isalpha(c)) {
		r = letters(p);
	} else if (c == '(' || c == '[' || c == '{') {
		p->i++;
		r = bracketed(p, (char)c);
	} else if (c == '|' && !p->in_abs) {
		p->i++;
		p->in_abs++;
		int x = parse_sum(p);
		p->in_abs--;
		r = (x < 0 || !eat(p, "|")) ? fail(p) : mk1(p, K_ABS, x);
	} else if (c == '\\') {
		r = command(p);
	} else {
		r = fail(p);
	}
	p->depth--;
	return p->err ? -1 : r;
}

static int
parse_postfix(parser *p)
{
	int x = parse_primary(p);
	while (x >= 0) {
		if (eat(p, "!"))
			x = mk1(p, K_FACT, x);
		else if (eat(p, "%"))
			x = mk1(p, K_PCT, x);
		else
			break;
	}
	return x;
}

/* Exponent after '^': a group, a digit string, a letter, a command. */
static int
parse_exponent(parser *p)
{
	if (++p->depth > MX_MAX_DEPTH)
		return fail(p);
	int c = peek(p), r;
	if (isdigit(c))
		r = num_literal(p);
	else if (c == '-' || c == '+') {
		p->i++;
		r = parse_exponent(p);
		if (r >= 0 && c == '-')
			r = mk1(p, K_NEG, r);
	} else
		r = parse_arg(p);
	p->depth--;
	return p->err ? -1 : r;
}

static int
parse_power(parser *p)
{
	int b = parse_postfix(p);
	if (b < 0)
		return -1;
	if (eat(p, "^")) {
		int e = parse_exponent(p);
		if (e < 0)
			return -1;
		b = mk2(p, K_POW, b, e);
		while (b >= 0 && eat(p, "!"))
			b = mk1(p, K_FACT, b);
	}
	return b;
}

static int
parse_unary(parser *p)
{
	if (++p->depth > MX_MAX_DEPTH)
		return fail(p);
	int r;
	if (eat(p, "-")) {
		r = parse_unary(p);
		r = r < 0 ? -1 : mk1(p, K_NEG, r);
	} else if (eat(p, "+")) {
		r = parse_unary(p);
	} else {
		r = parse_power(p);
	}
	p->depth--;
	return p->err ? -1 : r;
}

static int
is_int_lit(const parser *p, int x)
{
	return p->nd[x].kind == K_NUM && p->nd[x].lit_int;
}

static int
parse_term(parser *p)
{
	ivec f = {0};
	int x = parse_unary(p);
	if (x < 0)
		goto bad;
	iv_push(&f, x);
	for (;;) {
		if (eat(p, "*") || eat(p, "\\cdot") || eat(p, "\\times")) {
			x = parse_unary(p);
		} else if (eat(p, "/") || eat(p, "\\div")) {
			x = parse_unary(p);
			if (x >= 0)
				x = mk1(p, K_INV, x);
		} else if (starts_factor(p)) {
			x = parse_power(p);
			/* mixed number: 2\frac{1}{2} is 2 + 1/2 (and -2\frac12 is -(2 + 1/2)) */
			if (x >= 0 && f.n == 1 && p->nd[x].int_frac) {
				int a = f.v[0], neg = 0;
				if (p->nd[a].kind == K_NEG) {
					neg = 1;
					a = kid(p, a, 0);
				}
				if (is_int_lit(p, a)) {
					int s = mk2(p, K_ADD, a, x);
					f.v[0] = neg ? mk1(p, K_NEG, s) : s;
					continue;
				}
			}
		} else {
			break;
		}
		if (x < 0)
			goto bad;
		iv_push(&f, x);
	}
	x = f.n == 1 ? f.v[0] : mkn(p, K_MUL, &f);
	free(f.v);
	return x;
bad:
	free(f.v);
	return fail(p);
}

static int
parse_sum(parser *p)
{
	ivec t = {0};
	int x = parse_term(p);
	if (x < 0)
		goto bad;
	iv_push(&t, x);
	for (;;) {
		if (eat(p, "+"))
			x = parse_term(p);
		else if (eat(p, "-")) {
			x = parse_term(p);
			if (x >= 0)
				x = mk1(p, K_NEG, x);
		} else
			break;
		if (x < 0)
			goto bad;
		iv_push(&t, x);
	}
	x = t.n == 1 ? t.v[0] : mkn(p, K_ADD, &t);
	/* an equation or a union at this level */
	if (eat(p, "=")) {
		int r = parse_sum(p);
		x = r < 0 ? -1 : mk2(p, K_EQ, x, r);
	} else if (at(p, "\\cup")) {
		t.n = 0;
		iv_push(&t, x);
		while (eat(p, "\\cup")) {
			int y = parse_term(p);
			if (y < 0)
				goto bad;
			iv_push(&t, y);
		}
		x = mkn(p, K_CUP, &t);
	}
	free(t.v);
	return x < 0 ? fail(p) : x;
bad:
	free(t.v);
	return fail(p);
}

/* Parse a whole string: one item, or a bare comma list (K_LIST). */
static int
parse_all(parser *p, const char *s)
{
	memset(p, 0, sizeof *p);
	p->s = s;
	p->len = strlen(s);
	if (p->len == 0 || p->len > MX_MAX_LEN)
		return -1;
	ivec items = {0};
	parse_items(p, &items);
	int r = -1;
	if (!p->err && peek(p) == 0)
		r = items.n == 1 ? items.v[0] : mkn(p, K_LIST, &items);
	free(items.v);
	return r;
}

static void
parser_free(parser *p)
{
	free(p->nd);
	free(p->kids);
}

/* ---- evaluation ---- */

/* The value of variable h at point k: fixed, in [0.6, 2.9). */
static double
var_value(uint64_t h, int k)
{
	uint64_t z = h + 0x9e3779b97f4a7c15ULL * (uint64_t)(k + 1);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return 0.6 + 2.3 * ((double)(z >> 11) / 9007199254740992.0);
}

static double
eval(const parser *p, int id, int k)
{
	const node *n = &p->nd[id];
	double a, b;
	switch (n->kind) {
	case K_NUM: return n->v;
	case K_VAR: return var_value(n->h, k);
	case K_ADD:
		a = 0;
		for (int j = 0; j < n->n; j++)
			a += eval(p, kid(p, id, j), k);
		return a;
	case K_MUL:
		a = 1;
		for (int j = 0; j < n->n; j++)
			a *= eval(p, kid(p, id, j), k);
		return a;
	case K_NEG: return -eval(p, kid(p, id, 0), k);
	case K_INV: return 1 / eval(p, kid(p, id, 0), k);
	case K_PCT: return eval(p, kid(p, id, 0), k) / 100;
	case K_ABS: return fabs(eval(p, kid(p, id, 0), k));
	case K_POW: return pow(eval(p, kid(p, id, 0), k), eval(p, kid(p, id, 1), k));
	case K_ROOT:
		b = eval(p, kid(p, id, 0), k);
		a = eval(p, kid(p, id, 1), k);
		/* odd roots of negatives are real */
		if (a < 0 && b == floor(b) && fmod(b, 2) != 0)
			return -pow(-a, 1 / b);
		return pow(a, 1 / b);
	case K_LOG:
		return log(eval(p, kid(p, id, 1), k)) / log(eval(p, kid(p, id, 0), k));
	case K_FACT:
		a = eval(p, kid(p, id, 0), k);
		return (a >= 0 && a == floor(a) && a <= 170) ? tgamma(a + 1) : NAN;
	case K_BINOM:
		a = eval(p, kid(p, id, 0), k);
		b = eval(p, kid(p, id, 1), k);
		if (a != floor(a) || b != floor(b) || b < 0 || a < b || a > 170)
			return NAN;
		return round(tgamma(a + 1) / (tgamma(b + 1) * tgamma(a - b + 1)));
	case K_FN:
		a = eval(p, kid(p, id, 0), k);
		switch (n->fn) {
		case F_SIN: return sin(a);
		case F_COS: return cos(a);
		case F_TAN: return tan(a);
		case F_SEC: return 1 / cos(a);
		case F_CSC: return 1 / sin(a);
		case F_COT: return 1 / tan(a);
		case F_ASIN: return asin(a);
		case F_ACOS: return acos(a);
		case F_ATAN: return atan(a);
		case F_SINH: return sinh(a);
		case F_COSH: return cosh(a);
		case F_TANH: return tanh(a);
		case F_LN: return log(a);
		case F_EXP: return exp(a);
		}
		return NAN;
	default: return NAN; /* a tuple or set inside arithmetic */
	}
}

static int
has_var(const parser *p, int id)
{
	const node *n = &p->nd[id];
	if (n->kind == K_VAR)
		return 1;
	for (int j = 0; j < n->n; j++)
		if (has_var(p, kid(p, id, j)))
			return 1;
	return 0;
}

static int
close_to(double x, double y)
{
	if (isinf(x) || isinf(y))
		return x == y;
	return fabs(x - y) <= MX_REL_TOL * fmax(fabs(x), fabs(y)) + MX_ABS_TOL;
}

typedef struct { const parser *p; int id; } ref;

static int values_eq(ref a, ref b)
{
	int npts = (has_var(a.p, a.id) || has_var(b.p, b.id)) ? MX_POINTS : 1;
	int good = 0;
	for (int k = 0; k < npts; k++) {
		double x = eval(a.p, a.id, k), y = eval(b.p, b.id, k);
		if (isnan(x) && isnan(y))
			continue;
		if (isnan(x) || isnan(y) || !close_to(x, y))
			return 0;
		good++;
	}
	return good > 0;
}

/* left - right of an equation at point k. */
static double
eq_value(ref e, int k)
{
	return eval(e.p, kid(e.p, e.id, 0), k) - eval(e.p, kid(e.p, e.id, 1), k);
}

/* Equations equal up to a non-zero constant factor. */
static int
equations_eq(ref a, ref b)
{
	double fa[MX_POINTS], fb[MX_POINTS];
	int m = -1;
	for (int k = 0; k < MX_POINTS; k++) {
		fa[k] = eq_value(a, k), fb[k] = eq_value(b, k);
		if (!isfinite(fa[k]) || !isfinite(fb[k]))
			return 0;
		if (m < 0 || fabs(fb[k]) > fabs(fb[m]))
			m = k;
	}
	if (fb[m] == 0 || fa[m] == 0)
		return 0;
	double c = fa[m] / fb[m];
	for (int k = 0; k < MX_POINTS; k++)
		if (fabs(fa[k] - c * fb[k]) > 1e-7 * fmax(fabs(fa[k]), fabs(c * fb[k])) + MX_ABS_TOL)
			return 0;
	return 1;
}

static int nodes_eq(ref a, ref b, int depth);

static ref child(ref r, int j) { return (ref){r.p, kid(r.p, r.id, j)}; }
static const node *nd(ref r) { return &r.p->nd[r.id]; }

static int
ordered_eq(ref a, ref b, int depth)
{
	if (nd(a)->n != nd(b)->n)
		return 0;
	for (int j = 0; j < nd(a)->n; j++)
		if (!nodes_eq(child(a, j), child(b, j), depth + 1))
			return 0;
	return 1;
}

/* Multisets: each item of a matches a distinct item of b (greedy). */
static int
unordered_eq(ref a, ref b, int depth)
{
	int n = nd(a)->n;
	if (n != nd(b)->n)
		return 0;
	if (n > 256)
		return ordered_eq(a, b, depth);
	char used[256] = {0};
	for (int i = 0; i < n; i++) {
		int j;
		for (j = 0; j < n; j++)
			if (!used[j] && nodes_eq(child(a, i), child(b, j), depth + 1))
				break;
		if (j == n)
			return 0;
		used[j] = 1;
	}
	return 1;
}

static int
is_collection(int kind)
{
	return kind >= K_LIST;
}

static int
is_reals_interval(ref t)
{
	if (nd(t)->kind != K_TUPLE || nd(t)->lb != '(' || nd(t)->rb != ')' || nd(t)->n != 2)
		return 0;
	double lo = eval(t.p, kid(t.p, t.id, 0), 0), hi = eval(t.p, kid(t.p, t.id, 1), 0);
	return isinf(lo) && lo < 0 && isinf(hi) && hi > 0;
}

static int
nodes_eq(ref a, ref b, int depth)
{
	if (depth > 2 * MX_MAX_DEPTH)
		return 0;
	int ka = nd(a)->kind, kb = nd(b)->kind;
	/* an equation "v = rhs" against a non-equation: compare rhs */
	if (ka == K_EQ && kb != K_EQ)
		return nd(child(a, 0))->kind == K_VAR && nodes_eq(child(a, 1), b, depth + 1);
	if (kb == K_EQ && ka != K_EQ)
		return nd(child(b, 0))->kind == K_VAR && nodes_eq(a, child(b, 1), depth + 1);
	if (ka == K_EQ)
		return equations_eq(a, b);
	if (ka == K_REALS || kb == K_REALS)
		return (ka == kb) || is_reals_interval(ka == K_REALS ? b : a);
	if (is_collection(ka) || is_collection(kb)) {
		if (ka == K_TUPLE && kb == K_TUPLE)
			return nd(a)->lb == nd(b)->lb && nd(a)->rb == nd(b)->rb && ordered_eq(a, b, depth);
		/* a bare list against a parenthesised tuple: in order */
		if ((ka == K_LIST && kb == K_TUPLE && nd(b)->lb == '(' && nd(b)->rb == ')') ||
		    (kb == K_LIST && ka == K_TUPLE && nd(a)->lb == '(' && nd(a)->rb == ')'))
			return ordered_eq(a, b, depth);
		if ((ka == K_LIST || ka == K_SET) && (kb == K_LIST || kb == K_SET))
			return unordered_eq(a, b, depth);
		if (ka == K_CUP && kb == K_CUP)
			return unordered_eq(a, b, depth);
		if (ka == K_MATRIX && kb == K_MATRIX)
			return nd(a)->rows == nd(b)->rows && nd(a)->cols == nd(b)->cols &&
			       ordered_eq(a, b, depth);
		return 0;
	}
	/* a percentage against a plain number: 25% is 25 (a unit) or 0.25 */
	if ((ka == K_PCT) != (kb == K_PCT)) {
		ref pc = ka == K_PCT ? a : b, o = ka == K_PCT ? b : a;
		return values_eq(child(pc, 0), o) || values_eq(pc, o);
	}
	return values_eq(a, b);
}

int
mx_equal(const char *a, const char *b)
{
	parser pa, pb;
	int ra = parse_all(&pa, a), rb = parse_all(&pb, b);
	int r = -1;
	if (ra >= 0 && rb >= 0)
		r = nodes_eq((ref){&pa, ra}, (ref){&pb, rb}, 0);
	parser_free(&pa);
	parser_free(&pb);
	return r;
}

int
mx_parses(const char *s)
{
	parser p;
	int r = parse_all(&p, s);
	parser_free(&p);
	return r >= 0;
}
