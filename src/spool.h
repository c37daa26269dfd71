/*
 * The users of a run, spooled to a file so that a million users cost a few
 * bytes of memory each (where each one is), not their text. Duplicates are
 * resolved after the read by looking the few users concerned up again, and
 * the output driver replays every user, in input order, to the outputs that
 * want a final pass. Users are encoded with fields.h's tables.
 *
 * The file is an anonymous temporary file, or the user cache of the run's
 * label (user_cache.h), which keeps the checked users of the label's runs
 * so that the next run of the label takes an unchanged user from it instead
 * of checking it again. A user taken so stays where an earlier run wrote
 * it: the spool keeps where each user is, in whatever order, and each user's
 * position in this run (its ordinal and line), which the stored encoding
 * may give differently.
 */
#ifndef IMADDR_SPOOL_H
#define IMADDR_SPOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "fields.h"
#include "imaddr.h"

/* The key a user cache finds a user by (user_cache.h). */
#define IMADDR_SPOOL_KEY_SIZE 16
/* What a user cache's entry holds before the user: a check of its key and its bytes. */
#define IMADDR_SPOOL_TAG_SIZE 8

struct imaddr_spool {
	FILE *file;
	bool owned;            /* the temporary file, closed with the spool */
	bool tagged;           /* each user after its tag (a user cache: IMADDR_SPOOL_TAG_SIZE) */
	char *name;            /* the file, as messages name it */
	char *file_buffer;     /* the file's stdio buffer */
	uint64_t *offsets;     /* offsets[ordinal - 1]: where the user's entry starts */
	uint32_t *sizes;       /* sizes[ordinal - 1]: the entry's size */
	uint64_t *lines;       /* lines[ordinal - 1] */
	uint64_t count;
	uint64_t capacity;
	uint64_t size;         /* where the file ends */
	struct imaddr_buf record;
	struct imaddr_buf read_buffer;
	/* Users read ahead by imaddr_spool_preload, looked up before the file. */
	uint64_t *preloaded;   /* their ordinals, ascending */
	size_t *preloaded_at;  /* where each one's entry starts in `arena` */
	size_t preloaded_count;
	struct imaddr_buf arena;
};

/** Creates the temporary file; IMADDR_ERR_IO when it cannot. */
enum imaddr_status imaddr_spool_init(struct imaddr_spool *spool, struct imaddr_error *err);
/**
 * Spools to `file` (a user cache's, which stays the caller's), whose first
 * `size` bytes are kept: new users are written after them, each after its
 * key. `name` is how messages name the file.
 */
void imaddr_spool_init_cache(struct imaddr_spool *spool, FILE *file, uint64_t size,
			     const char *name);
/** Closes (and so deletes) a temporary file and frees the offsets. */
void imaddr_spool_release(struct imaddr_spool *spool);

/**
 * Appends user number count + 1, already encoded as fields.h's spooled user
 * (or a checked user, which starts with one), at `line`; `tag` is what a
 * user cache keeps before it (IMADDR_SPOOL_TAG_SIZE bytes; ignored without).
 * Sets `*offset` and `*size` (when not
 * NULL) to where its entry was written.
 */
enum imaddr_status imaddr_spool_append_encoded(struct imaddr_spool *spool, const uint8_t *tag,
					       const char *encoded, size_t size, uint64_t line,
					       uint64_t *offset, uint32_t *entry_size,
					       struct imaddr_error *err);

/** Appends a user; its ordinal must be count + 1. */
enum imaddr_status imaddr_spool_append(struct imaddr_spool *spool,
				       const struct imaddr_spooled_user *user,
				       struct imaddr_error *err);

/**
 * Appends user number count + 1, at `line`, as the entry an earlier run
 * wrote to the user cache at `offset` (of `entry_size` bytes): nothing is
 * written.
 */
void imaddr_spool_append_kept(struct imaddr_spool *spool, uint64_t offset, uint32_t entry_size,
			      uint64_t line);

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
 * entries; those past it are read from the file when asked for. Replaces
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
 * Calls fn for every user in ordinal order, reading the file in large
 * blocks (sequentially, unless users were kept from earlier runs out of
 * order). Stops at, and returns, the first status other than OK.
 */
enum imaddr_status imaddr_spool_each(struct imaddr_spool *spool, imaddr_spool_fn *fn,
				     void *context, struct imaddr_error *err);

/** Whether a pass over the spool wants user `ordinal`. */
typedef bool imaddr_spool_wanted_fn(const void *context, uint64_t ordinal);

/**
 * imaddr_spool_each for the users `wanted` is true for, reading only the
 * parts of the file that hold them.
 */
enum imaddr_status imaddr_spool_each_wanted(struct imaddr_spool *spool,
					    imaddr_spool_wanted_fn *wanted,
					    const void *wanted_context, imaddr_spool_fn *fn,
					    void *context, struct imaddr_error *err);

#endif /* IMADDR_SPOOL_H */
