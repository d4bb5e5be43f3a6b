/* fixtures_util.h — what the C checks that read tests/fixtures/models share
 * (tests/unit/test_fixtures.c on the CPU, tests/gpu/check_ops.c on the GPU). */
#ifndef TTS_FIXTURES_UTIL_H
#define TTS_FIXTURES_UTIL_H

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"

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
