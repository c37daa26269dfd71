#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/*
 * Sixteen bytes a step, each step one 128-bit product folded to 64 bits (the
 * construction of wyhash): the report's thread hashes every text of every
 * user, and the earlier murmur-style loop (two multiplies in a chain per
 * eight bytes) took a sixth of that thread. Duplicates are confirmed on the
 * real keys and values are not secret, so only speed and a fair spread
 * matter here, not resistance to crafted collisions (the user cache keys
 * its records with a secret seed, user_cache.c). Each product is also xored
 * with what it multiplied, so that no single word makes a product's zero
 * wipe out what came before.
 */
#define HASH_K0 0xa0761d6478bd642fULL
#define HASH_K1 0xe7037ed1a0b428dbULL

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t word;
	memcpy(&word, p, 8);
	return word;
}

static inline uint64_t load32(const unsigned char *p)
{
	uint32_t word;
	memcpy(&word, p, 4);
	return word;
}

static inline uint64_t mix_pair(uint64_t a, uint64_t b)
{
	return imaddr_fold_product(a, b) ^ a ^ b;
}

uint64_t imaddr_hash(const void *bytes, size_t length)
{
	return imaddr_hash_seeded(bytes, length, 0x9e3779b97f4a7c15ULL);
}

uint64_t imaddr_hash_seeded(const void *bytes, size_t length, uint64_t seed)
{
	const unsigned char *p = bytes;
	uint64_t a, b;

	if (length <= 16) {
		/* Short keys in two or four reads from both ends, which overlap. */
		if (length >= 4) {
			size_t middle = (length >> 3) << 2;
			a = load32(p) << 32 | load32(p + middle);
			b = load32(p + length - 4) << 32 | load32(p + length - 4 - middle);
		} else if (length) {
			a = (uint64_t)p[0] << 16 | (uint64_t)p[length >> 1] << 8 | p[length - 1];
			b = 0;
		} else {
			a = b = 0;
		}
	} else {
		size_t left = length;
		while (left > 16) {
			seed = mix_pair(load64(p) ^ HASH_K1, load64(p + 8) ^ seed);
			p += 16;
			left -= 16;
		}
		a = load64(p + left - 16);
		b = load64(p + left - 8);
	}
	return mix_pair(HASH_K0 ^ length, mix_pair(a ^ HASH_K1, b ^ seed));
}

uint64_t imaddr_hash_combine(uint64_t hash, uint64_t value)
{
	return mix_pair(hash ^ HASH_K0, value ^ HASH_K1);
}

void imaddr_strmap_init(struct imaddr_strmap *map)
{
	map->slots = NULL;
	map->slot_count = 0;
	map->used = 0;
}

void imaddr_strmap_release(struct imaddr_strmap *map)
{
	for (size_t i = 0; i < map->slot_count; i++) {
		free(map->slots[i].key);
		free(map->slots[i].text);
	}
	free(map->slots);
	imaddr_strmap_init(map);
}

static struct imaddr_strmap_entry *slot_for(struct imaddr_strmap_entry *slots, size_t count,
					    const char *key, size_t len)
{
	size_t i = imaddr_hash(key, len) & (count - 1);
	while (slots[i].key && (strncmp(slots[i].key, key, len) || slots[i].key[len]))
		i = (i + 1) & (count - 1);
	return &slots[i];
}

struct imaddr_strmap_entry *imaddr_strmap_find_n(const struct imaddr_strmap *map, const char *key,
						 size_t len)
{
	if (!map->slot_count)
		return NULL;
	struct imaddr_strmap_entry *entry = slot_for(map->slots, map->slot_count, key, len);
	return entry->key ? entry : NULL;
}

struct imaddr_strmap_entry *imaddr_strmap_find(const struct imaddr_strmap *map, const char *key)
{
	return imaddr_strmap_find_n(map, key, strlen(key));
}

static void grow(struct imaddr_strmap *map)
{
	size_t count = map->slot_count ? map->slot_count * 2 : 64;
	struct imaddr_strmap_entry *slots = imaddr_xcalloc(count, sizeof(*slots));
	for (size_t i = 0; i < map->slot_count; i++) {
		if (map->slots[i].key)
			*slot_for(slots, count, map->slots[i].key, strlen(map->slots[i].key)) =
				map->slots[i];
	}
	free(map->slots);
	map->slots = slots;
	map->slot_count = count;
}

struct imaddr_strmap_entry *imaddr_strmap_get(struct imaddr_strmap *map, const char *key)
{
	if ((map->used + 1) * 2 > map->slot_count)
		grow(map);
	struct imaddr_strmap_entry *entry = slot_for(map->slots, map->slot_count, key,
						     strlen(key));
	if (!entry->key) {
		entry->key = imaddr_xstrdup(key);
		map->used++;
	}
	return entry;
}

static int by_key(const void *a, const void *b)
{
	const struct imaddr_strmap_entry *const *x = a, *const *y = b;
	return strcmp((*x)->key, (*y)->key);
}

struct imaddr_strmap_entry **imaddr_strmap_sorted(const struct imaddr_strmap *map)
{
	struct imaddr_strmap_entry **sorted = imaddr_xcalloc(map->used + 1, sizeof(*sorted));
	size_t n = 0;
	for (size_t i = 0; i < map->slot_count; i++) {
		if (map->slots[i].key)
			sorted[n++] = &map->slots[i];
	}
	qsort(sorted, n, sizeof(*sorted), by_key);
	return sorted;
}
