#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"

/*
 * Eight bytes a step, each mixed by a multiply and a shift (the finalizer of
 * MurmurHash3): FNV-1a's byte-at-a-time loop was a tenth of a million-user
 * audit. Duplicates are confirmed on the real keys, so only speed and a fair
 * spread matter here, not resistance to crafted collisions.
 */
static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t imaddr_hash(const void *bytes, size_t length)
{
	return imaddr_hash_seeded(bytes, length, 0x9e3779b97f4a7c15ULL);
}

uint64_t imaddr_hash_seeded(const void *bytes, size_t length, uint64_t seed)
{
	const unsigned char *p = bytes;
	uint64_t hash = seed ^ length;
	while (length >= 8) {
		uint64_t word;
		memcpy(&word, p, 8);
		hash = mix(hash ^ word) + 0x9e3779b97f4a7c15ULL;
		p += 8;
		length -= 8;
	}
	uint64_t tail = 0;
	memcpy(&tail, p, length);
	return mix(hash ^ tail ^ ((uint64_t)length << 56));
}

uint64_t imaddr_hash_combine(uint64_t hash, uint64_t value)
{
	return mix(hash ^ value) + 0x9e3779b97f4a7c15ULL;
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
