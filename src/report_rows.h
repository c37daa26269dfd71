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
 * Rows wait in memory and go in this many to a statement: an INSERT ...
 * SELECT reads them through a virtual table (report_rows.c), so that SQLite
 * runs its statement machinery once per batch, not once per row, and is
 * handed each value without a bind. A million users took 0.98 s of CPU
 * bound 64 rows to an INSERT of many VALUES, 0.61 s read this way (the
 * rows alone, outside the audit).
 */
#define IMADDR_REPORT_ROWS_PER_INSERT 1024
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
	sqlite3_stmt *insert;      /* INSERT ... SELECT of the pending rows */
	int numbers;
	int texts;
	unsigned zero_is_null;     /* bit n: number n is NULL when 0 (a line, say) */
	struct imaddr_report_rows_pending {
		sqlite3_int64 number[IMADDR_REPORT_ROWS_MAX_NUMBERS];
		/* offsets in strings; SIZE_MAX for NULL */
		size_t text[IMADDR_REPORT_ROWS_MAX_TEXTS];
		int text_length[IMADDR_REPORT_ROWS_MAX_TEXTS];  /* told to SQLite, which need not count */
	} *rows;                   /* IMADDR_REPORT_ROWS_PER_INSERT of them once prepared */
	size_t count;
	struct imaddr_buf strings;
};

/**
 * Makes the pending rows readable on `db`: call it once per connection,
 * before the first imaddr_report_rows_prepare on it. Returns SQLite's
 * result code.
 */
int imaddr_report_rows_register(sqlite3 *db);

/** Sets `rows` up empty, without a statement; allocates nothing. */
void imaddr_report_rows_init(struct imaddr_report_rows *rows);

/**
 * Prepares the inserts of one run into `table_and_columns`, which is
 * "users (run_id, ...)": the run's id comes first, then `numbers` integer
 * columns, then `texts` text columns. `zero_is_null` has bit n set when
 * number n is stored as NULL when it is 0. Returns SQLite's result code; the
 * statement belongs to `rows` until imaddr_report_rows_finalize.
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

/** Finalizes the statement and drops queued rows; `rows` can be prepared again. */
void imaddr_report_rows_finalize(struct imaddr_report_rows *rows);

/** Finalizes the statement and frees the queued rows. */
void imaddr_report_rows_release(struct imaddr_report_rows *rows);

/**
 * Binds `text`, or NULL when it is NULL. The text is not copied
 * (SQLITE_STATIC): it must outlive the statement's next step.
 */
int imaddr_report_rows_bind_text(sqlite3_stmt *stmt, int index, const char *text);

/** Runs a statement that returns no rows; SQLITE_OK when it went through. */
int imaddr_report_rows_step(sqlite3_stmt *stmt);

#endif /* IMADDR_REPORT_ROWS_H */
