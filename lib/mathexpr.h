/* mathexpr.h — a small evaluator for canonical answer strings (answer.c's
 * ans_canon output): parse to a tree, compare two trees by value.
 *
 * Scalars compare by value with a relative tolerance of MX_REL_TOL (plus
 * MX_ABS_TOL near zero); expressions with free variables by evaluating both
 * at MX_POINTS fixed pseudo-random points.  Tuples and intervals compare
 * element-wise with their bracket types, sets and bare lists as multisets,
 * matrices element-wise, equations as left - right up to a non-zero
 * constant factor.  Input longer than MX_MAX_LEN or nested deeper than
 * MX_MAX_DEPTH does not parse.  No global state; deterministic. */
#ifndef TTS_MATHEXPR_H
#define TTS_MATHEXPR_H

#define MX_REL_TOL 1e-9
#define MX_ABS_TOL 1e-12
#define MX_POINTS 5
#define MX_MAX_LEN 4096
#define MX_MAX_DEPTH 64

/* 1 equal, 0 different, -1 when either side does not parse as math. */
int mx_equal(const char *a, const char *b);
/* 1 when s parses as math (used by tests and by the man page's claims). */
int mx_parses(const char *s);

#endif
