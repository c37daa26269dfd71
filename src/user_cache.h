/*
 * A label's user cache: the users its runs checked, kept beside the report
 * so that the next run of the label takes a record it has seen before (the
 * same bytes in every field the rules read) from the cache instead of
 * checking it again, and leaves it where it is instead of spooling it
 * again. A nightly run over a directory where little changed then checks
 * and writes only what changed.
 *
 * Two files. PATH holds the entries: the spool (spool.h) of every run of the
 * label since the cache last started afresh, each entry after its key.
 * PATH.index lists the users of the label's last successful run in its
 * order: each one's key and where its entry is. A key is a 128-bit hash of
 * the record as the rules see it (its position left out) with a seed secret
 * to the cache, so that a directory's text cannot be chosen to collide;
 * an entry is used only when the check it holds, a hash of its bytes seeded
 * with the key it was found by, holds, so a damaged or cut file costs
 * checks, never a wrong user. Both files begin with the
 * fingerprint of all a check depends on besides the record (the options the
 * rules read, the cluster, the library's build, ICU's version): a run whose
 * fingerprint differs, or that finds the file grown to twice what its last
 * run used, starts the cache afresh. One run uses a cache at a time (a lock
 * on PATH); a run that finds it in use runs without one.
 */
#ifndef IMADDR_USER_CACHE_H
#define IMADDR_USER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "file_windows.h"
#include "imaddr.h"
#include "reader.h"
#include "spool.h"

struct imaddr_user_cache_entry {
	uint8_t key[IMADDR_SPOOL_KEY_SIZE];
	uint64_t offset;        /* where the entry starts in PATH */
};

struct imaddr_user_cache {
	int fd;
	bool created;                               /* by this run */
	char *made_dir;                             /* the directory, when this run made it */
	FILE *file;                                 /* fd, for the spool */
	char *file_buffer;                          /* its stdio buffer */
	char *path;
	char *index_path;
	uint64_t seed[4];                           /* the keys' secret */
	uint64_t fingerprint[4];
	uint64_t size;                              /* PATH's size when opened */
	/* The last run's users, in its order. */
	struct imaddr_user_cache_entry *previous;
	size_t previous_count;
	uint64_t previous_used;                     /* the bytes of PATH they take */
	/* The last run's keys, for users found elsewhere than where a finder looks first. */
	pthread_mutex_t slots_lock;                 /* made when first needed, by either thread */
	uint32_t *slots;                            /* index into previous + 1; 0: empty */
	size_t slot_mask;
	/* This run's users, in its order: the next run's index. */
	struct imaddr_user_cache_entry *current;
	size_t current_count;
	size_t current_capacity;
	uint64_t current_used;
	bool index_written;                         /* or none was needed */
	const char *afresh;                         /* why an existing cache was emptied, or NULL */
	char *staged_index;                         /* written, not yet in place */
};

/*
 * Finding users, on one thread: the reader's and the audit's each have one.
 * A finder looks first after the last user it found, then in the table.
 */
struct imaddr_user_cache_finder {
	size_t cursor;
	struct imaddr_file_windows windows;        /* the entries found, read from PATH */
	struct imaddr_buf record;                  /* a record encoded for its key */
};

void imaddr_user_cache_finder_init(struct imaddr_user_cache_finder *finder);
void imaddr_user_cache_finder_release(struct imaddr_user_cache_finder *finder);

/**
 * Opens (creating it when missing) the cache at `path` for a run whose
 * checks depend on `fingerprint`. `*in_use` is set when another run holds
 * it: the run then goes without, and `cache` is left closed. Fails with
 * IMADDR_ERR_IO when the files cannot be made, read or written.
 */
enum imaddr_status imaddr_user_cache_open(struct imaddr_user_cache *cache, const char *path,
					  const uint64_t fingerprint[4], bool *in_use,
					  struct imaddr_error *err);
/**
 * The cache of the run's label (options->label, else input_name) in
 * options->user_cache_dir, made when missing, for a run with `options`:
 * its fingerprint is what the rules read of them (rules_user.c) and the
 * build (the cache's format, the imaddr and ICU versions, the library's
 * file). As imaddr_user_cache_open otherwise.
 */
enum imaddr_status imaddr_user_cache_open_label(struct imaddr_user_cache *cache,
						const struct imaddr_audit_options *options,
						bool *in_use, struct imaddr_error *err);
/** Closes the files (releasing the lock) and frees the rest. Harmless when closed. */
void imaddr_user_cache_close(struct imaddr_user_cache *cache);
/**
 * After a failed run: closes the cache, and removes it (and its directory)
 * when this run made it, so that a run that read nothing leaves nothing.
 */
void imaddr_user_cache_discard(struct imaddr_user_cache *cache);
/** Whether the cache is open. */
static inline bool imaddr_user_cache_is_open(const struct imaddr_user_cache *cache)
{
	return cache->file != NULL;
}

/**
 * The key of a record read for `cluster` (NULL: none), from its encoding
 * (fields.h): false when the bytes are not one.
 */
bool imaddr_user_cache_encoded_record_key(const struct imaddr_user_cache *cache,
					  const char *encoded, size_t size, const char *cluster,
					  uint8_t key[IMADDR_SPOOL_KEY_SIZE]);
/** The same of `record`, encoded in the finder's scratch. */
void imaddr_user_cache_record_key(const struct imaddr_user_cache *cache,
				  struct imaddr_user_cache_finder *finder,
				  const struct imaddr_record *record, const char *cluster,
				  uint8_t key[IMADDR_SPOOL_KEY_SIZE]);

/** What a new entry of the user encoded at `encoded` keeps before it: a check of `key` and it. */
void imaddr_user_cache_tag(const struct imaddr_user_cache *cache,
			   const uint8_t key[IMADDR_SPOOL_KEY_SIZE], const void *encoded,
			   size_t size, uint8_t tag[IMADDR_SPOOL_TAG_SIZE]);

/**
 * The entry an earlier run wrote for `key`, or NULL: its user's encoding,
 * valid until the finder's next call, of `*encoding_size` bytes; where the
 * entry is in `*offset` and `*entry_size`. Reads from PATH; two threads may
 * call it at once with a finder each.
 */
const char *imaddr_user_cache_find(struct imaddr_user_cache *cache,
				   struct imaddr_user_cache_finder *finder,
				   const uint8_t key[IMADDR_SPOOL_KEY_SIZE], uint64_t *offset,
				   uint32_t *entry_size, size_t *encoding_size);

/** The next user of this run: its key and where its entry is (kept or new). */
void imaddr_user_cache_note(struct imaddr_user_cache *cache,
			    const uint8_t key[IMADDR_SPOOL_KEY_SIZE], uint64_t offset,
			    uint32_t entry_size);

/**
 * This run's entries written out, and its index under a temporary name:
 * called once every user is known and while the outputs finish, so that the
 * commit only has to rename it. Nothing is written when the users are the
 * last run's.
 */
enum imaddr_status imaddr_user_cache_write_index(struct imaddr_user_cache *cache,
						 struct imaddr_error *err);

/**
 * After a successful run: its users made the index the next run finds
 * (written first if imaddr_user_cache_write_index was not called).
 */
enum imaddr_status imaddr_user_cache_commit(struct imaddr_user_cache *cache,
					    struct imaddr_error *err);

#endif /* IMADDR_USER_CACHE_H */
