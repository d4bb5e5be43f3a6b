/* backend.c — choosing a backend by name.  The CUDA backend (kernels/cuda)
 * defines tts_cuda_ops when it is built; this weak stand-in answers when
 * it is not. */
#include <stdio.h>

#include "ops.h"

__attribute__((weak)) const tts_ops *
tts_cuda_ops(int device, char *err, size_t errlen)
{
	(void)device;
	snprintf(err, errlen, "the CUDA backend is not built in (make CUDA=1 on a machine with nvcc)");
	return NULL;
}
