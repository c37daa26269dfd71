#include <criterion/criterion.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buffer.h"
#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(sink_report);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

Test(sink_report, records_run_users_findings_and_domains)
{
	const char *path = path_in_dir("report.sqlite");

	report_write_run(path, &report_first_run);

	report_expect_rows(path, "PRAGMA user_version", "8\n");
	report_expect_rows(path, "PRAGMA application_id", "1768776036\n");
	report_expect_rows(path,
		"SELECT id, previous_run_id, started, finished IS NOT NULL, version, input,"
		" scheme, default_domain, im_domains, users, users_with_im_address,"
		" users_with_error, errors, warnings, infos FROM runs",
		"1|NULL|2023-11-14T22:13:20Z|1|0.1.0|users.csv|userid|example.com|"
		"example.com,münchen.example|3|3|1|2|1|0\n");
	report_expect_rows(path,
		"SELECT finished GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
		"[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' FROM runs", "1\n");
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, mail, first_name, last_name,"
		" directory_uri, current_uri, im_address, im_domain FROM users ORDER BY ordinal",
		"1|1|2|CN=Ann Lee,DC=example,DC=com|alee|alee@example.com|Pat|Lee|"
		"alee@example.com|NULL|alee@xn--mnchen-3ya.example|xn--mnchen-3ya.example\n"
		"1|2|3|CN=Bo Smith,DC=example,DC=com|bsmith|bsmith@example.com|Pat|NULL|"
		"bsmith@example.com|NULL|bsmith@example.com|example.com\n"
		"1|3|4|CN=Bo Smith 2,DC=example,DC=com|BSmith|BSmith@example.com|Pat|Smith|"
		"BSmith@example.com|NULL|bsmith@example.com|example.com\n");
	/* Stored once: the URI that is the mail address, the IM address that is the URI. */
	report_expect_rows(path,
		"SELECT ordinal, derived, directory_uri, im_address, im_domain FROM user_versions"
		" ORDER BY ordinal",
		"1|9|NULL|alee@xn--mnchen-3ya.example|NULL\n"
		"2|13|NULL|NULL|NULL\n"
		"3|9|NULL|bsmith@example.com|NULL\n");
	/* A user's line and DN live in users; a finding of no user keeps its own. */
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, code, severity, field, value,"
		" related_ordinal, message, suggestion FROM findings ORDER BY id",
		"1|2|NULL|NULL|bsmith|lastname-missing|warning|sn|NULL|NULL|"
		"the user has no last name; LDAP sync and BAT inserts need one|NULL\n"
		"1|3|NULL|NULL|BSmith|im-address-duplicate|error|sAMAccountName|BSmith|2|"
		"another user would get the same IM address|bsmith2\n"
		"1|0|5|CN=Skipped,DC=example,DC=com|NULL|record-malformed|error|NULL|x,y|NULL|"
		"the input record cannot be read as it stands|NULL\n");
	report_expect_rows(path, "SELECT * FROM domains ORDER BY ascii",
		"1|example.com|example.com|2|1\n"
		"1|xn--mnchen-3ya.example|münchen.example|1|1\n");
	report_expect_rows(path,
		"SELECT ordinal, line, dn, user_id, code, related_ordinal, related_line,"
		" related_dn, related_user_id FROM finding_rows ORDER BY finding_id",
		"2|3|CN=Bo Smith,DC=example,DC=com|bsmith|lastname-missing|"
		"NULL|NULL|NULL|NULL\n"
		"3|4|CN=Bo Smith 2,DC=example,DC=com|BSmith|im-address-duplicate|"
		"2|3|CN=Bo Smith,DC=example,DC=com|bsmith\n"
		"0|5|CN=Skipped,DC=example,DC=com|NULL|record-malformed|"
		"NULL|NULL|NULL|NULL\n");
	report_expect_rows(path, "SELECT run_id, ordinal, user_id, mail, directory_uri, im_address,"
				 " im_domain FROM error_users",
			   "1|3|BSmith|BSmith@example.com|BSmith@example.com|bsmith@example.com|"
			   "example.com\n");
	report_expect_rows(path, "SELECT * FROM code_counts ORDER BY code",
		"1|im-address-duplicate|error|1|0\n"
		"1|lastname-missing|warning|1|0\n"
		"1|record-malformed|error|1|0\n");
	report_expect_rows(path, "SELECT id FROM latest_run", "1\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings", "0\n");
	report_expect_rows(path,
		"SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
		" ORDER BY name",
		"finding_versions_by_key\nfinding_versions_ended\nruns_by_label\n"
		"user_positions_by_run\nuser_positions_by_version\nuser_positions_held\n"
		"user_versions_ended\n");
	report_expect_rows(path, "SELECT count(*) FROM im_address_changes", "0\n");
}

/* Indexes that came to version 8 after it did: a report without them gets them. */
Test(sink_report, a_run_adds_the_indexes_a_report_lacks)
{
	const char *path = path_in_dir("report.sqlite");
	sqlite3 *db;
	report_write_run(path, &report_first_run);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "DROP INDEX user_positions_held;"
				  " DROP INDEX user_positions_by_run", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	report_write_run(path, &report_second_run);
	report_expect_rows(path,
		"SELECT name FROM sqlite_master WHERE name LIKE 'user_positions_%' ORDER BY name",
		"user_positions_by_run\nuser_positions_by_version\nuser_positions_held\n");
}

Test(sink_report, second_run_appends_and_compares_with_the_first)
{
	const char *path = path_in_dir("report.sqlite");
	struct report_fixture other_input = report_first_run;

	report_write_run(path, &report_first_run);
	report_write_run(path, &report_second_run);
	other_input.input = "other.csv";
	report_write_run(path, &other_input);

	report_expect_rows(path, "SELECT id, previous_run_id, input, users FROM runs ORDER BY id",
		"1|NULL|users.csv|3\n2|1|users.csv|4\n3|NULL|other.csv|3\n");
	report_expect_rows(path, "SELECT id FROM latest_run", "3\n");
	report_expect_rows(path, "SELECT run_id, count(*) FROM users GROUP BY run_id",
		"1|3\n2|4\n3|3\n");
	report_expect_rows(path, "SELECT * FROM im_address_changes",
		"2|1|alee|1|1|alee@xn--mnchen-3ya.example|ann.lee@xn--mnchen-3ya.example\n");
	/* Bo's missing last name and the malformed row are old news. */
	report_expect_rows(path,
		"SELECT run_id, previous_run_id, ordinal, user_id, code, severity, field,"
		" value FROM new_findings",
		"2|1|4|cdoe|userid-not-canonical|warning|sAMAccountName|cdoe \n");
	report_expect_rows(path,
		"SELECT run_id, previous_run_id, previous_ordinal, user_id, code, field,"
		" value FROM resolved_findings",
		"2|1|3|BSmith|im-address-duplicate|sAMAccountName|BSmith\n");
	report_expect_rows(path, "SELECT run_id, count(*) FROM domains GROUP BY run_id",
		"1|2\n2|2\n3|2\n");
}

Test(sink_report, aborted_run_leaves_the_previous_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_sink *sink;

	report_write_run(path, &report_first_run);
	sink = report_open(path);
	report_begin_run(sink, "users.csv");
	report_feed_users(sink, &report_second_run);
	report_feed_findings(sink, &report_second_run);
	sink->ops->abort(sink);
	report_free(sink);
	report_count_rows(path, "1|3|3|2\n");

	/* A run dropped without end or abort is thrown away too. */
	sink = report_open(path);
	report_begin_run(sink, "users.csv");
	report_feed_users(sink, &report_second_run);
	report_free(sink);
	report_count_rows(path, "1|3|3|2\n");

	report_write_run(path, &report_second_run);
	report_count_rows(path, "2|7|6|4\n");
}

Test(sink_report, aborted_first_run_removes_the_file)
{
	const char *path = path_in_dir("new.sqlite");
	struct imaddr_sink *sink;
	char *listing;

	/* Opened and freed without a run: nothing is created. */
	sink = report_open(path);
	report_free(sink);
	cr_assert_not(report_file_exists(path));

	sink = report_open(path);
	cr_assert_not(report_file_exists(path), "opening must not create the report");
	report_begin_run(sink, "users.csv");
	cr_assert(report_file_exists(path));
	report_feed_users(sink, &report_first_run);
	sink->ops->abort(sink);
	report_free(sink);
	listing = tempdir_list(dir);
	cr_expect_str_eq(listing, "", "left behind: %s", listing);
	free(listing);
}

Test(sink_report, empty_file_becomes_a_report_and_is_kept_on_abort)
{
	char *path = tempdir_write_str(dir, "empty.sqlite", "");
	struct imaddr_sink *sink;

	sink = report_open(path);
	report_begin_run(sink, "users.csv");
	sink->ops->abort(sink);
	report_free(sink);
	cr_assert(report_file_exists(path), "a file this run did not create is not removed");

	report_write_run(path, &report_first_run);
	report_count_rows(path, "1|3|3|2\n");
	free(path);
}

/*
 * From here on, no file of this process may grow more than `room` bytes
 * past the size `path` has now, as on a disk with that much room left:
 * writing past it fails (EFBIG rather than the SIGXFSZ that would kill the
 * test).
 */
static void leave_room(const char *path, off_t room, struct rlimit *saved)
{
	struct rlimit limit;
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, saved), 0);
	limit = *saved;
	limit.rlim_cur = (rlim_t)(st.st_size + room);
	cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &limit), 0);
}

static void restore_room(const struct rlimit *saved)
{
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, saved), 0);
	signal(SIGXFSZ, SIG_DFL);
}

static off_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

/*
 * What a failed run must leave, checked before the caller aborts it: the
 * report as it was, its size included, and no hot journal for the next
 * opener to find.
 */
static void expect_rolled_back(const char *path, off_t size)
{
	char journal[600];

	snprintf(journal, sizeof(journal), "%s-journal", path);
	cr_expect_not(report_file_exists(journal), "a journal is left beside the report");
	cr_expect_eq(file_size(path), size, "the report is %lld bytes, %lld before the run",
		     (long long)file_size(path), (long long)size);
}

/* Users with 8 KiB DNs; stops at the first that fails. */
static enum imaddr_status feed_big_users(struct imaddr_sink *sink, uint64_t count,
					 struct imaddr_error *err)
{
	enum imaddr_status status = IMADDR_OK;
	char *big = imaddr_xmalloc(8192);

	memset(big, 'x', 8191);
	big[8191] = '\0';
	for (uint64_t ordinal = 1; status == IMADDR_OK && ordinal <= count; ordinal++) {
		struct imaddr_user user = { .ordinal = ordinal, .dn = big };
		status = sink->ops->user(sink, &user, err);
	}
	free(big);
	return status;
}

/* Then the report takes runs again, the failed one nowhere. */
static void expect_previous_report(const char *path)
{
	report_count_rows(path, "1|3|3|2\n");
	report_expect_rows(path, "PRAGMA integrity_check", "ok\n");
	report_write_run(path, &report_second_run);
	report_count_rows(path, "2|7|6|4\n");
}

/*
 * The disk fills up as the run commits: end fails, and has rolled the run
 * back and closed the report by the time it returns. `users` big users are
 * written before the disk fills up: 256 stay in SQLite's page cache until
 * the commit; 8000 overflow it, so that part of the run is in the file
 * already when the commit fails.
 */
static void expect_failed_commit_rolled_back(uint64_t users)
{
	const char *path = path_in_dir("report.sqlite");
	/* As many users as were fed: not a shrunken source. */
	struct imaddr_run_totals totals = { .users = users };
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct rlimit saved;
	off_t size;

	report_write_run(path, &report_first_run);
	size = file_size(path);
	sink = report_open(path);
	report_begin_run(sink, "users.csv");
	cr_assert_eq(feed_big_users(sink, users, &err), IMADDR_OK, "%s", err.message);
	leave_room(path, 65536, &saved);
	enum imaddr_status status = sink->ops->end(sink, &totals, &err);
	if (status == IMADDR_OK)
		status = sink->ops->commit(sink, &err);
	cr_assert_eq(status, IMADDR_ERR_DB);
	restore_room(&saved);
	cr_expect(strstr(err.message, path), "'%s' does not name the report", err.message);
	expect_rolled_back(path, size);
	sink->ops->abort(sink);
	report_free(sink);
	expect_previous_report(path);
}

Test(sink_report, failed_commit_is_rolled_back_before_end_returns)
{
	expect_failed_commit_rolled_back(256);
}

Test(sink_report, failed_commit_of_a_spilled_run_is_rolled_back_before_end_returns)
{
	expect_failed_commit_rolled_back(8000);
}

/*
 * The disk fills up while users are written (the run outgrows the page
 * cache, which SQLite then writes out): the user that fails has rolled the
 * run back when it returns, before the caller aborts it.
 */
Test(sink_report, failed_write_is_rolled_back_before_the_write_returns)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct rlimit saved;
	off_t size;

	report_write_run(path, &report_first_run);
	size = file_size(path);
	sink = report_open(path);
	leave_room(path, 65536, &saved);
	report_begin_run(sink, "users.csv");
	cr_assert_eq(feed_big_users(sink, 8000, &err), IMADDR_ERR_DB);
	restore_room(&saved);
	cr_expect(strstr(err.message, "cannot write a user to report"), "%s", err.message);
	expect_rolled_back(path, size);
	struct imaddr_user more = { .ordinal = 8001 };
	cr_expect_eq(sink->ops->user(sink, &more, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "the run has ended"), "%s", err.message);
	sink->ops->abort(sink);
	report_free(sink);
	expect_previous_report(path);
}


/* Begins, feeds and ends a run of `fixture` claiming `users` users. */
static enum imaddr_status end_run_of(struct imaddr_sink *sink, const struct report_fixture *fixture,
				     uint64_t users, struct imaddr_error *err)
{
	struct imaddr_run_totals totals = { .users = users };

	report_begin_run(sink, fixture->input);
	report_feed_users(sink, fixture);
	report_feed_findings(sink, fixture);
	return sink->ops->end(sink, &totals, err);
}

Test(sink_report, tells_what_changed_since_the_previous_run_of_the_label)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_run_totals told = { 0 };
	struct imaddr_buf notes;
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;

	report_write_run(path, &report_first_run);
	sink = report_open(path);
	cr_assert_eq(end_run_of(sink, &report_second_run, 4, &err), IMADDR_OK, "%s", err.message);
	imaddr_buf_init(&notes, 0);
	sink->ops->describe(sink, &notes, &told);
	const struct imaddr_run_changes *changes = told.changes;
	cr_assert(changes);
	cr_expect_eq(changes->run_id, 2);
	cr_expect_eq(changes->previous_run_id, 1);
	cr_expect_str_eq(changes->label, "users.csv");
	cr_expect_str_eq(changes->previous_started, "2023-11-14T22:13:20Z");
	cr_expect_eq(changes->previous_users, 3);
	/* Cy arrives; BSmith is renamed bsmith2: one gone, one added. */
	cr_expect_eq(changes->users_added, 2);
	cr_expect_eq(changes->users_removed, 1);
	cr_expect_eq(changes->im_addresses_changed, 1);
	cr_expect_eq(changes->new_by_code[IMADDR_CODE_USERID_NOT_CANONICAL], 1);
	cr_expect_eq(changes->new_by_severity[IMADDR_SEVERITY_WARNING], 1);
	cr_expect_eq(changes->resolved_by_code[IMADDR_CODE_IM_ADDRESS_DUPLICATE], 1);
	cr_expect_eq(changes->example_count, 1);
	cr_expect_eq(changes->example_codes[0], IMADDR_CODE_USERID_NOT_CANONICAL);
	cr_expect(imaddr_run_changes_any(changes));
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
	imaddr_buf_release(&notes);
	report_free(sink);
}

Test(sink_report, the_previous_run_is_the_latest_of_the_same_label)
{
	const char *path = path_in_dir("report.sqlite");
	struct report_fixture dated = report_first_run;

	report_write_run(path, &report_first_run);
	dated.input = "other.csv";
	report_write_run(path, &dated);
	report_write_run(path, &report_first_run);
	report_expect_rows(path, "SELECT id, previous_run_id, label FROM runs ORDER BY id",
			   "1|NULL|users.csv\n2|NULL|other.csv\n3|1|users.csv\n");
}

Test(sink_report, a_shrunken_run_is_refused_and_records_nothing)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;

	report_write_run(path, &report_second_run);
	sink = report_open(path);
	/* The fixture's options allow no shrink at all: 3 users after 4. */
	cr_assert_eq(end_run_of(sink, &report_first_run, 3, &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "users.csv: 3 users, 25% fewer than the 4 of run 1 of "
				      "2023-11-14 22:13 (label 'users.csv')"), "%s", err.message);
	sink->ops->abort(sink);
	report_free(sink);
	report_expect_rows(path, "SELECT count(*) FROM runs", "1\n");
}

/* A run of `fixture` whatever its size. */
static void sink_write_allowing_shrink(const char *path, const struct report_fixture *fixture)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = report_open(path);

	cr_assert_eq(end_run_of(sink, fixture, 1000, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
	report_free(sink);
}

/* Ann renamed in place, Bo Smith 2 gone from the end; Bo's finding as before. */
static const struct report_fixture_user shrunk_users[] = {
	{ 2, "CN=Ann Lee,DC=example,DC=com", "alee", "Lee-Ray", "alee@xn--mnchen-3ya.example",
	  "xn--mnchen-3ya.example" },
	{ 3, "CN=Bo Smith,DC=example,DC=com", "bsmith", NULL, "bsmith@example.com",
	  "example.com" },
};

static const struct report_fixture_finding shrunk_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 3, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_RECORD_MALFORMED, 0, 4, NULL, "x,y", 0, NULL },
};

static const struct report_fixture shrunk_run = {
	"users.csv", shrunk_users, 2, shrunk_findings, 2, NULL, 0,
};

/* The rows a run of `fixture` saw, as report_feed_users and _findings feed them. */
static void append_expected(struct imaddr_buf *users, struct imaddr_buf *findings, int run,
			    const struct report_fixture *fixture)
{
	for (size_t i = 0; i < fixture->user_count; i++) {
		const struct report_fixture_user *user = &fixture->users[i];
		imaddr_buf_appendf(users, "%d|%zu|%llu|%s|%s|%s@example.com|%s|%s\n", run, i + 1,
				   (unsigned long long)user->line, user->dn, user->user_id,
				   user->user_id, user->last_name ? user->last_name : "NULL",
				   user->im_address ? user->im_address : "NULL");
	}
	for (size_t i = 0; i < fixture->finding_count; i++) {
		const struct report_fixture_finding *finding = &fixture->findings[i];
		const struct report_fixture_user *user =
			finding->ordinal ? &fixture->users[finding->ordinal - 1] : NULL;
		imaddr_buf_appendf(findings, "%d|%llu|%llu|%s|%s|%s|%s|%s\n", run,
				   (unsigned long long)finding->ordinal,
				   (unsigned long long)(user ? user->line : finding->line),
				   user ? user->dn : "CN=Skipped,DC=example,DC=com",
				   user ? user->user_id : "NULL", imaddr_code_name(finding->code),
				   finding->field ? finding->field : "NULL",
				   finding->value ? finding->value : "NULL");
	}
}

/*
 * Runs of two labels interleaved, changed and unchanged: every run's users
 * and findings read through the views exactly as that run was fed them,
 * although a run writes only what changed; and so do the runs a prune keeps.
 */
Test(sink_report, past_runs_are_reconstructed_exactly)
{
	const char *path = path_in_dir("report.sqlite");
	struct report_fixture other = report_second_run;
	const struct report_fixture *runs[] = {
		&report_first_run, &report_second_run, &other, &report_first_run, &shrunk_run,
		&shrunk_run, &other, &report_second_run,
	};
	struct imaddr_buf users, findings;

	other.input = "other.csv";
	imaddr_buf_init(&users, 0);
	imaddr_buf_init(&findings, 0);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		sink_write_allowing_shrink(path, runs[i]);
		append_expected(&users, &findings, (int)i + 1, runs[i]);
	}
	report_expect_rows(path, "SELECT id, previous_run_id, label FROM runs ORDER BY id",
			   "1|NULL|users.csv\n2|1|users.csv\n3|NULL|other.csv\n4|2|users.csv\n"
			   "5|4|users.csv\n6|5|users.csv\n7|3|other.csv\n8|6|users.csv\n");
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, mail, last_name, im_address"
		" FROM users ORDER BY run_id, ordinal", users.data);
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, code, field, value FROM finding_rows"
		" ORDER BY run_id, finding_id", findings.data);
	/*
	 * Run 5 wrote Ann, renamed, and the malformed row, on another line; run 6
	 * is run 5 again, and run 7 run 3: they wrote no user and no finding.
	 */
	report_expect_rows(path,
		"SELECT r.id, (SELECT count(*) FROM user_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = r.id) FROM runs AS r"
		" WHERE r.id IN (5, 6, 7) ORDER BY r.id", "5|1|1\n6|0|0\n7|0|0\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings WHERE run_id IN (6, 7)", "0\n");
	report_expect_rows(path, "SELECT run_id, user_id, code FROM resolved_findings"
				 " WHERE run_id = 5", "5|BSmith|im-address-duplicate\n");

	/*
	 * Pruned to the newest two runs of each label (3 and 7, 6 and 8): those
	 * read as they did, although run 6 held versions runs 1 to 5 wrote.
	 */
	struct imaddr_prune_result pruned;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_report_prune(path, NULL, 2, -1, &pruned, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_eq(pruned.runs, 4);
	imaddr_buf_reset(&users);
	imaddr_buf_reset(&findings);
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		if (i + 1 == 3 || i + 1 >= 6)
			append_expected(&users, &findings, (int)i + 1, runs[i]);
	}
	report_expect_rows(path, "SELECT id, previous_run_id, label FROM runs"
				 " WHERE pruned IS NULL ORDER BY id",
			   "3|NULL|other.csv\n6|NULL|users.csv\n7|3|other.csv\n8|6|users.csv\n");
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, mail, last_name, im_address"
		" FROM users ORDER BY run_id, ordinal", users.data);
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, code, field, value FROM finding_rows"
		" ORDER BY run_id, finding_id", findings.data);
	/* The next run of the label finds its previous run's state: it writes nothing. */
	sink_write_allowing_shrink(path, &report_second_run);
	report_expect_rows(path,
		"SELECT previous_run_id, (SELECT count(*) FROM user_versions WHERE first_run = 9),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = 9),"
		" (SELECT count(*) FROM new_findings WHERE run_id = 9),"
		" (SELECT count(*) FROM resolved_findings WHERE run_id = 9)"
		" FROM runs WHERE id = 9", "8|0|0|0|0\n");
	append_expected(&users, &findings, 9, &report_second_run);
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, mail, last_name, im_address"
		" FROM users ORDER BY run_id, ordinal", users.data);
	imaddr_buf_release(&users);
	imaddr_buf_release(&findings);
}

/*
 * An export sorted by name: users arrive above the others (a record of two
 * lines among them), leave, and come back. Users are held by content
 * wherever they stand, so a night writes the users that changed and where
 * the others now stand, and every run still reads as it was fed.
 */
#define MOVED_USER(line, id, last) \
	{ line, "CN=" id ",DC=example,DC=com", id, last, id "@example.com", "example.com" }

static const struct report_fixture_user moved_base_users[] = {
	MOVED_USER(2, "alee", "Lee"), MOVED_USER(3, "bsmith", NULL),
	MOVED_USER(4, "cdoe", "Doe"), MOVED_USER(5, "ddoe", "Doe"),
};
static const struct report_fixture_finding moved_base_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 0, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 3, 0, "mail", "d@example.com", 4, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 4, 0, "mail", "d@example.com", 3, NULL },
};
/* xnew above everyone, ynew (lines 5 and 6) in the middle. */
static const struct report_fixture_user moved_inserted_users[] = {
	MOVED_USER(2, "xnew", "New"), MOVED_USER(3, "alee", "Lee"),
	MOVED_USER(4, "bsmith", NULL), MOVED_USER(5, "ynew", "New"),
	MOVED_USER(7, "cdoe", "Doe"), MOVED_USER(8, "ddoe", "Doe"),
};
static const struct report_fixture_finding moved_inserted_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 3, 0, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 5, 0, "mail", "d@example.com", 6, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 6, 0, "mail", "d@example.com", 5, NULL },
};
/* alee gone: the others move up, ynew now one line long. */
static const struct report_fixture_user moved_left_users[] = {
	MOVED_USER(2, "xnew", "New"), MOVED_USER(3, "bsmith", NULL),
	MOVED_USER(4, "ynew", "New"), MOVED_USER(6, "cdoe", "Doe"),
	MOVED_USER(7, "ddoe", "Doe"),
};
static const struct report_fixture_finding moved_left_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 0, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 4, 0, "mail", "d@example.com", 5, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 5, 0, "mail", "d@example.com", 4, NULL },
};
static const struct report_fixture moved_base = {
	"moved.csv", moved_base_users, 4, moved_base_findings, 3, NULL, 0,
};
static const struct report_fixture moved_inserted = {
	"moved.csv", moved_inserted_users, 6, moved_inserted_findings, 3, NULL, 0,
};
static const struct report_fixture moved_left = {
	"moved.csv", moved_left_users, 5, moved_left_findings, 3, NULL, 0,
};

/* The duplicates' other members, as finding_rows shows them. */
static void append_related(struct imaddr_buf *related, int run,
			   const struct report_fixture *fixture)
{
	for (size_t i = 0; i < fixture->finding_count; i++) {
		const struct report_fixture_finding *finding = &fixture->findings[i];
		if (!finding->related_ordinal)
			continue;
		const struct report_fixture_user *other =
			&fixture->users[finding->related_ordinal - 1];
		imaddr_buf_appendf(related, "%d|%llu|%llu|%llu|%s\n", run,
				   (unsigned long long)finding->ordinal,
				   (unsigned long long)finding->related_ordinal,
				   (unsigned long long)other->line, other->user_id);
	}
}

static int by_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `text`'s lines sorted, for rows whose order no query can give. */
static char *sorted_lines(const char *text)
{
	char *copy = imaddr_xstrdup(text);
	char **lines = NULL;
	size_t count = 0;
	struct imaddr_buf out;

	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
		lines = imaddr_xrealloc(lines, (count + 1) * sizeof(*lines));
		lines[count++] = line;
	}
	if (count)
		qsort(lines, count, sizeof(*lines), by_line);
	imaddr_buf_init(&out, 0);
	for (size_t i = 0; i < count; i++)
		imaddr_buf_appendf(&out, "%s\n", lines[i]);
	free(lines);
	free(copy);
	return imaddr_buf_detach(&out);
}

/*
 * Findings held from an earlier run keep its ids, so a run's findings come
 * in id order only where none was held: they are compared as sets.
 */
static void expect_same_rows(const char *path, const char *sql, const char *expected)
{
	char *actual = report_query(path, sql);
	char *want = sorted_lines(expected);
	char *got = sorted_lines(actual);
	cr_expect_str_eq(got, want, "%s", sql);
	free(actual);
	free(want);
	free(got);
}

static void expect_runs_read_as_fed(const char *path, const struct report_fixture *const *runs,
				    size_t count, size_t first_kept)
{
	struct imaddr_buf users, findings, related;

	imaddr_buf_init(&users, 0);
	imaddr_buf_init(&findings, 0);
	imaddr_buf_init(&related, 0);
	for (size_t i = first_kept - 1; i < count; i++) {
		append_expected(&users, &findings, (int)i + 1, runs[i]);
		append_related(&related, (int)i + 1, runs[i]);
	}
	report_expect_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, mail, last_name, im_address"
		" FROM users ORDER BY run_id, ordinal", users.data);
	expect_same_rows(path,
		"SELECT run_id, ordinal, line, dn, user_id, code, field, value FROM finding_rows",
		findings.data);
	expect_same_rows(path,
		"SELECT run_id, ordinal, related_ordinal, related_line, related_user_id"
		" FROM finding_rows WHERE related_ordinal IS NOT NULL", related.data);
	imaddr_buf_release(&users);
	imaddr_buf_release(&findings);
	imaddr_buf_release(&related);
}

Test(sink_report, users_are_held_wherever_they_stand)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture *runs[] = {
		&moved_base, &moved_inserted, &moved_inserted, &moved_left, &moved_base,
	};
	const size_t count = sizeof(runs) / sizeof(runs[0]);

	for (size_t i = 0; i < count; i++)
		sink_write_allowing_shrink(path, runs[i]);
	expect_runs_read_as_fed(path, runs, count, 1);
	/*
	 * Run 2 wrote its two new users and no finding: the others stand in two
	 * stretches, moved by 1 user and 1 line, and by 2 users and 3 lines.
	 * Run 3 is run 2 again: nothing. Run 4 wrote nothing either, but moved
	 * ynew, and cdoe and ddoe, anew. Run 5 wrote alee back, and holds every
	 * other where it was written.
	 */
	report_expect_rows(path,
		"SELECT r.id, (SELECT count(*) FROM user_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM user_positions WHERE first_run = r.id)"
		" FROM runs AS r ORDER BY r.id",
		"1|4|3|0\n2|2|0|2\n3|0|0|0\n4|0|0|2\n5|1|0|0\n");
	report_expect_rows(path,
		"SELECT first_run, end_run, version_lo % 4294967296, version_hi % 4294967296,"
		" ordinal_shift, line_shift FROM user_positions ORDER BY id",
		"2|4|1|2|1|1\n2|4|3|4|2|3\n4|5|3|4|1|2\n4|5|4|4|-1|-1\n");
	/* Users who only moved are neither added nor removed, nor do their findings change. */
	report_expect_rows(path,
		"SELECT run_id, user_id FROM im_address_changes ORDER BY run_id", "");
	report_expect_rows(path, "SELECT count(*) FROM new_findings", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM resolved_findings", "0\n");

	struct imaddr_prune_result pruned;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_report_prune(path, NULL, 2, -1, &pruned, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_eq(pruned.runs, 3);
	expect_runs_read_as_fed(path, runs, count, 4);
	report_expect_rows(path, "SELECT count(*) FROM user_positions", "2\n");
	/* The next run finds the state the prune moved: it writes nothing. */
	sink_write_allowing_shrink(path, &moved_base);
	report_expect_rows(path,
		"SELECT (SELECT count(*) FROM user_versions WHERE first_run = 6),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = 6),"
		" (SELECT count(*) FROM user_positions WHERE first_run = 6)", "0|0|0\n");
	const struct report_fixture *after[] = {
		&moved_base, &moved_inserted, &moved_inserted, &moved_left, &moved_base, &moved_base,
	};
	expect_runs_read_as_fed(path, after, 6, 4);
}

/*
 * Two users the same in every reported column but their place: either may
 * hold the other's version, but a finding is held only with the version of
 * its own user, so each reads in its place when one of them leaves.
 */
static const struct report_fixture_user twins_users[] = {
	MOVED_USER(2, "alee", "Lee"), MOVED_USER(3, "twin", NULL),
	MOVED_USER(4, "bsmith", "Smith"), MOVED_USER(5, "twin", NULL),
};
static const struct report_fixture_finding twins_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 0, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_LASTNAME_MISSING, 4, 0, "sn", NULL, 0, NULL },
};
static const struct report_fixture_user one_twin_users[] = {
	MOVED_USER(2, "alee", "Lee"), MOVED_USER(3, "bsmith", "Smith"),
	MOVED_USER(4, "twin", NULL),
};
static const struct report_fixture_finding one_twin_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 3, 0, "sn", NULL, 0, NULL },
};
static const struct report_fixture twins = {
	"twins.csv", twins_users, 4, twins_findings, 2, NULL, 0,
};
static const struct report_fixture one_twin = {
	"twins.csv", one_twin_users, 3, one_twin_findings, 1, NULL, 0,
};

Test(sink_report, users_alike_keep_their_own_findings)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture *runs[] = { &twins, &one_twin, &twins, &one_twin };
	const size_t count = sizeof(runs) / sizeof(runs[0]);

	for (size_t i = 0; i < count; i++)
		sink_write_allowing_shrink(path, runs[i]);
	expect_runs_read_as_fed(path, runs, count, 1);
	report_expect_rows(path, "SELECT count(*) FROM finding_versions WHERE first_run = 4",
			   "0\n");
}

/*
 * Nights drawn at random (a fixed seed): users join and leave, records take
 * one or two lines, a name changes, some nights the export comes in another
 * order, two users are alike, and some share an IM address. Every night
 * reads back as it was fed, and so do the nights a prune keeps, and the
 * nights after it.
 */
#define POOL 24
#define NIGHTS 14

struct drawn_night {
	struct report_fixture fixture;
	struct report_fixture_user users[POOL];
	struct report_fixture_finding findings[2 * POOL];
};

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void draw_night(struct drawn_night *night, uint32_t *state, char ids[POOL][16],
		       const char *last_names[POOL])
{
	size_t order[POOL], count = 0;
	uint64_t line = 2;

	for (size_t i = 0; i < POOL; i++) {
		if (next_random(state) % 5)
			order[count++] = i;
	}
	if (next_random(state) % 4 == 0) {
		for (size_t i = count; i > 1; i--) {
			size_t j = next_random(state) % i;
			size_t swap = order[i - 1];
			order[i - 1] = order[j];
			order[j] = swap;
		}
	}
	if (next_random(state) % 3 == 0) {
		size_t i = next_random(state) % POOL;
		last_names[i] = !last_names[i] ? "Doe" : strcmp(last_names[i], "Doe") ? "Doe" : "Roe";
	}
	memset(night, 0, sizeof(*night));
	night->fixture = (struct report_fixture){ "drawn.csv", night->users, count,
						  night->findings, 0, NULL, 0 };
	for (size_t n = 0; n < count; n++) {
		size_t i = order[n];
		/* Users 4 and 5 are alike; every fifth shares an IM address. */
		const char *id = i == 5 ? ids[4] : ids[i];
		night->users[n] = (struct report_fixture_user){
			line, id, id, last_names[i == 5 ? 4 : i],
			i % 5 == 3 ? "shared@example.com" : id, "example.com",
		};
		line += 1 + next_random(state) % 2;
	}
	for (size_t n = 0; n < count; n++) {
		struct report_fixture_finding *finding =
			&night->findings[night->fixture.finding_count];
		if (!night->users[n].last_name) {
			*finding = (struct report_fixture_finding){
				IMADDR_CODE_LASTNAME_MISSING, n + 1, 0, "sn", NULL, 0, NULL,
			};
			night->fixture.finding_count++;
		}
	}
	for (size_t n = 0; n < count; n++) {
		if (strcmp(night->users[n].im_address, "shared@example.com"))
			continue;
		for (size_t m = 0; m < count; m++) {
			if (m == n || strcmp(night->users[m].im_address, "shared@example.com"))
				continue;
			night->findings[night->fixture.finding_count++] =
				(struct report_fixture_finding){
					IMADDR_CODE_IM_ADDRESS_DUPLICATE, n + 1, 0, "mail",
					"shared@example.com", m + 1, NULL,
				};
			break;
		}
	}
}

Test(sink_report, drawn_nights_read_back_as_fed)
{
	const char *path = path_in_dir("report.sqlite");
	static struct drawn_night nights[NIGHTS];
	const struct report_fixture *runs[NIGHTS];
	char ids[POOL][16];
	const char *last_names[POOL];
	uint32_t state = 20261203;

	for (size_t i = 0; i < POOL; i++) {
		snprintf(ids[i], sizeof(ids[i]), "u%02zu", i);
		last_names[i] = i % 7 == 2 ? NULL : "Doe";
	}
	for (size_t night = 0; night < NIGHTS; night++) {
		draw_night(&nights[night], &state, ids, last_names);
		runs[night] = &nights[night].fixture;
		sink_write_allowing_shrink(path, runs[night]);
		if (night == 9) {
			expect_runs_read_as_fed(path, runs, night + 1, 1);
			struct imaddr_prune_result pruned;
			struct imaddr_error err = { "" };
			cr_assert_eq(imaddr_report_prune(path, NULL, 4, -1, &pruned, &err),
				     IMADDR_OK, "%s", err.message);
			expect_runs_read_as_fed(path, runs, night + 1, night + 1 - 3);
		}
	}
	expect_runs_read_as_fed(path, runs, NIGHTS, 7);
	/* Most users were held, many of them elsewhere than written. */
	report_expect_rows(path, "SELECT count(*) < 24 * 4 FROM user_versions", "1\n");
	report_expect_rows(path, "SELECT count(*) >= 20 FROM user_positions", "1\n");
}

/*
 * An export that comes in another order moves every user to a stretch of
 * its own. The next night writes the users that moved again, where they
 * stand, instead of holding them by a stretch each: nothing changes for
 * the views, and the night after holds them all as written.
 */
#define TURNED 1100

struct turned_night {
	struct report_fixture fixture;
	struct report_fixture_user users[TURNED];
	struct report_fixture_finding findings[TURNED];
};

static void turn_night(struct turned_night *night, bool reversed, char ids[TURNED][16],
		       char dns[TURNED][40])
{
	memset(night, 0, sizeof(*night));
	night->fixture = (struct report_fixture){ "turned.csv", night->users, TURNED,
						  night->findings, 0, NULL, 0 };
	for (size_t n = 0; n < TURNED; n++) {
		size_t i = reversed ? TURNED - 1 - n : n;
		night->users[n] = (struct report_fixture_user){
			n + 2, dns[i], ids[i], i % 7 == 3 ? NULL : "Doe", ids[i], "example.com",
		};
		if (i % 7 == 3)
			night->findings[night->fixture.finding_count++] =
				(struct report_fixture_finding){
					IMADDR_CODE_LASTNAME_MISSING, n + 1, 0, "sn", NULL, 0, NULL,
				};
	}
}

Test(sink_report, users_that_moved_are_written_again_when_stretches_pile_up)
{
	const char *path = path_in_dir("report.sqlite");
	static struct turned_night in_order, reversed;
	static char ids[TURNED][16], dns[TURNED][40];

	for (size_t i = 0; i < TURNED; i++) {
		snprintf(ids[i], sizeof(ids[i]), "u%04zu", i);
		snprintf(dns[i], sizeof(dns[i]), "CN=u%04zu,DC=example,DC=com", i);
	}
	turn_night(&in_order, false, ids, dns);
	turn_night(&reversed, true, ids, dns);
	const struct report_fixture *runs[] = {
		&in_order.fixture, &reversed.fixture, &reversed.fixture, &reversed.fixture,
	};
	const size_t count = sizeof(runs) / sizeof(runs[0]);
	for (size_t i = 0; i < count; i++)
		sink_write_allowing_shrink(path, runs[i]);
	expect_runs_read_as_fed(path, runs, count, 1);
	/*
	 * Run 2 holds every user but none where it was written: a stretch each.
	 * Run 3 writes them again where they stand, with their findings, and
	 * ends the stretches; run 4 holds them all as written.
	 */
	report_expect_rows(path,
		"SELECT r.id, (SELECT count(*) FROM user_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM user_positions WHERE first_run = r.id),"
		" (SELECT count(*) FROM user_positions WHERE first_run <= r.id"
		"  AND (end_run IS NULL OR end_run > r.id))"
		" FROM runs AS r ORDER BY r.id",
		"1|1100|157|0|0\n2|0|0|1100|1100\n3|1100|157|0|0\n4|0|0|0|0\n");
	report_expect_rows(path, "SELECT count(*) FROM im_address_changes", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM new_findings", "0\n");
	report_expect_rows(path, "SELECT count(*) FROM resolved_findings", "0\n");
	report_expect_rows(path,
		"SELECT run_id, json_extract(summary, '$.changes.users_added'),"
		" json_extract(summary, '$.changes.users_removed') FROM run_summaries"
		" WHERE run_id > 1 ORDER BY run_id", "2|0|0\n3|0|0\n4|0|0\n");

	struct imaddr_prune_result pruned;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_report_prune(path, NULL, 2, -1, &pruned, &err), IMADDR_OK, "%s",
		     err.message);
	expect_runs_read_as_fed(path, runs, count, 3);
	report_expect_rows(path, "SELECT count(*) FROM user_versions", "1100\n");
	report_expect_rows(path, "SELECT count(*) FROM user_positions", "0\n");
}

/*
 * Every hash of the label's state changed, as a version of imaddr_hash other
 * than the one that wrote it sees them: the hashes of the state's items,
 * each item 24 bytes after a 16-byte header (report-schema.md).
 */
static void change_state_hashes(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT rowid, data FROM label_states", -1, &stmt,
					NULL), SQLITE_OK);
	int states = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		sqlite3_int64 rowid = sqlite3_column_int64(stmt, 0);
		int size = sqlite3_column_bytes(stmt, 1);
		unsigned char *data = malloc((size_t)size);
		cr_assert_not_null(data);
		memcpy(data, sqlite3_column_blob(stmt, 1), (size_t)size);
		for (int item = 16; item + 24 <= size; item += 24)
			data[item] ^= 0x5a;
		sqlite3_blob *blob;
		cr_assert_eq(sqlite3_blob_open(db, "main", "label_states", "data", rowid, 1, &blob),
			     SQLITE_OK);
		cr_assert_eq(sqlite3_blob_write(blob, data, size, 0), SQLITE_OK);
		sqlite3_blob_close(blob);
		free(data);
		states++;
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	cr_assert_eq(states, 2, "a state of users and one of findings");
}

Test(sink_report, a_state_of_another_hash_writes_the_run_again_and_changes_nothing)
{
	const char *path = path_in_dir("report.sqlite");
	const struct report_fixture *runs[] = { &report_first_run, &report_first_run,
						&report_first_run };
	struct imaddr_run_totals told = { 0 };
	struct imaddr_buf notes;
	struct imaddr_error err = { "" };

	report_write_run(path, &report_first_run);
	change_state_hashes(path);
	struct imaddr_sink *sink = report_open(path);
	cr_assert_eq(end_run_of(sink, &report_first_run, 3, &err), IMADDR_OK, "%s", err.message);
	imaddr_buf_init(&notes, 0);
	sink->ops->describe(sink, &notes, &told);
	cr_assert(told.changes);
	cr_expect_eq(told.changes->previous_run_id, 1);
	cr_expect(!imaddr_run_changes_any(told.changes), "a run of the same users changed nothing");
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
	imaddr_buf_release(&notes);
	report_free(sink);
	/* Then the state is this version's again: the third run writes nothing. */
	report_write_run(path, &report_first_run);
	report_expect_rows(path,
		"SELECT r.id, (SELECT count(*) FROM user_versions WHERE first_run = r.id),"
		" (SELECT count(*) FROM user_versions WHERE end_run = r.id),"
		" (SELECT count(*) FROM finding_versions WHERE first_run = r.id)"
		" FROM runs AS r ORDER BY r.id",
		"1|3|0|3\n2|3|3|3\n3|0|0|0\n");
	expect_runs_read_as_fed(path, runs, 3, 1);
}
