/*
 * Look-alike user IDs and IM addresses (confusable): two users whose values
 * differ but share a UTS #39 skeleton ("jsmіth" with a Cyrillic і and
 * "jsmith" are both "jsrnith"). Like the duplicates, found through hashes
 * during the read and confirmed on the real values from the spool after it,
 * never pairwise.
 *
 * Only pairs where at least one of the two has a character outside ASCII
 * are reported: ASCII alone has look-alikes too ("rn" and "m", "l" and "1"),
 * but a directory is full of them ("al1" and "all") and none is an attack
 * on an identity. So an ASCII skeleton is kept as 4 bytes by ordinal (its
 * hash), and only the others as entries of their own; after the read only
 * the ASCII skeletons whose hash one of the others has are looked at.
 */
#ifndef IMADDR_CONFUSABLES_H
#define IMADDR_CONFUSABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duplicates.h"
#include "imaddr.h"
#include "normalize.h"
#include "spool.h"

/* What is compared: the user ID's key, and (Directory URI scheme) the IM address. */
enum imaddr_confusable_kind {
	IMADDR_CONFUSABLE_USER_ID = 0,
	IMADDR_CONFUSABLE_IM_ADDRESS,
	IMADDR_CONFUSABLE_KINDS
};

struct imaddr_confusables_entry {
	uint64_t ordinal;
	uint32_t hash;           /* of the skeleton; never 0 */
	bool ascii_skeleton;     /* so it may be an ASCII value's too */
};

struct imaddr_confusables_kind {
	uint32_t *ascii;          /* [ordinal - 1]: an ASCII skeleton's hash, 0 for none */
	size_t ascii_size;
	struct imaddr_confusables_entry *other;  /* skeletons of values not all ASCII */
	size_t other_count, other_capacity;
	char *field;              /* the attribute the values were last read from */
};

struct imaddr_confusables {
	struct imaddr_confusables_kind kinds[IMADDR_CONFUSABLE_KINDS];
	struct imaddr_skeleton_memo memo;    /* for the skeletons confirmed after the read */
};

void imaddr_confusables_init(struct imaddr_confusables *confusables);
void imaddr_confusables_release(struct imaddr_confusables *confusables);

/**
 * Indexes the skeleton of a user's value of one kind, as rules_user.h
 * computes it: of the user ID's key, or of the IM address's key with the
 * domain in U-label form (local@U-label). `ascii` says that source is all
 * ASCII. `field` names the attribute for the findings (copied when it
 * changes).
 */
void imaddr_confusables_add(struct imaddr_confusables *confusables,
			    enum imaddr_confusable_kind kind, uint64_t ordinal,
			    const char *skeleton, bool ascii, const char *field);

/**
 * After the read (and after the duplicates, which confusable stays clear
 * of): hands `emit` a confusable finding for every user whose value shares
 * its skeleton with another user's different value (another key: exact
 * duplicates are duplicates, not look-alikes), at least one of the two not
 * all ASCII. Kinds in order, groups in the order of their first user,
 * members in input order. Frees the index as it goes. Fails only when the
 * spool cannot be read or `emit` fails.
 */
enum imaddr_status imaddr_confusables_report(struct imaddr_confusables *confusables,
					     struct imaddr_spool *spool, imaddr_finding_fn *emit,
					     void *context, struct imaddr_error *err);

#endif /* IMADDR_CONFUSABLES_H */
