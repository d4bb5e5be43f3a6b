/* util.c — errors, checked parsing, allocation (see tts.h). */
#include "tts.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *argv0 = "tts";
volatile int tts_interrupted;
static void (*error_handler)(void);

void
tts_set_error_handler(void (*fn)(void))
{
	error_handler = fn;
}

void
tts_init(int argc, char **argv)
{
	(void)argc;
	if (argv && argv[0]) {
		const char *s = strrchr(argv[0], '/');
		argv0 = s ? s + 1 : argv[0];
	}
	setlocale(LC_NUMERIC, "C");
}

static void
verr(const char *fmt, va_list ap)
{
	int saved = errno;
	fprintf(stderr, "%s: ", argv0);
	vfprintf(stderr, fmt, ap);
	size_t n = strlen(fmt);
	if (n && fmt[n - 1] == ':')
		fprintf(stderr, " %s", strerror(saved));
	fputc('\n', stderr);
}

void
eprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
	if (error_handler)
		error_handler();
	exit(1);
}

void
weprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(fmt, ap);
	va_end(ap);
}

void
usage_error(const char *usage, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		verr(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "usage: %s\n", usage);
	exit(2);
}

int
str_to_ll(const char *s, long long *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int
str_to_double(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || isnan(v))
		return -1;
	*out = v;
	return 0;
}

long long
parse_ll(const char *s, const char *opt, long long lo, long long hi)
{
	long long v;
	if (str_to_ll(s, &v) || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: expected an integer in [%lld, %lld], got '%s'\n",
			argv0, opt, lo, hi, s ? s : "");
		exit(2);
	}
	return v;
}

double
parse_double(const char *s, const char *opt, double lo, double hi)
{
	double v;
	if (str_to_double(s, &v) || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: expected a number in [%g, %g], got '%s'\n",
			argv0, opt, lo, hi, s ? s : "");
		exit(2);
	}
	return v;
}

int
tts_fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return -1;
}

void *
emalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		eprintf("out of memory (%zu bytes)", n);
	return p;
}

void *
ecalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		eprintf("out of memory (%zu x %zu bytes)", n, m);
	return p;
}

void *
erealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		eprintf("out of memory (%zu bytes)", n);
	return p;
}

char *
estrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		eprintf("out of memory");
	return p;
}

void
close_stdout(void)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		eprintf("<stdout>: write error:");
	if (fclose(stdout) == EOF)
		eprintf("<stdout>: write error:");
}

double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void
on_signal(int sig)
{
	(void)sig;
	tts_interrupted = 1;
}

void
tts_catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
