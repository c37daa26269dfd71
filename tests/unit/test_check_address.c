/* imaddr_check_address and the reusable checker, whose fast path for the
 * common case must answer exactly as the general path does. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imaddr.h"

static const char *const addresses[] = {
	"jsmith@example.com", "John.Smith@example.com", "john_smith~1@example.com",
	"a-b.c@sub.example.co.uk", "jsmith@Example.COM", "jsmith@bücher.example",
	"jsmith@xn--bcher-kva.example", "o'brien@example.com", "a b@example.com",
	"jmüller@example.com", "sip:jsmith@example.com", " jsmith@example.com",
	"jsmith@example.com.", "jsmith@-bad.example", "two@at@example.com",
	"abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh@example.com",
	"abcdefghijabcdefghijabcdefghijabcdefghijabcdefg@example.com",
	"user@10.1.2.3", "user@localhost", "paren(s)@example.com", "hash#tag@example.com",
	"ｆｕｌｌ@example.com", "e\xcc\x81mile@example.com", "plus+tag@example.com",
	"x@exa_mple.com", "x@faß.de", "x@xn--fa-hia.de", "a@example\xe3\x80\x82" "com",
	"(a)@example.com", "a@example.com\r", "",
	/* Hostile Unicode: look-alike letters, invisible characters, deviations. */
	"jsm\xd1\x96th@example.com", "x@ex\xd0\xb0mple.com", "x@xn--exmple-4nf.com",
	"j\xe2\x80\x8bsmith@example.com", "x@exa\xc2\xadmple.com", "\xe2\x80\xaex@example.com",
	"x@\xcf\x83\xce\xbf\xcf\x86\xce\xbf\xcf\x82.example", "gro\xc3\x9f@example.com",
	"=cmd@example.com",
};

/* One line per address: canonical, unicode and every finding. */
static void describe(const struct imaddr_address_result *result, char *out, size_t size)
{
	size_t used = (size_t)snprintf(out, size, "%s|%s", result->canonical ? result->canonical : "-",
				       result->unicode ? result->unicode : "-");
	for (size_t i = 0; i < result->finding_count && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "|%s:%s:%s",
					 imaddr_code_name(result->findings[i].code),
					 result->findings[i].message,
					 result->findings[i].suggestion ? result->findings[i].suggestion
									: "");
}

Test(check_address, warm_checker_answers_like_a_cold_one)
{
	struct imaddr_address_checker *warm;
	struct imaddr_error err;
	size_t count = sizeof(addresses) / sizeof(*addresses);

	cr_assert_eq(imaddr_address_checker_new(&warm, &err), IMADDR_OK);
	/* Warm the domain cache with every address first. */
	for (size_t i = 0; i < count; i++)
		imaddr_address_checker_check(warm, addresses[i], strlen(addresses[i]));
	for (size_t i = 0; i < count; i++) {
		struct imaddr_address_checker *cold;
		char expected[2048], actual[2048];
		cr_assert_eq(imaddr_address_checker_new(&cold, &err), IMADDR_OK);
		describe(imaddr_address_checker_check(cold, addresses[i], strlen(addresses[i])),
			 expected, sizeof(expected));
		describe(imaddr_address_checker_check(warm, addresses[i], strlen(addresses[i])),
			 actual, sizeof(actual));
		cr_expect_str_eq(actual, expected, "%s", addresses[i]);
		imaddr_address_checker_free(cold);
	}
	imaddr_address_checker_free(warm);
}

Test(check_address, canonical_and_unicode_forms)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	const char *address = "John.Smith@Bücher.Example";
	cr_assert_eq(imaddr_check_address(address, strlen(address), &report, &err), IMADDR_OK);
	cr_expect_str_eq(report.canonical, "John.Smith@xn--bcher-kva.example");
	cr_expect_str_eq(report.unicode, "John.Smith@bücher.example");
	cr_assert_eq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_NOT_CANONICAL);
	cr_expect(strstr(report.findings[0].message, "use 'John.Smith@xn--bcher-kva.example'"),
		  "%s", report.findings[0].message);
	imaddr_address_report_release(&report);
}

/* The empty address was copied with memcpy from a NULL buffer (UBSan). */
Test(check_address, empty_address_is_invalid)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	cr_assert_eq(imaddr_check_address("", 0, &report, &err), IMADDR_OK);
	cr_expect_null(report.canonical);
	cr_assert_eq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_INVALID);
	imaddr_address_report_release(&report);
}

Test(check_address, nfd_user_part_message_reads_as_english)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	const char *address = "e\xcc\x81mile@example.com";
	cr_assert_eq(imaddr_check_address(address, strlen(address), &report, &err), IMADDR_OK);
	cr_assert_geq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_NOT_CANONICAL);
	cr_expect(strstr(report.findings[0].message, "written with a user part not in NFC"),
		  "%s", report.findings[0].message);
	cr_expect_null(strstr(report.findings[0].message, "with not"));
	imaddr_address_report_release(&report);
}

Test(check_address, invalid_address_has_no_forms)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	cr_assert_eq(imaddr_check_address("a@b@example.com", 15, &report, &err), IMADDR_OK);
	cr_expect_null(report.canonical);
	cr_expect_null(report.unicode);
	cr_assert_eq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_INVALID);
	imaddr_address_report_release(&report);
}

Test(check_address, addresses_joined_with_semicolons_are_named_a_list)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	const char *joined = "SMTP:anna@example.com;smtp:anna@example.mail.onmicrosoft.com";
	cr_assert_eq(imaddr_check_address(joined, strlen(joined), &report, &err), IMADDR_OK);
	cr_assert_eq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_INVALID);
	cr_expect(strstr(report.findings[0].message, "more than one '@': several addresses "
			 "joined with ';'"), "%s", report.findings[0].message);
	imaddr_address_report_release(&report);
	cr_assert_eq(imaddr_check_address("a@b@example.com", 15, &report, &err), IMADDR_OK);
	cr_assert_eq(report.finding_count, 1);
	cr_expect_str_eq(report.findings[0].message, "directory URI is invalid: more than one '@'");
	imaddr_address_report_release(&report);
}

/* The codes of a report's findings, in order: "idna-deviation,uri-not-canonical". */
static void codes_of(const char *address, char *out, size_t size)
{
	struct imaddr_address_report report;
	struct imaddr_error err;
	size_t used = 0;
	cr_assert_eq(imaddr_check_address(address, strlen(address), &report, &err), IMADDR_OK);
	out[0] = '\0';
	for (size_t i = 0; i < report.finding_count && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "," : "",
					 imaddr_code_name(report.findings[i].code));
	imaddr_address_report_release(&report);
}

static bool reports(const char *address, const char *code)
{
	char codes[512];
	codes_of(address, codes, sizeof(codes));
	return strstr(codes, code) != NULL;
}

Test(check_address, idna_deviation_for_a_unicode_host_with_sharp_s_or_final_sigma)
{
	cr_expect(reports("x@fa\xc3\x9f.de", "idna-deviation"));
	cr_expect(reports("x@\xcf\x83\xce\xbf\xcf\x86\xce\xbf\xcf\x82.example", "idna-deviation"));
	/* An A-label is looked up the same by both kinds of client. */
	cr_expect_not(reports("x@xn--fa-hia.de", "idna-deviation"));
	/* ß in a user part is not looked up in DNS. */
	cr_expect_not(reports("gro\xc3\x9f@example.com", "idna-deviation"));
	cr_expect_not(reports("x@b\xc3\xbc" "cher.example", "idna-deviation"));

	struct imaddr_address_report report;
	struct imaddr_error err;
	const char *address = "x@fa\xc3\x9f.de";
	cr_assert_eq(imaddr_check_address(address, strlen(address), &report, &err), IMADDR_OK);
	const char *message = NULL;
	for (size_t i = 0; i < report.finding_count; i++)
		if (report.findings[i].code == IMADDR_CODE_IDNA_DEVIATION)
			message = report.findings[i].message;
	cr_assert_not_null(message);
	cr_expect(strstr(message, "'xn--fa-hia.de' by IDNA2008"), "%s", message);
	cr_expect(strstr(message, "'fass.de' by transitional processing"), "%s", message);
	imaddr_address_report_release(&report);
}

Test(check_address, mixed_script_in_a_user_part_or_a_label)
{
	cr_expect(reports("jsm\xd1\x96th@example.com", "mixed-script"));
	cr_expect(reports("x@ex\xd0\xb0mple.com", "mixed-script"));
	/* The same host written as its A-label: judged by its U-label. */
	cr_expect(reports("x@xn--exmple-4nf.com", "mixed-script"));
	cr_expect_not(reports("\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc"
			      "\xd0\xb5\xd1\x80.example", "mixed-script"));   /* иван@пример */
	cr_expect_not(reports("\xe5\xbc\xa0\xe4\xbc\x9f@example.com", "mixed-script"));
	cr_expect_not(reports("jsmith@example.com", "mixed-script"));
}

Test(check_address, invisible_char_anywhere_in_the_address)
{
	cr_expect(reports("j\xe2\x80\x8bsmith@example.com", "invisible-char"));
	cr_expect(reports("\xe2\x80\xaex@example.com", "invisible-char"));
	/* UTS #46 would drop the soft hyphen from the host without a word. */
	cr_expect(reports("x@exa\xc2\xadmple.com", "invisible-char"));
	cr_expect_not(reports("j\xc3\xbcrgen@example.com", "invisible-char"));
	/* An address invalid for another reason still names the character. */
	cr_expect(reports("x@\xe2\x80\xae" "example.com", "domain-invalid"));
	cr_expect(reports("x@\xe2\x80\xae" "example.com", "invisible-char"));
	cr_expect(reports("j\xe2\x80\x8bsmith@@example.com", "uri-invalid"));
	cr_expect(reports("j\xe2\x80\x8bsmith@@example.com", "invisible-char"));
	/* Cached or not, the host's invisible character is found. */
	cr_expect(reports("y@exa\xc2\xadmple.com", "invisible-char"));
}

/*
 * A caller with no address passes (NULL, 0): the empty address, checked as
 * "" is. NULL with a length is the caller's mistake, refused, not read.
 */
Test(check_address, null_is_empty_without_a_length_and_refused_with_one)
{
	struct imaddr_address_checker *checker;
	struct imaddr_address_report report;
	struct imaddr_error err = { "" };
	char empty[4096], none[4096];
	cr_assert_eq(imaddr_address_checker_new(&checker, &err), IMADDR_OK, "%s", err.message);
	describe(imaddr_address_checker_check(checker, "", 0), empty, sizeof(empty));
	const struct imaddr_address_result *result = imaddr_address_checker_check(checker, NULL, 0);
	cr_assert_not_null(result);
	describe(result, none, sizeof(none));
	cr_expect_str_eq(none, empty);
	cr_expect_null(imaddr_address_checker_check(checker, NULL, 5));
	/* The checker goes on as before. */
	result = imaddr_address_checker_check(checker, "a@example.com", 13);
	cr_assert_not_null(result);
	cr_expect_str_eq(result->canonical, "a@example.com");
	char *json = NULL;
	size_t json_size = 0;
	FILE *out = open_memstream(&json, &json_size);
	cr_expect_eq(imaddr_address_result_write_json(NULL, 5, result, out, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "no address (NULL) but a length of 5 bytes");
	fclose(out);
	cr_expect_eq(json_size, 0);
	free(json);
	imaddr_address_checker_free(checker);

	cr_assert_eq(imaddr_check_address(NULL, 0, &report, &err), IMADDR_OK, "%s", err.message);
	cr_expect_null(report.canonical);
	cr_assert_eq(report.finding_count, 1);
	cr_expect_eq(report.findings[0].code, IMADDR_CODE_URI_INVALID);
	imaddr_address_report_release(&report);
	cr_expect_eq(imaddr_check_address(NULL, 5, &report, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "no address (NULL) but a length of 5 bytes");
	cr_expect_eq(report.finding_count, 0);
	cr_expect_null(report.findings);
	imaddr_address_report_release(&report);
}

Test(check_address, writing_json_needs_a_stream)
{
	struct imaddr_address_checker *checker;
	struct imaddr_error err = { "" };
	cr_assert_eq(imaddr_address_checker_new(&checker, &err), IMADDR_OK, "%s", err.message);
	const struct imaddr_address_result *result =
		imaddr_address_checker_check(checker, "a@example.com", 13);
	cr_expect_eq(imaddr_address_result_write_json("a@example.com", 13, result, NULL, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the JSON line needs a stream to write to, not NULL");
	imaddr_address_checker_free(checker);
}

/*
 * A NULL where an object is needed is the caller's mistake: a usage error
 * naming the function and the argument, or, from the checker's check, which
 * has no status, NULL as for a NULL address with a length.
 */
Test(check_address, a_null_checker_out_or_report_is_refused)
{
	struct imaddr_address_checker *checker = (struct imaddr_address_checker *)&checker;
	struct imaddr_error err = { "" };
	cr_expect_eq(imaddr_address_checker_new(NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_address_checker_new: 'out' is NULL");
	cr_expect_null(imaddr_address_checker_check(NULL, "a@example.com", 13));
	cr_expect_eq(imaddr_check_address("a@example.com", 13, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_check_address: 'report' is NULL");
	imaddr_address_report_release(NULL);
	cr_expect_eq(imaddr_address_result_write_json("a@example.com", 13, NULL, stdout, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_address_result_write_json: 'result' is NULL");
	/* Without `err`: the same answers, and a check that works. */
	cr_expect_eq(imaddr_check_address("a@example.com", 13, NULL, NULL), IMADDR_ERR_USAGE);
	cr_assert_eq(imaddr_address_checker_new(&checker, NULL), IMADDR_OK);
	cr_expect_str_eq(imaddr_address_checker_check(checker, "a@example.com", 13)->canonical,
			 "a@example.com");
	imaddr_address_checker_free(checker);
}
