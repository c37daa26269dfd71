/*
 * The report's history kept as changes: each label's latest run leaves its
 * state in label_states, per user (in the run's order) and per finding the
 * content hash and the id of the version it held, and for a user the
 * ordinal and line that version was written with, so that the next run of
 * the label writes only the users and findings whose hash it does not find,
 * wherever they stand, and ends (sets end_run on) the versions it no longer
 * holds. docs/report-schema.md, "History kept as changes".
 */
#ifndef IMADDR_REPORT_STATE_H
#define IMADDR_REPORT_STATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

/*
 * One version a run holds: its content's hash and its row id; for a user,
 * also the ordinal and line it was written with (user_versions.ordinal and
 * line), from which the run's position of it moves it, a line too far to
 * keep here being IMADDR_REPORT_VERSION_FAR (such a user is always
 * written); for a finding, the ids of the user versions it names, hashed
 * (imaddr_report_versions_users): a finding is held only with the same
 * users, which two users of the same content would otherwise swap.
 */
struct imaddr_report_version {
	uint64_t hash;
	sqlite3_int64 id;
	union {
		struct {
			uint32_t ordinal;
			uint32_t line;
		};
		uint64_t users;
	};
};

#define IMADDR_REPORT_VERSION_FAR UINT32_MAX

/*
 * A run's versions: the users by ordinal (item n - 1 is ordinal n; id 0 for
 * a gap), or the findings in the order the run had them. Owned; `held`
 * marks, for a previous run's, those the current run holds again. `slots` is the index
 * by hash imaddr_report_versions_find builds when first asked.
 */
struct imaddr_report_versions {
	struct imaddr_report_version *items;
	bool *held;
	size_t count;
	size_t capacity;
	uint32_t *slots;        /* item index + 1, 0 for an empty slot */
	size_t slot_mask;
};

void imaddr_report_versions_init(struct imaddr_report_versions *versions);
void imaddr_report_versions_release(struct imaddr_report_versions *versions);
/** Sets item `index` to `item`, growing the array (new items zero). */
void imaddr_report_versions_set(struct imaddr_report_versions *versions, size_t index,
				const struct imaddr_report_version *item);
/**
 * The index of a version not yet held with `hash` (and, unless `users` is
 * NULL, a finding's `users`), or SIZE_MAX when there is none. Marks nothing
 * held. The first call builds an index by hash; the items must not change
 * after it.
 */
size_t imaddr_report_versions_find(struct imaddr_report_versions *versions, uint64_t hash,
				   const uint64_t *users);
/**
 * The id of a finding not yet held with `hash` and `users`, marking it
 * held; 0 when there is none.
 */
sqlite3_int64 imaddr_report_versions_take(struct imaddr_report_versions *versions,
					  uint64_t hash, uint64_t users);

/** A finding's `users`: the user versions it names (0 for none). */
uint64_t imaddr_report_versions_users(sqlite3_int64 user_version,
				      sqlite3_int64 related_version);

/**
 * A row's content hash: its numbers, then its texts (NULL told from ""),
 * each text hashed in place and the hashes combined. Never 0.
 */
uint64_t imaddr_report_state_hash(const uint64_t *numbers, int number_count,
				  const char *const *texts, int text_count);

/**
 * Loads the `what` ("users" or "findings") state `label`'s latest run left,
 * if that run is `run_id`; `*found` false otherwise (no state, another run's,
 * or a report migrated from full copies). Returns SQLite's code.
 */
int imaddr_report_state_load(sqlite3 *db, const char *label, const char *what,
			     sqlite3_int64 run_id, struct imaddr_report_versions *versions,
			     bool *found);

/**
 * Stores `versions` as `label`'s `what` state of run `run_id`. When
 * `unchanged` (the same versions as the state loaded), only the run is
 * written, in place; otherwise the state in place when its size is the same,
 * else replaced. Returns SQLite's code.
 */
int imaddr_report_state_save(sqlite3 *db, const char *label, const char *what,
			     sqlite3_int64 run_id, const struct imaddr_report_versions *versions,
			     bool unchanged);

/**
 * Ends at run `run_id` every version of `previous` not held: `table` is
 * "user_versions" or "finding_versions". Returns SQLite's code.
 */
int imaddr_report_state_end_unheld(sqlite3 *db, const char *table, sqlite3_int64 run_id,
				   const struct imaddr_report_versions *previous);

/**
 * Ends at run `run_id` every version `table` holds for the label's runs
 * before it: a previous run without a state left nothing to match against.
 */
int imaddr_report_state_end_all(sqlite3 *db, const char *table, const char *label,
				sqlite3_int64 run_id);

/*
 * A stretch of user versions of one run, version_lo to version_hi, that a
 * run holds at other places than where they were written: each stands
 * ordinal_shift users and line_shift lines further (user_positions).
 */
struct imaddr_report_position {
	sqlite3_int64 version_lo;
	sqlite3_int64 version_hi;
	int64_t ordinal_shift;
	int64_t line_shift;
};

struct imaddr_report_positions {
	struct imaddr_report_position *items;
	size_t count;
	size_t capacity;
};

void imaddr_report_positions_release(struct imaddr_report_positions *positions);
void imaddr_report_positions_add(struct imaddr_report_positions *positions,
				 const struct imaddr_report_position *position);

/**
 * Sets `count` to the number of stretches the runs of label `label` before
 * run `run_id` still hold: those the next run compares with its own.
 * Returns SQLite's code.
 */
int imaddr_report_positions_count(sqlite3 *db, const char *label, sqlite3_int64 run_id,
				  uint64_t *count);

/**
 * Records `positions` as run `run_id`'s, of label `label`: one the label's
 * previous run held alike is held again, the others are written, and those
 * of the previous run not held again are ended. Sorts `positions`. Returns
 * SQLite's code.
 */
int imaddr_report_positions_save(sqlite3 *db, const char *label, sqlite3_int64 run_id,
				 struct imaddr_report_positions *positions);

#endif /* IMADDR_REPORT_STATE_H */
