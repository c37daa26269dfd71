#include <criterion/criterion.h>

#include <sqlite3.h>
#include <stdio.h>

#include "imaddr.h"
#include "report_changes.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_changes);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* User IDs that sort differently by case and length; namesakes; a lost address. */
static const struct report_fixture_user changes_before[] = {
	{ 2, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 3, NULL, "dup", "B", "b@example.com", "example.com" },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "lost", "L", "l@example.com", "example.com" },
	{ 6, NULL, "Case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "ab", "AB", "ab@example.com", "example.com" },
};

static const struct report_fixture_user changes_after[] = {
	{ 2, NULL, "ab", "AB", "ab2@example.com", "example.com" },
	{ 3, NULL, "lost", "L", NULL, NULL },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 6, NULL, "case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "a", "A", "a1@example.com", "example.com" },
};

Test(report_changes, match_exact_user_ids_and_every_namesake)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture before = { "changes.csv", changes_before, 6, NULL, 0, NULL, 0 };
	const struct report_fixture after = { "changes.csv", changes_after, 6, NULL, 0, NULL, 0 };

	report_write_run(path, &before);
	report_write_run(path, &after);
	report_expect_rows(path,
		"SELECT * FROM im_address_changes ORDER BY run_id, ordinal, previous_ordinal",
		"2|1|ab|1|6|ab@example.com|ab2@example.com\n"
		"2|1|lost|2|4|l@example.com|NULL\n");
	/*
	 * The namesake with a@example.com is the same user, moved from line 2
	 * to 5, and held; the one with b@example.com is gone, not changed.
	 */
	report_expect_rows(path, "SELECT count(*) FROM user_versions WHERE first_run = 2", "4\n");
}

/*
 * Copies of a user ID: u1 loses one and changes, u2 gains one, and a user
 * without a user ID comes. The counts add up: 3 + 2 - 1 = 4.
 */
static const struct report_fixture_user copies_before[] = {
	{ 2, NULL, "u1", "A", "u1@example.com", "example.com" },
	{ 3, NULL, "u1", "A", "u1@example.com", "example.com" },
	{ 4, NULL, "u2", "B", "u2@example.com", "example.com" },
};

static const struct report_fixture_user copies_after[] = {
	{ 2, NULL, "u1", "A", "u1new@example.com", "example.com" },
	{ 3, NULL, "u2", "B", "u2@example.com", "example.com" },
	{ 4, NULL, "u2", "B", "u2@example.com", "example.com" },
	{ 5, NULL, NULL, "C", "c@example.com", "example.com" },
};

Test(report_changes, added_and_removed_count_copies_of_a_user_id)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture before = { "copies.csv", copies_before, 3, NULL, 0, NULL, 0 };
	const struct report_fixture after = { "copies.csv", copies_after, 4, NULL, 0, NULL, 0 };
	report_write_run(path, &before);
	report_write_run(path, &after);

	/* Computed again, as the run did, in a transaction given back. */
	sqlite3 *db = NULL;
	struct imaddr_run_changes changes = { 0 };
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "BEGIN; DELETE FROM im_address_changes WHERE run_id = 2",
				  NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(imaddr_report_changes_record(db, 2, 1, &changes), SQLITE_OK, "%s",
		     sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	cr_expect_eq(changes.users_added, 2);
	cr_expect_eq(changes.users_removed, 1);
	/* The u1 left is compared with both u1s of the run before. */
	cr_expect_eq(changes.im_addresses_changed, 2);
}

static const struct report_fixture_user one_user[] = {
	{ 2, NULL, "u", "U", "u@example.com", "example.com" },
};

/* The history of `run`, read as the report's sink and `imaddr report` read it. */
static struct imaddr_report_history *history_of(const char *path, sqlite3_int64 run)
{
	static struct imaddr_report_history history;
	struct imaddr_run_changes changes = { 0 };
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(imaddr_report_changes_history(db, run, &history, &changes), SQLITE_OK,
		     "%s", sqlite3_errmsg(db));
	cr_assert_eq(changes.history, history.points);
	cr_assert_eq(changes.history_count, history.count);
	sqlite3_close(db);
	return &history;
}

Test(report_changes, history_holds_the_last_runs_of_the_label_oldest_first)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture a = { "a.csv", one_user, 1, NULL, 0, NULL, 0 };
	const struct report_fixture b = { "b.csv", one_user, 1, NULL, 0, NULL, 0 };

	/* Runs 1 (b), 2 (a), 3 (b), then 4 to 65 of a: 63 runs of a in all. */
	report_write_run(path, &b);
	report_write_run(path, &a);
	report_write_run(path, &b);
	for (int i = 0; i < IMADDR_HISTORY_RUNS + 2; i++)
		report_write_run(path, &a);

	struct imaddr_report_history *history = history_of(path, 3);
	cr_assert_eq(history->count, 2, "run 3 of b: runs 1 and 3");
	cr_assert_eq(history->points[0].run_id, 1);
	cr_assert_eq(history->points[1].run_id, 3);
	cr_assert_eq(history->points[1].users, 1);
	cr_assert_str_eq(history->points[1].started, "2023-11-14T22:13:20Z");

	history = history_of(path, 10);
	cr_assert_eq(history->count, 8, "run 10 of a: runs 2 and 4 to 10, none later");
	cr_assert_eq(history->points[0].run_id, 2);
	cr_assert_eq(history->points[7].run_id, 10);

	history = history_of(path, 3 + IMADDR_HISTORY_RUNS + 2);
	cr_assert_eq(history->count, IMADDR_HISTORY_RUNS);
	cr_assert_eq(history->points[0].run_id, 3 + 2 + 1, "the oldest kept");
	cr_assert_eq(history->points[IMADDR_HISTORY_RUNS - 1].run_id, 3 + IMADDR_HISTORY_RUNS + 2);
}
