/* The HTML page's writer: everything from the directory is text, never markup. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_report.h"

static const char hostile[] = "<script>alert(\"x\")</script>'&";
static const char escaped[] = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;";

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

Test(html_report, escapes_the_five_characters)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	imaddr_html_escape(out, hostile);
	imaddr_html_escape(out, NULL);
	fclose(out);
	cr_assert_str_eq(text, escaped);
	free(text);
}

Test(html_report, repairs_bytes_that_are_not_utf8)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	imaddr_html_escape(out, "a\xff<");
	fclose(out);
	cr_assert_str_eq(text, "a\xef\xbf\xbd&lt;");
	free(text);
}

Test(html_report, escapes_every_field_of_a_finding_and_a_plan_row)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct imaddr_finding finding = {
		.code = IMADDR_CODE_URI_DUPLICATE, .severity = IMADDR_SEVERITY_ERROR,
		.ordinal = 1, .line = 2, .dn = hostile, .user_id = hostile, .field = hostile,
		.value = hostile, .message = hostile, .suggestion = hostile, .cluster = hostile,
		.related_ordinal = 3,
	};
	struct imaddr_html_plan_row row = {
		.cluster = hostile, .line = 4, .dn = hostile, .user_id = hostile,
		.before = hostile, .after = hostile, .change = "changes",
	};
	imaddr_html_finding_row(out, &finding, 1);
	imaddr_html_plan_row(out, &row);
	fclose(out);
	cr_assert_eq(count_of(text, escaped), 7 + 5, "%s", text);
	cr_assert_eq(count_of(text, "<script"), 0);
	cr_assert_not_null(strstr(text, "class=\"error g1 first\""), "%s", text);
	free(text);
}

Test(html_report, escapes_the_run_header)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct imaddr_run_description run = {
		.input = hostile, .started = hostile, .version = hostile, .scheme = "userid",
		.default_domain = hostile, .im_domains = hostile,
	};
	imaddr_html_begin(out, &run);
	fclose(out);
	cr_assert_eq(count_of(text, escaped), 6, "%s", text);
	cr_assert_eq(count_of(text, "<script"), 0);
	free(text);
}

/* The changes since the previous run: newly waived findings apart from resolved ones. */
static char *changes_section(const struct imaddr_run_changes *changes)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	struct imaddr_run_description run = { .input = "users.csv", .scheme = "userid", .has_report = true };
	struct imaddr_run_totals totals = { .changes = changes };
	imaddr_html_overview(out, &run, &totals, NULL);
	fclose(out);
	return text;
}

Test(html_report, shows_newly_waived_findings_apart_from_resolved_ones)
{
	struct imaddr_run_changes changes = {
		.run_id = 2, .label = "users.csv", .previous_run_id = 1,
		.previous_started = "2026-12-01T02:00:00Z", .previous_users = 5,
	};
	changes.resolved_by_code[IMADDR_CODE_LASTNAME_MISSING] = 1;
	changes.resolved_by_severity[IMADDR_SEVERITY_WARNING] = 1;
	changes.waived_by_code[IMADDR_CODE_MAIL_DUPLICATE] = 2;
	changes.waived_by_severity[IMADDR_SEVERITY_ERROR] = 2;
	char *text = changes_section(&changes);
	cr_expect_not_null(strstr(text, "data-change=\"newly-waived\">2<"), "%s", text);
	cr_expect_not_null(strstr(text, "data-change=\"resolved-errors\">0<"), "%s", text);
	cr_expect_not_null(strstr(text, "<th>newly waived</th>"), "%s", text);
	free(text);

	/* Without a waiver added, no such row or column. */
	memset(changes.waived_by_code, 0, sizeof(changes.waived_by_code));
	memset(changes.waived_by_severity, 0, sizeof(changes.waived_by_severity));
	text = changes_section(&changes);
	cr_expect_null(strstr(text, "newly-waived"), "%s", text);
	cr_expect_null(strstr(text, "newly waived"), "%s", text);
	free(text);
}
