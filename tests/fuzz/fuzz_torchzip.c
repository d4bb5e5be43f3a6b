/* fuzz_torchzip.c — a PyTorch zip checkpoint (pytorch_model.bin: a zip of
 * data.pkl and the storages) through tts_torchzip_open: zip directory,
 * restricted unpickler, storage lookup. */
#include "fuzz_weights.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_weights(tts_torchzip_open, data, size);
}
