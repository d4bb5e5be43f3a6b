/* fuzz_mathexpr.c — the expression evaluator (lib/mathexpr.c): two
 * expressions separated by a line "#vs" compared by mx_equal, and each
 * parsed alone. */
#include "fuzz.h"
#include "mathexpr.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a = fuzz_part(&data, &size, "\n#vs\n", NULL);
	char *b = fuzz_part(&data, &size, "\n#vs\n", NULL);
	(void)mx_parses(a);
	if (b) {
		(void)mx_parses(b);
		(void)mx_equal(a, b);
	}
	free(a);
	free(b);
	return 0;
}
