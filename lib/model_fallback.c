/* model_fallback.c — weak stand-ins for the loader (lib/model.c, being
 * written on its own branch) so that the engine links before it lands.
 * The loader's strong definitions replace these; delete this file then. */
#include <string.h>

#include "model.h"
#include "tts.h"

__attribute__((weak)) size_t
tts_tensor_numel(const tts_tensor *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= t->shape[i];
	return n;
}

__attribute__((weak)) void
tts_tensor_to_f32(const tts_tensor *t, float *dst)
{
	if (t->dtype != TTS_F32)
		eprintf("%s: only float32 without the loader", t->name);
	memcpy(dst, t->data, tts_tensor_numel(t) * sizeof(float));
}

__attribute__((weak)) tts_model *
tts_model_load(const char *dir)
{
	eprintf("%s: model loading is not built in yet", dir);
}

__attribute__((weak)) void
tts_model_free(tts_model *m)
{
	(void)m;
}
