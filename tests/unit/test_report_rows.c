#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>

#include "buffer.h"
#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_rows);

/* dir/name; valid until the next call. */
static const char *path_in_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/*
 * One run of `count` users, as the audit hands them over: each user followed
 * by its findings (two in three users have one), then the input's end, then
 * findings of no user (one per four users). Values differ from user to user
 * and from finding to finding, so that a row written twice, lost or paired
 * with another row's values shows. Appends to `users` and `findings` what
 * the report must then hold, as report_expect_rows() prints it.
 */
static void write_sized_run(const char *path, uint64_t count, struct imaddr_buf *users,
			    struct imaddr_buf *findings)
{
	struct imaddr_sink *sink = report_open(path);
	struct imaddr_run_totals totals = { 0 };
	struct imaddr_error err = { "" };
	char input[32], dn[64], user_id[32], mail[64], value[32];

	snprintf(input, sizeof(input), "%llu.csv", (unsigned long long)count);
	report_begin_run(sink, input);
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
		unsigned long long at = ordinal, to = related;
		imaddr_buf_appendf(findings, "%s|%llu|%llu|CN=U%llu|%s|%s|", input, at, at + 1, at,
				   user_id, user_id);
		if (related)
			imaddr_buf_appendf(findings, "%llu|%llu|CN=U%llu\n", to, to + 1, to);
		else
			imaddr_buf_append_str(findings, "NULL|NULL|NULL\n");
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
	cr_assert_eq(sink->ops->end(sink, &totals, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
	report_free(sink);
}

/*
 * Users and findings are inserted many to a statement, the last few of a
 * run in a shorter one. Whatever the number per statement, some of these runs
 * fill exactly a whole number of statements and others one row more or
 * less: runs of 2^k - 1, 2^k and 2^k + 1 users read back whole, through
 * users and finding_rows, each finding with its user's line and DN.
 */
Test(report_rows, runs_of_every_size_read_back_whole)
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
	report_expect_rows(path,
		"SELECT r.input, u.ordinal, u.line, u.dn, u.user_id, u.mail, u.im_address"
		" FROM users AS u JOIN runs AS r ON r.id = u.run_id"
		" ORDER BY u.run_id, u.ordinal",
		users.data);
	report_expect_rows(path,
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
	report_expect_rows(path,
		"SELECT count(*), sum(ordinal <> 0), sum(line IS NULL), sum(dn IS NULL),"
		" sum(user_id IS NOT NULL) FROM findings",
		expected);
	/* The rows reach SQLite through a table of this connection only. */
	report_expect_rows(path,
		"SELECT count(*) FROM sqlite_master WHERE sql LIKE '%imaddr_pending_rows%'", "0\n");
	imaddr_buf_release(&users);
	imaddr_buf_release(&findings);
}
