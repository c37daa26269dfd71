#include "report_db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "sink.h"
#include "status.h"

/*
 * The page cache of the run's connection, in KiB (a negative cache_size).
 * The load appends, so the cache mostly holds the pages being filled and the
 * later runs' findings indexes, which take entries at random places; it is
 * also the sorter's memory when a run is compared with the previous one. It
 * is most of this module's memory, and the whole program must stay well under
 * 250 MB for a million users.
 */
#define CACHE_KIB 32768

/*
 * The page size of a new report. Against SQLite's 4 KiB, 16 KiB pages took
 * the load's system time from 0.5 s to 0.2 s for a million users (fewer,
 * larger writes) and split pages less often; it applies only to a new file.
 */
#define PAGE_SIZE 16384

/*
 * Users and findings are inserted this many to a statement: one INSERT of
 * many rows runs SQLite's statement machinery once, and took a million users
 * from 1.6 s to 1.1 s. The last few of a run go in one by one.
 */
#define ROWS_PER_INSERT 64
/* The columns after run_id, numbers first: see prepare_inserts(). */
#define USER_NUMBERS 3
#define USER_TEXTS 9
#define FINDING_NUMBERS 3
#define FINDING_TEXTS 8
#define ROW_MAX_NUMBERS 3
#define ROW_MAX_TEXTS 9
_Static_assert(USER_NUMBERS <= ROW_MAX_NUMBERS && FINDING_NUMBERS <= ROW_MAX_NUMBERS &&
	       USER_TEXTS <= ROW_MAX_TEXTS && FINDING_TEXTS <= ROW_MAX_TEXTS,
	       "a row batch holds the widest row");

/*
 * Rows waiting for their INSERT, their texts copied: a callback's strings
 * are only valid during the callback. Each row is the run's id (inline in
 * the statement), then `numbers` integers, then `texts` strings, in the
 * order of the statement's columns.
 */
struct row_batch {
	sqlite3_stmt *many;        /* ROWS_PER_INSERT rows */
	sqlite3_stmt *one;         /* one row */
	int numbers;
	int texts;
	unsigned zero_is_null;     /* bit n: number n is NULL when 0 (a line, say) */
	struct pending_row {
		sqlite3_int64 number[ROW_MAX_NUMBERS];
		size_t text[ROW_MAX_TEXTS];   /* offsets in strings; SIZE_MAX for NULL */
	} rows[ROWS_PER_INSERT];
	size_t count;
	struct imaddr_buf strings;
};

/* users.id is run_id * 2^32 + ordinal: see the schema. */
#define ORDINALS_PER_RUN ((sqlite3_int64)1 << 32)

/*
 * A second imaddr appending to the same report waits for the first one's
 * transaction to end rather than failing at once; a reader in the middle of a
 * long query delays the commit the same way.
 */
#define BUSY_TIMEOUT_MS 30000

/* "1970-01-01T00:00:00Z" and its NUL */
#define UTC_TIME_SIZE 21

enum report_state {
	REPORT_OPENED,   /* checked, nothing written */
	REPORT_BEGUN,    /* inside the run's transaction */
	REPORT_DONE      /* committed or thrown away */
};

struct report_db {
	struct imaddr_sink base;
	char *path;
	sqlite3 *db;            /* NULL until begin when the file does not exist */
	bool created;           /* this run created the file: throwing away removes it */
	bool new_schema;        /* this run creates the schema and its indexes */
	bool indexed;           /* the findings indexes exist (input_end made them) */
	enum report_state state;
	sqlite3_int64 run_id;
	sqlite3_int64 previous_run_id;  /* 0 for the first run of an input */
	struct row_batch users;
	struct row_batch findings;
};

/*
 * The schema, version 2. A run is one contiguous range of every table and
 * index, so that the load appends and a question about one run reads one
 * range:
 *
 * - users is a rowid table whose id is run_id * 2^32 + ordinal (USER_ID_SQL),
 *   so that a user is found by run and ordinal, and a run's users are read,
 *   without any index. Rows are appended in id order, the cheapest insert
 *   SQLite has: a WITHOUT ROWID table keyed on (run_id, ordinal) cost the
 *   load a fifth more, and any index on users a third (see
 *   docs/performance.md).
 * - findings carry the user ID of their user, so that run-to-run matching
 *   reads findings alone; users has no index by user ID.
 * - im_address_changes is a table the run fills at its end, by merging its
 *   users with the previous run's, both read in user ID order.
 *
 * Strings are NULL when absent; so are line and related_ordinal when 0.
 *
 * The run_id foreign keys are declarations for readers and tools: imaddr
 * does not turn foreign_keys on (each check would cost a lookup per row),
 * but someone pruning old runs can, and ON DELETE CASCADE then deletes a
 * run's users, findings, changes and domains with it.
 */
#define USER_ID_SQL(run, ordinal) "(" run " * 4294967296 + " ordinal ")"
#define RUN_USERS_SQL(alias, run) \
	alias ".id BETWEEN " run " * 4294967296 AND " run " * 4294967296 + 4294967295"

static const char schema_sql[] =
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  previous_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,\n"
	"  started TEXT NOT NULL,\n"
	"  finished TEXT,\n"
	"  version TEXT NOT NULL,\n"
	"  input TEXT,\n"
	"  scheme TEXT NOT NULL CHECK (scheme IN ('userid', 'directory-uri')),\n"
	"  default_domain TEXT,\n"
	"  im_domains TEXT,\n"
	"  users INTEGER,\n"
	"  users_with_im_address INTEGER,\n"
	"  users_with_error INTEGER,\n"
	"  errors INTEGER,\n"
	"  warnings INTEGER,\n"
	"  infos INTEGER\n"
	");\n"
	"CREATE TABLE users (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  ordinal INTEGER NOT NULL,\n"
	"  line INTEGER,\n"
	"  dn TEXT,\n"
	"  user_id TEXT,\n"
	"  mail TEXT,\n"
	"  first_name TEXT,\n"
	"  last_name TEXT,\n"
	"  directory_uri TEXT,\n"
	"  current_uri TEXT,\n"
	"  im_address TEXT,\n"
	"  im_domain TEXT\n"
	");\n"
	/*
	 * line and dn only for findings that belong to no user (ordinal 0),
	 * such as a skipped row; a user's finding takes them from users.
	 */
	"CREATE TABLE findings (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  ordinal INTEGER NOT NULL,\n"
	"  line INTEGER,\n"
	"  dn TEXT,\n"
	"  user_id TEXT,\n"
	"  code TEXT NOT NULL,\n"
	"  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),\n"
	"  field TEXT,\n"
	"  value TEXT,\n"
	"  related_ordinal INTEGER,\n"
	"  message TEXT,\n"
	"  suggestion TEXT\n"
	");\n"
	"CREATE TABLE im_address_changes (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  previous_run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,\n"
	"  user_id TEXT NOT NULL,\n"
	"  ordinal INTEGER NOT NULL,\n"
	"  previous_ordinal INTEGER NOT NULL,\n"
	"  previous_im_address TEXT,\n"
	"  im_address TEXT,\n"
	"  PRIMARY KEY (run_id, ordinal, previous_ordinal)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE domains (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,\n"
	"  ascii TEXT NOT NULL,\n"
	"  unicode TEXT,\n"
	"  users INTEGER NOT NULL,\n"
	"  configured INTEGER NOT NULL,\n"
	"  PRIMARY KEY (run_id, ascii)\n"
	") WITHOUT ROWID;\n"
	"CREATE VIEW latest_run AS\n"
	"  SELECT * FROM runs ORDER BY id DESC LIMIT 1;\n"
	"CREATE VIEW finding_rows AS\n"
	"  SELECT f.run_id, f.id AS finding_id, f.ordinal,\n"
	"         coalesce(u.line, f.line) AS line, coalesce(u.dn, f.dn) AS dn, f.user_id,\n"
	"         f.code, f.severity, f.field, f.value, f.message, f.suggestion,\n"
	"         f.related_ordinal, r.line AS related_line, r.dn AS related_dn,\n"
	"         r.user_id AS related_user_id\n"
	"  FROM findings AS f\n"
	"  LEFT JOIN users AS u ON u.id = " USER_ID_SQL("f.run_id", "f.ordinal") "\n"
	"  LEFT JOIN users AS r ON r.id = " USER_ID_SQL("f.run_id", "f.related_ordinal") ";\n"
	/* From the findings, so that a filter on run_id reads one run's. */
	"CREATE VIEW error_users AS\n"
	"  SELECT u.id, e.run_id, e.ordinal, u.line, u.dn, u.user_id, u.mail,\n"
	"         u.first_name, u.last_name, u.directory_uri, u.current_uri,\n"
	"         u.im_address, u.im_domain\n"
	"  FROM (SELECT DISTINCT run_id, ordinal FROM findings\n"
	"        WHERE severity = 'error' AND ordinal <> 0) AS e\n"
	"  JOIN users AS u ON u.id = " USER_ID_SQL("e.run_id", "e.ordinal") ";\n"
	"CREATE VIEW code_counts AS\n"
	"  SELECT run_id, code, severity, count(*) AS count\n"
	"  FROM findings GROUP BY run_id, code, severity;\n"
	/*
	 * A user's finding matches one of the other run on user ID, code and
	 * field, one lookup in findings_by_code each (severity follows from the
	 * code). A finding of no user (ordinal 0) has no user ID and matches on
	 * code, field and value instead.
	 */
	"CREATE VIEW new_findings AS\n"
	"  SELECT r.id AS run_id, r.previous_run_id, f.id AS finding_id, f.ordinal,\n"
	"         f.user_id, f.code, f.severity, f.field, f.value, f.message\n"
	"  FROM runs AS r\n"
	"  JOIN findings AS f ON f.run_id = r.id\n"
	"  WHERE r.previous_run_id IS NOT NULL\n"
	"    AND NOT EXISTS (SELECT 1 FROM findings AS pf\n"
	"                    WHERE pf.run_id = r.previous_run_id AND pf.code = f.code\n"
	"                      AND pf.severity = f.severity AND pf.user_id IS f.user_id\n"
	"                      AND pf.field IS f.field AND (pf.ordinal <> 0) = (f.ordinal <> 0)\n"
	"                      AND (f.ordinal <> 0 OR pf.value IS f.value));\n"
	"CREATE VIEW resolved_findings AS\n"
	"  SELECT r.id AS run_id, r.previous_run_id, pf.id AS previous_finding_id,\n"
	"         pf.ordinal AS previous_ordinal, pf.user_id, pf.code, pf.severity,\n"
	"         pf.field, pf.value, pf.message\n"
	"  FROM runs AS r\n"
	"  JOIN findings AS pf ON pf.run_id = r.previous_run_id\n"
	"  WHERE NOT EXISTS (SELECT 1 FROM findings AS f\n"
	"                    WHERE f.run_id = r.id AND f.code = pf.code\n"
	"                      AND f.severity = pf.severity AND f.user_id IS pf.user_id\n"
	"                      AND f.field IS pf.field AND (f.ordinal <> 0) = (pf.ordinal <> 0)\n"
	"                      AND (pf.ordinal <> 0 OR f.value IS pf.value));\n";

/*
 * Indexes for the questions asked after the run; the load itself looks
 * nothing up. The first run of a report creates them when its input ends
 * (report_input_end): by sorting the findings of the read, which is cheaper
 * than keeping the indexes up to date during it, and while the audit's
 * thread looks for duplicates, whose findings then keep them up to date.
 * Sorting after the last finding instead left 0.2 s at the very end of a
 * million-user run with nothing to overlap it; keeping them up to date from
 * the start cost the report's thread 0.3 s more. Later runs keep them up to
 * date, since rebuilding would sort every earlier run again.
 */
static const char findings_indexes_sql[] =
	/*
	 * code_counts reads it alone, and new_findings and resolved_findings
	 * look a finding up by run, code, severity, user ID and field.
	 */
	"CREATE INDEX findings_by_code ON findings (run_id, code, severity, user_id, field);\n"
	/* error_users, and users' questions about one user. */
	"CREATE INDEX findings_by_user ON findings (run_id, ordinal);\n";

static const char insert_run_sql[] =
	"INSERT INTO runs (previous_run_id, started, version, input, scheme,\n"
	"                  default_domain, im_domains)\n"
	"VALUES ((SELECT max(id) FROM runs WHERE input IS ?1), ?2, ?3, ?1, ?4, ?5, ?6)";

static const char finish_run_sql[] =
	"UPDATE runs SET finished = ?2, users = ?3, users_with_im_address = ?4,\n"
	"  users_with_error = ?5, errors = ?6, warnings = ?7, infos = ?8\n"
	"WHERE id = ?1";

static const char insert_domain_sql[] =
	"INSERT INTO domains (run_id, ascii, unicode, users, configured)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5)";

static enum imaddr_status db_error(const struct report_db *report, const char *doing,
				   struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot %s report '%s': %s", doing,
				report->path, sqlite3_errmsg(report->db));
}

/*
 * Strings are bound SQLITE_STATIC, uncopied: every one outlives the step that
 * reads it. They stay bound, dangling, once the callback has returned, but
 * every parameter is bound again before the next step.
 */
static int bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (!text)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* A buffer's bytes as TEXT; it must outlive the statement's next step. */
static int bind_blob_text(sqlite3_stmt *stmt, int index, const struct imaddr_buf *text)
{
	return sqlite3_bind_text(stmt, index, text->len ? text->data : "", (int)text->len,
				 SQLITE_STATIC);
}

static int bind_count(sqlite3_stmt *stmt, int index, uint64_t count)
{
	return sqlite3_bind_int64(stmt, index,
				  count > INT64_MAX ? INT64_MAX : (sqlite3_int64)count);
}

/* Runs a statement that returns no rows; SQLITE_OK when it went through. */
static int step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v2(db, sql, -1, stmt, NULL);
}

/* For the statements that run once per user or finding. */
static int prepare_persistent(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
}

static void format_utc(int64_t unix_time, char out[UTC_TIME_SIZE])
{
	time_t seconds = (time_t)unix_time;
	struct tm tm;

	if (!gmtime_r(&seconds, &tm) ||
	    !strftime(out, UTC_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, UTC_TIME_SIZE, "1970-01-01T00:00:00Z");
}

enum report_kind {
	REPORT_KIND_EMPTY,     /* a new or empty database: begin makes the schema */
	REPORT_KIND_CURRENT    /* an imaddr report this version can append to */
};

/*
 * Tells an imaddr report from other SQLite files by the header fields the
 * schema sets, and refuses one a newer imaddr wrote. Reads only; called when
 * opening, to fail before any work is done, and again inside the run's
 * transaction, where the answer cannot change any more.
 */
static enum imaddr_status check_report(const struct report_db *report, enum report_kind *kind,
				       struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3_int64 application_id = 0, user_version = 0, objects = 0;
	enum imaddr_status status = IMADDR_OK;
	int rc = prepare(report->db,
			 "SELECT (SELECT application_id FROM pragma_application_id),\n"
			 "       (SELECT user_version FROM pragma_user_version),\n"
			 "       (SELECT count(*) FROM sqlite_master)", &stmt);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		application_id = sqlite3_column_int64(stmt, 0);
		user_version = sqlite3_column_int64(stmt, 1);
		objects = sqlite3_column_int64(stmt, 2);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		status = db_error(report, "read", err);
		goto out;
	}
	if (application_id == 0 && user_version == 0 && objects == 0) {
		*kind = REPORT_KIND_EMPTY;
	} else if (application_id != IMADDR_REPORT_DB_APPLICATION_ID || user_version < 1) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"'%s' is not an imaddr report: it is a SQLite database of another program",
			report->path);
	} else if (user_version < IMADDR_REPORT_DB_SCHEMA_VERSION) {
		/*
		 * Version 1 kept users in a table keyed differently; its runs stay
		 * readable with the version 1 views, but are not appended to.
		 */
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"report '%s' has schema version %lld, older than the %d this imaddr "
			"writes: keep it for its runs and start a new report",
			report->path, (long long)user_version, IMADDR_REPORT_DB_SCHEMA_VERSION);
	} else if (user_version > IMADDR_REPORT_DB_SCHEMA_VERSION) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"report '%s' has schema version %lld, newer than the %d this imaddr "
			"writes: use a newer imaddr or another report",
			report->path, (long long)user_version, IMADDR_REPORT_DB_SCHEMA_VERSION);
	} else {
		*kind = REPORT_KIND_CURRENT;
	}
out:
	sqlite3_finalize(stmt);
	return status;
}

static enum imaddr_status open_connection(struct report_db *report, struct imaddr_error *err)
{
	/* One thread uses the connection: SQLite's own mutexes would be waste. */
	int rc = sqlite3_open_v2(report->path, &report->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return db_error(report, "open", err);
	/* SQLite falls back to read-only quietly; the run would fail at BEGIN. */
	if (sqlite3_db_readonly(report->db, "main") == 1)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot write report '%s': the file is read-only",
					report->path);
	return IMADDR_OK;
}

/*
 * A missing report is created only in begin, so here it is enough that the
 * directory exists and can take a new file: a typo in the path then fails
 * before the audit reads a million users.
 */
static enum imaddr_status check_directory(const struct report_db *report,
					  struct imaddr_error *err)
{
	const char *slash = strrchr(report->path, '/');
	enum imaddr_status status = IMADDR_OK;
	char *directory;
	struct stat st;

	if (!slash)
		directory = imaddr_xstrdup(".");
	else if (slash == report->path)
		directory = imaddr_xstrdup("/");
	else
		directory = imaddr_xstrndup(report->path, (size_t)(slash - report->path));

	if (stat(directory, &st) != 0)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot create report '%s': %s",
					  report->path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot create report '%s': %s",
					  report->path, strerror(ENOTDIR));
	else if (access(directory, W_OK | X_OK) != 0)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot create report '%s': %s",
					  report->path, strerror(errno));
	free(directory);
	return status;
}

/* ------------------------------------------------------------------------ */
/* Rows inserted many to a statement. */

/*
 * OR FAIL: a failing row ends the statement without undoing the rows before
 * it. That is all the same here, as any failure rolls the whole run back;
 * but the default (ABORT) makes a statement of many rows keep a statement
 * journal, a copy of every page it changes, and OR FAIL took a million-user
 * run from 2.2 s to 2.0 s.
 */
static int prepare_row_insert(sqlite3 *db, const char *table_and_columns,
			      sqlite3_int64 run_id, int columns, int rows, sqlite3_stmt **stmt)
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
	int rc = prepare_persistent(db, sql.data, stmt);
	imaddr_buf_release(&sql);
	return rc;
}

/* `table_and_columns` is "users (run_id, ...)": the run's id comes first. */
static int row_batch_prepare(sqlite3 *db, struct row_batch *batch, const char *table_and_columns,
			     sqlite3_int64 run_id, int numbers, int texts, unsigned zero_is_null)
{
	batch->numbers = numbers;
	batch->texts = texts;
	batch->zero_is_null = zero_is_null;
	batch->count = 0;
	imaddr_buf_reset(&batch->strings);
	int rc = prepare_row_insert(db, table_and_columns, run_id, numbers + texts,
				    ROWS_PER_INSERT, &batch->many);
	if (rc == SQLITE_OK)
		rc = prepare_row_insert(db, table_and_columns, run_id, numbers + texts, 1,
					&batch->one);
	return rc;
}

static void row_batch_finalize(struct row_batch *batch)
{
	sqlite3_finalize(batch->many);
	sqlite3_finalize(batch->one);
	batch->many = NULL;
	batch->one = NULL;
	batch->count = 0;
	imaddr_buf_reset(&batch->strings);
}

static int bind_row(struct row_batch *batch, sqlite3_stmt *stmt, int first,
		    const struct pending_row *row)
{
	int rc = SQLITE_OK;
	for (int i = 0; rc == SQLITE_OK && i < batch->numbers; i++) {
		if (!row->number[i] && (batch->zero_is_null & (1u << i)))
			rc = sqlite3_bind_null(stmt, first + i);
		else
			rc = sqlite3_bind_int64(stmt, first + i, row->number[i]);
	}
	for (int i = 0; rc == SQLITE_OK && i < batch->texts; i++) {
		size_t offset = row->text[i];
		rc = bind_text(stmt, first + batch->numbers + i,
			       offset == SIZE_MAX ? NULL : batch->strings.data + offset);
	}
	return rc;
}

/* Inserts the pending rows: ROWS_PER_INSERT at once, or one by one. */
static int row_batch_flush(struct row_batch *batch)
{
	int columns = batch->numbers + batch->texts;
	int rc = SQLITE_OK;

	if (batch->count == ROWS_PER_INSERT) {
		for (int i = 0; rc == SQLITE_OK && i < ROWS_PER_INSERT; i++)
			rc = bind_row(batch, batch->many, 1 + i * columns, &batch->rows[i]);
		if (rc == SQLITE_OK)
			rc = step_done(batch->many);
		sqlite3_reset(batch->many);
	} else {
		for (size_t i = 0; rc == SQLITE_OK && i < batch->count; i++) {
			rc = bind_row(batch, batch->one, 1, &batch->rows[i]);
			if (rc == SQLITE_OK)
				rc = step_done(batch->one);
			sqlite3_reset(batch->one);
		}
	}
	batch->count = 0;
	imaddr_buf_reset(&batch->strings);
	return rc;
}

/*
 * Queues a row (`numbers` and `texts` as many as the batch's columns) and
 * inserts the batch when it is full. Numbers past INT64_MAX are stored as it.
 */
static int row_batch_append(struct row_batch *batch, const uint64_t *numbers,
			    const char *const *texts)
{
	struct pending_row *row = &batch->rows[batch->count++];
	for (int i = 0; i < batch->numbers; i++)
		row->number[i] = numbers[i] > INT64_MAX ? INT64_MAX : (sqlite3_int64)numbers[i];
	for (int i = 0; i < batch->texts; i++) {
		row->text[i] = texts[i] ? batch->strings.len : SIZE_MAX;
		if (texts[i])
			imaddr_buf_append(&batch->strings, texts[i], strlen(texts[i]) + 1);
	}
	return batch->count == ROWS_PER_INSERT ? row_batch_flush(batch) : SQLITE_OK;
}

static void release_statements(struct report_db *report)
{
	row_batch_finalize(&report->users);
	row_batch_finalize(&report->findings);
}

static void close_connection(struct report_db *report)
{
	release_statements(report);
	sqlite3_close(report->db);
	report->db = NULL;
}

/* Removes a report this run created, with any journal SQLite left beside it. */
static void remove_created(struct report_db *report)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
	struct imaddr_buf name;

	imaddr_buf_init(&name, 0);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		imaddr_buf_reset(&name);
		imaddr_buf_append_str(&name, report->path);
		imaddr_buf_append_str(&name, suffixes[i]);
		unlink(name.data);
	}
	imaddr_buf_release(&name);
	report->created = false;
}

/*
 * Throws the run away. ROLLBACK undoes every row of the run, so the report
 * is as the previous run left it; a file this run created goes altogether.
 */
static void discard(struct report_db *report)
{
	if (report->db && !sqlite3_get_autocommit(report->db))
		sqlite3_exec(report->db, "ROLLBACK", NULL, NULL, NULL);
	if (report->db)
		close_connection(report);
	if (report->created)
		remove_created(report);
	report->state = REPORT_DONE;
}

/*
 * Creates the file with O_EXCL so that "this run created it" is certain: a
 * report someone else creates meanwhile is never removed by our abort.
 */
static enum imaddr_status create_file(struct report_db *report, struct imaddr_error *err)
{
	int fd = open(report->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	if (fd < 0 && errno != EEXIST)
		return imaddr_error_set(err, IMADDR_ERR_DB, "cannot create report '%s': %s",
					report->path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		report->created = true;
	}
	return IMADDR_OK;
}

/*
 * The connection's settings for a bulk load.
 *
 * The journal stays SQLite's default rollback journal rather than WAL. The
 * run only appends, and pages past the file's size at BEGIN are never
 * journaled, so the journal holds just the few existing pages the run
 * changes; WAL would write every page twice (log, then checkpoint) and grow
 * a -wal file as large as the run. The report also stays one file that can
 * be copied or mailed, and works where WAL does not (network file systems).
 * Either way a killed process leaves the previous report: the next opener
 * finds the hot journal and rolls the half-written run back.
 *
 * synchronous=NORMAL: against a killed process every setting is safe, as the
 * kernel still writes what SQLite handed it; the setting matters only when
 * the machine itself goes down. NORMAL still syncs the journal before the
 * database file is overwritten, which is what keeps the earlier runs safe.
 * OFF would save little (half a second for a million users, as a run is one
 * transaction and syncs only when its cache spills and at the commit) and
 * would risk a corrupt report, every earlier run with it.
 */
static int configure(sqlite3 *db)
{
	char pragmas[128];
	int rc = sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);

	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA page_size = %d; PRAGMA cache_size = -%d; PRAGMA synchronous = NORMAL",
		 PAGE_SIZE, CACHE_KIB);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	return rc;
}

static int create_schema(sqlite3 *db)
{
	char pragmas[128];
	int rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);

	snprintf(pragmas, sizeof(pragmas), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 IMADDR_REPORT_DB_APPLICATION_ID, IMADDR_REPORT_DB_SCHEMA_VERSION);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	return rc;
}

static const char *scheme_name(enum imaddr_scheme scheme)
{
	return scheme == IMADDR_SCHEME_DIRECTORY_URI ? "directory-uri" : "userid";
}

static int insert_run(struct report_db *report, const struct imaddr_run_info *info)
{
	static const struct imaddr_audit_options no_options;
	const struct imaddr_audit_options *options =
		info && info->options ? info->options : &no_options;
	const char *version = info && info->version ? info->version : IMADDR_VERSION;
	int64_t started = info && info->started > 0 ? info->started : (int64_t)time(NULL);
	char started_text[UTC_TIME_SIZE];
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(report->db, insert_run_sql, &stmt);

	format_utc(started, started_text);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 1, options->input_name);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 2, started_text);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 3, version);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 4, scheme_name(options->scheme));
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 5, options->default_domain);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 6, options->im_domains);
	if (rc == SQLITE_OK)
		rc = step_done(stmt);
	if (rc == SQLITE_OK)
		report->run_id = sqlite3_last_insert_rowid(report->db);
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (rc == SQLITE_OK)
		rc = prepare(report->db, "SELECT previous_run_id FROM runs WHERE id = ?1", &stmt);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, report->run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(report->db);
	if (rc == SQLITE_OK)
		report->previous_run_id = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return rc;
}

static int prepare_inserts(struct report_db *report)
{
	/* id, ordinal, line (NULL when 0); dn ... im_domain */
	int rc = row_batch_prepare(report->db, &report->users,
				   "users (run_id, id, ordinal, line, dn, user_id, mail, first_name,"
				   " last_name, directory_uri, current_uri, im_address, im_domain)",
				   report->run_id, USER_NUMBERS, USER_TEXTS, 1u << 2);
	/* ordinal, line and related_ordinal (NULL when 0); dn ... user_id */
	if (rc == SQLITE_OK)
		rc = row_batch_prepare(report->db, &report->findings,
				       "findings (run_id, ordinal, line, related_ordinal, dn, code,"
				       " severity, field, value, message, suggestion, user_id)",
				       report->run_id, FINDING_NUMBERS, FINDING_TEXTS,
				       1u << 1 | 1u << 2);
	return rc;
}

static enum imaddr_status not_begun(const struct report_db *report, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_DB,
				"cannot write report '%s': the run has not begun", report->path);
}

static enum imaddr_status report_begin(struct imaddr_sink *sink,
				       const struct imaddr_run_info *info,
				       struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	enum report_kind kind = REPORT_KIND_EMPTY;
	enum imaddr_status status = IMADDR_OK;
	int rc = SQLITE_OK;

	if (report->state != REPORT_OPENED)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot begin report '%s' twice", report->path);
	report->state = REPORT_BEGUN;
	if (!report->db) {
		status = create_file(report, err);
		if (status == IMADDR_OK)
			status = open_connection(report, err);
		if (status != IMADDR_OK)
			goto out;
	}

	rc = configure(report->db);
	/*
	 * IMMEDIATE takes the write lock now: a second run on the same report
	 * waits here instead of failing at its first insert.
	 */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(report->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		status = db_error(report, "lock", err);
		goto out;
	}
	status = check_report(report, &kind, err);
	if (status != IMADDR_OK)
		goto out;
	report->new_schema = kind == REPORT_KIND_EMPTY;
	if (report->new_schema)
		rc = create_schema(report->db);
	if (rc == SQLITE_OK)
		rc = insert_run(report, info);
	if (rc == SQLITE_OK && report->run_id >= INT64_MAX / ORDINALS_PER_RUN) {
		status = imaddr_error_set(err, IMADDR_ERR_DB, "report '%s' is full: %lld runs",
					  report->path, (long long)report->run_id);
		goto out;
	}
	if (rc == SQLITE_OK)
		rc = prepare_inserts(report);
	if (rc != SQLITE_OK)
		status = db_error(report, "write", err);
out:
	if (status != IMADDR_OK)
		discard(report);
	return status;
}

/* Both batches: at the input's end and the run's, every row must be in. */
static int flush_rows(struct report_db *report)
{
	int rc = row_batch_flush(&report->users);
	if (rc == SQLITE_OK)
		rc = row_batch_flush(&report->findings);
	return rc;
}

static enum imaddr_status report_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				      struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	const char *texts[USER_TEXTS] = {
		user->dn, user->user_id, user->mail, user->first_name, user->last_name,
		user->directory_uri, user->current_uri, user->im_address, user->im_domain,
	};

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (user->ordinal == 0 || user->ordinal >= (uint64_t)ORDINALS_PER_RUN)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot write user %llu to report '%s': a run holds at most "
					"%lld users", (unsigned long long)user->ordinal, report->path,
					(long long)ORDINALS_PER_RUN - 1);
	const uint64_t numbers[USER_NUMBERS] = {
		(uint64_t)report->run_id * (uint64_t)ORDINALS_PER_RUN + user->ordinal,
		user->ordinal, user->line,
	};
	if (row_batch_append(&report->users, numbers, texts) != SQLITE_OK)
		return db_error(report, "write a user to", err);
	return IMADDR_OK;
}

static enum imaddr_status report_finding(struct imaddr_sink *sink,
					 const struct imaddr_finding *finding,
					 struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	bool of_no_user = finding->ordinal == 0;

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	/* A user's line and DN are in users already. */
	const char *texts[FINDING_TEXTS] = {
		of_no_user ? finding->dn : NULL, imaddr_code_name(finding->code),
		imaddr_severity_name(finding->severity), finding->field, finding->value,
		finding->message, finding->suggestion, of_no_user ? NULL : finding->user_id,
	};
	const uint64_t numbers[FINDING_NUMBERS] = {
		finding->ordinal, of_no_user ? finding->line : 0, finding->related_ordinal,
	};
	if (row_batch_append(&report->findings, numbers, texts) != SQLITE_OK)
		return db_error(report, "write a finding to", err);
	return IMADDR_OK;
}

static int finish_run(struct report_db *report, const struct imaddr_run_totals *totals)
{
	char finished[UTC_TIME_SIZE];
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(report->db, finish_run_sql, &stmt);

	format_utc((int64_t)time(NULL), finished);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, report->run_id);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 2, finished);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 3, totals->users);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 4, totals->users_with_im_address);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 5, totals->users_with_error);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 6, totals->by_severity[IMADDR_SEVERITY_ERROR]);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 7, totals->by_severity[IMADDR_SEVERITY_WARNING]);
	if (rc == SQLITE_OK && totals)
		rc = bind_count(stmt, 8, totals->by_severity[IMADDR_SEVERITY_INFO]);
	if (rc == SQLITE_OK)
		rc = step_done(stmt);
	sqlite3_finalize(stmt);
	return rc;
}

static int insert_domains(struct report_db *report, const struct imaddr_run_totals *totals)
{
	sqlite3_stmt *stmt = NULL;
	int rc = prepare(report->db, insert_domain_sql, &stmt);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 1, report->run_id);
	for (size_t i = 0; rc == SQLITE_OK && totals && i < totals->domain_count; i++) {
		const struct imaddr_domain_count *domain = &totals->domains[i];

		rc = bind_text(stmt, 2, domain->ascii);
		if (rc == SQLITE_OK)
			rc = bind_text(stmt, 3, domain->unicode);
		if (rc == SQLITE_OK)
			rc = bind_count(stmt, 4, domain->users);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(stmt, 5, domain->configured);
		if (rc == SQLITE_OK)
			rc = step_done(stmt);
		sqlite3_reset(stmt);
	}
	sqlite3_finalize(stmt);
	return rc;
}

/*
 * im_address_changes, by merging this run's users with the previous run's,
 * each read in user ID order. There is no index by user ID (keeping one cost
 * a million-user load a third more), so SQLite sorts each run once, here,
 * and only when there is a previous run to compare with.
 */
static const char run_users_by_user_id_sql[] =
	"SELECT user_id, ordinal, im_address FROM users\n"
	"WHERE " RUN_USERS_SQL("users", "?1") " AND user_id IS NOT NULL\n"
	"ORDER BY user_id, ordinal";

static const char insert_change_sql[] =
	"INSERT INTO im_address_changes (run_id, previous_run_id, user_id, ordinal,\n"
	"                                previous_ordinal, previous_im_address, im_address)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* The users of one run that share one user ID (namesakes: userid-duplicate). */
struct namesakes {
	sqlite3_stmt *stmt;
	int step;                   /* the last sqlite3_step(): SQLITE_ROW while a row waits */
	struct imaddr_buf user_id;
	struct imaddr_buf im_addresses;  /* the members', each NUL-terminated */
	struct namesake {
		sqlite3_int64 ordinal;
		size_t im_address;  /* offset in im_addresses, or SIZE_MAX for NULL */
	} *members;
	size_t count;
	size_t capacity;
};

/* SQLite's BINARY collation, by which ORDER BY user_id sorted the rows. */
static int compare_binary(const struct imaddr_buf *a, const struct imaddr_buf *b)
{
	int order = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
	if (order)
		return order;
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool same_user_id(sqlite3_stmt *stmt, const struct imaddr_buf *user_id)
{
	const void *text = sqlite3_column_text(stmt, 0);
	size_t len = (size_t)sqlite3_column_bytes(stmt, 0);
	return len == user_id->len && !memcmp(text, user_id->data, len);
}

/* Reads the next user ID's namesakes; count is 0 after the last. */
static int next_namesakes(struct namesakes *group)
{
	group->count = 0;
	if (group->step != SQLITE_ROW)
		return group->step == SQLITE_DONE ? SQLITE_OK : group->step;
	imaddr_buf_reset(&group->user_id);
	imaddr_buf_append(&group->user_id, sqlite3_column_text(group->stmt, 0),
			  (size_t)sqlite3_column_bytes(group->stmt, 0));
	imaddr_buf_reset(&group->im_addresses);
	do {
		const char *im_address = (const char *)sqlite3_column_text(group->stmt, 2);
		if (group->count == group->capacity) {
			group->capacity = group->capacity ? group->capacity * 2 : 4;
			group->members = imaddr_xrealloc(group->members, group->capacity *
							 sizeof(*group->members));
		}
		struct namesake *member = &group->members[group->count++];
		member->ordinal = sqlite3_column_int64(group->stmt, 1);
		member->im_address = im_address ? group->im_addresses.len : SIZE_MAX;
		if (im_address)
			imaddr_buf_append(&group->im_addresses, im_address, strlen(im_address) + 1);
		group->step = sqlite3_step(group->stmt);
	} while (group->step == SQLITE_ROW && same_user_id(group->stmt, &group->user_id));
	return group->step == SQLITE_ROW || group->step == SQLITE_DONE ? SQLITE_OK : group->step;
}

static const char *namesake_im_address(const struct namesakes *group, size_t i)
{
	size_t offset = group->members[i].im_address;
	return offset == SIZE_MAX ? NULL : group->im_addresses.data + offset;
}

static int open_namesakes(sqlite3 *db, sqlite3_int64 run_id, struct namesakes *group)
{
	memset(group, 0, sizeof(*group));
	imaddr_buf_init(&group->user_id, 0);
	imaddr_buf_init(&group->im_addresses, 0);
	int rc = prepare(db, run_users_by_user_id_sql, &group->stmt);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(group->stmt, 1, run_id);
	group->step = rc == SQLITE_OK ? sqlite3_step(group->stmt) : rc;
	return rc == SQLITE_OK ? next_namesakes(group) : rc;
}

static void close_namesakes(struct namesakes *group)
{
	sqlite3_finalize(group->stmt);
	imaddr_buf_release(&group->user_id);
	imaddr_buf_release(&group->im_addresses);
	free(group->members);
}

static bool same_address(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* Each user of this run against each namesake of the previous run. */
static int insert_changes(sqlite3_stmt *insert, const struct namesakes *now,
			  const struct namesakes *before)
{
	int rc = bind_blob_text(insert, 3, &now->user_id);
	for (size_t i = 0; rc == SQLITE_OK && i < now->count; i++) {
		for (size_t j = 0; rc == SQLITE_OK && j < before->count; j++) {
			const char *current = namesake_im_address(now, i);
			const char *previous = namesake_im_address(before, j);
			if (same_address(current, previous))
				continue;
			rc = sqlite3_bind_int64(insert, 4, now->members[i].ordinal);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(insert, 5, before->members[j].ordinal);
			if (rc == SQLITE_OK)
				rc = bind_text(insert, 6, previous);
			if (rc == SQLITE_OK)
				rc = bind_text(insert, 7, current);
			if (rc == SQLITE_OK)
				rc = step_done(insert);
			sqlite3_reset(insert);
		}
	}
	return rc;
}

static int record_im_address_changes(struct report_db *report)
{
	struct namesakes now, before;
	sqlite3_stmt *insert = NULL;
	int rc = open_namesakes(report->db, report->run_id, &now);

	if (rc == SQLITE_OK)
		rc = open_namesakes(report->db, report->previous_run_id, &before);
	else
		memset(&before, 0, sizeof(before));
	if (rc == SQLITE_OK)
		rc = prepare(report->db, insert_change_sql, &insert);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(insert, 1, report->run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(insert, 2, report->previous_run_id);
	while (rc == SQLITE_OK && now.count && before.count) {
		int order = compare_binary(&now.user_id, &before.user_id);
		if (order == 0)
			rc = insert_changes(insert, &now, &before);
		if (rc == SQLITE_OK && order <= 0)
			rc = next_namesakes(&now);
		if (rc == SQLITE_OK && order >= 0)
			rc = next_namesakes(&before);
	}
	sqlite3_finalize(insert);
	close_namesakes(&now);
	close_namesakes(&before);
	return rc;
}

static enum imaddr_status report_input_end(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (flush_rows(report) != SQLITE_OK)
		return db_error(report, "write", err);
	if (report->new_schema && !report->indexed) {
		if (sqlite3_exec(report->db, findings_indexes_sql, NULL, NULL, NULL) != SQLITE_OK)
			return db_error(report, "index", err);
		report->indexed = true;
	}
	return IMADDR_OK;
}

static enum imaddr_status report_end(struct imaddr_sink *sink,
				     const struct imaddr_run_totals *totals,
				     struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	int rc = SQLITE_OK;

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (flush_rows(report) != SQLITE_OK)
		return db_error(report, "write", err);
	rc = finish_run(report, totals);
	if (rc == SQLITE_OK)
		rc = insert_domains(report, totals);
	if (rc == SQLITE_OK && report->previous_run_id)
		rc = record_im_address_changes(report);
	/* A caller that never said the input ended gets the indexes here. */
	if (rc == SQLITE_OK && report->new_schema && !report->indexed)
		rc = sqlite3_exec(report->db, findings_indexes_sql, NULL, NULL, NULL);
	/*
	 * The planner's statistics, sampled: a few milliseconds. Without them it
	 * misjudges findings_by_code for the run-to-run views.
	 */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(report->db, "PRAGMA analysis_limit = 1000; ANALYZE",
				  NULL, NULL, NULL);
	/* Prepared statements must not keep the commit from releasing its locks. */
	release_statements(report);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(report->db, "COMMIT", NULL, NULL, NULL);
	/* On failure the transaction stays open for abort (or free) to roll back. */
	if (rc != SQLITE_OK)
		return db_error(report, "commit", err);
	report->created = false;
	close_connection(report);
	report->state = REPORT_DONE;
	return IMADDR_OK;
}

static void report_abort(struct imaddr_sink *sink)
{
	struct report_db *report = (struct report_db *)sink;

	if (report->state == REPORT_BEGUN)
		discard(report);
}

static void report_free(struct imaddr_sink *sink)
{
	struct report_db *report = (struct report_db *)sink;

	/* A run neither ended nor aborted is thrown away, never half-kept. */
	if (report->state == REPORT_BEGUN)
		discard(report);
	if (report->db)
		close_connection(report);
	imaddr_buf_release(&report->users.strings);
	imaddr_buf_release(&report->findings.strings);
	free(report->path);
	free(report);
}

static const struct imaddr_sink_ops report_db_ops = {
	.name = "report",
	.flags = IMADDR_SINK_ON_WORKER,
	.begin = report_begin,
	.user = report_user,
	.finding = report_finding,
	.input_end = report_input_end,
	.end = report_end,
	.abort = report_abort,
	.free = report_free,
};

/*
 * SQLite counts every allocation under a global lock unless told otherwise
 * before it initializes; the count serves only sqlite3_memory_used(). Turning
 * it off took a million inserts from 1.44 s to 1.19 s. When the program has
 * initialized SQLite already, sqlite3_config() refuses and nothing changes.
 */
static void configure_sqlite(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum imaddr_status imaddr_sink_report_open(const char *path, struct imaddr_sink **out,
					   struct imaddr_error *err)
{
	static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;
	pthread_once(&sqlite_configured, configure_sqlite);

	struct report_db *report = imaddr_xcalloc(1, sizeof(*report));
	enum imaddr_status status = IMADDR_OK;
	enum report_kind kind;
	struct stat st;

	report->base.ops = &report_db_ops;
	report->path = imaddr_xstrdup(path ? path : "");
	report->state = REPORT_OPENED;
	imaddr_buf_init(&report->users.strings, 0);
	imaddr_buf_init(&report->findings.strings, 0);
	if (!*report->path) {
		status = imaddr_error_set(err, IMADDR_ERR_DB, "the report needs a file name");
	} else if (stat(report->path, &st) != 0) {
		if (errno == ENOENT)
			status = check_directory(report, err);
		else
			status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot open report '%s': %s",
						  report->path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
					  "cannot open report '%s': not a regular file",
					  report->path);
	} else {
		/*
		 * Reading the header is not writing, with one exception worth
		 * having: a hot journal left by a killed run is rolled back here.
		 */
		status = open_connection(report, err);
		if (status == IMADDR_OK)
			status = check_report(report, &kind, err);
	}
	if (status != IMADDR_OK) {
		report_free(&report->base);
		return status;
	}
	*out = &report->base;
	return IMADDR_OK;
}
