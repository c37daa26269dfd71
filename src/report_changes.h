/*
 * The report's run-to-run comparison: im_address_changes, filled at a run's
 * end by merging its users with the previous run's of the same input.
 */
#ifndef IMADDR_REPORT_CHANGES_H
#define IMADDR_REPORT_CHANGES_H

#include <sqlite3.h>

/**
 * Inserts into im_address_changes a row for each user of run `run_id` and
 * each user of run `previous_run_id` with the same user ID (exactly, byte
 * for byte) whose IM address differs, a missing one included. Both runs'
 * users must be in the database; runs inside the caller's transaction.
 * Returns SQLite's result code.
 */
int imaddr_report_changes_record(sqlite3 *db, sqlite3_int64 run_id,
				 sqlite3_int64 previous_run_id);

#endif /* IMADDR_REPORT_CHANGES_H */
