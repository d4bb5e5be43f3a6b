/* fixtures_util.h — what the C checks that read tests/fixtures/models share
 * (tests/unit/test_fixtures.c on the CPU, tests/gpu/check_ops.c on the GPU). */
#ifndef TTS_FIXTURES_UTIL_H
#define TTS_FIXTURES_UTIL_H

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A fixture's expected.json, with its directory FIXDIR/name written into
 * dir; NULL when it has none. */
static inline json_t *
fx_expected(const char *name, char *dir, size_t size)
{
	char path[700];
	json_error_t jerr;
	snprintf(dir, size, "%s/%s", FIXDIR, name);
	snprintf(path, sizeof path, "%s/expected.json", dir);
	return json_load_file(path, 0, &jerr);
}

static inline int
fx_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fn(name) for each fixture of FIXDIR that has an expected.json, in name
 * order (at most 64); -1 when FIXDIR is missing. */
static inline int
fx_each(void (*fn)(const char *name))
{
	DIR *d = opendir(FIXDIR);
	if (!d)
		return -1;
	char *names[64];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 64) {
		char p[600];
		snprintf(p, sizeof p, "%s/%s/expected.json", FIXDIR, de->d_name);
		if (de->d_name[0] != '.' && access(p, R_OK) == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, fx_name_cmp);
	for (int i = 0; i < n; i++) {
		fn(names[i]);
		free(names[i]);
	}
	return 0;
}

#endif
