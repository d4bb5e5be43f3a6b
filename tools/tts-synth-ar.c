/* tts-synth-ar — the synthetic associative-recall tasks of the paper
 * (section 3, Table 1): L key-value pairs, distinct indices a, b, c; the AR
 * question asks for K_a + K_b + K_c (recall each key's value), the non-AR
 * question for V_a + V_b + V_c over the same list.  Beyond the paper: more
 * terms, other operations (standard precedence), and chains of keys.
 *
 * Everything a problem holds is drawn from its own splitmix64 stream,
 * seeded from (--seed, problem index) and independent of --task and
 * --count, so AR and non-AR halves made by separate runs match, and the
 * same arguments give the same bytes on any machine.  The exact text and
 * the draw order are in man/tts-synth-ar.1. */
#include "record.h"
#include "tts.h"
#include "vocab.h"
#include "words.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
	"tts-synth-ar [--task ar|noar|both] [-L PAIRS] [-n COUNT] [-s SEED] [--values LO:HI]\n"
	"       [--terms K] [--ops OPS] [--hops H] [--vocab tokenizer.json]\n"
	"       [-f jsonl|msgpack] [-z] [-o FILE]";

struct settings {
	int ar, noar;            /* which tasks to emit */
	int pairs, terms, hops;
	long long count, seed, lo, hi;
	char ops[4];             /* a subset of "+-*", in that order */
	const char *const *words;
	size_t nwords;
	const char *vocab;       /* tokenizer.json, or NULL for the built-in list */
};

struct problem {
	const char **key;        /* [pairs] */
	long long *num;          /* [pairs] the number drawn for each key */
	int *ref;                /* [pairs] index of the key a value names, or -1 */
	int *sel;                /* [terms * (hops + 1)] distinct indices, idx first */
	char *op;                /* [terms - 1] */
	long long answer;
};

/* splitmix64 (Steele, Lea & Flood 2014): the state steps by the golden
 * gamma, the output is the state mixed by a fixed finaliser. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
next64(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ULL;
	return mix64(*s);
}

/* Uniform in [0, n), n > 0, by rejection (no modulo bias). */
static uint64_t
below(uint64_t *s, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
	while ((x = next64(s)) >= lim)
		;
	return x % n;
}

/* The first k entries of a random permutation of 0..n-1 (partial
 * Fisher-Yates); perm has room for n. */
static void
draw_distinct(uint64_t *s, int *perm, int n, int k)
{
	for (int i = 0; i < n; i++)
		perm[i] = i;
	for (int i = 0; i < k; i++) {
		int j = i + (int)below(s, (uint64_t)(n - i));
		int t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* The number at the end of the chain starting at key j. */
static long long
final_value(const struct problem *p, int j)
{
	while (p->ref[j] >= 0)
		j = p->ref[j];
	return p->num[j];
}

/* Terms combined with * before + and -, otherwise left to right. */
static long long
evaluate(const struct settings *o, const struct problem *p, long long i)
{
	long long sum = 0, prod = final_value(p, p->sel[0]);
	int sign = 1;
	int bad = 0;
	for (int t = 1; t < o->terms; t++) {
		long long x = final_value(p, p->sel[t]);
		if (p->op[t - 1] == '*') {
			bad |= __builtin_mul_overflow(prod, x, &prod);
			continue;
		}
		bad |= __builtin_mul_overflow(prod, sign, &prod);
		bad |= __builtin_add_overflow(sum, prod, &sum);
		sign = p->op[t - 1] == '-' ? -1 : 1;
		prod = x;
	}
	bad |= __builtin_mul_overflow(prod, sign, &prod);
	bad |= __builtin_add_overflow(sum, prod, &sum);
	if (bad)
		eprintf("problem %lld: the answer overflows a 64-bit integer: "
			"use smaller --values or fewer *", i);
	return sum;
}

static void
make_problem(const struct settings *o, long long i, struct problem *p, int *perm)
{
	int nsel = o->terms * (o->hops + 1);
	uint64_t s = mix64((uint64_t)o->seed + mix64((uint64_t)i + 1));
	int nw = (int)o->nwords;
	int *wperm = emalloc(o->nwords * sizeof *wperm);
	draw_distinct(&s, wperm, nw, o->pairs);
	for (int j = 0; j < o->pairs; j++)
		p->key[j] = o->words[wperm[j]];
	free(wperm);
	for (int j = 0; j < o->pairs; j++) {
		p->num[j] = o->lo + (long long)below(&s, (uint64_t)(o->hi - o->lo) + 1);
		p->ref[j] = -1;
	}
	draw_distinct(&s, perm, o->pairs, nsel);
	memcpy(p->sel, perm, (size_t)nsel * sizeof *perm);
	/* Term t's chain: sel[t] -> sel[K + t*H] -> ... -> sel[K + t*H + H-1]. */
	for (int t = 0; t < o->terms; t++) {
		int from = p->sel[t];
		for (int h = 0; h < o->hops; h++) {
			int to = p->sel[o->terms + t * o->hops + h];
			p->ref[from] = to;
			from = to;
		}
	}
	size_t nops = strlen(o->ops);
	for (int t = 0; t + 1 < o->terms; t++)
		p->op[t] = o->ops[below(&s, nops)];
	p->answer = evaluate(o, p, i);
}


/* The question text; ar: name the keys, else state their values. */
static char *
question(const struct settings *o, const struct problem *p, int ar)
{
	char *q = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&q, &len);
	if (!f)
		eprintf("open_memstream:");
	fputs("List: ", f);
	for (int j = 0; j < o->pairs; j++) {
		fprintf(f, "%s%s: ", j ? ", " : "", p->key[j]);
		if (p->ref[j] >= 0)
			fputs(p->key[p->ref[j]], f);
		else
			fprintf(f, "%lld", p->num[j]);
	}
	fputs(".\n", f);
	if (o->hops > 0)
		fputs("A value that is a word stands for that word's value.\n", f);
	fputs("What is ", f);
	for (int t = 0; t < o->terms; t++) {
		if (t)
			fprintf(f, " %c ", p->op[t - 1]);
		if (ar)
			fputs(p->key[p->sel[t]], f);
		else
			fprintf(f, final_value(p, p->sel[t]) < 0 ? "(%lld)" : "%lld",
				final_value(p, p->sel[t]));
	}
	fputs("? Put the final answer in \\boxed{}.", f);
	if (fclose(f))
		eprintf("open_memstream:");
	return q;
}

/* "synth-ar-L10[-t5][-o+*][-h2][-v1:1000]-s1-7"; task NULL for the pair. */
static char *
make_id(const struct settings *o, const char *task, long long i)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		eprintf("open_memstream:");
	fprintf(f, "synth-%s%sL%d", task ? task : "", task ? "-" : "", o->pairs);
	if (o->terms != 3)
		fprintf(f, "-t%d", o->terms);
	if (strcmp(o->ops, "+") != 0)
		fprintf(f, "-o%s", o->ops);
	if (o->hops != 0)
		fprintf(f, "-h%d", o->hops);
	if (o->lo != 1 || o->hi != 100)
		fprintf(f, "-v%lld:%lld", o->lo, o->hi);
	fprintf(f, "-s%lld-%lld", o->seed, i);
	if (fclose(f))
		eprintf("open_memstream:");
	return s;
}

/* Set key to the string s and free s. */
static void
set_str(json_t *rec, const char *key, char *s)
{
	json_object_set_new(rec, key, json_string(s));
	free(s);
}

static json_t *
make_record(const struct settings *o, const struct problem *p, long long i, int ar)
{
	json_t *rec = json_object(), *kv = json_array(), *idx = json_array();
	set_str(rec, "id", make_id(o, ar ? "ar" : "noar", i));
	set_str(rec, "pair", make_id(o, NULL, i));
	json_object_set_new(rec, "dataset", json_string("synth"));
	json_object_set_new(rec, "task", json_string(ar ? "ar" : "noar"));
	json_object_set_new(rec, "pairs", json_integer(o->pairs));
	for (int j = 0; j < o->pairs; j++) {
		json_t *v = p->ref[j] >= 0 ? json_string(p->key[p->ref[j]])
					   : json_integer(p->num[j]);
		json_array_append_new(kv, json_pack("[so]", p->key[j], v));
	}
	json_object_set_new(rec, "kv", kv);
	for (int t = 0; t < o->terms; t++)
		json_array_append_new(idx, json_integer(p->sel[t]));
	json_object_set_new(rec, "idx", idx);
	set_str(rec, "question", question(o, p, ar));
	char num[32], ops[8];
	snprintf(num, sizeof num, "%lld", p->answer);
	json_object_set_new(rec, "answer", json_string(num));
	json_object_set_new(rec, "synth_seed", json_integer(o->seed));
	json_object_set_new(rec, "values", json_pack("[II]", (json_int_t)o->lo,
						      (json_int_t)o->hi));
	json_object_set_new(rec, "terms", json_integer(o->terms));
	size_t n = 0;
	for (const char *c = o->ops; *c; c++) {
		if (n)
			ops[n++] = ',';
		ops[n++] = *c;
	}
	ops[n] = 0;
	json_object_set_new(rec, "ops", json_string(ops));
	json_object_set_new(rec, "hops", json_integer(o->hops));
	if (o->vocab)
		json_object_set_new(rec, "vocab", json_string(o->vocab));
	return rec;
}

/* "+,*" -> the subset of "+-*" named, in that order. */
static void
parse_ops(const char *arg, char ops[4])
{
	int want[3] = { 0, 0, 0 };
	static const char all[] = "+-*";
	const char *s = arg;
	for (;;) {
		const char *c = strchr(all, *s);
		if (!*s || !c || (s[1] && s[1] != ','))
			usage_error(usage, "--ops: expected a list of +, -, *, got '%s'", arg);
		want[c - all] = 1;
		if (!s[1])
			break;
		s += 2;
	}
	int n = 0;
	for (int k = 0; k < 3; k++)
		if (want[k])
			ops[n++] = all[k];
	ops[n] = 0;
}

static void
parse_values(const char *arg, long long *lo, long long *hi)
{
	const char *colon = arg[0] ? strchr(arg + 1, ':') : NULL;
	if (!colon)
		usage_error(usage, "--values: expected LO:HI, got '%s'", arg);
	char *l = estrdup(arg);
	l[colon - arg] = 0;
	*lo = parse_ll(l, "--values", -1000000000, 1000000000);
	*hi = parse_ll(colon + 1, "--values", *lo, 1000000000);
	free(l);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "task", required_argument, NULL, 'T' },
		{ "pairs", required_argument, NULL, 'L' },
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "values", required_argument, NULL, 'v' },
		{ "terms", required_argument, NULL, 'k' },
		{ "ops", required_argument, NULL, 'O' },
		{ "hops", required_argument, NULL, 'H' },
		{ "vocab", required_argument, NULL, 'w' },
		REC_OUTPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct settings o = { .ar = 1, .noar = 1, .pairs = 10, .terms = 3, .count = 500,
			      .seed = 1, .lo = 1, .hi = 100, .ops = "+" };
	const char *fmt = NULL, *out = NULL;
	int zstd = 0, c;

	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "L:n:s:f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			o.ar = strcmp(optarg, "ar") == 0 || strcmp(optarg, "both") == 0;
			o.noar = strcmp(optarg, "noar") == 0 || strcmp(optarg, "both") == 0;
			if (!o.ar && !o.noar)
				usage_error(usage, "--task: expected ar, noar or both, got '%s'",
					    optarg);
			break;
		case 'L': o.pairs = (int)parse_ll(optarg, "--pairs", 1, 100000); break;
		case 'n': o.count = parse_ll(optarg, "--count", 0, 1000000000000LL); break;
		case 's': o.seed = parse_ll(optarg, "--seed", 0, INT64_MAX); break;
		case 'v': parse_values(optarg, &o.lo, &o.hi); break;
		case 'k': o.terms = (int)parse_ll(optarg, "--terms", 1, 1000); break;
		case 'O': parse_ops(optarg, o.ops); break;
		case 'H': o.hops = (int)parse_ll(optarg, "--hops", 0, 1000); break;
		case 'w': o.vocab = optarg; break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-synth-ar %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	if (optind < argc)
		usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if ((long long)o.terms * (o.hops + 1) > o.pairs)
		usage_error(usage, "--terms x (--hops + 1) = %lld keys are needed but --pairs is %d",
			    (long long)o.terms * (o.hops + 1), o.pairs);
	char **vocab = NULL;
	size_t nvocab = 0;
	if (o.vocab) {
		vocab = vocab_words(o.vocab, 3, &nvocab);
		o.words = (const char *const *)vocab;
		o.nwords = nvocab;
	} else {
		o.words = tts_words;
		o.nwords = tts_nwords;
	}
	if ((size_t)o.pairs > o.nwords)
		eprintf("%s has %zu usable words; --pairs %d needs as many",
			o.vocab ? o.vocab : "the built-in list", o.nwords, o.pairs);

	rec_writer *w = rec_writer_for(out, fmt, zstd);
	int nsel = o.terms * (o.hops + 1);
	struct problem p = {
		.key = ecalloc((size_t)o.pairs, sizeof *p.key),
		.num = ecalloc((size_t)o.pairs, sizeof *p.num),
		.ref = ecalloc((size_t)o.pairs, sizeof *p.ref),
		.sel = ecalloc((size_t)nsel, sizeof *p.sel),
		.op = ecalloc((size_t)o.terms, 1),
	};
	int *perm = ecalloc((size_t)o.pairs, sizeof *perm);
	for (long long i = 0; i < o.count; i++) {
		make_problem(&o, i, &p, perm);
		for (int ar = 1; ar >= 0; ar--) {
			if (!(ar ? o.ar : o.noar))
				continue;
			json_t *rec = make_record(&o, &p, i, ar);
			rec_put(w, rec);
			json_decref(rec);
		}
	}
	rec_writer_close(w);
	free(p.key);
	free(p.num);
	free(p.ref);
	free(p.sel);
	free(p.op);
	free(perm);
	vocab_free(vocab, nvocab);
	return 0;
}
