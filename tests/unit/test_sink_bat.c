/* The BAT "Update Users" output, driven through the public API. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imaddr.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(sink_bat);

#define HEADER "USER ID,DIRECTORY URI\r\n"

/* Audits `csv` (written to dir/users.csv) under the directory URI scheme
 * into a BAT file dir/`bat_name`. `uri_attribute` overrides the URI column. */
static enum imaddr_status audit_to_bat(const char *csv, const char *uri_attribute,
				       const char *bat_name, uint64_t chunk_rows,
				       struct imaddr_error *err)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = "users.csv";
	if (uri_attribute)
		imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI, uri_attribute);
	char *input = tempdir_write_str(dir, "users.csv", csv);
	char *bat = tempdir_path(dir, bat_name);

	enum imaddr_status status = imaddr_audit_new(&options, &audit, err);
	cr_assert_eq(status, IMADDR_OK, "%s", err->message);
	struct imaddr_sink *sink = NULL;
	cr_assert_eq(imaddr_sink_bat_open(bat, chunk_rows, -1, &sink, err), IMADDR_OK, "%s",
		     err->message);
	imaddr_audit_add_sink(audit, sink);
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, err), IMADDR_OK, "%s", err->message);
	status = imaddr_audit_run(audit, reader, NULL, err);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	free(bat);
	free(input);
	return status;
}

static void expect_chunks(const char *name, const char *expected)
{
	char *path = tempdir_path(dir, name);
	tempdir_expect_listing(path, expected);
	free(path);
}

static void remove_chunks(const char *name)
{
	char *path = tempdir_path(dir, name);
	tempdir_remove(path);
	free(path);
}

static void expect_file(const char *name, const char *expected)
{
	char *path = tempdir_path(dir, name);
	size_t len;
	char *contents = tempdir_read(path, &len);
	cr_assert_not_null(contents, "'%s' does not exist", name);
	cr_assert_eq(len, strlen(expected), "'%s' has %zu bytes, expected %zu:\n%s", name, len,
		     strlen(expected), contents);
	cr_assert_str_eq(contents, expected, "'%s'", name);
	free(contents);
	free(path);
}

/* A CUCM export: DIRECTORY URI is both the source and what CUCM holds now. */
static const char cucm_export[] =
	"USER ID,LAST NAME,DIRECTORY URI\n"
	"js,Smith,sip:JSmith@EXAMPLE.com\n"          /* sip: dropped, host lowercased */
	"\"Bee, Jr\",Bee,ab@B\xc3\xbc" "cher.Example\n" /* quoted ID, A-label host */
	"ok,Ok,ok@example.com\n"                    /* already canonical: no change */
	"bad,Bad,not an address\n"                  /* uri-invalid */
	"dup1,Dup,dup@example.com\n"                /* uri-duplicate with the next */
	"dup2,Dup,DUP@example.com\n"
	"\"q\"\"uote\",Quote,q@EXAMPLE.org\n"       /* a quote in the user ID */
	",NoId,noid@EXAMPLE.com\n";                 /* userid-missing */

Test(sink_bat, writes_canonical_uris_of_users_without_errors)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(cucm_export, NULL, "bat.csv", 0, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat.csv", HEADER
		    "js,JSmith@example.com\r\n"
		    "\"Bee, Jr\",ab@xn--bcher-kva.example\r\n"
		    "\"q\"\"uote\",q@example.org\r\n");
	tempdir_expect_listing(dir, "bat.csv,users.csv");
}

Test(sink_bat, skips_users_whose_current_uri_is_already_canonical)
{
	/* The URI comes from mail; DIRECTORY URI says what CUCM holds now. */
	static const char csv[] =
		"USER ID,LAST NAME,mail,DIRECTORY URI\n"
		"js,Smith,JS@Example.COM,\n"                 /* nothing yet: import */
		"mr,Rossi,mr@example.com,mr@example.com\n"   /* same: skip */
		"ab,Bee,ab@example.com,old@example.com\n"    /* changed: import */
		"cd,Dee,cd@EXAMPLE.com,cd@example.com\n"     /* same once canonical: skip */
		"sp,Sp,sip:sp@example.com,\n";               /* sip: dropped */
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 0, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat.csv", HEADER
		    "js,JS@example.com\r\n"
		    "ab,ab@example.com\r\n"
		    "sp,sp@example.com\r\n");
}

Test(sink_bat, header_only_when_no_user_qualifies)
{
	static const char csv[] =
		"USER ID,LAST NAME,DIRECTORY URI\n"
		"ok,Ok,ok@example.com\n"
		"bad,Bad,bad@@example.com\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(csv, NULL, "bat.csv", 0, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat.csv", HEADER);
}

Test(sink_bat, quotes_fields_by_rfc_4180)
{
	/* Non-canonical spellings, so that every user's URI changes. */
	static const char csv[] =
		"USER ID,LAST NAME,mail\n"
		"plain,A,a@Example.COM\n"
		"\"com,ma\",B,b@Example.COM\n"
		"\"quo\"\"te\",C,c@Example.COM\n"
		"\"both,\"\"x\"\"\",D,d@Example.COM\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 0, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat.csv", HEADER
		    "plain,a@example.com\r\n"
		    "\"com,ma\",b@example.com\r\n"
		    "\"quo\"\"te\",c@example.com\r\n"
		    "\"both,\"\"x\"\"\",d@example.com\r\n");
}

/* Their mail spelled in capitals: the canonical URI changes, so each is a row. */
static const char five_users[] =
	"USER ID,LAST NAME,mail\n"
	"u1,A,u1@Example.COM\n"
	"u2,B,u2@Example.COM\n"
	"bad,X,\n"                      /* uri-missing: not counted in chunks */
	"u3,C,u3@Example.COM\n"
	"u4,D,u4@Example.COM\n"
	"u5,E,u5@Example.COM\n";

Test(sink_bat, chunks_split_rows_each_with_the_header)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(five_users, "mail", "bat.csv", 2, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat/bat-001.csv", HEADER "u1,u1@example.com\r\nu2,u2@example.com\r\n");
	expect_file("bat/bat-002.csv", HEADER "u3,u3@example.com\r\nu4,u4@example.com\r\n");
	expect_file("bat/bat-003.csv", HEADER "u5,u5@example.com\r\n");
	tempdir_expect_listing(dir, "bat,users.csv");
	expect_chunks("bat", "bat-001.csv,bat-002.csv,bat-003.csv");
}

Test(sink_bat, chunks_of_an_exact_multiple_leave_no_empty_chunk)
{
	static const char csv[] =
		"USER ID,LAST NAME,mail\n"
		"u1,A,u1@Example.COM\n"
		"u2,B,u2@Example.COM\n"
		"u3,C,u3@Example.COM\n"
		"u4,D,u4@Example.COM\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 2, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat/bat-001.csv", HEADER "u1,u1@example.com\r\nu2,u2@example.com\r\n");
	expect_file("bat/bat-002.csv", HEADER "u3,u3@example.com\r\nu4,u4@example.com\r\n");
	expect_chunks("bat", "bat-001.csv,bat-002.csv");
}

Test(sink_bat, chunks_with_no_rows_write_one_header_only_chunk)
{
	static const char csv[] = "USER ID,LAST NAME,mail\nbad,X,\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 2, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat/bat-001.csv", HEADER);
	expect_chunks("bat", "bat-001.csv");
}

Test(sink_bat, a_chunk_set_is_replaced_whole)
{
	struct imaddr_error err = { "" };
	static const char *const stale[] = { "bat-001.csv", "bat-002.csv", "bat-003.csv",
					     "bat-004.csv", "bat-005.csv" };
	char *chunks = tempdir_path(dir, "bat");
	cr_assert_eq(mkdir(chunks, 0755), 0);
	for (size_t i = 0; i < 5; i++)
		free(tempdir_write_str(chunks, stale[i], HEADER "stale,stale@example.com\r\n"));
	cr_assert_eq(audit_to_bat(five_users, "mail", "bat.csv", 2, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat/bat-001.csv", HEADER "u1,u1@example.com\r\nu2,u2@example.com\r\n");
	expect_file("bat/bat-002.csv", HEADER "u3,u3@example.com\r\nu4,u4@example.com\r\n");
	expect_file("bat/bat-003.csv", HEADER "u5,u5@example.com\r\n");
	expect_chunks("bat", "bat-001.csv,bat-002.csv,bat-003.csv");
	tempdir_expect_listing(dir, "bat,users.csv");
	free(chunks);
}

Test(sink_bat, chunk_names_without_an_extension)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(audit_to_bat(five_users, "mail", "bat", 3, &err), IMADDR_OK, "%s",
		     err.message);
	expect_file("bat/bat-001", HEADER "u1,u1@example.com\r\nu2,u2@example.com\r\n"
		    "u3,u3@example.com\r\n");
	expect_file("bat/bat-002", HEADER "u4,u4@example.com\r\nu5,u5@example.com\r\n");
	expect_chunks("bat", "bat-001,bat-002");
}

Test(sink_bat, chunk_names_in_a_directory_with_a_dot)
{
	/* The number goes before the file's extension, not the directory's. */
	struct imaddr_error err = { "" };
	char *sub = tempdir_path(dir, "out.d");
	cr_assert_eq(mkdir(sub, 0755), 0);
	enum imaddr_status status = audit_to_bat(five_users, "mail", "out.d/bat", 3, &err);
	char *listing = tempdir_list(sub);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_str_eq(listing, "bat");
	expect_chunks("out.d/bat", "bat-001,bat-002");
	remove_chunks("out.d/bat");
	tempdir_remove(sub);
	free(sub);
	free(listing);
}

Test(sink_bat, failing_run_leaves_an_existing_bat_file_untouched)
{
	static const char csv[] =
		"USER ID,LAST NAME,mail\n"
		"u1,A,u1@example.com\n"
		"\"u2,B,u2@example.com\n"
		"u3,C,u3@example.com\n";
	static const char previous[] = HEADER "old,old@example.com\r\n";
	struct imaddr_error err = { "" };
	free(tempdir_write_str(dir, "bat.csv", previous));
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 0, &err), IMADDR_ERR_INPUT);
	cr_assert_not_null(strstr(err.message, "users.csv:3: unbalanced quote"), "%s",
			   err.message);
	expect_file("bat.csv", previous);
	tempdir_expect_listing(dir, "bat.csv,users.csv");
}

Test(sink_bat, failing_run_leaves_existing_chunks_untouched)
{
	static const char csv[] = "USER ID,LAST NAME,mail\nu1,A,u1@example.com\n\"u2,B,\n";
	static const char previous[] = HEADER "old,old@example.com\r\n";
	struct imaddr_error err = { "" };
	char *chunks = tempdir_path(dir, "bat");
	cr_assert_eq(mkdir(chunks, 0755), 0);
	free(tempdir_write_str(chunks, "bat-001.csv", previous));
	free(tempdir_write_str(chunks, "bat-002.csv", previous));
	cr_assert_eq(audit_to_bat(csv, "mail", "bat.csv", 1, &err), IMADDR_ERR_INPUT);
	expect_file("bat/bat-001.csv", previous);
	expect_file("bat/bat-002.csv", previous);
	expect_chunks("bat", "bat-001.csv,bat-002.csv");
	tempdir_expect_listing(dir, "bat,users.csv");
	free(chunks);
}

/* A file where the directory of chunks goes is refused before the run. */
Test(sink_bat, a_file_in_place_of_the_chunk_directory_is_refused)
{
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = NULL;
	char *path = tempdir_path(dir, "bat.csv");
	free(tempdir_write_str(dir, "bat", "x"));
	cr_assert_eq(imaddr_sink_bat_open(path, 2, -1, &sink, &err), IMADDR_ERR_IO);
	cr_assert_null(sink);
	cr_assert_not_null(strstr(err.message, "is a file, not a directory of chunks"), "%s",
			   err.message);
	free(path);
}

/*
 * Audits `csv` under the directory URI scheme into dir/bat.csv with a
 * summary; returns the summary's text (free it) and the BAT file's path in
 * `path` (free it).
 */
static char *audit_with_summary(const char *csv, const char *uri_attribute, char **path)
{
	struct imaddr_error err = { "" };
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_sink *bat = NULL, *summary = NULL;
	struct imaddr_reader *reader = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	if (uri_attribute)
		imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI, uri_attribute);
	char *input = tempdir_write_str(dir, "users.csv", csv);
	*path = tempdir_path(dir, "bat.csv");
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_sink_bat_open(*path, 0, -1, &bat, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_audit_add_sink(audit, bat);
	cr_assert_eq(imaddr_sink_summary_open(out, &summary, &err), IMADDR_OK);
	imaddr_audit_add_sink(audit, summary);
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_OK, "%s", err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	fclose(out);
	free(input);
	return text;
}

/* The summary's BAT line of the two tests below. */
static void expect_one_row_two_errors_one_unchanged(const char *text, const char *path)
{
	char line[1024];
	snprintf(line, sizeof(line), "BAT file '%s': 1 row; left out: 2 with errors, 0 without "
		 "a valid directory URI, 1 whose directory URI does not change\n", path);
	cr_expect_not_null(strstr(text, line), "%s", text);
}

Test(sink_bat, only_changes_are_written_and_counted)
{
	static const char csv[] =
		"dn,sAMAccountName,sn,mail\n"
		"\"CN=A,DC=x\",a,A,a@example.com\n"       /* canonical: unchanged */
		"\"CN=B,DC=x\",b,B,B@EXAMPLE.com\n"       /* changes */
		"\"CN=C,DC=x\",c,C,\n"                    /* no URI: an error here */
		"\"CN=D,DC=x\",d,D,d@@example.com\n";     /* an error */
	char *path;
	char *text = audit_with_summary(csv, NULL, &path);
	expect_file("bat.csv", HEADER "b,B@example.com\r\n");
	expect_one_row_two_errors_one_unchanged(text, path);
	cr_expect_not_null(strstr(text, "warning: 1 of these users comes from a directory"),
			   "%s", text);
	free(text);
	free(path);
}

/*
 * Duplicates are found after the read, when the users were already counted
 * as unchanged or taken for rows: each is counted once, with the errors.
 */
Test(sink_bat, users_whose_duplicates_come_later_are_counted_once)
{
	static const char csv[] =
		"sAMAccountName,sn,mail\n"
		"a,A,a@example.com\n"       /* unchanged, then a duplicate */
		"b,B,B@EXAMPLE.com\n"       /* changes */
		"c,C,c@example.com\n"       /* unchanged */
		"e,E,A@EXAMPLE.COM\n";      /* would change, then a duplicate */
	char *path;
	char *text = audit_with_summary(csv, NULL, &path);
	expect_file("bat.csv", HEADER "b,B@example.com\r\n");
	expect_one_row_two_errors_one_unchanged(text, path);
	free(text);
	free(path);
}

/* Excel runs a cell that starts with = + - @: such users wait for a fixed value. */
Test(sink_bat, values_a_spreadsheet_would_run_are_left_out)
{
	static const char csv[] =
		"USER ID,LAST NAME,mail\n"
		"\"=HYPERLINK(\"\"x\"\")\",Eq,eq@example.com\n"   /* csv-formula: the user ID */
		"e164,Num,+14085551234@example.com\n"     /* csv-formula: the URI */
		"mary-ann,Ann,mary-ann@EXAMPLE.com\n";    /* a hyphen inside: written */
	char *path;
	char *text = audit_with_summary(csv, "mail", &path);
	expect_file("bat.csv", HEADER "mary-ann,mary-ann@example.com\r\n");
	cr_expect_not_null(strstr(text, ", 2 with values a spreadsheet would take for formulas "
				  "(csv-formula)\n"), "%s", text);
	free(text);
	free(path);
}

Test(sink_bat, open_in_a_missing_directory_fails_at_once)
{
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "no/such/bat.csv");
	struct imaddr_sink *sink = NULL;
	cr_assert_eq(imaddr_sink_bat_open(path, 0, -1, &sink, &err), IMADDR_ERR_IO);
	cr_assert_null(sink);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "cannot write '%s': No such file or directory",
		 path);
	cr_assert_str_eq(err.message, expected);
	free(path);
}

Test(sink_bat, open_under_a_file_fails_at_once)
{
	struct imaddr_error err = { "" };
	free(tempdir_write_str(dir, "plain", "x"));
	char *path = tempdir_path(dir, "plain/bat.csv");
	struct imaddr_sink *sink = NULL;
	cr_assert_eq(imaddr_sink_bat_open(path, 0, -1, &sink, &err), IMADDR_ERR_IO);
	cr_assert_null(sink);
	cr_assert_not_null(strstr(err.message, path), "%s", err.message);
	free(path);
}
