/* test_record.c — the record layer: round trips through every encoding,
 * detection, flushed zstd frames, and the fatal errors (run in a child). */
#include "record.h"
#include "tap.h"
#include "tts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/test_record.XXXXXX";

static const char *
tmp(const char *name)
{
	static char path[4][256];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	return p;
}

static json_t *
sample_records(void)
{
	json_error_t err;
	json_t *a = json_loads(
		"[{\"id\":\"p-0\",\"int\":42,\"neg\":-7,\"big\":9223372036854775807,"
		"\"min\":-9223372036854775807,\"real\":1.0,\"tenth\":0.1,\"tiny\":5e-324,"
		"\"huge\":1.7976931348623157e308,\"nz\":-0.0,\"t\":true,\"f\":false,\"n\":null,"
		"\"esc\":\"q\\\"b\\\\s/\\n\\t\\r\\b\\f\\u0001\\u001f\","
		"\"uni\":\"h\\u00e9llo \\u4e16\\u754c \\ud83d\\ude00\","
		"\"nested\":{\"a\":[1,2.5,[\"x\",{\"deep\":[]}]],\"b\":{}}},"
		"{\"empty\":\"\",\"arr\":[]},"
		"{}]",
		0, &err);
	if (!a)
		eprintf("fixture: %s", err.text);
	/* A string with an embedded NUL cannot be written in C source JSON
	 * without JSON_ALLOW_NUL; build it directly. */
	json_object_set_new(json_array_get(a, 1), "nul", json_stringn("a\0b", 3));
	return a;
}

static void
write_recs(const char *path, enum rec_format fmt, int zstd, json_t *recs)
{
	rec_writer *w = rec_writer_open(path, fmt, zstd);
	size_t i;
	json_t *x;
	json_array_foreach(recs, i, x)
		rec_put(w, x);
	rec_writer_close(w);
}

static int
round_trip(enum rec_format fmt, int zstd, json_t *recs)
{
	const char *path = tmp("rt");
	size_t i;
	json_t *x;
	write_recs(path, fmt, zstd, recs);
	rec_reader *r = rec_open(path);
	int same = 1;
	json_array_foreach(recs, i, x) {
		json_t *y = rec_next(r);
		same = same && y && json_equal(x, y);
		json_decref(y);
	}
	same = same && rec_next(r) == NULL;
	rec_close(r);
	return same;
}

static void
write_file(const char *path, const void *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(s, 1, n, f) != n || fclose(f))
		eprintf("%s:", path);
}

static size_t
read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		eprintf("%s:", path);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Read every record of path in a child; return its exit status and put
 * what it wrote on stderr in msg.  With tolerant set, the child allows a
 * truncated end and exits with the number of records read. */
static int
read_in_child_as(const char *path, int tolerant, char *msg, size_t cap)
{
	const char *err = tmp("stderr");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(err, "w", stderr))
			_exit(99);
		rec_reader *r = rec_open(path);
		json_t *v;
		int n = 0;
		if (tolerant)
			rec_allow_truncated(r);
		while ((v = rec_next(r))) {
			json_decref(v);
			n++;
		}
		rec_close(r);
		fflush(stderr);
		_exit(tolerant ? n : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	size_t n = read_file(err, msg, cap - 1);
	while (n > 0 && msg[n - 1] == '\n')
		n--;
	msg[n] = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
read_in_child(const char *path, char *msg, size_t cap)
{
	return read_in_child_as(path, 0, msg, cap);
}

static void
expect_tolerated(const char *name, const void *data, size_t n, int nrec, const char *want)
{
	char msg[512];
	const char *path = tmp(name);
	write_file(path, data, n);
	int st = read_in_child_as(path, 1, msg, sizeof msg);
	ok(st == nrec && strstr(msg, want), "%s, allowed truncated: %d records and '%s' (got %d: %s)",
	   name, nrec, want, st, msg);
}

static void
expect_error(const char *name, const void *data, size_t n, const char *want)
{
	char msg[512];
	const char *path = tmp(name);
	write_file(path, data, n);
	int st = read_in_child(path, msg, sizeof msg);
	ok(st == 1 && strstr(msg, want), "%s: exit 1 and '%s' (got %d: %s)", name, want, st,
	   msg);
}

static size_t
encode(json_t *recs, enum rec_format fmt, int zstd, char *buf, size_t cap)
{
	const char *path = tmp("enc");
	write_recs(path, fmt, zstd, recs);
	return read_file(path, buf, cap);
}

static void
test_errors(json_t *recs)
{
	static char buf[1 << 16];
	size_t n;
	expect_error("notobj.jsonl", "{\"a\":1}\n[1,2]\n", 14, "notobj.jsonl:2: expected an object");
	expect_error("bad.jsonl", "{\"a\":1}\n\n{\"a\":}\n", 16, "bad.jsonl:3: invalid JSON");
	expect_error("garbage", "\x01\x02\x03", 3, "not a record stream");
	n = encode(recs, REC_MSGPACK, 0, buf, sizeof buf);
	expect_error("trunc.msgpack", buf, n - 3, "record 2: truncated msgpack map");
	n = encode(recs, REC_JSONL, 1, buf, sizeof buf);
	expect_error("trunc.zst", buf, n - 5, "truncated zstd frame");
	/* 0x81 (map of 1) then 0xc1 (never used) */
	expect_error("invalid.msgpack", "\x81\xc1", 2, "record 1: invalid msgpack");
	/* map of 1: key 1 (an int) → value nil */
	expect_error("intkey.msgpack", "\x81\x01\xc0", 3, "record 1: map key is not a string");
	/* a map, then an array at top level */
	expect_error("array.msgpack", "\x80\x91\x01", 3, "record 2: expected a map");
	/* {"u": uint64 max} */
	expect_error("u64.msgpack", "\x81\xa1u\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 12,
		     "out of range");
	/* rec_allow_truncated: a cut end is the end, damage before it is not */
	n = encode(recs, REC_MSGPACK, 0, buf, sizeof buf);
	expect_tolerated("trunc-ok.msgpack", buf, n - 3, 1, "record 2: truncated msgpack map: ignoring the rest");
	n = encode(recs, REC_JSONL, 0, buf, sizeof buf);
	expect_tolerated("trunc-ok.jsonl", buf, n - 5, 1, "trunc-ok.jsonl:2: incomplete last line: ignoring the rest");
	/* a frame per record (rec_flush): the cut one is lost, not the others */
	rec_writer *w = rec_writer_open(tmp("frames.zst"), REC_MSGPACK, 1);
	for (size_t i = 0; i < json_array_size(recs); i++) {
		rec_put(w, json_array_get(recs, i));
		rec_flush(w);
	}
	rec_writer_close(w);
	n = read_file(tmp("frames.zst"), buf, sizeof buf);
	expect_tolerated("trunc-ok.zst", buf, n - 2, 2, "truncated zstd frame: ignoring the rest");
	expect_tolerated("midbad.jsonl", "{}\n{x}\n{}", 10, 1, "midbad.jsonl:2: invalid JSON");
	/* {"s": bin 0xff} is not UTF-8 */
	expect_error("utf8.msgpack", "\x81\xa1s\xc4\x01\xff", 6, "not valid UTF-8");
}

static void
test_flush_frames(json_t *recs)
{
	/* After rec_flush the file so far is complete zstd: readable while the
	 * writer is still open. */
	const char *path = tmp("flush.zst");
	rec_writer *w = rec_writer_open(path, REC_MSGPACK, 1);
	rec_put(w, json_array_get(recs, 0));
	rec_put(w, json_array_get(recs, 1));
	rec_flush(w);
	rec_reader *r = rec_open(path);
	json_t *a = rec_next(r), *b = rec_next(r), *c = rec_next(r);
	ok(a && b && !c && json_equal(b, json_array_get(recs, 1)),
	   "flushed zstd frame readable before close");
	json_decref(a);
	json_decref(b);
	rec_close(r);
	rec_put(w, json_array_get(recs, 2));
	rec_writer_close(w);
	r = rec_open(path);
	int n = 0;
	json_t *v;
	while ((v = rec_next(r))) {
		n++;
		json_decref(v);
	}
	ok(n == 3, "two frames read as one stream (%d records)", n);
	rec_close(r);
}

static void
test_text(void)
{
	static char buf[4096];
	json_t *rec = json_pack("{s:f,s:f,s:i,s:f,s:f}", "one", 1.0, "tenth", 0.1, "i", 3,
				"third", 1.0 / 3, "e", 1e21);
	json_t *recs = json_pack("[o]", rec);
	size_t n = encode(recs, REC_JSONL, 0, buf, sizeof buf - 1);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	ok(strcmp(buf, "{\"one\":1.0,\"tenth\":0.1,\"i\":3,\"third\":0.3333333333333333,"
		       "\"e\":1e+21}") == 0,
	   "reals print shortest and as reals: %s", buf);
	json_decref(recs);
	recs = json_pack("[{s:s#}]", "s", "\x01\"\\\n\xc3\xa9", (int)6);
	n = encode(recs, REC_JSONL, 0, buf, sizeof buf - 1);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	ok(strcmp(buf, "{\"s\":\"\\u0001\\\"\\\\\\n\xc3\xa9\"}") == 0,
	   "escapes only what JSON needs: %s", buf);
	json_decref(recs);
}

static void
test_detect(void)
{
	const char *path = tmp("ws.jsonl");
	write_file(path, "\n  \n\t{\"a\":1}\r\n", 14);
	rec_reader *r = rec_open(path);
	json_t *v = rec_next(r);
	ok(v && json_integer_value(json_object_get(v, "a")) == 1, "leading blank lines, CRLF");
	ok(strcmp(rec_where(r), tmp("ws.jsonl:3")) == 0, "rec_where names the line: %s",
	   rec_where(r));
	json_decref(v);
	rec_close(r);
	path = tmp("empty");
	write_file(path, "", 0);
	r = rec_open(path);
	ok(rec_next(r) == NULL, "empty file is an empty stream");
	rec_close(r);
	path = tmp("nonl.jsonl");
	write_file(path, "{}\n{\"b\":2}", 10);
	r = rec_open(path);
	json_decref(rec_next(r));
	v = rec_next(r);
	ok(v && json_object_get(v, "b"), "last line without a newline");
	json_decref(v);
	rec_close(r);
}

static void
test_long_line(void)
{
	/* A record far larger than the read buffer, in each encoding. */
	size_t n = 3u << 20;
	char *s = emalloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	json_t *recs = json_pack("[{s:s#},{s:i}]", "long", s, (int)n, "after", 1);
	ok(round_trip(REC_JSONL, 0, recs), "3 MB record, JSONL");
	ok(round_trip(REC_MSGPACK, 1, recs), "3 MB record, msgpack+zstd");
	json_decref(recs);
	free(s);
}

int
main(int argc, char **argv)
{
	tts_init(argc, argv);
	if (!mkdtemp(dir))
		eprintf("mkdtemp:");
	json_t *recs = sample_records();
	ok(round_trip(REC_JSONL, 0, recs), "round trip JSONL");
	ok(round_trip(REC_MSGPACK, 0, recs), "round trip msgpack");
	ok(round_trip(REC_JSONL, 1, recs), "round trip JSONL+zstd");
	ok(round_trip(REC_MSGPACK, 1, recs), "round trip msgpack+zstd");
	test_text();
	test_detect();
	test_flush_frames(recs);
	test_long_line();
	test_errors(recs);
	json_decref(recs);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		weprintf("could not remove %s", dir);
	return tap_done();
}
