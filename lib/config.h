/* config.h — reading a model directory's JSON files into a tts_model's
 * geometry: config.json (the older schema with rope_theta / rope_scaling /
 * torch_dtype and the current one with rope_parameters / dtype),
 * mamba_config.json (MambaInLlama), generation_config.json.  Tensors are
 * bound by model.c.  Functions return 0, or -1 with "FILE: what" in err. */
#ifndef TTS_CONFIG_H
#define TTS_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "model.h"

enum tts_family { FAM_LLAMA, FAM_MAMBA2, FAM_BAMBA, FAM_MIL };

/* Load a JSON file, accepting the NaN / Infinity / -Infinity that Python's
 * json.dump writes (as in time_step_limit); they become strings that
 * tts_json_num reads back, as it reads transformers 5's
 * {"__float__": "Infinity"}.  NULL with err set on failure. */
json_t *tts_json_load(const char *path, char *err, size_t errlen);
/* A number (integer or real, or one of those strings); -1 if not one. */
int tts_json_num(const json_t *v, double *out);

/* Fill m's geometry, layer kinds and generation settings from dir.
 * mil_kind: for MambaInLlama, MIXER_MAMBA2 or MIXER_MAMBA1 to force the
 * mixer, -1 to decide from mamba_config.json (ngroups in ssm_cfg: Mamba2).
 * m->layers is allocated (n_layers, mixers set, tensors empty). */
int tts_config_read(const char *dir, tts_model *m, int mil_kind, enum tts_family *fam,
		    char *err, size_t errlen);

#endif
