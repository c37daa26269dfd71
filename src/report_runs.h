/*
 * A run's row in the report's runs table, apart from its users and findings:
 * inserted when the run begins (its previous run is the latest committed run
 * of its label), finished with its counts, the attribute mapping and the
 * encoding when it ends, with its IM domains and the token that marks it
 * committed (staging.h); its IM domains read back. Each function runs inside
 * the caller's transaction and returns SQLite's result code.
 */
#ifndef IMADDR_REPORT_RUNS_H
#define IMADDR_REPORT_RUNS_H

#include <sqlite3.h>
#include <stdint.h>

#include "imaddr.h"
#include "sink.h"

/** Inserts the run of `info` (NULL: now, this version) under `label`; sets `run_id`. */
int imaddr_report_runs_insert(sqlite3 *db, const struct imaddr_run_info *info, const char *label,
			      sqlite3_int64 *run_id);

/**
 * The run's previous run: its id (0 on a label's first run), its start
 * time (replacing `*previous_started`, which the caller frees) and users.
 */
int imaddr_report_runs_previous(sqlite3 *db, sqlite3_int64 run_id, sqlite3_int64 *previous_id,
				char **previous_started, uint64_t *previous_users);

/** Sets the run's end time, counts, mapping and encoding from `totals` (may be NULL). */
int imaddr_report_runs_finish(sqlite3 *db, sqlite3_int64 run_id,
			      const struct imaddr_run_totals *totals);

/** The run's IM domains, from `totals` (may be NULL). */
int imaddr_report_runs_insert_domains(sqlite3 *db, sqlite3_int64 run_id,
				      const struct imaddr_run_totals *totals);

/** Marks the run committed by `token` once its transaction commits. */
int imaddr_report_runs_record_token(sqlite3 *db, sqlite3_int64 run_id, const char *token);

/** The run's IM domains as imaddr_run_totals holds them, sorted by A-label. */
int imaddr_report_runs_read_domains(sqlite3 *db, sqlite3_int64 run_id,
				    struct imaddr_domain_count **domains, size_t *count);
/** Frees what imaddr_report_runs_read_domains gave. */
void imaddr_report_runs_free_domains(struct imaddr_domain_count *domains, size_t count);

/**
 * IMADDR_ERR_USAGE for run `run_id` that the report cannot show: "the
 * report 'path' has no run N", saying whether it was pruned and which runs
 * it has.
 */
enum imaddr_status imaddr_report_runs_missing(sqlite3 *db, const char *path,
					      sqlite3_int64 run_id, struct imaddr_error *err);

#endif /* IMADDR_REPORT_RUNS_H */
