#include "report_rows.h"

#include <limits.h>
#include <stdlib.h>
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
 * The pending rows as a table SQLite can read: the eponymous virtual table
 * imaddr_pending_rows(source), where `source` is a struct imaddr_report_rows
 * bound as a pointer (sqlite3_bind_pointer), so that nothing of it reaches
 * the report file's schema and no other connection can read it. Its columns
 * are the widest row's numbers (n0...) and texts (t0...); a statement
 * selects those its table has.
 */
#define POINTER_TYPE "imaddr_report_rows"
#define COLUMN_SOURCE (IMADDR_REPORT_ROWS_MAX_NUMBERS + IMADDR_REPORT_ROWS_MAX_TEXTS)
_Static_assert(IMADDR_REPORT_ROWS_MAX_NUMBERS == 6 && IMADDR_REPORT_ROWS_MAX_TEXTS == 12,
	       "the declaration below names every column");
#define PENDING_DECLARATION                                                              \
	"CREATE TABLE x(n0, n1, n2, n3, n4, n5, t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10," \
	" t11, source HIDDEN)"

struct pending_cursor {
	sqlite3_vtab_cursor base;
	const struct imaddr_report_rows *rows;   /* NULL: no rows */
	size_t at;
};

static int pending_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
			   sqlite3_vtab **vtab, char **error)
{
	int rc = sqlite3_declare_vtab(db, PENDING_DECLARATION);
	if (rc != SQLITE_OK)
		return rc;
	*vtab = sqlite3_malloc(sizeof(**vtab));
	if (!*vtab)
		return SQLITE_NOMEM;
	memset(*vtab, 0, sizeof(**vtab));
	return SQLITE_OK;
}

static int pending_disconnect(sqlite3_vtab *vtab)
{
	sqlite3_free(vtab);
	return SQLITE_OK;
}

/* Only with its source: without one there is nothing to read. */
static int pending_best_index(sqlite3_vtab *vtab, sqlite3_index_info *info)
{
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *constraint = &info->aConstraint[i];
		if (constraint->iColumn != COLUMN_SOURCE ||
		    constraint->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		if (!constraint->usable)
			return SQLITE_CONSTRAINT;
		info->aConstraintUsage[i].argvIndex = 1;
		info->aConstraintUsage[i].omit = 1;
		info->estimatedCost = IMADDR_REPORT_ROWS_PER_INSERT;
		info->estimatedRows = IMADDR_REPORT_ROWS_PER_INSERT;
		return SQLITE_OK;
	}
	return SQLITE_CONSTRAINT;
}

static int pending_open(sqlite3_vtab *vtab, sqlite3_vtab_cursor **cursor)
{
	struct pending_cursor *pending = sqlite3_malloc(sizeof(*pending));
	if (!pending)
		return SQLITE_NOMEM;
	memset(pending, 0, sizeof(*pending));
	*cursor = &pending->base;
	return SQLITE_OK;
}

static int pending_close(sqlite3_vtab_cursor *cursor)
{
	sqlite3_free(cursor);
	return SQLITE_OK;
}

static int pending_filter(sqlite3_vtab_cursor *cursor, int index_number,
			  const char *index_string, int argc, sqlite3_value **argv)
{
	struct pending_cursor *pending = (struct pending_cursor *)cursor;
	pending->rows = argc == 1 ? sqlite3_value_pointer(argv[0], POINTER_TYPE) : NULL;
	pending->at = 0;
	return SQLITE_OK;
}

static int pending_next(sqlite3_vtab_cursor *cursor)
{
	((struct pending_cursor *)cursor)->at++;
	return SQLITE_OK;
}

static int pending_eof(sqlite3_vtab_cursor *cursor)
{
	const struct pending_cursor *pending = (const struct pending_cursor *)cursor;
	return !pending->rows || pending->at >= pending->rows->count;
}

static int pending_column(sqlite3_vtab_cursor *cursor, sqlite3_context *context, int column)
{
	const struct pending_cursor *pending = (const struct pending_cursor *)cursor;
	const struct imaddr_report_rows *rows = pending->rows;
	const struct imaddr_report_rows_pending *row = &rows->rows[pending->at];

	if (column < IMADDR_REPORT_ROWS_MAX_NUMBERS) {
		if (column >= rows->numbers ||
		    (!row->number[column] && (rows->zero_is_null & (1u << column))))
			sqlite3_result_null(context);
		else
			sqlite3_result_int64(context, row->number[column]);
		return SQLITE_OK;
	}
	int text = column - IMADDR_REPORT_ROWS_MAX_NUMBERS;
	if (text >= rows->texts || text >= IMADDR_REPORT_ROWS_MAX_TEXTS ||
	    row->text[text] == SIZE_MAX)
		sqlite3_result_null(context);
	else
		sqlite3_result_text(context, rows->strings.data + row->text[text],
				    row->text_length[text], SQLITE_STATIC);
	return SQLITE_OK;
}

static int pending_rowid(sqlite3_vtab_cursor *cursor, sqlite3_int64 *rowid)
{
	*rowid = (sqlite3_int64)((const struct pending_cursor *)cursor)->at + 1;
	return SQLITE_OK;
}

static const sqlite3_module pending_module = {
	.iVersion = 0,
	.xCreate = NULL,     /* eponymous only: never in a schema */
	.xConnect = pending_connect,
	.xBestIndex = pending_best_index,
	.xDisconnect = pending_disconnect,
	.xOpen = pending_open,
	.xClose = pending_close,
	.xFilter = pending_filter,
	.xNext = pending_next,
	.xEof = pending_eof,
	.xColumn = pending_column,
	.xRowid = pending_rowid,
};

int imaddr_report_rows_register(sqlite3 *db)
{
	return sqlite3_create_module_v2(db, "imaddr_pending_rows", &pending_module, NULL, NULL);
}

/*
 * OR FAIL: a failing row ends the statement without undoing the rows before
 * it. That is all the same here, as any failure rolls the whole run back;
 * but the default (ABORT) makes a statement of many rows keep a statement
 * journal, a copy of every page it changes, and OR FAIL took a million-user
 * run from 2.2 s to 2.0 s.
 */
static int prepare_insert(sqlite3 *db, const char *table_and_columns, sqlite3_int64 run_id,
			  int numbers, int texts, sqlite3_stmt **stmt)
{
	struct imaddr_buf sql;
	imaddr_buf_init(&sql, 0);
	imaddr_buf_appendf(&sql, "INSERT OR FAIL INTO %s SELECT %lld", table_and_columns,
			   (long long)run_id);
	for (int number = 0; number < numbers; number++)
		imaddr_buf_appendf(&sql, ", n%d", number);
	for (int text = 0; text < texts; text++)
		imaddr_buf_appendf(&sql, ", t%d", text);
	imaddr_buf_append_str(&sql, " FROM imaddr_pending_rows(?1)");
	/* It runs once per batch of rows. */
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
	if (numbers > IMADDR_REPORT_ROWS_MAX_NUMBERS || texts > IMADDR_REPORT_ROWS_MAX_TEXTS)
		return SQLITE_RANGE;
	rows->numbers = numbers;
	rows->texts = texts;
	rows->zero_is_null = zero_is_null;
	rows->count = 0;
	imaddr_buf_reset(&rows->strings);
	if (!rows->rows)
		rows->rows = imaddr_xmalloc(IMADDR_REPORT_ROWS_PER_INSERT * sizeof(*rows->rows));
	return prepare_insert(db, table_and_columns, run_id, numbers, texts, &rows->insert);
}

void imaddr_report_rows_finalize(struct imaddr_report_rows *rows)
{
	sqlite3_finalize(rows->insert);
	rows->insert = NULL;
	rows->count = 0;
	imaddr_buf_reset(&rows->strings);
}

void imaddr_report_rows_release(struct imaddr_report_rows *rows)
{
	imaddr_report_rows_finalize(rows);
	free(rows->rows);
	rows->rows = NULL;
	imaddr_buf_release(&rows->strings);
}

int imaddr_report_rows_flush(struct imaddr_report_rows *rows)
{
	int rc = SQLITE_OK;

	if (rows->count) {
		rc = sqlite3_bind_pointer(rows->insert, 1, rows, POINTER_TYPE, NULL);
		if (rc == SQLITE_OK)
			rc = imaddr_report_rows_step(rows->insert);
		sqlite3_reset(rows->insert);
		/* Not left to dangle: the rows' memory moves on. */
		sqlite3_clear_bindings(rows->insert);
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
