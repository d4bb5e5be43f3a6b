/* record.h — record streams: JSONL or msgpack, either optionally zstd.
 *
 * A record is a JSON object held as a jansson json_t (object with string
 * keys; values null, bool, integer, real, string (may hold NULs: use
 * json_string_length), array, object).  Tools build and read records with
 * the jansson API and never parse or print JSON themselves.
 *
 * Reading detects the encoding from the first bytes: zstd magic
 * 28 B5 2F FD → decompress, then '{' (after optional whitespace) → JSONL,
 * a msgpack map header (0x80–0x8f, 0xde, 0xdf) → msgpack.  An empty stream
 * is an empty stream.  Memory stays constant however long the stream.
 *
 * Errors are fatal (exit 1) with one line naming the source and position:
 *   tts-vote: data.jsonl:1234: expected an object
 *   tts-vote: run.msgpack: record 57: truncated msgpack map
 */
#ifndef TTS_RECORD_H
#define TTS_RECORD_H

#include <jansson.h>
#include <stdio.h>

enum rec_format { REC_JSONL, REC_MSGPACK };

typedef struct rec_reader rec_reader;
typedef struct rec_writer rec_writer;

/* Open a reader on a path; "-" or NULL is stdin.  Fatal if it can't open. */
rec_reader *rec_open(const char *path);
/* The next record (a new reference the caller json_decref()s), or NULL at
 * the end of the stream.  Fatal on malformed input. */
json_t *rec_next(rec_reader *r);
/* "name:LINE" for JSONL, "name: record N" for msgpack: where the last
 * record returned came from, for the caller's own error messages. */
const char *rec_where(const rec_reader *r);
/* The name given at open ("<stdin>" for stdin). */
const char *rec_name(const rec_reader *r);
void rec_close(rec_reader *r);
/* For reading back the output of an interrupted run (tts-generate
 * --resume): after this call, a stream whose end was cut off (a truncated
 * zstd frame, a truncated msgpack map, a last JSONL line without its
 * newline that does not parse) ends before the damaged record, with a
 * warning on stderr, instead of being an error.  Damage elsewhere is still
 * fatal. */
void rec_allow_truncated(rec_reader *r);

/* A writer.  fmt/zstd chosen by the caller; rec_writer_for_path picks them
 * from the suffix (.jsonl .json .msgpack .mpk, then .zst) unless forced.
 * "-" or NULL is stdout.  Writing msgpack or zstd to a terminal is refused. */
rec_writer *rec_writer_open(const char *path, enum rec_format fmt, int zstd);
/* Parse the common output options: fmt_opt is the -f argument or NULL,
 * zstd_opt 1 if -z was given; path is -o's argument or NULL (stdout). */
rec_writer *rec_writer_for(const char *path, const char *fmt_opt, int zstd_opt);
/* The long options that go with rec_writer_for, for a getopt_long table
 * (include <getopt.h>): --format (-f), --zstd (-z), --output (-o). */
#define REC_OUTPUT_LONGOPTS \
	{ "format", required_argument, NULL, 'f' }, \
	{ "zstd", no_argument, NULL, 'z' }, \
	{ "output", required_argument, NULL, 'o' }
/* Write one record whole (it is buffered: records are never split by a
 * flush).  Fatal on write errors (a full disk is an error). */
void rec_put(rec_writer *w, json_t *rec);
/* Flush everything written so far to the file (ending a zstd frame), so a
 * crash after this loses nothing before it.  Fatal on error. */
void rec_flush(rec_writer *w);
/* Flush, close, free; fatal on error. */
void rec_writer_close(rec_writer *w);

/* Helpers for reading fields with clear errors naming the reader's
 * position: fatal if the key is missing or of the wrong type. */
const char *rec_get_str(rec_reader *r, json_t *rec, const char *key);
long long rec_get_int(rec_reader *r, json_t *rec, const char *key);
double rec_get_num(rec_reader *r, json_t *rec, const char *key); /* int or real */
/* Optional: NULL / default when missing or null; fatal on a wrong type. */
const char *rec_opt_str(rec_reader *r, json_t *rec, const char *key);
double rec_opt_num(rec_reader *r, json_t *rec, const char *key, double dflt);

#endif
