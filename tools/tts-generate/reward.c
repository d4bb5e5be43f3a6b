/* reward.c — tts-generate --reward: score sample records with a reward
 * model (see REWARD MODELS in tts-generate(1)).
 *
 * Each record becomes one text in the reward model's format (--rm-format),
 * tokenized whole, with the byte offsets where scores are read ("marks":
 * the ends of steps).  Consecutive records of one problem (same `id`) form
 * a group: the longest token prefix common to the whole group is run once
 * (the shared prompt), and each sample forks its state (KV blocks shared by
 * reference, the partly filled last block copied; Mamba states copied)
 * and runs its own tokens, the samples of a group batched together.  The
 * engine returns the head's output only at the positions read: the score
 * head (outcome model: the last token that is not padding) or the logits
 * of the label tokens (process model: the token that ends each step).
 * Since attention is causal, a score read inside the shared prefix is the
 * same for every sample and is taken from the prefix run. */
#include "reward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "forward.h"
#include "tokenizer.h"
#include "tts.h"

#define BLK TTS_KV_BLOCK
#define CEIL(a, b) (((a) + (b) - 1) / (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* A sequence to run: a sample, or a group's shared prefix. */
typedef struct {
	json_t *rec;
	int32_t *ids;
	int n, done;            /* tokens; tokens run so far */
	int *reads, n_reads;    /* positions read, ascending */
	double *score;          /* per read */
	int slot, n_blocks;
	int32_t *blocks;
} seq;

typedef struct {
	const tts_ops *ops;
	const tts_model *m;
	const reward_opts *o;
	tts_engine *e;
	tts_tokenizer *tok;
	int has_attn, W, max_ctx, max_seqs, plus, minus;
	float *host;                /* [max_rows][W] */
	int32_t *ids, *q_len, *ctx_len, *slot, *out_rows, *out_j;
	seq **out_q;
	const int32_t **blocks;
	seq *g;                     /* the group */
	int n_g, cap_g;
	rec_writer *w;
} rm;

int
reward_parse_format(const char *s)
{
	return !strcmp(s, "concat") ? RM_CONCAT : !strcmp(s, "llama3") ? RM_LLAMA3
		: !strcmp(s, "rlhflow-prm") ? RM_RLHFLOW : -1;
}

int
reward_parse_agg(const char *s)
{
	return !strcmp(s, "last") ? AGG_LAST : !strcmp(s, "min") ? AGG_MIN
		: !strcmp(s, "prod") ? AGG_PROD : -1;
}

/* "PLUS,MINUS" */
int
reward_parse_labels(reward_opts *ro, char *s)
{
	char *c = strchr(s, ',');
	if (!c || c == s || !c[1])
		return -1;
	*c = 0;
	ro->plus = s;
	ro->minus = c + 1;
	return 0;
}

/* ---- the text in the reward model's format, with its marks ---- */

typedef struct {
	tts_str s;
	size_t *marks;
	int n_marks;
} fmt_buf;

static void
put(fmt_buf *b, const char *p, size_t n)
{
	tts_str_add(&b->s, p, n);
}

static void
puts_(fmt_buf *b, const char *p)
{
	put(b, p, strlen(p));
}

static void
mark(fmt_buf *b)
{
	b->marks = erealloc(b->marks, (b->n_marks + 1) * sizeof *b->marks);
	b->marks[b->n_marks++] = b->s.len;
}

/* Jinja's trim (Python's str.strip() on ASCII whitespace), as the Llama-3
 * chat template applies it to every message. */
static void
trim(const char **p, size_t *n)
{
	while (*n && strchr(" \t\n\r\v\f", (*p)[0]))
		(*p)++, (*n)--;
	while (*n && strchr(" \t\n\r\v\f", (*p)[*n - 1]))
		(*n)--;
}

/* The text, marked after every separator and at its end when the last
 * step is not empty. */
static void
put_steps(fmt_buf *b, const char *t, size_t n, const char *sep)
{
	size_t k = strlen(sep);
	const char *end = t + n, *f;
	while ((f = memmem(t, end - t, sep, k))) {
		put(b, t, f + k - t);
		mark(b);
		t = f + k;
	}
	put(b, t, end - t);
	if (t < end)
		mark(b);
}

static const char *USER = "<|start_header_id|>user<|end_header_id|>\n\n";
static const char *SYSTEM = "<|start_header_id|>system<|end_header_id|>\n\n";
static const char *ASSISTANT = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";

/* BOS and the system turn of the Llama-3 chat formats (the Llama-3.1
 * template writes its system text untrimmed) */
static void
put_begin(fmt_buf *b, const reward_opts *o)
{
	puts_(b, "<|begin_of_text|>");
	if (o->system) {
		puts_(b, SYSTEM);
		puts_(b, o->system);
		puts_(b, "<|eot_id|>");
	}
}

/* RLHFlow PRM (as search-and-learn scores with it): the completion split
 * at the separator, every piece a user turn (the first prefixed by the
 * question and a space) answered by an assistant turn holding the label;
 * the score is read where the model predicts that label. */
static void
put_rlhflow(fmt_buf *b, const reward_opts *o, const char *q, size_t nq, const char *t, size_t n)
{
	size_t k = strlen(o->sep);
	const char *end = t + n;
	put_begin(b, o);
	for (int step = 0;; step++) {
		const char *f = memmem(t, end - t, o->sep, k);
		size_t len = (f ? f : end) - t;
		tts_str turn = { 0 };
		if (step == 0) {
			tts_str_add(&turn, q, nq);
			tts_str_add(&turn, " ", 1);
		}
		tts_str_add(&turn, t, len);
		const char *p = turn.p ? turn.p : "";
		size_t pn = turn.len;
		trim(&p, &pn);
		puts_(b, USER);
		put(b, p, pn);
		puts_(b, ASSISTANT);
		mark(b);
		puts_(b, o->plus);
		puts_(b, "<|eot_id|>");
		tts_str_free(&turn);
		if (!f)
			break;
		t = f + k;
	}
}

static void
format(fmt_buf *b, const reward_opts *o, const char *q, size_t nq, const char *t, size_t n)
{
	switch (o->format) {
	case RM_CONCAT:
		put(b, q, nq);
		put_steps(b, t, n, o->sep);
		break;
	case RM_LLAMA3:
		trim(&q, &nq);
		trim(&t, &n);
		put_begin(b, o);
		puts_(b, USER);
		put(b, q, nq);
		puts_(b, ASSISTANT);
		put_steps(b, t, n, o->sep);
		if (!b->n_marks)
			mark(b);
		puts_(b, "<|eot_id|>");
		break;
	case RM_RLHFLOW:
		put_rlhflow(b, o, q, nq, t, n);
		break;
	}
	if (!b->n_marks)
		mark(b);
}

/* ---- reading a record ---- */

/* Token i's end as a byte offset in text (a BOS the tokenizer added
 * counts as ending at 0); the read position of mark x is the token that
 * holds byte x - 1. */
static void
mark_positions(rm *R, seq *q, const fmt_buf *b, rec_reader *r)
{
	size_t *end = emalloc(q->n * sizeof *end), sum = 0, len;
	for (int i = 0; i < q->n; i++) {
		if (!tts_token_bytes(R->tok, q->ids[i], &len))
			eprintf("%s: token %d is not in the tokenizer", rec_where(r), q->ids[i]);
		end[i] = sum += len;
	}
	if (sum < b->s.len)
		eprintf("%s: internal error: the tokens hold %zu bytes of %zu", rec_where(r), sum,
			b->s.len);
	size_t lead = sum - b->s.len;   /* an added BOS */
	q->reads = emalloc(b->n_marks * sizeof *q->reads);
	for (int k = 0, i = 0; k < b->n_marks; k++) {
		while (i < q->n - 1 && end[i] - lead < b->marks[k])
			i++;
		q->reads[q->n_reads++] = i;
	}
	free(end);
}

static void
read_rec(rm *R, json_t *rec, rec_reader *r)
{
	const reward_opts *o = R->o;
	json_t *jp = json_object_get(rec, "prompt"), *jq = json_object_get(rec, "question");
	json_t *jt = json_object_get(rec, "text");
	json_t *q = o->format == RM_CONCAT ? (jp ? jp : jq) : (jq ? jq : jp);
	if (!q)
		eprintf("%s: no \"prompt\" or \"question\" to score the sample against "
			"(tts-generate --keep-prompt keeps the prompt)", rec_where(r));
	if (!json_is_string(q))
		eprintf("%s: \"%s\": expected a string", rec_where(r), q == jp ? "prompt" : "question");
	if (!json_is_string(jt))
		eprintf("%s: \"text\": expected a string", rec_where(r));
	fmt_buf b = { 0 };
	format(&b, o, json_string_value(q), json_string_length(q), json_string_value(jt),
	       json_string_length(jt));
	if (R->n_g == R->cap_g) {
		R->cap_g = 2 * R->cap_g + 8;
		R->g = erealloc(R->g, R->cap_g * sizeof *R->g);
	}
	seq *s = memset(&R->g[R->n_g++], 0, sizeof *s);
	s->rec = rec;
	char err[512];
	size_t n;
	if (tts_tokenize(R->tok, b.s.p ? b.s.p : "", b.s.len, TTS_TOK_ADD_SPECIAL, &s->ids, &n, err,
			 sizeof err))
		eprintf("%s: %s", rec_where(r), err);
	s->n = (int)n;
	if (s->n == 0)
		eprintf("%s: nothing to score (no tokens)", rec_where(r));
	if (s->n > R->max_ctx)
		eprintf("%s: %d tokens do not fit the model's context of %d", rec_where(r), s->n,
			R->max_ctx);
	if (R->m->n_labels) {   /* transformers pools at the last token that is not padding */
		s->reads = emalloc(sizeof *s->reads);
		int i = s->n - 1;
		while (i > 0 && s->ids[i] == R->m->pad_id)
			i--;
		s->reads[s->n_reads++] = i;
	} else {
		mark_positions(R, s, &b, r);
	}
	s->score = ecalloc(s->n_reads, sizeof *s->score);
	tts_str_free(&b.s);
	free(b.marks);
}

/* ---- running sequences ---- */

static double
score_of(rm *R, const float *row)
{
	if (R->m->n_labels)
		return row[0];
	if (!R->o->vocab_softmax)   /* softmax over the two label tokens */
		return 1.0 / (1.0 + exp((double)row[R->minus] - row[R->plus]));
	double mx = row[0], z = 0;
	for (int v = 1; v < R->W; v++)
		if (row[v] > mx)
			mx = row[v];
	for (int v = 0; v < R->W; v++)
		z += exp((double)row[v] - mx);
	return exp((double)row[R->plus] - mx) / z;
}

/* Run the sequences b[0..nb) to their ends, in steps of at most max_rows
 * tokens, reading the head at their read positions. */
static void
run(rm *R, seq **b, int nb)
{
	tts_engine *e = R->e;
	for (;;) {
		int rows = 0, ns = 0, no = 0;
		seq *in[nb];
		for (int i = 0; i < nb && rows < e->max_rows; i++) {
			seq *q = b[i];
			if (q->done == q->n)
				continue;
			int len = MIN(q->n - q->done, e->max_rows - rows);
			memcpy(R->ids + rows, q->ids + q->done, len * sizeof *R->ids);
			R->q_len[ns] = len;
			R->ctx_len[ns] = q->done + len;
			R->slot[ns] = q->slot;
			R->blocks[ns] = q->blocks;
			for (int j = 0; j < q->n_reads; j++)
				if (q->reads[j] >= q->done && q->reads[j] < q->done + len) {
					R->out_rows[no] = rows + q->reads[j] - q->done;
					R->out_q[no] = q;
					R->out_j[no++] = j;
				}
			in[ns++] = q;
			rows += len;
		}
		if (ns == 0)
			return;
		tts_step st = { .n_seqs = ns, .ids = R->ids, .q_len = R->q_len, .ctx_len = R->ctx_len,
				.slot = R->slot, .blocks = R->has_attn ? R->blocks : NULL,
				.out_rows = R->out_rows, .n_out = no ? no : 1 };
		if (!no)
			R->out_rows[0] = 0;   /* a step that reads nothing: one row all the same */
		tts_forward(e, &st, 0);
		if (no) {
			R->ops->download(R->host, e->logits, (size_t)no * R->W * sizeof(float));
			for (int k = 0; k < no; k++)
				R->out_q[k]->score[R->out_j[k]] = score_of(R, R->host + (size_t)k * R->W);
		}
		for (int i = 0; i < ns; i++)
			in[i]->done += R->q_len[i];
	}
}

static int
lcp(const seq *a, const seq *b)
{
	int n = MIN(a->n, b->n), i = 0;
	while (i < n && a->ids[i] == b->ids[i])
		i++;
	return i;
}

/* The shared prefix: tokens [0, P) of the group, at least one token of
 * each sample left to run (so each has a last row of its own). */
static void
run_prefix(rm *R, seq *pre)
{
	int P = R->g[0].n - 1;
	for (int k = 1; k < R->n_g; k++)
		P = MIN(P, MIN(lcp(&R->g[0], &R->g[k]), R->g[k].n - 1));
	*pre = (seq){ .ids = R->g[0].ids, .n = P, .slot = 0 };
	tts_engine_slot_zero(R->e, 0);
	if (P == 0)
		return;
	char *need = ecalloc(P, 1);
	for (int k = 0; k < R->n_g; k++)
		for (int j = 0; j < R->g[k].n_reads; j++)
			if (R->g[k].reads[j] < P)
				need[R->g[k].reads[j]] = 1;
	pre->reads = emalloc(P * sizeof *pre->reads);
	for (int i = 0; i < P; i++)
		if (need[i])
			pre->reads[pre->n_reads++] = i;
	pre->score = ecalloc(pre->n_reads + 1, sizeof *pre->score);
	pre->n_blocks = R->has_attn ? CEIL(P, BLK) : 0;
	pre->blocks = emalloc((pre->n_blocks + 1) * sizeof *pre->blocks);
	for (int i = 0; i < pre->n_blocks; i++)
		pre->blocks[i] = i;
	run(R, &pre, 1);
	/* hand the prefix's scores to the samples */
	for (int k = 0; k < R->n_g; k++)
		for (int j = 0, i = 0; j < R->g[k].n_reads && R->g[k].reads[j] < P; j++) {
			while (pre->reads[i] != R->g[k].reads[j])
				i++;
			R->g[k].score[j] = pre->score[i];
		}
	free(need);
}

/* Fork sample q from the prefix: slot, shared full blocks, a copy of the
 * partly filled one, fresh blocks after; *next is the next free block. */
static void
fork_from(rm *R, seq *q, const seq *pre, int slot, int *next)
{
	q->done = pre->n;
	q->slot = slot;
	if (pre->n)
		tts_engine_slot_copy(R->e, slot, 0);
	else
		tts_engine_slot_zero(R->e, slot);
	if (!R->has_attn)
		return;
	int full = pre->n / BLK;
	q->n_blocks = CEIL(q->n, BLK);
	q->blocks = emalloc((q->n_blocks + 1) * sizeof *q->blocks);
	memcpy(q->blocks, pre->blocks, full * sizeof *q->blocks);
	for (int i = full; i < q->n_blocks; i++)
		q->blocks[i] = (*next)++;
	if (pre->n % BLK)
		tts_engine_block_copy(R->e, q->blocks[full], pre->blocks[full]);
}

static void
emit_group(rm *R)
{
	for (int k = 0; k < R->n_g; k++) {
		seq *q = &R->g[k];
		double r = R->o->agg == AGG_PROD ? 1 : q->score[q->n_reads - 1];
		for (int j = 0; j < q->n_reads; j++)
			if (R->o->agg == AGG_MIN)
				r = fmin(r, q->score[j]);
			else if (R->o->agg == AGG_PROD)
				r *= q->score[j];
		json_object_set_new(q->rec, "reward", json_real(r));
		if (R->o->step_scores && !R->m->n_labels) {
			json_t *a = json_array();
			for (int j = 0; j < q->n_reads; j++)
				json_array_append_new(a, json_real(q->score[j]));
			json_object_set_new(q->rec, "step_rewards", a);
		}
		rec_put(R->w, q->rec);
		json_decref(q->rec);
		free(q->ids); free(q->reads); free(q->score); free(q->blocks);
	}
	rec_flush(R->w);
	R->n_g = 0;
}

static void
run_group(rm *R)
{
	seq pre;
	run_prefix(R, &pre);
	int pre_blocks = R->has_attn ? CEIL(pre.n, BLK) : 0;
	seq **b = emalloc(R->max_seqs * sizeof *b);
	for (int k = 0; k < R->n_g;) {
		int nb = 0, next = pre_blocks;
		while (k < R->n_g && nb < R->max_seqs) {
			seq *q = &R->g[k];
			int need = R->has_attn ? CEIL(q->n, BLK) - pre.n / BLK : 0;
			if (next + need > R->e->n_blocks) {
				if (nb == 0) {
					const char *id = json_string_value(json_object_get(q->rec, "id"));
					eprintf("id %s: record %d of the problem, %d tokens, does not fit the KV "
						"cache of %d blocks (--kv-blocks)", id ? id : "(none)", k + 1,
						q->n, R->e->n_blocks);
				}
				break;
			}
			fork_from(R, q, &pre, 1 + nb, &next);
			b[nb++] = q;
			k++;
		}
		run(R, b, nb);
	}
	free(b);
	free(pre.reads); free(pre.score); free(pre.blocks);
	emit_group(R);
}

static int
label_id(rm *R, const char *s)
{
	int32_t *ids;
	size_t n;
	char err[256];
	if (tts_tokenize(R->tok, s, strlen(s), 0, &ids, &n, err, sizeof err) || n != 1)
		eprintf("--labels: '%s' is not one token of the reward model's tokenizer", s);
	int id = ids[0];
	free(ids);
	return id;
}

static tts_engine *
engine_new(rm *R)
{
	const tts_model *m = R->m;
	int n_attn = 0;
	for (int i = 0; i < m->n_layers; i++)
		n_attn += m->layers[i].mixer == MIXER_ATTN;
	R->has_attn = n_attn > 0;
	R->max_ctx = m->max_pos > 0 && m->max_pos < 65536 ? m->max_pos : 65536;
	int max_rows = R->o->max_batch > 512 ? R->o->max_batch : 512, n_blocks = 0;
	if (R->has_attn) {  /* as for sampling: a quarter of memory at most */
		n_blocks = R->o->kv_blocks;
		if (!n_blocks) {
			double per = (double)n_attn * 2 * m->n_kv_heads * BLK * m->head_dim * 4;
			double mem = (double)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 4;
			long want = (long)(R->o->max_batch + 1) * (2048 / BLK + 2);
			n_blocks = want < mem / per ? want : (long)(mem / per);
		}
	}
	return tts_engine_new(R->ops, m, n_blocks, R->max_seqs + 1, max_rows, R->max_ctx);
}

int
reward_run(const tts_ops *ops, const tts_model *m, const char *dir, const reward_opts *o,
	   char **files, int n_files, rec_writer *w)
{
	rm R = { .ops = ops, .m = m, .o = o, .w = w, .W = tts_head_width(m),
		 .max_seqs = o->max_batch };
	R.tok = cmd_load_tokenizer(dir);
	if (!m->n_labels) {
		R.plus = label_id(&R, o->plus);
		R.minus = label_id(&R, o->minus);
	}
	if (o->format != RM_CONCAT && tts_token_id(R.tok, "<|eot_id|>") < 0)
		eprintf("%s: --rm-format %s needs the Llama-3 chat tokens (<|eot_id|>, ...)", dir,
			o->format == RM_LLAMA3 ? "llama3" : "rlhflow-prm");
	R.e = engine_new(&R);
	int rows = R.e->max_rows;
	R.host = emalloc((size_t)rows * R.W * sizeof *R.host);
	R.ids = emalloc(rows * sizeof *R.ids);
	R.out_rows = emalloc(rows * sizeof *R.out_rows);
	R.out_j = emalloc(rows * sizeof *R.out_j);
	R.out_q = emalloc(rows * sizeof *R.out_q);
	R.q_len = emalloc((R.max_seqs + 1) * sizeof *R.q_len);
	R.ctx_len = emalloc((R.max_seqs + 1) * sizeof *R.ctx_len);
	R.slot = emalloc((R.max_seqs + 1) * sizeof *R.slot);
	R.blocks = emalloc((R.max_seqs + 1) * sizeof *R.blocks);
	json_t *rec;
	char *gid = NULL;
	for (int f = 0; f < (n_files ? n_files : 1) && !tts_interrupted; f++) {
		rec_reader *r = rec_open(n_files ? files[f] : NULL);
		while (!tts_interrupted && (rec = rec_next(r))) {
			const char *id = rec_opt_str(r, rec, "id");
			if (R.n_g && (!id || !gid || strcmp(id, gid) != 0))
				run_group(&R);
			free(gid);
			gid = id ? estrdup(id) : NULL;
			read_rec(&R, rec, r);
		}
		rec_close(r);
	}
	if (R.n_g && !tts_interrupted)
		run_group(&R);
	free(gid);
	free(R.host); free(R.ids); free(R.out_rows); free(R.out_j); free(R.out_q);
	free(R.q_len); free(R.ctx_len); free(R.slot); free(R.blocks); free(R.g);
	tts_engine_free(R.e);
	tts_tokenizer_free(R.tok);
	return 0;
}
