/* cuda_none.c — tts_cuda_ops when the CUDA backend is not built (CUDA=0:
 * no nvcc on the build machine); kernels/cuda/ops.cu defines it otherwise. */
#include <stdio.h>

#include "ops.h"

#ifndef TTS_CUDA
const tts_ops *
tts_cuda_ops(int device, char *err, size_t errlen)
{
	(void)device;
	snprintf(err, errlen, "built without CUDA (rebuild with nvcc on the PATH, or CUDA=1)");
	return NULL;
}
#else
typedef int tts_cuda_built;   /* the backend is in kernels/cuda */
#endif
