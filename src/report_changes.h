/*
 * The report's run-to-run comparison: im_address_changes, filled at a run's
 * end by merging its users with the previous run's of the same input.
 */
#ifndef IMADDR_REPORT_CHANGES_H
#define IMADDR_REPORT_CHANGES_H

#include <sqlite3.h>

#include "imaddr.h"

/* IMADDR_CHANGES_EXAMPLES as SQL text (a LIMIT). */
#define IMADDR_REPORT_CHANGES_EXAMPLES_SQL "5"
_Static_assert(IMADDR_CHANGES_EXAMPLES == 5, "the LIMIT above names them");
#define IMADDR_REPORT_HISTORY_RUNS_SQL "60"
_Static_assert(IMADDR_HISTORY_RUNS == 60, "the LIMIT above names them");

/**
 * Inserts into im_address_changes a row for each user of run `run_id` and
 * each user of run `previous_run_id` with the same user ID (exactly, byte
 * for byte) whose IM address differs, a missing one included. Both runs'
 * users must be in the database; runs inside the caller's transaction.
 * When `changes` is not NULL, sets its users_added and users_removed (for
 * each user ID, and for users without one, how many more or fewer users
 * have it than in the previous run, so that previous_users + added -
 * removed is this run's count) and im_addresses_changed (the rows
 * inserted). Returns SQLite's result code.
 */
int imaddr_report_changes_record(sqlite3 *db, sqlite3_int64 run_id,
				 sqlite3_int64 previous_run_id,
				 struct imaddr_run_changes *changes);

/**
 * Counts the new and resolved findings of run `run_id` against its
 * previous run by code and severity (the new_findings and resolved_findings
 * views) into `changes`, and describes the first IMADDR_CHANGES_EXAMPLES new
 * ones, errors first, in `examples` ("line 4 [mail]: message"), which the
 * caller frees; changes->examples points at them. Returns SQLite's code.
 */
int imaddr_report_changes_findings(sqlite3 *db, sqlite3_int64 run_id,
				   struct imaddr_run_changes *changes,
				   char *examples[IMADDR_CHANGES_EXAMPLES]);

/* A label's last runs, as imaddr_run_changes.history points at them. */
struct imaddr_report_history {
	size_t count;
	struct imaddr_run_point points[IMADDR_HISTORY_RUNS];
	char started[IMADDR_HISTORY_RUNS][32];
};

/**
 * Reads into `history` the last IMADDR_HISTORY_RUNS runs of run `run_id`'s
 * label up to it (its counts must be written), oldest first, and points
 * changes->history at them. Returns SQLite's result code.
 */
int imaddr_report_changes_history(sqlite3 *db, sqlite3_int64 run_id,
				  struct imaddr_report_history *history,
				  struct imaddr_run_changes *changes);

#endif /* IMADDR_REPORT_CHANGES_H */
