/* test_group.c — grouping records by key values, the order of groups,
 * constant keys. */
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "tap.h"

static json_t *
rec(const char *text)
{
	json_error_t e;
	json_t *r = json_loads(text, 0, &e);
	if (!r)
		printf("# bad test JSON: %s\n", e.text);
	return r;
}

/* A record kept until the end of main (freed there, so ASan sees no leak). */
static json_t *tmps[8];
static int ntmps;
static json_t *
tmp(const char *text)
{
	return tmps[ntmps++] = rec(text);
}

int
main(void)
{
	const char *keys[] = {"model", "id"};
	grouper *g = grouper_new(keys, 2);
	const char *recs[] = {
		"{\"model\":\"b\",\"id\":\"p-10\"}",
		"{\"model\":\"b\",\"id\":\"p-2\"}",
		"{\"model\":\"a\",\"id\":\"p-10\",\"x\":1}",
		"{\"model\":\"b\",\"id\":\"p-10\",\"x\":2}",
		"{\"id\":\"p-1\"}",
		"{\"model\":null,\"id\":\"p-1\"}",
	};
	size_t want[] = {0, 1, 2, 0, 3, 3};
	int want_new[] = {1, 1, 1, 0, 1, 0};
	int same = 1;
	for (int i = 0; i < 6; i++) {
		json_t *r = rec(recs[i]);
		int isnew;
		size_t gi = grouper_find(g, r, &isnew);
		same &= gi == want[i] && isnew == want_new[i];
		json_decref(r);
	}
	ok(same && grouper_count(g) == 4, "groups in order of first appearance; a missing key equals null");
	size_t *ord = grouper_sorted(g);
	ok(ord[0] == 3 && ord[1] == 2 && ord[2] == 1 && ord[3] == 0,
	   "sorted: missing model first, then a, then b with p-2 before p-10");
	free(ord);
	ok(json_equal(grouper_values(g, 2), tmp("{\"model\":\"a\",\"id\":\"p-10\"}")), "group values");
	grouper_free(g);

	/* Many groups: the table grows and finds them all again. */
	const char *k1[] = {"n"};
	g = grouper_new(k1, 1);
	int found = 1;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 5000; i++) {
			json_t *r = json_pack("{s:i}", "n", i);
			found &= grouper_find(g, r, NULL) == (size_t)i;
			json_decref(r);
		}
	ok(found && grouper_count(g) == 5000, "5000 groups, found again after growing");
	grouper_free(g);

	json_t *o[6] = {json_integer(2), json_real(10), json_integer(1), json_string("0"), json_string("a-9"),
			json_string("a-10")};
	ok(json_order(o[0], o[1]) < 0 && json_order(json_null(), json_false()) < 0 && json_order(o[2], o[3]) < 0 &&
	   json_order(o[4], o[5]) < 0, "json_order: null, booleans, numbers numerically, strings in version order");
	for (int i = 0; i < 6; i++)
		json_decref(o[i]);

	json_t *c = consts_start(tmp("{\"a\":1,\"b\":\"x\",\"text\":\"t\",\"d\":[1]}"), (const char *[]){"text", NULL});
	consts_meet(c, tmp("{\"a\":1,\"b\":\"y\",\"d\":[1]}"));
	ok(json_equal(c, tmp("{\"a\":1,\"d\":[1]}")), "constant keys: differing, missing and skipped keys dropped");
	json_decref(c);

	int n;
	char **v = split_list("model,task,pairs", "-b", "usage", &n);
	ok(n == 3 && !strcmp(v[0], "model") && !strcmp(v[2], "pairs") && v[3] == NULL, "split_list");
	free(v);
	while (ntmps)
		json_decref(tmps[--ntmps]);
	return tap_done();
}
