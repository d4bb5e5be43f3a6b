/* fuzz_safetensors.c — a .safetensors file (8-byte header length, JSON
 * header, data) through tts_safetensors_open. */
#include "fuzz_weights.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_weights(tts_safetensors_open, data, size);
}
