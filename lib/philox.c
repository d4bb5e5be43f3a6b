/* philox.c — Philox4x32-10 and the FNV-1a key (see philox.h). */
#include "philox.h"

/* Multipliers and Weyl key increments of Philox4x32 (Salmon et al. 2011,
 * Random123 philox.h). */
#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void
philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
	uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
	uint32_t k0 = key[0], k1 = key[1];
	for (int round = 0; round < 10; round++) {
		if (round > 0) {
			k0 += PHILOX_W0;
			k1 += PHILOX_W1;
		}
		uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
		uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
		uint32_t hi0 = p0 >> 32, lo0 = (uint32_t)p0;
		uint32_t hi1 = p1 >> 32, lo1 = (uint32_t)p1;
		c0 = hi1 ^ c1 ^ k0;
		c1 = lo1;
		c2 = hi0 ^ c3 ^ k1;
		c3 = lo0;
	}
	out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

uint64_t
fnv1a64(const void *s, size_t n)
{
	const unsigned char *p = s;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void
philox_key(uint64_t seed, const char *id, size_t n, uint32_t key[2])
{
	uint64_t k = seed ^ fnv1a64(id, n);
	key[0] = (uint32_t)k;
	key[1] = (uint32_t)(k >> 32);
}

double
philox_uniform(const uint32_t key[2], uint32_t sample, uint32_t step)
{
	uint32_t ctr[4] = { sample, step, 0, 0 }, x[4];
	philox4x32_10(ctr, key, x);
	uint64_t bits = (((uint64_t)x[0] << 32) | x[1]) >> 11;
	return (double)bits * 0x1p-53;
}
