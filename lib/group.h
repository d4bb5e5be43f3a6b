/* group.h — records grouped by the values of some keys, for the
 * aggregating tools (tts-vote, tts-score): find a record's group by
 * hashing its key values, keep what is constant across a group, and order
 * the groups so output never depends on input order. */
#ifndef TTS_GROUP_H
#define TTS_GROUP_H

#include <jansson.h>
#include <stddef.h>

typedef struct grouper grouper;

/* Groups by keys[0..nkeys) (the array must outlive the grouper).  A
 * missing key and a null value are the same value. */
grouper *grouper_new(const char *const *keys, int nkeys);
void grouper_free(grouper *g);
/* rec's group: 0, 1, ... in order of first appearance; *isnew is set when
 * this record opened it. */
size_t grouper_find(grouper *g, json_t *rec, int *isnew);
size_t grouper_count(const grouper *g);
/* The key values of group i, an object (missing values left out). */
json_t *grouper_values(const grouper *g, size_t i);
/* A byte string that identifies group i (for seeding). */
const char *grouper_key(const grouper *g, size_t i, size_t *len);
/* The group indices in the order of their key values (json_order, key by
 * key); malloc'd, grouper_count entries. */
size_t *grouper_sorted(const grouper *g);

/* Total order on values: missing/null first, then booleans, numbers
 * (numerically), strings (in version order, strverscmp: "id-2" before
 * "id-10"), and arrays and objects by their compact JSON text. */
int json_order(json_t *a, json_t *b);

/* Split a comma-separated list into a NULL-terminated array of strings
 * (malloc'd, one block); *n gets the count.  Empty items are a usage
 * error naming opt. */
char **split_list(const char *s, const char *opt, const char *usage, int *n);

/* Constant keys: start from a copy of the first record (json_object of
 * its keys minus those in skip[], NULL-terminated), then drop every key
 * that a later record lacks or holds another value for. */
json_t *consts_start(json_t *rec, const char *const *skip);
void consts_meet(json_t *consts, json_t *rec);

#endif
