/* tts-generate — sample N completions per prompt record with a local model
 * (see tts-generate(1)).  This file: options, records in and out, resume,
 * signals, progress; the scheduler is sched.c, the engine kernels/. */
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cmds.h"
#include "gen.h"
#include "record.h"
#include "reward.h"
#include "synth.h"
#include "tokenizer.h"
#include "tts.h"

static const char *usage_text =
	"tts-generate -m DIR [-n N] [--temperature T] [--top-p P] [--top-k K] [--min-p P] "
	"[--max-tokens M] [--seed S] [--stop STR]... [--ignore-eos] [--max-batch B] "
	"[--device cpu|cuda[:i]] [--ssm-state f32|bf16] [--name NAME] [--keep-prompt] [-o FILE [--resume]] "
	"[-f jsonl|msgpack] [-z] [--threads T] [FILE ...]\n"
	"       tts-generate -m DIR (--inspect [--tensors] | --tokenize [--key KEY] [--no-bos] [--no-special] |\n"
	"       --detokenize [--skip-special]) [-o FILE] [-f jsonl|msgpack] [-z] [FILE ...]\n"
	"       tts-generate --reward -m DIR [--rm-format concat|llama3|rlhflow-prm] [--rm-system TEXT] "
	"[--aggregate last|min|prod] [--step-scores] [--step-sep STR] [--labels PLUS,MINUS] "
	"[--prm-softmax labels|vocab] [--max-batch B] [--device cpu|cuda[:i]] [-o FILE] "
	"[-f jsonl|msgpack] [-z] [--threads T] [FILE ...]";

enum { O_TEMP = 256, O_TOPP, O_TOPK, O_MINP, O_MAXTOK, O_SEED, O_STOP, O_IGNEOS, O_BATCH,
       O_DEVICE, O_NAME, O_KEEP, O_RESUME, O_THREADS, O_DUMP, O_IDS, O_KVB, O_SYNTH,
       O_INSPECT, O_TOKENIZE, O_DETOKENIZE, O_TENSORS, O_NO_BOS, O_NO_SPECIAL, O_SKIP_SPECIAL,
       O_KEY, O_REWARD, O_RMFMT, O_AGG, O_STEPS, O_STEPSEP, O_LABELS, O_PRMSM, O_RMSYS,
       O_SSM };

static const struct option longopts[] = {
	{ "temperature", 1, 0, O_TEMP }, { "top-p", 1, 0, O_TOPP }, { "top-k", 1, 0, O_TOPK },
	{ "min-p", 1, 0, O_MINP }, { "max-tokens", 1, 0, O_MAXTOK }, { "seed", 1, 0, O_SEED },
	{ "stop", 1, 0, O_STOP }, { "ignore-eos", 0, 0, O_IGNEOS }, { "max-batch", 1, 0, O_BATCH },
	{ "device", 1, 0, O_DEVICE }, { "name", 1, 0, O_NAME }, { "keep-prompt", 0, 0, O_KEEP },
	{ "resume", 0, 0, O_RESUME }, { "threads", 1, 0, O_THREADS },
	{ "dump-logits", 1, 0, O_DUMP }, { "token-ids", 0, 0, O_IDS },
	{ "kv-blocks", 1, 0, O_KVB }, { "synthetic", 1, 0, O_SYNTH },
	{ "ssm-state", 1, 0, O_SSM },
	{ "inspect", 0, 0, O_INSPECT }, { "tokenize", 0, 0, O_TOKENIZE },
	{ "detokenize", 0, 0, O_DETOKENIZE }, { "tensors", 0, 0, O_TENSORS },
	{ "no-bos", 0, 0, O_NO_BOS }, { "no-special", 0, 0, O_NO_SPECIAL },
	{ "skip-special", 0, 0, O_SKIP_SPECIAL }, { "key", 1, 0, O_KEY },
	{ "reward", 0, 0, O_REWARD }, { "rm-format", 1, 0, O_RMFMT }, { "aggregate", 1, 0, O_AGG },
	{ "step-scores", 0, 0, O_STEPS }, { "step-sep", 1, 0, O_STEPSEP },
	{ "labels", 1, 0, O_LABELS }, { "prm-softmax", 1, 0, O_PRMSM },
	{ "rm-system", 1, 0, O_RMSYS },
	{ "model", 1, 0, 'm' }, { "output", 1, 0, 'o' }, { "format", 1, 0, 'f' },
	{ "zstd", 0, 0, 'z' },
	{ "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 }
};

static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	got_signal = sig;
	tts_interrupted = 1;
}

/* The device memory a KV cache may take (a GPU backend, which knows its
 * free memory): what is free now, less the weights (bf16 on the device, not
 * yet uploaded), the Mamba state slots (float32, 2B+1 of them) and a
 * headroom for activations, logits and cuBLAS's workspace.  *per becomes
 * the bytes of one block of every attention layer in the device's bf16 KV. */
static double
device_kv_budget(const tts_ops *ops, const tts_model *m, int max_batch, double *per)
{
	double state = 0;
	for (int i = 0; i < m->n_layers; i++) {
		if (m->layers[i].mixer == MIXER_MAMBA2)
			state += (double)m->m2_conv_dim * (m->m2_conv - 1) +
				 (double)m->m2_heads * m->m2_headdim * m->m2_state;
		else if (m->layers[i].mixer == MIXER_MAMBA1)
			state += (double)m->m1_d_inner * (m->m1_conv - 1 + m->m1_state);
	}
	state *= 4.0 * (2 * max_batch + 1);
	double weights = 2.0 * (double)tts_model_params(m);
	double headroom = 4.0 * 1073741824.0 + 8.0 * max_batch * (double)m->vocab;
	*per /= 2;   /* the device keeps K and V in bf16 */
	double left = (double)ops->mem_free() - weights - state - headroom;
	return left > 0 ? left : 0;
}

static void
catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

typedef struct {
	rec_writer *w;
	int tty;
	long total;              /* problems to do, when known (input files) */
	double t0;
	gen_sched *s;
} out_ctx;

static void
emit(void *ctx, json_t *in, json_t **samples, int n)
{
	out_ctx *c = ctx;
	(void)in;
	for (int i = 0; i < n; i++)
		rec_put(c->w, samples[i]);
	rec_flush(c->w);
	if (c->tty && c->s) {
		long tok, done = gen_sched_done(c->s, &tok) + 1;
		double dt = now_s() - c->t0;
		fprintf(stderr, "\r%s: %ld", argv0, done);
		if (c->total > 0)
			fprintf(stderr, "/%ld", c->total);
		fprintf(stderr, " problems, %ld tokens, %.0f tok/s", tok, dt > 0 ? tok / dt : 0.0);
		if (c->total > done)
			fprintf(stderr, ", ETA %.0f s", dt / done * (c->total - done));
		fputs("   ", stderr);
	}
}

/* -o FILE --resume: copy the complete problems of FILE (n samples of one
 * id, consecutive) into a new file beside it, which this run continues and
 * finally renames over FILE; a trailing partial problem is dropped.
 * Returns the ids done (a JSON object used as a set). */
static json_t *
resume(const char *path, rec_writer *w, int n)
{
	json_t *done = json_object();
	if (access(path, F_OK) != 0)
		return done;
	rec_reader *r = rec_open(path);
	rec_allow_truncated(r);   /* a kill or a full disk can cut the last record */
	json_t **grp = ecalloc(n, sizeof *grp), *rec;
	int k = 0;
	const char *gid = NULL;
	while ((rec = rec_next(r))) {
		const char *id = rec_get_str(r, rec, "id");
		if (k > 0 && strcmp(id, gid) != 0) {   /* an incomplete problem: drop it */
			for (int i = 0; i < k; i++)
				json_decref(grp[i]);
			k = 0;
		}
		grp[k++] = rec;
		gid = id;
		if (k == n) {
			json_object_set_new(done, gid, json_true());
			for (int i = 0; i < n; i++) {
				rec_put(w, grp[i]);
				json_decref(grp[i]);
			}
			k = 0;
		}
	}
	for (int i = 0; i < k; i++)
		json_decref(grp[i]);
	free(grp);
	rec_close(r);
	rec_flush(w);
	return done;
}

/* The prompt's ids: `prompt` tokenized, or `prompt_ids` as given (a
 * debugging aid for checking against reference logits). */
static int
prompt_ids(rec_reader *r, json_t *rec, gen_tok *tok, int vocab, int32_t **ids)
{
	json_t *a = json_object_get(rec, "prompt_ids");
	if (a && json_is_array(a)) {
		int n = json_array_size(a);
		*ids = emalloc((n + 1) * sizeof **ids);
		for (int i = 0; i < n; i++) {
			json_t *v = json_array_get(a, i);
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= vocab)
				eprintf("%s: prompt_ids[%d] is not a token id", rec_where(r), i);
			(*ids)[i] = json_integer_value(v);
		}
		return n;
	}
	json_t *p = json_object_get(rec, "prompt");
	if (!p || !json_is_string(p))
		eprintf("%s: missing string key \"prompt\"", rec_where(r));
	return gen_encode(tok, json_string_value(p), json_string_length(p), ids);
}

/* --inspect, --tokenize, --detokenize (inspect.c) */
static int
run_cmd(int cmd, const char *dir, int tensors, int flags, int skip, const char *key,
	char **files, int nfiles, rec_writer *w)
{
	if (cmd == O_INSPECT) {
		if (nfiles)
			usage_error(usage_text, "--inspect takes no input files");
		return cmd_inspect(dir, tensors, w);
	}
	int rc = 0;
	for (int i = 0; i < (nfiles ? nfiles : 1) && !rc; i++) {
		rec_reader *r = rec_open(nfiles ? files[i] : NULL);
		rc = cmd == O_TOKENIZE ? cmd_tokenize(dir, r, w, key, flags) :
					 cmd_detokenize(dir, r, w, skip);
		rec_close(r);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	tts_init(argc, argv);
	gen_opts o = { .n = 1, .temperature = -1, .top_p = -1, .top_k = -1, .min_p = 0,
		       .max_tokens = 768, .max_batch = 64 };
	const char *dir = NULL, *out = NULL, *fmt = NULL, *device = "cpu", *synth = NULL;
	int zstd = 0, do_resume = 0, c, cmd = 0, tensors = 0, skip = 0;
	int flags = TTS_TOK_ADD_SPECIAL;
	const char *key = "text";
	int reward = 0;
	reward_opts ro = { .sep = "\n\n", .plus = "+", .minus = "-" };
	long long v;
	while ((c = getopt_long(argc, argv, "m:n:o:f:zhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': dir = optarg; break;
		case 'n': o.n = parse_ll(optarg, "-n", 1, 1 << 20); break;
		case 'o': out = optarg; break;
		case 'f': fmt = optarg; break;
		case 'z': zstd = 1; break;
		case O_TEMP: o.temperature = parse_double(optarg, "--temperature", 0, 1e6); break;
		case O_TOPP: o.top_p = parse_double(optarg, "--top-p", 0, 1); break;
		case O_TOPK: o.top_k = parse_ll(optarg, "--top-k", 0, 1 << 30); break;
		case O_MINP: o.min_p = parse_double(optarg, "--min-p", 0, 1); break;
		case O_MAXTOK: o.max_tokens = parse_ll(optarg, "--max-tokens", 1, 1 << 24); break;
		case O_SEED: o.seed = parse_ll(optarg, "--seed", 0, INT64_MAX); break;
		case O_STOP:
			if (!*optarg)
				usage_error(usage_text, "--stop: empty string");
			o.stop = erealloc(o.stop, (o.n_stop + 1) * sizeof *o.stop);
			o.stop[o.n_stop++] = optarg;
			break;
		case O_IGNEOS: o.ignore_eos = 1; break;
		case O_BATCH: o.max_batch = parse_ll(optarg, "--max-batch", 1, 1 << 16); break;
		case O_DEVICE: device = optarg; break;
		case O_NAME: o.name = optarg; break;
		case O_KEEP: o.keep_prompt = 1; break;
		case O_RESUME: do_resume = 1; break;
		case O_THREADS:
			v = parse_ll(optarg, "--threads", 1, 4096);
#ifdef _OPENMP
			omp_set_num_threads((int)v);
#endif
			break;
		case O_DUMP: o.dump_logits = optarg; break;
		case O_IDS: o.token_ids = 1; break;
		case O_SSM:   /* read by the CUDA backend (kernels/cuda/mamba.cu) */
			if (strcmp(optarg, "bf16") != 0 && strcmp(optarg, "f32") != 0)
				usage_error(usage_text, "--ssm-state: expected f32 or bf16");
			if (setenv("TTS_SSM_STATE", optarg, 1) != 0)
				eprintf("--ssm-state: setenv:");
			break;
		case O_KVB: o.kv_blocks = parse_ll(optarg, "--kv-blocks", 1, 1 << 30); break;
		case O_SYNTH: synth = optarg; break;
		case O_INSPECT: case O_TOKENIZE: case O_DETOKENIZE:
			if (cmd && cmd != c)
				usage_error(usage_text, "--inspect, --tokenize and --detokenize exclude each other");
			cmd = c;
			break;
		case O_TENSORS: tensors = 1; break;
		case O_NO_BOS: flags &= ~TTS_TOK_ADD_SPECIAL; break;
		case O_NO_SPECIAL: flags |= TTS_TOK_SPLIT_SPECIAL; break;
		case O_SKIP_SPECIAL: skip = 1; break;
		case O_KEY: key = optarg; break;
		case O_REWARD: reward = 1; break;
		case O_RMFMT:
			if ((v = reward_parse_format(optarg)) < 0)
				usage_error(usage_text, "--rm-format: expected concat, llama3 or rlhflow-prm");
			ro.format = v;
			break;
		case O_AGG:
			if ((v = reward_parse_agg(optarg)) < 0)
				usage_error(usage_text, "--aggregate: expected last, min or prod");
			ro.agg = v;
			break;
		case O_STEPS: ro.step_scores = 1; break;
		case O_RMSYS: ro.system = optarg; break;
		case O_STEPSEP:
			if (!*optarg)
				usage_error(usage_text, "--step-sep: empty string");
			ro.sep = optarg;
			break;
		case O_LABELS:
			if (reward_parse_labels(&ro, optarg))
				usage_error(usage_text, "--labels: expected PLUS,MINUS");
			break;
		case O_PRMSM:
			if (strcmp(optarg, "labels") && strcmp(optarg, "vocab"))
				usage_error(usage_text, "--prm-softmax: expected labels or vocab");
			ro.vocab_softmax = optarg[0] == 'v';
			break;
		case 'h': printf("usage: %s\n", usage_text); return 0;
		case 'V': printf("tts-generate %s\n", TTS_VERSION); return 0;
		default: usage_error(usage_text, NULL);
		}
	}
	if (cmd) {
		if (!dir)
			usage_error(usage_text, "-m DIR is required");
		rec_writer *w = rec_writer_for(out, fmt, zstd);
		int rc = run_cmd(cmd, dir, tensors, flags, skip, key, argv + optind, argc - optind, w);
		rec_writer_close(w);
		return rc;
	}
	if (!dir == !synth)
		usage_error(usage_text, dir ? "-m and --synthetic exclude each other" : "-m DIR is required");
	if (reward && (synth || do_resume))
		usage_error(usage_text, "--reward takes -m DIR, and no --synthetic or --resume");
	if (do_resume && !out)
		usage_error(usage_text, "--resume needs -o FILE");

	const tts_ops *ops = &tts_cpu_ops;
	if (strncmp(device, "cuda", 4) == 0) {
		char err[256];
		int dev = device[4] == ':' ? (int)parse_ll(device + 5, "--device", 0, 255) : 0;
		if (device[4] && device[4] != ':')
			usage_error(usage_text, "--device: expected cpu or cuda[:i]");
		if (!(ops = tts_cuda_ops(dev, err, sizeof err)))
			eprintf("--device %s: %s", device, err);
	} else if (strcmp(device, "cpu") != 0) {
		usage_error(usage_text, "--device: expected cpu or cuda[:i]");
	}

	tts_model *m;
	if (synth) {
		int k = synth_kind_parse(synth);
		if (k < 0)
			usage_error(usage_text, "--synthetic: expected llama, mamba2, mil2, mil1 or bamba");
		m = tts_model_synthetic(k, 128, 1);
	} else {
		m = tts_model_load(dir);
	}
	if (reward) {   /* reward.c */
		ro.max_batch = o.max_batch;
		ro.kv_blocks = o.kv_blocks;
		rec_writer *w = rec_writer_for(out, fmt, zstd);
		catch_signals();   /* stop at the next problem: scored ones are written */
		int rc = reward_run(ops, m, dir, &ro, argv + optind, argc - optind, w);
		rec_writer_close(w);
		tts_model_free(m);
		return got_signal ? 128 + got_signal : rc;
	}
	if (m->n_labels)
		eprintf("%s: %s scores text, it does not generate (use --reward)", dir, m->arch);
	gen_tok *tok = gen_tok_open(synth ? NULL : dir, m);
	if (!o.name)
		o.name = m->name;
	if (o.temperature < 0)
		o.temperature = m->gen_temperature >= 0 ? m->gen_temperature : 1.0;
	if (o.top_p < 0)
		o.top_p = m->gen_top_p >= 0 ? m->gen_top_p : 1.0;
	if (o.top_k < 0)
		o.top_k = m->gen_top_k >= 0 ? m->gen_top_k : 0;

	/* engine sizes: see ENGINE in tts-generate(1) */
	int has_attn = 0, n_attn = 0;
	for (int i = 0; i < m->n_layers; i++)
		n_attn += m->layers[i].mixer == MIXER_ATTN;
	has_attn = n_attn > 0;
	int max_ctx = m->max_pos > 0 && m->max_pos < 65536 ? m->max_pos : 65536;
	int max_rows = o.max_batch > 256 ? o.max_batch : 256;
	int n_blocks = 0;
	if (has_attn) {
		n_blocks = o.kv_blocks;
		if (!n_blocks) {
			double per = (double)n_attn * 2 * m->n_kv_heads * TTS_KV_BLOCK * m->head_dim * 4;
			double mem = (double)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) / 4;
			if (ops->mem_free)
				mem = device_kv_budget(ops, m, o.max_batch, &per);
			long want = (long)(o.max_batch + 1) * ((1024 + o.max_tokens) / TTS_KV_BLOCK + 2);
			n_blocks = want < mem / per ? want : (long)(mem / per);
			if (n_blocks < 1)
				eprintf("--device %s: %.1f GiB free on the device leave no room for a "
					"KV cache after the weights and states (use --kv-blocks or a "
					"smaller --max-batch)", device, ops->mem_free() / 1073741824.0);
		}
	}
	tts_engine *e = tts_engine_new(ops, m, n_blocks, 2 * o.max_batch + 1, max_rows, max_ctx);

	/* output, with resume */
	char *tmp = NULL;
	rec_writer *w;
	json_t *done = NULL;
	if (do_resume) {
		char *d1 = estrdup(out), *b1 = estrdup(out);
		tmp = emalloc(strlen(out) + 16);
		sprintf(tmp, "%s/.resume.%s", dirname(d1), basename(b1));
		free(d1);
		free(b1);
		w = rec_writer_for(tmp, fmt, zstd);
		done = resume(out, w, o.n);
	} else {
		w = rec_writer_for(out, fmt, zstd);
	}

	catch_signals();

	out_ctx oc = { .w = w, .tty = isatty(2), .t0 = now_s() };
	gen_sched *s = gen_sched_new(e, tok, &o, emit, &oc);
	oc.s = s;
	char **files = argv + optind;
	int nfiles = argc - optind, fi = 0;
	if (oc.tty && nfiles > 0) {   /* count the problems for the ETA */
		for (int i = 0; i < nfiles; i++) {
			rec_reader *cr = rec_open(files[i]);
			json_t *x;
			while ((x = rec_next(cr))) {
				const char *id = json_string_value(json_object_get(x, "id"));
				oc.total += !(done && id && json_object_get(done, id));
				json_decref(x);
			}
			rec_close(cr);
		}
	}
	rec_reader *r = rec_open(nfiles ? files[fi++] : NULL);
	int eof = 0;
	while (!tts_interrupted) {
		while (!eof && gen_sched_wants(s) && !tts_interrupted) {
			json_t *rec = rec_next(r);
			if (!rec && fi < nfiles) {
				rec_close(r);
				r = rec_open(files[fi++]);
				continue;
			}
			if (!rec) {
				eof = 1;
				break;
			}
			const char *id = rec_get_str(r, rec, "id");
			if (done && json_object_get(done, id)) {
				json_decref(rec);
				continue;
			}
			int32_t *ids;
			int n = prompt_ids(r, rec, tok, m->vocab, &ids);
			if (n == 0)
				eprintf("%s: empty prompt", rec_where(r));
			gen_sched_add(s, rec, id, ids, n);
		}
		if (!gen_sched_step(s) && eof)
			break;
	}
	if (oc.tty && gen_sched_done(s, NULL) > 0)
		fputc('\n', stderr);
	rec_close(r);
	const char *st = getenv("TTS_SCHED_STATS");
	if (st && strcmp(st, "0") != 0) {
		fprintf(stderr, "%s: ", argv0);
		gen_sched_stats(s, stderr);
	}
	gen_sched_free(s);
	rec_writer_close(w);
	if (tmp && rename(tmp, out) != 0)
		eprintf("rename %s to %s:", tmp, out);
	free(tmp);
	json_decref(done);
	tts_engine_free(e);
	gen_tok_close(tok);
	if (synth)
		tts_model_synthetic_free(m);
	else
		tts_model_free(m);
	free(o.stop);
	if (got_signal)
		return 128 + got_signal;
	return 0;
}
