/* fixtures_util.h — what the C checks that read tests/fixtures/models share
 * (tests/unit/test_fixtures.c on the CPU, tests/gpu/check_ops.c on the GPU). */
#ifndef TTS_FIXTURES_UTIL_H
#define TTS_FIXTURES_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"

#define FIXDIR "tests/fixtures/models"

/* n float32 values from a raw little-endian file (a fixture's logits.f32),
 * malloc'd; NULL when the file is missing or shorter than that. */
static inline float *
fx_read_f32(const char *path, size_t n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	float *v = malloc(n * sizeof *v);
	size_t got = v ? fread(v, sizeof *v, n, f) : 0;
	fclose(f);
	if (got != n) {
		free(v);
		return NULL;
	}
	return v;
}

/* The first index of the largest logit. */
static inline int
fx_argmax(const float *l, int n)
{
	int b = 0;
	for (int i = 1; i < n; i++)
		if (l[i] > l[b])
			b = i;
	return b;
}

/* Does the loader accept dir?  It exits on a model it refuses, so ask a
 * child first. */
static inline int
fx_loadable(const char *dir)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		tts_model_load(dir);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
