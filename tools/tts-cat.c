/* tts-cat — concatenate record streams, converting between encodings.
 * Reads each FILE (or stdin) in any encoding the record layer detects and
 * writes the records, unchanged, as JSONL or msgpack, optionally zstd. */
#include "record.h"
#include "tts.h"

#include <getopt.h>
#include <stdlib.h>

static const char *usage = "tts-cat [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]";

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		REC_OUTPUT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fmt = NULL, *out = NULL;
	int zstd = 0, c;

	tts_init(argc, argv);
	while ((c = getopt_long(argc, argv, "f:zo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case 'o': out = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		case 'V': printf("tts-cat %s\n", TTS_VERSION); return 0;
		default: usage_error(usage, NULL);
		}
	}
	rec_writer *w = rec_writer_for(out, fmt, zstd);
	int nfiles = argc - optind;
	for (int i = 0; i < (nfiles ? nfiles : 1); i++) {
		rec_reader *r = rec_open(nfiles ? argv[optind + i] : "-");
		json_t *rec;
		while ((rec = rec_next(r))) {
			rec_put(w, rec);
			json_decref(rec);
		}
		rec_close(r);
	}
	rec_writer_close(w);
	return 0;
}
