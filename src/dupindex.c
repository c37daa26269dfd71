#include "dupindex.h"

#include <stdlib.h>

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

void imaddr_dupindex_add(struct imaddr_dupindex *index, const char *key, size_t len,
			 uint64_t ordinal)
{
	if (index->count == index->capacity) {
		index->capacity = index->capacity ? index->capacity * 2 : 4096;
		index->entries = imaddr_xrealloc(index->entries,
						 index->capacity * sizeof(*index->entries));
	}
	index->entries[index->count].hash = imaddr_hash(key, len);
	index->entries[index->count].ordinal = ordinal;
	index->count++;
}

/*
 * LSD radix sort on the hash, 16 bits a pass: linear in the number of keys,
 * where qsort's comparisons dominated a million-user run. It is stable, and
 * entries arrive in ordinal order, so equal hashes stay in input order.
 */
static int by_hash_then_ordinal(const void *a, const void *b)
{
	const struct imaddr_dupindex_entry *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

/* Below this, four passes over 65536 counters cost more than qsort. */
#define RADIX_SORT_MIN 4096

void imaddr_dupindex_sort(struct imaddr_dupindex *index)
{
	size_t n = index->count;
	if (n < 2)
		return;
	if (n < RADIX_SORT_MIN) {
		qsort(index->entries, n, sizeof(*index->entries), by_hash_then_ordinal);
		return;
	}
	struct imaddr_dupindex_entry *from = index->entries;
	struct imaddr_dupindex_entry *to = imaddr_xmalloc(n * sizeof(*to));
	size_t *counts = imaddr_xmalloc(65536 * sizeof(*counts));
	for (int shift = 0; shift < 64; shift += 16) {
		for (size_t i = 0; i < 65536; i++)
			counts[i] = 0;
		for (size_t i = 0; i < n; i++)
			counts[(from[i].hash >> shift) & 0xFFFF]++;
		size_t total = 0;
		for (size_t i = 0; i < 65536; i++) {
			size_t c = counts[i];
			counts[i] = total;
			total += c;
		}
		for (size_t i = 0; i < n; i++)
			to[counts[(from[i].hash >> shift) & 0xFFFF]++] = from[i];
		struct imaddr_dupindex_entry *swap = from;
		from = to;
		to = swap;
	}
	/* Four passes: the sorted data is back in the original array. */
	free(to);
	free(counts);
	index->entries = from;
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
	uint64_t hash = imaddr_hash(key, len);
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
