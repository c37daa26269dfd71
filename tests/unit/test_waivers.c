/* The waivers file and matching findings against it (src/waivers.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempdir.h"
#include "waivers.h"

static struct imaddr_waivers waivers;

static void setup(void)
{
	imaddr_waivers_init(&waivers);
}

static void teardown(void)
{
	imaddr_waivers_release(&waivers);
}

TestSuite(waivers, .init = setup, .fini = teardown);

static void parse(const char *text)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_waivers_parse(&waivers, "waivers.csv", text, strlen(text), &err),
		     IMADDR_OK, "%s", err.message);
}

/* The file is refused with exactly `message`, and nothing is kept. */
static void refused(const char *text, const char *message)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_waivers_parse(&waivers, "waivers.csv", text, strlen(text), &err),
		     IMADDR_ERR_INPUT);
	cr_expect_str_eq(err.message, message);
	cr_expect_eq(waivers.count, 0);
}

static struct imaddr_finding finding_of(enum imaddr_code code, const char *user_id,
					const char *value)
{
	struct imaddr_finding finding = {
		.code = code, .severity = imaddr_code_severity(code), .ordinal = user_id ? 1 : 0,
		.user_id = user_id, .value = value, .message = "m",
	};
	return finding;
}

/* The line of the waiver that waives the finding, or 0. */
static uint64_t waived_by(enum imaddr_code code, const char *user_id, const char *value)
{
	struct imaddr_finding finding = finding_of(code, user_id, value);
	const struct imaddr_waiver *waiver = imaddr_waivers_match(&waivers, &finding);
	return waiver ? waiver->line : 0;
}

#define HEADER "code,user_id,value,reason,expires\n"

/* ------------------------------------------------------------------------ */
/* The file. */

Test(waivers, reads_each_line_as_written)
{
	parse(HEADER
	      "mail-duplicate,,help@example.com,Shared mailbox of the help desk,2030-06-30\n"
	      "lastname-missing,svc-backup,,\"Service account, no person\",\n");
	cr_assert_eq(waivers.count, 2);
	const struct imaddr_waiver *first = &waivers.items[0], *second = &waivers.items[1];
	cr_expect_eq(first->code, IMADDR_CODE_MAIL_DUPLICATE);
	cr_expect_null(first->user_id);
	cr_expect_str_eq(first->value, "help@example.com");
	cr_expect_str_eq(first->reason, "Shared mailbox of the help desk");
	cr_expect_str_eq(first->expires, "2030-06-30");
	cr_expect_str_eq(first->source, "waivers.csv:2");
	cr_expect_eq(first->line, 2);
	cr_expect_str_eq(second->user_id, "svc-backup");
	cr_expect_null(second->value);
	cr_expect_str_eq(second->reason, "Service account, no person");
	cr_expect_null(second->expires);
	cr_expect_str_eq(second->subject, "lastname-missing, user ID 'svc-backup'");
}

Test(waivers, takes_a_byte_order_mark_crlf_and_columns_in_any_order)
{
	parse("\xef\xbb\xbfReason,CODE,value\r\n"
	      "shared,uri-duplicate,help@example.com\r\n");
	cr_assert_eq(waivers.count, 1);
	cr_expect_eq(waivers.items[0].code, IMADDR_CODE_URI_DUPLICATE);
	cr_expect_str_eq(waivers.items[0].reason, "shared");
	cr_expect_null(waivers.items[0].expires);
}

Test(waivers, counts_lines_past_blank_rows_and_quoted_line_breaks)
{
	parse(HEADER
	      "\n"
	      ",,,,\n"
	      "userid-duplicate,jdoe,,\"two lines\nof reason\",\n"
	      "userid-duplicate,jroe,,one line,\n");
	cr_assert_eq(waivers.count, 2);
	cr_expect_eq(waivers.items[0].line, 4);
	cr_expect_eq(waivers.items[1].line, 6);
	cr_expect_str_eq(waivers.items[1].source, "waivers.csv:6");
}

/* A line that starts with # says why, who agreed, when: no waiver. */
Test(waivers, skips_comment_lines)
{
	parse("# accepted by the UC team, CHG0042\n"
	      HEADER
	      "# the service desk's shared mailbox\n"
	      "mail-duplicate,,help@example.com,shared,\n"
	      "userid-duplicate,jdoe,,\"a reason\n# not a comment inside quotes\",\n");
	cr_assert_eq(waivers.count, 2);
	cr_expect_eq(waivers.items[0].line, 4);
	cr_expect_eq(waivers.items[1].line, 5);
	cr_expect_str_eq(waivers.items[1].reason, "a reason\n# not a comment inside quotes");
}

Test(waivers, a_header_alone_waives_nothing)
{
	parse(HEADER);
	cr_expect_eq(waivers.count, 0);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "jdoe", "x@example.com"), 0);
}

Test(waivers, refuses_a_file_without_header)
{
	refused("", "waivers.csv: no header: a waivers file starts with the line "
		    "'code,user_id,value,reason,expires'");
	refused("\n\n", "waivers.csv: no header: a waivers file starts with the line "
			"'code,user_id,value,reason,expires'");
}

Test(waivers, refuses_a_header_it_does_not_know)
{
	refused("code,user_id,reason,expiry\n",
		"waivers.csv:1: unknown column 'expiry' in the header: a waivers file has the "
		"columns code, user_id, value, reason and expires");
	refused("mail-duplicate,jdoe,,shared,\n",
		"waivers.csv:1: unknown column 'mail-duplicate' in the header: a waivers file "
		"has the columns code, user_id, value, reason and expires");
	refused("code,code,reason,value\n", "waivers.csv:1: the header has the column 'code' twice");
	refused("code,user_id,value,expires\n",
		"waivers.csv:1: the header needs the columns code, reason and user_id or value "
		"(expires is optional): a waivers file has the columns code, user_id, value, "
		"reason and expires");
	refused("\n\ncode,user_id,value,reason,expires,code\n",
		"waivers.csv:3: the header has more than 5 columns: a waivers file has the "
		"columns code, user_id, value, reason and expires");
}

Test(waivers, refuses_a_malformed_line_naming_line_and_field)
{
	static const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{ "mail-duplicate,,x@example.com,shared\n",
		  "waivers.csv:3: 4 fields where the header has 5 columns" },
		{ "mail-duplicate,,x@example.com,shared,,extra,more\n",
		  "waivers.csv:3: 7 fields where the header has 5 columns" },
		{ ",jdoe,,shared,\n",
		  "waivers.csv:3: code is empty: a waiver names the finding code it waives" },
		{ "*,jdoe,,shared,\n",
		  "waivers.csv:3: code '*': a waiver waives the findings of one code, named as in "
		  "docs/findings.md" },
		{ "mail-dup,jdoe,,shared,\n",
		  "waivers.csv:3: code 'mail-dup' is not a finding code (docs/findings.md)" },
		{ "waiver-unused,jdoe,,shared,\n",
		  "waivers.csv:3: code 'waiver-unused' cannot be waived" },
		{ "waiver-expired,jdoe,,shared,\n",
		  "waivers.csv:3: code 'waiver-expired' cannot be waived" },
		{ "im-address-changes,jdoe,,shared,\n",
		  "waivers.csv:3: code 'im-address-changes' cannot be waived" },
		{ "mail-duplicate,, ,shared,\n",
		  "waivers.csv:3: user_id and value are both empty: a waiver names the user ID or "
		  "the value whose finding it waives" },
		{ "mail-duplicate,jdoe,,  ,\n",
		  "waivers.csv:3: reason is empty: say why the finding is accepted" },
		{ "mail-duplicate,jdoe,,shared,31/12/2030\n",
		  "waivers.csv:3: expires '31/12/2030' is not a date: write it YYYY-MM-DD" },
		{ "mail-duplicate,jdoe,,shared,2030-02-30\n",
		  "waivers.csv:3: expires '2030-02-30' is not a date: write it YYYY-MM-DD" },
		{ "mail-duplicate,j\xe9" "doe,,shared,\n",
		  "waivers.csv:3: user_id is not valid UTF-8 (byte 2): save the file as UTF-8" },
		{ "mail-duplicate,jdoe,,shared \"quoted\",\n",
		  "waivers.csv:3: not valid CSV: a quote inside an unquoted field, or text after "
		  "a closing quote" },
		{ "mail-duplicate,jdoe,,\"never closed,\n",
		  "waivers.csv:3: unbalanced quote: the quoted field that starts here never ends" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text), HEADER "uri-duplicate,ok,,fine,\n%s", cases[i].line);
		refused(text, cases[i].message);
	}
}

Test(waivers, refuses_a_field_too_long)
{
	size_t size = IMADDR_WAIVERS_FIELD_MAX + 200;
	char *text = malloc(size);
	int used = snprintf(text, size, HEADER "mail-duplicate,jdoe,,");
	memset(text + used, 'x', size - (size_t)used - 3);
	memcpy(text + size - 3, ",\n", 3);
	refused(text, "waivers.csv:2: a field is longer than 4096 bytes");
	free(text);
}

Test(waivers, refuses_utf16)
{
	static const char utf16[] = "\xff\xfe" "c\0o\0d\0e\0";
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_waivers_parse(&waivers, "waivers.csv", utf16, sizeof(utf16) - 1, &err),
		     IMADDR_ERR_INPUT);
	cr_expect_str_eq(err.message,
			 "waivers.csv:1: the file is UTF-16 (byte order mark): save it as UTF-8");
}

Test(waivers, refuses_the_same_waiver_twice)
{
	refused(HEADER
		"mail-duplicate,JDoe,,shared,\n"
		"uri-duplicate,jdoe,,shared,\n"
		"mail-duplicate,jdoe ,,again,2030-01-01\n",
		"waivers.csv:4: the same waiver as line 2 (the same code, user_id and value)");
}

Test(waivers, load_names_a_file_it_cannot_read)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_waivers_load(&waivers, "/nonexistent/waivers.csv", &err),
		     IMADDR_ERR_INPUT);
	cr_expect_str_eq(err.message, "cannot open waivers file '/nonexistent/waivers.csv': "
				      "No such file or directory");
	cr_expect_eq(imaddr_waivers_load(&waivers, "/", &err), IMADDR_ERR_INPUT);
	cr_expect_str_eq(err.message, "cannot read waivers file '/': it is a directory");
}

Test(waivers, load_reads_a_file)
{
	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "w.csv", HEADER "mail-duplicate,jdoe,,shared,\n");
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_waivers_load(&waivers, path, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(waivers.count, 1);
	cr_expect_str_eq(waivers.path, path);
	char source[600];
	snprintf(source, sizeof(source), "%s:2", path);
	cr_expect_str_eq(waivers.items[0].source, source);
	tempdir_remove(dir);
	free(path);
	free(dir);
}

Test(waivers, dates_are_checked_against_the_calendar)
{
	cr_expect(imaddr_waivers_date_valid("2024-02-29"));
	cr_expect(imaddr_waivers_date_valid("2000-02-29"));
	cr_expect_not(imaddr_waivers_date_valid("1900-02-29"));
	cr_expect_not(imaddr_waivers_date_valid("2023-02-29"));
	cr_expect(imaddr_waivers_date_valid("2030-12-31"));
	cr_expect_not(imaddr_waivers_date_valid("2030-04-31"));
	cr_expect_not(imaddr_waivers_date_valid("2030-13-01"));
	cr_expect_not(imaddr_waivers_date_valid("2030-00-10"));
	cr_expect_not(imaddr_waivers_date_valid("2030-1-10"));
	cr_expect_not(imaddr_waivers_date_valid("2030-01-10 "));
	cr_expect_not(imaddr_waivers_date_valid("2030/01/10"));
}

/* ------------------------------------------------------------------------ */
/* Matching. */

Test(waivers, matches_a_user_id_ignoring_case_width_and_white_space)
{
	parse(HEADER "mail-duplicate,JDoe,,shared,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "jdoe", "a@example.com"), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, " JDOE", NULL), 2);
	/* Full-width letters, as the duplicate finder folds them. */
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "\xef\xbd\x8a\xef\xbd\x84oe", NULL), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "jdoe2", NULL), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "jdoe", NULL), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, NULL, "jdoe"), 0);
	cr_expect_eq(waivers.items[0].matched, 3);
}

Test(waivers, matches_a_value_in_any_finding_of_its_code)
{
	parse(HEADER "uri-duplicate,,Help@Example.com,shared,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "helpdesk", "help@example.com"), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "helpdesk2", "HELP@EXAMPLE.COM"), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, NULL, "help@example.com"), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "helpdesk", "help@example.com"), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "helpdesk", "helpdesk@example.com"), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "helpdesk", NULL), 0);
}

Test(waivers, a_user_id_and_a_value_must_both_match)
{
	parse(HEADER "uri-invalid,jdoe,bad@,typo kept on purpose,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_URI_INVALID, "jdoe", "BAD@"), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_INVALID, "jdoe", "other@"), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_INVALID, "jdoe", NULL), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_INVALID, "jroe", "bad@"), 0);
}

Test(waivers, the_most_specific_waiver_waives_and_every_match_counts)
{
	parse(HEADER
	      "mail-duplicate,,help@example.com,the mailbox,\n"
	      "mail-duplicate,helpdesk,,the user,\n"
	      "mail-duplicate,helpdesk,help@example.com,the user and the mailbox,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "helpdesk", "help@example.com"), 4);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "helpdesk", "desk@example.com"), 3);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "helpdesk2", "help@example.com"), 2);
	cr_expect_eq(waivers.items[0].matched, 2);
	cr_expect_eq(waivers.items[1].matched, 2);
	cr_expect_eq(waivers.items[2].matched, 1);
}

Test(waivers, an_expired_waiver_counts_its_findings_but_waives_none)
{
	parse(HEADER
	      "mail-duplicate,jdoe,,until today,2026-03-01\n"
	      "uri-duplicate,jdoe,,until yesterday,2026-02-28\n");
	imaddr_waivers_start(&waivers, "2026-03-01");
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "jdoe", NULL), 2);
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "jdoe", NULL), 0);
	cr_expect_not(waivers.items[0].expired);
	cr_expect(waivers.items[1].expired);
	cr_expect_eq(waivers.items[1].matched, 1);
	/* A new run starts the counts afresh, on its own date. */
	imaddr_waivers_start(&waivers, "2026-03-02");
	cr_expect(waivers.items[0].expired);
	cr_expect_eq(waivers.items[1].matched, 0);
}

Test(waivers, a_waiver_that_worked_has_nothing_to_report)
{
	struct imaddr_finding finding;
	struct imaddr_buf message;
	imaddr_buf_init(&message, 0);
	parse(HEADER "mail-duplicate,jdoe,,shared,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "jdoe", NULL), 2);
	cr_expect_not(imaddr_waivers_finding(&waivers, 0, &finding, &message));
	imaddr_buf_release(&message);
}

/* The nightly run from cron and the one by hand name the file differently. */
Test(waivers, a_waiver_finding_is_the_same_whatever_path_names_the_file)
{
	static const char text[] = HEADER "lastname-missing,nobody,,gone,\n";
	struct imaddr_finding finding;
	struct imaddr_buf message;
	struct imaddr_error err = { "" };
	imaddr_buf_init(&message, 0);
	cr_assert_eq(imaddr_waivers_parse(&waivers, "/etc/imaddr/waivers.csv", text, strlen(text),
					  &err), IMADDR_OK, "%s", err.message);
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_assert(imaddr_waivers_finding(&waivers, 0, &finding, &message));
	cr_expect_str_eq(finding.field, "waivers.csv");
	cr_expect(strstr(finding.message, "of '/etc/imaddr/waivers.csv'"), "%s", finding.message);
	imaddr_buf_release(&message);
}

Test(waivers, reports_an_unused_and_an_expired_waiver_with_file_and_line)
{
	struct imaddr_finding finding;
	struct imaddr_buf message;
	imaddr_buf_init(&message, 0);
	parse(HEADER
	      "lastname-missing,nobody,,gone,\n"
	      "mail-duplicate,,help@example.com,shared,2020-01-31\n"
	      "uri-duplicate,helpdesk,,shared,2020-01-31\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "a", "help@example.com"), 0);
	cr_expect_eq(waived_by(IMADDR_CODE_MAIL_DUPLICATE, "b", "help@example.com"), 0);

	cr_assert(imaddr_waivers_finding(&waivers, 0, &finding, &message));
	cr_expect_eq(finding.code, IMADDR_CODE_WAIVER_UNUSED);
	cr_expect_eq(finding.severity, IMADDR_SEVERITY_WARNING);
	cr_expect_eq(finding.ordinal, 0);
	cr_expect_eq(finding.line, 2);
	cr_expect_str_eq(finding.field, "waivers.csv");
	cr_expect_str_eq(finding.value, "lastname-missing, user ID 'nobody'");
	cr_expect_str_eq(finding.message,
			 "the waiver on line 2 of 'waivers.csv' (lastname-missing, user ID "
			 "'nobody') matched no finding: the problem it accepted is gone, or its "
			 "code, user ID or value is wrong");

	cr_assert(imaddr_waivers_finding(&waivers, 1, &finding, &message));
	cr_expect_eq(finding.code, IMADDR_CODE_WAIVER_EXPIRED);
	cr_expect_eq(finding.line, 3);
	cr_expect_str_eq(finding.message,
			 "the waiver on line 3 of 'waivers.csv' (mail-duplicate, value "
			 "'help@example.com') expired on 2020-01-31: the 2 findings it matches "
			 "count again");

	cr_assert(imaddr_waivers_finding(&waivers, 2, &finding, &message));
	cr_expect_eq(finding.code, IMADDR_CODE_WAIVER_EXPIRED);
	cr_expect_str_eq(finding.message,
			 "the waiver on line 4 of 'waivers.csv' (uri-duplicate, user ID "
			 "'helpdesk') expired on 2020-01-31: it matches no finding");
	imaddr_buf_release(&message);
}

Test(waivers, a_code_no_waiver_names_costs_one_test)
{
	parse(HEADER "mail-duplicate,jdoe,,shared,\n");
	imaddr_waivers_start(&waivers, "2026-01-01");
	cr_expect_eq(waivers.user_codes, (uint64_t)1 << IMADDR_CODE_MAIL_DUPLICATE);
	cr_expect_eq(waivers.value_codes, 0);
	/* Not even a key is made: the buffers stay as they were. */
	cr_expect_eq(waived_by(IMADDR_CODE_URI_DUPLICATE, "jdoe", "x"), 0);
	cr_expect_eq(waivers.user_key.len, 0);
	cr_expect_eq(waivers.value_key.len, 0);
}
