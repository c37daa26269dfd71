/* The JSON document (--json), written through the public API and parsed back. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imaddr.h"
#include "tempdir.h"

TEMPDIR_TEST_SUITE(sink_json);

static const char users_csv[] =
	"USER ID,LAST NAME,DIRECTORY URI\n"
	"js,Smith,sip:JSmith@EXAMPLE.com\n"           /* uri-not-canonical */
	"ab,Bee,ab@B\xc3\xbc" "cher.example\n"         /* bücher.example, not canonical */
	"ok,Ok,ok@example.com\n"
	"bad,Bad,not an address\n"                   /* uri-invalid */
	"dup1,Dup,dup@example.com\n"                  /* uri- and im-address-duplicate */
	"dup2,Dup,DUP@example.com\n"
	"dup3,Dup,x@example.com\n"                    /* a second group of each */
	"dup4,Dup,X@example.com\n";

/* The waivers file audit_json's runs read, or NULL. */
static const char *waivers_path;

/*
 * Audits `csv` with a JSON output at dir/run.json, and with the SQLite
 * report dir/`report` under the label "nightly" unless it is NULL; returns
 * the parsed document.
 */
static json_t *audit_json_with_report(const char *csv, const char *im_domains, size_t per_code,
				      const char *report, struct imaddr_run_totals *totals)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_error err = { "" };
	struct imaddr_sink *sink = NULL;
	struct imaddr_reader *reader = NULL;
	char *input = tempdir_write_str(dir, "users.csv", csv);
	char *path = tempdir_path(dir, "run.json");
	char *bat = tempdir_path(dir, "bat.csv");

	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.input_name = "users.csv";
	options.im_domains = im_domains;
	options.waivers = waivers_path;
	options.label = "nightly";
	options.allow_shrink = true;
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	if (report) {
		char *db = tempdir_path(dir, report);
		cr_assert_eq(imaddr_sink_report_open(db, -1, &sink, &err), IMADDR_OK, "%s",
			     err.message);
		imaddr_audit_add_sink(audit, sink);
		free(db);
	}
	cr_assert_eq(imaddr_sink_bat_open(bat, 0, -1, &sink, &err), IMADDR_OK, "%s", err.message);
	imaddr_audit_add_sink(audit, sink);
	cr_assert_eq(imaddr_sink_json_open(path, per_code, &sink, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_audit_add_sink(audit, sink);
	cr_assert_eq(imaddr_csv_reader_open(input, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_run(audit, reader, totals, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);

	json_error_t error;
	json_t *document = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
	cr_assert_not_null(document, "run.json is not JSON: line %d: %s", error.line,
			   error.text);
	free(input);
	free(path);
	free(bat);
	return document;
}

static json_t *audit_json(const char *csv, const char *im_domains, size_t per_code,
			  struct imaddr_run_totals *totals)
{
	return audit_json_with_report(csv, im_domains, per_code, NULL, totals);
}

static json_int_t integer_at(json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);
	cr_assert(json_is_integer(value), "'%s' is not an integer", key);
	return json_integer_value(value);
}

static const char *string_at(json_t *object, const char *key)
{
	json_t *value = json_object_get(object, key);
	cr_assert(json_is_string(value), "'%s' is not a string", key);
	return json_string_value(value);
}

Test(sink_json, holds_the_run_and_its_totals)
{
	struct imaddr_run_totals totals;
	json_t *document = audit_json(users_csv, NULL, 20, &totals);
	cr_assert_eq(integer_at(document, "imaddr_json"), IMADDR_JSON_SCHEMA);
	json_t *run = json_object_get(document, "run");
	cr_assert_str_eq(string_at(run, "input"), "users.csv");
	cr_assert_str_eq(string_at(run, "scheme"), "directory-uri");
	cr_assert_str_eq(string_at(run, "version"), IMADDR_VERSION);
	cr_assert(json_is_null(json_object_get(run, "default_domain")));
	cr_assert(json_is_false(json_object_get(run, "premigration")));
	cr_assert_str_eq(string_at(document, "verdict"), "no-go");

	json_t *counts = json_object_get(document, "totals");
	cr_assert_eq(integer_at(counts, "users"), (json_int_t)totals.users);
	cr_assert_eq(integer_at(counts, "users"), 8);
	cr_assert_eq(integer_at(counts, "users_with_im_address"),
		     (json_int_t)totals.users_with_im_address);
	cr_assert_eq(integer_at(counts, "users_with_error"), (json_int_t)totals.users_with_error);
	cr_assert_eq(integer_at(counts, "errors"),
		     (json_int_t)totals.by_severity[IMADDR_SEVERITY_ERROR]);
	cr_assert_eq(integer_at(counts, "warnings"),
		     (json_int_t)totals.by_severity[IMADDR_SEVERITY_WARNING]);
	json_decref(document);
}

Test(sink_json, counts_every_code_the_run_found)
{
	struct imaddr_run_totals totals;
	json_t *document = audit_json(users_csv, NULL, 20, &totals);
	json_t *codes = json_object_get(document, "codes");
	size_t index;
	json_t *item;
	uint64_t seen = 0;
	json_array_foreach(codes, index, item) {
		enum imaddr_code code;
		cr_assert(imaddr_code_parse(string_at(item, "code"), &code));
		cr_assert_eq(integer_at(item, "count"), (json_int_t)totals.by_code[code]);
		cr_assert_str_eq(string_at(item, "severity"),
				 imaddr_severity_name(imaddr_code_severity(code)));
		seen += totals.by_code[code];
	}
	cr_assert_eq(seen, totals.by_severity[0] + totals.by_severity[1] + totals.by_severity[2],
		     "every finding's code is listed");
	json_decref(document);
}

Test(sink_json, lists_the_first_findings_of_each_code)
{
	struct imaddr_run_totals totals;
	json_t *document = audit_json(users_csv, NULL, 1, &totals);
	json_t *findings = json_object_get(document, "findings");
	cr_assert_eq(integer_at(document, "findings_per_code"), 1);
	size_t per_code[IMADDR_CODE_COUNT] = { 0 };
	size_t index;
	json_t *item;
	json_array_foreach(findings, index, item) {
		enum imaddr_code code;
		cr_assert(imaddr_code_parse(string_at(item, "code"), &code));
		per_code[code]++;
	}
	cr_assert_eq(totals.by_code[IMADDR_CODE_URI_DUPLICATE], 4);
	cr_assert_eq(per_code[IMADDR_CODE_URI_DUPLICATE], 1, "one finding per code");
	json_array_foreach(json_object_get(document, "codes"), index, item) {
		enum imaddr_code code;
		cr_assert(imaddr_code_parse(string_at(item, "code"), &code));
		cr_assert_eq(integer_at(item, "listed"), (json_int_t)per_code[code]);
	}
	json_decref(document);
}

Test(sink_json, numbers_duplicate_groups)
{
	json_t *document = audit_json(users_csv, NULL, 20, NULL);
	json_t *findings = json_object_get(document, "findings");
	size_t index;
	json_t *item;
	/* user-duplicate groups come first: none here; then the URIs' two groups. */
	json_int_t uri_groups[4] = { 0 };
	size_t uri = 0;
	json_array_foreach(findings, index, item) {
		json_t *group = json_object_get(item, "duplicate_group");
		if (!strcmp(string_at(item, "code"), "uri-duplicate")) {
			cr_assert(json_is_integer(group));
			uri_groups[uri++] = json_integer_value(group);
		} else if (strcmp(string_at(item, "code"), "im-address-duplicate")) {
			cr_assert(json_is_null(group), "only duplicates have a group");
		}
	}
	cr_assert_eq(uri, 4);
	cr_assert_eq(uri_groups[0], 1);
	cr_assert_eq(uri_groups[1], 1);
	cr_assert_eq(uri_groups[2], 2);
	cr_assert_eq(uri_groups[3], 2);
	json_decref(document);
}

Test(sink_json, lists_domains_and_the_certificate_names)
{
	json_t *document = audit_json(users_csv, "example.com", 20, NULL);
	json_t *domains = json_object_get(document, "domains");
	cr_assert_eq(json_array_size(domains), 2);
	json_t *first = json_array_get(domains, 0), *second = json_array_get(domains, 1);
	cr_assert_str_eq(string_at(first, "ascii"), "example.com");
	cr_assert(json_is_true(json_object_get(first, "configured")));
	cr_assert_str_eq(string_at(second, "ascii"), "xn--bcher-kva.example");
	cr_assert_str_eq(string_at(second, "unicode"), "b\xc3\xbc" "cher.example");
	cr_assert(json_is_false(json_object_get(second, "configured")));
	json_t *san = json_object_get(document, "certificate_san");
	cr_assert_eq(json_array_size(san), 2);
	cr_assert_str_eq(json_string_value(json_array_get(san, 1)), "xn--bcher-kva.example");
	json_decref(document);
}

Test(sink_json, names_the_files_the_other_outputs_wrote)
{
	json_t *document = audit_json(users_csv, NULL, 20, NULL);
	json_t *outputs = json_object_get(document, "outputs");
	cr_assert_geq(json_array_size(outputs), 1);
	cr_assert_not_null(strstr(json_string_value(json_array_get(outputs, 0)), "BAT file '"));
	json_decref(document);
}

Test(sink_json, keeps_text_that_is_not_utf8_as_valid_json)
{
	/* The readers decode their input; an address handed in directly may be any bytes. */
	struct imaddr_address_checker *checker;
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert_eq(imaddr_address_checker_new(&checker, &err), IMADDR_OK);
	const struct imaddr_address_result *result =
		imaddr_address_checker_check(checker, "b\xff" "d@example.com", 15);
	cr_assert_eq(imaddr_address_result_write_json("b\xff" "d@example.com", 15, result, out,
						      &err), IMADDR_OK);
	imaddr_address_checker_free(checker);
	fclose(out);
	json_error_t error;
	json_t *line = json_loads(text, 0, &error);
	cr_assert_not_null(line, "not JSON: %s", error.text);
	cr_assert_str_eq(string_at(line, "address"), "b\xef\xbf\xbd" "d@example.com");
	json_decref(line);
	free(text);
}

Test(sink_json, has_no_changes_or_history_without_a_report)
{
	struct imaddr_run_totals totals;
	json_t *document = audit_json(users_csv, NULL, 20, &totals);
	cr_assert(json_is_null(json_object_get(document, "changes")));
	cr_assert(json_is_null(json_object_get(document, "label")));
	cr_assert_eq(json_array_size(json_object_get(document, "history")), 0);
	json_decref(document);
}

/* The count of `code` in an array of {code, count}, 0 when it is absent. */
static json_int_t code_count(json_t *array, const char *code)
{
	size_t index;
	json_t *item;
	json_array_foreach(array, index, item) {
		if (!strcmp(string_at(item, "code"), code))
			return integer_at(item, "count");
	}
	return 0;
}

Test(sink_json, tells_the_changes_since_the_previous_run_and_the_history)
{
	static const char fixed_csv[] =
		"USER ID,LAST NAME,DIRECTORY URI\n"
		"js,Smith,sip:JSmith@EXAMPLE.com\n"    /* still uri-not-canonical */
		"ok,Ok,ok@example.com\n"
		"bad,Bad,bad@example.com\n"           /* uri-invalid resolved */
		"dup1,Dup,dup@example.com\n"
		"dup2,Dup,dup2@example.com\n"         /* one duplicate group resolved */
		"new,New,\n";                         /* a new user: uri-missing */
	struct imaddr_run_totals totals;
	json_t *first = audit_json_with_report(users_csv, NULL, 20, "report.sqlite", &totals);
	cr_assert(json_is_null(json_object_get(first, "changes")), "a first run has no changes");
	cr_assert_str_eq(string_at(first, "label"), "nightly");
	cr_assert_eq(integer_at(first, "report_run"), 1);
	json_t *history = json_object_get(first, "history");
	cr_assert_eq(json_array_size(history), 1);
	cr_assert_eq(integer_at(json_array_get(history, 0), "errors"),
		     (json_int_t)totals.by_severity[IMADDR_SEVERITY_ERROR]);
	json_int_t first_errors = (json_int_t)totals.by_severity[IMADDR_SEVERITY_ERROR];
	json_decref(first);

	json_t *second = audit_json_with_report(fixed_csv, NULL, 20, "report.sqlite", &totals);
	cr_assert_eq(integer_at(second, "report_run"), 2);
	json_t *changes = json_object_get(second, "changes");
	cr_assert(json_is_object(changes));
	cr_assert_eq(integer_at(json_object_get(changes, "previous_run"), "run"), 1);
	cr_assert_eq(integer_at(json_object_get(changes, "previous_run"), "users"), 8);
	cr_assert_eq(integer_at(changes, "users_added"), 1);
	cr_assert_eq(integer_at(changes, "users_removed"), 3);
	json_t *new_by_code = json_object_get(changes, "new_by_code");
	json_t *resolved_by_code = json_object_get(changes, "resolved_by_code");
	cr_assert_eq(code_count(new_by_code, "uri-missing"), 1);
	cr_assert_eq(code_count(resolved_by_code, "uri-invalid"), 1);
	cr_assert_eq(code_count(resolved_by_code, "uri-not-canonical"), 1, "ab's went");
	cr_assert_eq(code_count(new_by_code, "uri-not-canonical"), 0, "js's stays");
	/* No waivers here: the member is there, empty. */
	cr_assert_eq(integer_at(json_object_get(changes, "waived"), "errors"), 0);
	cr_assert_eq(json_array_size(json_object_get(changes, "waived_by_code")), 0);
	cr_assert_eq(integer_at(json_object_get(changes, "new"), "errors"),
		     code_count(new_by_code, "uri-missing") +
			     code_count(new_by_code, "uri-invalid") +
			     code_count(new_by_code, "uri-duplicate") +
			     code_count(new_by_code, "im-address-duplicate"));
	json_t *examples = json_object_get(changes, "new_examples");
	cr_assert_geq(json_array_size(examples), 1);
	cr_assert_str_eq(string_at(json_array_get(examples, 0), "code"), "uri-missing");

	history = json_object_get(second, "history");
	cr_assert_eq(json_array_size(history), 2);
	cr_assert_eq(integer_at(json_array_get(history, 0), "run"), 1, "oldest first");
	cr_assert_eq(integer_at(json_array_get(history, 0), "errors"), first_errors);
	cr_assert_eq(integer_at(json_array_get(history, 1), "run"), 2);
	cr_assert_eq(integer_at(json_array_get(history, 1), "errors"),
		     (json_int_t)totals.by_severity[IMADDR_SEVERITY_ERROR]);
	cr_assert_eq(integer_at(json_array_get(history, 1), "users"), 6);
	json_decref(second);
}

Test(sink_json, refuses_a_directory_that_does_not_exist)
{
	struct imaddr_sink *sink = NULL;
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "missing/run.json");
	cr_assert_eq(imaddr_sink_json_open(path, 20, &sink, &err), IMADDR_ERR_IO);
	cr_assert_not_null(strstr(err.message, "missing/run.json"), "%s", err.message);
	cr_assert_null(sink);
	free(path);
}

Test(sink_json, writes_an_address_as_one_line)
{
	struct imaddr_address_checker *checker;
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	cr_assert_eq(imaddr_address_checker_new(&checker, &err), IMADDR_OK);
	const char *addresses[] = { "JSmith@Example.com", "not an address" };
	for (size_t i = 0; i < 2; i++) {
		const struct imaddr_address_result *result = imaddr_address_checker_check(
			checker, addresses[i], strlen(addresses[i]));
		cr_assert_eq(imaddr_address_result_write_json(addresses[i], strlen(addresses[i]),
							      result, out, &err), IMADDR_OK);
	}
	imaddr_address_checker_free(checker);
	fclose(out);
	char *second = strchr(text, '\n') + 1;
	cr_assert_eq(strchr(second, '\n'), text + len - 1, "two lines");
	json_error_t error;
	json_t *first = json_loadb(text, (size_t)(second - text), 0, &error);
	json_t *other = json_loads(second, 0, &error);
	cr_assert_not_null(first);
	cr_assert_not_null(other);
	cr_assert_str_eq(string_at(first, "address"), "JSmith@Example.com");
	cr_assert_str_eq(string_at(first, "canonical"), "JSmith@example.com");
	cr_assert(json_is_true(json_object_get(first, "valid")));
	cr_assert(json_is_null(json_object_get(other, "canonical")));
	cr_assert(json_is_false(json_object_get(other, "valid")));
	json_t *finding = json_array_get(json_object_get(other, "findings"), 0);
	cr_assert_str_eq(string_at(finding, "severity"), "error");
	json_decref(first);
	json_decref(other);
	free(text);
}

/* The first finding of `code` in the document's list. */
static json_t *first_finding(json_t *document, const char *code)
{
	size_t i;
	json_t *finding;
	json_array_foreach(json_object_get(document, "findings"), i, finding) {
		if (!strcmp(string_at(finding, "code"), code))
			return finding;
	}
	cr_assert_fail("no %s finding", code);
	return NULL;
}

Test(sink_json, counts_waived_findings_apart_and_lists_them_with_their_waiver)
{
	char *path = tempdir_write_str(dir, "waivers.csv",
				       "code,user_id,value,reason,expires\n"
				       "uri-invalid,bad,,a test account,2999-12-31\n"
				       "uri-duplicate,,dup@example.com,one mailbox,\n"
				       "im-address-duplicate,,dup@example.com,one mailbox,\n");
	waivers_path = path;
	json_t *document = audit_json(users_csv, NULL, 20, NULL);
	waivers_path = NULL;
	cr_assert_str_eq(string_at(json_object_get(document, "run"), "waivers"), path);
	json_t *counts = json_object_get(document, "totals");
	cr_expect_eq(integer_at(counts, "waived"), 5);
	/* The other group of each code is still an error. */
	cr_expect_eq(integer_at(counts, "errors"), 4);
	size_t i;
	json_t *code;
	json_array_foreach(json_object_get(document, "codes"), i, code) {
		if (!strcmp(string_at(code, "code"), "uri-invalid")) {
			cr_expect_eq(integer_at(code, "count"), 0);
			cr_expect_eq(integer_at(code, "waived"), 1);
			cr_expect_eq(integer_at(code, "listed"), 1);
		} else if (!strcmp(string_at(code, "code"), "uri-duplicate")) {
			cr_expect_eq(integer_at(code, "count"), 2);
			cr_expect_eq(integer_at(code, "waived"), 2);
		}
	}
	json_t *waiver = json_object_get(first_finding(document, "uri-invalid"), "waiver");
	cr_assert(json_is_object(waiver));
	cr_expect_str_eq(string_at(waiver, "reason"), "a test account");
	cr_expect_str_eq(string_at(waiver, "expires"), "2999-12-31");
	char source[600];
	snprintf(source, sizeof(source), "%s:2", path);
	cr_expect_str_eq(string_at(waiver, "source"), source);
	cr_expect(json_is_null(json_object_get(first_finding(document, "uri-not-canonical"),
					       "waiver")));
	json_decref(document);
	/* A waiver accepts the problem, it does not fix the data: not in the BAT file. */
	char *bat_path = tempdir_path(dir, "bat.csv");
	char *bat = tempdir_read(bat_path, NULL);
	cr_assert_not_null(bat);
	cr_expect_null(strstr(bat, "dup1"), "%s", bat);
	cr_expect_null(strstr(bat, "dup2"), "%s", bat);
	free(bat);
	free(bat_path);
	free(path);
}

Test(sink_json, a_run_without_waivers_says_so)
{
	json_t *document = audit_json(users_csv, NULL, 20, NULL);
	cr_expect(json_is_null(json_object_get(json_object_get(document, "run"), "waivers")));
	cr_expect_eq(integer_at(json_object_get(document, "totals"), "waived"), 0);
	json_decref(document);
}
