/*
 * The users of a run, spooled to an anonymous temporary file so that a
 * million users cost 8 bytes of memory each (their offsets), not their text.
 * Duplicates are resolved after the read by looking the few users concerned
 * up again, and the output driver replays every user, in input order, to
 * the outputs that want a final pass. Users are encoded with the spooled
 * user's field table (fields.h).
 */
#ifndef IMADDR_SPOOL_H
#define IMADDR_SPOOL_H

#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "fields.h"
#include "imaddr.h"

struct imaddr_spool {
	FILE *file;
	char *file_buffer;     /* the file's stdio buffer */
	uint64_t *offsets;     /* offsets[ordinal - 1] */
	uint64_t count;
	uint64_t capacity;
	uint64_t size;         /* bytes written */
	struct imaddr_buf record;
	struct imaddr_buf read_buffer;
	/* Users read ahead by imaddr_spool_preload, looked up before the file. */
	uint64_t *preloaded;   /* their ordinals, ascending */
	size_t *preloaded_at;  /* where each one's record starts in `arena` */
	size_t preloaded_count;
	struct imaddr_buf arena;
};

/** Creates the temporary file; IMADDR_ERR_IO when it cannot. */
enum imaddr_status imaddr_spool_init(struct imaddr_spool *spool, struct imaddr_error *err);
/** Closes (and so deletes) the file and frees the offsets. */
void imaddr_spool_release(struct imaddr_spool *spool);

/** Appends a user; its ordinal must be count + 1. */
enum imaddr_status imaddr_spool_append(struct imaddr_spool *spool,
				       const struct imaddr_spooled_user *user,
				       struct imaddr_error *err);

/** Appends a user already encoded as fields.h's spooled user. */
enum imaddr_status imaddr_spool_append_encoded(struct imaddr_spool *spool, const char *encoded,
					       size_t size, struct imaddr_error *err);

/**
 * Reads user `ordinal` (1-based) back. Its strings are views into the
 * spool's buffer, valid until the next call on the spool.
 */
enum imaddr_status imaddr_spool_get(struct imaddr_spool *spool, uint64_t ordinal,
				    struct imaddr_spooled_user *out, struct imaddr_error *err);

/**
 * Reads the users `ordinals` (ascending, without repeats) ahead, a window of
 * the file at a time, so that imaddr_spool_get finds them in memory: the
 * duplicate search asks for tens of thousands of scattered users, and one
 * read call each cost more than the search. Keeps at most `limit` bytes of
 * records; those past it are read from the file when asked for. Replaces
 * what an earlier call read ahead.
 */
enum imaddr_status imaddr_spool_preload(struct imaddr_spool *spool, const uint64_t *ordinals,
					size_t count, size_t limit, struct imaddr_error *err);
/** Forgets what was read ahead. */
void imaddr_spool_unload(struct imaddr_spool *spool);

/** Called per user by imaddr_spool_each; strings valid during the call. */
typedef enum imaddr_status imaddr_spool_fn(void *context, struct imaddr_spooled_user *user,
					   struct imaddr_error *err);

/**
 * Calls fn for every user in ordinal order, reading the file sequentially
 * in large blocks. Stops at, and returns, the first status other than OK.
 */
enum imaddr_status imaddr_spool_each(struct imaddr_spool *spool, imaddr_spool_fn *fn,
				     void *context, struct imaddr_error *err);

#endif /* IMADDR_SPOOL_H */
