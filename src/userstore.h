/*
 * The users of a run, spooled to an anonymous temporary file so that a
 * million users cost 8 bytes of memory each (their offsets), not their text.
 * Duplicates are resolved after the read by looking the few users concerned
 * up again, and outputs that must wait for the whole run (the BAT file)
 * read the users back in order.
 */
#ifndef IMADDR_USERSTORE_H
#define IMADDR_USERSTORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "imaddr.h"

/* The comparison keys kept for duplicate detection, one per kind. */
enum imaddr_key_kind {
	IMADDR_KEY_USER_ID = 0,
	IMADDR_KEY_DIRECTORY_URI,
	IMADDR_KEY_MAIL,
	IMADDR_KEY_IM_ADDRESS,
	IMADDR_KEY_COUNT
};

/** A user read back from the store: views into the store's buffer, valid
 *  until the next call on the store. Names (first_name, last_name) are not
 *  kept: nothing after the read needs them. */
struct imaddr_stored_user {
	struct imaddr_user user;
	const char *keys[IMADDR_KEY_COUNT];   /* NULL when the user has none */
};

struct imaddr_userstore {
	FILE *file;
	uint64_t *offsets;     /* offsets[ordinal - 1] */
	uint64_t count;
	uint64_t capacity;
	uint64_t size;         /* bytes written */
	struct imaddr_buf record;
	struct imaddr_buf read_buffer;
};

enum imaddr_status imaddr_userstore_init(struct imaddr_userstore *store,
					 struct imaddr_error *err);
void imaddr_userstore_release(struct imaddr_userstore *store);

/** Appends a user; its ordinal must be count + 1. */
enum imaddr_status imaddr_userstore_append(struct imaddr_userstore *store,
					   const struct imaddr_user *user,
					   const char *const keys[IMADDR_KEY_COUNT],
					   struct imaddr_error *err);

/** Reads user `ordinal` (1-based) back. */
enum imaddr_status imaddr_userstore_get(struct imaddr_userstore *store, uint64_t ordinal,
					struct imaddr_stored_user *out,
					struct imaddr_error *err);

typedef enum imaddr_status imaddr_userstore_fn(void *context,
					       const struct imaddr_stored_user *user,
					       struct imaddr_error *err);

/**
 * Calls fn for every user in ordinal order, reading the file sequentially
 * in large blocks. Stops at, and returns, the first status other than OK.
 */
enum imaddr_status imaddr_userstore_each(struct imaddr_userstore *store,
					 imaddr_userstore_fn *fn, void *context,
					 struct imaddr_error *err);

#endif /* IMADDR_USERSTORE_H */
