/*
 * Duplicate detection without keeping records in memory: 8 bytes per key
 * (a 32-bit hash and the user's ordinal), sorted once after the read. Equal
 * hashes are only candidates; the caller confirms them on the real keys,
 * so a hash collision can never report a false duplicate. A million keys
 * make about a hundred such false pairs, each a spooled user read back:
 * cheaper than twice the memory, which every key pays in page faults and
 * in the sort.
 */
#ifndef IMADDR_DUPINDEX_H
#define IMADDR_DUPINDEX_H

#include <stddef.h>
#include <stdint.h>

struct imaddr_dupindex_entry {
	uint32_t hash;
	uint32_t ordinal;
};

/* The largest ordinal an index holds: a run numbers its users below it. */
#define IMADDR_DUPINDEX_MAX_ORDINAL UINT32_MAX

struct imaddr_dupindex {
	struct imaddr_dupindex_entry *entries;
	size_t count;
	size_t capacity;
};

void imaddr_dupindex_init(struct imaddr_dupindex *index);
void imaddr_dupindex_release(struct imaddr_dupindex *index);
/** A key's hash as the index keeps it. */
uint32_t imaddr_dupindex_hash(const char *key, size_t len);
/** `ordinal` is at most IMADDR_DUPINDEX_MAX_ORDINAL: the caller refuses more users. */
void imaddr_dupindex_add(struct imaddr_dupindex *index, const char *key, size_t len,
			 uint64_t ordinal);
/** Sorts by hash, then ordinal, so candidate groups are runs in input order. */
void imaddr_dupindex_sort(struct imaddr_dupindex *index);
/**
 * After sorting: the next run of two or more equal hashes at or after
 * *position. Sets *start and *count and moves *position past the run;
 * returns 0 when there is none left.
 */
int imaddr_dupindex_next_group(const struct imaddr_dupindex *index, size_t *position,
			       size_t *start, size_t *count);

/**
 * After sorting: the entries whose key hashes as `key` does,
 * candidates for having that key: sets *start and *count (0 when none).
 */
void imaddr_dupindex_find(const struct imaddr_dupindex *index, const char *key, size_t len,
			  size_t *start, size_t *count);

#endif /* IMADDR_DUPINDEX_H */
