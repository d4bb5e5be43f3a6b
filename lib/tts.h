/* tts.h — what every tts tool shares: program name, errors, checked
 * number parsing, allocation.  Errors follow sbase: a message ending in ':'
 * gets strerror(errno) appended.  Exit codes: 0 ok, 1 bad data or runtime
 * failure, 2 usage. */
#ifndef TTS_H
#define TTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TTS_VERSION "0.1.0"

extern const char *argv0;            /* the tool's name, set by tts_init */

void tts_init(int argc, char **argv); /* sets argv0, locale-independent numbers */

/* "tts-x: <msg>" on stderr.  eprintf exits 1, weprintf returns. */
void eprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void weprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For fuzzing harnesses only: eprintf calls fn (after printing) instead of
 * exiting; fn must not return (it longjmps back to the harness).  NULL
 * restores the exit. */
void tts_set_error_handler(void (*fn)(void));
/* Usage error: prints the message and "usage: <usage>" then exits 2. */
void usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* Checked number parsing of option arguments: the whole string must be a
 * number in [lo, hi]; otherwise a usage error naming the option. */
long long parse_ll(const char *s, const char *opt, long long lo, long long hi);
double parse_double(const char *s, const char *opt, double lo, double hi);
/* Non-fatal variants: 0 on success, -1 on error. */
int str_to_ll(const char *s, long long *out);
int str_to_double(const char *s, double *out);

/* Format an error message into err[0..n) and return -1: for the loaders,
 * which report errors to their caller instead of exiting. */
int tts_fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void *emalloc(size_t n);
void *ecalloc(size_t n, size_t m);
void *erealloc(void *p, size_t n);
char *estrdup(const char *s);

/* Room for one more element in the array p of n elements and capacity cap
 * (any integer types): the capacity doubles, starting at first. */
#define EGROW(p, n, cap, first) do {                                         \
	if ((n) == (cap)) {                                                  \
		(cap) = (cap) ? 2 * (cap) : (first);                          \
		(p) = erealloc((p), (size_t)(cap) * sizeof *(p));             \
	}                                                                    \
} while (0)

/* Flush and close stdout, checking for errors (a full disk is an error). */
void close_stdout(void);

/* Seconds since an arbitrary epoch (monotonic). */
double now_s(void);

/* Set when SIGINT/SIGTERM arrives after tts_catch_signals(). */
extern volatile int tts_interrupted;
void tts_catch_signals(void);

#endif
