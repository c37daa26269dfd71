#include "report_db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "status.h"

/*
 * The page cache of the run's connection, in KiB (a negative cache_size).
 * The load appends in key order except for the two users indexes, whose new
 * entries land at random places in this run's part of each index, so more
 * cache means fewer pages written out and read back. The gain flattens out:
 * appending a million users to a report took 13 s with 8 MiB, 10.5 s with
 * 32 MiB and 8.5 s with 128 MiB. The cache is most of this module's memory,
 * and the whole program must stay well under 250 MB for a million users.
 */
#define CACHE_KIB 32768
/* The cache while the first run builds the indexes: see create_indexes(). */
#define SORT_CACHE_KIB 8192

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
	bool new_schema;        /* this run creates the schema: end adds the indexes */
	bool users_indexed;     /* the users index exists (input_end made it) */
	enum report_state state;
	sqlite3_int64 run_id;
	sqlite3_stmt *insert_user;
	sqlite3_stmt *insert_finding;
};

/*
 * The schema, version 1. Every table is keyed by run_id first, so that a run
 * is one contiguous range of every table and index: the load appends, and
 * questions about one run read one range. Strings are NULL when absent; so
 * are line and related_ordinal when 0.
 *
 * The run_id foreign keys are declarations for readers and tools: imaddr
 * does not turn foreign_keys on (each check would cost a lookup per row),
 * but someone pruning old runs can, and ON DELETE CASCADE then deletes a
 * run's users, findings and domains with it, each through an index that
 * starts with run_id.
 */
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
	"  im_domain TEXT,\n"
	"  PRIMARY KEY (run_id, ordinal)\n"
	") WITHOUT ROWID;\n"
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
	"  code TEXT NOT NULL,\n"
	"  severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),\n"
	"  field TEXT,\n"
	"  value TEXT,\n"
	"  related_ordinal INTEGER,\n"
	"  message TEXT,\n"
	"  suggestion TEXT\n"
	");\n"
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
	"         coalesce(u.line, f.line) AS line, coalesce(u.dn, f.dn) AS dn, u.user_id,\n"
	"         f.code, f.severity, f.field, f.value, f.message, f.suggestion,\n"
	"         f.related_ordinal, r.line AS related_line, r.dn AS related_dn,\n"
	"         r.user_id AS related_user_id\n"
	"  FROM findings AS f\n"
	"  LEFT JOIN users AS u ON u.run_id = f.run_id AND u.ordinal = f.ordinal\n"
	"  LEFT JOIN users AS r ON r.run_id = f.run_id AND r.ordinal = f.related_ordinal;\n"
	"CREATE VIEW error_users AS\n"
	"  SELECT u.* FROM users AS u\n"
	"  WHERE EXISTS (SELECT 1 FROM findings AS f\n"
	"                WHERE f.run_id = u.run_id AND f.ordinal = u.ordinal\n"
	"                  AND f.severity = 'error');\n"
	"CREATE VIEW code_counts AS\n"
	"  SELECT run_id, code, severity, count(*) AS count\n"
	"  FROM findings GROUP BY run_id, code, severity;\n"
	"CREATE VIEW im_address_changes AS\n"
	"  SELECT r.id AS run_id, r.previous_run_id, u.user_id,\n"
	"         u.ordinal, p.ordinal AS previous_ordinal,\n"
	"         p.im_address AS previous_im_address, u.im_address\n"
	"  FROM runs AS r\n"
	"  JOIN users AS u ON u.run_id = r.id\n"
	"  JOIN users AS p ON p.run_id = r.previous_run_id AND p.user_id = u.user_id\n"
	"  WHERE u.im_address IS NOT p.im_address;\n"
	/*
	 * A user's finding matches one of the other run on user ID, code and
	 * field: the first NOT EXISTS looks the user up by user ID, then the
	 * user's findings by ordinal, so each finding costs two index lookups.
	 * A finding of no user (ordinal 0) has no user ID and matches on code,
	 * field and value instead.
	 */
	"CREATE VIEW new_findings AS\n"
	"  SELECT r.id AS run_id, r.previous_run_id, f.id AS finding_id, f.ordinal,\n"
	"         u.user_id, f.code, f.severity, f.field, f.value, f.message\n"
	"  FROM runs AS r\n"
	"  JOIN findings AS f ON f.run_id = r.id\n"
	"  LEFT JOIN users AS u ON u.run_id = f.run_id AND u.ordinal = f.ordinal\n"
	"  WHERE r.previous_run_id IS NOT NULL\n"
	"    AND NOT EXISTS (SELECT 1 FROM users AS pu\n"
	"                    JOIN findings AS pf\n"
	"                      ON pf.run_id = pu.run_id AND pf.ordinal = pu.ordinal\n"
	"                    WHERE f.ordinal <> 0 AND pu.run_id = r.previous_run_id\n"
	"                      AND pu.user_id IS u.user_id\n"
	"                      AND pf.code = f.code AND pf.field IS f.field)\n"
	"    AND NOT EXISTS (SELECT 1 FROM findings AS pf\n"
	"                    WHERE f.ordinal = 0 AND pf.run_id = r.previous_run_id\n"
	"                      AND pf.ordinal = 0 AND pf.code = f.code\n"
	"                      AND pf.field IS f.field AND pf.value IS f.value);\n"
	"CREATE VIEW resolved_findings AS\n"
	"  SELECT r.id AS run_id, r.previous_run_id, pf.id AS previous_finding_id,\n"
	"         pf.ordinal AS previous_ordinal, pu.user_id, pf.code, pf.severity,\n"
	"         pf.field, pf.value, pf.message\n"
	"  FROM runs AS r\n"
	"  JOIN findings AS pf ON pf.run_id = r.previous_run_id\n"
	"  LEFT JOIN users AS pu ON pu.run_id = pf.run_id AND pu.ordinal = pf.ordinal\n"
	"  WHERE NOT EXISTS (SELECT 1 FROM users AS u\n"
	"                    JOIN findings AS f ON f.run_id = u.run_id AND f.ordinal = u.ordinal\n"
	"                    WHERE pf.ordinal <> 0 AND u.run_id = r.id\n"
	"                      AND u.user_id IS pu.user_id\n"
	"                      AND f.code = pf.code AND f.field IS pf.field)\n"
	"    AND NOT EXISTS (SELECT 1 FROM findings AS f\n"
	"                    WHERE pf.ordinal = 0 AND f.run_id = r.id AND f.ordinal = 0\n"
	"                      AND f.code = pf.code AND f.field IS pf.field\n"
	"                      AND f.value IS pf.value);\n";

/*
 * Indexes for the questions asked after the run; the load itself looks
 * nothing up. Keeping them costs the load most of its time: the users index
 * takes each run's entries in random order. The first run therefore creates
 * them after the load, by sorting (a few times faster): the users index as
 * soon as the last user is in (report_input_end, on the writer thread while
 * the audit looks for duplicates), the findings indexes at the end. Later
 * runs keep them up to date as they go, since dropping and rebuilding would
 * sort every earlier run again. There is deliberately no index on
 * im_address: on a million users in random order it cost two seconds of a
 * five-second run, and one run's users are scanned in a fraction of that.
 */
static const char users_index_sql[] =
	/* Run-to-run matching looks users up by user ID. */
	"CREATE INDEX users_by_user_id ON users (run_id, user_id);\n";

static const char findings_indexes_sql[] =
	/* severity rides along so that code_counts reads the index alone. */
	"CREATE INDEX findings_by_code ON findings (run_id, code, severity);\n"
	/* error_users, finding_rows and the run-to-run views join on it. */
	"CREATE INDEX findings_by_user ON findings (run_id, ordinal);\n";

static const char insert_run_sql[] =
	"INSERT INTO runs (previous_run_id, started, version, input, scheme,\n"
	"                  default_domain, im_domains)\n"
	"VALUES ((SELECT max(id) FROM runs WHERE input IS ?1), ?2, ?3, ?1, ?4, ?5, ?6)";

static const char insert_user_sql[] =
	"INSERT INTO users (run_id, ordinal, line, dn, user_id, mail, first_name,\n"
	"                   last_name, directory_uri, current_uri, im_address, im_domain)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

static const char insert_finding_sql[] =
	"INSERT INTO findings (run_id, ordinal, line, dn, code, severity, field, value,\n"
	"                      related_ordinal, message, suggestion)\n"
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

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

static int bind_count(sqlite3_stmt *stmt, int index, uint64_t count)
{
	return sqlite3_bind_int64(stmt, index,
				  count > INT64_MAX ? INT64_MAX : (sqlite3_int64)count);
}

/* For line and related_ordinal, where 0 means "none". */
static int bind_optional(sqlite3_stmt *stmt, int index, uint64_t number)
{
	if (!number)
		return sqlite3_bind_null(stmt, index);
	return bind_count(stmt, index, number);
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

static void release_statements(struct report_db *report)
{
	sqlite3_finalize(report->insert_user);
	sqlite3_finalize(report->insert_finding);
	report->insert_user = NULL;
	report->insert_finding = NULL;
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
		 "PRAGMA cache_size = -%d; PRAGMA synchronous = NORMAL", CACHE_KIB);
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

/*
 * CREATE INDEX sorts in memory as large as the page cache before it spills
 * to temporary files, on top of the cache itself. A small cache keeps that
 * peak down and, as the sort merges well, was even faster when measured.
 */
static int create_indexes(sqlite3 *db, const char *sql)
{
	char pragma[64];
	int rc;

	/* A second sorter thread: the audit's own thread is mostly waiting by now. */
	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%d; PRAGMA threads = 2",
		 SORT_CACHE_KIB);
	rc = sqlite3_exec(db, pragma, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
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
	return rc;
}

/* The run's id is bound once: sqlite3_reset keeps bindings. */
static int prepare_inserts(struct report_db *report)
{
	int rc = prepare_persistent(report->db, insert_user_sql, &report->insert_user);

	if (rc == SQLITE_OK)
		rc = prepare_persistent(report->db, insert_finding_sql, &report->insert_finding);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(report->insert_user, 1, report->run_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(report->insert_finding, 1, report->run_id);
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
	/*
	 * A directory server sends users slower than SQLite stores them: the
	 * writer thread is idle most of the read, so it keeps the users index as
	 * it goes instead of sorting it after the last user, off the run's end.
	 */
	if (rc == SQLITE_OK && report->new_schema && info->reader &&
	    !strcmp(info->reader, "ldap")) {
		rc = sqlite3_exec(report->db, users_index_sql, NULL, NULL, NULL);
		report->users_indexed = rc == SQLITE_OK;
	}
	if (rc == SQLITE_OK)
		rc = insert_run(report, info);
	if (rc == SQLITE_OK)
		rc = prepare_inserts(report);
	if (rc != SQLITE_OK)
		status = db_error(report, "write", err);
out:
	if (status != IMADDR_OK)
		discard(report);
	return status;
}

static enum imaddr_status report_user(struct imaddr_sink *sink, const struct imaddr_user *user,
				      struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	sqlite3_stmt *stmt = report->insert_user;
	enum imaddr_status status = IMADDR_OK;
	int rc = SQLITE_OK;

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (rc == SQLITE_OK)
		rc = bind_count(stmt, 2, user->ordinal);
	if (rc == SQLITE_OK)
		rc = bind_optional(stmt, 3, user->line);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 4, user->dn);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 5, user->user_id);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 6, user->mail);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 7, user->first_name);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 8, user->last_name);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 9, user->directory_uri);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 10, user->current_uri);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 11, user->im_address);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 12, user->im_domain);
	if (rc == SQLITE_OK)
		rc = step_done(stmt);
	if (rc != SQLITE_OK)
		status = db_error(report, "write a user to", err);
	sqlite3_reset(stmt);
	return status;
}

static enum imaddr_status report_finding(struct imaddr_sink *sink,
					 const struct imaddr_finding *finding,
					 struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	sqlite3_stmt *stmt = report->insert_finding;
	bool of_no_user = finding->ordinal == 0;
	enum imaddr_status status = IMADDR_OK;
	int rc = SQLITE_OK;

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (rc == SQLITE_OK)
		rc = bind_count(stmt, 2, finding->ordinal);
	/* A user's line and DN are in users already. */
	if (rc == SQLITE_OK)
		rc = bind_optional(stmt, 3, of_no_user ? finding->line : 0);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 4, of_no_user ? finding->dn : NULL);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 5, imaddr_code_name(finding->code));
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 6, imaddr_severity_name(finding->severity));
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 7, finding->field);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 8, finding->value);
	if (rc == SQLITE_OK)
		rc = bind_optional(stmt, 9, finding->related_ordinal);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 10, finding->message);
	if (rc == SQLITE_OK)
		rc = bind_text(stmt, 11, finding->suggestion);
	if (rc == SQLITE_OK)
		rc = step_done(stmt);
	if (rc != SQLITE_OK)
		status = db_error(report, "write a finding to", err);
	sqlite3_reset(stmt);
	return status;
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

static enum imaddr_status report_input_end(struct imaddr_sink *sink, struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	if (report->new_schema && !report->users_indexed) {
		if (create_indexes(report->db, users_index_sql) != SQLITE_OK)
			return db_error(report, "index", err);
		report->users_indexed = true;
	}
	return IMADDR_OK;
}

static enum imaddr_status report_end(struct imaddr_sink *sink, struct imaddr_audit *audit,
				     const struct imaddr_run_totals *totals,
				     struct imaddr_error *err)
{
	struct report_db *report = (struct report_db *)sink;
	int rc = SQLITE_OK;

	if (report->state != REPORT_BEGUN)
		return not_begun(report, err);
	rc = finish_run(report, totals);
	if (rc == SQLITE_OK)
		rc = insert_domains(report, totals);
	/* A caller that never said the input ended gets the users index here. */
	if (rc == SQLITE_OK && report->new_schema && !report->users_indexed)
		rc = create_indexes(report->db, users_index_sql);
	if (rc == SQLITE_OK && report->new_schema)
		rc = create_indexes(report->db, findings_indexes_sql);
	/*
	 * Without statistics SQLite's planner prefers scanning a run in users'
	 * primary key to looking a user up in users_by_user_id, and
	 * im_address_changes then reads the previous run once per user. A
	 * sampled ANALYZE gives it the table sizes in a few milliseconds.
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
	free(report->path);
	free(report);
}

static const struct imaddr_sink_ops report_db_ops = {
	.name = "report",
	.begin = report_begin,
	.user = report_user,
	.finding = report_finding,
	.input_end = report_input_end,
	.end = report_end,
	.abort = report_abort,
	.free = report_free,
};

struct imaddr_sink *imaddr_report_db_open(const char *path, struct imaddr_error *err)
{
	struct report_db *report = imaddr_xcalloc(1, sizeof(*report));
	enum imaddr_status status = IMADDR_OK;
	enum report_kind kind;
	struct stat st;

	report->base.ops = &report_db_ops;
	report->path = imaddr_xstrdup(path ? path : "");
	report->state = REPORT_OPENED;
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
		return NULL;
	}
	return &report->base;
}
