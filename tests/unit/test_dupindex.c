/* The duplicate-candidate index (src/dupindex.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dupindex.h"

static void add(struct imaddr_dupindex *index, const char *key, uint64_t ordinal)
{
	imaddr_dupindex_add(index, key, strlen(key), ordinal);
}

/* The ordinals of the group whose hash is `key`'s, in index order. */
static size_t group_of(const struct imaddr_dupindex *index, const char *key,
		       uint64_t *ordinals, size_t max)
{
	uint32_t hash = imaddr_dupindex_hash(key, strlen(key));
	size_t position = 0, start, count;
	while (imaddr_dupindex_next_group(index, &position, &start, &count)) {
		if (index->entries[start].hash != hash)
			continue;
		cr_assert_leq(count, max);
		for (size_t i = 0; i < count; i++)
			ordinals[i] = index->entries[start + i].ordinal;
		return count;
	}
	return 0;
}

Test(dupindex, add_records_hash_and_ordinal)
{
	struct imaddr_dupindex index;
	imaddr_dupindex_init(&index);
	add(&index, "js@example.com", 1);
	/* Only `len` bytes are the key. */
	imaddr_dupindex_add(&index, "mr@example.comXYZ", 14, 2);
	cr_assert_eq(index.count, 2);
	cr_assert_eq(index.entries[0].hash, imaddr_dupindex_hash("js@example.com", 14));
	cr_assert_eq(index.entries[0].ordinal, 1);
	cr_assert_eq(index.entries[1].hash, imaddr_dupindex_hash("mr@example.com", 14));
	cr_assert_eq(index.entries[1].ordinal, 2);
	imaddr_dupindex_release(&index);
	cr_assert_eq(index.count, 0);
	cr_assert_null(index.entries);
}

Test(dupindex, groups_come_out_in_ordinal_order_and_singletons_are_skipped)
{
	struct imaddr_dupindex index;
	imaddr_dupindex_init(&index);
	add(&index, "x", 1);
	add(&index, "y", 2);
	add(&index, "x", 3);
	add(&index, "single", 4);
	add(&index, "y", 5);
	add(&index, "x", 6);
	add(&index, "other", 7);
	imaddr_dupindex_sort(&index);
	cr_assert_eq(index.count, 7);

	size_t position = 0, start = 99, count = 99, groups = 0, members = 0;
	while (imaddr_dupindex_next_group(&index, &position, &start, &count)) {
		groups++;
		members += count;
		cr_assert_geq(count, 2);
		cr_assert_eq(position, start + count, "position not moved past the run");
		for (size_t i = 1; i < count; i++) {
			cr_assert_eq(index.entries[start + i].hash, index.entries[start].hash);
			cr_assert_lt(index.entries[start + i - 1].ordinal,
				     index.entries[start + i].ordinal);
		}
	}
	cr_assert_eq(groups, 2);
	cr_assert_eq(members, 5);
	cr_assert_eq(position, index.count);

	uint64_t ordinals[8];
	cr_assert_eq(group_of(&index, "x", ordinals, 8), 3);
	cr_assert_eq(ordinals[0], 1);
	cr_assert_eq(ordinals[1], 3);
	cr_assert_eq(ordinals[2], 6);
	cr_assert_eq(group_of(&index, "y", ordinals, 8), 2);
	cr_assert_eq(ordinals[0], 2);
	cr_assert_eq(ordinals[1], 5);
	cr_assert_eq(group_of(&index, "single", ordinals, 8), 0);
	cr_assert_eq(group_of(&index, "other", ordinals, 8), 0);
	imaddr_dupindex_release(&index);
}

Test(dupindex, no_groups_when_every_key_differs)
{
	struct imaddr_dupindex index;
	char key[32];
	imaddr_dupindex_init(&index);
	for (uint64_t i = 1; i <= 100; i++) {
		snprintf(key, sizeof(key), "user%llu", (unsigned long long)i);
		add(&index, key, i);
	}
	imaddr_dupindex_sort(&index);
	size_t position = 0, start = 0, count = 0;
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 0);
	cr_assert_eq(position, 100);
	/* Asking again at the end still finds nothing. */
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 0);
	imaddr_dupindex_release(&index);
}

Test(dupindex, empty_and_single_entry_indexes)
{
	struct imaddr_dupindex index;
	size_t position = 0, start = 0, count = 0;
	imaddr_dupindex_init(&index);
	imaddr_dupindex_sort(&index);
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 0);
	cr_assert_eq(position, 0);
	add(&index, "only", 1);
	imaddr_dupindex_sort(&index);
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 0);
	cr_assert_eq(position, 1);
	cr_assert_eq(index.entries[0].ordinal, 1);
	imaddr_dupindex_release(&index);
}

Test(dupindex, all_equal_keys_make_one_group)
{
	struct imaddr_dupindex index;
	imaddr_dupindex_init(&index);
	for (uint64_t i = 1; i <= 10000; i++)
		add(&index, "same@example.com", i);
	imaddr_dupindex_sort(&index);
	size_t position = 0, start = 0, count = 0;
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 1);
	cr_assert_eq(start, 0);
	cr_assert_eq(count, 10000);
	for (size_t i = 0; i < 10000; i++)
		cr_assert_eq(index.entries[i].ordinal, i + 1, "stable order lost at %zu", i);
	cr_assert_eq(imaddr_dupindex_next_group(&index, &position, &start, &count), 0);
	imaddr_dupindex_release(&index);
}

static int by_hash_then_ordinal(const void *a, const void *b)
{
	const struct imaddr_dupindex_entry *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->ordinal != y->ordinal)
		return x->ordinal < y->ordinal ? -1 : 1;
	return 0;
}

Test(dupindex, large_index_sorts_like_qsort)
{
	enum { N = 200000 };
	struct imaddr_dupindex index;
	char key[48];
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	imaddr_dupindex_init(&index);
	for (uint64_t ordinal = 1; ordinal <= N; ordinal++) {
		/* xorshift: keys repeat (about 150000 distinct) so groups exist. */
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		snprintf(key, sizeof(key), "user%llu@example.com",
			 (unsigned long long)(state % 150000));
		add(&index, key, ordinal);
	}
	cr_assert_eq(index.count, N);
	struct imaddr_dupindex_entry *copy = malloc(N * sizeof(*copy));
	memcpy(copy, index.entries, N * sizeof(*copy));
	qsort(copy, N, sizeof(*copy), by_hash_then_ordinal);

	imaddr_dupindex_sort(&index);
	cr_assert_eq(index.count, N);
	for (size_t i = 0; i < N; i++) {
		cr_assert_eq(index.entries[i].hash, copy[i].hash, "hash differs at %zu", i);
		cr_assert_eq(index.entries[i].ordinal, copy[i].ordinal,
			     "ordinal differs at %zu", i);
	}

	/* The groups cover exactly the entries whose hash occurs more than once. */
	size_t position = 0, start, count, expected_members = 0, members = 0;
	for (size_t i = 0; i < N;) {
		size_t j = i + 1;
		while (j < N && copy[j].hash == copy[i].hash)
			j++;
		if (j - i >= 2)
			expected_members += j - i;
		i = j;
	}
	while (imaddr_dupindex_next_group(&index, &position, &start, &count))
		members += count;
	cr_assert_gt(expected_members, 0);
	cr_assert_eq(members, expected_members);
	free(copy);
	imaddr_dupindex_release(&index);
}

Test(dupindex, sort_orders_by_every_bit_of_the_hash)
{
	/* Hashes that differ only in the high 16 bits, or only in the low 16. */
	static const uint32_t hashes[] = {
		0xffff0000u, 0x00000001u, 0x00010000u, 0x00000000u,
		0x80000000u, 0x00008000u, 0x00000100u, 0xffffffffu,
	};
	const size_t kinds = sizeof(hashes) / sizeof(hashes[0]);
	/* Enough entries for the radix path, whatever its threshold of thousands. */
	const size_t n = kinds * 4096;
	struct imaddr_dupindex index;
	imaddr_dupindex_init(&index);
	/* add() cannot choose a hash: the entries are rewritten in place. */
	for (size_t i = 0; i < n; i++)
		add(&index, "placeholder", i + 1);
	for (size_t i = 0; i < n; i++)
		index.entries[i].hash = hashes[i % kinds];
	cr_assert_eq(index.count, n);
	imaddr_dupindex_sort(&index);
	for (size_t i = 1; i < n; i++) {
		const struct imaddr_dupindex_entry *before = &index.entries[i - 1];
		const struct imaddr_dupindex_entry *after = &index.entries[i];
		cr_assert_leq(before->hash, after->hash, "%08lx before %08lx at %zu",
			      (unsigned long)before->hash, (unsigned long)after->hash, i);
		if (before->hash == after->hash)
			cr_assert_lt(before->ordinal, after->ordinal, "ordinals in order at %zu", i);
	}
	/* Eight groups of 4096, one per hash. */
	size_t position = 0, start, count, groups = 0;
	while (imaddr_dupindex_next_group(&index, &position, &start, &count)) {
		cr_assert_eq(count, 4096);
		groups++;
	}
	cr_assert_eq(groups, kinds);
	imaddr_dupindex_release(&index);
}
