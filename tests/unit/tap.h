/* tap.h — the smallest TAP producer, for the C unit tests.  Each test
 * program prints "ok N - name" / "not ok N - name" lines and "1..N" last;
 * tests/run counts them with the bats results. */
#ifndef TAP_H
#define TAP_H
#include <math.h>
#include <stdio.h>

static int tap_n, tap_fail;

#define ok(cond, ...) do { \
	int ok_c_ = !!(cond); \
	printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n); \
	printf(__VA_ARGS__); \
	putchar('\n'); \
	if (!ok_c_) { tap_fail++; printf("#   failed at %s:%d\n", __FILE__, __LINE__); } \
} while (0)

/* |a - b| <= tol + |b|*rtol */
#define ok_close(a, b, tol, rtol, ...) do { \
	double a_ = (a), b_ = (b); \
	int c_ = fabs(a_ - b_) <= (tol) + fabs(b_) * (rtol); \
	ok(c_, __VA_ARGS__); \
	if (!c_) printf("#   got %.17g want %.17g\n", a_, b_); \
} while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_fail ? 1 : 0;
}
#endif
