/* words.h — a built-in list of common English words (see words.c). */
#ifndef TTS_WORDS_H
#define TTS_WORDS_H

#include <stddef.h>

extern const char *const tts_words[];
extern const size_t tts_nwords;

#endif
