/* gen.h — the parts of tts-generate: the tokenizer adapter (tok.c), the
 * scheduler (sched.c) and the driver (main.c). */
#ifndef TTS_GEN_H
#define TTS_GEN_H

#include <jansson.h>
#include <stdint.h>

#include "forward.h"
#include "model.h"

/* ---- tokenizer adapter ---- */
typedef struct gen_tok gen_tok;
/* The model directory's tokenizer; dir NULL: the synthetic models' ASCII
 * tokenizer (id = byte, BOS 1). */
gen_tok *gen_tok_open(const char *dir, const tts_model *m);
void gen_tok_close(gen_tok *t);
/* Encode text with the tokenizer's BOS rule; returns the count, *ids malloc'd. */
int gen_encode(gen_tok *t, const char *text, size_t n, int32_t **ids);
/* Decode ids to valid UTF-8 (malloc'd, NUL-terminated; *len its length). */
char *gen_decode(gen_tok *t, const int32_t *ids, int n, size_t *len);

/* ---- settings ---- */
typedef struct {
	int n;                   /* samples per prompt */
	float temperature, top_p, min_p;
	int top_k, max_tokens, ignore_eos, max_batch, keep_prompt, token_ids;
	uint64_t seed;
	char **stop; int n_stop; /* stop strings */
	const char *name;        /* model name in records */
	const char *dump_logits; /* debugging: float32 logits of every prompt position */
	int kv_blocks;           /* 0: default */
} gen_opts;

/* ---- scheduler ---- */
typedef struct gen_sched gen_sched;

/* Called with a problem's input record and its n sample records (in
 * sample order) when all its samples are done; records are borrowed. */
typedef void (*gen_emit_fn)(void *ctx, json_t *in, json_t **samples, int n);

gen_sched *gen_sched_new(tts_engine *e, gen_tok *tok, const gen_opts *o,
			 gen_emit_fn emit, void *ctx);
/* Admission: is there room for another problem now? */
int gen_sched_wants(gen_sched *s);
/* Add a problem: its record (reference taken), id, prompt ids (taken). */
void gen_sched_add(gen_sched *s, json_t *rec, const char *id, int32_t *ids, int n_ids);
/* One step (a prefill or a decode step); 0 when nothing is in flight. */
int gen_sched_step(gen_sched *s);
/* Problems emitted so far, tokens generated so far. */
long gen_sched_done(const gen_sched *s, long *tokens);
/* TTS_SCHED_STATS=1: one line of how full the decode steps ran. */
void gen_sched_stats(const gen_sched *s, FILE *f);
void gen_sched_free(gen_sched *s);

#endif
