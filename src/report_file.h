/*
 * The SQLite report as a file: opening it (refusing what is not a report
 * this imaddr appends to, by its header), creating and removing it, the
 * connection's settings for a run's load, the one way its errors are worded,
 * and the question a staged output's journal asks it after a kill (did the
 * run with this token commit?). The schema itself is report_schema.c's.
 */
#ifndef IMADDR_REPORT_FILE_H
#define IMADDR_REPORT_FILE_H

#include <sqlite3.h>
#include <stdbool.h>

#include "imaddr.h"
#include "report_schema.h"

/**
 * Everything that can be checked before a run without writing: `path` must
 * name a regular file that is a report this imaddr appends to (see
 * imaddr_report_file_check), or a missing file in a directory that can
 * take a new one. For an existing file, `*db` is an open connection (see
 * imaddr_report_file_connect) the caller closes; opening it rolls back a
 * hot journal a killed run left. For a missing file, `*db` is NULL: it is
 * created only when the run begins. The first call turns SQLite's memory
 * statistics off (see imaddr_sink_report_open). Fails with IMADDR_ERR_DB,
 * naming the path; `*db` is then NULL.
 */
enum imaddr_status imaddr_report_file_open(const char *path, int busy_timeout_ms,
					   sqlite3 **db, struct imaddr_error *err);

/**
 * Opens the report at `path` only to read it (imaddr report): it must be an
 * imaddr report of this schema version with at least its schema, else
 * IMADDR_ERR_DB naming the path. Statements wait up to 30 s for a run that
 * is committing. `*db` is then the caller's to close, also on failure.
 */
enum imaddr_status imaddr_report_file_open_read(const char *path, sqlite3 **db,
						struct imaddr_error *err);

/**
 * Opens a connection to the existing file `path` for reading and writing,
 * for one thread. Every statement that finds the file locked by another
 * connection, the first one included, retries for up to `busy_timeout_ms`
 * before it fails with SQLITE_BUSY. Fails when SQLite cannot open the file
 * or can only read it; `*db` is then still set, and the caller closes it.
 */
enum imaddr_status imaddr_report_file_connect(const char *path, int busy_timeout_ms,
					      sqlite3 **db, struct imaddr_error *err);

/**
 * Tells a report this imaddr can append to (IMADDR_REPORT_KIND_CURRENT) or
 * an empty database (IMADDR_REPORT_KIND_EMPTY) from any other SQLite file,
 * by its header; refuses one of another program and one of another schema
 * version with IMADDR_ERR_DB. Reads only.
 */
enum imaddr_status imaddr_report_file_check(sqlite3 *db, const char *path,
					    enum imaddr_report_kind *kind,
					    struct imaddr_error *err);

/**
 * Creates `path` unless it exists; `*created` tells whether this call
 * created it, so that a report someone else creates meanwhile is used but
 * never removed by imaddr_report_file_remove.
 */
enum imaddr_status imaddr_report_file_create(const char *path, bool *created,
					     struct imaddr_error *err);

/** Removes `path` and any journal SQLite left beside it; errors are ignored. */
void imaddr_report_file_remove(const char *path);

/**
 * Sets the connection up for a run's bulk load (page size, cache, syncs);
 * returns SQLite's result code.
 */
int imaddr_report_file_configure(sqlite3 *db);

/**
 * Makes every statement of `db` that finds the file locked by another
 * connection retry for up to `timeout_ms` (none when 0 or less), and stop
 * retrying as soon as imaddr_stop_requested(); returns SQLite's result code.
 */
int imaddr_report_file_wait(sqlite3 *db, int timeout_ms);

/** Whether the last statement on `db` failed because a stop cut its wait for a lock short. */
bool imaddr_report_file_wait_cut_short(sqlite3 *db);

/** Fills `err` with the interruption of a wait for `path`'s lock: IMADDR_ERR_INTERRUPTED. */
enum imaddr_status imaddr_report_file_interrupted(const char *path, struct imaddr_error *err);

/**
 * Fills `err` with "cannot <doing> report '<path>': <SQLite's message>"
 * and returns IMADDR_ERR_DB, so that a failing call reads `return
 * imaddr_report_file_fail(db, path, "write", err)`; IMADDR_ERR_INTERRUPTED
 * when a stop cut the statement's wait for a lock short.
 */
enum imaddr_status imaddr_report_file_fail(sqlite3 *db, const char *path, const char *doing,
					   struct imaddr_error *err);

/**
 * Whether the report at `path` committed the run whose token is `token`
 * (its run_commits table holds it); a missing or empty file holds nothing.
 * Waits up to `wait_ms` for a writer's lock. IMADDR_ERR_DB when the file
 * cannot be read. It is an imaddr_staging_decide_fn (staging.h).
 */
enum imaddr_status imaddr_report_holds_token(const char *path, const char *token, int wait_ms,
					     bool *held, struct imaddr_error *err);

#endif /* IMADDR_REPORT_FILE_H */
