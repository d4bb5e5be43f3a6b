/* tts-prompt — problem records (or raw GSM8K / MATH JSONL) to prompt
 * records: normalise the dataset's fields to the design's keys (id,
 * dataset, question, answer, solution), apply a template and a chat format,
 * and write the exact model input as "prompt".  Other keys pass through. */
#include "answer.h"
#include "record.h"
#include "strbuf.h"
#include "tts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
	"tts-prompt [-d gsm8k|math|synth|auto] [-t cot|cot-system|plain] [-T FILE]\n"
	"       [-F FILE] [-c llama3|chatml|none] [-s SYSTEM] [--shard I/K]\n"
	"       [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]";

/* The Qwen2.5-Math instruction (evaluation/utils.py, qwen25-math-cot). */
#define COT_INSTRUCTION "Please reason step by step, and put your final answer within \\boxed{}."

enum dataset { D_AUTO, D_GSM8K, D_MATH, D_SYNTH };
static const char *dsname[] = {"auto", "gsm8k", "math", "synth"};

typedef struct {
	enum dataset ds;
	const char *tmpl;      /* built-in name, or NULL with user_tmpl */
	char *user_tmpl;       /* -T file text */
	char *shots;           /* -F: the demos, joined, or NULL */
	const char *chat;
	const char *system;
	long long shard_i, shard_k;
} opts;

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		eprintf("%s:", path);
	strbuf b = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_add(&b, buf, n);
	if (ferror(f))
		eprintf("%s: read error:", path);
	fclose(f);
	return sb_done(&b);
}

/* The keys of rec, comma-separated, for error messages. */
static char *
keys_of(json_t *rec)
{
	strbuf b = {0};
	const char *k;
	json_t *v;
	json_object_foreach(rec, k, v) {
		if (b.n)
			sb_str(&b, ", ");
		sb_str(&b, k);
	}
	if (!b.n)
		sb_str(&b, "(none)");
	return sb_done(&b);
}

static enum dataset
detect(rec_reader *r, json_t *rec)
{
	/* tts-synth-ar output, or records already in the design's keys (a
	 * second pass of tts-prompt) */
	if (json_object_get(rec, "task") ||
	    (json_object_get(rec, "question") && json_object_get(rec, "dataset")))
		return D_SYNTH;
	if (json_object_get(rec, "problem"))
		return D_MATH;
	json_t *a = json_object_get(rec, "answer");
	if (json_is_string(a) && strstr(json_string_value(a), "####"))
		return D_GSM8K;
	char *k = keys_of(rec);
	eprintf("%s: cannot tell the dataset from the keys %s (expected task, problem, "
		"or an answer with ####; use -d)", rec_where(r), k);
}

/* GSM8K: the worked answer moves to solution, the gold after the last
 * "####" (thousands separators removed) becomes answer. */
static void
norm_gsm8k(rec_reader *r, json_t *rec)
{
	rec_get_str(r, rec, "question");
	const char *full = rec_get_str(r, rec, "answer");
	const char *p = NULL, *q = full;
	while ((q = strstr(q, "####")) != NULL)
		p = q += 4;
	if (!p)
		eprintf("%s: answer has no '####' line", rec_where(r));
	while (*p == ' ' || *p == '#')
		p++;
	size_t e = strcspn(p, "\n");
	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\r'))
		e--;
	char *gold = emalloc(e + 1);
	size_t o = 0;
	for (size_t i = 0; i < e; i++)
		if (!(p[i] == ',' && i > 0 && i + 1 < e && p[i - 1] >= '0' && p[i - 1] <= '9' &&
		      p[i + 1] >= '0' && p[i + 1] <= '9'))
			gold[o++] = p[i];
	gold[o] = 0;
	if (!o)
		eprintf("%s: empty gold after '####'", rec_where(r));
	json_object_set(rec, "solution", json_object_get(rec, "answer"));
	json_object_set_new(rec, "answer", json_string(gold));
	free(gold);
}

/* MATH / MATH-500: question <- problem; the gold is the answer field when
 * present, else the last \boxed{} of the solution. */
static void
norm_math(rec_reader *r, json_t *rec)
{
	const char *prob = rec_get_str(r, rec, "problem");
	json_object_set_new(rec, "question", json_string(prob));
	json_object_del(rec, "problem");
	if (rec_opt_str(r, rec, "answer"))
		return;
	const char *sol = rec_opt_str(r, rec, "solution");
	const char *rule;
	char *gold = sol ? ans_extract(sol, ANS_BOXED, &rule) : NULL;
	if (!gold)
		eprintf("%s: no answer and no \\boxed{} in the solution", rec_where(r));
	json_object_set_new(rec, "answer", json_string(gold));
	free(gold);
}

/* id: kept; else unique_id or idx; else <dataset>-<position>.  A string. */
static void
set_id(json_t *rec, enum dataset ds, long long pos)
{
	static const char *from[] = {"id", "unique_id", "idx"};
	for (size_t k = 0; k < 3; k++) {
		json_t *v = json_object_get(rec, from[k]);
		if (json_is_string(v)) {
			json_object_set(rec, "id", v);
			return;
		}
		if (json_is_integer(v)) {
			char buf[32];
			snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
			json_object_set_new(rec, "id", json_string(buf));
			return;
		}
	}
	char buf[64];
	snprintf(buf, sizeof buf, "%s-%lld", dsname[ds], pos);
	json_object_set_new(rec, "id", json_string(buf));
}

/* Replace every {question} in t with q. */
static void
fill(strbuf *b, const char *t, const char *q)
{
	const char *p;
	while ((p = strstr(t, "{question}")) != NULL) {
		sb_add(b, t, (size_t)(p - t));
		sb_str(b, q);
		t = p + strlen("{question}");
	}
	sb_str(b, t);
}

static char *
render(const opts *o, const char *question)
{
	strbuf user = {0}, out = {0};
	const char *system = o->system;
	if (o->shots) {
		sb_str(&user, o->shots);
		sb_str(&user, "\n\n");
	}
	if (o->user_tmpl) {
		fill(&user, o->user_tmpl, question);
	} else if (!strcmp(o->tmpl, "cot")) {
		sb_str(&user, question);
		sb_str(&user, "\n" COT_INSTRUCTION);
	} else {
		sb_str(&user, question);
		if (!strcmp(o->tmpl, "cot-system") && !system)
			system = COT_INSTRUCTION;
	}
	if (!strcmp(o->chat, "llama3")) {
		sb_str(&out, "<|begin_of_text|>");
		if (system) {
			sb_str(&out, "<|start_header_id|>system<|end_header_id|>\n\n");
			sb_str(&out, system);
			sb_str(&out, "<|eot_id|>");
		}
		sb_str(&out, "<|start_header_id|>user<|end_header_id|>\n\n");
		sb_str(&out, user.s);
		sb_str(&out, "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
	} else if (!strcmp(o->chat, "chatml")) {
		if (system) {
			sb_str(&out, "<|im_start|>system\n");
			sb_str(&out, system);
			sb_str(&out, "<|im_end|>\n");
		}
		sb_str(&out, "<|im_start|>user\n");
		sb_str(&out, user.s);
		sb_str(&out, "<|im_end|>\n<|im_start|>assistant\n");
	} else {
		if (system) {
			sb_str(&out, system);
			sb_str(&out, "\n\n");
		}
		sb_str(&out, user.s);
	}
	free(user.s);
	return sb_done(&out);
}

/* -F FILE: records with question (or problem) and solution (or answer);
 * each demo is "question\nsolution", demos joined by a blank line. */
static char *
read_shots(const char *path)
{
	rec_reader *r = rec_open(path);
	strbuf b = {0};
	json_t *rec;
	while ((rec = rec_next(r))) {
		const char *q = rec_opt_str(r, rec, "question");
		if (!q)
			q = rec_get_str(r, rec, "problem");
		const char *a = rec_opt_str(r, rec, "solution");
		if (!a)
			a = rec_get_str(r, rec, "answer");
		if (b.n)
			sb_str(&b, "\n\n");
		sb_str(&b, q);
		sb_str(&b, "\n");
		sb_str(&b, a);
		json_decref(rec);
	}
	rec_close(r);
	if (!b.n)
		eprintf("%s: no examples", path);
	return sb_done(&b);
}

static void
parse_shard(const char *s, opts *o)
{
	const char *slash = strchr(s, '/');
	char head[32];
	if (!slash || (size_t)(slash - s) >= sizeof head)
		usage_error(usage, "--shard: expected I/K, got '%s'", s);
	memcpy(head, s, (size_t)(slash - s));
	head[slash - s] = 0;
	o->shard_k = parse_ll(slash + 1, "--shard K", 1, 1000000000);
	o->shard_i = parse_ll(head, "--shard I", 0, o->shard_k - 1);
}

static int
one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_SHARD = 256 };
	static const struct option longopts[] = {
		REC_OUTPUT_LONGOPTS,
		{ "dataset", required_argument, NULL, 'd' },
		{ "template", required_argument, NULL, 't' },
		{ "template-file", required_argument, NULL, 'T' },
		{ "fewshot", required_argument, NULL, 'F' },
		{ "chat", required_argument, NULL, 'c' },
		{ "system", required_argument, NULL, 's' },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const templates[] = {"cot", "cot-system", "plain", NULL};
	static const char *const chats[] = {"llama3", "chatml", "none", NULL};
	opts o = {.ds = D_AUTO, .tmpl = "cot", .chat = "none", .shard_k = 1};
	const char *fmt = NULL, *out = NULL;
	int zstd = 0, c;

	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "d:t:T:F:c:s:f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			for (o.ds = D_AUTO; o.ds <= D_SYNTH && strcmp(optarg, dsname[o.ds]); o.ds++)
				;
			if (o.ds > D_SYNTH)
				usage_error(usage, "-d: unknown dataset '%s'", optarg);
			break;
		case 't':
			if (!one_of(optarg, templates))
				usage_error(usage, "-t: unknown template '%s' (cot, cot-system, plain)", optarg);
			o.tmpl = optarg;
			break;
		case 'T': free(o.user_tmpl); o.user_tmpl = read_file(optarg); break;
		case 'F': free(o.shots); o.shots = read_shots(optarg); break;
		case 'c':
			if (!one_of(optarg, chats))
				usage_error(usage, "-c: unknown chat format '%s' (llama3, chatml, none)", optarg);
			o.chat = optarg;
			break;
		case 's': o.system = optarg; break;
		case OPT_SHARD: parse_shard(optarg, &o); break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-prompt %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	if (o.user_tmpl && !strstr(o.user_tmpl, "{question}"))
		usage_error(usage, "-T: the template has no {question}");
	rec_writer *w = rec_writer_for(out, fmt, zstd);
	int nfiles = argc - optind;
	long long pos = 0;
	enum dataset ds = o.ds;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
		rec_reader *r = rec_open(nfiles ? argv[optind + i] : "-");
		json_t *rec;
		for (; (rec = rec_next(r)); pos++) {
			if (pos % o.shard_k != o.shard_i) {
				json_decref(rec);
				continue;
			}
			if (ds == D_AUTO)
				ds = detect(r, rec);
			if (ds == D_GSM8K)
				norm_gsm8k(r, rec);
			else if (ds == D_MATH)
				norm_math(r, rec);
			set_id(rec, ds, pos);
			if (!json_object_get(rec, "dataset"))
				json_object_set_new(rec, "dataset", json_string(dsname[ds]));
			char *prompt = render(&o, rec_get_str(r, rec, "question"));
			json_object_set_new(rec, "prompt", json_string(prompt));
			free(prompt);
			rec_put(w, rec);
			json_decref(rec);
		}
		rec_close(r);
	}
	rec_writer_close(w);
	free(o.user_tmpl);
	free(o.shots);
	return 0;
}
