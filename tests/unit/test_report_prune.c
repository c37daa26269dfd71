/*
 * Retention (imaddr_report_prune), tested against a twin: the same audits
 * written into two reports, one of them pruned. Every run the pruned report
 * keeps must read there exactly as in the twin, and the runs after the prune
 * must compare with their previous runs as in the twin, through real SQLite
 * files opened again.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buffer.h"
#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_prune);

/*
 * Night `night` of a directory of `size` users and a few more: most users
 * stay as they were from night to night (their versions held by many runs),
 * some change their mail now and then, share one for two nights, have an
 * invalid address two nights in three; some always lack a last name; the
 * last users come and go.
 */
static char *night_csv(unsigned night, unsigned size)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,mail,sn\n");
	for (unsigned i = 0; i < size + night % 4; i++) {
		if (i + 3 >= size && i < size && night % 3 == 0)
			continue;
		imaddr_buf_appendf(&csv, "u%u,", i);
		if (i % 17 == 3 && (night + i / 17) % 3 != 0)
			imaddr_buf_append_str(&csv, "not an address");
		else if (i % 13 == 1 && (night / 2 + i) % 2 == 0)
			imaddr_buf_appendf(&csv, "u%u.%u@example.com", i - 1, (night + i - 1) / 5);
		else
			imaddr_buf_appendf(&csv, "u%u.%u@example.com", i, (night + i) / 5);
		imaddr_buf_appendf(&csv, ",%s\n", i % 19 == 7 ? "" : "Sn");
	}
	return imaddr_buf_detach(&csv);
}

/* An audit of `csv` under `label` into the report at `path`. */
static void audit_into(const char *path, const char *label, const char *csv)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_reader *reader = NULL;
	struct imaddr_sink *sink = NULL;
	struct imaddr_error err = { "" };
	char *input = tempdir_write_str(dir, "users.csv", csv);

	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = label;
	options.label = label;
	options.allow_shrink = true;
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_sink_report_open(path, -1, &sink, &err), IMADDR_OK, "%s", err.message);
	imaddr_audit_add_sink(audit, sink);
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_OK, "%s", err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	free(input);
}

/* Night `night` of both labels into both reports. */
static void both_nights(const char *twin, const char *pruned, unsigned night)
{
	char *east = night_csv(night, 60);
	char *west = night_csv(night + 3, 45);

	audit_into(twin, "east", east);
	audit_into(pruned, "east", east);
	audit_into(twin, "west", west);
	audit_into(pruned, "west", west);
	free(east);
	free(west);
}

static char *stored_summary(const char *report, int64_t run_id)
{
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	cr_assert_eq(imaddr_report_write_summary(report, run_id, out, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(fclose(out), 0);
	return text;
}

/*
 * The twins' runs start a moment apart: "compared with run 1 of 2026-12-01
 * 02:00, label" loses its time.
 */
static char *without_time(char *summary)
{
	char *at = strstr(summary, " of 20");
	if (at && strlen(at) > 20 && at[20] == ',')
		memset(at + 4, 'T', 16);
	return summary;
}

/* `sql` (with %lld for the run) reads the same in both reports. */
static void expect_same(const char *twin, const char *pruned, const char *sql, long long run)
{
	char query[2048];
	snprintf(query, sizeof(query), sql, run, run, run);
	char *expected = report_query(twin, query);
	char *actual = report_query(pruned, query);
	cr_expect_str_eq(actual, expected, "run %lld: %s\nexpected:\n%s\nactual:\n%s", run, query,
			 expected, actual);
	free(expected);
	free(actual);
}

/* What a run saw, as every reader sees it: the views, without version ids. */
static void expect_run_reads_alike(const char *twin, const char *pruned, long long run)
{
	expect_same(twin, pruned, "SELECT * FROM users WHERE run_id = %lld ORDER BY ordinal", run);
	expect_same(twin, pruned,
		"SELECT run_id, ordinal, line, dn, user_id, code, severity, field, value, message,"
		" suggestion, related_ordinal, related_line, related_dn, related_user_id"
		" FROM finding_rows WHERE run_id = %lld ORDER BY finding_id", run);
	expect_same(twin, pruned, "SELECT * FROM error_users WHERE run_id = %lld ORDER BY ordinal",
		    run);
	expect_same(twin, pruned, "SELECT * FROM code_counts WHERE run_id = %lld ORDER BY code",
		    run);
	expect_same(twin, pruned, "SELECT * FROM domains WHERE run_id = %lld ORDER BY ascii", run);
	expect_same(twin, pruned,
		"SELECT id, input, label, users, users_with_error, errors, warnings"
		" FROM runs WHERE id = %lld", run);
	char *expected = without_time(stored_summary(twin, run));
	char *actual = without_time(stored_summary(pruned, run));
	cr_expect_str_eq(actual, expected, "run %lld's summary", run);
	free(expected);
	free(actual);
}

/* What a run found changed since its previous run. */
static void expect_changes_alike(const char *twin, const char *pruned, long long run)
{
	expect_same(twin, pruned, "SELECT previous_run_id FROM runs WHERE id = %lld", run);
	expect_same(twin, pruned,
		"SELECT run_id, previous_run_id, ordinal, user_id, code, severity, field, value,"
		" message FROM new_findings WHERE run_id = %lld ORDER BY finding_id", run);
	expect_same(twin, pruned,
		"SELECT run_id, previous_run_id, previous_ordinal, user_id, code, severity, field,"
		" value, message FROM resolved_findings WHERE run_id = %lld"
		" ORDER BY user_id, code, field, value", run);
	expect_same(twin, pruned,
		"SELECT * FROM im_address_changes WHERE run_id = %lld ORDER BY ordinal", run);
	/* The label's state survived: the run wrote only what changed, as in the twin. */
	expect_same(twin, pruned,
		"SELECT (SELECT count(*) FROM user_versions WHERE first_run = %lld),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = %lld)", run);
}

static void prune(const char *path, const char *label, unsigned keep,
		  struct imaddr_prune_result *result)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_report_prune(path, label, keep, -1, result, &err), IMADDR_OK, "%s",
		     err.message);
}

Test(report_prune, kept_runs_read_as_they_did_and_later_runs_compare_as_before)
{
	char *twin = tempdir_path(dir, "twin.sqlite");
	char *pruned = tempdir_path(dir, "pruned.sqlite");
	struct imaddr_prune_result result;

	/* Runs 1 to 12: east the odd ones, west the even ones. */
	for (unsigned night = 1; night <= 6; night++)
		both_nights(twin, pruned, night);
	prune(pruned, NULL, 2, &result);
	cr_expect_eq(result.labels, 2);
	cr_expect_eq(result.runs, 8);
	cr_expect_gt(result.user_versions, 0);
	cr_expect_gt(result.finding_versions, 0);
	cr_expect_gt(result.other_rows, 0);
	report_expect_rows(pruned, "SELECT id, previous_run_id FROM runs WHERE pruned IS NULL"
				   " ORDER BY id", "9|NULL\n10|NULL\n11|9\n12|10\n");
	for (long long run = 9; run <= 12; run++)
		expect_run_reads_alike(twin, pruned, run);
	expect_changes_alike(twin, pruned, 11);
	expect_changes_alike(twin, pruned, 12);
	/*
	 * Nothing is left of a run that is gone but the versions kept runs hold,
	 * and its row, marked pruned, for them.
	 */
	report_expect_rows(pruned,
		"SELECT (SELECT count(*) FROM user_versions WHERE first_run < 9 AND end_run <= 9),"
		" (SELECT count(*) FROM finding_versions WHERE first_run < 9 AND end_run <= 9),"
		" (SELECT count(*) FROM domains WHERE run_id < 9),"
		" (SELECT count(*) FROM im_address_changes WHERE run_id < 9"
		"    OR previous_run_id < 9),"
		" (SELECT count(*) FROM run_summaries WHERE run_id < 9),"
		" (SELECT count(*) FROM run_commits WHERE run_id < 9)", "0|0|0|0|0|0\n");
	report_expect_rows(pruned,
		"SELECT count(*) > 0, count(*) = sum(pruned = 1) FROM runs WHERE id < 9", "1|1\n");
	report_expect_rows(pruned, "PRAGMA foreign_key_check", "");
	report_expect_rows(pruned, "PRAGMA integrity_check", "ok\n");

	/* The nights after: each compared with the previous, its state found. */
	for (unsigned night = 7; night <= 8; night++)
		both_nights(twin, pruned, night);
	for (long long run = 9; run <= 16; run++)
		expect_run_reads_alike(twin, pruned, run);
	for (long long run = 11; run <= 16; run++)
		expect_changes_alike(twin, pruned, run);

	/* Pruned again, to one run: the last ones still read as they did. */
	prune(pruned, NULL, 1, &result);
	cr_expect_eq(result.runs, 6);
	/* A pruned run stays only while a kept run holds something it wrote. */
	report_expect_rows(pruned,
		"SELECT count(*) FROM runs AS r WHERE r.pruned = 1"
		" AND NOT EXISTS (SELECT 1 FROM user_versions AS v WHERE v.first_run = r.id)"
		" AND NOT EXISTS (SELECT 1 FROM finding_versions AS v WHERE v.first_run = r.id)"
		" AND NOT EXISTS (SELECT 1 FROM user_positions AS v WHERE v.first_run = r.id)",
		"0\n");
	report_expect_rows(pruned, "SELECT count(*) FROM runs WHERE pruned IS NULL", "2\n");
	expect_run_reads_alike(twin, pruned, 15);
	expect_run_reads_alike(twin, pruned, 16);
	both_nights(twin, pruned, 9);
	expect_changes_alike(twin, pruned, 17);
	expect_changes_alike(twin, pruned, 18);
	free(twin);
	free(pruned);
}

Test(report_prune, one_label_alone)
{
	char *twin = tempdir_path(dir, "twin.sqlite");
	char *pruned = tempdir_path(dir, "pruned.sqlite");
	struct imaddr_prune_result result;

	for (unsigned night = 1; night <= 3; night++)
		both_nights(twin, pruned, night);
	prune(pruned, "west", 1, &result);
	cr_expect_eq(result.labels, 1);
	cr_expect_eq(result.runs, 2);
	report_expect_rows(pruned, "SELECT id, label FROM runs WHERE pruned IS NULL ORDER BY id",
			   "1|east\n3|east\n5|east\n6|west\n");
	for (long long run = 1; run <= 6; run += run == 5 ? 1 : 2)
		expect_run_reads_alike(twin, pruned, run);
	expect_changes_alike(twin, pruned, 3);
	expect_changes_alike(twin, pruned, 5);
	both_nights(twin, pruned, 4);
	expect_changes_alike(twin, pruned, 7);
	expect_changes_alike(twin, pruned, 8);
	free(twin);
	free(pruned);
}

/* A caller that does not ask what was removed passes no result: the prune is the same. */
Test(report_prune, without_a_result)
{
	char *twin = tempdir_path(dir, "twin.sqlite");
	char *pruned = tempdir_path(dir, "pruned.sqlite");
	struct imaddr_error err = { "" };

	for (unsigned night = 1; night <= 3; night++)
		both_nights(twin, pruned, night);
	cr_assert_eq(imaddr_report_prune(pruned, "west", 1, -1, NULL, &err), IMADDR_OK, "%s",
		     err.message);
	report_expect_rows(pruned, "SELECT id, label FROM runs WHERE pruned IS NULL ORDER BY id",
			   "1|east\n3|east\n5|east\n6|west\n");
	/* A failure alike. */
	cr_expect_eq(imaddr_report_prune(pruned, NULL, 0, -1, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_eq(imaddr_report_prune(pruned, "users", 1, -1, NULL, &err), IMADDR_ERR_USAGE);
	free(twin);
	free(pruned);
}

/* The oldest kept run's summary still says what it was compared with. */
Test(report_prune, the_oldest_kept_run_keeps_its_changes_in_its_summary)
{
	char *twin = tempdir_path(dir, "twin.sqlite");
	char *pruned = tempdir_path(dir, "pruned.sqlite");
	struct imaddr_prune_result result;

	for (unsigned night = 1; night <= 2; night++)
		both_nights(twin, pruned, night);
	prune(pruned, NULL, 1, &result);
	char *summary = stored_summary(pruned, 3);
	cr_expect(strstr(summary, "since the previous run: run 3 compared with run 1 of "),
		  "%s", summary);
	free(summary);
	free(twin);
	free(pruned);
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/*
 * Night `night` of 3000 users in blocks of 200: every user's mail changes
 * every night (`all_change`), or only the block numbered as the night.
 */
static void audit_blocks(const char *path, unsigned night, bool all_change)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,mail,sn\n");
	for (unsigned i = 0; i < 3000; i++) {
		unsigned block = i / 200;
		imaddr_buf_appendf(&csv, "user%u,user%u.night%u@example.com,Sn\n", i, i,
				   all_change ? night : block <= night ? block : 0);
	}
	audit_into(path, "nightly", csv.data);
	imaddr_buf_release(&csv);
}

/* Every user's mail changes every night: each run writes every user again. */
Test(report_prune, gives_the_space_back)
{
	char *path = tempdir_path(dir, "r.sqlite");
	struct imaddr_prune_result result;

	for (unsigned night = 1; night <= 4; night++)
		audit_blocks(path, night, true);
	uint64_t before = file_size(path);
	prune(path, NULL, 1, &result);
	cr_expect_eq(result.runs, 3);
	cr_expect_eq(result.user_versions, 9000);
	cr_expect(result.vacuumed);
	cr_expect_gt(result.bytes_freed, result.bytes_before / 2);
	cr_expect_eq(result.bytes_before, before);
	cr_expect_eq(result.bytes_after, file_size(path));
	cr_expect_lt(result.bytes_after * 2, result.bytes_before, "%llu -> %llu",
		     (unsigned long long)result.bytes_before, (unsigned long long)result.bytes_after);
	report_expect_rows(path, "SELECT count(*) FROM users WHERE run_id = 4", "3000\n");
	free(path);
}

/*
 * A night that changed 200 users of 3000 frees a few pages: they stay in
 * the report for the next runs, which fill them before the file grows.
 */
Test(report_prune, a_small_prune_leaves_its_free_pages_to_the_next_runs)
{
	char *path = tempdir_path(dir, "r.sqlite");
	struct imaddr_prune_result result;

	for (unsigned night = 1; night <= 3; night++)
		audit_blocks(path, night, false);
	uint64_t before = file_size(path);
	prune(path, NULL, 2, &result);
	cr_expect_eq(result.runs, 1);
	cr_expect_eq(result.user_versions, 200);
	cr_expect(!result.vacuumed);
	cr_expect_gt(result.bytes_freed, 0);
	/* Not given back: the moves of the kept versions may even take a page. */
	cr_expect_geq(result.bytes_after, before);
	cr_expect_eq(file_size(path), result.bytes_after);
	char *free_pages = report_query(path, "PRAGMA freelist_count");
	cr_expect_gt(atoi(free_pages), 0);
	/* The next night writes into them first. */
	audit_blocks(path, 4, false);
	char *left = report_query(path, "PRAGMA freelist_count");
	cr_expect_lt(atoi(left), atoi(free_pages), "%s -> %s", free_pages, left);
	free(free_pages);
	free(left);
	free(path);
}

Test(report_prune, nothing_to_remove_leaves_the_file_alone)
{
	char *path = tempdir_path(dir, "r.sqlite");
	struct imaddr_prune_result result;

	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	uint64_t before = file_size(path);
	prune(path, NULL, 2, &result);
	cr_expect_eq(result.runs, 0);
	cr_expect_eq(result.labels, 0);
	cr_expect_eq(result.bytes_after, result.bytes_before);
	cr_expect_eq(file_size(path), before);
	report_expect_rows(path, "SELECT count(*) FROM runs", "2\n");
	free(path);
}

Test(report_prune, refuses_what_it_cannot_do)
{
	char *path = tempdir_path(dir, "r.sqlite");
	char *missing = tempdir_path(dir, "missing.sqlite");
	struct imaddr_prune_result result;
	struct imaddr_error err = { "" };

	report_write_run(path, &report_first_run);
	cr_expect_eq(imaddr_report_prune(path, NULL, 0, -1, &result, &err), IMADDR_ERR_USAGE);
	cr_expect_eq(imaddr_report_prune(path, "users", 1, -1, &result, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "has no run of label 'users' (its labels: 'users.csv')"),
		  "%s", err.message);
	cr_expect_eq(imaddr_report_prune(missing, NULL, 1, -1, &result, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "missing.sqlite': no such file"), "%s", err.message);
	cr_expect(!report_file_exists(missing));
	free(path);
	free(missing);
}

/* A table that names runs and declares nothing for their removal stops the prune. */
Test(report_prune, a_reference_it_cannot_follow_leaves_the_report_as_it_was)
{
	char *path = tempdir_path(dir, "r.sqlite");
	struct imaddr_prune_result result;
	struct imaddr_error err = { "" };

	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	report_run_sql(path, "CREATE TABLE notes (run_id INTEGER REFERENCES runs (id), note TEXT);"
			     " INSERT INTO notes VALUES (1, 'keep me')");
	cr_expect_eq(imaddr_report_prune(path, NULL, 1, -1, &result, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "its table 'notes' names runs to remove (column 'run_id')"),
		  "%s", err.message);
	report_expect_rows(path, "SELECT count(*) FROM runs", "2\n");
	report_expect_rows(path, "SELECT run_id, count(*) FROM users GROUP BY run_id",
			   "1|3\n2|4\n");
	free(path);
}
