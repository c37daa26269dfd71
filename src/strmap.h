/*
 * A small string-keyed hash map for the sets imaddr keeps whole in memory:
 * IM domains and configured domains (hundreds, not millions).
 */
#ifndef IMADDR_STRMAP_H
#define IMADDR_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct imaddr_strmap_entry {
	char *key;
	char *text;      /* a second string the owner may keep, or NULL */
	uint64_t count;
};

struct imaddr_strmap {
	struct imaddr_strmap_entry *slots;
	size_t slot_count;
	size_t used;
};

void imaddr_strmap_init(struct imaddr_strmap *map);
/** Frees keys, texts and slots. */
void imaddr_strmap_release(struct imaddr_strmap *map);
/** The entry for key, or NULL. */
struct imaddr_strmap_entry *imaddr_strmap_find(const struct imaddr_strmap *map, const char *key);
/** The same for a key of `len` bytes that need not be NUL-terminated. */
struct imaddr_strmap_entry *imaddr_strmap_find_n(const struct imaddr_strmap *map, const char *key,
						 size_t len);
/** The entry for key, created (count 0, text NULL) when missing. */
struct imaddr_strmap_entry *imaddr_strmap_get(struct imaddr_strmap *map, const char *key);
/** The entries, sorted by key, in a new array the caller frees. */
struct imaddr_strmap_entry **imaddr_strmap_sorted(const struct imaddr_strmap *map);

/** imaddr's one hash function: 64 bits, fast, not cryptographic. */
uint64_t imaddr_hash(const void *bytes, size_t length);
/**
 * The same from `seed`: a secret seed makes values that collide hard to
 * choose without it (the user cache's keys, user_cache.h).
 */
uint64_t imaddr_hash_seeded(const void *bytes, size_t length, uint64_t seed);
/** `hash` with `value` mixed in: for hashing a sequence without copying it. */
uint64_t imaddr_hash_combine(uint64_t hash, uint64_t value);

/** The 128-bit product of a and b, its halves folded: the hashes' mixing step. */
static inline uint64_t imaddr_fold_product(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
	__uint128_t product = (__uint128_t)a * b;
	return (uint64_t)product ^ (uint64_t)(product >> 64);
#else
	uint64_t a_low = (uint32_t)a, a_high = a >> 32, b_low = (uint32_t)b, b_high = b >> 32;
	uint64_t low = a_low * b_low, middle1 = a_high * b_low, middle2 = a_low * b_high;
	uint64_t high = a_high * b_high;
	uint64_t carry = ((low >> 32) + (uint32_t)middle1 + (uint32_t)middle2) >> 32;
	low += (middle1 << 32) + (middle2 << 32);
	high += (middle1 >> 32) + (middle2 >> 32) + carry;
	return low ^ high;
#endif
}

#endif /* IMADDR_STRMAP_H */
