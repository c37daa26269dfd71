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

#endif /* IMADDR_STRMAP_H */
