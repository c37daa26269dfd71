/*
 * The one description of a user, a record and a finding (src/fields.h): the
 * codec that every thread batch and the spool use, and the report's columns.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "reader.h"

static void expect_same_string(const char *actual, const char *expected, const char *what)
{
	if (!expected) {
		cr_expect_null(actual, "%s should be NULL", what);
		return;
	}
	cr_assert_not_null(actual, "%s should be '%s'", what, expected);
	cr_expect_str_eq(actual, expected, "%s", what);
}

Test(fields, a_user_round_trips_with_equal_fields_and_nulls)
{
	struct imaddr_user user = {
		.ordinal = 1ull << 40, .line = 300, .dn = "cn=J\xc3\xbcrgen,dc=example",
		.user_id = "", .mail = "js@example.com", .first_name = NULL, .last_name = "Smith",
		.directory_uri = "js@example.com", .directory_uri_as_read = "sip:JS@Example.com",
		.current_uri = "js@example.com", .im_address = "js@example.com",
		.im_domain = "example.com", .uri_valid = true, .has_error = true,
		.finding_codes = 1ull << 20 | 1,
	};
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_user(&buf, &user);
	struct imaddr_user back;
	memset(&back, 0xa5, sizeof(back));
	const char *p = buf.data;
	cr_assert(imaddr_fields_decode_user(&p, buf.data + buf.len, &back));
	cr_expect_eq(p, buf.data + buf.len, "the whole encoding is read");
	cr_expect_eq(back.ordinal, user.ordinal);
	cr_expect_eq(back.line, user.line);
	cr_expect_eq(back.uri_valid, true);
	cr_expect_eq(back.has_error, true);
	cr_expect_eq(back.finding_codes, user.finding_codes);
	expect_same_string(back.dn, user.dn, "dn");
	expect_same_string(back.user_id, "", "an empty user ID stays empty");
	expect_same_string(back.first_name, NULL, "a NULL first name stays NULL");
	expect_same_string(back.last_name, user.last_name, "last_name");
	expect_same_string(back.mail, user.mail, "mail");
	expect_same_string(back.directory_uri, user.directory_uri, "directory_uri");
	expect_same_string(back.directory_uri_as_read, user.directory_uri_as_read, "as read");
	expect_same_string(back.current_uri, user.current_uri, "current_uri");
	expect_same_string(back.im_address, user.im_address, "im_address");
	expect_same_string(back.im_domain, user.im_domain, "im_domain");
	/* Equal fields are stored once: the URI, current URI and IM address are mail's. */
	size_t text = strlen(user.dn) + strlen(user.mail) + strlen(user.last_name) +
		      3 * strlen(user.mail) + strlen(user.directory_uri_as_read) +
		      strlen(user.im_domain);
	cr_expect_lt(buf.len, text, "equal fields take a token each, not their text");
	imaddr_buf_release(&buf);
}

Test(fields, a_spooled_users_keys_round_trip)
{
	struct imaddr_spooled_user user = {
		.user = { .ordinal = 7, .user_id = "JSmith", .directory_uri = "js@example.com" },
		.keys = { "jsmith", "js@example.com", NULL, "js@example.com" },
	};
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_spooled_user(&buf, &user);
	struct imaddr_spooled_user back;
	const char *p = buf.data;
	cr_assert(imaddr_fields_decode_spooled_user(&p, buf.data + buf.len, &back));
	cr_expect_eq(back.user.ordinal, 7);
	expect_same_string(back.keys[IMADDR_KEY_USER_ID], "jsmith", "user ID key");
	expect_same_string(back.keys[IMADDR_KEY_DIRECTORY_URI], "js@example.com", "URI key");
	expect_same_string(back.keys[IMADDR_KEY_MAIL], NULL, "mail key");
	expect_same_string(back.keys[IMADDR_KEY_IM_ADDRESS], "js@example.com", "IM key");
	imaddr_buf_release(&buf);
}

Test(fields, a_record_keeps_nul_bytes_and_its_problems)
{
	struct imaddr_record record;
	imaddr_record_reset(&record, 42);
	record.dn = "uid=x";
	record.values[IMADDR_ROLE_USER_ID] = (struct imaddr_value){
		.data = "a\0b", .len = 3, .attribute = "uid", .present = true,
	};
	record.values[IMADDR_ROLE_LAST_NAME].attribute = "sn";
	imaddr_record_add_problem(&record, IMADDR_CODE_VALUE_MULTIPLE, "mail", "two of %d", 2);
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_record(&buf, &record);

	struct imaddr_record back;
	memset(&back, 0, sizeof(back));
	const char *p = buf.data, *end = buf.data + buf.len;
	cr_assert(imaddr_fields_decode_record(&p, end, &back));
	cr_expect_eq(p, end);
	cr_expect(back.values[IMADDR_ROLE_USER_ID].terminated);
	cr_expect_eq(back.line, 42);
	cr_expect_str_eq(back.dn, "uid=x");
	const struct imaddr_value *user_id = &back.values[IMADDR_ROLE_USER_ID];
	cr_expect_eq(user_id->len, 3);
	cr_expect(!memcmp(user_id->data, "a\0b", 4), "bytes and a NUL after them");
	cr_expect(user_id->present);
	cr_expect_str_eq(user_id->attribute, "uid");
	cr_expect_null(back.values[IMADDR_ROLE_MAIL].data);
	cr_expect_str_eq(back.values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
	cr_expect_eq(back.problem_count, 1);
	cr_expect_eq(back.problems[0].code, IMADDR_CODE_VALUE_MULTIPLE);
	cr_expect_str_eq(back.problems[0].field, "mail");
	cr_expect_str_eq(back.problems[0].message, "two of 2");
	imaddr_buf_release(&buf);
}

Test(fields, a_cut_encoding_is_refused)
{
	struct imaddr_finding finding = {
		.code = IMADDR_CODE_URI_DUPLICATE, .severity = IMADDR_SEVERITY_ERROR, .ordinal = 3,
		.field = "mail", .value = "x@example.com", .message = "shared with line 2",
	};
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_finding(&buf, &finding);
	for (size_t cut = 0; cut < buf.len; cut++) {
		struct imaddr_finding back;
		const char *p = buf.data;
		cr_expect_not(imaddr_fields_decode_finding(&p, buf.data + cut, &back),
			      "decoding %zu of %zu bytes", cut, buf.len);
	}
	struct imaddr_finding back;
	const char *p = buf.data;
	cr_assert(imaddr_fields_decode_finding(&p, buf.data + buf.len, &back));
	cr_expect_eq(back.code, IMADDR_CODE_URI_DUPLICATE);
	cr_expect_eq(back.severity, IMADDR_SEVERITY_ERROR);
	cr_expect_str_eq(back.message, "shared with line 2");
	imaddr_buf_release(&buf);
}

/*
 * A user checked on the reader's thread: the spooled user first, whose bytes
 * the spool stores as they are, then the rules' results and every finding.
 */
Test(fields, a_checked_user_round_trips_with_its_findings)
{
	struct imaddr_checked_user checked = {
		.spooled = {
			.user = { .ordinal = 7, .line = 8, .user_id = "js",
				  .directory_uri = "js@example.com",
				  .im_address = "js@example.com", .im_domain = "example.com" },
			.keys = { "js", "js@example.com", NULL, "js@example.com" },
		},
		.key_field = { "sAMAccountName", "mail", "mail", NULL },
		.im_domain_unicode = "example.com",
		.change = 2,
		.skeleton = { NULL, "js@exarnple.com" },
		.check_count = IMADDR_FIELDS_MAX_CHECKS,
	};
	for (size_t i = 0; i < IMADDR_FIELDS_MAX_CHECKS; i++)
		checked.checks[i] = (struct imaddr_checked_finding){
			.code = i, .field = i % 2 ? "mail" : NULL, .value = i % 3 ? "v" : NULL,
			.message = "m", .suggestion = i == 5 ? "s" : NULL,
		};
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_checked_user(&buf, &checked);

	struct imaddr_checked_user back;
	const char *p = buf.data, *spooled_end;
	cr_assert(imaddr_fields_decode_checked_user(&p, buf.data + buf.len, &back, &spooled_end));
	cr_expect_eq(p, buf.data + buf.len);
	/* The spooled part alone decodes as a spooled user and ends where it said. */
	struct imaddr_spooled_user spooled;
	const char *q = buf.data;
	cr_assert(imaddr_fields_decode_spooled_user(&q, buf.data + buf.len, &spooled));
	cr_expect_eq(q, spooled_end);
	cr_expect_eq(back.spooled.user.ordinal, 7);
	expect_same_string(back.spooled.keys[IMADDR_KEY_MAIL], NULL, "mail key");
	expect_same_string(back.spooled.keys[IMADDR_KEY_IM_ADDRESS], "js@example.com", "IM key");
	expect_same_string(back.key_field[IMADDR_KEY_USER_ID], "sAMAccountName", "user ID field");
	expect_same_string(back.key_field[IMADDR_KEY_MAIL], "mail", "mail field");
	expect_same_string(back.key_field[IMADDR_KEY_IM_ADDRESS], NULL, "IM field");
	expect_same_string(back.im_domain_unicode, "example.com", "U-label");
	cr_expect_eq(back.change, 2);
	expect_same_string(back.skeleton[0], NULL, "user ID skeleton");
	expect_same_string(back.skeleton[1], "js@exarnple.com", "IM skeleton");
	cr_assert_eq(back.check_count, IMADDR_FIELDS_MAX_CHECKS);
	for (size_t i = 0; i < IMADDR_FIELDS_MAX_CHECKS; i++) {
		cr_expect_eq(back.checks[i].code, i);
		expect_same_string(back.checks[i].field, i % 2 ? "mail" : NULL, "field");
		expect_same_string(back.checks[i].value, i % 3 ? "v" : NULL, "value");
		expect_same_string(back.checks[i].message, "m", "message");
		expect_same_string(back.checks[i].suggestion, i == 5 ? "s" : NULL, "suggestion");
	}
	for (size_t cut = 0; cut < buf.len; cut++) {
		p = buf.data;
		cr_expect_not(imaddr_fields_decode_checked_user(&p, buf.data + cut, &back,
								&spooled_end),
			      "decoding %zu of %zu bytes", cut, buf.len);
	}
	imaddr_buf_release(&buf);
}

/* More findings than the rules keep is a damaged batch, not an overflow. */
Test(fields, a_checked_user_with_too_many_findings_is_refused)
{
	struct imaddr_checked_user checked = { .check_count = 0 };
	struct imaddr_buf buf;
	imaddr_buf_init(&buf, 0);
	imaddr_fields_encode_checked_user(&buf, &checked);
	/* The count is the last byte of a user without findings: make it one too many,
	 * each finding a code of 0 and four NULL strings. */
	cr_assert_eq(buf.data[buf.len - 1], 0);
	buf.data[buf.len - 1] = IMADDR_FIELDS_MAX_CHECKS + 1;
	for (int i = 0; i < (IMADDR_FIELDS_MAX_CHECKS + 1) * 5; i++)
		imaddr_buf_append_char(&buf, 0);
	struct imaddr_checked_user back;
	const char *p = buf.data, *spooled_end;
	cr_expect_not(imaddr_fields_decode_checked_user(&p, buf.data + buf.len, &back,
							&spooled_end));
	/* One fewer is a whole user. */
	buf.data[buf.len - (IMADDR_FIELDS_MAX_CHECKS + 1) * 5 - 1] = IMADDR_FIELDS_MAX_CHECKS;
	p = buf.data;
	cr_expect(imaddr_fields_decode_checked_user(&p, buf.data + buf.len - 5, &back,
						    &spooled_end));
	imaddr_buf_release(&buf);
}

Test(fields, the_reports_user_columns_come_from_the_description)
{
	char *columns = imaddr_fields_columns(&imaddr_fields_user, IMADDR_FIELD_REPORTED);
	cr_expect_str_eq(columns, "ordinal, line, dn, user_id, mail, first_name, last_name, "
				  "directory_uri, current_uri, im_address, im_domain, "
				  "im_address_before, im_address_change, cluster");
	free(columns);
	cr_expect_eq(imaddr_fields_count(&imaddr_fields_user, IMADDR_FIELD_REPORTED,
					 IMADDR_FIELD_INTEGER), 2);
	cr_expect_eq(imaddr_fields_zero_is_null(&imaddr_fields_user, IMADDR_FIELD_REPORTED),
		     1u << 1, "line 0 is NULL, ordinal is never 0");
	struct imaddr_user user = { .ordinal = 5, .line = 9, .user_id = "u", .im_domain = "d" };
	uint64_t numbers[2];
	const char *texts[12];
	imaddr_fields_values(&imaddr_fields_user, &user, IMADDR_FIELD_REPORTED, numbers, texts);
	cr_expect_eq(numbers[0], 5);
	cr_expect_eq(numbers[1], 9);
	cr_expect_str_eq(texts[1], "u");
	cr_expect_str_eq(texts[8], "d");
	cr_expect_null(texts[0]);
}
