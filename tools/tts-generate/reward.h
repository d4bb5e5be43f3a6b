/* reward.h — tts-generate --reward (reward.c): score sample records with an
 * outcome reward model (a sequence-classification head) or a process
 * reward model (a causal LM read at step ends), sampling nothing. */
#ifndef TTS_REWARD_H
#define TTS_REWARD_H

#include "model.h"
#include "ops.h"
#include "record.h"

enum rm_format { RM_CONCAT, RM_LLAMA3, RM_RLHFLOW };
enum rm_agg { AGG_LAST, AGG_MIN, AGG_PROD };

typedef struct {
	enum rm_format format;
	enum rm_agg agg;
	int step_scores;        /* --step-scores: keep step_rewards */
	int vocab_softmax;      /* PRM: P(+) over the whole vocabulary, not {+, -} */
	const char *sep;        /* step separator (default "\n\n") */
	const char *plus, *minus; /* PRM label tokens (default "+", "-") */
	const char *system;     /* llama3, rlhflow-prm: a system turn's text, verbatim (NULL: none) */
	int max_batch, kv_blocks;
} reward_opts;

/* Parse the value of --rm-format, --aggregate, --prm-softmax, --labels;
 * -1 if it is not one of the choices. */
int reward_parse_format(const char *s);
int reward_parse_agg(const char *s);
int reward_parse_labels(reward_opts *ro, char *s);

/* Read sample records from the files (standard input when none), write
 * them to w with "reward" added; dir is the model directory (its
 * tokenizer.json).  Returns the exit status. */
int reward_run(const tts_ops *ops, const tts_model *m, const char *dir, const reward_opts *ro,
	       char **files, int n_files, rec_writer *w);

#endif
