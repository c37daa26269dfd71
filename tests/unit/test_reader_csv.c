/* The CSV reader (src/reader_csv.h), driven directly through the reader API. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "mapping.h"
#include "reader_csv.h"
#include "reader.h"
#include "buffer.h"
#include "error.h"
#include "tempdir.h"

/* What the record callback saw, copied out of the reader's buffers. */
struct seen_value {
	bool present;
	char *data;              /* NUL added; data may hold NULs of its own */
	size_t len;
	char *attribute;         /* NULL when the reader gave none */
	bool terminated;         /* the reader promised a NUL after the data */
	bool nul_after;          /* and there was one */
};

struct seen_record {
	uint64_t line;
	char *dn;
	struct seen_value values[IMADDR_ROLE_COUNT];
	size_t problem_count;
	struct {
		enum imaddr_code code;
		char *field;
		char message[200];
	} problems[IMADDR_RECORD_MAX_PROBLEMS];
};

struct seen_notice {
	enum imaddr_code code;
	uint64_t line;
	char *message;
};

struct seen {
	struct seen_record *records;
	size_t record_count;
	size_t record_cap;
	struct seen_notice *notices;
	size_t notice_count;
	size_t stop_after;        /* fail the callback at this record; 0: never */
};

static char *dir;
static char *csv_path;
static struct seen seen;

static void setup(void)
{
	dir = tempdir_create();
	csv_path = tempdir_path(dir, "users.csv");
	memset(&seen, 0, sizeof(seen));
}

static char *copy_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Frees what was seen so far, for a test that reads several files. */
static void forget_seen(void)
{
	for (size_t i = 0; i < seen.record_count; i++) {
		struct seen_record *r = &seen.records[i];
		free(r->dn);
		for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
			free(r->values[role].data);
			free(r->values[role].attribute);
		}
		for (size_t p = 0; p < r->problem_count; p++)
			free(r->problems[p].field);
	}
	for (size_t i = 0; i < seen.notice_count; i++)
		free(seen.notices[i].message);
	free(seen.records);
	free(seen.notices);
	memset(&seen, 0, sizeof(seen));
}

static void teardown(void)
{
	forget_seen();
	tempdir_remove(dir);
	free(csv_path);
	free(dir);
}

TestSuite(reader_csv, .init = setup, .fini = teardown);

static enum imaddr_status on_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	struct seen *s = context;
	if (s->record_count == s->record_cap) {
		s->record_cap = s->record_cap ? s->record_cap * 2 : 16;
		s->records = realloc(s->records, s->record_cap * sizeof(*s->records));
		cr_assert_not_null(s->records);
	}
	struct seen_record *r = &s->records[s->record_count++];
	memset(r, 0, sizeof(*r));
	r->line = record->line;
	r->dn = copy_or_null(record->dn);
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const struct imaddr_value *v = &record->values[role];
		r->values[role].present = v->present;
		r->values[role].len = v->len;
		r->values[role].attribute = copy_or_null(v->attribute);
		r->values[role].terminated = v->terminated;
		r->values[role].nul_after = v->data && v->data[v->len] == '\0';
		if (v->data) {
			r->values[role].data = malloc(v->len + 1);
			memcpy(r->values[role].data, v->data, v->len);
			r->values[role].data[v->len] = '\0';
		}
	}
	r->problem_count = record->problem_count;
	for (size_t i = 0; i < record->problem_count; i++) {
		r->problems[i].code = record->problems[i].code;
		r->problems[i].field = copy_or_null(record->problems[i].field);
		memcpy(r->problems[i].message, record->problems[i].message,
		       sizeof(r->problems[i].message));
	}
	if (s->stop_after && s->record_count == s->stop_after)
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "stopped by the test");
	return IMADDR_OK;
}

static enum imaddr_status on_notice(void *context, enum imaddr_code code, uint64_t line,
				    const char *dn, const char *field, const char *value,
				    const char *message, struct imaddr_error *err)
{
	struct seen *s = context;
	s->notices = realloc(s->notices, (s->notice_count + 1) * sizeof(*s->notices));
	cr_assert_not_null(s->notices);
	struct seen_notice *n = &s->notices[s->notice_count++];
	n->code = code;
	n->line = line;
	n->message = copy_or_null(message);
	cr_assert_null(dn, "a CSV row has no DN in a notice");
	return IMADDR_OK;
}

/*
 * Reads `len` bytes of CSV with `mapping` (NULL: the default mapping) as a
 * file in `encoding` (NULL: as the reader decides).
 */
static enum imaddr_status read_csv_with(const char *bytes, size_t len,
					const struct imaddr_mapping *mapping,
					unsigned required_roles, const char *encoding,
					struct imaddr_error *err)
{
	struct imaddr_mapping defaults;
	struct imaddr_file_options options;
	imaddr_mapping_init(&defaults);
	imaddr_file_options_init(&options);
	options.encoding = encoding;
	free(tempdir_write(dir, "users.csv", bytes, len));
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open_with(csv_path, &options, &reader, err), IMADDR_OK,
		     "%s", err->message);
	struct imaddr_reader_request request = {
		.mapping = mapping ? mapping : &defaults,
		.required_roles = required_roles,
		.record = on_record,
		.notice = on_notice,
		.context = &seen,
	};
	enum imaddr_status status = imaddr_reader_run(reader, &request, err);
	imaddr_reader_free(reader);
	return status;
}

static enum imaddr_status read_csv_mapped(const char *bytes, size_t len,
					  const struct imaddr_mapping *mapping,
					  unsigned required_roles, struct imaddr_error *err)
{
	return read_csv_with(bytes, len, mapping, required_roles, NULL, err);
}

/* Reads CSV text that must parse as a whole, requiring the user ID. */
static void read_ok(const char *text)
{
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_csv_mapped(text, strlen(text), NULL,
						    1u << IMADDR_ROLE_USER_ID, &err);
	cr_assert_eq(status, IMADDR_OK, "%s: %s", imaddr_strerror(status), err.message);
}

/* Reads CSV bytes that must fail with an input error naming the file first. */
static void read_fails(const char *bytes, size_t len, const char *expected_after_path)
{
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_csv_mapped(bytes, len, NULL,
						    1u << IMADDR_ROLE_USER_ID, &err);
	cr_assert_eq(status, IMADDR_ERR_INPUT, "status %s: %s", imaddr_strerror(status),
		     err.message);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s%s", csv_path, expected_after_path);
	cr_assert_str_eq(err.message, expected);
}

static const struct seen_record *record_at(size_t i)
{
	cr_assert_lt(i, seen.record_count, "only %zu records", seen.record_count);
	return &seen.records[i];
}

static void expect_value(size_t record, enum imaddr_role role, const char *expected)
{
	const struct seen_value *v = &record_at(record)->values[role];
	if (!expected) {
		cr_assert_not(v->present, "record %zu: %s should be absent, is '%s'", record,
			      imaddr_role_name(role), v->data ? v->data : "");
		return;
	}
	cr_assert(v->present, "record %zu: %s should be '%s', is absent", record,
		  imaddr_role_name(role), expected);
	cr_assert_eq(v->len, strlen(expected), "record %zu: %s has %zu bytes", record,
		     imaddr_role_name(role), v->len);
	cr_assert_str_eq(v->data, expected, "record %zu: %s", record, imaddr_role_name(role));
}

static void expect_lines(const uint64_t *lines, size_t count)
{
	cr_assert_eq(seen.record_count, count, "%zu records, expected %zu", seen.record_count,
		     count);
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(seen.records[i].line, lines[i], "record %zu is on line %llu, not %llu",
			     i, (unsigned long long)seen.records[i].line,
			     (unsigned long long)lines[i]);
}

Test(reader_csv, reads_rows_with_their_lines)
{
	read_ok("sAMAccountName,sn,mail\n"
		"js,Smith,js@example.com\n"
		"mr,Rossi,mr@example.com\n");
	expect_lines((uint64_t[]){ 2, 3 }, 2);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(0, IMADDR_ROLE_MAIL, "js@example.com");
	expect_value(1, IMADDR_ROLE_USER_ID, "mr");
	cr_assert_eq(record_at(0)->problem_count, 0);
	cr_assert_null(record_at(0)->dn);
	cr_assert_eq(seen.notice_count, 0);
}

Test(reader_csv, matches_the_header_case_insensitively)
{
	read_ok("SAMACCOUNTNAME,Sn,Mail\njs,Smith,js@example.com\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(0, IMADDR_ROLE_MAIL, "js@example.com");
	/* The attribute is the column as the file spells it. */
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_USER_ID].attribute, "SAMACCOUNTNAME");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_MAIL].attribute, "Mail");
}

Test(reader_csv, trims_white_space_around_header_names)
{
	read_ok(" sAMAccountName\t, sn \njs,Smith\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
}

Test(reader_csv, skips_a_utf8_bom)
{
	read_ok("\xEF\xBB\xBF" "sAMAccountName,sn\njs,Smith\n");
	expect_lines((uint64_t[]){ 2 }, 1);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_USER_ID].attribute, "sAMAccountName");
}

Test(reader_csv, skips_a_bom_before_a_quoted_header)
{
	read_ok("\xEF\xBB\xBF\"USER ID\",\"LAST NAME\"\r\njs,Smith\r\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
}

Test(reader_csv, reads_crlf_and_lf_line_ends)
{
	read_ok("sAMAccountName,sn\r\njs,Smith\r\nmr,Rossi\nab,Bee\r\ncd,Dee");
	expect_lines((uint64_t[]){ 2, 3, 4, 5 }, 4);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Rossi");
	expect_value(2, IMADDR_ROLE_LAST_NAME, "Bee");
	/* The last row needs no line end. */
	expect_value(3, IMADDR_ROLE_LAST_NAME, "Dee");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
}

Test(reader_csv, counts_lines_of_classic_mac_line_ends)
{
	read_ok("sAMAccountName,sn\rjs,Smith\r\rmr,\"Ros\rsi\"\rab,B\"ee\rcd,Dee\r");
	expect_lines((uint64_t[]){ 2, 4, 7 }, 3);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Ros\rsi");
	expect_value(2, IMADDR_ROLE_USER_ID, "cd");
	cr_assert_eq(seen.notice_count, 1);
	cr_assert_eq(seen.notices[0].line, 6);
}

Test(reader_csv, reads_quoted_fields_with_commas_quotes_and_newlines)
{
	read_ok("sAMAccountName,sn,mail\r\n"
		"js,\"Smith, Jr.\",js@example.com\r\n"
		"\"mr\",\"Ros\r\nsi\",mr@example.com\r\n"
		"ab,\"Bee \"\"B\"\"\",\"\"\"\"\r\n"
		"cd,\"D\n\ne\ne\",cd@example.com\n"
		"ef,Eff,ef@example.com\n");
	/* A record's line is the line it starts on. */
	expect_lines((uint64_t[]){ 2, 3, 5, 6, 10 }, 5);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith, Jr.");
	expect_value(1, IMADDR_ROLE_USER_ID, "mr");
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Ros\r\nsi");
	expect_value(1, IMADDR_ROLE_MAIL, "mr@example.com");
	expect_value(2, IMADDR_ROLE_LAST_NAME, "Bee \"B\"");
	expect_value(2, IMADDR_ROLE_MAIL, "\"");
	expect_value(3, IMADDR_ROLE_LAST_NAME, "D\n\ne\ne");
	expect_value(4, IMADDR_ROLE_USER_ID, "ef");
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(record_at(i)->problem_count, 0, "record %zu: %s", i,
			     record_at(i)->problems[0].message);
}

Test(reader_csv, skips_blank_lines)
{
	read_ok("sAMAccountName,sn\n"
		"\n"
		"js,Smith\n"
		"\r\n"
		"\n"
		"mr,Rossi\n"
		"\n");
	expect_lines((uint64_t[]){ 3, 6 }, 2);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(1, IMADDR_ROLE_USER_ID, "mr");
	cr_assert_eq(record_at(0)->problem_count, 0);
	cr_assert_eq(record_at(1)->problem_count, 0);
}

Test(reader_csv, blank_lines_before_the_header)
{
	read_ok("\n\r\nsAMAccountName,sn\njs,Smith\n");
	expect_lines((uint64_t[]){ 4 }, 1);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
}

Test(reader_csv, keeps_white_space_around_values)
{
	read_ok("sAMAccountName,sn,mail\n"
		" js , Smith\t,\t\n"
		"\" mr \",Rossi  ,mr@example.com\n");
	expect_value(0, IMADDR_ROLE_USER_ID, " js ");
	expect_value(0, IMADDR_ROLE_LAST_NAME, " Smith\t");
	/* White space is a value, not an empty cell. */
	expect_value(0, IMADDR_ROLE_MAIL, "\t");
	expect_value(1, IMADDR_ROLE_USER_ID, " mr ");
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Rossi  ");
}

Test(reader_csv, empty_cell_is_not_present)
{
	read_ok("sAMAccountName,sn,mail\n"
		"js,,js@example.com\n"
		"mr,\"\",\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, NULL);
	expect_value(1, IMADDR_ROLE_LAST_NAME, NULL);
	expect_value(1, IMADDR_ROLE_MAIL, NULL);
	/* The column exists: the value knows its attribute. */
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
	cr_assert_str_eq(record_at(1)->values[IMADDR_ROLE_MAIL].attribute, "mail");
	cr_assert_eq(record_at(0)->problem_count, 0);
	cr_assert_eq(record_at(1)->problem_count, 0);
}

Test(reader_csv, column_not_in_the_header_has_no_attribute)
{
	read_ok("sAMAccountName\njs\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	for (int role = IMADDR_ROLE_DIRECTORY_URI; role < IMADDR_ROLE_COUNT; role++) {
		cr_assert_not(record_at(0)->values[role].present);
		cr_assert_null(record_at(0)->values[role].attribute, "%s",
			       imaddr_role_name(role));
	}
}

Test(reader_csv, values_are_nul_terminated_in_place)
{
	read_ok("sAMAccountName,sn,mail,dn\n"
		"js,\"Smith, Jr.\",js@example.com,cn=js\n"
		"mr,Rossi,,\n");
	for (size_t i = 0; i < 2; i++) {
		for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
			const struct seen_value *v = &record_at(i)->values[role];
			if (!v->present)
				continue;
			cr_assert(v->terminated, "record %zu: %s not terminated", i,
				  imaddr_role_name(role));
			cr_assert(v->nul_after, "record %zu: %s has no NUL after it", i,
				  imaddr_role_name(role));
		}
	}
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith, Jr.");
	cr_assert_str_eq(record_at(0)->dn, "cn=js");
	cr_assert_null(record_at(1)->dn);
}

Test(reader_csv, keeps_nul_bytes_in_values)
{
	static const char csv[] = "sAMAccountName,sn\nnu\0l,Jones\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_mapped(csv, sizeof(csv) - 1, NULL, 0, &err), IMADDR_OK, "%s",
		     err.message);
	const struct seen_value *v = &record_at(0)->values[IMADDR_ROLE_USER_ID];
	cr_assert(v->present);
	cr_assert_eq(v->len, 4);
	cr_assert(memcmp(v->data, "nu\0l", 4) == 0);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Jones");
}

Test(reader_csv, too_few_or_too_many_fields_is_record_malformed)
{
	read_ok("sAMAccountName,sn,mail\n"
		"js,Smith\n"
		"mr,Rossi,mr@example.com,extra\n"
		"ab,Bee,ab@example.com\n");
	expect_lines((uint64_t[]){ 2, 3, 4 }, 3);
	const struct seen_record *few = record_at(0);
	cr_assert_eq(few->problem_count, 1);
	cr_assert_eq(few->problems[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_null(few->problems[0].field);
	cr_assert_str_eq(few->problems[0].message, "2 fields where the header has 3 columns");
	/* What is there is still read. */
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(0, IMADDR_ROLE_MAIL, NULL);
	cr_assert_str_eq(few->values[IMADDR_ROLE_MAIL].attribute, "mail");

	const struct seen_record *many = record_at(1);
	cr_assert_eq(many->problem_count, 1);
	cr_assert_eq(many->problems[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_str_eq(many->problems[0].message, "4 fields where the header has 3 columns: "
			 "a value holding ',' without quotes around it? (as Export-Csv -UseQuotes "
			 "Never writes a DN)");
	expect_value(1, IMADDR_ROLE_MAIL, "mr@example.com");

	cr_assert_eq(record_at(2)->problem_count, 0);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* mail feeds the directory URI and the mail: one column, one problem. */
Test(reader_csv, field_over_64_kib_in_a_column_of_two_roles_is_one_problem)
{
	char *long_value = repeat('x', IMADDR_CSV_FIELD_MAX + 1);
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_appendf(&csv, "sAMAccountName,sn,mail\njs,Smith,%s\n", long_value);
	read_ok(csv.data);
	const struct seen_record *r = record_at(0);
	cr_assert_eq(r->problem_count, 1);
	cr_expect_str_eq(r->problems[0].field, "mail");
	expect_value(0, IMADDR_ROLE_MAIL, NULL);
	expect_value(0, IMADDR_ROLE_DIRECTORY_URI, NULL);
	imaddr_buf_release(&csv);
	free(long_value);
}

Test(reader_csv, field_over_64_kib_is_dropped_with_a_problem)
{
	char *long_value = repeat('x', IMADDR_CSV_FIELD_MAX + 1);
	char *at_limit = repeat('y', IMADDR_CSV_FIELD_MAX);
	size_t cap = 3 * IMADDR_CSV_FIELD_MAX;
	char *csv = malloc(cap);
	snprintf(csv, cap, "sAMAccountName,sn,mail\njs,%s,js@example.com\nmr,%s,\nab,Bee,\n",
		 long_value, at_limit);
	read_ok(csv);
	expect_lines((uint64_t[]){ 2, 3, 4 }, 3);

	const struct seen_record *r = record_at(0);
	cr_assert_eq(r->problem_count, 1);
	cr_assert_eq(r->problems[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_not_null(r->problems[0].field);
	cr_assert_str_eq(r->problems[0].field, "sn");
	cr_assert_str_eq(r->problems[0].message,
			 "the field in column 2 is longer than 65536 bytes and was ignored");
	expect_value(0, IMADDR_ROLE_LAST_NAME, NULL);
	/* The rest of the row is read. */
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_MAIL, "js@example.com");

	/* Exactly 64 KiB is allowed. */
	cr_assert_eq(record_at(1)->problem_count, 0);
	expect_value(1, IMADDR_ROLE_LAST_NAME, at_limit);
	expect_value(2, IMADDR_ROLE_LAST_NAME, "Bee");
	free(csv);
	free(at_limit);
	free(long_value);
}

Test(reader_csv, quoted_field_over_64_kib_across_lines)
{
	/* A long quoted field with newlines: dropped, and later lines stay right. */
	size_t lines = 2000, per_line = 40;
	size_t cap = lines * (per_line + 1) + 256;
	char *csv = malloc(cap);
	size_t n = (size_t)snprintf(csv, cap, "sAMAccountName,sn\njs,\"");
	for (size_t i = 0; i < lines; i++) {
		memset(csv + n, 'z', per_line);
		n += per_line;
		csv[n++] = '\n';
	}
	snprintf(csv + n, cap - n, "\"\nmr,Rossi\n");
	read_ok(csv);
	expect_lines((uint64_t[]){ 2, 2 + lines + 1 }, 2);
	cr_assert_eq(record_at(0)->problem_count, 1);
	cr_assert_str_eq(record_at(0)->problems[0].field, "sn");
	expect_value(0, IMADDR_ROLE_LAST_NAME, NULL);
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Rossi");
	free(csv);
}

/*
 * Fields around the size at which libcsv's buffer is full and is emptied
 * (64 KiB and a block): quoted or not, ending in an escaped quote or in the
 * closing one, the field is kept or dropped by its length alone, and the
 * field after it is read whole.
 */
Test(reader_csv, long_fields_are_dropped_at_every_length_around_the_buffer)
{
	static const char *const endings[] = { "", "\"\"", "\"\",", "a\"\"" };
	static const size_t ending_bytes[] = { 0, 1, 2, 2 };   /* as the field reads */
	struct imaddr_buf csv;
	size_t lengths[64], length_count = 0, expected_records = 0;
	for (size_t n = IMADDR_CSV_FIELD_MAX - 4; n < IMADDR_CSV_FIELD_MAX + 4; n++)
		lengths[length_count++] = n;
	for (size_t n = IMADDR_CSV_FIELD_MAX + 4096 - 12; n < IMADDR_CSV_FIELD_MAX + 4096 + 12; n++)
		lengths[length_count++] = n;
	for (size_t n = 2 * (IMADDR_CSV_FIELD_MAX + 4096) - 6; n < 2 * (IMADDR_CSV_FIELD_MAX + 4096) + 6; n++)
		lengths[length_count++] = n;
	char *filler = repeat('x', lengths[length_count - 1]);
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,sn,mail\n");
	for (size_t i = 0; i < length_count; i++) {
		for (size_t e = 0; e < 4; e++) {
			imaddr_buf_appendf(&csv, "q%zu.%zu,\"%.*s%s\",q%zu.%zu@example.com\n", i, e,
					   (int)lengths[i], filler, endings[e], i, e);
			expected_records++;
		}
		imaddr_buf_appendf(&csv, "u%zu,%.*s,u%zu@example.com\n", i, (int)lengths[i], filler,
				   i);
		expected_records++;
	}
	read_ok(csv.data);
	cr_assert_eq(seen.record_count, expected_records);
	size_t record = 0;
	char mail[64];
	for (size_t i = 0; i < length_count; i++) {
		for (size_t e = 0; e < 5; e++, record++) {
			size_t bytes = lengths[i] + (e < 4 ? ending_bytes[e] : 0);
			const struct seen_record *r = record_at(record);
			if (e < 4)
				snprintf(mail, sizeof(mail), "q%zu.%zu@example.com", i, e);
			else
				snprintf(mail, sizeof(mail), "u%zu@example.com", i);
			expect_value(record, IMADDR_ROLE_MAIL, mail);
			if (bytes <= IMADDR_CSV_FIELD_MAX) {
				cr_assert_eq(r->problem_count, 0, "%zu bytes", bytes);
				cr_assert_eq(r->values[IMADDR_ROLE_LAST_NAME].len, bytes);
				continue;
			}
			cr_assert_eq(r->problem_count, 1, "%zu bytes", bytes);
			cr_assert_str_eq(r->problems[0].field, "sn");
			expect_value(record, IMADDR_ROLE_LAST_NAME, NULL);
		}
	}
	imaddr_buf_release(&csv);
	free(filler);
}

Test(reader_csv, long_field_of_a_column_not_read_is_no_problem)
{
	char *photo = repeat('f', 3 * IMADDR_CSV_FIELD_MAX);
	size_t cap = strlen(photo) + 128;
	char *csv = malloc(cap);
	snprintf(csv, cap, "sAMAccountName,thumbnailPhoto,sn\njs,%s,Smith\nmr,,Rossi\n", photo);
	read_ok(csv);
	expect_lines((uint64_t[]){ 2, 3 }, 2);
	cr_assert_eq(record_at(0)->problem_count, 0);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	free(csv);
	free(photo);
}

/* A quoted field of `lines` lines of `per_line` bytes, opened on the row's line. */
static void append_long_quoted_row(struct imaddr_buf *csv, const char *user_id, size_t lines,
				   size_t per_line)
{
	char *text = repeat('z', per_line);
	imaddr_buf_appendf(csv, "%s,\"", user_id);
	for (size_t i = 0; i < lines; i++)
		imaddr_buf_appendf(csv, "%s\n", text);
	imaddr_buf_append_str(csv, "\"\n");
	free(text);
}

Test(reader_csv, row_over_16_mib_is_skipped_through_a_notice)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,sn\njs,Smith\n");
	/* 17 lines of 1 MiB inside quotes (lines 3 to 19): the cap is passed on line 18. */
	append_long_quoted_row(&csv, "long", 17, 1024 * 1024 - 1);
	imaddr_buf_append_str(&csv, "mr,Rossi\n");
	read_ok(csv.data);
	expect_lines((uint64_t[]){ 2, 21 }, 2);
	expect_value(1, IMADDR_ROLE_LAST_NAME, "Rossi");
	cr_assert_eq(seen.notice_count, 1);
	cr_assert_eq(seen.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(seen.notices[0].line, 3);
	cr_assert_str_eq(seen.notices[0].message,
			 "row skipped: it is longer than 16777216 bytes by line 18 (its fields "
			 "were not read)");
	imaddr_buf_release(&csv);
}

Test(reader_csv, row_of_one_line_over_16_mib_is_skipped)
{
	/* One line, no quote: a 20 MB field, then the next row. */
	size_t length = 20 * 1000 * 1000;
	char *field = repeat('y', length);
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_appendf(&csv, "sAMAccountName,sn\njs,%s\nmr,Rossi\n", field);
	read_ok(csv.data);
	expect_lines((uint64_t[]){ 3 }, 1);
	cr_assert_eq(seen.notice_count, 1);
	cr_assert_eq(seen.notices[0].line, 2);
	cr_assert_str_eq(seen.notices[0].message,
			 "row skipped: it is longer than 16777216 bytes by line 2 (its fields "
			 "were not read)");
	imaddr_buf_release(&csv);
	free(field);
}

Test(reader_csv, only_rows_over_the_cap_is_no_users)
{
	struct imaddr_buf csv;
	struct imaddr_error err = { "" };
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,sn\n");
	append_long_quoted_row(&csv, "long", 17, 1024 * 1024);
	struct imaddr_mapping mapping;
	imaddr_mapping_init(&mapping);
	free(tempdir_write(dir, "users.csv", csv.data, csv.len));
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(csv_path, &reader, &err), IMADDR_OK);
	struct imaddr_reader_request request = {
		.mapping = &mapping, .record = on_record, .notice = on_notice, .context = &seen,
	};
	cr_assert_eq(imaddr_reader_run(reader, &request, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_reader_no_users(reader, &err), IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s: no users: all 1 rows after the header were "
		 "skipped (0 not valid CSV, 1 longer than 16777216 bytes)", csv_path);
	cr_assert_str_eq(err.message, expected);
	imaddr_reader_free(reader);
	imaddr_buf_release(&csv);
}

Test(reader_csv, header_over_16_mib_fails)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	/* 400 columns of 42 KiB: under the column and field caps, over the record's. */
	char *name = repeat('c', 42 * 1024);
	for (int i = 0; i < 400; i++)
		imaddr_buf_appendf(&csv, "%s%d,", name, i);
	imaddr_buf_append_str(&csv, "sAMAccountName\njs\n");
	read_fails(csv.data, csv.len, ":1: the header row is longer than 16777216 bytes by line 1: "
		   "not an export of users?");
	imaddr_buf_release(&csv);
	free(name);
}

Test(reader_csv, unbalanced_quote_before_megabytes_fails_at_its_line)
{
	/* The quote swallows every later row: the file is refused at its end, naming it. */
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,sn\njs,Smith\nmr,\"Rossi\n");
	for (int i = 0; i < 400000; i++)
		imaddr_buf_appendf(&csv, "user%d,Last name %d\n", i, i);
	cr_assert_gt(csv.len, IMADDR_CSV_RECORD_MAX / 2);
	read_fails(csv.data, csv.len,
		   ":3: unbalanced quote: the quoted field that starts here never ends");
	expect_lines((uint64_t[]){ 2 }, 1);
	imaddr_buf_release(&csv);
}

static const char stray_quote_message[] =
	"row skipped: not valid CSV: a quote inside an unquoted field, or text after a "
	"closing quote";

Test(reader_csv, stray_quote_skips_the_row_through_a_notice)
{
	read_ok("sAMAccountName,sn\n"
		"js,Sm\"ith\n"
		"mr,Rossi\n"
		"\"ab\"x,Bee\n"
		"cd,Dee\n");
	expect_lines((uint64_t[]){ 3, 5 }, 2);
	expect_value(0, IMADDR_ROLE_USER_ID, "mr");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Rossi");
	expect_value(1, IMADDR_ROLE_USER_ID, "cd");
	cr_assert_eq(record_at(0)->problem_count, 0);
	cr_assert_eq(record_at(1)->problem_count, 0);
	cr_assert_eq(seen.notice_count, 2);
	cr_assert_eq(seen.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(seen.notices[0].line, 2);
	cr_assert_str_eq(seen.notices[0].message, stray_quote_message);
	cr_assert_eq(seen.notices[1].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(seen.notices[1].line, 4);
	cr_assert_str_eq(seen.notices[1].message, stray_quote_message);
}

Test(reader_csv, stray_quote_after_a_multi_line_field)
{
	/* The notice names the row's first line; reading resumes after the bad line. */
	read_ok("sAMAccountName,sn\n"
		"js,\"Smi\nth\"x\n"
		"mr,Rossi\n");
	cr_assert_eq(seen.notice_count, 1);
	cr_assert_eq(seen.notices[0].line, 2);
	expect_lines((uint64_t[]){ 4 }, 1);
	expect_value(0, IMADDR_ROLE_USER_ID, "mr");
}

Test(reader_csv, stray_quote_on_the_last_line)
{
	read_ok("sAMAccountName,sn\njs,Smith\nmr,Ro\"ssi");
	expect_lines((uint64_t[]){ 2 }, 1);
	cr_assert_eq(seen.notice_count, 1);
	cr_assert_eq(seen.notices[0].line, 3);
}

Test(reader_csv, duplicate_header_names_fail)
{
	static const char csv[] = "sAMAccountName,mail,MAIL\njs,a@example.com,b@example.com\n";
	read_fails(csv, strlen(csv), ":1: duplicate column 'MAIL' (columns 2 and 3)");
	cr_assert_eq(seen.record_count, 0);
}

Test(reader_csv, duplicate_header_after_trimming_fails)
{
	static const char csv[] = "sn,sAMAccountName, sn \njs,Smith,Smith\n";
	read_fails(csv, strlen(csv), ":1: duplicate column 'sn' (columns 1 and 3)");
}

Test(reader_csv, missing_required_column_fails)
{
	static const char csv[] = "givenName,sn,mail\nJohn,Smith,js@example.com\n";
	read_fails(csv, strlen(csv),
		   ":1: no column for the user ID: looked for 'sAMAccountName' or 'USER ID' "
		   "in the header, which reads 'givenName,sn,mail' (3 columns, delimiter ',', "
		   "UTF-8); likely cause: the column has another name: give it with --userid-attr");
	cr_assert_eq(seen.record_count, 0);
}

Test(reader_csv, missing_required_column_names_the_header_line)
{
	static const char csv[] = "\n\nsAMAccountName,sn\njs,Smith\n";
	struct imaddr_error err = { "" };
	unsigned required = 1u << IMADDR_ROLE_USER_ID | 1u << IMADDR_ROLE_DIRECTORY_URI;
	cr_assert_eq(read_csv_mapped(csv, strlen(csv), NULL, required, &err), IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected),
		 "%s:3: no column for the directory URI: looked for 'DIRECTORY URI' or 'mail' "
		 "or 'EmailAddress' in the header, which reads 'sAMAccountName,sn' (2 columns, "
		 "delimiter ',', UTF-8); likely cause: the column has another name: give it "
		 "with --uri-attr", csv_path);
	cr_assert_str_eq(err.message, expected);
}

/* The likely cause a missing column names, without the rest of the message. */
static void expect_likely_cause(const char *bytes, const char *cause)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_mapped(bytes, strlen(bytes), NULL, 1u << IMADDR_ROLE_USER_ID, &err),
		     IMADDR_ERR_INPUT);
	const char *found = strstr(err.message, "; likely cause: ");
	cr_assert(found, "%s", err.message);
	cr_assert_str_eq(found + strlen("; likely cause: "), cause);
}

Test(reader_csv, dsget_table_is_refused_as_laid_out_for_the_screen)
{
	expect_likely_cause(
		"  samid      email                  fn      ln\r\n"
		"  jsmith     john.smith@example.com John    Smith\r\n"
		"dsget succeeded\r\n",
		"the file is a table laid out for the screen (dsquery | dsget, or PowerShell's "
		"Format-Table, Out-File or '>'), not CSV: export with csvde or Export-Csv "
		"instead (docs/exporting.md)");
}

Test(reader_csv, format_table_is_refused_as_laid_out_for_the_screen)
{
	expect_likely_cause(
		"\r\nSamAccountName GivenName Surname EmailAddress\r\n"
		"-------------- --------- ------- ------------\r\n"
		"jsmith         John      Smith   john.smith@example.com\r\n",
		"the file is a table laid out for the screen (dsquery | dsget, or PowerShell's "
		"Format-Table, Out-File or '>'), not CSV: export with csvde or Export-Csv "
		"instead (docs/exporting.md)");
}

Test(reader_csv, format_list_is_refused_as_laid_out_for_the_screen)
{
	expect_likely_cause(
		"\r\nDistinguishedName : CN=John Smith,OU=Users,DC=example,DC=com\r\n"
		"Enabled           : True\r\n"
		"SamAccountName    : jsmith\r\n",
		"the file is a list laid out for the screen (PowerShell's Format-List, or "
		"Get-ADUser's output sent to Out-File or '>'), not CSV: export with Export-Csv "
		"instead (docs/exporting.md)");
}

Test(reader_csv, dsquery_dns_are_refused_as_no_header)
{
	expect_likely_cause(
		"\"CN=John Smith,OU=Users,DC=example,DC=com\"\r\n"
		"\"CN=Anna Smith,OU=Users,DC=example,DC=com\"\r\n",
		"the first line is a DN, not a header row (dsquery writes DNs alone): export "
		"with csvde or Export-Csv instead (docs/exporting.md)");
}

/* .NET's UTF-7 encodes '#' and '"': "+ACM-TYPE ...", "+ACI-SamAccountName+ACI,..." */
Test(reader_csv, powershell_utf7_is_named_with_its_encoding)
{
	static const char *const headers[] = {
		"+ACM-TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n"
		"+ACI-SamAccountName+ACI,+ACI-GivenName+ACI\r\n",
		"+ACI-SamAccountName+ACI,+ACI-GivenName+ACI\r\n"
		"+ACI-jmueller+ACI,+ACI-J+APw-rgen+ACI\r\n",
		"+ACI-SamAccountName+ACIAOwAi-GivenName+ACI\r\n",
	};
	for (size_t i = 0; i < sizeof(headers) / sizeof(*headers); i++)
		expect_likely_cause(headers[i], "the file is UTF-7, as PowerShell 5.1's Export-Csv "
				    "-Encoding UTF7 writes it ('+ACI' is '\"'): give --encoding "
				    "utf-7, or export again with -Encoding UTF8");
}

/* Get-ADUser without -Properties: its default set, and no mail in it. */
Test(reader_csv, get_aduser_default_properties_lack_mail)
{
	struct imaddr_error err = { "" };
	static const char csv[] =
		"#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n"
		"\"DistinguishedName\",\"Enabled\",\"GivenName\",\"Name\",\"ObjectClass\","
		"\"ObjectGUID\",\"SamAccountName\",\"SID\",\"Surname\",\"UserPrincipalName\"\r\n"
		"\"CN=John Smith,DC=example,DC=com\",\"True\",\"John\",\"John Smith\",\"user\","
		"\"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9\",\"jsmith\",\"S-1-5-21-1-2-3-1104\","
		"\"Smith\",\"jsmith@example.com\"\r\n";
	unsigned required = 1u << IMADDR_ROLE_USER_ID | 1u << IMADDR_ROLE_DIRECTORY_URI;
	cr_assert_eq(read_csv_mapped(csv, strlen(csv), NULL, required, &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, ":2: no column for the directory URI: "), "%s", err.message);
	cr_expect(strstr(err.message, "; likely cause: Get-ADUser returns mail only when asked: "
			 "export again with -Properties mail (docs/exporting.md)"), "%s",
		  err.message);
}

Test(reader_csv, a_header_of_two_words_is_no_screen_table)
{
	expect_likely_cause("Login Name\r\njsmith\r\n",
			    "the column has another name: give it with --userid-attr");
}

Test(reader_csv, missing_optional_column_is_fine)
{
	read_ok("sAMAccountName\njs\n");
	expect_lines((uint64_t[]){ 2 }, 1);
}

Test(reader_csv, empty_file_fails)
{
	read_fails("", 0, ": empty file: no header row");
}

Test(reader_csv, blank_lines_only_fail_as_empty)
{
	read_fails("\n\r\n\n", 4, ": empty file: no header row");
}

Test(reader_csv, bom_only_file_fails)
{
	read_fails("\xEF\xBB\xBF", 3, ": empty file: no header row");
}

Test(reader_csv, bom_and_line_end_only_file_fails)
{
	read_fails("\xEF\xBB\xBF\r\n", 5, ": empty file: no header row");
}

Test(reader_csv, unbalanced_quote_at_the_end_fails)
{
	static const char csv[] =
		"sAMAccountName,sn,mail\n"
		"js,Smith,js@example.com\n"
		"\"mr,Rossi,mr@example.com\n"
		"ab,Bee,ab@example.com\n";
	read_fails(csv, strlen(csv),
		   ":3: unbalanced quote: the quoted field that starts here never ends");
	/* Rows before it were read. */
	cr_assert_eq(seen.record_count, 1);
	cr_assert_eq(seen.records[0].line, 2);
}

Test(reader_csv, unbalanced_quote_in_the_last_field_fails)
{
	static const char csv[] = "sAMAccountName,sn\njs,Smith\nmr,\"Rossi";
	read_fails(csv, strlen(csv),
		   ":3: unbalanced quote: the quoted field that starts here never ends");
}

Test(reader_csv, header_that_is_not_valid_csv_fails)
{
	static const char csv[] = "sAMAccount\"Name,sn\njs,Smith\n";
	read_fails(csv, strlen(csv),
		   ":1: the header row is not valid CSV: a quote inside an unquoted field, or "
		   "text after a closing quote");
}

Test(reader_csv, mapping_picks_the_first_listed_name_present)
{
	/* USER ID comes first in the file, sAMAccountName first in the mapping. */
	read_ok("USER ID,sAMAccountName,MAIL ID,mail\nuid1,sam1,cucm@example.com,ad@example.com\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "sam1");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_USER_ID].attribute, "sAMAccountName");
	expect_value(0, IMADDR_ROLE_MAIL, "ad@example.com");
	/* DIRECTORY URI is absent: mail is the next name for the directory URI. */
	expect_value(0, IMADDR_ROLE_DIRECTORY_URI, "ad@example.com");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_DIRECTORY_URI].attribute, "mail");
}

Test(reader_csv, mapping_falls_back_to_later_names)
{
	read_ok("USER ID,LAST NAME,MAIL ID,DIRECTORY URI,FIRST NAME\n"
		"js,Smith,js@example.com,sip:js@example.com,John\n");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	expect_value(0, IMADDR_ROLE_FIRST_NAME, "John");
	expect_value(0, IMADDR_ROLE_MAIL, "js@example.com");
	expect_value(0, IMADDR_ROLE_DIRECTORY_URI, "sip:js@example.com");
	expect_value(0, IMADDR_ROLE_CURRENT_URI, "sip:js@example.com");
}

Test(reader_csv, mapping_set_overrides_the_defaults)
{
	static const char csv[] = "USER ID,sAMAccountName,uid,mail\nuid1,sam1,u1,m@example.com\n";
	struct imaddr_mapping mapping;
	struct imaddr_error err = { "" };
	imaddr_mapping_init(&mapping);
	imaddr_mapping_set(&mapping, IMADDR_ROLE_USER_ID, "USER ID");
	imaddr_mapping_set(&mapping, IMADDR_ROLE_DIRECTORY_URI, "UID");
	cr_assert_eq(read_csv_mapped(csv, strlen(csv), &mapping, 1u << IMADDR_ROLE_USER_ID,
				     &err), IMADDR_OK, "%s", err.message);
	expect_value(0, IMADDR_ROLE_USER_ID, "uid1");
	expect_value(0, IMADDR_ROLE_DIRECTORY_URI, "u1");
	cr_assert_str_eq(record_at(0)->values[IMADDR_ROLE_DIRECTORY_URI].attribute, "uid");
	expect_value(0, IMADDR_ROLE_MAIL, "m@example.com");
}

Test(reader_csv, mapping_set_to_an_absent_column_fails_when_required)
{
	static const char csv[] = "sAMAccountName,mail\njs,js@example.com\n";
	struct imaddr_mapping mapping;
	struct imaddr_error err = { "" };
	imaddr_mapping_init(&mapping);
	imaddr_mapping_set(&mapping, IMADDR_ROLE_DIRECTORY_URI, "msRTCSIP-PrimaryUserAddress");
	unsigned required = 1u << IMADDR_ROLE_USER_ID | 1u << IMADDR_ROLE_DIRECTORY_URI;
	cr_assert_eq(read_csv_mapped(csv, strlen(csv), &mapping, required, &err),
		     IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected),
		 "%s:1: no column for the directory URI: looked for "
		 "'msRTCSIP-PrimaryUserAddress' in the header, which reads 'sAMAccountName,mail' "
		 "(2 columns, delimiter ',', UTF-8); likely cause: the column has another name: "
		 "give it with --uri-attr", csv_path);
	cr_assert_str_eq(err.message, expected);
}

Test(reader_csv, dn_column_gives_the_record_a_dn)
{
	read_ok("dn,sAMAccountName\n"
		"\"CN=Smith\\, John,OU=Users,DC=example,DC=com\",js\n"
		",mr\n"
		"cn=ab,ab\n");
	cr_assert_str_eq(record_at(0)->dn, "CN=Smith\\, John,OU=Users,DC=example,DC=com");
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	cr_assert_null(record_at(1)->dn, "an empty dn cell is no DN");
	cr_assert_str_eq(record_at(2)->dn, "cn=ab");
	expect_value(2, IMADDR_ROLE_USER_ID, "ab");
}

Test(reader_csv, failing_record_callback_stops_the_run)
{
	static const char csv[] = "sAMAccountName\na\nb\nc\nd\n";
	struct imaddr_error err = { "" };
	seen.stop_after = 2;
	cr_assert_eq(read_csv_mapped(csv, strlen(csv), NULL, 1u << IMADDR_ROLE_USER_ID, &err),
		     IMADDR_ERR_INTERRUPTED);
	cr_assert_str_eq(err.message, "stopped by the test");
	cr_assert_eq(seen.record_count, 2);
}

Test(reader_csv, line_numbers_stay_right_across_read_chunks)
{
	/* Well over the reader's 256 KiB chunks, with multi-line fields throughout. */
	enum { ROWS = 50000 };
	size_t cap = (size_t)ROWS * 64 + 64;
	char *csv = malloc(cap);
	size_t n = (size_t)snprintf(csv, cap, "sAMAccountName,sn\r\n");
	uint64_t *lines = malloc(ROWS * sizeof(*lines));
	uint64_t line = 2;
	for (unsigned i = 0; i < ROWS; i++) {
		lines[i] = line;
		if (i % 7 == 3) {
			n += (size_t)snprintf(csv + n, cap - n, "user%u,\"Last\r\n%u\"\r\n", i, i);
			line += 2;
		} else {
			n += (size_t)snprintf(csv + n, cap - n, "user%u,Last %u\r\n", i, i);
			line += 1;
		}
	}
	cr_assert_gt(n, 3 * 256 * 1024);
	read_ok(csv);
	expect_lines(lines, ROWS);
	char expected[64];
	for (unsigned i = 0; i < ROWS; i++) {
		snprintf(expected, sizeof(expected), "user%u", i);
		expect_value(i, IMADDR_ROLE_USER_ID, expected);
		snprintf(expected, sizeof(expected), i % 7 == 3 ? "Last\r\n%u" : "Last %u", i);
		expect_value(i, IMADDR_ROLE_LAST_NAME, expected);
	}
	free(lines);
	free(csv);
}

Test(reader_csv, open_of_a_missing_file_fails_naming_it)
{
	struct imaddr_error err = { "" };
	char *path = tempdir_path(dir, "missing.csv");
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_ERR_INPUT);
	cr_assert_null(reader);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "cannot open '%s': No such file or directory",
		 path);
	cr_assert_str_eq(err.message, expected);
	free(path);
}

/* ------------------------------------------------------------------------ */
/* Windows exports (issue 11): encodings, the #TYPE line, delimiters.       */

/* `text` as UTF-16LE with a byte order mark, as PowerShell's -Encoding
 * Unicode and csvde -u write it (ASCII text only: one unit per byte). */
static size_t utf16le(const char *text, char *out)
{
	size_t n = 0;
	out[n++] = (char)0xFF;
	out[n++] = (char)0xFE;
	for (const char *p = text; *p; p++) {
		out[n++] = *p;
		out[n++] = '\0';
	}
	return n;
}

Test(reader_csv, utf16le_with_a_bom_is_decoded)
{
	char bytes[512];
	/* "Jürgen": ü is U+00FC, one UTF-16 unit of its own. */
	size_t len = utf16le("sAMAccountName,givenName\r\njm,J?rgen\r\n", bytes);
	bytes[2 + 2 * strlen("sAMAccountName,givenName\r\njm,J")] = (char)0xFC;
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_mapped(bytes, len, NULL, 1u << IMADDR_ROLE_USER_ID, &err),
		     IMADDR_OK, "%s", err.message);
	cr_assert_eq(seen.record_count, 1);
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_FIRST_NAME].data, "J\xc3\xbcrgen");
	cr_expect_eq(record_at(0)->line, 2);
}

Test(reader_csv, type_line_is_skipped_and_quoted_header_read)
{
	read_ok("#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser\r\n"
		"\"SamAccountName\",\"Surname\",\"EmailAddress\"\r\n"
		"\"js\",\"Smith\",\"js@example.com\"\r\n");
	cr_assert_eq(seen.record_count, 1);
	cr_expect_eq(record_at(0)->line, 3);
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].attribute, "Surname");
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_MAIL].data, "js@example.com");
}

Test(reader_csv, long_type_line_is_skipped_whole)
{
	/* Longer than the pieces a line is fed in: none of it may become the header. */
	char *type = repeat('T', 3 * 256 * 1024);
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_appendf(&csv, "#TYPE %s\nsAMAccountName,sn\njs,Smith\n", type);
	read_ok(csv.data);
	expect_lines((uint64_t[]){ 3 }, 1);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith");
	imaddr_buf_release(&csv);
	free(type);
}

Test(reader_csv, semicolon_and_tab_delimiters_are_detected)
{
	read_ok("sAMAccountName;sn;mail\r\njs;Smith, Jr.;js@example.com\r\n");
	cr_assert_eq(seen.record_count, 1);
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].data, "Smith, Jr.");
	read_ok("sAMAccountName\tsn\nab\tB\n");
	cr_assert_eq(seen.record_count, 2);
	cr_expect_str_eq(record_at(1)->values[IMADDR_ROLE_LAST_NAME].data, "B");
}

Test(reader_csv, windows_1252_is_detected_or_refused)
{
	static const char csvde[] =
		"DN,sAMAccountName,givenName,sn\r\n"
		"\"CN=J\xfcrgen M\xfcller,OU=Berlin,DC=example,DC=com\",jm,J\xfcrgen,M\xfcller\r\n"
		"\"CN=Fran\xe7ois Garc\xed" "a,OU=Paris,DC=example,DC=com\",fg,Fran\xe7ois,Garc\xed" "a\r\n"
		"\"CN=Zo\xeb \xc5" "berg,OU=Stockholm,DC=example,DC=com\",za,Zo\xeb,\xc5" "berg\r\n";
	read_ok(csvde);
	cr_assert_eq(seen.record_count, 3);
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_LAST_NAME].data, "M\xc3\xbcller");
	cr_expect_str_eq(record_at(2)->dn, "CN=Zo\xc3\xab \xc3\x85" "berg,OU=Stockholm,DC=example,DC=com");

	static const char unclear[] = "sAMAccountName,sn\r\nabc,\x80\x81\x82\xff\xfe\r\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_mapped(unclear, strlen(unclear), NULL, 1u << IMADDR_ROLE_USER_ID,
				     &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "encoding is not clear: likely windows-1252"), "%s",
		  err.message);
	cr_expect(strstr(err.message, "--encoding"), "%s", err.message);
}

/* `text` (ASCII) as UTF-16 without a byte order mark, little or big endian. */
static size_t utf16_without_bom(const char *text, bool big_endian, char *out)
{
	size_t n = 0;
	for (const char *p = text; *p; p++) {
		out[n++] = big_endian ? '\0' : *p;
		out[n++] = big_endian ? *p : '\0';
	}
	return n;
}

/* An odd number of UTF-16 bytes after a byte order mark: the export was cut short. */
Test(reader_csv, utf16_cut_short_is_refused_as_cut_short)
{
	char bytes[512];
	size_t len = utf16le("sAMAccountName,sn\r\njs,Smith\r\n", bytes);
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_mapped(bytes, len - 1, NULL, 1u << IMADDR_ROLE_USER_ID, &err),
		     IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "ends inside a UTF-16LE character (byte order mark): it "
			 "was cut short: export it again"), "%s", err.message);
}

/* A script that drops the byte order mark leaves NUL bytes in every other place. */
Test(reader_csv, utf16_without_a_bom_is_told_by_its_nul_bytes)
{
	static const char text[] = "\"SamAccountName\",\"Surname\",\"mail\"\r\n"
				   "\"jsmith\",\"Smith\",\"john.smith@example.com\"\r\n";
	char bytes[512];
	for (int big_endian = 0; big_endian <= 1; big_endian++) {
		size_t len = utf16_without_bom(text, big_endian, bytes);
		forget_seen();
		struct imaddr_error err = { "" };
		cr_assert_eq(read_csv_mapped(bytes, len, NULL, 1u << IMADDR_ROLE_USER_ID, &err),
			     IMADDR_OK, "%s", err.message);
		cr_assert_eq(seen.record_count, 1);
		cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_USER_ID].data, "jsmith");
		cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_MAIL].data,
				 "john.smith@example.com");
	}
}

/*
 * A csvde export in Windows-1252 whose first accented name comes after the
 * bytes the first decision looks at: ASCII until then, which reads alike in
 * UTF-8 and every code page. Its first byte past ASCII decides again: the
 * names are Windows-1252, on their own lines. A file whose first byte past
 * ASCII is UTF-8 stays UTF-8.
 */
Test(reader_csv, a_code_page_past_the_first_bytes_decides_again)
{
	for (int utf8 = 0; utf8 <= 1; utf8++) {
		struct imaddr_buf csv;
		imaddr_buf_init(&csv, 0);
		imaddr_buf_append_str(&csv, "DN,sAMAccountName,givenName,sn\r\n");
		for (int line = 2; line <= 6000; line++)
			imaddr_buf_appendf(&csv, "\"CN=User %05d,OU=Staff,DC=example,DC=com\","
					   "u%05d,User,N%05d\r\n", line, line, line);
		imaddr_buf_append_str(&csv, utf8 ? "\"CN=J\xc3\xbcrgen M\xc3\xbcller,DC=x\",jm,"
						   "J\xc3\xbcrgen,M\xc3\xbcller\r\n"
						 : "\"CN=J\xfcrgen M\xfcller,DC=x\",jm,J\xfcrgen,"
						   "M\xfcller\r\n");
		imaddr_buf_append_str(&csv, utf8 ? "\"CN=Zo,DC=x\",zb,Zo\xc3\xab,B\xc3\xa9ranger\r\n"
						 : "\"CN=Zo,DC=x\",zb,Zo\xeb,B\xe9ranger\r\n");
		cr_assert_gt(csv.len, IMADDR_DECODE_SNIFF);
		forget_seen();
		struct imaddr_error err = { "" };
		cr_assert_eq(read_csv_mapped(csv.data, csv.len, NULL, 1u << IMADDR_ROLE_USER_ID,
					     &err), IMADDR_OK, "%s", err.message);
		cr_assert_eq(seen.record_count, 6001);
		cr_expect_str_eq(record_at(5999)->values[IMADDR_ROLE_LAST_NAME].data,
				 "M\xc3\xbcller");
		cr_expect_str_eq(record_at(5999)->dn, "CN=J\xc3\xbcrgen M\xc3\xbcller,DC=x");
		cr_expect_eq(record_at(5999)->line, 6001);
		cr_expect_str_eq(record_at(6000)->values[IMADDR_ROLE_FIRST_NAME].data,
				 "Zo\xc3\xab");
		cr_expect_eq(record_at(6000)->line, 6002);
		imaddr_buf_release(&csv);
	}
}

/*
 * Two PowerShell exports joined (copy /b a.csv+b.csv): the second one's byte
 * order mark, #TYPE line and header come in the middle. They are skipped as
 * malformed rows that say why, not read as two users.
 */
Test(reader_csv, a_second_export_joined_on_is_no_users)
{
	static const char part[] = "#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n"
				   "\"Department\",\"SamAccountName\",\"Surname\",\"mail\"\r\n";
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_appendf(&csv, "\xef\xbb\xbf%s\"Sales\",\"js\",\"Smith\",\"js@example.com\"\r\n"
			   "\xef\xbb\xbf%s\"IT\",\"ab\",\"Bee\",\"ab@example.com\"\r\n", part, part);
	read_ok(csv.data);
	cr_assert_eq(seen.record_count, 2);
	expect_lines((uint64_t[]){ 3, 6 }, 2);
	cr_assert_eq(seen.notice_count, 2);
	cr_expect_eq(seen.notices[0].line, 4);
	cr_expect(strstr(seen.notices[0].message, "a #TYPE line"), "%s", seen.notices[0].message);
	cr_expect_eq(seen.notices[1].line, 5);
	cr_expect(strstr(seen.notices[1].message, "repeats the header row"), "%s",
		  seen.notices[1].message);
	imaddr_buf_release(&csv);
}

/*
 * Opens the CSV text as users.csv with `options` and reads it whole,
 * requiring the user ID; returns the run's status, the reader in `out`.
 */
static enum imaddr_status run_csv_text_with(const char *text,
					    const struct imaddr_file_options *options,
					    struct imaddr_reader **out, struct imaddr_error *err)
{
	struct imaddr_mapping mapping;
	imaddr_mapping_init(&mapping);
	free(tempdir_write_str(dir, "users.csv", text));
	cr_assert_eq(imaddr_csv_reader_open_with(csv_path, options, out, err), IMADDR_OK, "%s",
		     err->message);
	struct imaddr_reader_request request = {
		.mapping = &mapping, .required_roles = 1u << IMADDR_ROLE_USER_ID,
		.record = on_record, .notice = on_notice, .context = &seen,
	};
	forget_seen();
	return imaddr_reader_run(*out, &request, err);
}

/* Opens the CSV text as users.csv and reads it whole, requiring the user ID. */
static struct imaddr_reader *run_csv_text(const char *text)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_csv_text_with(text, NULL, &reader, &err), IMADDR_OK, "%s", err.message);
	return reader;
}

/*
 * Disabled accounts, which Unified CM's LDAP sync leaves out, are left out
 * of a CSV as of an LDIF: PowerShell's Enabled, csvde's userAccountControl
 * (bit 2), AD LDS's msDS-UserAccountDisabled. The input counts them.
 */
Test(reader_csv, disabled_accounts_are_left_out)
{
	static const struct {
		const char *csv;
		const char *filter;
	} exports[] = {
		{ "SamAccountName,Surname,Department,Enabled\r\njs,Smith,Sales,True\r\n"
		  "dguy,Guy,Sales,False\r\nab,Bee,IT,true\r\n", "Enabled is not False" },
		{ "DN,sAMAccountName,sn,userAccountControl\r\n\"CN=J,DC=x\",js,Smith,512\r\n"
		  "\"CN=D,DC=x\",dguy,Guy,514\r\n\"CN=A,DC=x\",ab,Bee,66048\r\n",
		  "userAccountControl without bit 2 (account disabled)" },
		{ "cn,sn,msDS-UserAccountDisabled,sAMAccountName\r\nJ,Smith,FALSE,js\r\nD,Guy,TRUE,dguy\r\n"
		  "A,Bee,,ab\r\n", "msDS-UserAccountDisabled is not TRUE" },
	};
	for (size_t i = 0; i < sizeof(exports) / sizeof(*exports); i++) {
		struct imaddr_reader *reader = run_csv_text(exports[i].csv);
		cr_expect_eq(seen.record_count, 2, "export %zu", i);
		expect_value(0, IMADDR_ROLE_USER_ID, "js");
		expect_value(1, IMADDR_ROLE_USER_ID, "ab");
		cr_expect_eq(reader->input.entries, 3);
		cr_expect_eq(reader->input.entries_skipped, 1);
		cr_expect_str_eq(reader->input.filter, exports[i].filter);
		imaddr_reader_free(reader);
	}
}

/*
 * Excel saves the rows a format or a deleted value once reached as
 * delimiters alone: no user, no finding, not an entry skipped.
 */
Test(reader_csv, excel_rows_of_delimiters_alone_are_no_rows)
{
	static const char *const exports[] = {
		"sAMAccountName;sn;mail;userAccountControl\r\njs;Smith;js@example.com;512\r\n"
		";;;\r\nab;Bee;ab@example.com;512\r\n;;;\r\n;;;\r\n",
		"sAMAccountName,sn,mail,userAccountControl\r\njs,Smith,js@example.com,512\r\n"
		",,,\r\nab,Bee,ab@example.com,512\r\n\"\",,,\r\n,,,,,,\r\n",
	};
	for (size_t i = 0; i < sizeof(exports) / sizeof(*exports); i++) {
		struct imaddr_reader *reader = run_csv_text(exports[i]);
		expect_lines((uint64_t[]){ 2, 4 }, 2);
		cr_expect_eq(seen.notice_count, 0, "export %zu", i);
		cr_expect_eq(reader->input.entries, 2, "export %zu", i);
		cr_expect_eq(reader->input.entries_skipped, 0, "export %zu", i);
		imaddr_reader_free(reader);
	}
}

/* A table that starts lower on its sheet: Excel saves the rows above it as delimiters. */
Test(reader_csv, excel_rows_of_delimiters_above_the_header_are_no_header)
{
	struct imaddr_reader *reader = run_csv_text(
		";;;\r\n\"\";;;\r\nsAMAccountName;sn;mail;\r\njs;Smith;js@example.com;\r\n");
	expect_lines((uint64_t[]){ 4 }, 1);
	cr_expect_eq(seen.notice_count, 0);
	cr_expect_eq(reader->input.delimiter, ';');
	imaddr_reader_free(reader);
}

Test(reader_csv, a_file_of_delimiters_alone_has_no_header)
{
	read_fails(";;;\r\n;;;\r\n", 10, ": no header row: the file holds delimiters alone "
		   "(2 rows, as Excel saves empty rows)");
}

Test(reader_csv, a_title_row_above_the_header_is_named)
{
	expect_likely_cause("Users of 2026-12-04;;;\r\nsAMAccountName;sn;mail;\r\n",
			    "the first row holds one cell ('Users of 2026-12-04') and empty "
			    "ones, as a title above a table in Excel: delete the rows above the "
			    "header row and save again");
}

/* A file of nothing but Excel's empty rows says so. */
Test(reader_csv, only_rows_of_delimiters_alone_are_no_users)
{
	struct imaddr_error err = { "" };
	struct imaddr_mapping mapping;
	imaddr_mapping_init(&mapping);
	free(tempdir_write_str(dir, "users.csv", "sAMAccountName;sn\r\n;\r\n;\r\n"));
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(csv_path, &reader, &err), IMADDR_OK);
	struct imaddr_reader_request request = {
		.mapping = &mapping, .record = on_record, .notice = on_notice, .context = &seen,
	};
	cr_assert_eq(imaddr_reader_run(reader, &request, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(seen.record_count, 0);
	cr_assert_eq(seen.notice_count, 0);
	cr_assert_eq(imaddr_reader_no_users(reader, &err), IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s: no users: the header row (line 1) is followed "
		 "by delimiters alone (2 empty rows, as Excel saves them)", csv_path);
	cr_assert_str_eq(err.message, expected);
	imaddr_reader_free(reader);
}

/*
 * csvde over a whole domain writes every object with its classes joined by
 * ';': the rows are selected as an LDIF's entries are, the type inferred
 * from the first user; the domain before it, the group, the computer, the
 * contact and the disabled account are counted as skipped.
 */
Test(reader_csv, csvde_rows_are_selected_by_their_object_classes)
{
	struct imaddr_reader *reader = run_csv_text(
		"DN,objectClass,sAMAccountName,sn,userAccountControl\r\n"
		"\"DC=example,DC=com\",top;domain;domainDNS,,,\r\n"
		"\"CN=J,DC=example,DC=com\",top;person;organizationalPerson;user,js,Smith,512\r\n"
		"\"CN=G,DC=example,DC=com\",top;group,Sales,,\r\n"
		"\"CN=PC,DC=example,DC=com\",top;person;organizationalPerson;user;computer,PC$,,4096\r\n"
		"\"CN=D,DC=example,DC=com\",top;person;organizationalPerson;user,dguy,Guy,514\r\n"
		"\"CN=C,DC=example,DC=com\",top;person;organizationalPerson;contact,,Sea,\r\n"
		"\"CN=I,DC=example,DC=com\",top;person;organizationalPerson;user;inetOrgPerson,ip,Eye,"
		"0x200\r\n");
	expect_lines((uint64_t[]){ 3, 8 }, 2);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(1, IMADDR_ROLE_USER_ID, "ip");
	cr_expect_eq(seen.notice_count, 0);
	cr_expect_eq(reader->input.entries, 7);
	cr_expect_eq(reader->input.entries_skipped, 5);
	cr_expect_str_eq(reader->input.directory_type, "ad");
	cr_expect_str_eq(reader->input.filter,
			 imaddr_directory_default_filter(IMADDR_DIRECTORY_AD));
	imaddr_reader_free(reader);
}

/*
 * PowerShell's Get-ADObject writes the most specific class alone, and
 * Enabled, which no default filter tests: both leave rows out, and the
 * summary names both.
 */
Test(reader_csv, powershell_object_class_and_enabled_both_select)
{
	struct imaddr_reader *reader = run_csv_text(
		"SamAccountName,Surname,ObjectClass,Enabled\r\n"
		"js,Smith,user,True\r\nSales,,group,\r\nPC$,,computer,True\r\n"
		"dguy,Guy,user,False\r\nab,Bee,user,True\r\n");
	cr_expect_eq(seen.record_count, 2);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	expect_value(1, IMADDR_ROLE_USER_ID, "ab");
	cr_expect_eq(reader->input.entries, 5);
	cr_expect_eq(reader->input.entries_skipped, 3);
	char expected[300];
	snprintf(expected, sizeof(expected), "%s and Enabled is not False",
		 imaddr_directory_default_filter(IMADDR_DIRECTORY_AD));
	cr_expect_str_eq(reader->input.filter, expected);
	imaddr_reader_free(reader);
}

/* An export of groups and computers alone says why it has no users. */
Test(reader_csv, object_classes_without_a_user_are_no_users)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = run_csv_text(
		"DN,objectClass,sAMAccountName\r\n\"CN=G,DC=x\",top;group,Sales\r\n"
		"\"CN=PC,DC=x\",top;computer,PC$\r\n");
	cr_assert_eq(seen.record_count, 0);
	cr_assert_eq(imaddr_reader_no_users(reader, &err), IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s: no users: none of its 2 rows has objectClass "
		 "user or inetOrgPerson in column 'objectClass' (an export of groups or "
		 "computers?)", csv_path);
	cr_assert_str_eq(err.message, expected);
	imaddr_reader_free(reader);
}

static const char powershell_export[] =
	"SamAccountName,Surname,Department,Title,Enabled\r\n"
	"js,Smith,Sales,Account manager,True\r\nct,Cee,Sales,Contractor,True\r\n"
	"ab,Bee,IT,Engineer,True\r\nold,Oh,sales,Account manager,False\r\n";

/* Reads powershell_export selected by `filter`; returns the run's status. */
static enum imaddr_status run_filtered(const char *filter, struct imaddr_reader **reader,
				       struct imaddr_error *err)
{
	struct imaddr_file_options options;
	imaddr_file_options_init(&options);
	options.filter = filter;
	return run_csv_text_with(powershell_export, &options, reader, err);
}

/*
 * --filter selects a CSV's rows by its columns, named as attributes,
 * beside the disabled accounts' rule; the columns it tests are read even
 * when no role needs them.
 */
Test(reader_csv, a_filter_given_selects_rows_by_their_columns)
{
	const char *filter = "(&(department=sales)(!(title=Contractor)))";
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_filtered(filter, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(seen.record_count, 1);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	cr_expect_eq(reader->input.entries, 4);
	cr_expect_eq(reader->input.entries_skipped, 3);
	cr_expect_str_eq(reader->input.filter,
			 "(&(department=sales)(!(title=Contractor))) and Enabled is not False");
	imaddr_reader_free(reader);
}

/* A column named with spaces, as Unified CM's exports name theirs, is filtered with '-'. */
Test(reader_csv, a_filter_writes_a_spaced_column_with_hyphens)
{
	struct imaddr_file_options options;
	imaddr_file_options_init(&options);
	options.filter = "(!(USER-ID=svc*))";
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_csv_text_with("FIRST NAME,LAST NAME,USER ID,MAIL ID\n"
				       "John,Smith,js,js@example.com\n"
				       "Scan,Service,svc-scan,scan@example.com\n", &options, &reader,
				       &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(seen.record_count, 1);
	expect_value(0, IMADDR_ROLE_USER_ID, "js");
	cr_expect_eq(reader->input.entries_skipped, 1);
	imaddr_reader_free(reader);
}

/* A filter of a column the header lacks would select no one, or under '!' everyone. */
Test(reader_csv, a_filter_of_a_column_the_header_lacks_is_refused)
{
	const char *filter = "(|(department=IT)(!(company=Acme))(title;lang-de=x))";
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_filtered(filter, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_eq(seen.record_count, 0);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s:1: --filter '%s' tests 'company', which is not "
		 "a column of the header ('SamAccountName,Surname,Department,Title,Enabled')",
		 csv_path, filter);
	cr_expect_str_eq(err.message, expected);
	imaddr_reader_free(reader);
}

/*
 * --directory-type selects by objectClass: with the column, csvde's rows by
 * that type's filter rather than the one inferred; without it, refused.
 */
Test(reader_csv, a_directory_type_given_selects_by_object_class)
{
	struct imaddr_file_options options;
	imaddr_file_options_init(&options);
	options.directory_type = IMADDR_DIRECTORY_OPENLDAP;
	options.directory_type_given = true;
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_csv_text_with(
		"DN,objectClass,sAMAccountName\r\n"
		"\"CN=J,DC=example,DC=com\",top;person;organizationalPerson;user,js\r\n"
		"\"CN=I,DC=example,DC=com\",top;person;organizationalPerson;user;inetOrgPerson,ip\r\n",
		&options, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(seen.record_count, 1);
	expect_value(0, IMADDR_ROLE_USER_ID, "ip");
	cr_expect_str_eq(reader->input.directory_type, "openldap");
	cr_expect_str_eq(reader->input.directory_type_how, "--directory-type");
	imaddr_reader_free(reader);

	cr_assert_eq(run_csv_text_with(powershell_export, &options, &reader, &err),
		     IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, ":1: --directory-type selects rows by their objectClass, "
			 "and the header has no objectClass column"), "%s", err.message);
	imaddr_reader_free(reader);
}

/* An empty filter is every entry, as for LDAP: every row, objectClass or not. */
Test(reader_csv, an_empty_filter_takes_every_row)
{
	const char *filter = "";
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_filtered(filter, &reader, &err), IMADDR_OK, "%s", err.message);
	/* The disabled account stays out, as without a filter. */
	cr_expect_eq(seen.record_count, 3);
	cr_expect_str_eq(reader->input.filter, "Enabled is not False");
	imaddr_reader_free(reader);
}

/* A filter that selects no row names itself, not the disabled accounts. */
Test(reader_csv, a_filter_that_selects_no_row_is_no_users)
{
	const char *filter = "(department=HR)";
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader;
	cr_assert_eq(run_filtered(filter, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(seen.record_count, 0);
	cr_assert_eq(imaddr_reader_no_users(reader, &err), IMADDR_ERR_INPUT);
	char expected[IMADDR_ERROR_MAX];
	snprintf(expected, sizeof(expected), "%s: no users: none of its 4 rows matches the "
		 "filter '(department=HR) and Enabled is not False'", csv_path);
	cr_expect_str_eq(err.message, expected);
	imaddr_reader_free(reader);
}

/* userAccountControl as scripts write it: decimal with a leading 0, hexadecimal, spaces. */
Test(reader_csv, user_account_control_in_any_writing)
{
	read_ok("sAMAccountName,userAccountControl\r\n"
		"a,0514\r\nb,\"514 \"\r\nc,0x202\r\nd, 66050\r\n"
		"e,512\r\nf,0x200\r\ng,\r\nh,disabled\r\n");
	cr_assert_eq(seen.record_count, 4);
	expect_value(0, IMADDR_ROLE_USER_ID, "e");
	expect_value(1, IMADDR_ROLE_USER_ID, "f");
	expect_value(2, IMADDR_ROLE_USER_ID, "g");
	expect_value(3, IMADDR_ROLE_USER_ID, "h");
}

/* Excel's first line "sep=;" names the delimiter, and is no header. */
Test(reader_csv, an_excel_sep_line_names_the_delimiter)
{
	read_ok("sep=;\r\nsAMAccountName;sn;mail\r\njs;Smith, Jr.;js@example.com\r\n");
	cr_assert_eq(seen.record_count, 1);
	expect_lines((uint64_t[]){ 3 }, 1);
	expect_value(0, IMADDR_ROLE_LAST_NAME, "Smith, Jr.");
}

/*
 * A code page's letter among the last bytes the first decision looks at
 * looks like a UTF-8 character cut short by their end: it is one only when
 * continuation bytes follow. And a file whose one accented name comes far
 * down is told by that name with the ASCII text before it, as ICU's
 * detector needs words around the accents.
 */
Test(reader_csv, a_late_accent_is_told_at_the_edge_and_alone)
{
	static const size_t edges[] = { IMADDR_DECODE_SNIFF - 1, IMADDR_DECODE_SNIFF - 3, 0 };
	for (size_t e = 0; e < sizeof(edges) / sizeof(*edges); e++) {
		struct imaddr_buf csv;
		imaddr_buf_init(&csv, 0);
		imaddr_buf_append_str(&csv, "DN,sAMAccountName,givenName,sn\r\n");
		int line = 2;
		for (; csv.len < IMADDR_DECODE_SNIFF - 200; line++)
			imaddr_buf_appendf(&csv, "\"CN=User %05d,OU=Staff,DC=example,DC=com\","
					   "u%05d,User,Name\r\n", line, line);
		/* A name across the edge, whose letter there becomes 0xE9. */
		uint64_t edge_line = (uint64_t)line;
		imaddr_buf_appendf(&csv, "\"CN=User %05d,DC=x\",u%05d,", line, line);
		while (csv.len < IMADDR_DECODE_SNIFF + 10)
			imaddr_buf_append_char(&csv, 'e');
		imaddr_buf_append_str(&csv, ",Name\r\n");
		for (line++; csv.len < IMADDR_DECODE_SNIFF + 20000; line++)
			imaddr_buf_appendf(&csv, "\"CN=User %05d,OU=Staff,DC=example,DC=com\","
					   "u%05d,User,Name\r\n", line, line);
		size_t at = edges[e];
		if (at)
			csv.data[at] = (char)0xE9;
		imaddr_buf_append_str(&csv, "\"CN=Jos\xe9 Garc\xed" "a,OU=Staff,DC=example,"
					    "DC=com\",jg,Jos\xe9,Garc\xed" "a\r\n");
		forget_seen();
		struct imaddr_error err = { "" };
		cr_assert_eq(read_csv_mapped(csv.data, csv.len, NULL, 1u << IMADDR_ROLE_USER_ID,
					     &err), IMADDR_OK, "edge %zu: %s", at, err.message);
		const struct seen_record *last = record_at(seen.record_count - 1);
		cr_expect_str_eq(last->values[IMADDR_ROLE_FIRST_NAME].data, "Jos\xc3\xa9");
		const struct seen_record *edge = record_at(edge_line - 2);
		cr_assert_eq(edge->line, edge_line);
		if (at)
			cr_expect(strstr(edge->values[IMADDR_ROLE_FIRST_NAME].data, "e\xc3\xa9" "e"),
				  "edge %zu: %s", at, edge->values[IMADDR_ROLE_FIRST_NAME].data);
		imaddr_buf_release(&csv);
	}
}

/* Reads `bytes` as a file of the given encoding; the run's status. */
static enum imaddr_status read_csv_encoded(const char *bytes, size_t len, const char *encoding,
					   struct imaddr_error *err)
{
	return read_csv_with(bytes, len, NULL, 1u << IMADDR_ROLE_USER_ID, encoding, err);
}

Test(reader_csv, a_byte_the_encoding_lacks_is_refused_on_its_line)
{
	/* Far enough down that ICU holds lines before the byte when it stops. */
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,mail,sn\n");
	for (int line = 2; line <= 5000; line++)
		imaddr_buf_appendf(&csv, line == 3001 ? "jm,j@example.com,M\xfcller\n"
						      : "u%d,u%d@example.com,N%d\n", line, line, line);
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_encoded(csv.data, csv.len, "US-ASCII", &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "users.csv:3001: byte "), "%s", err.message);
	cr_expect(strstr(err.message, "(0xFC) is not valid US-ASCII (--encoding)"), "%s",
		  err.message);
	imaddr_buf_release(&csv);
}

/*
 * A csvde export run in a console comes in its DOS code page: 850's 'ü' is
 * 0x81, which Windows-1252, the detector's guess, leaves undefined. The
 * message names the line and the code pages to give.
 */
Test(reader_csv, a_dos_code_page_detected_as_windows_1252_names_it)
{
	static const char dos[] = "sAMAccountName,givenName,sn,mail\r\n"
		"user0,Anna,Smith,anna0@example.com\r\nuser1,Anna,Smith,anna1@example.com\r\n"
		"jmueller,J\x81rgen,M\x81ller,juergen@example.com\r\n"
		"fg,Fran\x87ois,Garc\xa1" "a,f@example.com\r\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_encoded(dos, strlen(dos), NULL, &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "users.csv:4: byte 0x81 is not a character in "
			 "windows-1252"), "%s", err.message);
	cr_expect(strstr(err.message, "--encoding ibm-850, or ibm-437"), "%s", err.message);
}

Test(reader_csv, a_byte_windows_1252_leaves_undefined_is_refused)
{
	/* 0x81 is 'ü' in the DOS code page 850; ICU would make it U+0081. */
	static const char dos[] = "sAMAccountName,sn\r\nab,Ab\r\njm,M\x81ller\r\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(read_csv_encoded(dos, strlen(dos), "windows-1252", &err), IMADDR_ERR_INPUT);
	cr_expect(strstr(err.message, "users.csv:3: byte 0x81 is not a character in windows-1252"),
		  "%s", err.message);
	/* Its defined bytes, the euro sign's 0x80 among them, still read. */
	static const char fine[] = "sAMAccountName,sn\r\njm,M\xfcller \x80\r\n";
	cr_assert_eq(read_csv_encoded(fine, strlen(fine), "windows-1252", &err), IMADDR_OK, "%s",
		     err.message);
}

Test(reader_csv, cucm_export_rows_may_list_more_devices)
{
	read_ok("FIRST NAME,LAST NAME,USER ID,CONTROLLED DEVICE 1\n"
		"Ann,Lee,alee,SEP1,CSFALEE,TCTALEE\nBo,Wu,bwu\n");
	cr_assert_eq(seen.record_count, 2);
	cr_expect_eq(record_at(0)->problem_count, 0);
	cr_expect_str_eq(record_at(0)->values[IMADDR_ROLE_USER_ID].data, "alee");
	/* Fewer fields than the header are still a malformed row. */
	cr_expect_eq(record_at(1)->problem_count, 1);
	/* Outside a CUCM export, more fields than columns are one too. */
	read_ok("sAMAccountName,sn\njs,Smith,extra\n");
	cr_expect_eq(record_at(2)->problem_count, 1);
}

Test(reader_csv, powershell_names_feed_every_role)
{
	read_ok("\"DistinguishedName\",\"SamAccountName\",\"GivenName\",\"Surname\",\"EmailAddress\"\n"
		"\"CN=A,DC=example,DC=com\",\"a\",\"Ann\",\"Lee\",\"a@example.com\"\n");
	const struct seen_record *r = record_at(0);
	cr_expect_str_eq(r->dn, "CN=A,DC=example,DC=com");
	cr_expect_str_eq(r->values[IMADDR_ROLE_FIRST_NAME].data, "Ann");
	cr_expect_str_eq(r->values[IMADDR_ROLE_LAST_NAME].data, "Lee");
	cr_expect_str_eq(r->values[IMADDR_ROLE_MAIL].data, "a@example.com");
	cr_expect_str_eq(r->values[IMADDR_ROLE_DIRECTORY_URI].data, "a@example.com");
}

/* As the LDIF reader's: a caller's NULL is a usage error naming it, not a crash. */
Test(reader_csv, a_null_path_or_out_is_a_usage_error)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	struct imaddr_file_options options;
	imaddr_file_options_init(&options);
	cr_expect_eq(imaddr_csv_reader_open(NULL, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "imaddr_csv_reader_open: 'path' is NULL");
	cr_expect_eq(imaddr_csv_reader_open("-", NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_csv_reader_open: 'out' is NULL");
	reader = (struct imaddr_reader *)&err;
	cr_expect_eq(imaddr_csv_reader_open_with(NULL, &options, &reader, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "imaddr_csv_reader_open_with: 'path' is NULL");
	cr_expect_eq(imaddr_csv_reader_open_with("-", &options, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_csv_reader_open_with: 'out' is NULL");
	cr_expect_eq(imaddr_csv_reader_open_with(NULL, NULL, NULL, NULL), IMADDR_ERR_USAGE);
}
