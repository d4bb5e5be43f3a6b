/* weights.c — the tensor table and the choice of files in a model
 * directory (see weights.h). */
#include "weights.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tts.h"

static const struct { const char *name; int size; } dtypes[WD_N] = {
	[WD_F32] = {"F32", 4}, [WD_F16] = {"F16", 2}, [WD_BF16] = {"BF16", 2},
	[WD_F64] = {"F64", 8}, [WD_I64] = {"I64", 8}, [WD_I32] = {"I32", 4},
	[WD_I16] = {"I16", 2}, [WD_I8] = {"I8", 1}, [WD_U8] = {"U8", 1},
	[WD_BOOL] = {"BOOL", 1},
};

const char *
tts_wdtype_name(int dt)
{
	return dt >= 0 && dt < WD_N ? dtypes[dt].name : "?";
}

int
tts_wdtype_size(int dt)
{
	return dt >= 0 && dt < WD_N ? dtypes[dt].size : 0;
}

int
tts_wdtype_from_name(const char *s)
{
	for (int i = 0; i < WD_N; i++)
		if (strcmp(s, dtypes[i].name) == 0)
			return i;
	return -1;
}

void
tts_weights_init(tts_weights *w)
{
	memset(w, 0, sizeof *w);
	strmap_init(&w->index);
}

void
tts_weights_free(tts_weights *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->t[i].name);
	free(w->t);
	for (int i = 0; i < w->nfiles; i++) {
		if (w->files[i].map)
			munmap(w->files[i].map, w->files[i].len);
		free(w->files[i].path);
	}
	free(w->files);
	strmap_free(&w->index);
	memset(w, 0, sizeof *w);
}

int
tts_weights_map(tts_weights *w, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return tts_fail(err, errlen, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return tts_fail(err, errlen, "%s: %s", path, strerror(e));
	}
	void *map = NULL;
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			int e = errno;
			close(fd);
			return tts_fail(err, errlen, "%s: mmap: %s", path, strerror(e));
		}
	}
	close(fd);
	w->files = erealloc(w->files, (size_t)(w->nfiles + 1) * sizeof *w->files);
	w->files[w->nfiles] = (tts_wfile){estrdup(path), map, (size_t)st.st_size};
	return w->nfiles++;
}

int
tts_weights_add(tts_weights *w, const tts_wtensor *t, char *err, size_t errlen)
{
	size_t len = strlen(t->name);
	if (strmap_get(&w->index, t->name, len) >= 0)
		return tts_fail(err, errlen, "%s: tensor %s appears twice", w->files[t->file].path, t->name);
	EGROW(w->t, w->n, w->cap, 256);
	w->t[w->n] = *t;
	w->t[w->n].name = estrdup(t->name);
	strmap_put(&w->index, t->name, len, (int64_t)w->n);
	w->n++;
	return 0;
}

tts_wtensor *
tts_weights_find(const tts_weights *w, const char *name)
{
	int64_t i = strmap_get(&w->index, name, strlen(name));
	return i < 0 ? NULL : &w->t[i];
}

static int
exists(const char *dir, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A sharded checkpoint: open each file its index names, then check that
 * every key of the weight map is in the file the map says. */
static int
open_index(tts_weights *w, const char *dir, const char *ipath,
	   int (*open1)(tts_weights *, const char *, char *, size_t), char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(ipath, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return tts_fail(err, errlen, "%s:%d: %s", ipath, je.line, je.text);
	json_t *wm = json_object_get(root, "weight_map");
	int rc = 0;
	if (!json_is_object(wm)) {
		rc = tts_fail(err, errlen, "%s: no \"weight_map\" object", ipath);
		goto out;
	}
	strmap opened;
	strmap_init(&opened);
	const char *key;
	json_t *v;
	json_object_foreach(wm, key, v) {
		const char *f = json_string_value(v);
		if (!f || strchr(f, '/')) {
			rc = tts_fail(err, errlen, "%s: weight_map[\"%s\"]: expected a file name", ipath, key);
			break;
		}
		if (strmap_get(&opened, f, strlen(f)) < 0) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", dir, f);
			if (access(path, F_OK) != 0) {
				rc = tts_fail(err, errlen, "%s: shard %s (for %s) is missing", ipath, f, key);
				break;
			}
			if ((rc = open1(w, path, err, errlen)) < 0)
				break;
			strmap_put(&opened, f, strlen(f), w->nfiles - 1);
		}
		tts_wtensor *t = tts_weights_find(w, key);
		int64_t fi = strmap_get(&opened, f, strlen(f));
		if (!t || t->file != fi) {
			rc = tts_fail(err, errlen, "%s: %s: not in %s, where the index puts it", ipath, key, f);
			break;
		}
	}
	strmap_free(&opened);
out:
	json_decref(root);
	return rc;
}

int
tts_weights_open_dir(tts_weights *w, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	if (exists(dir, "model.safetensors.index.json", path, sizeof path)) {
		w->format = "safetensors";
		return open_index(w, dir, path, tts_safetensors_open, err, errlen);
	}
	if (exists(dir, "model.safetensors", path, sizeof path)) {
		w->format = "safetensors";
		return tts_safetensors_open(w, path, err, errlen);
	}
	if (exists(dir, "pytorch_model.bin.index.json", path, sizeof path)) {
		w->format = "pytorch";
		return open_index(w, dir, path, tts_torchzip_open, err, errlen);
	}
	if (exists(dir, "pytorch_model.bin", path, sizeof path)) {
		w->format = "pytorch";
		return tts_torchzip_open(w, path, err, errlen);
	}
	return tts_fail(err, errlen, "%s: no weights (model.safetensors, its index, or pytorch_model.bin)", dir);
}
