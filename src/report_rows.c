#include "report_rows.h"

#include <limits.h>
#include <string.h>

/*
 * Strings are bound SQLITE_STATIC, uncopied: every one outlives the step that
 * reads it. They stay bound, dangling, once the callback has returned, but
 * every parameter is bound again before the next step.
 */
int imaddr_report_rows_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (!text)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

int imaddr_report_rows_step(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * OR FAIL: a failing row ends the statement without undoing the rows before
 * it. That is all the same here, as any failure rolls the whole run back;
 * but the default (ABORT) makes a statement of many rows keep a statement
 * journal, a copy of every page it changes, and OR FAIL took a million-user
 * run from 2.2 s to 2.0 s.
 */
static int prepare_insert(sqlite3 *db, const char *table_and_columns, sqlite3_int64 run_id,
			  int columns, int rows, sqlite3_stmt **stmt)
{
	struct imaddr_buf sql;
	imaddr_buf_init(&sql, 0);
	imaddr_buf_appendf(&sql, "INSERT OR FAIL INTO %s VALUES ", table_and_columns);
	for (int row = 0; row < rows; row++) {
		imaddr_buf_appendf(&sql, "%s(%lld", row ? ", " : "", (long long)run_id);
		for (int column = 0; column < columns; column++)
			imaddr_buf_append_str(&sql, ", ?");
		imaddr_buf_append_char(&sql, ')');
	}
	/* They run once per row or per batch of rows. */
	int rc = sqlite3_prepare_v3(db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
	imaddr_buf_release(&sql);
	return rc;
}

void imaddr_report_rows_init(struct imaddr_report_rows *rows)
{
	memset(rows, 0, sizeof(*rows));
	imaddr_buf_init(&rows->strings, 0);
}

int imaddr_report_rows_prepare(struct imaddr_report_rows *rows, sqlite3 *db,
			       const char *table_and_columns, sqlite3_int64 run_id,
			       int numbers, int texts, unsigned zero_is_null)
{
	rows->numbers = numbers;
	rows->texts = texts;
	rows->zero_is_null = zero_is_null;
	rows->count = 0;
	imaddr_buf_reset(&rows->strings);
	int rc = prepare_insert(db, table_and_columns, run_id, numbers + texts,
				IMADDR_REPORT_ROWS_PER_INSERT, &rows->many);
	if (rc == SQLITE_OK)
		rc = prepare_insert(db, table_and_columns, run_id, numbers + texts, 1, &rows->one);
	return rc;
}

void imaddr_report_rows_finalize(struct imaddr_report_rows *rows)
{
	sqlite3_finalize(rows->many);
	sqlite3_finalize(rows->one);
	rows->many = NULL;
	rows->one = NULL;
	rows->count = 0;
	imaddr_buf_reset(&rows->strings);
}

void imaddr_report_rows_release(struct imaddr_report_rows *rows)
{
	imaddr_report_rows_finalize(rows);
	imaddr_buf_release(&rows->strings);
}

static int bind_row(struct imaddr_report_rows *rows, sqlite3_stmt *stmt, int first,
		    const struct imaddr_report_rows_pending *row)
{
	int rc = SQLITE_OK;
	for (int i = 0; rc == SQLITE_OK && i < rows->numbers; i++) {
		if (!row->number[i] && (rows->zero_is_null & (1u << i)))
			rc = sqlite3_bind_null(stmt, first + i);
		else
			rc = sqlite3_bind_int64(stmt, first + i, row->number[i]);
	}
	for (int i = 0; rc == SQLITE_OK && i < rows->texts; i++) {
		size_t offset = row->text[i];
		if (offset == SIZE_MAX)
			rc = sqlite3_bind_null(stmt, first + rows->numbers + i);
		else
			rc = sqlite3_bind_text(stmt, first + rows->numbers + i,
					       rows->strings.data + offset, row->text_length[i],
					       SQLITE_STATIC);
	}
	return rc;
}

/* A full batch goes in one statement, the rest one by one. */
int imaddr_report_rows_flush(struct imaddr_report_rows *rows)
{
	int columns = rows->numbers + rows->texts;
	int rc = SQLITE_OK;

	if (rows->count == IMADDR_REPORT_ROWS_PER_INSERT) {
		for (int i = 0; rc == SQLITE_OK && i < IMADDR_REPORT_ROWS_PER_INSERT; i++)
			rc = bind_row(rows, rows->many, 1 + i * columns, &rows->rows[i]);
		if (rc == SQLITE_OK)
			rc = imaddr_report_rows_step(rows->many);
		sqlite3_reset(rows->many);
	} else {
		for (size_t i = 0; rc == SQLITE_OK && i < rows->count; i++) {
			rc = bind_row(rows, rows->one, 1, &rows->rows[i]);
			if (rc == SQLITE_OK)
				rc = imaddr_report_rows_step(rows->one);
			sqlite3_reset(rows->one);
		}
	}
	rows->count = 0;
	imaddr_buf_reset(&rows->strings);
	return rc;
}

int imaddr_report_rows_append(struct imaddr_report_rows *rows, const uint64_t *numbers,
			      const char *const *texts)
{
	struct imaddr_report_rows_pending *row = &rows->rows[rows->count++];
	for (int i = 0; i < rows->numbers; i++)
		row->number[i] = numbers[i] > INT64_MAX ? INT64_MAX : (sqlite3_int64)numbers[i];
	for (int i = 0; i < rows->texts; i++) {
		row->text[i] = texts[i] ? rows->strings.len : SIZE_MAX;
		if (texts[i]) {
			size_t length = strlen(texts[i]);
			/* SQLite takes at most INT_MAX bytes; a run's values are far shorter. */
			row->text_length[i] = length > INT_MAX ? -1 : (int)length;
			imaddr_buf_append(&rows->strings, texts[i], length + 1);
		}
	}
	return rows->count == IMADDR_REPORT_ROWS_PER_INSERT ? imaddr_report_rows_flush(rows)
							     : SQLITE_OK;
}
