/*
 * The summary of a run kept in the report, so that `imaddr report` prints a
 * stored run as the audit printed it without reading the input again: what
 * the summary's printer needs that the report's tables do not say (how the
 * input was read, the counts by code, the first findings of each code, the
 * sets of duplicate users, the changes since the previous run) as one JSON
 * document per run in run_summaries (docs/report-schema.md). The run writes
 * it (sink_report.c), imaddr_report_write_summary reads it back into the
 * same printer (sink_summary.c); imaddr_report_find_run says which stored
 * run a command means. Both are declared in imaddr.h.
 */
#ifndef IMADDR_REPORT_SUMMARY_H
#define IMADDR_REPORT_SUMMARY_H

#include <jansson.h>
#include <sqlite3.h>

#include "imaddr.h"
#include "sink_summary.h"

/* The document's "format": raised when a member changes meaning. */
#define IMADDR_REPORT_SUMMARY_FORMAT 1

/**
 * Stores run `run_id`'s summary: its totals (the input's description
 * included), the summary's notes of its findings, finished, and what changed
 * since the previous run of its label (NULL on the label's first run).
 * Creates run_summaries when the report lacks it. Inside the run's
 * transaction; returns SQLite's result code.
 */
int imaddr_report_summary_save(sqlite3 *db, sqlite3_int64 run_id,
			       const struct imaddr_run_totals *totals,
			       const struct imaddr_summary_notes *notes,
			       const struct imaddr_run_changes *changes);

/**
 * IMADDR_ERR_USAGE: "the report 'path' has no run of label 'label' (its
 * labels: ...)", naming the labels of its newest runs, a few.
 */
enum imaddr_status imaddr_report_summary_unknown_label(sqlite3 *db, const char *path,
						       const char *label, struct imaddr_error *err);

/**
 * The changes since the previous run that run `run_id`'s stored summary
 * holds, into `changes` (its label `label`), pointing into `*document`,
 * which the caller frees with json_decref. A run without a stored summary,
 * or its label's first, has previous_run_id 0. Returns SQLite's result code.
 */
int imaddr_report_summary_changes(sqlite3 *db, sqlite3_int64 run_id, const char *label,
				  struct imaddr_run_changes *changes, json_t **document);

#endif /* IMADDR_REPORT_SUMMARY_H */
