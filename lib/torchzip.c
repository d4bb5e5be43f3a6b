/* torchzip.c — pytorch_model.bin as torch.save writes it: a zip holding
 * PREFIX/data.pkl (the pickled state dict) and PREFIX/data/KEY (raw
 * little-endian storages), read without executing anything.
 *
 * The zip: end-of-central-directory record (zip64 when the file is large),
 * central directory, local headers; storages must be STORED (uncompressed)
 * so that tensors point straight into the mapping.
 *
 * The pickle: a small stack machine that knows only the opcodes a state
 * dict needs and only these globals: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 (and _rebuild_tensor, _rebuild_parameter),
 * the typed storage classes (torch.FloatStorage, ...) and
 * torch.UntypedStorage.  Anything else is refused with its name, before it
 * could be called ("data.pkl: refusing global os.system"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "tts.h"
#include "weights.h"

static uint64_t
rd(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ------------------------------------------------------------------ zip */

typedef struct {
	const char *name;        /* into the map, not NUL-terminated */
	size_t nlen;
	int method;
	uint64_t csize, usize, lho, data;   /* data: offset of the bytes, after the local header */
} zentry;

typedef struct {
	const unsigned char *p;
	uint64_t len;
	zentry *e;
	size_t n;
	strmap names;
} zipf;

static int
zip_open(zipf *z, const char *path, char *err, size_t errlen)
{
	const unsigned char *p = z->p;
	uint64_t len = z->len, eocd = UINT64_MAX;
	if (len >= 2 && p[0] == 0x80)
		return tts_fail(err, errlen, "%s: not a zip file: a legacy torch.save pickle (re-save it with torch >= 1.6)", path);
	if (len < 22)
		return tts_fail(err, errlen, "%s: not a zip file (%llu bytes)", path, (unsigned long long)len);
	uint64_t stop = len > 22 + 65535 ? len - 22 - 65535 : 0;
	for (uint64_t i = len - 22 + 1; i-- > stop;)
		if (rd(p + i, 4) == 0x06054b50) {
			eocd = i;
			break;
		}
	if (eocd == UINT64_MAX)
		return tts_fail(err, errlen, "%s: not a zip file, or truncated (no end-of-central-directory record)", path);
	uint64_t count = rd(p + eocd + 10, 2), cdsize = rd(p + eocd + 12, 4), cdoff = rd(p + eocd + 16, 4);
	if (eocd >= 20 && rd(p + eocd - 20, 4) == 0x07064b50) {          /* zip64 locator */
		uint64_t z64 = rd(p + eocd - 20 + 8, 8);
		if (len < 56 || z64 > len - 56 || rd(p + z64, 4) != 0x06064b50)
			return tts_fail(err, errlen, "%s: bad zip64 end-of-central-directory record", path);
		count = rd(p + z64 + 32, 8);
		cdsize = rd(p + z64 + 40, 8);
		cdoff = rd(p + z64 + 48, 8);
	}
	if (cdoff > len || cdsize > len - cdoff)
		return tts_fail(err, errlen, "%s: central directory outside the file (truncated?)", path);
	if (count > cdsize / 46)
		return tts_fail(err, errlen, "%s: central directory too small for %llu entries", path, (unsigned long long)count);
	z->e = ecalloc(count ? count : 1, sizeof *z->e);
	strmap_init(&z->names);
	uint64_t q = cdoff, end = cdoff + cdsize;
	for (uint64_t i = 0; i < count; i++) {
		if (end - q < 46 || rd(p + q, 4) != 0x02014b50)
			return tts_fail(err, errlen, "%s: bad central directory entry %llu", path, (unsigned long long)i);
		zentry *e = &z->e[z->n++];
		int flags = (int)rd(p + q + 8, 2);
		e->method = (int)rd(p + q + 10, 2);
		e->csize = rd(p + q + 20, 4);
		e->usize = rd(p + q + 24, 4);
		uint64_t nl = rd(p + q + 28, 2), xl = rd(p + q + 30, 2), cl = rd(p + q + 32, 2);
		e->lho = rd(p + q + 42, 4);
		if (46 + nl + xl + cl > end - q)
			return tts_fail(err, errlen, "%s: bad central directory entry %llu", path, (unsigned long long)i);
		e->name = (const char *)p + q + 46;
		e->nlen = nl;
		if (flags & 1)
			return tts_fail(err, errlen, "%s: %.*s is encrypted", path, (int)nl, e->name);
		/* zip64 extra field: the 64-bit values of the fields saturated at 0xFFFFFFFF */
		const unsigned char *x = p + q + 46 + nl, *xe = x + xl;
		while (xe - x >= 4) {
			uint64_t id = rd(x, 2), sz = rd(x + 2, 2);
			const unsigned char *v = x + 4;
			if (sz > (uint64_t)(xe - v))
				break;
			if (id == 1) {
				const unsigned char *ve = v + sz;
				if (e->usize == 0xFFFFFFFF && ve - v >= 8) { e->usize = rd(v, 8); v += 8; }
				if (e->csize == 0xFFFFFFFF && ve - v >= 8) { e->csize = rd(v, 8); v += 8; }
				if (e->lho == 0xFFFFFFFF && ve - v >= 8) { e->lho = rd(v, 8); v += 8; }
			}
			x += 4 + sz;
		}
		if (e->lho > len - 30 || rd(p + e->lho, 4) != 0x04034b50)
			return tts_fail(err, errlen, "%s: %.*s: local header outside the file (truncated?)", path, (int)nl, e->name);
		e->data = e->lho + 30 + rd(p + e->lho + 26, 2) + rd(p + e->lho + 28, 2);
		if (e->data > len || e->csize > len - e->data)
			return tts_fail(err, errlen, "%s: %.*s: %llu bytes run past the end of the file (truncated?)", path,
				    (int)nl, e->name, (unsigned long long)e->csize);
		/* a stored entry's bytes are its compressed bytes: only csize was
		 * checked against the file, and readers use usize */
		if (e->method == 0 && e->usize != e->csize)
			return tts_fail(err, errlen, "%s: %.*s: stored entry of %llu bytes claims %llu uncompressed", path,
				    (int)nl, e->name, (unsigned long long)e->csize, (unsigned long long)e->usize);
		strmap_put(&z->names, e->name, nl, (int64_t)(z->n - 1));
		q += 46 + nl + xl + cl;
	}
	return 0;
}

static const zentry *
zip_find(const zipf *z, const char *name)
{
	int64_t i = strmap_get(&z->names, name, strlen(name));
	return i < 0 ? NULL : &z->e[i];
}

/* --------------------------------------------------------------- pickle */

enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR };
enum { G_ODICT, G_REBUILD_V2, G_REBUILD, G_REBUILD_PARAM, G_STORAGE };

typedef struct pv pv;
struct pv {
	int kind;
	int64_t i;               /* int, bool; global id; storage dtype */
	double f;
	const char *s;           /* str (into the pickle), storage key */
	size_t slen;
	pv **it;                 /* tuple/list items, dict keys and values alternating */
	size_t n, cap;
	/* storage: numel; tensor: storage, offset, shape, stride */
	pv *st;
	int64_t numel, off;
	int ndim;
	int64_t shape[8], stride[8];
};

static const struct { const char *mod, *name; int id, dtype; } allowed[] = {
	{"collections", "OrderedDict", G_ODICT, 0},
	{"torch._utils", "_rebuild_tensor_v2", G_REBUILD_V2, 0},
	{"torch._utils", "_rebuild_tensor", G_REBUILD, 0},
	{"torch._utils", "_rebuild_parameter", G_REBUILD_PARAM, 0},
	{"torch", "FloatStorage", G_STORAGE, WD_F32},
	{"torch", "HalfStorage", G_STORAGE, WD_F16},
	{"torch", "BFloat16Storage", G_STORAGE, WD_BF16},
	{"torch", "DoubleStorage", G_STORAGE, WD_F64},
	{"torch", "LongStorage", G_STORAGE, WD_I64},
	{"torch", "IntStorage", G_STORAGE, WD_I32},
	{"torch", "ShortStorage", G_STORAGE, WD_I16},
	{"torch", "CharStorage", G_STORAGE, WD_I8},
	{"torch", "ByteStorage", G_STORAGE, WD_U8},
	{"torch", "BoolStorage", G_STORAGE, WD_BOOL},
	{"torch", "UntypedStorage", G_STORAGE, WD_U8},
	{"torch.storage", "UntypedStorage", G_STORAGE, WD_U8},
};

typedef struct {
	const unsigned char *p;
	size_t len, pos;
	const char *where;       /* "FILE: data.pkl" */
	char *err;
	size_t errlen;
	pv **stack;
	size_t sn, scap;
	size_t *marks;
	size_t mn, mcap;
	pv **memo;
	size_t memon;
	pv **all;                /* every value, to free */
	size_t alln, allcap;
} pm;

static pv *
mk(pm *m, int kind)
{
	pv *v = ecalloc(1, sizeof *v);
	v->kind = kind;
	EGROW(m->all, m->alln, m->allcap, 256);
	m->all[m->alln++] = v;
	return v;
}

static void
push(pm *m, pv *v)
{
	EGROW(m->stack, m->sn, m->scap, 64);
	m->stack[m->sn++] = v;
}

static void
add_item(pv *c, pv *v)
{
	EGROW(c->it, c->n, c->cap, 8);
	c->it[c->n++] = v;
}

#define PFAIL(...) do { \
	char msg_[512]; snprintf(msg_, sizeof msg_, __VA_ARGS__); \
	tts_fail(m->err, m->errlen, "%s: %s (at byte %zu)", m->where, msg_, op_at); return -1; } while (0)
#define NEED(k) do { if (m->len - m->pos < (size_t)(k)) PFAIL("truncated"); } while (0)
#define POP(v) do { if (m->sn <= (m->mn ? m->marks[m->mn - 1] : 0)) PFAIL("stack underflow"); (v) = m->stack[--m->sn]; } while (0)

static int
memo_put(pm *m, size_t idx, pv *v)
{
	if (idx > m->len)        /* a pickle cannot memoize more objects than it has bytes */
		return -1;
	if (idx >= m->memon) {
		m->memo = erealloc(m->memo, (idx + 1) * sizeof *m->memo);
		memset(m->memo + m->memon, 0, (idx + 1 - m->memon) * sizeof *m->memo);
		m->memon = idx + 1;
	}
	m->memo[idx] = v;
	return 0;
}

static int
tuple_ints(const pv *t, int64_t *out, int *n)
{
	if (t->kind != V_TUPLE || t->n > 8)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (t->it[i]->kind != V_INT)
			return -1;
		out[i] = t->it[i]->i;
	}
	*n = (int)t->n;
	return 0;
}

/* REDUCE: call one of the allowed globals. */
static pv *
call(pm *m, pv *f, pv *args, size_t op_at)
{
	char msg[256];
	if (f->kind != V_GLOBAL || args->kind != V_TUPLE) {
		snprintf(msg, sizeof msg, "REDUCE of something not callable");
		goto bad;
	}
	switch (f->i) {
	case G_ODICT:
		if (args->n != 0) {
			snprintf(msg, sizeof msg, "OrderedDict with arguments");
			goto bad;
		}
		return mk(m, V_DICT);
	case G_REBUILD_PARAM:
		if (args->n < 1 || args->it[0]->kind != V_TENSOR) {
			snprintf(msg, sizeof msg, "_rebuild_parameter without a tensor");
			goto bad;
		}
		return args->it[0];
	case G_REBUILD_V2:
	case G_REBUILD: {
		pv *t = mk(m, V_TENSOR);
		int nd2;
		if (args->n < 4 || args->it[0]->kind != V_STORAGE || args->it[1]->kind != V_INT ||
		    tuple_ints(args->it[2], t->shape, &t->ndim) || tuple_ints(args->it[3], t->stride, &nd2) ||
		    nd2 != t->ndim) {
			snprintf(msg, sizeof msg, "_rebuild_tensor with unexpected arguments");
			goto bad;
		}
		t->st = args->it[0];
		t->off = args->it[1]->i;
		return t;
	}
	}
	snprintf(msg, sizeof msg, "call of an unexpected global");
bad:
	tts_fail(m->err, m->errlen, "%s: %s (at byte %zu)", m->where, msg, op_at);
	return NULL;
}

static int
global(pm *m, const char *mod, size_t ml, const char *name, size_t nl, size_t op_at)
{
	for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
		if (strlen(allowed[i].mod) == ml && memcmp(allowed[i].mod, mod, ml) == 0 &&
		    strlen(allowed[i].name) == nl && memcmp(allowed[i].name, name, nl) == 0) {
			pv *g = mk(m, V_GLOBAL);
			g->i = allowed[i].id;
			g->numel = allowed[i].dtype;
			push(m, g);
			return 0;
		}
	PFAIL("refusing global %.*s.%.*s", (int)ml, mod, (int)nl, name);
}

static const char *
opname(int op)
{
	switch (op) {
	case 'i': return "INST";
	case 'o': return "OBJ";
	case 0x81: return "NEWOBJ";
	case 0x92: return "NEWOBJ_EX";
	case 'P': return "PERSID";
	case 0x82: case 0x83: case 0x84: return "EXT";
	case 'S': return "STRING";
	case 'V': return "UNICODE";
	case 'F': return "FLOAT";
	case 'I': return "INT";
	case 'L': return "LONG";
	default: return "unsupported";
	}
}

/* Run the pickle; on success *out is the top object. */
static int
unpickle(pm *m, pv **out)
{
	for (;;) {
		size_t op_at = m->pos;
		NEED(1);
		int op = m->p[m->pos++];
		pv *v, *a, *b;
		uint64_t n;
		switch (op) {
		case 0x80: NEED(1); if (m->p[m->pos] < 2 || m->p[m->pos] > 5) PFAIL("pickle protocol %d", m->p[m->pos]); m->pos++; break;
		case 0x95: NEED(8); m->pos += 8; break;                       /* FRAME */
		case '.': POP(v); *out = v; return 0;                         /* STOP */
		case '(':                                                      /* MARK */
			EGROW(m->marks, m->mn, m->mcap, 16);
			m->marks[m->mn++] = m->sn;
			break;
		case '}': push(m, mk(m, V_DICT)); break;
		case ']': push(m, mk(m, V_LIST)); break;
		case ')': push(m, mk(m, V_TUPLE)); break;
		case 'N': push(m, mk(m, V_NONE)); break;
		case 0x88: case 0x89: v = mk(m, V_BOOL); v->i = op == 0x88; push(m, v); break;
		case 'K': NEED(1); v = mk(m, V_INT); v->i = m->p[m->pos++]; push(m, v); break;
		case 'M': NEED(2); v = mk(m, V_INT); v->i = (int64_t)rd(m->p + m->pos, 2); m->pos += 2; push(m, v); break;
		case 'J': NEED(4); v = mk(m, V_INT); v->i = (int32_t)rd(m->p + m->pos, 4); m->pos += 4; push(m, v); break;
		case 0x8a:                                                     /* LONG1 */
			NEED(1); n = m->p[m->pos++];
			if (n > 8) PFAIL("integer too large");
			NEED(n);
			v = mk(m, V_INT);
			v->i = n ? (int64_t)rd(m->p + m->pos, (int)n) : 0;
			if (n && n < 8 && (m->p[m->pos + n - 1] & 0x80))
				v->i -= (int64_t)1 << (8 * n);
			m->pos += n;
			push(m, v);
			break;
		case 'G': {                                                    /* BINFLOAT, big-endian */
			NEED(8);
			uint64_t bits = 0;
			for (int i = 0; i < 8; i++)
				bits = bits << 8 | m->p[m->pos + i];
			m->pos += 8;
			v = mk(m, V_FLOAT);
			memcpy(&v->f, &bits, 8);
			push(m, v);
			break;
		}
		case 'X': case 0x8c: case 0x8d: case 'U': case 'T':           /* strings */
			if (op == 0x8c || op == 'U') { NEED(1); n = m->p[m->pos++]; }
			else if (op == 0x8d) { NEED(8); n = rd(m->p + m->pos, 8); m->pos += 8; }
			else { NEED(4); n = rd(m->p + m->pos, 4); m->pos += 4; }
			NEED(n);
			v = mk(m, V_STR);
			v->s = (const char *)m->p + m->pos;
			v->slen = n;
			m->pos += n;
			push(m, v);
			break;
		case 'q': case 'r': case 0x94:                                 /* BINPUT, LONG_BINPUT, MEMOIZE */
			if (!m->sn) PFAIL("memo of an empty stack");
			if (op == 'q') { NEED(1); n = m->p[m->pos++]; }
			else if (op == 'r') { NEED(4); n = rd(m->p + m->pos, 4); m->pos += 4; }
			else n = m->memon;
			if (memo_put(m, n, m->stack[m->sn - 1])) PFAIL("memo index too large");
			break;
		case 'h': case 'j':                                            /* BINGET, LONG_BINGET */
			if (op == 'h') { NEED(1); n = m->p[m->pos++]; }
			else { NEED(4); n = rd(m->p + m->pos, 4); m->pos += 4; }
			if (n >= m->memon || !m->memo[n]) PFAIL("memo %llu unset", (unsigned long long)n);
			push(m, m->memo[n]);
			break;
		case '0': POP(v); break;
		case '2': if (!m->sn) PFAIL("DUP of an empty stack"); push(m, m->stack[m->sn - 1]); break;
		case '1': case 't': case 'l': case 'd': case 'e': case 'u': { /* mark-based */
			if (!m->mn) PFAIL("no MARK");
			size_t base = m->marks[--m->mn];
			if (op == '1') { m->sn = base; break; }
			if (op == 't' || op == 'l' || op == 'd') {
				v = mk(m, op == 't' ? V_TUPLE : op == 'l' ? V_LIST : V_DICT);
				if (op == 'd' && (m->sn - base) % 2) PFAIL("odd DICT");
				for (size_t i = base; i < m->sn; i++)
					add_item(v, m->stack[i]);
				m->sn = base;
				push(m, v);
				break;
			}
			if (base == 0) PFAIL("no container below MARK");
			pv *c = m->stack[base - 1];
			if (op == 'e' ? c->kind != V_LIST : c->kind != V_DICT)
				PFAIL("%s on the wrong kind of object", op == 'e' ? "APPENDS" : "SETITEMS");
			if (op == 'u' && (m->sn - base) % 2) PFAIL("odd SETITEMS");
			for (size_t i = base; i < m->sn; i++)
				add_item(c, m->stack[i]);
			m->sn = base;
			break;
		}
		case 0x85: case 0x86: case 0x87: {                             /* TUPLE1..3 */
			int k = op - 0x84;
			if (m->sn < (size_t)k + (m->mn ? m->marks[m->mn - 1] : 0)) PFAIL("stack underflow");
			v = mk(m, V_TUPLE);
			for (size_t i = m->sn - (size_t)k; i < m->sn; i++)
				add_item(v, m->stack[i]);
			m->sn -= (size_t)k;
			push(m, v);
			break;
		}
		case 'a': POP(b); POP(a); if (a->kind != V_LIST) PFAIL("APPEND to a non-list"); add_item(a, b); push(m, a); break;
		case 's': {                                                    /* SETITEM */
			pv *val, *key, *d;
			POP(val); POP(key); POP(d);
			if (d->kind != V_DICT) PFAIL("SETITEM on a non-dict");
			add_item(d, key);
			add_item(d, val);
			push(m, d);
			break;
		}
		case 'c': {                                                    /* GLOBAL "mod\nname\n" */
			const char *s = (const char *)m->p + m->pos, *e = s;
			const char *end = (const char *)m->p + m->len;
			const char *nl1 = memchr(s, '\n', (size_t)(end - s));
			if (!nl1) PFAIL("truncated GLOBAL");
			const char *nl2 = memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1));
			if (!nl2) PFAIL("truncated GLOBAL");
			e = nl2 + 1;
			m->pos += (size_t)(e - s);
			if (global(m, s, (size_t)(nl1 - s), nl1 + 1, (size_t)(nl2 - nl1 - 1), op_at)) return -1;
			break;
		}
		case 0x93:                                                     /* STACK_GLOBAL */
			POP(b); POP(a);
			if (a->kind != V_STR || b->kind != V_STR) PFAIL("STACK_GLOBAL of non-strings");
			if (global(m, a->s, a->slen, b->s, b->slen, op_at)) return -1;
			break;
		case 'Q': {                                                    /* BINPERSID: ('storage', type, key, location, numel) */
			POP(a);
			if (a->kind != V_TUPLE || a->n < 5 || a->it[0]->kind != V_STR || a->it[0]->slen != 7 ||
			    memcmp(a->it[0]->s, "storage", 7) || a->it[1]->kind != V_GLOBAL || a->it[1]->i != G_STORAGE ||
			    a->it[2]->kind != V_STR || a->it[4]->kind != V_INT)
				PFAIL("persistent id is not a torch storage");
			v = mk(m, V_STORAGE);
			v->i = a->it[1]->numel;                                /* dtype */
			v->s = a->it[2]->s;
			v->slen = a->it[2]->slen;
			v->numel = a->it[4]->i;
			push(m, v);
			break;
		}
		case 'R':                                                      /* REDUCE */
			POP(b); POP(a);
			if (!(v = call(m, a, b, op_at))) return -1;
			push(m, v);
			break;
		case 'b':                                                      /* BUILD: only a dict's attributes (_metadata) */
			POP(b);
			if (!m->sn || m->stack[m->sn - 1]->kind != V_DICT)
				PFAIL("BUILD on something other than a state dict");
			break;
		default:
			PFAIL("refusing pickle opcode 0x%02x (%s)", op, opname(op));
		}
	}
}

static int
contiguous(const pv *t)
{
	int64_t acc = 1;
	for (int i = t->ndim - 1; i >= 0; i--) {
		if (t->shape[i] != 1 && t->stride[i] != acc)
			return 0;
		acc *= t->shape[i];
	}
	return 1;
}

static int
add_tensors(tts_weights *w, int fi, const zipf *z, const char *prefix, pv *root, const char *path,
	    char *err, size_t errlen)
{
	if (root->kind != V_DICT)
		return tts_fail(err, errlen, "%s: data.pkl: not a state dict (a dict of tensors)", path);
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		pv *k = root->it[i], *t = root->it[i + 1];
		if (k->kind != V_STR)
			return tts_fail(err, errlen, "%s: data.pkl: a state dict key is not a string", path);
		if (t->kind != V_TENSOR)
			continue;                                        /* e.g. a version number */
		char name[1024], sname[1200];
		snprintf(name, sizeof name, "%.*s", (int)k->slen, k->s);
		snprintf(sname, sizeof sname, "%sdata/%.*s", prefix, (int)t->st->slen, t->st->s);
		const zentry *e = zip_find(z, sname);
		if (!e)
			return tts_fail(err, errlen, "%s: %s: storage %s is missing", path, name, sname);
		if (e->method != 0)
			return tts_fail(err, errlen, "%s: %s: storage %s is compressed (zip method %d); "
				    "tts maps only stored (uncompressed) entries", path, name, sname, e->method);
		int es = tts_wdtype_size((int)t->st->i);
		if (!contiguous(t))
			return tts_fail(err, errlen, "%s: %s: not contiguous (strides do not match the shape)", path, name);
		uint64_t numel = 1;
		for (int d = 0; d < t->ndim; d++) {
			if (t->shape[d] < 0)
				return tts_fail(err, errlen, "%s: %s: negative size", path, name);
			numel *= (uint64_t)t->shape[d];
		}
		if (t->off < 0 || t->st->numel < 0 || (uint64_t)t->st->numel * (uint64_t)es > e->usize ||
		    (uint64_t)t->off + numel > (uint64_t)t->st->numel)
			return tts_fail(err, errlen, "%s: %s: %llu elements at offset %lld do not fit storage %s "
				    "(%lld elements, %llu bytes in the zip)", path, name, (unsigned long long)numel,
				    (long long)t->off, sname, (long long)t->st->numel, (unsigned long long)e->usize);
		tts_wtensor wt = {0};
		wt.name = name;
		wt.dtype = (int)t->st->i;
		wt.ndim = t->ndim;
		memcpy(wt.shape, t->shape, sizeof wt.shape);
		wt.data = z->p + e->data + (uint64_t)t->off * (uint64_t)es;
		wt.nbytes = numel * (uint64_t)es;
		wt.file = fi;
		if (tts_weights_add(w, &wt, err, errlen))
			return -1;
	}
	return 0;
}

int
tts_torchzip_open(tts_weights *w, const char *path, char *err, size_t errlen)
{
	int fi = tts_weights_map(w, path, err, errlen);
	if (fi < 0)
		return -1;
	zipf z = {w->files[fi].map, w->files[fi].len, NULL, 0, {0}};
	strmap_init(&z.names);
	int rc = zip_open(&z, path, err, errlen);
	const zentry *pk = NULL;
	char prefix[512] = "";
	for (size_t i = 0; rc == 0 && i < z.n; i++) {
		const zentry *e = &z.e[i];
		const char *slash = memchr(e->name, '/', e->nlen);
		if (slash && (size_t)(e->name + e->nlen - slash) == 9 && memcmp(slash + 1, "data.pkl", 8) == 0 &&
		    (size_t)(slash - e->name) < sizeof prefix - 2) {
			pk = e;
			snprintf(prefix, sizeof prefix, "%.*s/", (int)(slash - e->name), e->name);
			break;
		}
	}
	if (rc == 0 && !pk)
		rc = tts_fail(err, errlen, "%s: no */data.pkl in the zip: not a torch.save file", path);
	if (rc == 0 && pk->method != 0)
		rc = tts_fail(err, errlen, "%s: data.pkl is compressed (zip method %d)", path, pk->method);
	if (rc == 0) {
		char where[4200];
		snprintf(where, sizeof where, "%s: data.pkl", path);
		pm m = {0};
		m.p = z.p + pk->data;
		m.len = pk->usize;
		m.where = where;
		m.err = err;
		m.errlen = errlen;
		pv *root = NULL;
		rc = unpickle(&m, &root);
		if (rc == 0)
			rc = add_tensors(w, fi, &z, prefix, root, path, err, errlen);
		for (size_t i = 0; i < m.alln; i++) {
			free(m.all[i]->it);
			free(m.all[i]);
		}
		free(m.all);
		free(m.stack);
		free(m.marks);
		free(m.memo);
	}
	free(z.e);
	strmap_free(&z.names);
	return rc;
}
