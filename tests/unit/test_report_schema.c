#include <criterion/criterion.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"
#include "imaddr.h"
#include "report_fixture.h"
#include "report_schema.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_schema);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void expect_refused(const char *path, const char *wanted)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = report_open_or_null(path, &err);

	cr_assert_null(sink);
	cr_expect(strstr(err.message, path), "'%s' does not name the file", err.message);
	cr_expect(strstr(err.message, wanted), "'%s' does not say '%s'", err.message, wanted);
}

Test(report_schema, refuses_a_database_of_another_program)
{
	const char *path = path_in_dir("other.sqlite");

	report_run_sql(path, "CREATE TABLE contacts (name TEXT)");
	expect_refused(path, "not an imaddr report");
	report_expect_rows(path, "SELECT count(*) FROM sqlite_master", "1\n");
}

Test(report_schema, refuses_a_file_that_is_not_sqlite)
{
	char *path = tempdir_write_str(dir, "users.csv",
				       "USER ID,DIRECTORY URI\nalee,ann.lee@example.com\n");

	expect_refused(path, "not a database");
	free(path);
}

Test(report_schema, refuses_a_report_of_a_newer_schema)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);
	report_run_sql(path, "PRAGMA user_version = 99");
	expect_refused(path, "newer");
	report_count_rows(path, "1|3|3|2\n");
}

/* Version 7 stored columns equal to another once: their values put back. */
#define DROP_DERIVED_SQL \
	" UPDATE user_versions SET" \
	" directory_uri = " IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL("user_versions") "," \
	" current_uri = " IMADDR_REPORT_SCHEMA_CURRENT_URI_SQL("user_versions") "," \
	" im_address = " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("user_versions") "," \
	" im_domain = " IMADDR_REPORT_SCHEMA_IM_DOMAIN_SQL("user_versions") "," \
	" im_address_before = " IMADDR_REPORT_SCHEMA_IM_ADDRESS_BEFORE_SQL("user_versions") ";" \
	" ALTER TABLE user_versions DROP COLUMN derived;"

/* Version 8 matched users by content: positions, and findings naming user versions. */
#define DROP_POSITIONS_SQL(findings) \
	" ALTER TABLE " findings " DROP COLUMN user_version;" \
	" ALTER TABLE " findings " DROP COLUMN related_version;" \
	" ALTER TABLE runs DROP COLUMN pruned;"

#define DROP_VIEWS_SQL \
	" DROP VIEW users; DROP VIEW findings; DROP VIEW run_history;" \
	" DROP VIEW im_address_plan; DROP VIEW latest_run;" \
	" DROP VIEW finding_rows; DROP VIEW error_users; DROP VIEW code_counts;" \
	" DROP VIEW new_findings; DROP VIEW resolved_findings; DROP VIEW waived_findings;"

/* Version 6 added the accepted exceptions: the waiver columns. Views first. */
#define DROP_WAIVERS_SQL(findings) \
	" ALTER TABLE " findings " DROP COLUMN waiver_reason;" \
	" ALTER TABLE " findings " DROP COLUMN waiver_expires;" \
	" ALTER TABLE " findings " DROP COLUMN waiver_source;" \
	" ALTER TABLE runs DROP COLUMN waivers; ALTER TABLE runs DROP COLUMN waived;"

/* Version 4 copied every run's users and findings whole into tables. */
#define DOWNGRADE_TO_4_SQL \
	"CREATE TABLE old_users AS SELECT * FROM users;" \
	" CREATE TABLE old_findings AS SELECT * FROM findings;" \
	" DROP VIEW users; DROP VIEW findings; DROP VIEW run_history;" \
	" DROP VIEW im_address_plan; DROP VIEW latest_run; DROP VIEW finding_rows;" \
	" DROP VIEW error_users; DROP VIEW code_counts; DROP VIEW new_findings;" \
	" DROP VIEW resolved_findings; DROP VIEW waived_findings;" \
	DROP_WAIVERS_SQL("old_findings") DROP_POSITIONS_SQL("old_findings") \
	" DROP TABLE user_versions; DROP TABLE finding_versions; DROP TABLE label_states;" \
	" DROP TABLE user_positions;" \
	" ALTER TABLE old_users RENAME TO users; ALTER TABLE old_findings RENAME TO findings;" \
	" CREATE VIEW code_counts AS SELECT run_id, code, severity, count(*) AS count" \
	" FROM findings GROUP BY run_id, code, severity;" \
	" CREATE VIEW im_address_plan AS SELECT * FROM users;" \
	" PRAGMA user_version = 4;"

/* The users and findings every run saw, to compare before and after a migration. */
static const char every_run_sql[] =
	"SELECT run_id, ordinal, user_id, mail, im_address FROM users ORDER BY run_id, ordinal;"
	" SELECT run_id, ordinal, user_id, code, field, value FROM findings"
	" ORDER BY run_id, ordinal, code";

Test(report_schema, a_version_4_report_keeps_every_run_as_versions)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	char *before = report_query(path, every_run_sql);
	report_run_sql(path, DOWNGRADE_TO_4_SQL);
	report_expect_rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'user_versions'",
			   "0\n");
	report_write_run(path, &report_second_run);
	report_expect_rows(path, "PRAGMA user_version", "8\n");
	report_expect_rows(path, "SELECT id, previous_run_id FROM runs ORDER BY id",
			   "1|NULL\n2|1\n3|2\n");
	/* Runs 1 and 2 read as they did; run 3 is run 2 again. */
	char *after = report_query(path, "SELECT run_id, ordinal, user_id, mail, im_address"
					 " FROM users WHERE run_id < 3 ORDER BY run_id, ordinal;"
					 " SELECT run_id, ordinal, user_id, code, field, value"
					 " FROM findings WHERE run_id < 3 ORDER BY run_id, ordinal, code");
	cr_expect_str_eq(after, before);
	report_expect_rows(path, "SELECT count(*) FROM users WHERE run_id = 3", "4\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings WHERE run_id = 3", "0\n");
	free(before);
	free(after);
}

/*
 * A version 5 report (without the waiver columns) gains them with the next
 * run: its runs read as before, and the next run of the label follows them.
 */
Test(report_schema, a_version_5_report_gains_the_waiver_columns)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	char *before = report_query(path, every_run_sql);
	report_run_sql(path, DROP_VIEWS_SQL DROP_DERIVED_SQL DROP_WAIVERS_SQL("finding_versions")
			     DROP_POSITIONS_SQL("finding_versions") " DROP TABLE user_positions;"
			     " PRAGMA user_version = 5;");
	report_write_run(path, &report_second_run);
	report_expect_rows(path, "PRAGMA user_version", "8\n");
	report_expect_rows(path, "SELECT count(*) FROM pragma_table_info('finding_versions')"
				 " WHERE name LIKE 'waiver_%'", "3\n");
	report_expect_rows(path, "SELECT id, previous_run_id, waivers, waived FROM runs",
			   "1|NULL|NULL|NULL\n2|1|NULL|NULL\n3|2|NULL|0\n");
	char *after = report_query(path, "SELECT run_id, ordinal, user_id, mail, im_address"
					 " FROM users WHERE run_id < 3 ORDER BY run_id, ordinal;"
					 " SELECT run_id, ordinal, user_id, code, field, value"
					 " FROM findings WHERE run_id < 3 ORDER BY run_id, ordinal, code");
	cr_expect_str_eq(after, before);
	report_expect_rows(path, "SELECT count(*) FROM new_findings WHERE run_id = 3", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM resolved_findings WHERE run_id = 3",
			   "0\n");
	report_expect_rows(path, "SELECT count(*) FROM findings WHERE run_id = 3"
				 " AND waiver_reason IS NULL", "3\n");
	free(before);
	free(after);
}

/*
 * Two runs, the report taken down to an older schema by `downgrade_sql`,
 * and a third run: the first two runs read through `query` as before.
 */
static void expect_runs_kept_by_migration(const char *path, const char *query,
					  const char *downgrade_sql)
{
	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	char *before = report_query(path, query);
	report_run_sql(path, downgrade_sql);
	report_write_run(path, &report_second_run);
	report_expect_rows(path, "PRAGMA user_version", "8\n");
	char *after = report_query(path, query);
	cr_expect(strncmp(after, before, strlen(before)) == 0, "%s\nagainst\n%s", after, before);
	free(before);
	free(after);
}

/*
 * A version 6 report (every column stored) gains user_versions.derived with
 * the next run: its runs read as before, their rows keeping every value. Its
 * label state matched users by ordinal, so the next run writes its users
 * once more (as from version 7).
 */
Test(report_schema, a_version_6_report_reads_as_before)
{
	const char *path = path_in_dir("report.sqlite");

	expect_runs_kept_by_migration(path,
		"SELECT run_id, ordinal, dn, user_id, mail, directory_uri, current_uri, im_address,"
		" im_domain, im_address_before FROM users ORDER BY run_id, ordinal",
		DROP_VIEWS_SQL DROP_DERIVED_SQL DROP_POSITIONS_SQL("finding_versions")
		" DROP TABLE user_positions; PRAGMA user_version = 6;");
	report_expect_rows(path, "SELECT count(*) FROM user_versions WHERE first_run < 3"
				 " AND (directory_uri IS NULL OR derived IS NOT NULL)", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM user_versions WHERE first_run = 3", "4\n");
	report_expect_rows(path, "SELECT count(*) FROM users WHERE run_id = 3", "4\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings WHERE run_id = 3", "0\n");
}

/*
 * A version 7 report (findings named their user by ordinal, looked up in
 * each run) names the user version of each finding with the next run: its
 * runs read as before, finding_rows included, and as its label state
 * matched users by ordinal, the next run writes its users once more.
 */
Test(report_schema, a_version_7_report_names_the_users_of_its_findings)
{
	const char *path = path_in_dir("report.sqlite");

	expect_runs_kept_by_migration(path,
		"SELECT run_id, finding_id, ordinal, line, dn, user_id, code, related_ordinal,"
		" related_line, related_user_id FROM finding_rows ORDER BY run_id, finding_id",
		DROP_VIEWS_SQL DROP_POSITIONS_SQL("finding_versions")
		" DROP TABLE user_positions; PRAGMA user_version = 7;");
	report_expect_rows(path, "SELECT count(*) FROM finding_versions WHERE ordinal <> 0"
				 " AND first_run < 3 AND user_version IS NULL", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM user_versions WHERE first_run = 3", "4\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings WHERE run_id = 3", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM resolved_findings WHERE run_id = 3", "0\n");
}

/*
 * What a user version stores NULL with a `derived` bit, read back through
 * the same SQL the views use: equal values, the IM domain after the first
 * '@' only (an e-mail address as a user ID makes two), characters not
 * bytes, and NULL never taken for "equal".
 */
Test(report_schema, derived_columns_read_back_as_they_were)
{
	static const struct imaddr_user users[] = {
		{ .mail = "jsmith@cisco.com", .directory_uri = "jsmith@cisco.com",
		  .current_uri = "jsmith@cisco.com", .im_address = "jsmith@cisco.com",
		  .im_domain = "cisco.com", .im_address_before = "jsmith@cisco.com" },
		{ .mail = "jsmith@cisco.com", .directory_uri = "john.smith@webex.com",
		  .current_uri = "js12345@cisco.com", .im_address = "js12345@cisco.com",
		  .im_domain = "cisco.com", .im_address_before = "john.smith@webex.com" },
		{ .mail = NULL, .directory_uri = NULL, .current_uri = NULL,
		  .im_address = "amckenzie@example.com@sales-example.com",
		  .im_domain = "sales-example.com", .im_address_before = NULL },
		{ .mail = "jürgen@münchen.example", .directory_uri = "jürgen@münchen.example",
		  .im_address = "jürgen@münchen.example", .im_domain = "münchen.example" },
		{ .mail = "a@b", .directory_uri = "a@b", .im_address = "ab",
		  .im_domain = "ab" },
	};
	static const uint64_t expected_bits[] = { 31, 8, 0, 13, 1 };
	sqlite3 *db = NULL;
	sqlite3_stmt *insert = NULL, *select = NULL;

	cr_assert_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE user_versions (id INTEGER PRIMARY KEY, mail,"
				  " directory_uri, current_uri, im_address, im_domain,"
				  " im_address_before, derived)", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO user_versions VALUES (?, ?, ?, ?, ?, ?,"
					" ?, ?)", -1, &insert, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db,
		"SELECT " IMADDR_REPORT_SCHEMA_DIRECTORY_URI_SQL("v") ", "
		IMADDR_REPORT_SCHEMA_CURRENT_URI_SQL("v") ", " IMADDR_REPORT_SCHEMA_IM_ADDRESS_SQL("v")
		", " IMADDR_REPORT_SCHEMA_IM_DOMAIN_SQL("v") ", "
		IMADDR_REPORT_SCHEMA_IM_ADDRESS_BEFORE_SQL("v") " FROM user_versions AS v"
		" WHERE id = ?", -1, &select, NULL), SQLITE_OK);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		struct imaddr_user stored;
		uint64_t bits = imaddr_report_schema_derive(&users[i], &stored);
		cr_expect_eq(bits, expected_bits[i], "user %zu: %llu", i, (unsigned long long)bits);
		const char *columns[] = { stored.mail, stored.directory_uri, stored.current_uri,
					  stored.im_address, stored.im_domain,
					  stored.im_address_before };
		sqlite3_bind_int64(insert, 1, (sqlite3_int64)i);
		for (int c = 0; c < 6; c++)
			sqlite3_bind_text(insert, 2 + c, columns[c], -1, SQLITE_STATIC);
		if (bits)
			sqlite3_bind_int64(insert, 8, (sqlite3_int64)bits);
		else
			sqlite3_bind_null(insert, 8);
		cr_assert_eq(sqlite3_step(insert), SQLITE_DONE);
		sqlite3_reset(insert);

		const char *wanted[] = { users[i].directory_uri, users[i].current_uri,
					 users[i].im_address, users[i].im_domain,
					 users[i].im_address_before };
		sqlite3_bind_int64(select, 1, (sqlite3_int64)i);
		cr_assert_eq(sqlite3_step(select), SQLITE_ROW);
		for (int c = 0; c < 5; c++) {
			const char *got = (const char *)sqlite3_column_text(select, c);
			if (!wanted[c])
				cr_expect_null(got, "user %zu column %d: %s", i, c, got);
			else
				cr_expect(got && strcmp(got, wanted[c]) == 0,
					  "user %zu column %d: %s, not %s", i, c, got, wanted[c]);
		}
		sqlite3_reset(select);
	}
	sqlite3_finalize(insert);
	sqlite3_finalize(select);
	sqlite3_close(db);
}

/* Version 4 added the run identity; version 3 lacked it. */
#define DOWNGRADE_TO_3_SQL \
	DOWNGRADE_TO_4_SQL \
	" DROP INDEX runs_by_label; ALTER TABLE runs DROP COLUMN label;" \
	" ALTER TABLE runs DROP COLUMN source_base; ALTER TABLE runs DROP COLUMN source_scope;" \
	" ALTER TABLE runs DROP COLUMN source_filter; ALTER TABLE runs DROP COLUMN mapping;" \
	" ALTER TABLE runs DROP COLUMN encoding;" \
	" PRAGMA user_version = 3;"

static void expect_version_4(const char *path)
{
	report_expect_rows(path, "PRAGMA user_version", "8\n");
	report_expect_rows(path, "SELECT count(*) FROM pragma_table_info('runs')"
				 " WHERE name IN ('label', 'source_base', 'source_scope',"
				 " 'source_filter', 'mapping')", "5\n");
	/* The old run's label is its input, so the new run follows it. */
	report_expect_rows(path, "SELECT id, previous_run_id, label FROM runs ORDER BY id",
			   "1|NULL|users.csv\n2|1|users.csv\n");
}

Test(report_schema, a_version_3_report_is_brought_up_to_date_by_the_next_run)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);
	report_run_sql(path, DOWNGRADE_TO_3_SQL);
	report_write_run(path, &report_second_run);
	expect_version_4(path);
	report_expect_rows(path, "SELECT count(*) FROM im_address_changes", "1\n");
}

/* Version 2 lacked the pre-migration and cluster columns: a run adds them. */
Test(report_schema, a_version_2_report_is_brought_up_to_date_by_the_next_run)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);
	report_run_sql(path, DOWNGRADE_TO_3_SQL
			     " DROP VIEW im_address_plan; DROP VIEW code_counts;"
			     " ALTER TABLE runs DROP COLUMN current_scheme;"
			     " ALTER TABLE runs DROP COLUMN current_default_domain;"
			     " ALTER TABLE users DROP COLUMN im_address_before;"
			     " ALTER TABLE users DROP COLUMN im_address_change;"
			     " ALTER TABLE users DROP COLUMN cluster;"
			     " ALTER TABLE findings DROP COLUMN cluster;"
			     " CREATE VIEW code_counts AS SELECT run_id, code, severity,"
			     " count(*) AS count FROM findings GROUP BY run_id, code, severity;"
			     " PRAGMA user_version = 2");
	report_write_run(path, &report_first_run);
	expect_version_4(path);
	report_expect_rows(path, "SELECT count(*) FROM pragma_table_info('users')"
				 " WHERE name IN ('im_address_before', 'im_address_change',"
				 " 'cluster')", "3\n");
	report_expect_rows(path, "SELECT count(*) FROM pragma_table_info('findings')"
				 " WHERE name = 'cluster'", "1\n");
	report_expect_rows(path, "SELECT count(*) FROM users WHERE run_id = 1", "3\n");
	report_expect_rows(path, "SELECT count(*) = (SELECT count(*) FROM users)"
				 " FROM im_address_plan", "1\n");
}

Test(report_schema, missing_directory_fails_naming_the_path)
{
	const char *path = path_in_dir("no/such/dir/report.sqlite");

	expect_refused(path, "No such file or directory");
	cr_assert_not(report_file_exists(path));
}

Test(report_schema, refuses_to_append_to_a_version_1_report)
{
	const char *path = path_in_dir("old.sqlite");
	struct imaddr_error err = { "" };
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA application_id = 1768776036;"
				  " PRAGMA user_version = 1; CREATE TABLE runs (id INTEGER);",
				  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_null(report_open_or_null(path, &err));
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "report '%s' has schema version 1, older than the 8 this imaddr writes: "
		 "keep it for its runs and start a new report", path);
	cr_assert_str_eq(err.message, expected);
}

/*
 * The child writes rows large enough to overflow the page cache, so that
 * pages of the run reach the database file, and is killed before end. The
 * next opener must find the previous report, the hot journal rolled back.
 */
Test(report_schema, opening_rolls_back_a_killed_run)
{
	const char *path = path_in_dir("report.sqlite");
	char journal[600];
	struct stat before;
	int status;
	pid_t child;

	report_write_run(path, &report_first_run);
	cr_assert_eq(stat(path, &before), 0);
	snprintf(journal, sizeof(journal), "%s-journal", path);
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		struct imaddr_error err = { "" };
		struct imaddr_sink *sink = report_open_or_null(path, &err);
		char *big = imaddr_xmalloc(8192);

		memset(big, 'x', 8191);
		big[8191] = '\0';
		if (!sink)
			_exit(2);
		report_begin_run(sink, "users.csv");
		for (uint64_t ordinal = 1; ordinal <= 8000; ordinal++) {
			struct imaddr_user user = { .ordinal = ordinal, .dn = big };
			if (sink->ops->user(sink, &user, &err) != IMADDR_OK)
				_exit(3);
		}
		struct stat during;
		if (!report_file_exists(journal) || stat(path, &during) != 0)
			_exit(4);
		if (during.st_size <= before.st_size)
			_exit(6);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the child did not get as far as the kill (exit %d)", WEXITSTATUS(status));
	cr_assert(report_file_exists(journal), "the killed run should leave a hot journal");

	report_free(report_open(path));
	cr_assert_not(report_file_exists(journal), "opening the report rolls the journal back");
	report_count_rows(path, "1|3|3|2\n");
	report_expect_rows(path, "PRAGMA integrity_check", "ok\n");
}

/*
 * Another process holds an exclusive lock on `path`, as a run committing a
 * large report does, and releases it after about `milliseconds`. Returns
 * once the lock is held.
 */
static pid_t hold_lock(const char *path, unsigned milliseconds)
{
	int ready[2];
	char byte;
	pid_t child;

	cr_assert_eq(pipe(ready), 0);
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		sqlite3 *db = NULL;

		close(ready[0]);
		if (sqlite3_open(path, &db) != SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
			_exit(2);
		if (write(ready[1], "l", 1) != 1)
			_exit(3);
		usleep(milliseconds * 1000);
		if (sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
			_exit(4);
		sqlite3_close(db);
		_exit(0);
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &byte, 1), 1, "the child could not lock '%s'", path);
	close(ready[0]);
	return child;
}

static void expect_released(pid_t child)
{
	int status;

	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child holding the lock failed (status %d)", status);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Opening reads the report's header: it waits for the lock like any statement. */
Test(report_schema, open_waits_for_another_process_to_release_the_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct timespec start;
	pid_t child;

	report_write_run(path, &report_first_run);
	child = hold_lock(path, 300);
	clock_gettime(CLOCK_MONOTONIC, &start);
	sink = report_open_or_null(path, &err);
	double waited = seconds_since(&start);
	cr_assert_not_null(sink, "%s (after %.2f s)", err.message, waited);
	cr_expect_geq(waited, 0.2, "the report was not locked while it was opened");
	report_begin_run(sink, report_second_run.input);
	report_feed_users(sink, &report_second_run);
	report_feed_findings(sink, &report_second_run);
	report_end_run(sink, &report_second_run);
	report_free(sink);
	expect_released(child);
	report_count_rows(path, "2|7|6|4\n");
}

/* A ^C while the run waits for the lock ends the wait, not the whole --wait later. */
Test(report_schema, a_stop_cuts_the_wait_for_the_report_short)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct timespec start;
	pid_t child;

	report_write_run(path, &report_first_run);
	sink = report_open(path);
	child = hold_lock(path, 2000);
	imaddr_stop_request();
	clock_gettime(CLOCK_MONOTONIC, &start);
	enum imaddr_status status = report_try_begin_run(sink, report_second_run.input, &err);
	double waited = seconds_since(&start);
	cr_expect_eq(status, IMADDR_ERR_INTERRUPTED, "%s", err.message);
	cr_expect_lt(waited, 1.0, "the stop was seen after %.2f s", waited);
	cr_expect(strstr(err.message, "interrupted while waiting for report"), "%s", err.message);
	cr_expect(strstr(err.message, path), "'%s' does not name the report", err.message);
	report_free(sink);
	expect_released(child);
	report_count_rows(path, "1|3|3|2\n");
}

Test(report_schema, begin_waits_for_another_process_to_release_the_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_sink *sink;
	struct timespec start;
	pid_t child;

	report_write_run(path, &report_first_run);
	sink = report_open(path);
	child = hold_lock(path, 300);
	clock_gettime(CLOCK_MONOTONIC, &start);
	report_begin_run(sink, report_second_run.input);
	cr_expect_geq(seconds_since(&start), 0.2, "the report was not locked at begin");
	report_feed_users(sink, &report_second_run);
	report_feed_findings(sink, &report_second_run);
	report_end_run(sink, &report_second_run);
	report_free(sink);
	expect_released(child);
	report_count_rows(path, "2|7|6|4\n");
}
