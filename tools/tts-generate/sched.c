/* sched.c — tts-generate's scheduler: prompts prefilled once and forked
 * into N samples, continuous batching of the samples, paged KV blocks with
 * reference counts, Mamba state slots, and the attribution of time and
 * FLOPs to samples.
 *
 * A problem is prefilled into a "parent" state (a slot and KV blocks).
 * Its samples are forked from it as room appears in the batch: the child
 * shares the parent's KV blocks by reference (the partially filled last
 * block is copied when first written), and gets a copy of the Mamba states
 * (the last child takes the parent's own).  Each step is either one
 * prefill or one decode step of every running sample (at most
 * --max-batch).  A sample's numbers depend only on its own state and its
 * own random stream, never on the batch, so output is reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "philox.h"
#include "tts.h"

#define BLK TTS_KV_BLOCK
#define CEIL(a, b) (((a) + (b) - 1) / (b))

typedef struct problem problem;
struct problem {
	json_t *rec;
	char *id;
	uint32_t key[2];
	int32_t *ids;
	int n_ids, n, forked, finished, prefilled;
	json_t **out;
	int slot;                  /* the prefilled prompt's state */
	int32_t *blocks;
	int n_blocks;
	float *logits;             /* backend: logits after the prompt */
	double pre_ms, pre_flops;  /* per sample */
	problem *next;
};

typedef struct {
	problem *p;
	int sample, slot, ctx, n_blocks, reserved, n_gen, n_toks;
	int32_t *blocks, *toks, next;
	double logprob, ms, flops;
	const char *finish;
} seq;

struct gen_sched {
	tts_engine *e;
	const tts_ops *ops;
	const tts_model *m;
	gen_tok *tok;
	gen_opts o;
	gen_emit_fn emit;
	void *ctx;
	int has_attn, max_ctx;
	int n_blocks, n_free, reserved, *ref;
	int32_t *free_blocks;
	int n_free_slots;
	int32_t *free_slots;
	seq **active;
	int n_active, demand, n_queue, n_inflight;  /* n_queue: not yet prefilled */
	problem *head, *tail;
	/* step buffers */
	int32_t *ids, *q_len, *ctx_len, *slot, *htok, *dtok;
	const int32_t **blocks;
	tts_sample_params *hp, *dp;
	float *hlp, *dlp, *hlogits;
	FILE *dump;
	long done, tokens;
	/* TTS_SCHED_STATS: decode steps, sequences summed over them, the largest
	 * batch, prefills, seconds in decode steps */
	long steps, seq_steps, prefills;
	int peak;
	double decode_s;
};

static int
block_alloc(gen_sched *s)
{
	if (s->n_free == 0)
		eprintf("internal error: out of KV blocks");
	int b = s->free_blocks[--s->n_free];
	s->ref[b] = 1;
	return b;
}

static void
block_unref(gen_sched *s, int b)
{
	if (--s->ref[b] == 0)
		s->free_blocks[s->n_free++] = b;
}

static int
slot_alloc(gen_sched *s)
{
	if (s->n_free_slots == 0)
		eprintf("internal error: out of state slots");
	int slot = s->free_slots[--s->n_free_slots];
	tts_engine_slot_zero(s->e, slot);
	return slot;
}

gen_sched *
gen_sched_new(tts_engine *e, gen_tok *tok, const gen_opts *o, gen_emit_fn emit, void *ctx)
{
	gen_sched *s = ecalloc(1, sizeof *s);
	s->e = e;
	s->ops = e->ops;
	s->m = e->m;
	s->tok = tok;
	s->o = *o;
	s->emit = emit;
	s->ctx = ctx;
	s->max_ctx = e->max_blocks * BLK;
	for (int i = 0; i < s->m->n_layers; i++)
		s->has_attn |= s->m->layers[i].mixer == MIXER_ATTN;
	s->n_blocks = s->n_free = e->n_blocks;
	s->ref = ecalloc(e->n_blocks + 1, sizeof *s->ref);
	s->free_blocks = ecalloc(e->n_blocks + 1, sizeof *s->free_blocks);
	for (int i = 0; i < e->n_blocks; i++)
		s->free_blocks[i] = e->n_blocks - 1 - i;
	s->n_free_slots = e->n_slots;
	s->free_slots = ecalloc(e->n_slots, sizeof *s->free_slots);
	for (int i = 0; i < e->n_slots; i++)
		s->free_slots[i] = e->n_slots - 1 - i;
	int B = o->max_batch;
	s->active = ecalloc(B, sizeof *s->active);
	s->ids = ecalloc(e->max_rows, sizeof *s->ids);
	s->q_len = ecalloc(B, sizeof(int32_t));
	s->ctx_len = ecalloc(B, sizeof(int32_t));
	s->slot = ecalloc(B, sizeof(int32_t));
	s->htok = ecalloc(B, sizeof(int32_t));
	s->hlp = ecalloc(B, sizeof(float));
	s->blocks = ecalloc(B, sizeof *s->blocks);
	s->hp = ecalloc(B, sizeof *s->hp);
	s->dp = s->ops->alloc(B * sizeof *s->dp);
	s->dtok = s->ops->alloc(B * sizeof(int32_t));
	s->dlp = s->ops->alloc(B * sizeof(float));
	if (o->dump_logits) {
		s->dump = fopen(o->dump_logits, "wb");
		if (!s->dump)
			eprintf("%s:", o->dump_logits);
		s->hlogits = emalloc((size_t)e->max_rows * s->m->vocab * sizeof(float));
	}
	return s;
}

/* Blocks a sample needs beyond the shared full blocks of its prompt. */
static int
fork_need(gen_sched *s, const problem *p)
{
	if (!s->has_attn)
		return 0;
	return CEIL(p->n_ids + s->o.max_tokens, BLK) - p->n_ids / BLK;
}

int
gen_sched_wants(gen_sched *s)
{
	/* in flight: bounded even when a slow first problem holds back the
	 * output of finished ones behind it */
	return s->demand < s->o.max_batch && s->n_inflight < 8 * s->o.max_batch + 64;
}

void
gen_sched_add(gen_sched *s, json_t *rec, const char *id, int32_t *ids, int n_ids)
{
	problem *p = ecalloc(1, sizeof *p);
	p->rec = rec;
	p->id = estrdup(id);
	philox_key(s->o.seed, id, strlen(id), p->key);
	p->ids = ids;
	p->n_ids = n_ids;
	p->n = s->o.n;
	p->out = ecalloc(p->n, sizeof *p->out);
	p->slot = -1;
	if (n_ids + 1 > s->max_ctx)
		eprintf("%s: prompt of %d tokens leaves no room in a context of %d", id, n_ids,
			s->max_ctx);
	if (s->has_attn && CEIL(n_ids, BLK) + fork_need(s, p) > s->n_blocks)
		eprintf("%s: prompt of %d tokens does not fit the KV cache of %d blocks (--kv-blocks)",
			id, n_ids, s->n_blocks);
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->demand += p->n;
	s->n_queue++;
	s->n_inflight++;
}

static int
is_eos(gen_sched *s, int32_t t)
{
	if (s->o.ignore_eos)
		return 0;
	for (int i = 0; i < s->m->n_eos; i++)
		if (s->m->eos_ids[i] == t)
			return 1;
	return 0;
}

/* the stop string that ends text first, as an offset; -1 if none */
static long
stop_at(gen_sched *s, const char *text)
{
	long best = -1;
	for (int i = 0; i < s->o.n_stop; i++) {
		const char *f = strstr(text, s->o.stop[i]);
		if (f && (best < 0 || f - text < best))
			best = f - text;
	}
	return best;
}

static void
finish(gen_sched *s, seq *q, const char *why)
{
	problem *p = q->p;
	q->finish = why;
	size_t len;
	char *text = gen_decode(s->tok, q->toks, q->n_toks, &len);
	long cut = s->o.n_stop ? stop_at(s, text) : -1;
	if (cut >= 0) {
		len = cut;
		q->finish = "stop";
	}
	json_t *r = json_copy(p->rec);
	if (!s->o.keep_prompt) {
		json_object_del(r, "prompt");
		json_object_del(r, "prompt_ids");
	}
	json_object_set_new(r, "model", json_string(s->o.name));
	json_object_set_new(r, "sample", json_integer(q->sample));
	json_object_set_new(r, "text", json_stringn(text, len));
	json_object_set_new(r, "tokens", json_integer(q->n_gen));
	json_object_set_new(r, "prompt_tokens", json_integer(p->n_ids));
	json_object_set_new(r, "finish", json_string(q->finish));
	json_object_set_new(r, "logprob", json_real(q->logprob));
	json_object_set_new(r, "ms", json_real(q->ms));
	json_object_set_new(r, "flops", json_real(q->flops));
	json_object_set_new(r, "seed", json_integer((json_int_t)s->o.seed));
	json_object_set_new(r, "temperature", json_real(s->o.temperature));
	json_object_set_new(r, "top_p", json_real(s->o.top_p));
	json_object_set_new(r, "top_k", json_integer(s->o.top_k));
	json_object_set_new(r, "min_p", json_real(s->o.min_p));
	json_object_set_new(r, "max_tokens", json_integer(s->o.max_tokens));
	if (s->o.token_ids) {
		json_t *a = json_array();
		for (int i = 0; i < q->n_toks; i++)
			json_array_append_new(a, json_integer(q->toks[i]));
		json_object_set_new(r, "token_ids", a);
	}
	free(text);
	p->out[q->sample] = r;
	p->finished++;
	s->tokens += q->n_gen;
	/* release the sample's state */
	for (int i = 0; i < q->n_blocks; i++)
		block_unref(s, q->blocks[i]);
	s->reserved -= q->reserved;
	s->free_slots[s->n_free_slots++] = q->slot;
	s->demand--;
	free(q->blocks);
	free(q->toks);
	free(q);
}

/* Take sampled token t (step q->n_gen); 1 if the sample is finished. */
static int
accept(gen_sched *s, seq *q, int32_t t, float lp)
{
	q->n_gen++;
	q->logprob += lp;
	if (is_eos(s, t)) {
		finish(s, q, "stop");
		return 1;
	}
	q->toks[q->n_toks++] = t;
	if (s->o.n_stop) {
		size_t len;
		char *text = gen_decode(s->tok, q->toks, q->n_toks, &len);
		long cut = stop_at(s, text);
		free(text);
		if (cut >= 0) {
			finish(s, q, "stop");
			return 1;
		}
	}
	if (q->n_gen >= s->o.max_tokens || q->ctx + 1 >= s->max_ctx) {
		finish(s, q, "length");
		return 1;
	}
	q->next = t;
	return 0;
}

static void
params(gen_sched *s, tts_sample_params *sp, const seq *q)
{
	*sp = (tts_sample_params){ .temperature = s->o.temperature, .top_k = s->o.top_k,
		.top_p = s->o.top_p, .min_p = s->o.min_p, .key = { q->p->key[0], q->p->key[1] },
		.sample = q->sample, .step = q->n_gen };
}

/* Fork the next sample of p; its first token comes from p's logits. */
static void
fork_one(gen_sched *s, problem *p)
{
	seq *q = ecalloc(1, sizeof *q);
	q->p = p;
	q->sample = p->forked++;
	q->ctx = p->n_ids;
	q->toks = emalloc((s->o.max_tokens + 1) * sizeof *q->toks);
	q->blocks = emalloc((CEIL(p->n_ids + s->o.max_tokens, BLK) + 1) * sizeof *q->blocks);
	q->n_blocks = p->n_blocks;
	memcpy(q->blocks, p->blocks, p->n_blocks * sizeof *q->blocks);
	q->reserved = fork_need(s, p);
	s->reserved += q->reserved;
	if (p->forked == p->n) {          /* the last sample takes the parent's state */
		q->slot = p->slot;
		free(p->blocks);
		p->blocks = NULL;
	} else {
		q->slot = slot_alloc(s);
		tts_engine_slot_copy(s->e, q->slot, p->slot);
		for (int i = 0; i < q->n_blocks; i++)
			s->ref[q->blocks[i]]++;
	}
	q->ms = p->pre_ms;
	q->flops = p->pre_flops;
	double t0 = now_s();
	params(s, &s->hp[0], q);
	s->ops->upload(s->dp, s->hp, sizeof *s->hp);
	s->ops->sample(s->dtok, s->dlp, p->logits, s->dp, 1, s->m->vocab);
	s->ops->download(s->htok, s->dtok, sizeof(int32_t));
	s->ops->download(s->hlp, s->dlp, sizeof(float));
	q->ms += (now_s() - t0) * 1e3;
	if (p->forked == p->n) {
		s->ops->free(p->logits);
		p->logits = NULL;
	}
	if (!accept(s, q, s->htok[0], s->hlp[0]))
		s->active[s->n_active++] = q;
}

/* Prefill p into a fresh slot and blocks, in chunks of at most max_rows. */
static void
prefill(gen_sched *s, problem *p)
{
	double t0 = now_s();
	s->prefills++;
	p->slot = slot_alloc(s);
	p->n_blocks = s->has_attn ? CEIL(p->n_ids, BLK) : 0;
	p->blocks = emalloc((p->n_blocks + 1) * sizeof *p->blocks);
	for (int i = 0; i < p->n_blocks; i++)
		p->blocks[i] = block_alloc(s);
	int V = s->m->vocab, R = s->e->max_rows, n = 0;
	for (int done = 0; done < p->n_ids; done += n) {
		n = p->n_ids - done < R ? p->n_ids - done : R;
		int32_t ql = n, cl = done + n, sl = p->slot;
		const int32_t *bl[1] = { p->blocks };
		tts_step st = { .n_seqs = 1, .ids = p->ids + done, .q_len = &ql, .ctx_len = &cl,
				.slot = &sl, .blocks = s->has_attn ? bl : NULL };
		int rows = tts_forward(s->e, &st, s->dump != NULL);
		if (s->dump) {
			s->ops->download(s->hlogits, s->e->logits, (size_t)rows * V * sizeof(float));
			if (fwrite(s->hlogits, sizeof(float) * V, rows, s->dump) != (size_t)rows)
				eprintf("%s:", s->o.dump_logits);
		}
	}
	p->logits = s->ops->alloc(V * sizeof(float));
	int last = s->dump ? n - 1 : 0;
	s->ops->copy(p->logits, s->e->logits + (size_t)last * V, V * sizeof(float));
	s->ops->sync();
	p->prefilled = 1;
	p->pre_ms = (now_s() - t0) * 1e3 / p->n;
	p->pre_flops = tts_flops(s->m, 0, p->n_ids, 1) / p->n;
	s->n_queue--;
}

/* Give position q->ctx a block of its own: a new one at a block boundary,
 * a copy when the block is shared (copy on write). */
static void
own_block(gen_sched *s, seq *q)
{
	int bi = q->ctx / BLK;
	if (bi == q->n_blocks) {
		q->blocks[q->n_blocks++] = block_alloc(s);
	} else if (s->ref[q->blocks[bi]] > 1) {
		int b = block_alloc(s);
		tts_engine_block_copy(s->e, b, q->blocks[bi]);
		block_unref(s, q->blocks[bi]);
		q->blocks[bi] = b;
	} else {
		return;
	}
	q->reserved--;
	s->reserved--;
}

static void
decode(gen_sched *s)
{
	double t0 = now_s();
	int n = s->n_active;
	for (int i = 0; i < n; i++) {
		seq *q = s->active[i];
		if (s->has_attn)
			own_block(s, q);
		s->ids[i] = q->next;
		s->q_len[i] = 1;
		s->ctx_len[i] = q->ctx + 1;
		s->slot[i] = q->slot;
		s->blocks[i] = q->blocks;
		params(s, &s->hp[i], q);
	}
	tts_step st = { .n_seqs = n, .ids = s->ids, .q_len = s->q_len, .ctx_len = s->ctx_len,
			.slot = s->slot, .blocks = s->has_attn ? s->blocks : NULL };
	s->ops->upload(s->dp, s->hp, n * sizeof *s->hp);
	tts_decode(s->e, &st, s->dp, s->dtok, s->dlp);   /* a recorded graph on the GPU */
	s->ops->download(s->htok, s->dtok, n * sizeof(int32_t));
	s->ops->download(s->hlp, s->dlp, n * sizeof(float));
	double ms = (now_s() - t0) * 1e3 / n;
	s->steps++;
	s->seq_steps += n;
	if (n > s->peak)
		s->peak = n;
	s->decode_s += ms * n / 1e3;
	int k = 0;
	for (int i = 0; i < n; i++) {
		seq *q = s->active[i];
		q->ms += ms;
		q->flops += tts_flops(s->m, q->ctx, 1, 1);
		q->ctx++;
		if (!accept(s, q, s->htok[i], s->hlp[i]))
			s->active[k++] = q;
	}
	s->n_active = k;
}

static void
emit_ready(gen_sched *s)
{
	while (s->head && s->head->finished == s->head->n) {
		problem *p = s->head;
		s->emit(s->ctx, p->rec, p->out, p->n);
		s->n_inflight--;
		s->head = p->next;
		if (!s->head)
			s->tail = NULL;
		for (int i = 0; i < p->n; i++)
			json_decref(p->out[i]);
		json_decref(p->rec);
		free(p->out);
		free(p->ids);
		free(p->id);
		free(p);
		s->done++;
	}
}

int
gen_sched_step(gen_sched *s)
{
	emit_ready(s);
	problem *p;
	/* fork samples of prefilled problems into free seats */
	for (p = s->head; p && s->n_active < s->o.max_batch; p = p->next) {
		while (p->prefilled && p->forked < p->n && s->n_active < s->o.max_batch &&
		       s->n_free - s->reserved >= fork_need(s, p) &&
		       (s->n_free_slots > 0 || p->forked == p->n - 1))
			fork_one(s, p);
	}
	emit_ready(s);
	/* prefill the next problem when there is room for its samples */
	for (p = s->head; p && p->prefilled; p = p->next)
		;
	if (p && s->n_active < s->o.max_batch && s->n_free_slots > 0 &&
	    s->n_free - s->reserved >= (s->has_attn ? CEIL(p->n_ids, BLK) + fork_need(s, p) : 0)) {
		prefill(s, p);
		return 1;
	}
	if (s->n_active > 0) {
		decode(s);
		return 1;
	}
	if (s->head)   /* nothing runs, yet something waits: it can never fit */
		eprintf("internal error: scheduler stalled");
	return 0;
}

long
gen_sched_done(const gen_sched *s, long *tokens)
{
	if (tokens)
		*tokens = s->tokens;
	return s->done;
}

void
gen_sched_stats(const gen_sched *s, FILE *f)
{
	fprintf(f, "scheduler: %ld decode steps, mean batch %.2f of --max-batch %d (%.1f %%), largest %d; "
		"%ld prefills; %.3f s in decode steps\n", s->steps,
		s->steps ? (double)s->seq_steps / s->steps : 0.0, s->o.max_batch,
		s->steps ? 100.0 * s->seq_steps / ((double)s->steps * s->o.max_batch) : 0.0,
		s->peak, s->prefills, s->decode_s);
}

void
gen_sched_free(gen_sched *s)
{
	if (!s)
		return;
	if (s->dump && fclose(s->dump) != 0)
		eprintf("%s:", s->o.dump_logits);
	free(s->ref); free(s->free_blocks); free(s->free_slots); free(s->active);
	free(s->ids); free(s->q_len); free(s->ctx_len); free(s->slot); free(s->htok);
	free(s->hlp); free(s->blocks); free(s->hp); free(s->hlogits);
	s->ops->free(s->dp); s->ops->free(s->dtok); s->ops->free(s->dlp);
	free(s);
}
