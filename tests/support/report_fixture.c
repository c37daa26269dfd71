#include "report_fixture.h"

struct imaddr_sink *report_open_or_null(const char *path, struct imaddr_error *err)
{
	struct imaddr_sink *sink = NULL;
	return imaddr_sink_report_open(path, -1, &sink, err) == IMADDR_OK ? sink : NULL;
}

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buffer.h"

bool report_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * Every row of a query as "a|b|c" lines, NULL spelled NULL, so that a test
 * compares one expected string with what the report holds.
 */
char *report_query(const char *path, const char *sql)
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

void report_expect_rows(const char *path, const char *sql, const char *expected)
{
	char *actual = report_query(path, sql);

	cr_expect_str_eq(actual, expected, "%s\nexpected:\n%s\nactual:\n%s", sql, expected,
			 actual);
	free(actual);
}

enum imaddr_status report_try_begin_run(struct imaddr_sink *sink, const char *input,
				       struct imaddr_error *err)
{
	static struct imaddr_audit_options options;
	struct imaddr_run_info info = { 0 };

	memset(&options, 0, sizeof(options));
	options.scheme = IMADDR_SCHEME_USERID;
	options.default_domain = "example.com";
	options.im_domains = "example.com,münchen.example";
	options.input_name = input;
	info.options = &options;
	info.version = "0.1.0";
	info.started = 1700000000;
	return sink->ops->begin(sink, &info, err);
}

void report_begin_run(struct imaddr_sink *sink, const char *input)
{
	struct imaddr_error err = { "" };

	cr_assert_eq(report_try_begin_run(sink, input, &err), IMADDR_OK, "%s", err.message);
}

/*
 * The strings are copied into buffers that the next user overwrites: the
 * sink must be done with them when its callback returns.
 */
void report_feed_users(struct imaddr_sink *sink, const struct report_fixture *fixture)
{
	struct imaddr_error err = { "" };
	char dn[128], user_id[64], mail[64], im_address[64];

	for (size_t i = 0; i < fixture->user_count; i++) {
		const struct report_fixture_user *spec = &fixture->users[i];
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

void report_feed_findings(struct imaddr_sink *sink, const struct report_fixture *fixture)
{
	struct imaddr_error err = { "" };
	char message[128];

	for (size_t i = 0; i < fixture->finding_count; i++) {
		const struct report_fixture_finding *spec = &fixture->findings[i];
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

void report_end_run(struct imaddr_sink *sink, const struct report_fixture *fixture)
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
	cr_assert_eq(sink->ops->end(sink, &totals, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
}

/* Through the ops, as imaddr_sink_free does, so the test needs no audit. */
void report_free(struct imaddr_sink *sink)
{
	sink->ops->free(sink);
}

struct imaddr_sink *report_open(const char *path)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = report_open_or_null(path, &err);

	cr_assert_not_null(sink, "%s", err.message);
	return sink;
}

void report_write_run(const char *path, const struct report_fixture *fixture)
{
	struct imaddr_sink *sink = report_open(path);

	report_begin_run(sink, fixture->input);
	report_feed_users(sink, fixture);
	report_feed_findings(sink, fixture);
	report_end_run(sink, fixture);
	report_free(sink);
}

void report_count_rows(const char *path, const char *expected)
{
	report_expect_rows(path,
		"SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM users),"
		" (SELECT count(*) FROM findings), (SELECT count(*) FROM domains)",
		expected);
}

void report_run_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	sqlite3_close(db);
}

static const struct imaddr_domain_count domains[] = {
	{ "example.com", "example.com", 2, true },
	{ "xn--mnchen-3ya.example", "münchen.example", 1, true },
};

static const struct report_fixture_user first_users[] = {
	{ 2, "CN=Ann Lee,DC=example,DC=com", "alee", "Lee", "alee@xn--mnchen-3ya.example",
	  "xn--mnchen-3ya.example" },
	{ 3, "CN=Bo Smith,DC=example,DC=com", "bsmith", NULL, "bsmith@example.com",
	  "example.com" },
	{ 4, "CN=Bo Smith 2,DC=example,DC=com", "BSmith", "Smith", "bsmith@example.com",
	  "example.com" },
};

static const struct report_fixture_finding first_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 3, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_IM_ADDRESS_DUPLICATE, 3, 4, "sAMAccountName", "BSmith", 2, "bsmith2" },
	{ IMADDR_CODE_RECORD_MALFORMED, 0, 5, NULL, "x,y", 0, NULL },
};

const struct report_fixture report_first_run = {
	"users.csv", first_users, 3, first_findings, 3, domains, 2,
};

/* Ann's IM address changes, Bo Smith 2 is renamed, Cy arrives. */
static const struct report_fixture_user second_users[] = {
	{ 2, "CN=Ann Lee,DC=example,DC=com", "alee", "Lee", "ann.lee@xn--mnchen-3ya.example",
	  "xn--mnchen-3ya.example" },
	{ 3, "CN=Bo Smith,DC=example,DC=com", "bsmith", NULL, "bsmith@example.com",
	  "example.com" },
	{ 4, "CN=Bo Smith 2,DC=example,DC=com", "bsmith2", "Smith", "bsmith2@example.com",
	  "example.com" },
	{ 5, "CN=Cy Doe,DC=example,DC=com", "cdoe", "Doe", "cdoe@example.com", "example.com" },
};

static const struct report_fixture_finding second_findings[] = {
	{ IMADDR_CODE_LASTNAME_MISSING, 2, 3, "sn", NULL, 0, NULL },
	{ IMADDR_CODE_USERID_NOT_CANONICAL, 4, 5, "sAMAccountName", "cdoe ", 0, "cdoe" },
	{ IMADDR_CODE_RECORD_MALFORMED, 0, 6, NULL, "x,y", 0, NULL },
};

const struct report_fixture report_second_run = {
	"users.csv", second_users, 4, second_findings, 3, domains, 2,
};

