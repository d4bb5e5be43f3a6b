/* answer.c — TEMPORARY stub until the answer layer (branch ans) lands:
 * the canonical form is the string with surrounding white space trimmed,
 * and two answers are equal when their canonical forms are. */
#include "answer.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tts.h"

char *
ans_extract(const char *text, int rules, const char **rule)
{
	(void)text;
	(void)rules;
	if (rule)
		*rule = NULL;
	return NULL;
}

char *
ans_canon(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	char *c = emalloc(n + 1);
	memcpy(c, s, n);
	c[n] = 0;
	return c;
}

int
ans_equal(const char *a, const char *b)
{
	char *x = ans_canon(a), *y = ans_canon(b);
	int eq = strcmp(x, y) == 0;
	free(x);
	free(y);
	return eq;
}
