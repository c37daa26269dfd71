#include <criterion/criterion.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "imaddr.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(sink_report);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * Every row of a query as "a|b|c" lines, NULL spelled NULL, so that a test
 * compares one expected string with what the report holds.
 */
static char *query(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	struct imaddr_buf rows;
	int rc;

	imaddr_buf_init(&rows, 0);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK,
		     "cannot open %s: %s", path, sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *text = sqlite3_column_text(stmt, i);
			if (i)
				imaddr_buf_append_char(&rows, '|');
			imaddr_buf_append_str(&rows, text ? (const char *)text : "NULL");
		}
		imaddr_buf_append_char(&rows, '\n');
	}
	cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return imaddr_buf_detach(&rows);
}

static void expect_rows(const char *path, const char *sql, const char *expected)
{
	char *actual = query(path, sql);

	cr_expect_str_eq(actual, expected, "%s\nexpected:\n%s\nactual:\n%s", sql, expected,
			 actual);
	free(actual);
}

/* What one run hands the sink. */
struct fixture_user {
	uint64_t line;
	const char *dn;
	const char *user_id;
	const char *last_name;
	const char *im_address;
	const char *im_domain;
};

struct fixture_finding {
	enum imaddr_code code;
	uint64_t ordinal;
	uint64_t line;
	const char *field;
	const char *value;
	uint64_t related_ordinal;
	const char *suggestion;
};

struct fixture {
	const char *input;
	const struct fixture_user *users;
	size_t user_count;
	const struct fixture_finding *findings;
	size_t finding_count;
	const struct imaddr_domain_count *domains;
	size_t domain_count;
};

static void begin_run(struct imaddr_sink *sink, const char *input)
{
	static struct imaddr_audit_options options;
	struct imaddr_run_info info = { 0 };
	struct imaddr_error err = { "" };

	memset(&options, 0, sizeof(options));
	options.scheme = IMADDR_SCHEME_USERID;
	options.default_domain = "example.com";
	options.im_domains = "example.com,münchen.example";
	options.input_name = input;
	info.options = &options;
	info.version = "0.1.0";
	info.started = 1700000000;
	cr_assert_eq(sink->ops->begin(sink, &info, &err), IMADDR_OK, "%s", err.message);
}

/*
 * The strings are copied into buffers that the next user overwrites: the
 * sink must be done with them when its callback returns.
 */
static void feed_users(struct imaddr_sink *sink, const struct fixture *fixture)
{
	struct imaddr_error err = { "" };
	char dn[128], user_id[64], mail[64], im_address[64];

	for (size_t i = 0; i < fixture->user_count; i++) {
		const struct fixture_user *spec = &fixture->users[i];
		struct imaddr_user user = { 0 };

		snprintf(dn, sizeof(dn), "%s", spec->dn);
		snprintf(user_id, sizeof(user_id), "%s", spec->user_id);
		snprintf(mail, sizeof(mail), "%s@example.com", spec->user_id);
		snprintf(im_address, sizeof(im_address), "%s", spec->im_address);
		user.ordinal = i + 1;
		user.line = spec->line;
		user.dn = dn;
		user.user_id = user_id;
		user.mail = mail;
		user.first_name = "Pat";
		user.last_name = spec->last_name;
		user.directory_uri = mail;
		user.im_address = spec->im_address ? im_address : NULL;
		user.im_domain = spec->im_domain;
		user.uri_valid = true;
		cr_assert_eq(sink->ops->user(sink, &user, &err), IMADDR_OK, "%s", err.message);
	}
}

static void feed_findings(struct imaddr_sink *sink, const struct fixture *fixture)
{
	struct imaddr_error err = { "" };
	char message[128];

	for (size_t i = 0; i < fixture->finding_count; i++) {
		const struct fixture_finding *spec = &fixture->findings[i];
		struct imaddr_finding finding = { 0 };

		snprintf(message, sizeof(message), "%s", imaddr_code_summary(spec->code));
		finding.code = spec->code;
		finding.severity = imaddr_code_severity(spec->code);
		finding.ordinal = spec->ordinal;
		finding.line = spec->line;
		/* A user's finding repeats the user's DN; the report keeps it once. */
		finding.dn = spec->ordinal ? "CN=ignored" : "CN=Skipped,DC=example,DC=com";
		/* The audit gives a user's findings the user's user ID. */
		finding.user_id = spec->ordinal ? fixture->users[spec->ordinal - 1].user_id : NULL;
		finding.field = spec->field;
		finding.value = spec->value;
		finding.message = message;
		finding.related_ordinal = spec->related_ordinal;
		finding.related_line = spec->related_ordinal ? spec->related_ordinal + 1 : 0;
		finding.suggestion = spec->suggestion;
		cr_assert_eq(sink->ops->finding(sink, &finding, &err), IMADDR_OK, "%s",
			     err.message);
	}
}

static void end_run(struct imaddr_sink *sink, const struct fixture *fixture)
{
	struct imaddr_run_totals totals = { 0 };
	struct imaddr_error err = { "" };

	totals.users = fixture->user_count;
	totals.users_with_im_address = fixture->user_count;
	totals.users_with_error = 1;
	for (size_t i = 0; i < fixture->finding_count; i++) {
		enum imaddr_code code = fixture->findings[i].code;
		totals.by_code[code]++;
		totals.by_severity[imaddr_code_severity(code)]++;
	}
	totals.domain_count = fixture->domain_count;
	totals.domains = fixture->domains;
	cr_assert_eq(sink->ops->end(sink, NULL, &totals, &err), IMADDR_OK, "%s", err.message);
}

/* Through the ops, as imaddr_sink_free does, so the test needs no audit. */
static void free_report(struct imaddr_sink *sink)
{
	sink->ops->free(sink);
}

static struct imaddr_sink *open_report(const char *path)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = imaddr_report_db_open(path, &err);

	cr_assert_not_null(sink, "%s", err.message);
	return sink;
}

static void write_run(const char *path, const struct fixture *fixture)
{
	struct imaddr_sink *sink = open_report(path);

	begin_run(sink, fixture->input);
	feed_users(sink, fixture);
	feed_findings(sink, fixture);
	end_run(sink, fixture);
	free_report(sink);
}

static const struct imaddr_domain_count domains[] = {
	{ "example.com", "example.com", 2, true },
	{ "xn--mnchen-3ya.example", "münchen.example", 1, true },
};

static const struct fixture_user first_users[] = {
	{ 2, "CN=Ann Lee,DC=example,DC=com", "alee", "Lee", "alee@xn--mnchen-3ya.example",
	  "xn--mnchen-3ya.example" },
	{ 3, "CN=Bo Smith,DC=example,DC=com", "bsmith", NULL, "bsmith@example.com",
	  "example.com" },
	{ 4, "CN=Bo Smith 2,DC=example,DC=com", "BSmith", "Smith", "bsmith@example.com",
	  "example.com" },
};

static const struct fixture_finding first_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 3, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 3, 4, "sAMAccountName", "BSmith", 2, "bsmith2" },
	{ IMADDR_CODE_RECORD_MALFORMED, 0, 5, NULL, "x,y", 0, NULL },
};

static const struct fixture first_run = {
	"users.csv", first_users, 3, first_findings, 3, domains, 2,
};

/* Ann's IM address changes, Bo Smith 2 is renamed, Cy arrives. */
static const struct fixture_user second_users[] = {
	{ 2, "CN=Ann Lee,DC=example,DC=com", "alee", "Lee", "ann.lee@xn--mnchen-3ya.example",
	  "xn--mnchen-3ya.example" },
	{ 3, "CN=Bo Smith,DC=example,DC=com", "bsmith", NULL, "bsmith@example.com",
	  "example.com" },
	{ 4, "CN=Bo Smith 2,DC=example,DC=com", "bsmith2", "Smith", "bsmith2@example.com",
	  "example.com" },
	{ 5, "CN=Cy Doe,DC=example,DC=com", "cdoe", "Doe", "cdoe@example.com", "example.com" },
};

static const struct fixture_finding second_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 3, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_USERID_NOT_CANONICAL, 4, 5, "sAMAccountName", "cdoe ", 0, "cdoe" },
	{ IMADDR_CODE_RECORD_MALFORMED, 0, 6, NULL, "x,y", 0, NULL },
};

static const struct fixture second_run = {
	"users.csv", second_users, 4, second_findings, 3, domains, 2,
};

Test(sink_report, records_run_users_findings_and_domains)
{
	const char *path = path_in_dir("report.sqlite");

	write_run(path, &first_run);

	expect_rows(path, "PRAGMA user_version", "2\n");
	expect_rows(path, "PRAGMA application_id", "1768776036\n");
	expect_rows(path,
		    "SELECT id, previous_run_id, started, finished IS NOT NULL, version, input,"
		    " scheme, default_domain, im_domains, users, users_with_im_address,"
		    " users_with_error, errors, warnings, infos FROM runs",
		    "1|NULL|2023-11-14T22:13:20Z|1|0.1.0|users.csv|userid|example.com|"
		    "example.com,münchen.example|3|3|1|2|1|0\n");
	expect_rows(path,
		    "SELECT finished GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
		    "[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z' FROM runs", "1\n");
	expect_rows(path,
		    "SELECT run_id, ordinal, line, dn, user_id, mail, first_name, last_name,"
		    " directory_uri, current_uri, im_address, im_domain FROM users ORDER BY ordinal",
		    "1|1|2|CN=Ann Lee,DC=example,DC=com|alee|alee@example.com|Pat|Lee|"
		    "alee@example.com|NULL|alee@xn--mnchen-3ya.example|xn--mnchen-3ya.example\n"
		    "1|2|3|CN=Bo Smith,DC=example,DC=com|bsmith|bsmith@example.com|Pat|NULL|"
		    "bsmith@example.com|NULL|bsmith@example.com|example.com\n"
		    "1|3|4|CN=Bo Smith 2,DC=example,DC=com|BSmith|BSmith@example.com|Pat|Smith|"
		    "BSmith@example.com|NULL|bsmith@example.com|example.com\n");
	/* A user's line and DN live in users; a finding of no user keeps its own. */
	expect_rows(path,
		    "SELECT run_id, ordinal, line, dn, user_id, code, severity, field, value,"
		    " related_ordinal, message, suggestion FROM findings ORDER BY id",
		    "1|2|NULL|NULL|bsmith|lastname-missing|warning|sn|NULL|NULL|"
		    "the user has no last name; LDAP sync and BAT inserts need one|NULL\n"
		    "1|3|NULL|NULL|BSmith|im-address-duplicate|error|sAMAccountName|BSmith|2|"
		    "another user would get the same IM address|bsmith2\n"
		    "1|0|5|CN=Skipped,DC=example,DC=com|NULL|record-malformed|error|NULL|x,y|NULL|"
		    "the input record cannot be read as it stands|NULL\n");
	expect_rows(path, "SELECT * FROM domains ORDER BY ascii",
		    "1|example.com|example.com|2|1\n"
		    "1|xn--mnchen-3ya.example|münchen.example|1|1\n");
	expect_rows(path,
		    "SELECT ordinal, line, dn, user_id, code, related_ordinal, related_line,"
		    " related_dn, related_user_id FROM finding_rows ORDER BY finding_id",
		    "2|3|CN=Bo Smith,DC=example,DC=com|bsmith|lastname-missing|"
		    "NULL|NULL|NULL|NULL\n"
		    "3|4|CN=Bo Smith 2,DC=example,DC=com|BSmith|im-address-duplicate|"
		    "2|3|CN=Bo Smith,DC=example,DC=com|bsmith\n"
		    "0|5|CN=Skipped,DC=example,DC=com|NULL|record-malformed|"
		    "NULL|NULL|NULL|NULL\n");
	expect_rows(path, "SELECT run_id, ordinal, user_id FROM error_users", "1|3|BSmith\n");
	expect_rows(path, "SELECT * FROM code_counts ORDER BY code",
		    "1|im-address-duplicate|error|1\n"
		    "1|lastname-missing|warning|1\n"
		    "1|record-malformed|error|1\n");
	expect_rows(path, "SELECT id FROM latest_run", "1\n");
	expect_rows(path, "SELECT count(*) FROM new_findings", "0\n");
	expect_rows(path,
		    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
		    " ORDER BY name",
		    "findings_by_code\nfindings_by_user\n");
	expect_rows(path, "SELECT count(*) FROM im_address_changes", "0\n");
}

Test(sink_report, second_run_appends_and_compares_with_the_first)
{
	const char *path = path_in_dir("report.sqlite");
	struct fixture other_input = first_run;

	write_run(path, &first_run);
	write_run(path, &second_run);
	other_input.input = "other.csv";
	write_run(path, &other_input);

	expect_rows(path, "SELECT id, previous_run_id, input, users FROM runs ORDER BY id",
		    "1|NULL|users.csv|3\n2|1|users.csv|4\n3|NULL|other.csv|3\n");
	expect_rows(path, "SELECT id FROM latest_run", "3\n");
	expect_rows(path, "SELECT run_id, count(*) FROM users GROUP BY run_id",
		    "1|3\n2|4\n3|3\n");
	expect_rows(path, "SELECT * FROM im_address_changes",
		    "2|1|alee|1|1|alee@xn--mnchen-3ya.example|ann.lee@xn--mnchen-3ya.example\n");
	/* Bo's missing last name and the malformed row are old news. */
	expect_rows(path,
		    "SELECT run_id, previous_run_id, ordinal, user_id, code, severity, field,"
		    " value FROM new_findings",
		    "2|1|4|cdoe|userid-not-canonical|warning|sAMAccountName|cdoe \n");
	expect_rows(path,
		    "SELECT run_id, previous_run_id, previous_ordinal, user_id, code, field,"
		    " value FROM resolved_findings",
		    "2|1|3|BSmith|im-address-duplicate|sAMAccountName|BSmith\n");
	expect_rows(path, "SELECT run_id, count(*) FROM domains GROUP BY run_id",
		    "1|2\n2|2\n3|2\n");
}

/* User IDs that sort differently by case and length; namesakes; a lost address. */
static const struct fixture_user changes_before[] = {
	{ 2, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 3, NULL, "dup", "B", "b@example.com", "example.com" },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "lost", "L", "l@example.com", "example.com" },
	{ 6, NULL, "Case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "ab", "AB", "ab@example.com", "example.com" },
};

static const struct fixture_user changes_after[] = {
	{ 2, NULL, "ab", "AB", "ab2@example.com", "example.com" },
	{ 3, NULL, "lost", "L", NULL, NULL },
	{ 4, NULL, "same", "S", "s@example.com", "example.com" },
	{ 5, NULL, "dup", "A", "a@example.com", "example.com" },
	{ 6, NULL, "case", "C", "c@example.com", "example.com" },
	{ 7, NULL, "a", "A", "a1@example.com", "example.com" },
};

Test(sink_report, im_address_changes_match_exact_user_ids_and_every_namesake)
{
	const char *path = path_in_dir("report.sqlite");
	const struct fixture before = { "changes.csv", changes_before, 6, NULL, 0, NULL, 0 };
	const struct fixture after = { "changes.csv", changes_after, 6, NULL, 0, NULL, 0 };

	write_run(path, &before);
	write_run(path, &after);
	expect_rows(path,
		    "SELECT * FROM im_address_changes ORDER BY run_id, ordinal, previous_ordinal",
		    "2|1|ab|1|6|ab@example.com|ab2@example.com\n"
		    "2|1|lost|2|4|l@example.com|NULL\n"
		    "2|1|dup|4|2|b@example.com|a@example.com\n");
}

Test(sink_report, refuses_to_append_to_a_version_1_report)
{
	const char *path = path_in_dir("old.sqlite");
	struct imaddr_error err = { "" };
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "PRAGMA application_id = 1768776036;"
				  " PRAGMA user_version = 1; CREATE TABLE runs (id INTEGER);",
				  NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_null(imaddr_report_db_open(path, &err));
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "report '%s' has schema version 1, older than the 2 this imaddr writes: "
		 "keep it for its runs and start a new report", path);
	cr_assert_str_eq(err.message, expected);
}

static void count_rows(const char *path, const char *expected)
{
	expect_rows(path,
		    "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM users),"
		    " (SELECT count(*) FROM findings), (SELECT count(*) FROM domains)",
		    expected);
}

Test(sink_report, aborted_run_leaves_the_previous_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_sink *sink;

	write_run(path, &first_run);
	sink = open_report(path);
	begin_run(sink, "users.csv");
	feed_users(sink, &second_run);
	feed_findings(sink, &second_run);
	sink->ops->abort(sink);
	free_report(sink);
	count_rows(path, "1|3|3|2\n");

	/* A run dropped without end or abort is thrown away too. */
	sink = open_report(path);
	begin_run(sink, "users.csv");
	feed_users(sink, &second_run);
	free_report(sink);
	count_rows(path, "1|3|3|2\n");

	write_run(path, &second_run);
	count_rows(path, "2|7|6|4\n");
}

Test(sink_report, aborted_first_run_removes_the_file)
{
	const char *path = path_in_dir("new.sqlite");
	struct imaddr_sink *sink;
	char *listing;

	/* Opened and freed without a run: nothing is created. */
	sink = open_report(path);
	free_report(sink);
	cr_assert_not(exists(path));

	sink = open_report(path);
	cr_assert_not(exists(path), "opening must not create the report");
	begin_run(sink, "users.csv");
	cr_assert(exists(path));
	feed_users(sink, &first_run);
	sink->ops->abort(sink);
	free_report(sink);
	listing = tempdir_list(dir);
	cr_expect_str_eq(listing, "", "left behind: %s", listing);
	free(listing);
}

Test(sink_report, empty_file_becomes_a_report_and_is_kept_on_abort)
{
	char *path = tempdir_write_str(dir, "empty.sqlite", "");
	struct imaddr_sink *sink;

	sink = open_report(path);
	begin_run(sink, "users.csv");
	sink->ops->abort(sink);
	free_report(sink);
	cr_assert(exists(path), "a file this run did not create is not removed");

	write_run(path, &first_run);
	count_rows(path, "1|3|3|2\n");
	free(path);
}

/*
 * The child writes rows large enough to overflow the page cache, so that
 * pages of the run reach the database file, and is killed before end. The
 * next opener must find the previous report, the hot journal rolled back.
 */
Test(sink_report, killed_run_leaves_the_previous_report)
{
	const char *path = path_in_dir("report.sqlite");
	char journal[600];
	struct stat before;
	int status;
	pid_t child;

	write_run(path, &first_run);
	cr_assert_eq(stat(path, &before), 0);
	snprintf(journal, sizeof(journal), "%s-journal", path);
	child = fork();
	cr_assert_neq(child, -1);
	if (child == 0) {
		struct imaddr_error err = { "" };
		struct imaddr_sink *sink = imaddr_report_db_open(path, &err);
		char *big = imaddr_xmalloc(8192);

		memset(big, 'x', 8191);
		big[8191] = '\0';
		if (!sink)
			_exit(2);
		begin_run(sink, "users.csv");
		for (uint64_t ordinal = 1; ordinal <= 8000; ordinal++) {
			struct imaddr_user user = { .ordinal = ordinal, .dn = big };
			if (sink->ops->user(sink, &user, &err) != IMADDR_OK)
				_exit(3);
		}
		struct stat during;
		if (!exists(journal) || stat(path, &during) != 0)
			_exit(4);
		if (during.st_size <= before.st_size)
			_exit(6);
		kill(getpid(), SIGKILL);
		_exit(5);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the child did not get as far as the kill (exit %d)", WEXITSTATUS(status));
	cr_assert(exists(journal), "the killed run should leave a hot journal");

	free_report(open_report(path));
	cr_assert_not(exists(journal), "opening the report rolls the journal back");
	count_rows(path, "1|3|3|2\n");
	expect_rows(path, "PRAGMA integrity_check", "ok\n");
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
Test(sink_report, open_waits_for_another_process_to_release_the_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct timespec start;
	pid_t child;

	write_run(path, &first_run);
	child = hold_lock(path, 300);
	clock_gettime(CLOCK_MONOTONIC, &start);
	sink = imaddr_report_db_open(path, &err);
	double waited = seconds_since(&start);
	cr_assert_not_null(sink, "%s (after %.2f s)", err.message, waited);
	cr_expect_geq(waited, 0.2, "the report was not locked while it was opened");
	begin_run(sink, second_run.input);
	feed_users(sink, &second_run);
	feed_findings(sink, &second_run);
	end_run(sink, &second_run);
	free_report(sink);
	expect_released(child);
	count_rows(path, "2|7|6|4\n");
}

Test(sink_report, begin_waits_for_another_process_to_release_the_report)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_sink *sink;
	struct timespec start;
	pid_t child;

	write_run(path, &first_run);
	sink = open_report(path);
	child = hold_lock(path, 300);
	clock_gettime(CLOCK_MONOTONIC, &start);
	begin_run(sink, second_run.input);
	cr_expect_geq(seconds_since(&start), 0.2, "the report was not locked at begin");
	feed_users(sink, &second_run);
	feed_findings(sink, &second_run);
	end_run(sink, &second_run);
	free_report(sink);
	expect_released(child);
	count_rows(path, "2|7|6|4\n");
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
	cr_expect_not(exists(journal), "a journal is left beside the report");
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
	count_rows(path, "1|3|3|2\n");
	expect_rows(path, "PRAGMA integrity_check", "ok\n");
	write_run(path, &second_run);
	count_rows(path, "2|7|6|4\n");
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
	struct imaddr_run_totals totals = { 0 };
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink;
	struct rlimit saved;
	off_t size;

	write_run(path, &first_run);
	size = file_size(path);
	sink = open_report(path);
	begin_run(sink, "users.csv");
	cr_assert_eq(feed_big_users(sink, users, &err), IMADDR_OK, "%s", err.message);
	leave_room(path, 65536, &saved);
	cr_assert_eq(sink->ops->end(sink, NULL, &totals, &err), IMADDR_ERR_DB);
	restore_room(&saved);
	cr_expect(strstr(err.message, path), "'%s' does not name the report", err.message);
	expect_rolled_back(path, size);
	sink->ops->abort(sink);
	free_report(sink);
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

	write_run(path, &first_run);
	size = file_size(path);
	sink = open_report(path);
	leave_room(path, 65536, &saved);
	begin_run(sink, "users.csv");
	cr_assert_eq(feed_big_users(sink, 8000, &err), IMADDR_ERR_DB);
	restore_room(&saved);
	cr_expect(strstr(err.message, "cannot write a user to report"), "%s", err.message);
	expect_rolled_back(path, size);
	struct imaddr_user more = { .ordinal = 8001 };
	cr_expect_eq(sink->ops->user(sink, &more, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "the run has ended"), "%s", err.message);
	sink->ops->abort(sink);
	free_report(sink);
	expect_previous_report(path);
}

static void expect_refused(const char *path, const char *wanted)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = imaddr_report_db_open(path, &err);

	cr_assert_null(sink);
	cr_expect(strstr(err.message, path), "'%s' does not name the file", err.message);
	cr_expect(strstr(err.message, wanted), "'%s' does not say '%s'", err.message, wanted);
}

static void run_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	sqlite3_close(db);
}

Test(sink_report, refuses_a_database_of_another_program)
{
	const char *path = path_in_dir("other.sqlite");

	run_sql(path, "CREATE TABLE contacts (name TEXT)");
	expect_refused(path, "not an imaddr report");
	expect_rows(path, "SELECT count(*) FROM sqlite_master", "1\n");
}

Test(sink_report, refuses_a_file_that_is_not_sqlite)
{
	char *path = tempdir_write_str(dir, "users.csv",
				       "USER ID,DIRECTORY URI\nalee,ann.lee@example.com\n");

	expect_refused(path, "not a database");
	free(path);
}

Test(sink_report, refuses_a_report_of_a_newer_schema)
{
	const char *path = path_in_dir("report.sqlite");

	write_run(path, &first_run);
	run_sql(path, "PRAGMA user_version = 3");
	expect_refused(path, "newer");
	count_rows(path, "1|3|3|2\n");
}

Test(sink_report, missing_directory_fails_naming_the_path)
{
	const char *path = path_in_dir("no/such/dir/report.sqlite");

	expect_refused(path, "No such file or directory");
	cr_assert_not(exists(path));
}

/*
 * One run of `count` users, as the audit hands them over: each user followed
 * by its findings (two in three users have one), then the input's end, then
 * findings of no user (one per four users). Values differ from user to user
 * and from finding to finding, so that a row written twice, lost or paired
 * with another row's values shows. Appends to `users` and `findings` what
 * the report must then hold, as expect_rows() prints it.
 */
static void write_sized_run(const char *path, uint64_t count, struct imaddr_buf *users,
			    struct imaddr_buf *findings)
{
	struct imaddr_sink *sink = open_report(path);
	struct imaddr_run_totals totals = { 0 };
	struct imaddr_error err = { "" };
	char input[32], dn[64], user_id[32], mail[64], value[32];

	snprintf(input, sizeof(input), "%llu.csv", (unsigned long long)count);
	begin_run(sink, input);
	for (uint64_t ordinal = 1; ordinal <= count; ordinal++) {
		struct imaddr_user user = { .ordinal = ordinal, .line = ordinal + 1 };
		snprintf(dn, sizeof(dn), "CN=U%llu", (unsigned long long)ordinal);
		snprintf(user_id, sizeof(user_id), "u%llu", (unsigned long long)ordinal);
		snprintf(mail, sizeof(mail), "u%llu@example.com", (unsigned long long)ordinal);
		user.dn = dn;
		user.user_id = user_id;
		user.mail = mail;
		user.im_address = ordinal % 2 ? mail : NULL;
		cr_assert_eq(sink->ops->user(sink, &user, &err), IMADDR_OK, "%s", err.message);
		imaddr_buf_appendf(users, "%s|%llu|%llu|%s|%s|%s|%s\n", input,
				   (unsigned long long)ordinal, (unsigned long long)ordinal + 1, dn,
				   user_id, mail, ordinal % 2 ? mail : "NULL");
		if (ordinal % 3 == 0)
			continue;
		/* The related user is the one before, when there is one. */
		uint64_t related = ordinal % 2 ? ordinal - 1 : 0;
		struct imaddr_finding finding = {
			.code = IMADDR_CODE_USERID_DUPLICATE, .ordinal = ordinal,
			.line = ordinal + 1, .dn = "CN=ignored", .user_id = user_id,
			.field = "userid", .value = user_id, .related_ordinal = related,
			.related_line = related ? related + 1 : 0, .message = "m",
		};
		finding.severity = imaddr_code_severity(finding.code);
		cr_assert_eq(sink->ops->finding(sink, &finding, &err), IMADDR_OK, "%s",
			     err.message);
		if (related)
			imaddr_buf_appendf(findings, "%s|%llu|%llu|CN=U%llu|%s|%s|%llu|%llu|CN=U%llu\n",
					   input, (unsigned long long)ordinal,
					   (unsigned long long)ordinal + 1, (unsigned long long)ordinal,
					   user_id, user_id, (unsigned long long)related,
					   (unsigned long long)related + 1, (unsigned long long)related);
		else
			imaddr_buf_appendf(findings, "%s|%llu|%llu|CN=U%llu|%s|%s|NULL|NULL|NULL\n",
					   input, (unsigned long long)ordinal,
					   (unsigned long long)ordinal + 1, (unsigned long long)ordinal,
					   user_id, user_id);
	}
	cr_assert_eq(sink->ops->input_end(sink, &err), IMADDR_OK, "%s", err.message);
	for (uint64_t i = 1; i <= count / 4; i++) {
		snprintf(value, sizeof(value), "row %llu", (unsigned long long)i);
		snprintf(dn, sizeof(dn), "CN=Skipped %llu", (unsigned long long)i);
		struct imaddr_finding finding = {
			.code = IMADDR_CODE_RECORD_MALFORMED, .line = 100000 + i, .dn = dn,
			.value = value, .message = "m",
		};
		finding.severity = imaddr_code_severity(finding.code);
		cr_assert_eq(sink->ops->finding(sink, &finding, &err), IMADDR_OK, "%s",
			     err.message);
		imaddr_buf_appendf(findings, "%s|0|%llu|%s|NULL|%s|NULL|NULL|NULL\n", input,
				   100000 + (unsigned long long)i, dn, value);
	}
	totals.users = count;
	cr_assert_eq(sink->ops->end(sink, NULL, &totals, &err), IMADDR_OK, "%s", err.message);
	free_report(sink);
}

/*
 * Users and findings are inserted many to a statement and the last few of a
 * run one by one. Whatever the number per statement, some of these runs
 * fill exactly a whole number of statements and others one row more or
 * less: runs of 2^k - 1, 2^k and 2^k + 1 users read back whole, through
 * users and finding_rows, each finding with its user's line and DN.
 */
Test(sink_report, runs_of_every_size_read_back_whole)
{
	const char *path = path_in_dir("report.sqlite");
	struct imaddr_buf users, findings;
	uint64_t previous = UINT64_MAX, of_users = 0, of_no_user = 0;
	char expected[64];

	imaddr_buf_init(&users, 0);
	imaddr_buf_init(&findings, 0);
	for (uint64_t power = 1; power <= 1024; power *= 2) {
		for (uint64_t count = power - 1; count <= power + 1; count++) {
			if (previous != UINT64_MAX && count <= previous)
				continue;
			write_sized_run(path, count, &users, &findings);
			of_users += count - count / 3;
			of_no_user += count / 4;
			previous = count;
		}
	}
	expect_rows(path,
		    "SELECT r.input, u.ordinal, u.line, u.dn, u.user_id, u.mail, u.im_address"
		    " FROM users AS u JOIN runs AS r ON r.id = u.run_id"
		    " ORDER BY u.run_id, u.ordinal",
		    users.data);
	expect_rows(path,
		    "SELECT r.input, f.ordinal, f.line, f.dn, f.user_id, f.value,"
		    " f.related_ordinal, f.related_line, f.related_dn"
		    " FROM finding_rows AS f JOIN runs AS r ON r.id = f.run_id"
		    " ORDER BY f.run_id, f.finding_id",
		    findings.data);
	snprintf(expected, sizeof(expected), "%llu|%llu|%llu|%llu|%llu\n",
		 (unsigned long long)(of_users + of_no_user), (unsigned long long)of_users,
		 (unsigned long long)of_users, (unsigned long long)of_users,
		 (unsigned long long)of_users);
	/* A user's finding keeps no line or DN of its own, one of no user no user ID. */
	expect_rows(path,
		    "SELECT count(*), sum(ordinal <> 0), sum(line IS NULL), sum(dn IS NULL),"
		    " sum(user_id IS NOT NULL) FROM findings",
		    expected);
	imaddr_buf_release(&users);
	imaddr_buf_release(&findings);
}
