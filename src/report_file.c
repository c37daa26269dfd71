#include "report_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buffer.h"
#include "error.h"
#include "report_rows.h"

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
 * How often a statement that finds the report locked tries again. SQLite's
 * own busy timeout sleeps on through a ^C until the whole wait (30 s by
 * default) is over; this one gives up at the next try once a stop is asked.
 */
#define LOCK_RETRY_MS 20

static int wait_for_lock(void *timeout_ms, int tries)
{
	if (imaddr_stop_requested() || (intptr_t)tries * LOCK_RETRY_MS >= (intptr_t)timeout_ms)
		return 0;
	sqlite3_sleep(LOCK_RETRY_MS);
	return 1;
}

int imaddr_report_file_wait(sqlite3 *db, int timeout_ms)
{
	if (timeout_ms <= 0)
		return sqlite3_busy_handler(db, NULL, NULL);
	return sqlite3_busy_handler(db, wait_for_lock, (void *)(intptr_t)timeout_ms);
}

bool imaddr_report_file_wait_cut_short(sqlite3 *db)
{
	int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_OK;

	return (code == SQLITE_BUSY || code == SQLITE_LOCKED) && imaddr_stop_requested();
}

enum imaddr_status imaddr_report_file_interrupted(const char *path, struct imaddr_error *err)
{
	return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED,
				"interrupted while waiting for report '%s', which another process holds",
				path);
}

enum imaddr_status imaddr_report_file_fail(sqlite3 *db, const char *path, const char *doing,
					   struct imaddr_error *err)
{
	int code = db ? sqlite3_errcode(db) & 0xff : SQLITE_OK;

	if (imaddr_report_file_wait_cut_short(db))
		return imaddr_report_file_interrupted(path, err);
	/* Whatever this process was doing, what stopped it is the other one. */
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"report '%s' is held by another process (%s): see --wait",
					path, sqlite3_errmsg(db));
	return imaddr_error_set(err, IMADDR_ERR_DB, "cannot %s report '%s': %s", doing, path,
				sqlite3_errmsg(db));
}

/*
 * Tells an imaddr report from other SQLite files by the header fields the
 * schema sets, and refuses one a newer imaddr wrote. Called when opening, to
 * fail before any work is done, and again inside the run's transaction,
 * where the answer cannot change any more.
 */
enum imaddr_status imaddr_report_file_check(sqlite3 *db, const char *path,
					    enum imaddr_report_kind *kind,
					    struct imaddr_error *err)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3_int64 application_id = 0, user_version = 0, objects = 0;
	enum imaddr_status status = IMADDR_OK;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT (SELECT application_id FROM pragma_application_id),\n"
				    "       (SELECT user_version FROM pragma_user_version),\n"
				    "       (SELECT count(*) FROM sqlite_master)", -1, &stmt, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		application_id = sqlite3_column_int64(stmt, 0);
		user_version = sqlite3_column_int64(stmt, 1);
		objects = sqlite3_column_int64(stmt, 2);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK) {
		status = imaddr_report_file_fail(db, path, "read", err);
		goto out;
	}
	if (application_id == 0 && user_version == 0 && objects == 0) {
		*kind = IMADDR_REPORT_KIND_EMPTY;
	} else if (application_id != IMADDR_REPORT_SCHEMA_APPLICATION_ID || user_version < 1) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"'%s' is not an imaddr report: it is a SQLite database of another program",
			path);
	} else if (user_version == 2) {
		*kind = IMADDR_REPORT_KIND_VERSION_2;
	} else if (user_version == 3) {
		*kind = IMADDR_REPORT_KIND_VERSION_3;
	} else if (user_version == 4) {
		*kind = IMADDR_REPORT_KIND_VERSION_4;
	} else if (user_version == 5) {
		*kind = IMADDR_REPORT_KIND_VERSION_5;
	} else if (user_version == 6) {
		*kind = IMADDR_REPORT_KIND_VERSION_6;
	} else if (user_version == 7) {
		*kind = IMADDR_REPORT_KIND_VERSION_7;
	} else if (user_version < IMADDR_REPORT_SCHEMA_VERSION) {
		/*
		 * Version 1 kept users in a table keyed differently; its runs stay
		 * readable with the version 1 views, but are not appended to.
		 */
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"report '%s' has schema version %lld, older than the %d this imaddr "
			"writes: keep it for its runs and start a new report",
			path, (long long)user_version, IMADDR_REPORT_SCHEMA_VERSION);
	} else if (user_version > IMADDR_REPORT_SCHEMA_VERSION) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
			"report '%s' has schema version %lld, newer than the %d this imaddr "
			"writes: use a newer imaddr or another report",
			path, (long long)user_version, IMADDR_REPORT_SCHEMA_VERSION);
	} else {
		*kind = IMADDR_REPORT_KIND_CURRENT;
	}
out:
	sqlite3_finalize(stmt);
	return status;
}

enum imaddr_status imaddr_report_file_connect(const char *path, int busy_timeout_ms,
					      sqlite3 **db, struct imaddr_error *err)
{
	/* One thread uses the connection: SQLite's own mutexes would be waste. */
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	/*
	 * Before any statement: the very first, reading the header, must wait
	 * for a run that is committing rather than fail at once.
	 */
	if (rc == SQLITE_OK)
		rc = imaddr_report_file_wait(*db, busy_timeout_ms);
	if (rc != SQLITE_OK)
		return imaddr_report_file_fail(*db, path, "open", err);
	/* SQLite falls back to read-only quietly; the run would fail at BEGIN. */
	if (sqlite3_db_readonly(*db, "main") == 1)
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot write report '%s': the file is read-only", path);
	return IMADDR_OK;
}

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

enum imaddr_status imaddr_report_file_open(const char *path, int busy_timeout_ms,
					   sqlite3 **db, struct imaddr_error *err)
{
	static pthread_once_t sqlite_configured = PTHREAD_ONCE_INIT;
	enum imaddr_status status = IMADDR_OK;
	enum imaddr_report_kind kind;
	struct stat st;

	pthread_once(&sqlite_configured, configure_sqlite);
	*db = NULL;
	if (!*path) {
		status = imaddr_error_set(err, IMADDR_ERR_DB, "the report needs a file name");
	} else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
					  "cannot open report '%s': it is a symbolic link, and "
					  "imaddr writes only regular files", path);
	} else if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			/*
			 * Created only in begin: a typo in the path fails
			 * now, not after the audit read a million users.
			 */
			status = imaddr_atomic_file_check_directory(path, IMADDR_ERR_DB,
								    "create report", err);
		else
			status = imaddr_error_set(err, IMADDR_ERR_DB, "cannot open report '%s': %s",
						  path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		status = imaddr_error_set(err, IMADDR_ERR_DB,
					  "cannot open report '%s': it is %s, and imaddr writes only "
					  "regular files", path,
					  S_ISDIR(st.st_mode) ? "a directory" :
					  S_ISFIFO(st.st_mode) ? "a FIFO" :
					  S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
										 : "not a regular file");
	} else {
		/*
		 * Reading the header is not writing, with one exception worth
		 * having: a hot journal left by a killed run is rolled back here.
		 */
		status = imaddr_report_file_connect(path, busy_timeout_ms, db, err);
		if (status == IMADDR_OK)
			status = imaddr_report_file_check(*db, path, &kind, err);
	}
	if (status != IMADDR_OK) {
		sqlite3_close(*db);
		*db = NULL;
	}
	return status;
}

enum imaddr_status imaddr_report_file_open_read(const char *path, sqlite3 **db,
						struct imaddr_error *err)
{
	enum imaddr_report_kind kind;
	struct stat st;
	*db = NULL;
	/* SQLite's own words ("unable to open database file") say neither. */
	if (stat(path, &st) != 0)
		return imaddr_error_set(err, IMADDR_ERR_DB, "cannot open the report '%s': %s", path,
					strerror(errno));
	if (S_ISDIR(st.st_mode))
		return imaddr_error_set(err, IMADDR_ERR_DB,
					"cannot open the report '%s': it is a directory", path);
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK)
		return imaddr_error_set(err, IMADDR_ERR_DB, "cannot open the report '%s': %s", path,
					*db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
	imaddr_report_file_wait(*db, 30000);
	enum imaddr_status status = imaddr_report_file_check(*db, path, &kind, err);
	if (status == IMADDR_OK && kind == IMADDR_REPORT_KIND_EMPTY)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "'%s' is empty: no run to show", path);
	else if (status == IMADDR_OK && kind != IMADDR_REPORT_KIND_CURRENT)
		status = imaddr_error_set(err, IMADDR_ERR_DB, "the report '%s' has schema version %d: "
					  "an audit with --db brings it to version %d first", path,
					  2 + (int)(kind - IMADDR_REPORT_KIND_VERSION_2),
					  IMADDR_REPORT_SCHEMA_VERSION);
	return status;
}

/*
 * O_EXCL makes "this run created it" certain: a report someone else creates
 * meanwhile is never removed by our abort.
 */
enum imaddr_status imaddr_report_file_create(const char *path, bool *created,
					     struct imaddr_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	*created = fd >= 0;
	if (fd < 0 && errno != EEXIST)
		return imaddr_error_set(err, IMADDR_ERR_DB, "cannot create report '%s': %s",
					path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return IMADDR_OK;
}

void imaddr_report_file_remove(const char *path)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
	struct imaddr_buf name;

	imaddr_buf_init(&name, 0);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		imaddr_buf_reset(&name);
		imaddr_buf_append_str(&name, path);
		imaddr_buf_append_str(&name, suffixes[i]);
		unlink(name.data);
	}
	imaddr_buf_release(&name);
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
int imaddr_report_file_configure(sqlite3 *db)
{
	char pragmas[128];

	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA page_size = %d; PRAGMA cache_size = -%d; PRAGMA synchronous = NORMAL",
		 PAGE_SIZE, CACHE_KIB);
	return sqlite3_exec(db, pragmas, NULL, NULL, NULL);
}

enum imaddr_status imaddr_report_holds_token(const char *path, const char *token, int wait_ms,
					     bool *held, struct imaddr_error *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	struct stat st;
	enum imaddr_status status = IMADDR_OK;
	int rc;

	*held = false;
	if (stat(path, &st) != 0 || st.st_size == 0)
		return IMADDR_OK;
	status = imaddr_report_file_connect(path, wait_ms < 0 ? 0 : wait_ms, &db, err);
	if (status != IMADDR_OK)
		goto out;
	/* Reading plays back a killed run's hot journal first: what is left is committed. */
	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'run_commits'",
				-1, &stmt, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		bool has_table = sqlite3_column_int(stmt, 0) > 0;
		rc = SQLITE_OK;
		sqlite3_finalize(stmt);
		stmt = NULL;
		if (has_table)
			rc = sqlite3_prepare_v2(db, "SELECT 1 FROM run_commits WHERE token = ?1", -1,
						&stmt, NULL);
		if (has_table && rc == SQLITE_OK)
			rc = imaddr_report_rows_bind_text(stmt, 1, token);
		if (has_table && rc == SQLITE_OK) {
			rc = sqlite3_step(stmt);
			*held = rc == SQLITE_ROW;
			rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
		}
	}
	if (rc != SQLITE_OK)
		status = imaddr_report_file_fail(db, path, "read", err);
out:
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return status;
}

