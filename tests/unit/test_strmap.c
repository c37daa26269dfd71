/* The string-keyed hash map and imaddr's hash function (src/strmap.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static size_t entry_count(const struct imaddr_strmap *map)
{
	size_t n = 0;
	for (size_t i = 0; i < map->slot_count; i++)
		n += map->slots[i].key != NULL;
	return n;
}

Test(strmap, find_in_an_empty_map_misses)
{
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	cr_assert_null(imaddr_strmap_find(&map, "example.com"));
	cr_assert_null(imaddr_strmap_find(&map, ""));
	imaddr_strmap_release(&map);
}

Test(strmap, get_creates_an_entry_once)
{
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	struct imaddr_strmap_entry *entry = imaddr_strmap_get(&map, "example.com");
	cr_assert_not_null(entry);
	cr_assert_str_eq(entry->key, "example.com");
	cr_assert_null(entry->text);
	cr_assert_eq(entry->count, 0);
	cr_assert_eq(map.used, 1);
	entry->count = 5;
	entry->text = strdup("Example.com");

	struct imaddr_strmap_entry *again = imaddr_strmap_get(&map, "example.com");
	cr_assert_eq(again, entry, "a second get made a second entry");
	cr_assert_eq(again->count, 5);
	cr_assert_str_eq(again->text, "Example.com");
	cr_assert_eq(map.used, 1);
	cr_assert_eq(entry_count(&map), 1);
	cr_assert_eq(imaddr_strmap_find(&map, "example.com"), entry);
	imaddr_strmap_release(&map);
}

Test(strmap, get_copies_the_key)
{
	struct imaddr_strmap map;
	char key[] = "example.org";
	imaddr_strmap_init(&map);
	struct imaddr_strmap_entry *entry = imaddr_strmap_get(&map, key);
	cr_assert_neq(entry->key, key);
	key[0] = 'X';
	cr_assert_not_null(imaddr_strmap_find(&map, "example.org"));
	cr_assert_null(imaddr_strmap_find(&map, key));
	imaddr_strmap_release(&map);
}

Test(strmap, find_misses_absent_keys)
{
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	imaddr_strmap_get(&map, "example.com")->count = 1;
	imaddr_strmap_get(&map, "example.org")->count = 2;
	cr_assert_null(imaddr_strmap_find(&map, "example.net"));
	cr_assert_null(imaddr_strmap_find(&map, "Example.com"), "keys are case-sensitive");
	cr_assert_null(imaddr_strmap_find(&map, "example.co"));
	cr_assert_null(imaddr_strmap_find(&map, ""));
	cr_assert_eq(imaddr_strmap_find(&map, "example.org")->count, 2);
	/* A miss does not create. */
	cr_assert_eq(map.used, 2);
	cr_assert_eq(entry_count(&map), 2);
	imaddr_strmap_release(&map);
}

Test(strmap, empty_key_is_a_key)
{
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	imaddr_strmap_get(&map, "")->count = 9;
	cr_assert_eq(imaddr_strmap_find(&map, "")->count, 9);
	cr_assert_eq(map.used, 1);
	imaddr_strmap_release(&map);
}

Test(strmap, growth_past_64_entries_keeps_every_entry)
{
	enum { N = 5000 };
	struct imaddr_strmap map;
	char key[64];
	imaddr_strmap_init(&map);
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "domain-%u.example", i);
		struct imaddr_strmap_entry *entry = imaddr_strmap_get(&map, key);
		cr_assert_eq(entry->count, 0, "'%s' existed before it was added", key);
		entry->count = i + 1;
		snprintf(key, sizeof(key), "text %u", i);
		entry->text = strdup(key);
		cr_assert_eq(map.used, i + 1);
		/* The load factor stays at or under one half. */
		cr_assert_leq(map.used * 2, map.slot_count);
	}
	cr_assert_eq(entry_count(&map), N);
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "domain-%u.example", i);
		struct imaddr_strmap_entry *entry = imaddr_strmap_find(&map, key);
		cr_assert_not_null(entry, "'%s' lost after growth", key);
		cr_assert_str_eq(entry->key, key);
		cr_assert_eq(entry->count, i + 1);
		char text[64];
		snprintf(text, sizeof(text), "text %u", i);
		cr_assert_str_eq(entry->text, text);
		/* get finds the existing entry rather than making a second. */
		cr_assert_eq(imaddr_strmap_get(&map, key), entry);
	}
	cr_assert_eq(map.used, N);
	snprintf(key, sizeof(key), "domain-%u.example", (unsigned)N);
	cr_assert_null(imaddr_strmap_find(&map, key));
	imaddr_strmap_release(&map);
	cr_assert_eq(map.used, 0);
	cr_assert_null(imaddr_strmap_find(&map, "domain-1.example"));
}

Test(strmap, growth_at_the_first_threshold)
{
	/* 32 entries fill 64 slots to one half; the 33rd must grow the table. */
	struct imaddr_strmap map;
	char key[32];
	imaddr_strmap_init(&map);
	for (unsigned i = 0; i < 65; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		imaddr_strmap_get(&map, key)->count = i;
	}
	for (unsigned i = 0; i < 65; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		struct imaddr_strmap_entry *entry = imaddr_strmap_find(&map, key);
		cr_assert_not_null(entry, "'%s' lost", key);
		cr_assert_eq(entry->count, i);
	}
	imaddr_strmap_release(&map);
}

Test(strmap, sorted_lists_entries_by_key)
{
	static const char *const keys[] = {
		"xn--bcher-kva.example", "example.org", "Example.com", "example.com",
		"a.example", "example.com.au", "", "z", "b\xc3\xbc" "cher.example",
	};
	static const char *const expected[] = {
		"", "Example.com", "a.example", "b\xc3\xbc" "cher.example", "example.com",
		"example.com.au", "example.org", "xn--bcher-kva.example", "z",
	};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	for (size_t i = 0; i < n; i++)
		imaddr_strmap_get(&map, keys[i])->count = i;

	struct imaddr_strmap_entry **sorted = imaddr_strmap_sorted(&map);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(sorted[i]);
		cr_assert_str_eq(sorted[i]->key, expected[i], "position %zu", i);
		/* The array points at the map's own entries. */
		cr_assert_eq(sorted[i], imaddr_strmap_find(&map, expected[i]));
	}
	cr_assert_null(sorted[n], "the sorted array is not NULL-terminated");
	free(sorted);
	imaddr_strmap_release(&map);
}

Test(strmap, sorted_after_growth_is_complete_and_ordered)
{
	enum { N = 300 };
	struct imaddr_strmap map;
	char key[32];
	imaddr_strmap_init(&map);
	/* Inserted in a scrambled order. */
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "d%05u", (i * 7919u) % N);
		imaddr_strmap_get(&map, key);
	}
	struct imaddr_strmap_entry **sorted = imaddr_strmap_sorted(&map);
	for (unsigned i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "d%05u", i);
		cr_assert_not_null(sorted[i]);
		cr_assert_str_eq(sorted[i]->key, key);
	}
	cr_assert_null(sorted[N]);
	free(sorted);
	imaddr_strmap_release(&map);
}

Test(strmap, sorted_of_an_empty_map)
{
	struct imaddr_strmap map;
	imaddr_strmap_init(&map);
	struct imaddr_strmap_entry **sorted = imaddr_strmap_sorted(&map);
	cr_assert_not_null(sorted);
	cr_assert_null(sorted[0]);
	free(sorted);
	imaddr_strmap_release(&map);
}

/*
 * A change of hash should be a decision: the report's label states store
 * these values, so a change makes each label's next run write its users and
 * findings again, once (report-schema.md). These pin the current function.
 * The words are read in host order, so the pinned values are little-endian
 * ones.
 */
Test(strmap, hash_of_known_inputs_is_stable)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	cr_assert_eq(imaddr_hash("", 0), 0x88bb61d6070c3417ULL);
	cr_assert_eq(imaddr_hash("a", 1), 0xae01edef8e3ce463ULL);
	cr_assert_eq(imaddr_hash("foobar", 6), 0x5ce6353e8f4801f7ULL);
	cr_assert_eq(imaddr_hash("js@example.com", 14), 0x3e547f97a80edcd1ULL);
	/* One step of sixteen bytes and a tail. */
	cr_assert_eq(imaddr_hash("0123456789abcdefXYZ", 19), 0xab22827c4b8cf78bULL);
	/* Two steps and a tail, as a DN. */
	cr_assert_eq(imaddr_hash("CN=Eugene Little,OU=People,DC=example,DC=com", 44),
		     0x4c0e49fbf89bdd6aULL);
#else
	cr_skip_test("the pinned values are little-endian");
#endif
}

Test(strmap, hash_reads_only_length_bytes_from_any_address)
{
	char buffer[64];
	const char *key = "user.name@example.com";
	uint64_t expected = imaddr_hash(key, strlen(key));
	/* The same bytes at every alignment, followed by different garbage. */
	for (size_t offset = 0; offset < 8; offset++) {
		memset(buffer, offset % 2 ? 'x' : '\xff', sizeof(buffer));
		memcpy(buffer + offset, key, strlen(key));
		cr_assert_eq(imaddr_hash(buffer + offset, strlen(key)), expected,
			     "offset %zu", offset);
	}
	cr_assert_eq(imaddr_hash("ab", 1), imaddr_hash("a", 1));
}

Test(strmap, hash_tells_lengths_and_single_bytes_apart)
{
	/* Zero bytes of different lengths, and keys one byte apart in each word. */
	static const char zeros[24] = { 0 };
	for (size_t a = 0; a < sizeof(zeros); a++) {
		for (size_t b = a + 1; b <= sizeof(zeros); b++)
			cr_assert_neq(imaddr_hash(zeros, a), imaddr_hash(zeros, b),
				      "%zu and %zu zero bytes collide", a, b);
	}
	char key[] = "abcdefghijklmnopqrstu";
	uint64_t base = imaddr_hash(key, sizeof(key) - 1);
	for (size_t i = 0; i < sizeof(key) - 1; i++) {
		key[i] ^= 1;
		cr_assert_neq(imaddr_hash(key, sizeof(key) - 1), base, "byte %zu ignored", i);
		key[i] ^= 1;
	}
	cr_assert_neq(imaddr_hash("a\0b", 3), imaddr_hash("a", 1));
}
