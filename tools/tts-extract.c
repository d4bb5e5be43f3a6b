/* tts-extract — pull the final answer out of each sample's completion.
 * Reads sample records (key "text"), writes them back with "pred" (the
 * extracted answer or null), "pred_canon" (its canonical form) and
 * "pred_rule" (the rule that fired).  Also one-off checks: --equal A B
 * exits like cmp (0 same, 1 different, 2 trouble); --canon prints canonical
 * forms.  The rules and the equivalence live in lib/answer.c. */
#include "answer.h"
#include "record.h"
#include "tts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
	"tts-extract [-r RULES] [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]\n"
	"       tts-extract --equal [--] A B\n"
	"       tts-extract --canon [--] ANSWER...";

static void
set_or_null(rec_reader *r, json_t *rec, const char *key, const char *val)
{
	json_t *v = val ? json_string(val) : json_null();
	if (!v)
		eprintf("%s: %s is not valid UTF-8", rec_where(r), key);
	json_object_set_new(rec, key, v);
}

static void
extract(rec_reader *r, rec_writer *w, int rules)
{
	json_t *rec;
	while ((rec = rec_next(r))) {
		const char *text = rec_opt_str(r, rec, "text");
		const char *rule = NULL;
		char *canon = NULL;
		char *pred = text ? ans_extract_canon(text, rules, &rule, &canon) : NULL;
		set_or_null(r, rec, "pred", pred);
		set_or_null(r, rec, "pred_canon", canon);
		set_or_null(r, rec, "pred_rule", rule);
		rec_put(w, rec);
		json_decref(rec);
		free(pred);
		free(canon);
	}
}

int
main(int argc, char **argv)
{
	enum { OPT_EQUAL = 256, OPT_CANON };
	static const struct option longopts[] = {
		REC_OUTPUT_LONGOPTS,
		{ "rules", required_argument, NULL, 'r' },
		{ "equal", no_argument, NULL, OPT_EQUAL },
		{ "canon", no_argument, NULL, OPT_CANON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fmt = NULL, *out = NULL;
	int zstd = 0, rules = ANS_ALL, mode = 0, c;

	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "r:f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = ans_rules(optarg);
			if (rules <= 0)
				usage_error(usage, "-r: unknown rule in '%s' (boxed, hash, answer_is, last_number)", optarg);
			break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case OPT_EQUAL: case OPT_CANON: mode = c; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-extract %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	if (mode == OPT_EQUAL) {
		if (argc - optind != 2)
			usage_error(usage, "--equal: expected two answers, got %d", argc - optind);
		return ans_equal(argv[optind], argv[optind + 1]) ? 0 : 1;
	}
	if (mode == OPT_CANON) {
		for (int i = optind; i < argc; i++) {
			char *s = ans_canon(argv[i]);
			puts(s);
			free(s);
		}
		close_stdout();
		return 0;
	}
	rec_writer *w = rec_writer_for(out, fmt, zstd);
	int nfiles = argc - optind;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
		rec_reader *r = rec_open(nfiles ? argv[optind + i] : "-");
		extract(r, w, rules);
		rec_close(r);
	}
	rec_writer_close(w);
	return 0;
}
