/* fuzz_answer.c — answer extraction (every rule set), canonicalisation and
 * equivalence (lib/answer.c): the input is a model's text, then after a
 * line "#gold" the gold answer. */
#include "answer.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_part(&data, &size, "\n#gold\n", NULL);
	char *gold = fuzz_part(&data, &size, "\n#gold\n", NULL);
	const char *rule;
	char *pred = ans_extract(text, ANS_ALL, &rule);
	for (int rules = 1; rules < ANS_ALL; rules <<= 1)
		free(ans_extract(text, rules, &rule));
	char *ca = ans_canon(pred ? pred : text);
	if (gold) {
		char *cb = ans_canon(gold);
		(void)ans_equal(pred ? pred : text, gold);
		if (ca && cb)
			(void)ans_equal_canon(ca, cb);
		free(cb);
	}
	free(ca);
	free(pred);
	free(text);
	free(gold);
	return 0;
}
