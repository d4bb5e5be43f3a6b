/* vocab.h — whole-word tokens from a Hugging Face tokenizer.json, for keys
 * drawn from a model's own vocabulary (tts-synth-ar --vocab). */
#ifndef TTS_VOCAB_H
#define TTS_VOCAB_H

#include <stddef.h>

/* The words of the vocabulary map (model.vocab: an object token → id, as in
 * BPE and WordPiece, or an array of [token, score], as in Unigram) whose
 * token is a leading-space marker ('Ġ' U+0120 or '▁' U+2581) followed by
 * at least min_len ASCII letters: the letters, de-duplicated and sorted
 * (strcmp order).  Fatal if the file cannot be read or has no such map.
 * *n gets the count; free with vocab_free. */
char **vocab_words(const char *path, size_t min_len, size_t *n);
void vocab_free(char **words, size_t n);

#endif
