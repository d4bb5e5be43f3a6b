/* answer.h — final answers: extraction from a completion, canonical form,
 * and the one equivalence that grading and vote grouping both use
 * (DESIGN: "The same function decides grading and grouping"). */
#ifndef TTS_ANSWER_H
#define TTS_ANSWER_H

/* Extraction rules, tried in this order (a bit set chooses which). */
enum {
	ANS_BOXED = 1,     /* last \boxed{...} / \fbox{...} */
	ANS_HASH = 2,      /* "#### X" */
	ANS_SAYS = 4,      /* "the (final) answer is X" */
	ANS_LAST = 8,      /* the last number */
	ANS_ALL = 15,
};

/* The extracted answer (malloc'd) or NULL; *rule gets the rule's name
 * ("boxed", "hash", "answer_is", "last_number") or NULL. */
char *ans_extract(const char *text, int rules, const char **rule);
/* Canonical string form (malloc'd). */
char *ans_canon(const char *s);
/* 1 when the two answers are the same (deterministic, symmetric), else
 * 0.  Arguments may be raw or canonical. */
int ans_equal(const char *a, const char *b);

/* Added by issue 3 (tts-extract): */
/* The rule set named by a comma list of "boxed", "hash", "answer_is",
 * "last_number" (or "all"), in any order; -1 if a name is unknown. */
int ans_rules(const char *list);
/* ans_equal for two strings already in canonical form (skips ans_canon:
 * faster when grouping many samples whose pred_canon is known). */
int ans_equal_canon(const char *ca, const char *cb);

#endif
