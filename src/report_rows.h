/*
 * The report's rows inserted many to a statement (users and findings), and
 * the binding conventions every insert of the report follows.
 */
#ifndef IMADDR_REPORT_ROWS_H
#define IMADDR_REPORT_ROWS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "buffer.h"

/*
 * Rows are inserted this many to a statement: one INSERT of many rows runs
 * SQLite's statement machinery once, and took a million users from 1.6 s to
 * 1.1 s. The last few of a run go in one by one.
 */
#define IMADDR_REPORT_ROWS_PER_INSERT 64
/* The widest row a batch takes, after its run_id. */
#define IMADDR_REPORT_ROWS_MAX_NUMBERS 6
#define IMADDR_REPORT_ROWS_MAX_TEXTS 12

/*
 * Rows of one table waiting for their INSERT, their texts copied: a sink
 * callback's strings are only valid during the callback. Each row is the
 * run's id (inline in the statement), then `numbers` integers, then `texts`
 * strings, in the order of the statement's columns. Owned by the
 * imaddr_report_rows_* functions; the fields are theirs.
 */
struct imaddr_report_rows {
	sqlite3_stmt *many;        /* IMADDR_REPORT_ROWS_PER_INSERT rows */
	sqlite3_stmt *one;         /* one row */
	int numbers;
	int texts;
	unsigned zero_is_null;     /* bit n: number n is NULL when 0 (a line, say) */
	struct imaddr_report_rows_pending {
		sqlite3_int64 number[IMADDR_REPORT_ROWS_MAX_NUMBERS];
		/* offsets in strings; SIZE_MAX for NULL */
		size_t text[IMADDR_REPORT_ROWS_MAX_TEXTS];
		int text_length[IMADDR_REPORT_ROWS_MAX_TEXTS];  /* told to SQLite, which need not count */
	} rows[IMADDR_REPORT_ROWS_PER_INSERT];
	size_t count;
	struct imaddr_buf strings;
};

/** Sets `rows` up empty, without statements; allocates nothing. */
void imaddr_report_rows_init(struct imaddr_report_rows *rows);

/**
 * Prepares the inserts of one run into `table_and_columns`, which is
 * "users (run_id, ...)": the run's id comes first, then `numbers` integer
 * columns, then `texts` text columns. `zero_is_null` has bit n set when
 * number n is stored as NULL when it is 0. Returns SQLite's result code; the
 * statements belong to `rows` until imaddr_report_rows_finalize.
 */
int imaddr_report_rows_prepare(struct imaddr_report_rows *rows, sqlite3 *db,
			       const char *table_and_columns, sqlite3_int64 run_id,
			       int numbers, int texts, unsigned zero_is_null);

/**
 * Queues a row (`numbers` and `texts` as many as the columns; a NULL text is
 * stored as NULL) and inserts the queued rows when there are enough for one
 * statement. The texts are copied. Numbers past INT64_MAX are stored as it.
 * Returns SQLite's result code of that insert.
 */
int imaddr_report_rows_append(struct imaddr_report_rows *rows, const uint64_t *numbers,
			      const char *const *texts);

/** Inserts every queued row; returns SQLite's result code. */
int imaddr_report_rows_flush(struct imaddr_report_rows *rows);

/** Finalizes the statements and drops queued rows; `rows` can be prepared again. */
void imaddr_report_rows_finalize(struct imaddr_report_rows *rows);

/** Finalizes the statements and frees the copied texts. */
void imaddr_report_rows_release(struct imaddr_report_rows *rows);

/**
 * Binds `text`, or NULL when it is NULL. The text is not copied
 * (SQLITE_STATIC): it must outlive the statement's next step.
 */
int imaddr_report_rows_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/** Runs a statement that returns no rows; SQLITE_OK when it went through. */
int imaddr_report_rows_step(sqlite3_stmt *stmt);

#endif /* IMADDR_REPORT_ROWS_H */
