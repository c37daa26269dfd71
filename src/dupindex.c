#include "dupindex.h"

#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "strmap.h"

void imaddr_dupindex_init(struct imaddr_dupindex *index)
{
	index->entries = NULL;
	index->count = 0;
	index->capacity = 0;
}

void imaddr_dupindex_release(struct imaddr_dupindex *index)
{
	free(index->entries);
	imaddr_dupindex_init(index);
}

/* The hash's high half: its last folded product mixes every input bit into it. */
uint32_t imaddr_dupindex_hash(const char *key, size_t len)
{
	return (uint32_t)(imaddr_hash(key, len) >> 32);
}

void imaddr_dupindex_add(struct imaddr_dupindex *index, const char *key, size_t len,
			 uint64_t ordinal)
{
	if (index->count == index->capacity) {
		index->capacity = index->capacity ? index->capacity * 2 : 4096;
		index->entries = imaddr_xrealloc(index->entries,
						 index->capacity * sizeof(*index->entries));
	}
	index->entries[index->count].hash = imaddr_dupindex_hash(key, len);
	index->entries[index->count].ordinal = (uint32_t)ordinal;
	index->count++;
}

static int by_hash_then_ordinal(const void *a, const void *b)
{
	const struct imaddr_dupindex_entry *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/* Below this, 65536 counters cost more than qsort. */
#define RADIX_SORT_MIN 4096
/* A bucket this small is sorted by insertion, larger ones by qsort. */
#define INSERTION_SORT_MAX 32

static void insertion_sort(struct imaddr_dupindex_entry *entries, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct imaddr_dupindex_entry moving = entries[i];
		size_t j = i;
		while (j > 0 && by_hash_then_ordinal(&entries[j - 1], &moving) > 0) {
			entries[j] = entries[j - 1];
			j--;
		}
		entries[j] = moving;
	}
}

/*
 * One radix pass on the hash's top 16 bits, then each bucket sorted on its
 * own: hashes are uniform, so a million keys leave about 15 a bucket, sorted
 * in cache. The four 16-bit passes of an LSD radix sort moved every entry
 * four times; this moves it once. (hash, ordinal) orders entries totally, as
 * a key's ordinal is unique in its index, so equal hashes end in input order.
 */
void imaddr_dupindex_sort(struct imaddr_dupindex *index)
{
	size_t n = index->count;
	if (n < 2)
		return;
	if (n < RADIX_SORT_MIN) {
		qsort(index->entries, n, sizeof(*index->entries), by_hash_then_ordinal);
		return;
	}
	const struct imaddr_dupindex_entry *from = index->entries;
	struct imaddr_dupindex_entry *to = imaddr_xmalloc(n * sizeof(*to));
	size_t *starts = imaddr_xcalloc(65536 + 1, sizeof(*starts));
	for (size_t i = 0; i < n; i++)
		starts[(from[i].hash >> 16) + 1]++;
	for (size_t i = 1; i <= 65536; i++)
		starts[i] += starts[i - 1];
	size_t *next = imaddr_xmalloc(65536 * sizeof(*next));
	memcpy(next, starts, 65536 * sizeof(*next));
	for (size_t i = 0; i < n; i++)
		to[next[from[i].hash >> 16]++] = from[i];
	free(next);
	for (size_t bucket = 0; bucket < 65536; bucket++) {
		size_t size = starts[bucket + 1] - starts[bucket];
		if (size > INSERTION_SORT_MAX)
			qsort(to + starts[bucket], size, sizeof(*to), by_hash_then_ordinal);
		else if (size > 1)
			insertion_sort(to + starts[bucket], size);
	}
	free(starts);
	free(index->entries);
	index->entries = to;
	index->capacity = n;
}

int imaddr_dupindex_next_group(const struct imaddr_dupindex *index, size_t *position,
			       size_t *start, size_t *count)
{
	size_t i = *position;
	while (i < index->count) {
		size_t j = i + 1;
		while (j < index->count && index->entries[j].hash == index->entries[i].hash)
			j++;
		if (j - i >= 2) {
			*start = i;
			*count = j - i;
			*position = j;
			return 1;
		}
		i = j;
	}
	*position = i;
	return 0;
}

void imaddr_dupindex_find(const struct imaddr_dupindex *index, const char *key, size_t len,
			  size_t *start, size_t *count)
{
	uint32_t hash = imaddr_dupindex_hash(key, len);
	size_t low = 0, high = index->count;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		if (index->entries[middle].hash < hash)
			low = middle + 1;
		else
			high = middle;
	}
	size_t end = low;
	while (end < index->count && index->entries[end].hash == hash)
		end++;
	*start = low;
	*count = end - low;
}
