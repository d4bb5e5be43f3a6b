/* extract.c — the final answer of a completion (see answer.h and
 * tts-extract(1)): the last complete \\boxed{}, "#### X", "the answer is
 * X", the last number.  Each rule is one pass over the text, so degenerate
 * completions (thousands of repeated boxes, unclosed braces) cost time
 * linear in their length. */
#include "answer.h"
#include "strbuf.h"
#include "tts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int isal(int c) { return isalpha((unsigned char)c); }
static int isdig(int c) { return isdigit((unsigned char)c); }
static int issp(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* s[a,b) trimmed of spaces, a leading ':' and trailing dots; NULL if empty. */
static char *
clean(const char *s, size_t a, size_t b)
{
	while (a < b && issp(s[a]))
		a++;
	if (a < b && s[a] == ':')
		a++;
	while (a < b && (issp(s[b - 1]) || s[b - 1] == '.'))
		b--;
	while (a < b && issp(s[a]))
		a++;
	return a < b ? str_dupn(s + a, b - a) : NULL;
}

static int
boxcmd(const char *t, size_t i, size_t n, size_t *len)
{
	if (t[i] != '\\')
		return 0;
	if (i + 6 <= n && !memcmp(t + i + 1, "boxed", 5))
		*len = 6;
	else if (i + 5 <= n && !memcmp(t + i + 1, "fbox", 4))
		*len = 5;
	else
		return 0;
	return i + *len >= n || !isal(t[i + *len]);
}

/* The content of the last complete \boxed{...} / \fbox{...} (the one that
 * starts last), or of "\boxed X" without braces (to a '$' or line end).
 * One pass with a stack of open braces: an unclosed box (a truncated
 * completion) never counts. */
typedef struct { long start; int seen; } boxopen; /* start -1: a plain brace */

static void
push_open(boxopen **st, size_t *nst, size_t *cap, long start)
{
	EGROW(*st, *nst, *cap, 16);
	(*st)[(*nst)++] = (boxopen){start, 0};
}

/* The content of the last complete \boxed{...} / \fbox{...} (the one that
 * starts last) holding something (a letter, digit or command), or of
 * "\boxed X" without braces (to a '$' or line end).  One pass with a stack
 * of open braces, each knowing whether anything is inside it; an unclosed
 * box (a truncated completion) never counts. */
static char *
ex_boxed(const char *t)
{
	size_t n = strlen(t), best_a = 0, best_b = 0, nst = 0, cap = 0;
	int have = 0;
	boxopen *st = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (boxcmd(t, i, n, &len)) {
			size_t j = i + len;
			while (j < n && (t[j] == ' ' || t[j] == '\t'))
				j++;
			if (j < n && t[j] == '{') {
				push_open(&st, &nst, &cap, (long)(j + 1));
				i = j;
			} else if (j > i + len) {
				size_t e = j;
				while (e < n && t[e] != '$' && t[e] != '\n')
					e++;
				char *c = clean(t, j, e);
				if (c && (!have || j > best_a))
					have = 1, best_a = j, best_b = e;
				free(c);
				i = e - 1;
			}
			continue;
		}
		if (t[i] == '{') {
			push_open(&st, &nst, &cap, -1);
		} else if (t[i] == '}' && nst) {
			boxopen o = st[--nst];
			if (nst)
				st[nst - 1].seen |= o.seen;
			if (o.start >= 0 && o.seen && (!have || (size_t)o.start > best_a))
				have = 1, best_a = (size_t)o.start, best_b = i;
		} else if (nst && (isalnum((unsigned char)t[i]) || t[i] == '\\')) {
			st[nst - 1].seen = 1;
		}
	}
	free(st);
	return have ? clean(t, best_a, best_b) : NULL;
}

/* "#### X": the last one, to the end of its line. */
static char *
ex_hash(const char *t)
{
	const char *p = NULL, *q = t;
	while ((q = strstr(q, "####")) != NULL) {
		while (*q == '#')
			q++;
		p = q;
	}
	if (!p)
		return NULL;
	size_t e = strcspn(p, "\n");
	return clean(p, 0, e);
}

/* "the (final) answer is X" / "answer: X": the last one; X runs to the
 * line end, cut at the first sentence end (a '.' before a space) and
 * before "I hope". */
static char *
ex_says(const char *t)
{
	size_t n = strlen(t);
	const char *p = NULL;
	for (size_t i = n; i-- > 0;) {
		if ((t[i] == 'a' || t[i] == 'A') && i + 7 <= n && !strncasecmp(t + i, "answer", 6) &&
		    (i == 0 || !isal(t[i - 1]))) {
			const char *q = t + i + 6;
			if (!strncasecmp(q, " is", 3) && !isal(q[3]))
				q += 3;
			else if (*q != ':')
				continue;
			p = q;
			break;
		}
	}
	if (!p)
		return NULL;
	while (*p == ':' || *p == ' ' || *p == '\t')
		p++;
	size_t e = strcspn(p, "\n");
	for (size_t i = 0; i < e; i++) {
		if (p[i] == '.' && (i + 1 == e || issp(p[i + 1]))) {
			e = i;
			break;
		}
		if (!strncmp(p + i, "I hope", 6)) {
			e = i;
			break;
		}
	}
	return clean(p, 0, e);
}

/* The last number: -?digits with ,ddd groups, a decimal part, or a/b. */
static char *
ex_last(const char *t)
{
	size_t n = strlen(t), a = 0, b = 0;
	int have = 0;
	for (size_t i = 0; i < n;) {
		if (!(isdig(t[i]) || (t[i] == '.' && i + 1 < n && isdig(t[i + 1])))) {
			i++;
			continue;
		}
		size_t s = i;
		if (s > 0 && t[s - 1] == '-' && (s < 2 || !isalnum((unsigned char)t[s - 2])))
			s--;
		else if (s >= 3 && !memcmp(t + s - 3, "\xe2\x88\x92", 3)) /* U+2212 minus */
			s -= 3;
		while (i < n && isdig(t[i]))
			i++;
		while (i + 3 < n + 0 && t[i] == ',' && isdig(t[i + 1]) && isdig(t[i + 2]) &&
		       isdig(t[i + 3]) && (i + 4 >= n || !isdig(t[i + 4])))
			i += 4;
		if (i + 1 < n && t[i] == '.' && isdig(t[i + 1]))
			for (i++; i < n && isdig(t[i]); i++)
				;
		if (i + 1 < n && t[i] == '/' && isdig(t[i + 1]))
			for (i++; i < n && isdig(t[i]); i++)
				;
		a = s, b = i, have = 1;
	}
	return have ? str_dupn(t + a, b - a) : NULL;
}

char *
ans_extract_canon(const char *text, int rules, const char **rule, char **canon)
{
	static const struct { int bit; const char *name; char *(*fn)(const char *); } tab[] = {
		{ANS_BOXED, "boxed", ex_boxed},
		{ANS_HASH, "hash", ex_hash},
		{ANS_SAYS, "answer_is", ex_says},
		{ANS_LAST, "last_number", ex_last},
	};
	if (rule)
		*rule = NULL;
	if (canon)
		*canon = NULL;
	if (!text)
		return NULL;
	for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++) {
		if (!(rules & tab[k].bit))
			continue;
		char *a = tab[k].fn(text);
		if (!a)
			continue;
		char *c = ans_canon(a);
		if (!*c) {
			free(c);
			free(a);
			continue;
		}
		if (rule)
			*rule = tab[k].name;
		if (canon)
			*canon = c;
		else
			free(c);
		return a;
	}
	return NULL;
}

char *
ans_extract(const char *text, int rules, const char **rule)
{
	return ans_extract_canon(text, rules, rule, NULL);
}

int
ans_rules(const char *list)
{
	int r = 0;
	char *s = estrdup(list), *save = NULL;
	for (char *w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (!strcmp(w, "boxed")) r |= ANS_BOXED;
		else if (!strcmp(w, "hash")) r |= ANS_HASH;
		else if (!strcmp(w, "answer_is")) r |= ANS_SAYS;
		else if (!strcmp(w, "last_number")) r |= ANS_LAST;
		else if (!strcmp(w, "all")) r |= ANS_ALL;
		else {
			r = -1;
			break;
		}
	}
	free(s);
	return r;
}
