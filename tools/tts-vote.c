/* tts-vote — vote over the samples of each problem, per budget k.
 *
 * Reads extracted sample records in any order, groups them into problems
 * by (model, id) and the --by keys, makes answer classes (lib/vote.h,
 * graded and grouped with ans_equal) and writes one record per (problem,
 * method, k), sorted by the group keys, then method, then k: shards merge
 * with cat and the input order never changes the output. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "group.h"
#include "record.h"
#include "stats.h"
#include "tts.h"
#include "vote.h"

static const char *usage =
	"tts-vote [-m METHODS] [-k LIST] [-b KEYS] [-d DRAWS] [-s SEED] [--first-k] "
	"[-x KEYS] [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]";

/* Keys of one sample, never copied to a vote record. */
static const char *per_sample[] = {
	"sample", "text", "pred", "pred_canon", "pred_rule", "reward", "logprob",
	"finish", "tokens", "ms", "flops", NULL,
};

enum { COST_MS, COST_TOKENS, COST_FLOPS, NCOST };
static const char *cost_key[NCOST] = {"ms", "tokens", "flops"};

struct sample {
	int idx;                /* `sample` */
	char *pred;             /* pred_canon, else pred; NULL when null */
	double reward;
	int has_reward;
};

struct group {
	json_t *consts;         /* keys constant across the samples */
	char *gold, *gold_canon;
	struct sample *s;
	int n, cap;
	unsigned char *seen;    /* bitmap of `sample` values */
	int seenbytes;
	int nreward;
	char *noreward;         /* where the first sample without a reward was */
	double cost[NCOST];
	int ncost[NCOST];
};

static struct {
	int methods[VOTE_NMETHODS], explicit_methods;
	int *ks, nk;
	int draws, first_k;
	uint64_t seed;
	const char **skip;
} opt = {.draws = 1000};

static struct group *groups;
static size_t ngroups;

static void
parse_methods(const char *s)
{
	int n;
	char **v = split_list(s, "-m", usage, &n);
	memset(opt.methods, 0, sizeof opt.methods);
	for (int i = 0; i < n; i++) {
		int m = 0;
		while (m < VOTE_NMETHODS && strcmp(v[i], vote_method_name[m]))
			m++;
		if (m == VOTE_NMETHODS)
			usage_error(usage, "-m: unknown method '%s' (majority, weighted, best, pass, first)", v[i]);
		opt.methods[m] = 1;
	}
	opt.explicit_methods = 1;
	free(v);
}

static int
cmp_int(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static void
parse_ks(const char *s)
{
	int n;
	char **v = split_list(s, "-k", usage, &n);
	opt.ks = emalloc((size_t)n * sizeof *opt.ks);
	for (int i = 0; i < n; i++)
		opt.ks[i] = (int)parse_ll(v[i], "-k", 1, VOTE_NMAX);
	qsort(opt.ks, (size_t)n, sizeof *opt.ks, cmp_int);
	opt.nk = 0;
	for (int i = 0; i < n; i++)
		if (!opt.nk || opt.ks[opt.nk - 1] != opt.ks[i])
			opt.ks[opt.nk++] = opt.ks[i];
	free(v);
}

/* The canonical prediction: pred_canon when the record has it, else
 * pred made canonical; NULL for a null one.  Classes and grades then
 * compare canonical forms (ans_equal_canon), each sample made canonical
 * once rather than at every comparison. */
static char *
get_pred(rec_reader *r, json_t *rec)
{
	if (json_object_get(rec, "pred_canon")) {
		const char *c = rec_opt_str(r, rec, "pred_canon");
		return c ? estrdup(c) : NULL;
	}
	if (!json_object_get(rec, "pred"))
		eprintf("%s: missing key \"pred\" (run tts-extract first)", rec_where(r));
	const char *p = rec_opt_str(r, rec, "pred");
	return p ? ans_canon(p) : NULL;
}

static void
add_sample(rec_reader *r, json_t *rec, grouper *gr)
{
	if (!json_object_get(rec, "id"))
		eprintf("%s: missing key \"id\"", rec_where(r));
	long long idx = rec_get_int(r, rec, "sample");
	if (idx < 0 || idx >= VOTE_NMAX)
		eprintf("%s: sample %lld out of range [0, %d)", rec_where(r), idx, VOTE_NMAX);
	const char *gold = rec_get_str(r, rec, "answer");
	int isnew;
	size_t gi = grouper_find(gr, rec, &isnew);
	if (isnew) {
		if (ngroups % 1024 == 0)
			groups = erealloc(groups, (ngroups + 1024) * sizeof *groups);
		groups[ngroups++] = (struct group){.consts = consts_start(rec, opt.skip), .gold = estrdup(gold),
						   .gold_canon = ans_canon(gold)};
	}
	struct group *g = &groups[gi];
	if (!isnew) {
		consts_meet(g->consts, rec);
		if (strcmp(gold, g->gold))
			eprintf("%s: answer \"%s\" differs from \"%s\" of another sample of the problem",
				rec_where(r), gold, g->gold);
	}
	if (idx / 8 >= g->seenbytes) {
		int nb = (int)(idx / 8 + 1) * 2;
		g->seen = erealloc(g->seen, (size_t)nb);
		memset(g->seen + g->seenbytes, 0, (size_t)(nb - g->seenbytes));
		g->seenbytes = nb;
	}
	if (g->seen[idx / 8] >> (idx % 8) & 1)
		eprintf("%s: repeated sample %lld in its problem", rec_where(r), idx);
	g->seen[idx / 8] |= (unsigned char)(1 << (idx % 8));

	EGROW(g->s, g->n, g->cap, 8);
	struct sample *s = &g->s[g->n++];
	s->idx = (int)idx;
	s->pred = get_pred(r, rec);
	json_t *rw = json_object_get(rec, "reward");
	s->has_reward = rw && !json_is_null(rw);
	if (s->has_reward) {
		s->reward = rec_get_num(r, rec, "reward");
		if (!isfinite(s->reward))
			eprintf("%s: reward is not a finite number", rec_where(r));
		g->nreward++;
	} else if (opt.methods[VOTE_WEIGHTED] || opt.methods[VOTE_BEST]) {
		if (opt.explicit_methods)
			eprintf("%s: missing key \"reward\" (needed by weighted and best)", rec_where(r));
		if (!g->noreward)
			g->noreward = estrdup(rec_where(r));
	}
	for (int c = 0; c < NCOST; c++) {
		json_t *v = json_object_get(rec, cost_key[c]);
		if (v && !json_is_null(v)) {
			g->cost[c] += rec_get_num(r, rec, cost_key[c]);
			g->ncost[c]++;
		}
	}
}

static int
by_idx(const void *a, const void *b)
{
	return cmp_int(&((const struct sample *)a)->idx, &((const struct sample *)b)->idx);
}

/* Budgets for n samples: the -k list up to n, else 1, 2, 4, ... and n. */
static int
budgets(int n, int *ks)
{
	int nk = 0;
	if (opt.ks) {
		for (int i = 0; i < opt.nk && opt.ks[i] <= n; i++)
			ks[nk++] = opt.ks[i];
		return nk;
	}
	for (int k = 1; k < n; k *= 2)
		ks[nk++] = k;
	ks[nk++] = n;
	return nk;
}

/* Expected correctness of method m at each budget; se for Monte Carlo. */
static void
estimate(const struct vote_problem *p, enum vote_method m, const int *ks, int nk,
	 uint64_t seed, double *val, double *se, int *mc)
{
	for (int i = 0; i < nk; i++)
		se[i] = 0, mc[i] = 0;
	if (opt.first_k) {
		for (int i = 0; i < nk; i++)
			val[i] = vote_prefix(p, m, ks[i]);
		return;
	}
	switch (m) {
	case VOTE_MAJORITY:
		vote_majority(p, ks, nk, val);
		break;
	case VOTE_BEST:
		vote_best(p, ks, nk, val);
		break;
	case VOTE_PASS:
		for (int i = 0; i < nk; i++)
			val[i] = vote_pass(p->n, vote_ncorrect(p), ks[i]);
		break;
	case VOTE_FIRST:   /* the first of a random subset: a random sample */
		for (int i = 0; i < nk; i++)
			val[i] = (double)vote_ncorrect(p) / p->n;
		break;
	case VOTE_WEIGHTED:
		vote_mc(p, p->reward, ks, nk, opt.draws, seed, val, se, mc);
		for (int i = 0; i < nk; i++)
			mc[i] = !mc[i];
		break;
	default:
		break;
	}
}

static void
set_real(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, json_real(v));
}

/* vote and votes: the answer chosen on all n samples and the tally. */
static void
set_vote(json_t *o, const struct vote_problem *p, enum vote_method m, char **pred, const int *rep)
{
	int w = vote_winner(p, m);
	json_object_set_new(o, "vote", w >= 0 ? json_string(pred[rep[w]]) : json_null());
	if (m != VOTE_MAJORITY && m != VOTE_WEIGHTED)
		return;
	json_t *votes = json_object();
	double *tally = ecalloc((size_t)p->nclass + 1, sizeof *tally);
	for (int i = 0; i < p->n; i++)
		if (p->cls[i] >= 0)
			tally[p->cls[i]] += m == VOTE_WEIGHTED ? p->reward[i] : 1;
	for (int c = 0; c < p->nclass; c++)
		json_object_set_new(votes, pred[rep[c]],
				    m == VOTE_MAJORITY ? json_integer((json_int_t)tally[c]) : json_real(tally[c]));
	json_object_set_new(o, "votes", votes);
	free(tally);
}

static void
vote_group(struct group *g, const grouper *gr, size_t gi, rec_writer *w)
{
	int n = g->n;
	qsort(g->s, (size_t)n, sizeof *g->s, by_idx);
	char **pred = emalloc((size_t)n * sizeof *pred);
	double *reward = emalloc((size_t)n * sizeof *reward);
	int *cls = emalloc((size_t)n * sizeof *cls), *rep = emalloc((size_t)n * sizeof *rep);
	int *size = emalloc((size_t)n * sizeof *size), *ks = emalloc((size_t)(n + 32) * sizeof *ks);
	for (int i = 0; i < n; i++) {
		pred[i] = g->s[i].pred;
		reward[i] = g->s[i].reward;
	}
	int nclass = vote_classes((const char *const *)pred, n, ans_equal_canon, cls, rep, size);
	unsigned char *good = emalloc((size_t)nclass + 1);
	for (int c = 0; c < nclass; c++)
		good[c] = (unsigned char)ans_equal_canon(pred[rep[c]], g->gold_canon);
	struct vote_problem p = {n, nclass, cls, size, good, g->nreward == n ? reward : NULL};

	int nk = budgets(n, ks);
	double *val = emalloc((size_t)(nk + 1) * sizeof *val), *se = emalloc((size_t)(nk + 1) * sizeof *se);
	int *mc = emalloc((size_t)(nk + 1) * sizeof *mc);
	size_t keylen;
	const char *key = grouper_key(gr, gi, &keylen);
	uint64_t seed = stats_hash(key, keylen, stats_hash(&opt.seed, sizeof opt.seed, STATS_HASH_INIT));

	if (g->nreward && g->nreward < n && g->noreward)
		eprintf("%s: missing key \"reward\", which other samples of its problem have", g->noreward);
	for (int m = 0; m < VOTE_NMETHODS; m++) {
		if (!opt.methods[m] || ((m == VOTE_WEIGHTED || m == VOTE_BEST) && !p.reward))
			continue;
		estimate(&p, m, ks, nk, seed, val, se, mc);
		for (int i = 0; i < nk; i++) {
			json_t *o = json_object();
			json_object_update(o, g->consts);
			json_object_set_new(o, "method", json_string(vote_method_name[m]));
			json_object_set_new(o, "k", json_integer(ks[i]));
			json_object_set_new(o, "n", json_integer(n));
			set_real(o, "correct", val[i]);
			if (m == VOTE_WEIGHTED && !opt.first_k)
				set_real(o, "se", se[i]);
			if (mc[i]) {
				json_object_set_new(o, "draws", json_integer(opt.draws));
				json_object_set_new(o, "vote_seed", json_integer((json_int_t)opt.seed));
			}
			if (opt.first_k)
				json_object_set_new(o, "first_k", json_true());
			for (int c = 0; c < NCOST; c++)
				if (g->ncost[c])
					set_real(o, cost_key[c], g->cost[c] / g->ncost[c]);
			if (ks[i] == n && m != VOTE_PASS)
				set_vote(o, &p, m, pred, rep);
			rec_put(w, o);
			json_decref(o);
		}
	}
	for (int i = 0; i < n; i++)
		free(pred[i]);
	free(pred), free(reward), free(cls), free(rep), free(size), free(ks);
	free(good), free(val), free(se), free(mc);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"methods", required_argument, NULL, 'm'},
		{"k", required_argument, NULL, 'k'},
		{"by", required_argument, NULL, 'b'},
		{"draws", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 's'},
		{"first-k", no_argument, NULL, 'F'},
		{"drop", required_argument, NULL, 'x'},
		REC_OUTPUT_LONGOPTS,
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *fmt = NULL, *out = NULL;
	char **by = NULL, **drop = NULL;
	int nby = 0, ndrop = 0, zstd = 0, c;

	tts_init(argc, argv);
	for (int m = 0; m < VOTE_NMETHODS; m++)
		opt.methods[m] = 1;
	while ((c = getopt_long(argc, argv, "m:k:b:d:s:x:f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': parse_methods(optarg); break;
		case 'k': parse_ks(optarg); break;
		case 'b': free(by); by = split_list(optarg, "-b", usage, &nby); break;
		case 'd': opt.draws = (int)parse_ll(optarg, "-d", 2, 100000000); break;
		case 's': opt.seed = (uint64_t)parse_ll(optarg, "-s", 0, INT64_MAX); break;
		case 'F': opt.first_k = 1; break;
		case 'x': free(drop); drop = split_list(optarg, "-x", usage, &ndrop); break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-vote %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	/* Group keys: model, id, then --by.  Skipped keys: per-sample ones
	 * and --drop. */
	const char **keys = emalloc((size_t)(nby + 2) * sizeof *keys);
	keys[0] = "model";
	keys[1] = "id";
	for (int i = 0; i < nby; i++)
		keys[2 + i] = by[i];
	int nper = sizeof per_sample / sizeof *per_sample - 1;
	opt.skip = emalloc((size_t)(nper + ndrop + 1) * sizeof *opt.skip);
	memcpy(opt.skip, per_sample, (size_t)nper * sizeof *opt.skip);
	for (int i = 0; i < ndrop; i++)
		opt.skip[nper + i] = drop[i];
	opt.skip[nper + ndrop] = NULL;

	rec_writer *w = rec_writer_for(out, fmt, zstd);
	grouper *gr = grouper_new(keys, nby + 2);
	int nfiles = argc - optind;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
		rec_reader *r = rec_open(nfiles ? argv[optind + i] : "-");
		json_t *rec;
		while ((rec = rec_next(r))) {
			add_sample(r, rec, gr);
			json_decref(rec);
		}
		rec_close(r);
	}
	size_t *order = grouper_sorted(gr);
	for (size_t i = 0; i < ngroups; i++) {
		struct group *g = &groups[order[i]];
		vote_group(g, gr, order[i], w);
		json_decref(g->consts);
		free(g->gold), free(g->gold_canon), free(g->s), free(g->seen), free(g->noreward);
	}
	rec_writer_close(w);
	free(order), free(groups), free(keys), free(opt.skip), free(by), free(drop), free(opt.ks);
	grouper_free(gr);
	return 0;
}
