/* fuzz.h — what the libFuzzer harnesses share: the input as a file (a
 * memfd named by /proc/self/fd/N, for loaders that take a path), the input
 * split into parts, and a non-fatal eprintf (tts_set_error_handler) for the
 * APIs whose errors exit. */
#ifndef TTS_FUZZ_H
#define TTS_FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tts.h"

/* eprintf longjmps here instead of exiting: an error is a clean outcome. */
static jmp_buf fuzz_env __attribute__((unused));
static __attribute__((unused)) void
fuzz_error(void)
{
	longjmp(fuzz_env, 1);
}

/* Write the bytes to a file (one memfd, reused) and return its path. */
static __attribute__((unused)) const char *
fuzz_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

/* Write the bytes to DIR/NAME (DIR made once, under /tmp). */
static __attribute__((unused)) const char *
fuzz_dir(void)
{
	static char dir[64];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/tts-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}
static __attribute__((unused)) void
fuzz_write(const char *name, const void *data, size_t size)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
	if (!data) {
		unlink(path);
		return;
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

/* The next part of the input up to SEP (or the end), NUL-terminated in a
 * new buffer; *p and *n advance past it.  NULL when nothing is left. */
static __attribute__((unused)) char *
fuzz_part(const uint8_t **p, size_t *n, const char *sep, size_t *len)
{
	if (!*p)
		return NULL;
	size_t k = strlen(sep);
	const uint8_t *end = memmem(*p, *n, sep, k);
	size_t m = end ? (size_t)(end - *p) : *n;
	char *s = malloc(m + 1);
	memcpy(s, *p, m);
	s[m] = 0;
	if (len)
		*len = m;
	if (end) {
		*n -= m + k;
		*p = end + k;
	} else {
		*p = NULL;
		*n = 0;
	}
	return s;
}

#endif
