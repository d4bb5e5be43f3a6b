/* weights.h — the named tensors of a checkpoint, memory-mapped from its
 * files: safetensors (one file or shards with model.safetensors.index.json)
 * or torch.save zips (pytorch_model.bin, or shards with its index).  Every
 * file is checked before its tensors are listed; nothing is copied.
 * Functions return 0, or -1 with a one-line message in err ("FILE: what"). */
#ifndef TTS_WEIGHTS_H
#define TTS_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

/* Element types a checkpoint may hold; only the float ones reach a model. */
enum { WD_F32, WD_F16, WD_BF16, WD_F64, WD_I64, WD_I32, WD_I16, WD_I8, WD_U8, WD_BOOL, WD_N };

typedef struct {
	char *name;
	int dtype;               /* WD_* */
	int ndim;
	int64_t shape[8];
	const void *data;        /* into a mapping; may be unaligned */
	uint64_t nbytes;
	int file;                /* index into files[] */
	int used;                /* set by the model loader */
} tts_wtensor;

typedef struct {
	char *path;
	void *map;
	size_t len;
} tts_wfile;

typedef struct {
	tts_wtensor *t;
	size_t n, cap;
	tts_wfile *files;
	int nfiles;
	strmap index;            /* name -> position in t */
	const char *format;      /* "safetensors" or "pytorch" */
} tts_weights;

const char *tts_wdtype_name(int dt);          /* "F32", "BF16", ... */
int tts_wdtype_size(int dt);                   /* bytes per element */
int tts_wdtype_from_name(const char *s);       /* safetensors names; -1 if unknown */

void tts_weights_init(tts_weights *w);
void tts_weights_free(tts_weights *w);
/* Memory-map a whole file read-only; returns the file's index. */
int tts_weights_map(tts_weights *w, const char *path, char *err, size_t errlen);
/* Add a tensor (name copied).  Fails on a duplicate name. */
int tts_weights_add(tts_weights *w, const tts_wtensor *t, char *err, size_t errlen);
tts_wtensor *tts_weights_find(const tts_weights *w, const char *name);

/* One safetensors file, one torch zip; the model directory (any layout). */
int tts_safetensors_open(tts_weights *w, const char *path, char *err, size_t errlen);
int tts_torchzip_open(tts_weights *w, const char *path, char *err, size_t errlen);
int tts_weights_open_dir(tts_weights *w, const char *dir, char *err, size_t errlen);

#endif
