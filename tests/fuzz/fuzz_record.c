/* fuzz_record.c — the record reader (lib/record.c: JSONL, msgpack, zstd,
 * detected from the first bytes) on arbitrary bytes, strict and tolerant
 * (rec_allow_truncated: the first byte's low bit).  Errors longjmp out of
 * eprintf; the reader is closed then, but a value being built when the
 * error came leaks: run with detect_leaks=0. */
#include "fuzz.h"
#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int tolerant = data[0] & 1;
	const char *path = fuzz_file(data + 1, size - 1);
	static rec_reader *volatile r;
	tts_set_error_handler(fuzz_error);
	if (setjmp(fuzz_env) == 0) {
		r = rec_open(path);
		if (tolerant)
			rec_allow_truncated(r);
		json_t *v;
		while ((v = rec_next(r))) {
			/* touch what a tool would: keys and string values */
			const char *k;
			json_t *x;
			json_object_foreach(v, k, x)
				if (json_is_string(x))
					(void)json_string_length(x);
			(void)rec_where(r);
			json_decref(v);
		}
	}
	if (r)
		rec_close(r);
	r = NULL;
	tts_set_error_handler(NULL);
	return 0;
}
