/*
 * Look-alike user IDs and IM addresses (confusable): two users whose values
 * differ but share a UTS #39 skeleton ("jsmіth" with a Cyrillic і and
 * "jsmith" are both "jsrnith"). Like the duplicates, found through hashes
 * and confirmed on the real values from the spool, never pairwise.
 *
 * Only pairs where at least one of the two has a character outside ASCII
 * are reported: ASCII alone has look-alikes too ("rn" and "m", "l" and "1"),
 * but a directory is full of them ("al1" and "all") and none is an attack
 * on an identity. That keeps the common case free: during the read only the
 * values that are not all ASCII (a few percent of a directory) have their
 * skeleton taken and indexed. The ASCII values that look like one of them
 * are found after the read from its skeleton: the ASCII strings with that
 * skeleton are few ("jsrnith" is the skeleton of "jsrnith" and "jsmith"
 * only), and each is looked up as a key in the duplicates' index. A
 * skeleton with too many such strings ("l" has three: l, 1, |) falls back
 * to one pass over the spool taking every ASCII value's skeleton.
 */
#ifndef IMADDR_CONFUSABLES_H
#define IMADDR_CONFUSABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duplicates.h"
#include "imaddr.h"
#include "spool.h"
#include "spoof.h"
#include "strmap.h"

/* What is compared: the user ID's key, and (Directory URI scheme) the IM address. */
enum imaddr_confusable_kind {
	IMADDR_CONFUSABLE_USER_ID = 0,
	IMADDR_CONFUSABLE_IM_ADDRESS,
	IMADDR_CONFUSABLE_KINDS
};

struct imaddr_confusables_entry {
	uint64_t ordinal;
	uint32_t hash;           /* of the skeleton */
	uint32_t key_hash;       /* of the key, 0 when not known (an ASCII value found) */
};

/* A skeleton that ASCII values may have too, kept for looking them up. */
struct imaddr_confusables_skeleton {
	uint32_t hash;
	char *text;
};

/* How many entries have each skeleton hash: an open-addressed table. */
struct imaddr_confusables_counts {
	struct imaddr_confusables_count {
		uint32_t hash;     /* 0: empty */
		uint32_t count;
	} *slots;
	size_t mask;
};

struct imaddr_confusables_kind {
	struct imaddr_confusables_entry *entries;  /* in ordinal order during the read */
	size_t count, capacity;
	struct imaddr_confusables_skeleton *kept;  /* few: most skeletons are not ASCII */
	size_t kept_count, kept_capacity;
	char *field;             /* the attribute the values were last read from */
	/* After the read: the entries' hashes, and the ASCII values found with one. */
	struct imaddr_confusables_counts counts;
	struct imaddr_confusables_entry *found;
	size_t found_count, found_capacity;
	bool looked_up;          /* imaddr_confusables_look_up found them all */
};

/* The skeletons of ASCII characters, by the first byte of the skeleton;
 * loaded with the first value indexed. */
struct imaddr_confusables_pieces {
	bool loaded;
	unsigned char chars[128];    /* the characters, grouped by first byte */
	size_t start[257];           /* chars[start[b]..start[b + 1]] start with b */
	bool byte_used[256];         /* the bytes some skeleton of an ASCII character has */
};

struct imaddr_confusables {
	struct imaddr_confusables_kind kinds[IMADDR_CONFUSABLE_KINDS];
	struct imaddr_confusables_pieces pieces;
	struct imaddr_skeleton_memo memo;    /* for the skeletons taken after the read */
};

/** Sets up an empty index. */
void imaddr_confusables_init(struct imaddr_confusables *confusables);
void imaddr_confusables_release(struct imaddr_confusables *confusables);

/**
 * Indexes a user's value of one kind that is not all ASCII, by its skeleton
 * as rules_user.h computes it: of the user ID's key, or of the IM address's
 * key with its domain in U-label form (local@U-label). ASCII values are not
 * indexed: see above. `key` is the value's comparison key, so that values
 * that only repeat one key (duplicates) are not read back. `field` names the
 * attribute for the findings (copied when it changes).
 */
void imaddr_confusables_add(struct imaddr_confusables *confusables,
			    enum imaddr_confusable_kind kind, uint64_t ordinal,
			    const char *skeleton, size_t len, const char *key,
			    const char *field);

/**
 * After the read, from imaddr_duplicates_report's `sorted`: finds the ASCII
 * values that look like an indexed value of the confusable kind whose key
 * is `key` (nothing for the others), in the duplicates' sorted index of
 * those keys. `domains` are the run's IM domains (A-label -> U-label, the
 * audit's inventory): an IM address's domain is one of them. When some
 * skeleton has too many ASCII spellings, imaddr_confusables_report takes
 * the ASCII values' skeletons instead.
 */
void imaddr_confusables_look_up(struct imaddr_confusables *confusables, enum imaddr_key_kind key,
				const struct imaddr_duplicates *duplicates,
				const struct imaddr_strmap *domains);

/**
 * After imaddr_confusables_look_up (a kind not looked up gets the pass over
 * the spool; confusable stays clear of duplicates anyway):
 * hands `emit` a confusable finding for every user whose value shares its
 * skeleton with another user's different value (another key: the same key
 * is a duplicate, not a look-alike), at least one of the two not all
 * ASCII. Kinds in order, groups in the order of their first user, members
 * in input order. Frees the index as it goes. Fails only when the spool
 * cannot be read or `emit` fails.
 */
enum imaddr_status imaddr_confusables_report(struct imaddr_confusables *confusables,
					     struct imaddr_spool *spool, imaddr_finding_fn *emit,
					     void *context, struct imaddr_error *err);

#endif /* IMADDR_CONFUSABLES_H */
