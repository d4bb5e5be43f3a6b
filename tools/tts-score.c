/* tts-score — accuracy over problems, per method, budget k and group.
 *
 * Reads vote records (tts-vote), averages `correct` over the problems of
 * each (--by keys, method, k) with a seeded percentile bootstrap interval,
 * and the compute spent at k (k times the mean per-sample ms, tokens,
 * flops).  Writes score records sorted by their keys, or an aligned table
 * (-t) with groups as columns, and draws accuracy against k and against
 * compute through gnuplot (--plot). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "group.h"
#include "record.h"
#include "stats.h"
#include "tts.h"
#include "vote.h"

static const char *usage =
	"tts-score [-b KEYS] [-B REPS] [-l LEVEL] [-s SEED] [-t] [-c KEYS] [-p FILE] "
	"[-x ms|tokens|flops] [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]";

/* Keys of one problem's vote record, never copied to a score record. */
static const char *per_problem[] = {
	"id", "correct", "se", "vote", "votes", "ms", "tokens", "flops", "draws",
	"question", "answer", "solution", "prompt", "kv", "idx", NULL,
};

enum { COST_MS, COST_TOKENS, COST_FLOPS, NCOST };
static const char *cost_key[NCOST] = {"ms", "tokens", "flops"};

struct group {
	json_t *consts;
	double *correct;
	int n, cap;
	long long k;
	double cost[NCOST];
	int ncost[NCOST];
};

static struct group *groups;
static size_t ngroups;

static void
add_vote(rec_reader *r, json_t *rec, grouper *gr, grouper *seen)
{
	double correct = rec_get_num(r, rec, "correct");
	rec_get_str(r, rec, "method");
	long long k = rec_get_int(r, rec, "k");
	if (!json_object_get(rec, "id"))
		eprintf("%s: missing key \"id\"", rec_where(r));
	int isnew;
	grouper_find(seen, rec, &isnew);
	if (!isnew)
		eprintf("%s: problem %s counted twice for its method and k: add the key that tells "
			"the runs apart to --by", rec_where(r),
			json_is_string(json_object_get(rec, "id")) ? json_string_value(json_object_get(rec, "id")) : "");
	size_t gi = grouper_find(gr, rec, &isnew);
	if (isnew) {
		if (ngroups % 256 == 0)
			groups = erealloc(groups, (ngroups + 256) * sizeof *groups);
		groups[ngroups++] = (struct group){.consts = consts_start(rec, per_problem), .k = k};
	} else {
		consts_meet(groups[gi].consts, rec);
	}
	struct group *g = &groups[gi];
	EGROW(g->correct, g->n, g->cap, 64);
	g->correct[g->n++] = correct;
	for (int c = 0; c < NCOST; c++) {
		json_t *v = json_object_get(rec, cost_key[c]);
		if (v && !json_is_null(v)) {
			g->cost[c] += rec_get_num(r, rec, cost_key[c]);
			g->ncost[c]++;
		}
	}
}

static json_t *
score(struct group *g, const char *key, size_t keylen, int reps, double level, uint64_t seed)
{
	json_t *o = json_object();
	json_object_update(o, g->consts);
	double mean, se, lo, hi;
	stats_mean_se(g->correct, (size_t)g->n, &mean, &se);
	stats_bootstrap(g->correct, (size_t)g->n, reps, level,
			stats_hash(key, keylen, stats_hash(&seed, sizeof seed, STATS_HASH_INIT)), &lo, &hi);
	json_object_set_new(o, "accuracy", json_real(mean));
	json_object_set_new(o, "lo", json_real(lo));
	json_object_set_new(o, "hi", json_real(hi));
	json_object_set_new(o, "level", json_real(level));
	json_object_set_new(o, "problems", json_integer(g->n));
	/* Cost per problem at budget k: k samples at the mean cost. */
	for (int c = 0; c < NCOST; c++)
		if (g->ncost[c])
			json_object_set_new(o, cost_key[c], json_real((double)g->k * g->cost[c] / g->ncost[c]));
	return o;
}

/* ---- order: key by key (json_order), the methods in tts-vote's order ---- */

static const char *const *ord_keys;
static int ord_nkeys;

static int
method_rank(json_t *v)
{
	for (int m = 0; m < VOTE_NMETHODS && json_is_string(v); m++)
		if (!strcmp(json_string_value(v), vote_method_name[m]))
			return m;
	return VOTE_NMETHODS;
}

static int
cmp_objs(const void *pa, const void *pb)
{
	json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	for (int i = 0; i < ord_nkeys; i++) {
		json_t *x = json_object_get(a, ord_keys[i]), *y = json_object_get(b, ord_keys[i]);
		int c = 0;
		if (!strcmp(ord_keys[i], "method"))
			c = method_rank(x) - method_rank(y);
		if (!c)
			c = json_order(x, y);
		if (c)
			return c;
	}
	return 0;
}

static void
sort_objs(json_t **v, size_t n, const char *const *keys, int nkeys)
{
	ord_keys = keys;
	ord_nkeys = nkeys;
	qsort(v, n, sizeof *v, cmp_objs);
}

/* Position of each group of g in the order of its values. */
static const grouper *pos_g;

static int
cmp_group_index(const void *pa, const void *pb)
{
	json_t *a = grouper_values(pos_g, *(const size_t *)pa);
	json_t *b = grouper_values(pos_g, *(const size_t *)pb);
	return cmp_objs(&a, &b);
}

static size_t *
positions(const grouper *g, const char *const *keys, int nkeys)
{
	size_t n = grouper_count(g);
	size_t *ix = emalloc((n + 1) * sizeof *ix), *pos = emalloc((n + 1) * sizeof *pos);
	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	pos_g = g;
	ord_keys = keys;
	ord_nkeys = nkeys;
	qsort(ix, n, sizeof *ix, cmp_group_index);
	for (size_t i = 0; i < n; i++)
		pos[ix[i]] = i;
	free(ix);
	return pos;
}

/* ---- table ---- */

static void
fmt_value(char *buf, size_t len, json_t *v)
{
	if (!v || json_is_null(v))
		snprintf(buf, len, "-");
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else {
		char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(buf, len, "%s", s ? s : "?");
		free(s);
	}
}

/* Label of a tuple of key values: the values joined by sep. */
static void
label(char *buf, size_t len, json_t *rec, const char *const *keys, int nkeys, const char *sep)
{
	size_t at = 0;
	buf[0] = 0;
	for (int i = 0; i < nkeys && at < len; i++) {
		char v[256];
		fmt_value(v, sizeof v, json_object_get(rec, keys[i]));
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? sep : "", v);
	}
}

/* Rows: (by keys not in columns, method, k); columns: the column keys. */
static void
print_table(json_t **out, size_t nout, char **by, int nby, char **cols, int ncol)
{
	const char **rk = emalloc((size_t)(nby + 2) * sizeof *rk);
	int nrk = 0;
	for (int i = 0; i < nby; i++) {
		int is_col = 0, present = 0;
		for (int j = 0; j < ncol; j++)
			is_col |= !strcmp(by[i], cols[j]);
		for (size_t o = 0; o < nout && !present; o++)
			present = json_object_get(out[o], by[i]) != NULL;
		if (!is_col && present)
			rk[nrk++] = by[i];
	}
	rk[nrk++] = "method";
	rk[nrk++] = "k";
	grouper *rows = grouper_new(rk, nrk), *colg = grouper_new((const char *const *)cols, ncol);
	size_t *ri = emalloc(nout * sizeof *ri), *ci = emalloc(nout * sizeof *ci);
	for (size_t o = 0; o < nout; o++) {
		ri[o] = grouper_find(rows, out[o], NULL);
		ci[o] = grouper_find(colg, out[o], NULL);
	}
	size_t nr = grouper_count(rows), nc = grouper_count(colg);
	size_t *rpos = positions(rows, rk, nrk), *cpos = positions(colg, (const char *const *)cols, ncol);
	/* Text of every cell, the header row first, row keys on the left. */
	size_t W = (size_t)nrk + nc, H = nr + 1;
	char (*cell)[128] = ecalloc(W * H, sizeof *cell);
	for (int j = 0; j < nrk; j++)
		snprintf(cell[j], sizeof *cell, "%s", rk[j]);
	for (size_t c = 0; c < nc; c++)
		label(cell[nrk + cpos[c]], sizeof *cell, grouper_values(colg, c), (const char *const *)cols, ncol, "/");
	for (size_t r = 0; r < nr; r++)
		for (int j = 0; j < nrk; j++)
			fmt_value(cell[(rpos[r] + 1) * W + (size_t)j], sizeof *cell,
				  json_object_get(grouper_values(rows, r), rk[j]));
	for (size_t o = 0; o < nout; o++) {
		char *c = cell[(rpos[ri[o]] + 1) * W + (size_t)nrk + cpos[ci[o]]];
		snprintf(c, sizeof *cell, "%.1f", 100 * json_real_value(json_object_get(out[o], "accuracy")));
	}
	int *width = ecalloc(W, sizeof *width);
	for (size_t i = 0; i < W * H; i++) {
		int l = (int)strlen(cell[i][0] ? cell[i] : "-");
		if (l > width[i % W])
			width[i % W] = l;
	}
	for (size_t h = 0; h < H; h++)
		for (size_t j = 0; j < W; j++) {
			const char *t = cell[h * W + j][0] ? cell[h * W + j] : "-";
			/* Row keys left-aligned, numbers right-aligned. */
			if ((int)j < nrk)
				printf("%-*s%s", j + 1 < W ? width[j] : 0, t, j + 1 < W ? "  " : "\n");
			else
				printf("%*s%s", width[j], t, j + 1 < W ? "  " : "\n");
		}
	free(rk), free(ri), free(ci), free(rpos), free(cpos), free(cell), free(width);
	grouper_free(rows);
	grouper_free(colg);
}

/* ---- plot ---- */

static int
on_path(const char *prog)
{
	const char *path = getenv("PATH");
	if (!path)
		return 0;
	char *copy = estrdup(path), *save = NULL, buf[4096];
	int found = 0;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof buf, "%s/%s", *dir ? dir : ".", prog);
		found = access(buf, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* A gnuplot single-quoted string: ' doubles. */
static void
gp_string(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('\'', f);
}

/* The gnuplot terminal for the file's suffix, or a usage error. */
static const char *
plot_terminal(const char *file)
{
	size_t len = strlen(file);
	if (len > 4 && !strcmp(file + len - 4, ".svg"))
		return "svg size 1000,420 dynamic background rgb 'white'";
	if (len > 4 && !strcmp(file + len - 4, ".png"))
		return "pngcairo size 1000,420";
	usage_error(usage, "--plot: FILE must end in .svg or .png: '%s'", file);
}

/* One line per (by keys, method): accuracy against k (log2) and, when
 * every record has it, against compute. */
static void
plot(const char *file, json_t **out, size_t nout, char **by, int nby, const char *compute, int asked)
{
	const char *term = plot_terminal(file);
	if (!on_path("gnuplot"))
		eprintf("--plot: gnuplot not found on PATH (Debian: apt-get install gnuplot-nox)");
	const char **sk = emalloc((size_t)(nby + 1) * sizeof *sk);
	for (int i = 0; i < nby; i++)
		sk[i] = by[i];
	sk[nby] = "method";
	grouper *series = grouper_new(sk, nby + 1);
	size_t *si = emalloc((nout + 1) * sizeof *si);
	int have_cost = compute != NULL;
	for (size_t o = 0; o < nout; o++) {
		si[o] = grouper_find(series, out[o], NULL);
		if (compute && !json_object_get(out[o], compute)) {
			if (asked)
				eprintf("-x %s: the vote records have no %s", compute, compute);
			have_cost = 0;
		}
	}
	size_t ns = grouper_count(series), *spos = positions(series, sk, nby + 1);
	size_t *sord = emalloc((ns + 1) * sizeof *sord);
	for (size_t i = 0; i < ns; i++)
		sord[spos[i]] = i;
	free(spos);

	FILE *f = popen("gnuplot", "w");
	if (!f)
		eprintf("--plot: cannot run gnuplot:");
	fprintf(f, "set terminal %s\nset output ", term);
	gp_string(f, file);
	fprintf(f, "\nset termoption noenhanced\nset grid\nset key outside below\n"
		"set ylabel 'accuracy'\nset yrange [0:1]\n");
	/* Data blocks: per series, the rows (k, cost, accuracy) in k order
	 * (out is sorted by the series keys, then k). */
	for (size_t s = 0; s < ns; s++) {
		fprintf(f, "$s%zu << EOD\n", s);
		for (size_t o = 0; o < nout; o++)
			if (si[o] == s)
				fprintf(f, "%lld %.17g %.17g\n",
					(long long)json_integer_value(json_object_get(out[o], "k")),
					have_cost ? json_number_value(json_object_get(out[o], compute)) : 0.0,
					json_real_value(json_object_get(out[o], "accuracy")));
		fprintf(f, "EOD\n");
	}
	if (have_cost)
		fprintf(f, "set multiplot layout 1,2\n");
	for (int panel = 0; panel < 1 + have_cost; panel++) {
		if (panel == 0)
			fprintf(f, "set logscale x 2\nset xlabel 'samples k'\n");
		else
			fprintf(f, "set logscale x 10\nset xlabel '%s per problem'\n", compute);
		fprintf(f, "plot ");
		for (size_t i = 0; i < ns; i++) {
			char t[512];
			label(t, sizeof t, grouper_values(series, sord[i]), sk, nby + 1, " ");
			fprintf(f, "%s$s%zu using %d:3 with linespoints title ", i ? ", " : "", sord[i], panel ? 2 : 1);
			gp_string(f, t);
		}
		fprintf(f, "\n");
	}
	if (have_cost)
		fprintf(f, "unset multiplot\n");
	int st = pclose(f);
	if (st != 0)
		eprintf("--plot: gnuplot failed (status %d) drawing %s", st, file);
	free(sk), free(si), free(sord);
	grouper_free(series);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"by", required_argument, NULL, 'b'},
		{"reps", required_argument, NULL, 'B'},
		{"level", required_argument, NULL, 'l'},
		{"seed", required_argument, NULL, 's'},
		{"table", no_argument, NULL, 't'},
		{"columns", required_argument, NULL, 'c'},
		{"plot", required_argument, NULL, 'p'},
		{"compute", required_argument, NULL, 'x'},
		REC_OUTPUT_LONGOPTS,
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *fmt = NULL, *out = NULL, *plotfile = NULL, *compute = NULL;
	char **by = NULL, **cols = NULL;
	int nby = 0, ncol = 0, zstd = 0, table = 0, reps = 1000, c;
	double level = 0.95;
	uint64_t seed = 0;

	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "b:B:l:s:tc:p:x:f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': free(by); by = split_list(optarg, "-b", usage, &nby); break;
		case 'B': reps = (int)parse_ll(optarg, "-B", 1, 10000000); break;
		case 'l': level = parse_double(optarg, "-l", 0, 1); break;
		case 's': seed = (uint64_t)parse_ll(optarg, "-s", 0, INT64_MAX); break;
		case 't': table = 1; break;
		case 'c': free(cols); cols = split_list(optarg, "-c", usage, &ncol); break;
		case 'p': plotfile = optarg; plot_terminal(optarg); break;
		case 'x':
			if (strcmp(optarg, "ms") && strcmp(optarg, "tokens") && strcmp(optarg, "flops"))
				usage_error(usage, "-x: expected ms, tokens or flops, got '%s'", optarg);
			compute = optarg;
			break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-score %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	if (!by)
		by = split_list("model,dataset,task,pairs", "-b", usage, &nby);
	if (!cols)
		cols = split_list("model", "-c", usage, &ncol);
	/* Groups: the by keys, method, k; a problem once per group. */
	const char **keys = emalloc((size_t)(nby + 3) * sizeof *keys);
	for (int i = 0; i < nby; i++)
		keys[i] = by[i];
	keys[nby] = "method";
	keys[nby + 1] = "k";
	keys[nby + 2] = "id";
	grouper *gr = grouper_new(keys, nby + 2), *seen = grouper_new(keys, nby + 3);

	rec_writer *w = table ? NULL : rec_writer_for(out, fmt, zstd);
	int nfiles = argc - optind;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
		rec_reader *r = rec_open(nfiles ? argv[optind + i] : "-");
		json_t *rec;
		while ((rec = rec_next(r))) {
			add_vote(r, rec, gr, seen);
			json_decref(rec);
		}
		rec_close(r);
	}
	grouper_free(seen);
	json_t **res = emalloc((ngroups + 1) * sizeof *res);
	for (size_t i = 0; i < ngroups; i++) {
		size_t keylen;
		const char *key = grouper_key(gr, i, &keylen);
		res[i] = score(&groups[i], key, keylen, reps, level, seed);
	}
	sort_objs(res, ngroups, keys, nby + 2);
	int asked = compute != NULL;
	if (!compute)   /* wall time as in the paper's Figure 2, else what there is */
		for (int cst = 0; cst < NCOST && !compute; cst++)
			if (ngroups && json_object_get(res[0], cost_key[cst]))
				compute = cost_key[cst];
	if (plotfile)
		plot(plotfile, res, ngroups, by, nby, compute, asked);
	if (table) {
		print_table(res, ngroups, by, nby, cols, ncol);
		close_stdout();
	}
	for (size_t i = 0; i < ngroups; i++) {
		if (w)
			rec_put(w, res[i]);
		json_decref(res[i]);
		json_decref(groups[i].consts);
		free(groups[i].correct);
	}
	if (w)
		rec_writer_close(w);
	free(res), free(groups), free(keys), free(by), free(cols);
	grouper_free(gr);
	return 0;
}
