/* The text summary, driven through the public API into a memory stream. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imaddr.h"
#include "normalize.h"
#include "sink_summary.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(sink_summary);

/* The summary of an audit of `csv`; free() it. */
static char *summarize(const char *csv, const struct imaddr_audit_options *options,
		       enum imaddr_status expected_status)
{
	struct imaddr_audit *audit = NULL;
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert_not_null(out);
	char *input = tempdir_write_str(dir, "users.csv", csv);

	cr_assert_eq(imaddr_audit_new(options, &audit, &err), IMADDR_OK, "%s", err.message);
	struct imaddr_sink *summary = NULL;
	cr_assert_eq(imaddr_sink_summary_open(out, &summary, &err), IMADDR_OK);
	imaddr_audit_add_sink(audit, summary);
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, &err), IMADDR_OK, "%s", err.message);
	enum imaddr_status status = imaddr_audit_run(audit, reader, NULL, &err);
	cr_assert_eq(status, expected_status, "%s", err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	cr_assert_eq(fclose(out), 0);
	free(input);
	return text;
}

static char *summarize_uri(const char *csv, const char *im_domains)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = "users.csv";
	options.im_domains = im_domains;
	return summarize(csv, &options, IMADDR_OK);
}

static void expect_line(const char *text, const char *line)
{
	cr_assert_not_null(strstr(text, line), "the summary has no line\n%s\nin:\n%s", line,
			   text);
}

static void expect_no_line(const char *text, const char *line)
{
	cr_assert_null(strstr(text, line), "the summary should not have\n%s\nin:\n%s", line,
		       text);
}

static void expect_code_line(const char *text, enum imaddr_code code, unsigned count)
{
	char line[512];
	snprintf(line, sizeof(line), "\n  %-8s %-26s %8u  %s\n",
		 imaddr_severity_name(imaddr_code_severity(code)), imaddr_code_name(code), count,
		 imaddr_code_summary(code));
	expect_line(text, line);
}

static void expect_domain_line(const char *text, const char *ascii, const char *unicode,
			       unsigned users, bool configured)
{
	/* Columns are padded by display width, so a U-label lines up with ASCII. */
	char line[512];
	size_t chars = imaddr_normalize_display_width(unicode, strlen(unicode));
	snprintf(line, sizeof(line), "\n  %-32s %s%*s %8u%s\n", ascii, unicode,
		 (int)(chars < 32 ? 32 - chars : 0), "", users,
		 configured ? "" : "  (not configured)");
	expect_line(text, line);
}

static size_t count_of(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const char users_csv[] =
	"USER ID,LAST NAME,DIRECTORY URI\n"
	"js,Smith,sip:JSmith@EXAMPLE.com\n"           /* sip: and upper case: not canonical */
	"ab,Bee,ab@B\xc3\xbc" "cher.example\n"         /* bücher.example; not canonical */
	"ok,Ok,ok@example.com\n"
	"bad,Bad,not an address\n"                    /* uri-invalid */
	"dup1,Dup,dup@example.com\n"                  /* uri- and im-address-duplicate */
	"dup2,Dup,DUP@example.com\n";

Test(sink_summary, counts_users)
{
	char *text = summarize_uri(users_csv, NULL);
	expect_line(text, "imaddr audit of users.csv\n");
	expect_line(text, "\nscheme: Directory URI\n");
	expect_line(text,
		    "\nusers: 6, with an IM address: 5, without: 1, with errors: 3\n");
	free(text);
}

Test(sink_summary, lists_each_code_with_its_count)
{
	char *text = summarize_uri(users_csv, NULL);
	expect_line(text, "\nfindings: 5 errors, 2 warnings, 0 info\n");
	expect_code_line(text, IMADDR_CODE_URI_INVALID, 1);
	expect_code_line(text, IMADDR_CODE_URI_DUPLICATE, 2);
	expect_code_line(text, IMADDR_CODE_IM_ADDRESS_DUPLICATE, 2);
	expect_code_line(text, IMADDR_CODE_URI_NOT_CANONICAL, 2);
	/* Codes without findings are left out. */
	expect_no_line(text, imaddr_code_name(IMADDR_CODE_USERID_MISSING));
	expect_no_line(text, imaddr_code_name(IMADDR_CODE_MAIL_DUPLICATE));
	/* Errors are listed before warnings. */
	cr_assert_lt(strstr(text, "uri-invalid"), strstr(text, "uri-not-canonical"));
	free(text);
}

Test(sink_summary, shows_im_domains_by_a_label_and_u_label)
{
	char *text = summarize_uri(users_csv, NULL);
	expect_line(text, "\nIM domains: 2\n");
	char header[256];
	snprintf(header, sizeof(header), "\n  %-32s %-32s %8s\n", "A-label", "U-label", "users");
	expect_line(text, header);
	expect_domain_line(text, "example.com", "example.com", 4, true);
	expect_domain_line(text, "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 1, true);
	expect_line(text, "\n  Subject Alt Names for the cup-xmpp-s2s certificate: "
			  "example.com, xn--bcher-kva.example\n");
	/* Sorted by A-label. */
	cr_assert_lt(strstr(text, "  example.com "), strstr(text, "  xn--bcher-kva.example "));
	free(text);
}

Test(sink_summary, marks_domains_that_are_not_configured)
{
	char *text = summarize_uri(users_csv, "example.com");
	expect_domain_line(text, "example.com", "example.com", 4, true);
	expect_domain_line(text, "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 1, false);
	expect_code_line(text, IMADDR_CODE_DOMAIN_NOT_CONFIGURED, 1);
	free(text);
}

Test(sink_summary, gives_the_first_errors_with_line_and_field)
{
	char *text = summarize_uri(users_csv, NULL);
	expect_line(text, "\n\nfirst errors:\n");
	expect_line(text, "\n  uri-invalid (1):\n    line 5 [DIRECTORY URI]: ");
	/* Duplicates are shown by group, not among the examples. */
	expect_no_line(text, "uri-duplicate (");
	/* The examples come after the domain table. */
	cr_assert_lt(strstr(text, "IM domains:"), strstr(text, "first errors:"));
	free(text);
}

Test(sink_summary, gives_the_first_warnings_after_the_errors)
{
	char *text = summarize_uri(users_csv, NULL);
	expect_line(text, "\n\nfirst warnings:\n  uri-not-canonical (2):\n"
			  "    line 2 [DIRECTORY URI]: ");
	expect_line(text, "\n    line 3 [DIRECTORY URI]: ");
	cr_assert_lt(strstr(text, "first errors:"), strstr(text, "first warnings:"));
	free(text);
}

Test(sink_summary, prints_each_duplicate_group_once)
{
	char *text = summarize_uri(users_csv, NULL);
	/* One URI group and one IM address group, of the same two users: one entry. */
	expect_line(text, "\n\nduplicate groups: 2 (uri-duplicate 1, im-address-duplicate 1), "
			  "by the users who share them:\n"
			  "  line 6; line 7\n"
			  "    uri-duplicate [DIRECTORY URI] 'dup@example.com', 'DUP@example.com'\n"
			  "    im-address-duplicate [DIRECTORY URI] 'dup@example.com', "
			  "'DUP@example.com'\n");
	cr_assert_eq(count_of(text, "line 6"), 1, "each member once:\n%s", text);
	free(text);
}

Test(sink_summary, caps_the_sets_of_duplicate_users_it_shows)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "USER ID,LAST NAME,DIRECTORY URI\n");
	for (int i = 0; i < IMADDR_SUMMARY_GROUPS + 2; i++) {
		imaddr_buf_appendf(&csv, "a%d,A,u%d@example.com\n", i, i);
		imaddr_buf_appendf(&csv, "b%d,B,U%d@example.com\n", i, i);
	}
	/* A group larger than the members shown. */
	for (int i = 0; i < IMADDR_SUMMARY_MEMBERS + 2; i++)
		imaddr_buf_appendf(&csv, "c%d,C,big@example.com\n", i);
	char *text = summarize_uri(csv.data, NULL);
	char header[200];
	snprintf(header, sizeof(header), "the first %d sets of users (the report and the worklist "
		 "have them all):\n", IMADDR_SUMMARY_GROUPS);
	expect_line(text, header);
	expect_no_line(text, "big@example.com', ");
	cr_assert_eq(count_of(text, "\n    uri-duplicate "), IMADDR_SUMMARY_GROUPS);
	imaddr_buf_release(&csv);
	free(text);
}

Test(sink_summary, says_how_many_members_a_large_group_has)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "USER ID,LAST NAME,DIRECTORY URI\n");
	for (int i = 0; i < IMADDR_SUMMARY_MEMBERS + 2; i++)
		imaddr_buf_appendf(&csv, "c%d,C,big@example.com\n", i);
	char *text = summarize_uri(csv.data, NULL);
	expect_line(text, "; line 6 and 2 more\n");
	expect_line(text, "'big@example.com', ...\n");
	imaddr_buf_release(&csv);
	free(text);
}

/* A domain as wide as its column still has a space before the next. */
Test(sink_summary, keeps_long_domains_apart)
{
	char *text = summarize_uri("sAMAccountName,sn,mail\n"
				   "a1,A,a@department-of-information-technology.example.com\n",
				   NULL);
	expect_line(text, "\n  department-of-information-technology.example.com "
			  "department-of-information-technology.example.com        1\n");
	free(text);
}

Test(sink_summary, lines_up_wide_u_labels)
{
	/* 例え.jp: two wide characters, seven columns for nine bytes. */
	char *text = summarize_uri("USER ID,LAST NAME,DIRECTORY URI\n"
				   "a,A,a@\xE4\xBE\x8B\xE3\x81\x88.jp\n"
				   "b,B,b@example.com\n", NULL);
	expect_domain_line(text, "example.com", "example.com", 1, true);
	expect_domain_line(text, "xn--r8jz45g.jp", "\xE4\xBE\x8B\xE3\x81\x88.jp", 1, true);
	const char *wide = strstr(text, "\xE4\xBE\x8B"), *plain = strstr(text, "  example.com ");
	cr_assert_not_null(wide);
	cr_assert_not_null(plain);
	/* Both users columns end at the same display column. */
	const char *wide_end = strchr(wide, '\n'), *plain_end = strchr(plain, '\n');
	size_t wide_line_start = 0;
	while (wide[-(long)wide_line_start - 1] != '\n')
		wide_line_start++;
	const char *line = wide - wide_line_start;
	cr_assert_eq(imaddr_normalize_display_width(line, (size_t)(wide_end - line)),
		     (size_t)(plain_end - plain));
	free(text);
}

Test(sink_summary, shows_at_most_three_examples_per_code)
{
	static const char csv[] =
		"USER ID,LAST NAME,DIRECTORY URI\n"
		",A,a@example.com\n"
		",B,b@example.com\n"
		",C,c@example.com\n"
		",D,d@example.com\n"
		",E,e@example.com\n";
	char *text = summarize_uri(csv, NULL);
	expect_code_line(text, IMADDR_CODE_USERID_MISSING, 5);
	expect_line(text, "\n  userid-missing (5):\n"
			  "    line 2 [USER ID]: the user has no user ID\n"
			  "    line 3 [USER ID]: the user has no user ID\n"
			  "    line 4 [USER ID]: the user has no user ID\n");
	expect_no_line(text, "line 5 [USER ID]");
	expect_no_line(text, "line 6 [USER ID]");
	cr_assert_eq(count_of(text, "the user has no user ID"), 4,
		     "3 examples and the code line");
	free(text);
}

/* The line to find the user in the file, the DN to find it in the directory. */
Test(sink_summary, names_a_user_by_line_and_dn)
{
	static const char csv[] =
		"dn,sAMAccountName,sn,mail\n"
		"\"cn=J Smith,dc=example,dc=com\",js,Smith,not-an-address\n";
	char *text = summarize_uri(csv, NULL);
	expect_line(text, "\n    line 2, cn=J Smith,dc=example,dc=com [mail]: ");
	free(text);
}

Test(sink_summary, says_none_when_there_are_no_findings)
{
	static const char csv[] = "USER ID,LAST NAME,DIRECTORY URI\njs,Smith,js@example.com\n";
	char *text = summarize_uri(csv, NULL);
	expect_line(text, "\nusers: 1, with an IM address: 1, without: 0, with errors: 0\n");
	expect_line(text, "\nfindings: 0 errors, 0 warnings, 0 info\n  none\n");
	expect_no_line(text, "first errors:");
	free(text);
}

Test(sink_summary, names_the_default_domain_of_the_userid_scheme)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "B\xc3\xbc" "cher.example";
	options.input_name = "export.csv";
	char *text = summarize("USER ID,LAST NAME\njs,Smith\nmr,Rossi\n", &options, IMADDR_OK);
	expect_line(text, "imaddr audit of export.csv\n");
	expect_line(text, "\nscheme: UserID@Default_Domain (default domain B\xc3\xbc"
			  "cher.example)\n");
	expect_line(text, "\nusers: 2, with an IM address: 2, without: 0, with errors: 0\n");
	expect_domain_line(text, "xn--bcher-kva.example", "b\xc3\xbc" "cher.example", 2, true);
	free(text);
}

Test(sink_summary, prints_nothing_when_the_run_fails)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	char *text = summarize("USER ID,DIRECTORY URI\njs,\"js@example.com\n", &options,
			       IMADDR_ERR_INPUT);
	cr_assert_str_eq(text, "");
	free(text);
}

static char *summarize_waived(const char *waivers)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = "users.csv";
	char *path = tempdir_write_str(dir, "waivers.csv", waivers);
	options.waivers = path;
	char *text = summarize(users_csv, &options, IMADDR_OK);
	free(path);
	return text;
}

Test(sink_summary, counts_waived_findings_apart_with_their_waiver)
{
	char *text = summarize_waived("code,user_id,value,reason,expires\n"
				      "uri-duplicate,,dup@example.com,one mailbox for two,2999-12-31\n"
				      "im-address-duplicate,,dup@example.com,one mailbox for two,\n"
				      "uri-invalid,bad,,a test account,\n");
	expect_line(text, "\nfindings: 0 errors, ");
	expect_line(text, "\n\nwaived: 5 (uri-invalid 1, uri-duplicate 2, im-address-duplicate 2),"
			  " by the waivers of '");
	expect_line(text, "waivers.csv'; the first:\n"
			  "  line 5 [DIRECTORY URI]: directory URI is invalid: no '@' (uri-invalid)\n"
			  "      waived by ");
	expect_line(text, "waivers.csv:4: a test account\n");
	expect_line(text, "waivers.csv:2: one mailbox for two (until 2999-12-31)\n");
	/* A duplicate group waived whole is no problem left to show. */
	expect_no_line(text, "duplicate groups:");
	expect_no_line(text, "first errors:");
	free(text);
}

Test(sink_summary, shows_a_group_with_a_member_not_waived)
{
	char *text = summarize_waived("code,user_id,value,reason,expires\n"
				      "uri-duplicate,dup1,,the older account,\n");
	expect_line(text, "\n\nwaived: 1 (uri-duplicate 1), by the waivers of '");
	expect_line(text, "\nduplicate groups: 2 (uri-duplicate 1, im-address-duplicate 1), "
			  "by the users who share them:\n"
			  "  line 6; line 7\n");
	free(text);
}

Test(sink_summary, says_waived_0_only_with_a_waivers_file)
{
	char *text = summarize_waived("code,user_id,value,reason,expires\n"
				      "uri-invalid,nobody,,gone,\n");
	expect_line(text, "\n\nwaived: 0, by the waivers of '");
	expect_code_line(text, IMADDR_CODE_WAIVER_UNUSED, 1);
	free(text);
	text = summarize_uri(users_csv, NULL);
	expect_no_line(text, "waived");
	free(text);
}

/* The summary is printed when the run ends: a NULL stream is refused at once, not then. */
Test(sink_summary, a_null_stream_is_refused)
{
	struct imaddr_sink *sink = (struct imaddr_sink *)&sink;
	struct imaddr_error err = { "" };
	cr_expect_eq(imaddr_sink_summary_open(NULL, &sink, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the summary needs a stream to print to, not NULL");
	cr_expect_null(sink);
	sink = (struct imaddr_sink *)&sink;
	cr_expect_eq(imaddr_sink_summary_open_changes(NULL, &sink, &err), IMADDR_ERR_USAGE);
	cr_expect_null(sink);
}
