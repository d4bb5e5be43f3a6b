/* synth.h — tiny random models of every mixer kind, for tests and
 * tts-generate --synthetic (see synth.c). */
#ifndef TTS_SYNTH_H
#define TTS_SYNTH_H

#include <stdint.h>

#include "model.h"

enum synth_kind { SYN_LLAMA, SYN_MAMBA2, SYN_MIL2, SYN_MIL1, SYN_BAMBA };
extern const char *synth_kind_name[];   /* "llama" "mamba2" "mil2" "mil1" "bamba" */
int synth_kind_parse(const char *s);    /* -1 if unknown */

/* d_model 32, 3 layers (attention/Mamba per kind), the given vocabulary,
 * bos 1, eos 2; weights from a generator seeded by seed. */
tts_model *tts_model_synthetic(enum synth_kind kind, int vocab, uint64_t seed);
void tts_model_synthetic_free(tts_model *m);

#endif
