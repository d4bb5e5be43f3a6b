/* fuzz_weights.h — one checkpoint file through a weights opener, then
 * every tensor's bytes read (they must lie inside the mapping). */
#ifndef TTS_FUZZ_WEIGHTS_H
#define TTS_FUZZ_WEIGHTS_H

#include "fuzz.h"
#include "weights.h"

static volatile uint8_t fuzz_sink;

static int
fuzz_weights(int (*open)(tts_weights *, const char *, char *, size_t), const uint8_t *data, size_t size)
{
	char err[512];
	tts_weights w;
	tts_weights_init(&w);
	if (open(&w, fuzz_file(data, size), err, sizeof err) == 0) {
		for (size_t i = 0; i < w.n; i++)
			for (uint64_t j = 0; j < w.t[i].nbytes; j++)
				fuzz_sink += ((const uint8_t *)w.t[i].data)[j];
	}
	tts_weights_free(&w);
	return 0;
}

#endif
