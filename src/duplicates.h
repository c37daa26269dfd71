/*
 * Duplicate user IDs, directory URIs, mail addresses and IM addresses. During
 * the read each user's keys go into a hash index (dupindex.h); after it the
 * candidate groups are confirmed on the real keys, read back from the spool,
 * and every member of a group gets a finding that names the others.
 */
#ifndef IMADDR_DUPLICATES_H
#define IMADDR_DUPLICATES_H

#include "dupindex.h"
#include "fields.h"
#include "imaddr.h"
#include "spool.h"

/* Duplicate messages list at most this many of the other users. */
#define IMADDR_DUPLICATES_LISTED 5
/*
 * At most this much of the candidates' records is read ahead into memory
 * (64 MiB: every user of a million-user directory in one group would be
 * 115 MB); the rest is read one user at a time.
 */
#define IMADDR_DUPLICATES_PRELOAD_MAX ((size_t)64 << 20)

struct imaddr_duplicates {
	struct imaddr_dupindex indexes[IMADDR_KEY_COUNT];
	char *field[IMADDR_KEY_COUNT];   /* the attribute a kind's keys were last read from */
};

void imaddr_duplicates_init(struct imaddr_duplicates *duplicates);
void imaddr_duplicates_release(struct imaddr_duplicates *duplicates);

/**
 * Indexes a user's keys. `key_field` names the attribute each key came from
 * (NULL where none); the findings name it, so it is copied when it changes.
 */
void imaddr_duplicates_add(struct imaddr_duplicates *duplicates,
			   const struct imaddr_spooled_user *user,
			   const char *const key_field[IMADDR_KEY_COUNT]);

typedef enum imaddr_status imaddr_finding_fn(void *context, const struct imaddr_finding *finding,
					     struct imaddr_error *err);

/* Called with each kind's index sorted, before it is freed: see imaddr_duplicates_find. */
typedef void imaddr_duplicates_index_fn(void *context, enum imaddr_key_kind kind,
					const struct imaddr_duplicates *duplicates);

/**
 * After the read: hands `emit` one finding per member of every duplicate
 * group, kind by kind, groups in the order of their first user, members in
 * input order. After each kind, calls `sorted` (when not NULL) with the
 * kind's sorted index, then frees it. Fails only when the spool cannot be
 * read or `emit` fails.
 */
enum imaddr_status imaddr_duplicates_report(struct imaddr_duplicates *duplicates,
					    struct imaddr_spool *spool, imaddr_finding_fn *emit,
					    imaddr_duplicates_index_fn *sorted, void *context,
					    struct imaddr_error *err);

/**
 * Inside imaddr_duplicates_report's `sorted`: the ordinals of the users
 * whose key of `kind` may be `key` (its hash matches; the caller confirms),
 * appended to `ordinals` (grown with realloc; *count updated, *capacity its
 * size).
 */
void imaddr_duplicates_find(const struct imaddr_duplicates *duplicates,
			    enum imaddr_key_kind kind, const char *key, size_t len,
			    uint64_t **ordinals, size_t *count, size_t *capacity);

/* Users whose keys matched, as a run of a sorted index, reported in input order. */
struct imaddr_candidate_group {
	size_t start;
	size_t count;
	uint64_t first_ordinal;
};

/** qsort's comparison: groups by the first user's ordinal. */
int imaddr_candidate_group_by_first_ordinal(const void *a, const void *b);

#endif /* IMADDR_DUPLICATES_H */
