/*
 * A run's summary kept in the report and printed again by imaddr report:
 * audits through the public API, each printing its summary into memory, and
 * the stored runs printed back beside them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "imaddr.h"
#include "report_fixture.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(report_summary);

/* Runs an audit of `csv` with a report and a summary; returns what it printed (free it). */
static char *audit_printing(const char *report, const char *csv,
			    const struct imaddr_audit_options *options)
{
	struct imaddr_audit *audit = NULL;
	struct imaddr_reader *reader = NULL;
	struct imaddr_sink *sink = NULL;
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	char *input = tempdir_write_str(dir, "users.csv", csv);

	cr_assert_not_null(out);
	cr_assert_eq(imaddr_audit_new(options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_sink_report_open(report, -1, &sink, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_audit_add_sink(audit, sink);
	cr_assert_eq(imaddr_sink_summary_open(out, &sink, &err), IMADDR_OK);
	imaddr_audit_add_sink(audit, sink);
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_OK, "%s", err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	cr_assert_eq(fclose(out), 0);
	free(input);
	return text;
}

/* imaddr_report_write_summary of run `run_id` into memory (free it). */
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

static enum imaddr_status find(const char *report, const char *label, int64_t run_id,
			       int64_t *found, struct imaddr_error *err)
{
	*found = -1;
	err->message[0] = '\0';
	return imaddr_report_find_run(report, label, run_id, found, err);
}

/*
 * Seven sets of duplicate users (more than the summary shows), four
 * invalid URIs (more examples than it shows), a user with no last name.
 */
static const char first_night[] =
	"USER ID,LAST NAME,DIRECTORY URI\n"
	"a1,A,a@example.com\n" "a2,A,A@example.com\n"
	"b1,B,b@example.com\n" "b2,B,b@example.com\n" "b3,B,b@EXAMPLE.com\n"
	"c1,C,c@example.com\n" "c2,C,c@example.com\n"
	"d1,D,d@example.com\n" "d2,D,d@example.com\n"
	"e1,E,e@example.com\n" "e2,E,e@example.com\n"
	"f1,F,f@example.com\n" "f2,F,f@example.com\n"
	"g1,G,g@example.com\n" "g2,G,g@example.com\n"
	"bad1,Bad,not an address\n" "bad2,Bad,nor this\n" "bad3,Bad,x@\n" "bad4,Bad,@y\n"
	"nolast,,nolast@example.com\n";

/* a2 and the invalid URIs fixed, g2 gone, one user new with a new error. */
static const char second_night[] =
	"USER ID,LAST NAME,DIRECTORY URI\n"
	"a1,A,a@example.com\n" "a2,A,a2@example.com\n"
	"b1,B,b@example.com\n" "b2,B,b@example.com\n" "b3,B,b@EXAMPLE.com\n"
	"c1,C,c@example.com\n" "c2,C,c@example.com\n"
	"d1,D,d@example.com\n" "d2,D,d@example.com\n"
	"e1,E,e@example.com\n" "e2,E,e@example.com\n"
	"f1,F,f@example.com\n" "f2,F,f@example.com\n"
	"g1,G,g@example.com\n"
	"bad1,Bad,bad1@example.com\n" "bad2,Bad,bad2@example.com\n" "bad3,Bad,bad3@example.com\n"
	"bad4,Bad,bad4@example.com\n"
	"nolast,,nolast@example.com\n" "new,New,new@exa mple.com\n";

static void uri_options(struct imaddr_audit_options *options)
{
	imaddr_audit_options_init(options);
	options->scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options->input_name = "users.csv";
	options->allow_shrink = true;
}

Test(report_summary, a_stored_run_prints_as_its_audit_printed_it)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_audit_options options;

	uri_options(&options);
	char *first = audit_printing(report, first_night, &options);
	char *second = audit_printing(report, second_night, &options);
	char *stored_first = stored_summary(report, 1);
	char *stored_second = stored_summary(report, 2);
	char *newest = stored_summary(report, 0);

	/* The summary shows what the test means it to. */
	cr_assert(strstr(first, "the first 5 sets of users"), "%s", first);
	cr_assert(strstr(first, "  uri-invalid (4):\n"), "%s", first);
	cr_assert(strstr(second, "since the previous run: run 2 compared with run 1 of "), "%s",
		  second);
	cr_expect_str_eq(stored_first, first);
	cr_expect_str_eq(stored_second, second);
	cr_expect_str_eq(newest, second);
	free(first);
	free(second);
	free(stored_first);
	free(stored_second);
	free(newest);
	free(report);
}

Test(report_summary, a_pre_migration_run_keeps_its_changes_and_verdict)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_audit_options options;

	uri_options(&options);
	options.premigration = true;
	options.current_scheme = IMADDR_SCHEME_USERID;
	options.current_default_domain = "example.org";
	char *printed = audit_printing(report, first_night, &options);
	char *stored = stored_summary(report, 1);

	cr_assert(strstr(printed, "\nIM addresses that differ (first 10 of "), "%s", printed);
	cr_assert(strstr(printed, "\nNO-GO: "), "%s", printed);
	cr_expect_str_eq(stored, printed);
	free(printed);
	free(stored);
	free(report);
}

Test(report_summary, finds_a_run_by_number_and_label)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_error err;
	int64_t found;

	report_write_run(report, &report_first_run);
	struct report_fixture other = report_first_run;
	other.input = "other.csv";
	report_write_run(report, &other);
	report_write_run(report, &report_second_run);

	cr_expect_eq(find(report, NULL, 0, &found, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(found, 3);
	cr_expect_eq(find(report, "other.csv", 0, &found, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(found, 2);
	cr_expect_eq(find(report, NULL, 1, &found, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(found, 1);
	cr_expect_eq(find(report, "users.csv", 3, &found, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(found, 3);

	cr_expect_eq(find(report, NULL, 4, &found, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "has no run 4"), "%s", err.message);
	cr_expect_eq(find(report, "users", 0, &found, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "has no run of label 'users' (its labels: 'users.csv', "
				      "'other.csv')"), "%s", err.message);
	cr_expect_eq(find(report, "other.csv", 1, &found, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "run 1 of the report '"), "%s", err.message);
	cr_expect(strstr(err.message, "' is of label 'users.csv', not 'other.csv'"), "%s",
		  err.message);
	free(report);
}

Test(report_summary, an_empty_report_has_no_run)
{
	char *report = tempdir_write_str(dir, "r.sqlite", "");
	struct imaddr_error err;
	int64_t found;

	cr_expect_eq(find(report, NULL, 0, &found, &err), IMADDR_ERR_DB);
	cr_expect(strstr(err.message, "is empty: no run to show"), "%s", err.message);
	free(report);
}

Test(report_summary, a_run_recorded_without_a_summary_is_named)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_error err = { "" };

	report_write_run(report, &report_first_run);
	report_run_sql(report, "DROP TABLE run_summaries");
	cr_expect_eq(imaddr_report_write_summary(report, 1, stdout, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "run 1 of the report '"), "%s", err.message);
	cr_expect(strstr(err.message, "' has no stored summary"), "%s", err.message);
	/* A later run brings the table back, not the summary of run 1. */
	report_write_run(report, &report_second_run);
	cr_expect_eq(imaddr_report_write_summary(report, 1, stdout, &err), IMADDR_ERR_USAGE);
	free(stored_summary(report, 2));
	free(report);
}

/* JSON strings are UTF-8: a byte that is not reads back as U+FFFD. */
Test(report_summary, bytes_that_are_not_utf8_read_back_as_replacement_characters)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = report_open(report);
	struct imaddr_run_totals totals = { .users = 1 };
	struct imaddr_finding finding = {
		.code = IMADDR_CODE_RECORD_MALFORMED,
		.severity = IMADDR_SEVERITY_ERROR,
		.line = 7,
		.value = "x\xff",
		.message = "cannot read 'x\xff'",
	};

	report_begin_run(sink, "users.csv");
	cr_assert_eq(sink->ops->finding(sink, &finding, &err), IMADDR_OK, "%s", err.message);
	totals.by_code[IMADDR_CODE_RECORD_MALFORMED] = 1;
	totals.by_severity[IMADDR_SEVERITY_ERROR] = 1;
	cr_assert_eq(sink->ops->end(sink, &totals, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(sink->ops->commit(sink, &err), IMADDR_OK, "%s", err.message);
	report_free(sink);

	char *stored = stored_summary(report, 1);
	cr_expect(strstr(stored, "  record-malformed (1):\n    line 7: cannot read 'x\xef\xbf\xbd'\n"),
		  "%s", stored);
	free(stored);
	free(report);
}

/* A NULL stream is refused before the report is opened. */
Test(report_summary, a_null_stream_is_refused)
{
	char *report = tempdir_path(dir, "r.sqlite");
	struct imaddr_error err = { "" };

	report_write_run(report, &report_first_run);
	cr_expect_eq(imaddr_report_write_summary(report, 1, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the summary needs a stream to print to, not NULL");
	free(report);
}

/*
 * The functions that read a stored report refuse a NULL where they need a
 * path or somewhere to put the answer, naming it, before any file is
 * opened: not "cannot open the report '(null)'", nor a crash.
 */
Test(report_summary, every_report_function_refuses_a_null_argument)
{
	struct imaddr_error err = { "" };
	int64_t found = 0;
	struct imaddr_prune_result result;
	cr_expect_eq(imaddr_report_find_run(NULL, NULL, 0, &found, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_find_run: 'db_path' is NULL");
	cr_expect_eq(imaddr_report_find_run("report.db", NULL, 0, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_find_run: 'found' is NULL");
	cr_expect_eq(imaddr_report_write_summary(NULL, 0, stdout, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_summary: 'db_path' is NULL");
	cr_expect_eq(imaddr_report_write_html(NULL, 0, "run.html", &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_html: 'db_path' is NULL");
	cr_expect_eq(imaddr_report_write_html("report.db", 0, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_html: 'html_path' is NULL");
	cr_expect_eq(imaddr_report_write_json(NULL, 0, "-", 1, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_json: 'db_path' is NULL");
	cr_expect_eq(imaddr_report_write_json("report.db", 0, NULL, 1, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_json: 'json_path' is NULL");
	cr_expect_eq(imaddr_report_write_worklist(NULL, 0, "w.csv", &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_worklist: 'db_path' is NULL");
	cr_expect_eq(imaddr_report_write_worklist("report.db", 0, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_write_worklist: 'path' is NULL");
	cr_expect_eq(imaddr_report_prune(NULL, NULL, 1, 0, &result, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_report_prune: 'db_path' is NULL");
	cr_expect_eq(result.runs, 0);
	cr_expect_eq(imaddr_report_prune(NULL, NULL, 1, 0, NULL, NULL), IMADDR_ERR_USAGE);
}
