/* cmds.h — tts-generate's commands that need no forward pass: describe a
 * model (--inspect), tokenize and detokenize records.  Each returns the
 * exit status; errors in the data are fatal (eprintf). */
#ifndef TTS_GENERATE_CMDS_H
#define TTS_GENERATE_CMDS_H

#include "record.h"

/* One record describing the model in dir: architecture, format, layer
 * kinds, geometry, parameter count; with tensors != 0 every tensor's
 * dtype and shape too. */
int cmd_inspect(const char *dir, int tensors, rec_writer *w);

/* Tokenizer of a model directory (its tokenizer.json), or a tokenizer.json
 * given directly. */
struct tts_tokenizer *cmd_load_tokenizer(const char *dir_or_file);

/* For each record: ids = the tokens of rec[key].  flags: TTS_TOK_* */
int cmd_tokenize(const char *dir, rec_reader *r, rec_writer *w, const char *key, int flags);
/* For each record: text = the decoding of rec["ids"]. */
int cmd_detokenize(const char *dir, rec_reader *r, rec_writer *w, int skip_special);

#endif
