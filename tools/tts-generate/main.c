/* main.c — tts-generate, loading commands only on this branch: the full
 * CLI (generation) comes from the engine branch and calls cmds.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmds.h"
#include "record.h"
#include "tokenizer.h"
#include "tts.h"

static const char *usage_str =
	"tts-generate -m DIR (--inspect [--tensors] | --tokenize [--key KEY] [--no-bos] [--no-special] |\n"
	"       --detokenize [--skip-special]) [-o FILE] [-f jsonl|msgpack] [-z] [FILE ...]";

static void
usage(void)
{
	printf("usage: %s\n", usage_str);
	exit(0);
}

int
main(int argc, char **argv)
{
	enum { O_INSPECT = 256, O_TOKENIZE, O_DETOKENIZE, O_TENSORS, O_NO_BOS, O_NO_SPECIAL, O_SKIP_SPECIAL, O_KEY };
	static const struct option opts[] = {
		{"model", required_argument, NULL, 'm'}, {"inspect", no_argument, NULL, O_INSPECT},
		{"tokenize", no_argument, NULL, O_TOKENIZE}, {"detokenize", no_argument, NULL, O_DETOKENIZE},
		{"tensors", no_argument, NULL, O_TENSORS}, {"no-bos", no_argument, NULL, O_NO_BOS},
		{"no-special", no_argument, NULL, O_NO_SPECIAL}, {"skip-special", no_argument, NULL, O_SKIP_SPECIAL},
		{"key", required_argument, NULL, O_KEY}, {"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'}, {"zstd", no_argument, NULL, 'z'},
		{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *out = NULL, *fmt = NULL, *key = "text";
	int cmd = 0, zstd = 0, tensors = 0, flags = TTS_TOK_ADD_SPECIAL, skip = 0, c;
	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "m:o:f:zhV", opts, NULL)) != -1) {
		switch (c) {
		case 'm': dir = optarg; break;
		case 'o': out = optarg; break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'h': usage(); break;
		case 'V': printf("tts-generate %s\n", TTS_VERSION); return 0;
		case O_INSPECT: case O_TOKENIZE: case O_DETOKENIZE:
			if (cmd && cmd != c)
				usage_error(usage_str, "--inspect, --tokenize and --detokenize exclude each other");
			cmd = c;
			break;
		case O_TENSORS: tensors = 1; break;
		case O_NO_BOS: flags &= ~TTS_TOK_ADD_SPECIAL; break;
		case O_NO_SPECIAL: flags |= TTS_TOK_SPLIT_SPECIAL; break;
		case O_SKIP_SPECIAL: skip = 1; break;
		case O_KEY: key = optarg; break;
		default: usage_error(usage_str, NULL);
		}
	}
	if (!dir)
		usage_error(usage_str, "-m DIR is required");
	if (!cmd)
		usage_error(usage_str, "generation is not built yet (this build has --inspect, --tokenize, --detokenize)");
	if (cmd == O_INSPECT && optind < argc)
		usage_error(usage_str, "--inspect takes no input files");
	rec_writer *w = rec_writer_for(out, fmt, zstd);
	int rc = 0;
	if (cmd == O_INSPECT)
		rc = cmd_inspect(dir, tensors, w);
	else {
		int nin = optind < argc ? argc - optind : 1;
		for (int i = 0; i < nin && !rc; i++) {
			rec_reader *r = rec_open(optind < argc ? argv[optind + i] : NULL);
			rc = cmd == O_TOKENIZE ? cmd_tokenize(dir, r, w, key, flags) : cmd_detokenize(dir, r, w, skip);
			rec_close(r);
		}
	}
	rec_writer_close(w);
	return rc;
}
