/* The audit end to end through the library: one test per finding code. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "dupindex.h"
#include "tempdir.h"

static struct capture *run_userid(const char *csv)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	struct capture *capture = capture_audit_csv(csv, &options);
	cr_assert_eq(capture->status, IMADDR_OK, "%s", capture->err.message);
	return capture;
}

static struct capture *run_uri(const char *csv, const char *im_domains)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.im_domains = im_domains;
	struct capture *capture = capture_audit_csv(csv, &options);
	cr_assert_eq(capture->status, IMADDR_OK, "%s", capture->err.message);
	return capture;
}

static void expect_code(struct capture *capture, enum imaddr_code code, size_t count)
{
	cr_expect_eq(capture_count(capture, code), count, "%s: %zu findings, expected %zu",
		     imaddr_code_name(code), capture_count(capture, code), count);
}

static const char worked_example[] =
	"sAMAccountName,givenName,sn,mail,msRTCSIP-PrimaryUserAddress\n"
	"js12345,John,Smith,jsmith@cisco-sales.com,sip:john.smith@webex.com\n";

Test(audit, cisco_worked_example_userid)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "cisco.com";
	struct capture *c = capture_audit_csv(worked_example, &options);
	cr_assert_str_eq(capture_im_address(c, 1), "js12345@cisco.com");
	cr_expect_eq(c->finding_count, 0);
	capture_free(c);
}

Test(audit, cisco_worked_example_directory_uri_from_mail)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI, "mail");
	struct capture *c = capture_audit_csv(worked_example, &options);
	cr_assert_str_eq(capture_im_address(c, 1), "jsmith@cisco-sales.com");
	capture_free(c);
}

Test(audit, cisco_worked_example_directory_uri_from_sip_attribute)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI,
			   "msRTCSIP-PrimaryUserAddress");
	struct capture *c = capture_audit_csv(worked_example, &options);
	cr_assert_str_eq(capture_im_address(c, 1), "john.smith@webex.com");
	/* The sip: prefix is how that attribute is written: no remark. */
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 0);
	capture_free(c);
}

/*
 * The suggestion is a value for the field the finding names: the worklist
 * showed 'J.Doe@example.com' for msRTCSIP-PrimaryUserAddress, which without
 * its "sip:" is no Skype address. The directory URI itself has no prefix.
 */
Test(audit, sip_attribute_suggestion_keeps_the_sip_prefix)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI,
			   "msRTCSIP-PrimaryUserAddress");
	struct capture *c = capture_audit_csv("sAMAccountName,sn,msRTCSIP-PrimaryUserAddress\n"
					      "jdoe,Doe,SIP:J.Doe@Example.COM\n"
					      "ann,Lee,Ann@Example.COM\n", &options);
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 2);
	cr_expect_str_eq(capture_im_address(c, 1), "J.Doe@example.com");
	const char *expected[] = { NULL, "sip:J.Doe@example.com", "sip:Ann@example.com" };
	for (size_t i = 0; i < c->finding_count; i++) {
		const struct captured_finding *f = &c->findings[i];
		if (f->code == IMADDR_CODE_URI_NOT_CANONICAL)
			cr_expect_str_eq(f->suggestion, expected[f->ordinal]);
	}
	capture_free(c);
}

/* Read from mail, the prefix is part of what is wrong. */
Test(audit, mail_suggestion_drops_the_sip_prefix)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\njdoe,Doe,sip:J.Doe@example.com\n",
				    NULL);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_NOT_CANONICAL);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->suggestion, "J.Doe@example.com");
	capture_free(c);
}

/* proxyAddresses' primary value: the type is not part of the address. */
Test(audit, smtp_address_type_is_not_part_of_the_uri)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\njdoe,Doe,SMTP:J.Doe@example.com\n"
				    "asmith,Smith,smtp:a.smith@example.com\n", NULL);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_NOT_CANONICAL);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->suggestion, "J.Doe@example.com");
	cr_expect(strstr(f->message, "'SMTP:'") != NULL, "message: %s", f->message);
	cr_expect_str_eq(capture_im_address(c, 1), "J.Doe@example.com");
	cr_expect_str_eq(capture_im_address(c, 2), "a.smith@example.com");
	expect_code(c, IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING, 0);
	capture_free(c);
}

Test(audit, userid_missing)
{
	struct capture *c = run_userid("sAMAccountName,sn\n,Smith\n  ,Jones\nok,Fine\n");
	expect_code(c, IMADDR_CODE_USERID_MISSING, 2);
	cr_expect_null(capture_im_address(c, 1));
	cr_expect_str_eq(capture_im_address(c, 3), "ok@example.com");
	capture_free(c);
}

Test(audit, userid_invalid)
{
	char csv[1024];
	char long_id[200];
	memset(long_id, 'a', 129);
	long_id[129] = '\0';
	snprintf(csv, sizeof(csv), "sAMAccountName,sn\nbad\x01id,A\nbad\xff,B\n%s,C\nmm\xc3\xbcller,M\xc3\xbcller\n", long_id);
	struct capture *c = run_userid(csv);
	expect_code(c, IMADDR_CODE_USERID_INVALID, 3);
	cr_expect_null(capture_im_address(c, 1));
	capture_free(c);
}

Test(audit, userid_duplicate_exact_and_variant)
{
	struct capture *c = run_userid("sAMAccountName,sn\nJSmith,A\njsmith,B\nｊｓｍｉｔｈ,C\n"
				       "other,D\nmr,E\nmr,F\n");
	expect_code(c, IMADDR_CODE_USERID_DUPLICATE, 5);
	for (size_t i = 0; i < c->finding_count; i++) {
		const struct captured_finding *f = &c->findings[i];
		if (f->code != IMADDR_CODE_USERID_DUPLICATE)
			continue;
		if (f->ordinal == 1) {
			cr_expect_eq(f->related_ordinal, 2);
			cr_expect(strstr(f->message, "case, width"), "%s", f->message);
		} else if (f->ordinal == 5) {
			cr_expect_eq(f->related_ordinal, 6);
			cr_expect(strstr(f->message, "exact"), "%s", f->message);
		}
	}
	capture_free(c);
}

/* A duplicate's message names the one way its values differ. */
Test(audit, a_duplicate_names_how_its_values_differ)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a1,A,ann@example.com\n"
				    "a2,A,Ann@Example.com\n"
				    "z1,Z,zo\xc3\xab@example.com\n"           /* NFC */
				    "z2,Z,zoe\xcc\x88@example.com\n"          /* NFD */
				    "m1,M,max@m\xc3\xbcnchen.example\n"
				    "m2,M,max@xn--mnchen-3ya.example\n", NULL);
	const char *expected[] = {
		"(differs only in case)",
		"(differs only in Unicode form: composed and decomposed characters)",
		"(differs only in how the domain is written: U-label and A-label)",
	};
	for (size_t i = 0; i < c->finding_count; i++) {
		const struct captured_finding *f = &c->findings[i];
		if (f->code != IMADDR_CODE_URI_DUPLICATE)
			continue;
		cr_expect(strstr(f->message, expected[(f->ordinal - 1) / 2]), "%s", f->message);
	}
	expect_code(c, IMADDR_CODE_URI_DUPLICATE, 6);
	capture_free(c);
}

struct hashed_name {
	uint32_t hash;
	uint32_t number;
};

static int by_hash(const void *a, const void *b)
{
	const struct hashed_name *x = a, *y = b;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/*
 * Two user IDs "u<number>" whose duplicate-index hashes are equal: among
 * 300,000 names of 32-bit hashes some pair collides (all but certainly, and
 * the hash is fixed, so always the same pair).
 */
static void colliding_user_ids(char *a, char *b, size_t size)
{
	enum { NAMES = 300000 };
	struct hashed_name *names = malloc(NAMES * sizeof(*names));
	char name[32];
	cr_assert_not_null(names);
	for (uint32_t i = 0; i < NAMES; i++) {
		int len = snprintf(name, sizeof(name), "u%lu", (unsigned long)i);
		names[i] = (struct hashed_name){ imaddr_dupindex_hash(name, (size_t)len), i };
	}
	qsort(names, NAMES, sizeof(*names), by_hash);
	size_t i = 1;
	while (i < NAMES && names[i].hash != names[i - 1].hash)
		i++;
	cr_assert_lt(i, NAMES, "no two names share a hash");
	snprintf(a, size, "u%lu", (unsigned long)names[i - 1].number);
	snprintf(b, size, "u%lu", (unsigned long)names[i].number);
	free(names);
}

/* Equal hashes are only candidates: the keys decide. */
Test(audit, a_hash_collision_is_no_duplicate)
{
	char a[32], b[32], csv[256];
	colliding_user_ids(a, b, sizeof(a));
	cr_assert_str_neq(a, b);
	snprintf(csv, sizeof(csv), "sAMAccountName,sn\n%s,A\n%s,B\n", a, b);
	struct capture *c = run_userid(csv);
	expect_code(c, IMADDR_CODE_USERID_DUPLICATE, 0);
	capture_free(c);
	/* The same pair beside a real duplicate of one of them. */
	snprintf(csv, sizeof(csv), "sAMAccountName,sn\n%s,A\n%s,B\n%s,C\n", a, b, a);
	c = run_userid(csv);
	expect_code(c, IMADDR_CODE_USERID_DUPLICATE, 2);
	for (size_t i = 0; i < c->finding_count; i++)
		if (c->findings[i].code == IMADDR_CODE_USERID_DUPLICATE)
			cr_expect_neq(c->findings[i].ordinal, 2, "%s is no duplicate", b);
	capture_free(c);
}

Test(audit, uri_missing_only_in_directory_uri_scheme)
{
	const char csv[] = "sAMAccountName,sn,mail\njs,Smith,\n";
	struct capture *c = run_uri(csv, NULL);
	expect_code(c, IMADDR_CODE_URI_MISSING, 1);
	capture_free(c);
	c = run_userid(csv);
	expect_code(c, IMADDR_CODE_URI_MISSING, 0);
	capture_free(c);
}

Test(audit, uri_invalid)
{
	struct capture *c = run_uri(
		"sAMAccountName,sn,mail\n"
		"a,A,two@at@example.com\n"
		"b,B,@example.com\n"
		"c,C,abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh@example.com\n"
		"d,D,semi;colon@example.com\n"
		"e,E,user@localhost\n"
		"f,F,noat.example.com\n"
		"g,G,ok@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 6);
	cr_expect_str_eq(capture_im_address(c, 7), "ok@example.com");
	capture_free(c);
}

/* A damaged byte is named with its value, to find it in a hex view. */
Test(audit, uri_invalid_utf8_names_the_byte)
{
	/* UTF-8 elsewhere, so the file is read as UTF-8 with a damaged value. */
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "jm,M\xc3\xbc" "ller,j\xfc" "rgen@example.com\n"
				    "zb,B\xc3\xa9" "ranger,zoe@example.com\n"
				    "ok,\xc3\x85" "berg,ok@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_INVALID);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "invalid UTF-8 at byte 2 (0xFC)"), "%s", f->message);
	capture_free(c);
}

/* Unified CM's System Configuration Guide lists ( and ) since 11.5. */
Test(audit, uri_user_part_takes_parentheses)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,john(sales)@example.com\nb,B,(b)@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 0);
	cr_expect_str_eq(capture_im_address(c, 1), "john(sales)@example.com");
	cr_expect_str_eq(capture_im_address(c, 2), "(b)@example.com");
	capture_free(c);
}

/* UTS #46 maps U+3002, U+FF0E and U+FF61 to '.': a host may be written with them. */
Test(audit, uri_host_with_other_full_stops_is_valid_not_canonical)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,a@example\xe3\x80\x82" "com\n"
				    "b,B,b@example\xef\xbc\x8e" "com\n"
				    "c,C,c@sub\xef\xbd\xa1" "example\xef\xbd\xa1" "com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 0);
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 3);
	cr_expect_str_eq(capture_im_address(c, 1), "a@example.com");
	cr_expect_str_eq(capture_im_address(c, 2), "b@example.com");
	cr_expect_str_eq(capture_im_address(c, 3), "c@sub.example.com");
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_NOT_CANONICAL);
	cr_expect_str_eq(f->suggestion, "a@example.com");
	capture_free(c);
}

/* A CR or tab at either end was trimmed as white space and passed as a warning. */
Test(audit, control_characters_anywhere_in_uri_or_mail_are_errors)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail,DIRECTORY URI\n"
				    "a,A,a@example.com,\"a@example.com\r\"\n"
				    "b,B,b@example.com,\"\tb@example.com\"\n"
				    "c,C,\"c@example.com\n\",c@example.com\n"
				    "d,D, d@example.com ,d@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 2);
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 0);
	expect_code(c, IMADDR_CODE_MAIL_INVALID, 1);
	expect_code(c, IMADDR_CODE_MAIL_NOT_CANONICAL, 1);
	cr_expect_null(capture_im_address(c, 1));
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_INVALID);
	cr_expect(strstr(f->message, "U+000D"), "%s", f->message);
	f = capture_first(c, IMADDR_CODE_MAIL_NOT_CANONICAL);
	cr_expect_str_eq(f->suggestion, "d@example.com");
	cr_expect_eq(c->totals.users_with_error, 3);
	capture_free(c);
}

/* Mail that is also the URI is reported once, as the URI. */
Test(audit, mail_read_as_the_uri_is_not_reported_twice)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\na,A,\"a@example.com\r\"\n"
				    "b,B, b@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 1);
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 1);
	expect_code(c, IMADDR_CODE_MAIL_INVALID, 0);
	expect_code(c, IMADDR_CODE_MAIL_NOT_CANONICAL, 0);
	capture_free(c);
}

Test(audit, mail_not_dot_atom)
{
	struct capture *c = run_userid("sAMAccountName,sn,mail\n"
				       "a,A,.a@example.com\nb,B,b.@example.com\nc,C,c..c@example.com\n"
				       "d,D,\"\"\"d d\"\"@example.com\"\ne,E,e(x)@example.com\n"
				       "f,F,f.g+h@example.com\ng,G,jürgen@example.com\n");
	expect_code(c, IMADDR_CODE_MAIL_NOT_DOT_ATOM, 5);
	const char *why[] = { "starts with a dot", "ends with a dot", "two dots in a row",
			      "is quoted", "has '('" };
	size_t seen = 0;
	for (size_t i = 0; i < c->finding_count && seen < 5; i++) {
		if (c->findings[i].code != IMADDR_CODE_MAIL_NOT_DOT_ATOM)
			continue;
		cr_expect(strstr(c->findings[i].message, why[seen]), "%s", c->findings[i].message);
		cr_expect_eq(c->findings[i].ordinal, seen + 1);
		seen++;
	}
	capture_free(c);
}

Test(audit, uri_invalid_when_percent_encoding_passes_254)
{
	char csv[1024];
	char host[300];
	/* 40 spaces-and-hashes encode to 120; a 200-character host passes 254. */
	strcpy(host, "");
	for (int i = 0; i < 5; i++)
		strcat(host, "abcdefghijabcdefghijabcdefghijabcdefghij.");
	strcat(host, "com");
	snprintf(csv, sizeof(csv), "sAMAccountName,sn,mail\na,A,# # # # # # # # # # # # # # # #x@%s\n",
		 host);
	struct capture *c = run_uri(csv, NULL);
	expect_code(c, IMADDR_CODE_URI_INVALID, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_URI_INVALID);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "percent-encoded"), "%s", f->message);
	capture_free(c);
}

Test(audit, uri_duplicate_ignores_case)
{
	struct capture *c = run_uri("sAMAccountName,sn,DIRECTORY URI,mail\n"
				    "a,A,aaa@bbb.ccc,a@example.com\nb,B,AAA@BBB.CCC,b@example.com\n",
				    NULL);
	expect_code(c, IMADDR_CODE_URI_DUPLICATE, 2);
	expect_code(c, IMADDR_CODE_IM_ADDRESS_DUPLICATE, 2);
	capture_free(c);
}

Test(audit, uri_duplicate_across_u_label_and_a_label)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,jm@münchen.example\nb,B,jm@xn--mnchen-3ya.example\n", NULL);
	expect_code(c, IMADDR_CODE_URI_DUPLICATE, 2);
	capture_free(c);
}

Test(audit, mail_duplicate)
{
	struct capture *c = run_userid("sAMAccountName,sn,mail\na,A,Kim.Lee@Example.com\n"
				       "b,B,kim.lee@example.com\nc,C,other@example.com\n");
	expect_code(c, IMADDR_CODE_MAIL_DUPLICATE, 2);
	capture_free(c);
}

Test(audit, domain_invalid)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,a@exa_mple.com\nb,B,b@-x.example.com\nc,C,c@example.1com\n"
				    "d,D,d@10.1.2.3\n", NULL);
	expect_code(c, IMADDR_CODE_DOMAIN_INVALID, 4);
	cr_expect_null(capture_im_address(c, 4));
	capture_free(c);
}

Test(audit, im_address_duplicate_under_userid_scheme)
{
	struct capture *c = run_userid("sAMAccountName,sn\nAnna,A\nanna,B\n");
	expect_code(c, IMADDR_CODE_IM_ADDRESS_DUPLICATE, 2);
	capture_free(c);
}

Test(audit, im_address_invalid_for_characters_precis_refuses)
{
	/* Full-width letters are compatibility characters: not in an XMPP localpart. */
	struct capture *c = run_userid("sAMAccountName,sn\nｆｕｌｌ,A\n");
	expect_code(c, IMADDR_CODE_IM_ADDRESS_INVALID, 1);
	cr_expect_null(capture_im_address(c, 1));
	capture_free(c);
}

Test(audit, record_malformed)
{
	struct capture *c = run_userid("sAMAccountName,sn\na,A,extra\nb\n");
	expect_code(c, IMADDR_CODE_RECORD_MALFORMED, 2);
	capture_free(c);
}

Test(audit, userid_is_address)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "sales-example.com";
	struct capture *c = capture_audit_csv("sAMAccountName,sn\namckenzie@example.com,McKenzie\n",
					      &options);
	expect_code(c, IMADDR_CODE_USERID_IS_ADDRESS, 1);
	/* The @ is reported once, as the trap it is, not as needing escaping. */
	expect_code(c, IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING, 0);
	cr_expect_str_eq(capture_im_address(c, 1), "amckenzie@example.com@sales-example.com");
	capture_free(c);
}

Test(audit, userid_not_canonical)
{
	struct capture *c = run_userid("sAMAccountName,sn\n\" lwei \",Wei\n");
	expect_code(c, IMADDR_CODE_USERID_NOT_CANONICAL, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_USERID_NOT_CANONICAL);
	cr_expect_str_eq(f->suggestion, "lwei");
	cr_expect_str_eq(capture_im_address(c, 1), "lwei@example.com");
	capture_free(c);
}

Test(audit, uri_not_canonical_suggests_the_canonical_form)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,sip:a@example.com\n"
				    "b,B,b@Example.COM\n"
				    "c,C,c@bücher.example\n"
				    "d,D,e\xcc\x81mile@example.com\n"
				    "e,E, e@example.com\n"
				    "f,F,f@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_URI_NOT_CANONICAL, 5);
	const char *expected[] = { "a@example.com", "b@example.com", "c@xn--bcher-kva.example",
				   "\xc3\xa9mile@example.com", "e@example.com" };
	size_t seen = 0;
	for (size_t i = 0; i < c->finding_count; i++) {
		if (c->findings[i].code != IMADDR_CODE_URI_NOT_CANONICAL)
			continue;
		cr_expect_str_eq(c->findings[i].suggestion, expected[seen]);
		seen++;
	}
	capture_free(c);
}

Test(audit, lastname_missing_only_where_the_input_has_the_column)
{
	struct capture *c = run_userid("sAMAccountName,sn\nprince,\n");
	expect_code(c, IMADDR_CODE_LASTNAME_MISSING, 1);
	/* No value, as for userid-missing: absent is NULL, never "". */
	cr_expect_null(capture_first(c, IMADDR_CODE_LASTNAME_MISSING)->value);
	capture_free(c);
	c = run_userid("sAMAccountName\nprince\n");
	expect_code(c, IMADDR_CODE_LASTNAME_MISSING, 0);
	capture_free(c);
}

Test(audit, im_address_needs_escaping)
{
	struct capture *c = run_userid("sAMAccountName,sn\no'brien,O'Brien\n");
	expect_code(c, IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_IM_ADDRESS_NEEDS_ESCAPING);
	/* How it travels, not a value for the directory: no suggestion. */
	cr_expect_null(f->suggestion);
	cr_expect(strstr(f->message, "travels as 'o\\27brien@example.com'"), "%s", f->message);
	/* Escaping covers the quote; it is not also unsupported. */
	expect_code(c, IMADDR_CODE_JABBER_UNSUPPORTED_CHAR, 0);
	capture_free(c);
}

Test(audit, jabber_unsupported_char)
{
	struct capture *c = run_userid("sAMAccountName,sn\njmüller,Müller\nj+k,K\nplain.user_1~#,P\n");
	expect_code(c, IMADDR_CODE_JABBER_UNSUPPORTED_CHAR, 2);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_JABBER_UNSUPPORTED_CHAR);
	cr_expect(strstr(f->message, "U+00FC"), "%s", f->message);
	capture_free(c);
}

Test(audit, domain_not_configured)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\na,A,a@example.com\nb,B,b@example.org\n"
				    "c,C,c@münchen.example\n",
				    "example.com, xn--mnchen-3ya.example");
	expect_code(c, IMADDR_CODE_DOMAIN_NOT_CONFIGURED, 1);
	cr_expect_eq(capture_first(c, IMADDR_CODE_DOMAIN_NOT_CONFIGURED)->ordinal, 2);
	capture_free(c);
}

/* An audit of `count` users, each in an IM domain of its own. */
static struct capture *run_domains(int count)
{
	size_t size = 64 * 1024;
	char *csv = malloc(size);
	size_t used = (size_t)snprintf(csv, size, "sAMAccountName,sn,mail\n");
	for (int i = 0; i < count; i++)
		used += (size_t)snprintf(csv + used, size - used, "u%d,L,u@d%d.example\n", i, i);
	struct capture *c = run_uri(csv, NULL);
	free(csv);
	return c;
}

Test(audit, too_many_domains)
{
	struct capture *c = run_domains(76);
	expect_code(c, IMADDR_CODE_TOO_MANY_DOMAINS, 1);
	cr_expect_eq(capture_first(c, IMADDR_CODE_TOO_MANY_DOMAINS)->ordinal, 0);
	cr_expect_eq(c->totals.domain_count, 76);
	capture_free(c);
}

Test(audit, seventy_five_domains_are_fine)
{
	struct capture *c = run_domains(75);
	expect_code(c, IMADDR_CODE_TOO_MANY_DOMAINS, 0);
	capture_free(c);
}

Test(audit, totals_and_domain_inventory)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\na,A,a@bücher.example\n"
				    "b,B,b@xn--bcher-kva.example\nc,C,\n", NULL);
	cr_expect_eq(c->totals.users, 3);
	cr_expect_eq(c->totals.users_with_im_address, 2);
	cr_assert_eq(c->totals.domain_count, 1);
	capture_free(c);
}

/* A header with no rows exited 0, as if the directory were clean. */
Test(audit, no_users_is_an_input_error)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	struct capture *c = capture_audit_csv("sAMAccountName,sn\n\n", &options);
	cr_expect_eq(c->status, IMADDR_ERR_INPUT);
	cr_expect(strstr(c->err.message, "no users: the header row (line 1) is followed by no rows"),
		  "%s", c->err.message);
	cr_expect_eq(c->user_count, 0);
	capture_free(c);
}

/* PowerShell 5.1 writes ASCII: 'Jürgen' arrives as 'J?rgen', a valid URI user part. */
Test(audit, export_lossy_for_a_question_mark_where_a_letter_belongs)
{
	struct capture *c = run_uri("sAMAccountName,givenName,sn,mail\n"
				    "jm,J?rgen,M?ller,j?rgen.m?ller@example.com\n"
				    "ok,Ann,Lee,who?@example.com\n"
				    "fine,Bo,Wu,bo.wu@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_EXPORT_LOSSY, 2);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_EXPORT_LOSSY);
	cr_expect_eq(f->ordinal, 1);
	cr_expect_str_eq(f->field, "givenName");
	cr_expect(strstr(f->message, "replaced characters"), "%s", f->message);
	capture_free(c);
}

/*
 * Export-Csv writes a multi-valued property as its type's name unless the
 * command joins it: the URI column holds no address at all.
 */
Test(audit, export_lossy_for_a_type_name_instead_of_values)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_DIRECTORY_URI, "proxyAddresses");
	struct capture *c = capture_audit_csv(
		"SamAccountName,Surname,proxyAddresses\n"
		"js,Smith,Microsoft.ActiveDirectory.Management.ADPropertyValueCollection\n"
		"ab,Bee,System.String[]\n"
		"cd,Sea,System.Ok@example.com\n", &options);
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	expect_code(c, IMADDR_CODE_EXPORT_LOSSY, 2);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_EXPORT_LOSSY);
	cr_expect_str_eq(f->field, "proxyAddresses");
	/* A directory URI is one address: joining would only make a list of them. */
	cr_expect(strstr(f->message, "which Unified CM takes from mail or "
			 "msRTCSIP-PrimaryUserAddress"), "%s", f->message);
	capture_free(c);

	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	c = capture_audit_csv("SamAccountName,GivenName,Surname,mail\n"
			      "js,System.String[],Smith,js@example.com\n", &options);
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	f = capture_first(c, IMADDR_CODE_EXPORT_LOSSY);
	cr_expect(strstr(f->message, "$_.GivenName -join ';'"), "%s", f->message);
	capture_free(c);
}

/* ------------------------------------------------------------------------ */
/* Hostile Unicode (issue 14) and values a spreadsheet would run. */

static const struct captured_finding *finding_of(const struct capture *c, enum imaddr_code code,
						 uint64_t ordinal)
{
	for (size_t i = 0; i < c->finding_count; i++)
		if (c->findings[i].code == code && c->findings[i].ordinal == ordinal)
			return &c->findings[i];
	return NULL;
}

/*
 * Excel writes a long number it was not told is text as it shows it:
 * 123456789012 becomes 1.23457E+11, the digits gone. A user ID read from
 * employeeNumber or a telephone number arrives so.
 */
Test(audit, export_lossy_for_a_user_id_excel_wrote_in_scientific_notation)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	imaddr_mapping_set(&options.mapping, IMADDR_ROLE_USER_ID, "employeeNumber");
	struct capture *c = capture_audit_csv(
		"employeeNumber;sn;mail\n"
		"1.23457E+11;Smith;js@example.com\n"
		"4,93012E+09;Bee;ab@example.com\n"
		"1E+12;Sea;cs@example.com\n"
		"123456789012;Dee;dd@example.com\n"
		"1.5;Eff;ef@example.com\n"
		"2e5;Gee;gg@example.com\n"
		"E+12;Aitch;hh@example.com\n", &options);
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	expect_code(c, IMADDR_CODE_EXPORT_LOSSY, 3);
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 1));
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 2));
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 3));
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_EXPORT_LOSSY);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "employeeNumber");
	cr_expect(strstr(f->message, "Excel rounded"), "%s", f->message);
	cr_expect(strstr(f->message, "Data > From Text/CSV"), "%s", f->message);
	capture_free(c);
}

/* Names with no Latin letter left: 'Иван' becomes '????', '王' becomes '?'. */
Test(audit, export_lossy_for_names_made_of_question_marks)
{
	struct capture *c = run_uri("sAMAccountName,givenName,sn,mail\n"
				    "ipetrov,????,??????,ipetrov@example.com\n"
				    "wang,Li,?,li.wang@example.com\n"
				    "lw2,Li,Wang,?.wang@example.com\n"
				    "fine,Bo,Wu,bo.wu@example.com\n"
				    "ticket,Room,12?4,room.12@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_EXPORT_LOSSY, 3);
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 1));
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 2));
	cr_expect(finding_of(c, IMADDR_CODE_EXPORT_LOSSY, 3));
	capture_free(c);
}

/* The three look-alikes of the issue, each beside the name it imitates. */
static const char lookalikes[] =
	"sAMAccountName,sn,mail\n"
	"jsmith,Smith,jsmith@example.com\n"
	"jsm\xd1\x96th,Smith,jsm\xd1\x96th@example.com\n"      /* Cyrillic і */
	"p\xd0\xb0ypal,Pal,p\xd0\xb0ypal@example.com\n"        /* Cyrillic а */
	"paypal,Pal,paypal@example.com\n"
	"adm\xc4\xb1n,Min,adm\xc4\xb1n@example.com\n"          /* dotless ı */
	"admin,Min,admin@example.com\n";

Test(audit, confusable_user_ids_and_im_addresses_name_each_other)
{
	struct capture *c = run_uri(lookalikes, NULL);
	/* Six user IDs and six IM addresses, each pair both ways. */
	expect_code(c, IMADDR_CODE_CONFUSABLE, 12);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_CONFUSABLE, 2);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->value, "jsm\xd1\x96th");
	cr_expect_str_eq(f->field, "sAMAccountName");
	cr_expect(strstr(f->message, "'jsmith' (line 2)"), "%s", f->message);
	cr_expect(strstr(f->message, "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"),
		  "%s", f->message);
	cr_expect_eq(f->related_ordinal, 0);
	f = finding_of(c, IMADDR_CODE_CONFUSABLE, 1);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "'jsm\xd1\x96th' (line 3)"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_CONFUSABLE, 5);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "U+0131 LATIN SMALL LETTER DOTLESS I"), "%s", f->message);
	/* The IM address names the other user's user ID too. */
	size_t im = 0;
	for (size_t i = 0; i < c->finding_count; i++) {
		const struct captured_finding *g = &c->findings[i];
		if (g->code == IMADDR_CODE_CONFUSABLE && !strncmp(g->message, "IM address", 10)) {
			im++;
			cr_expect(strstr(g->message, "user ID '"), "%s", g->message);
		}
	}
	cr_expect_eq(im, 6);
	/* Warnings: the users keep their IM addresses. */
	cr_expect_str_eq(capture_im_address(c, 2), "jsm\xd1\x96th@example.com");
	capture_free(c);
}

Test(audit, confusable_never_between_duplicates)
{
	/* jsmith and JSMITH are one user ID to Unified CM: a duplicate, not a look-alike. */
	struct capture *c = run_userid("sAMAccountName,sn\njsmith,A\nJSMITH,B\n");
	expect_code(c, IMADDR_CODE_USERID_DUPLICATE, 2);
	expect_code(c, IMADDR_CODE_CONFUSABLE, 0);
	capture_free(c);
	c = run_userid("sAMAccountName,sn\njsmith,A\nJSMITH,B\njsm\xd1\x96th,C\n");
	expect_code(c, IMADDR_CODE_USERID_DUPLICATE, 2);
	/* Each of the duplicates looks like the third; the third like both. */
	expect_code(c, IMADDR_CODE_CONFUSABLE, 3);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_CONFUSABLE, 3);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "'jsmith' (line 2), 'JSMITH' (line 3)"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_CONFUSABLE, 1);
	cr_assert_not_null(f);
	cr_expect_null(strstr(f->message, "JSMITH"), "%s", f->message);
	capture_free(c);
}

Test(audit, confusable_not_between_ascii_values)
{
	/* UTS #39 has look-alikes within ASCII; they are ordinary names. */
	struct capture *c = run_userid("sAMAccountName,sn\nal1,A\nall,B\nrn,C\nm,D\n"
				       "jsmith1,E\njsmithl,F\nbill,G\nb1ll,H\n");
	expect_code(c, IMADDR_CODE_CONFUSABLE, 0);
	capture_free(c);
}

Test(audit, confusable_under_the_userid_scheme_compares_user_ids_only)
{
	/* The IM addresses are the user IDs at one domain: they would say it twice. */
	struct capture *c = run_userid("sAMAccountName,sn\njsmith,A\njsm\xd1\x96th,B\n");
	expect_code(c, IMADDR_CODE_CONFUSABLE, 2);
	expect_code(c, IMADDR_CODE_MIXED_SCRIPT, 1);
	capture_free(c);
}

Test(audit, confusable_im_addresses_at_look_alike_domains)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "js1,A,js@example.com\n"
				    "js2,B,js@ex\xd0\xb0mple.com\n"       /* Cyrillic а in the host */
				    "js3,C,js@xn--exmple-4nf.com\n", NULL); /* the same, an A-label */
	/* js2 and js3 are one IM address (a duplicate); both look like js1's. */
	expect_code(c, IMADDR_CODE_IM_ADDRESS_DUPLICATE, 2);
	expect_code(c, IMADDR_CODE_CONFUSABLE, 3);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_CONFUSABLE, 3);
	cr_assert_not_null(f);
	/* Shown with the U-label, where the look-alike is seen. */
	cr_expect_str_eq(f->value, "js@ex\xd0\xb0mple.com");
	expect_code(c, IMADDR_CODE_MIXED_SCRIPT, 2);
	capture_free(c);
}

Test(audit, confusable_when_case_folding_makes_a_value_ascii_like)
{
	/* ß folds to ss and æ looks like ae: "ærin.weiß" looks like "aerin.weiss". */
	struct capture *c = run_userid("sAMAccountName,sn\n\xc3\xa6rin.wei\xc3\x9f,A\n"
				       "aerin.weiss,B\nerin.weiss,C\n");
	expect_code(c, IMADDR_CODE_CONFUSABLE, 2);
	cr_expect_not_null(finding_of(c, IMADDR_CODE_CONFUSABLE, 1));
	cr_expect_not_null(finding_of(c, IMADDR_CODE_CONFUSABLE, 2));
	capture_free(c);
}

Test(audit, confusable_with_many_ascii_spellings_takes_the_long_way)
{
	/* "ılll1": its skeleton "illll" has 81 ASCII spellings (l, 1 or | each). */
	struct capture *c = run_userid("sAMAccountName,sn\nil1ll,A\n\xc4\xb1lll1,B\nillll,C\n"
				       "other,D\n");
	/* The two ASCII ones look like the dotless one, not like each other. */
	expect_code(c, IMADDR_CODE_CONFUSABLE, 3);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_CONFUSABLE, 2);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "'il1ll' (line 2), 'illll' (line 4)"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_CONFUSABLE, 3);
	cr_assert_not_null(f);
	cr_expect_null(strstr(f->message, "il1ll"), "%s", f->message);
	capture_free(c);
}

/*
 * The fuzzer's hang: "'" has several ASCII spellings and the skeleton of
 * "\u2030" starts like "%"'s and then goes on, so every one of the 2^40
 * spellings died at its end until dead ends were remembered.
 */
Test(audit, confusable_search_of_spellings_that_all_die_ends, .timeout = 60)
{
	char csv[256] = "sAMAccountName,sn\njdo";
	size_t used = strlen(csv);
	for (int i = 0; i < 40; i++)
		csv[used++] = '\'';
	snprintf(csv + used, sizeof(csv) - used, "\xe2\x80\xb0,A\nother,B\n");
	struct capture *c = run_userid(csv);
	expect_code(c, IMADDR_CODE_CONFUSABLE, 0);
	capture_free(c);
}

Test(audit, mixed_script_in_user_ids_user_parts_and_labels)
{
	struct capture *c = run_uri(lookalikes, NULL);
	/* jsmіth and pаypal, as user ID and as user part; admın is all Latin. */
	expect_code(c, IMADDR_CODE_MIXED_SCRIPT, 4);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_MIXED_SCRIPT, 2);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "Latin and Cyrillic"), "%s", f->message);
	capture_free(c);
	c = run_uri("sAMAccountName,sn,mail\n"
		    "a,A,x@ex\xd0\xb0mple.com\n", NULL);
	expect_code(c, IMADDR_CODE_MIXED_SCRIPT, 1);
	f = capture_first(c, IMADDR_CODE_MIXED_SCRIPT);
	cr_expect(strstr(f->message, "domain label 'ex\xd0\xb0mple'"), "%s", f->message);
	capture_free(c);
}

Test(audit, mixed_script_not_for_one_script_or_a_writing_system)
{
	struct capture *c = run_uri(
		"sAMAccountName,sn,mail\n"
		"jsmith,A,john.smith@example.com\n"
		"\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd,B,\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd.\xd0\xbf\xd0\xb5"
		"\xd1\x82\xd1\x80\xd0\xbe\xd0\xb2@example.com\n"                 /* иван.петров */
		"zhang,C,\xe5\xbc\xa0\xe4\xbc\x9f@example.com\n"                 /* 张伟 */
		"yamada,D,\xe5\xb1\xb1\xe7\x94\xb0\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86@example.com\n"
		"gross,E,gro\xc3\x9f@example.com\n"                              /* groß */
		"mary-ann,F,mary-ann@example.com\n"
		"\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@example.com,G,ivan@example.com\n"  /* by its parts */
		"nikos,H,n@\xcf\x80\xce\xb1\xcf\x81\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3\xce\xbc"
		"\xce\xb1.example\n", NULL);                                     /* παράδειγμα */
	expect_code(c, IMADDR_CODE_MIXED_SCRIPT, 0);
	expect_code(c, IMADDR_CODE_CONFUSABLE, 0);
	expect_code(c, IMADDR_CODE_INVISIBLE_CHAR, 0);
	expect_code(c, IMADDR_CODE_IDNA_DEVIATION, 0);
	expect_code(c, IMADDR_CODE_CSV_FORMULA, 0);
	capture_free(c);
}

Test(audit, invisible_char_in_user_id_uri_and_mail)
{
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	struct capture *c = capture_audit_csv(
		"sAMAccountName,sn,mail,DIRECTORY URI\n"
		"\xe2\x80\xaenimda,A,a@example.com,a@example.com\n"   /* right-to-left override */
		"\xef\xbb\xbfjsmith,B,b@example.com,b@example.com\n"  /* a BOM starting the value */
		"c,C,c\xe2\x80\x8b@example.com,c@example.com\n"       /* zero width space in mail */
		"d,D,d@example.com,d@exa\xc2\xadmple.com\n"           /* soft hyphen in the host */
		"e,E,e@example.com,e@example.com\n", &options);
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	expect_code(c, IMADDR_CODE_INVISIBLE_CHAR, 4);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_INVISIBLE_CHAR, 1);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "sAMAccountName");
	cr_expect(strstr(f->message, "bidirectional control U+202E RIGHT-TO-LEFT OVERRIDE at byte 1"),
		  "%s", f->message);
	f = finding_of(c, IMADDR_CODE_INVISIBLE_CHAR, 2);
	cr_assert_not_null(f);
	cr_expect(strstr(f->message, "byte order mark"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_INVISIBLE_CHAR, 3);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "mail");
	cr_expect(strstr(f->message, "U+200B ZERO WIDTH SPACE at byte 2"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_INVISIBLE_CHAR, 4);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "DIRECTORY URI");
	/* An error: none of them reaches the BAT file. */
	cr_expect_eq(c->totals.users_with_error, 4);
	capture_free(c);
}

Test(audit, invisible_char_of_mail_read_as_the_uri_is_reported_once)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\nc,C,c\xe2\x80\x8b@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_INVISIBLE_CHAR, 1);
	capture_free(c);
}

Test(audit, a_byte_order_mark_starting_the_file_is_no_finding)
{
	struct capture *c = run_userid("\xef\xbb\xbfsAMAccountName,sn\njsmith,A\n");
	expect_code(c, IMADDR_CODE_INVISIBLE_CHAR, 0);
	cr_expect_eq(c->finding_count, 0);
	capture_free(c);
}

Test(audit, idna_deviation_for_a_host_with_sharp_s)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "a,A,a@stra\xc3\x9f" "e.example\n"
				    "b,B,b@xn--strae-oqa.example\n"      /* A-label: same for all */
				    "c,C,gro\xc3\x9f@example.com\n", NULL); /* ß in the user part */
	expect_code(c, IMADDR_CODE_IDNA_DEVIATION, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_IDNA_DEVIATION);
	cr_expect_eq(f->ordinal, 1);
	cr_expect(strstr(f->message, "'strasse.example' by transitional processing"), "%s",
		  f->message);
	capture_free(c);
}

Test(audit, csv_formula_for_values_written_to_the_bat_file)
{
	struct capture *c = run_uri("sAMAccountName,sn,mail\n"
				    "=cmd|' /C calc'!A0,A,a@example.com\n"
				    "+plus,B,b@example.com\n"
				    "-minus,C,c@example.com\n"
				    "@at,D,d@example.com\n"
				    "e164,E,+14085551234@example.com\n"
				    "mary-ann,F,mary-ann@example.com\n"   /* inside: fine */
				    "news,G,ann+news@example.com\n", NULL);
	expect_code(c, IMADDR_CODE_CSV_FORMULA, 5);
	const struct captured_finding *f = finding_of(c, IMADDR_CODE_CSV_FORMULA, 1);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "sAMAccountName");
	cr_expect(strstr(f->message, "begins with '='"), "%s", f->message);
	f = finding_of(c, IMADDR_CODE_CSV_FORMULA, 5);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->field, "mail");
	cr_expect_str_eq(f->value, "+14085551234@example.com");
	capture_free(c);
}

static void expect_same_text(const char *a, const char *b, const char *what, size_t i)
{
	if (!a || !b)
		cr_expect(a == b, "%s of %zu: one is NULL", what, i);
	else
		cr_expect_str_eq(a, b, "%s of %zu", what, i);
}

/* The same users and findings, in the same order. */
static void expect_same_capture(const struct capture *x, const struct capture *y)
{
	cr_assert_eq(x->user_count, y->user_count);
	for (size_t i = 0; i < y->user_count; i++) {
		cr_expect_eq(x->users[i].ordinal, y->users[i].ordinal);
		expect_same_text(x->users[i].user_id, y->users[i].user_id, "user ID", i);
		expect_same_text(x->users[i].directory_uri, y->users[i].directory_uri,
				 "directory URI", i);
		expect_same_text(x->users[i].im_address, y->users[i].im_address, "IM address", i);
	}
	cr_assert_eq(x->finding_count, y->finding_count);
	for (size_t i = 0; i < y->finding_count; i++) {
		const struct captured_finding *a = &x->findings[i], *b = &y->findings[i];
		cr_expect_eq(a->code, b->code, "code of %zu", i);
		cr_expect_eq(a->ordinal, b->ordinal, "ordinal of %zu", i);
		cr_expect_eq(a->related_ordinal, b->related_ordinal, "related of %zu", i);
		expect_same_text(a->field, b->field, "field", i);
		expect_same_text(a->value, b->value, "value", i);
		expect_same_text(a->message, b->message, "message", i);
		expect_same_text(a->suggestion, b->suggestion, "suggestion", i);
	}
}

/*
 * A file large enough for many batches: the reader's thread checks some
 * users and hands others to the audit's thread unchecked, as each keeps up.
 * Whatever the split, the users and findings are those of the same file read
 * on the audit's thread alone.
 */
Test(audit, a_file_read_on_its_own_thread_gives_what_a_pipe_gives, .timeout = 120)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,mail,givenName,sn\n");
	for (int i = 0; i < 40000; i++) {
		int n = i % 997 == 0 ? i - 1 : i;   /* duplicates */
		const char *domain = i % 5 == 0 ? "m\xc3\xbcnchen.example" : i % 7 == 0 ? "bad..example"
										 : "example.com";
		imaddr_buf_appendf(&csv, "user%d,First.Last%d@%s,J\xc3\xbcrgen %d,Smith\n",
				   i % 1500 == 0 ? 3 : i, n, domain, i);
	}
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	struct capture *threaded = capture_audit_csv(csv.data, &options);
	struct capture *alone = capture_audit_csv_unthreaded(csv.data, &options);
	cr_assert_eq(threaded->status, IMADDR_OK, "%s", threaded->err.message);
	cr_assert_eq(alone->status, IMADDR_OK, "%s", alone->err.message);
	cr_assert_eq(threaded->user_count, 40000);
	cr_assert_gt(capture_count(alone, IMADDR_CODE_MAIL_DUPLICATE), 0);
	cr_assert_gt(capture_count(alone, IMADDR_CODE_DOMAIN_INVALID), 0);
	expect_same_capture(threaded, alone);
	capture_free(threaded);
	capture_free(alone);
	imaddr_buf_release(&csv);
}

/* A directory of `users` users with duplicates, look-alikes and bad domains. */
static char *many_users(int users, const char *domain)
{
	struct imaddr_buf csv;
	imaddr_buf_init(&csv, 0);
	imaddr_buf_append_str(&csv, "sAMAccountName,mail,givenName,sn\n");
	for (int i = 0; i < users; i++) {
		int n = i % 331 == 0 ? i - 1 : i;
		imaddr_buf_appendf(&csv, "%s%d,%s%d@%s,J\xc3\xbcrgen,Smith\n",
				   i % 211 == 0 ? "j\xd1\x95mith" : "jsmith", i % 1500 == 0 ? 3 : i,
				   i % 13 == 0 ? "Ann.Lee" : "ann.lee", n,
				   i % 5 == 0 ? "m\xc3\xbcnchen.example" : i % 7 == 0 ? "bad..example"
										: domain);
	}
	return imaddr_buf_detach(&csv);
}

struct threaded_audit {
	const char *csv;
	struct imaddr_audit_options options;
	struct capture *capture;
};

static void *audit_on_a_thread(void *arg)
{
	struct threaded_audit *run = arg;
	run->capture = capture_audit_csv(run->csv, &run->options);
	return NULL;
}

/*
 * imaddr.h, "Threads": two audits, each with its own options, reader and
 * outputs, run at once on two threads (each reading its file on a third),
 * and each gives what it gives alone. They run first in this process, so
 * that they also race to set up ICU and the shared tables.
 */
Test(audit, two_audits_on_two_threads_give_what_each_gives_alone, .timeout = 120)
{
	struct threaded_audit runs[2];
	pthread_t threads[2];
	char *csv[2] = { many_users(30000, "example.com"), many_users(20000, "example.org") };
	for (int i = 0; i < 2; i++) {
		runs[i].csv = csv[i];
		imaddr_audit_options_init(&runs[i].options);
		runs[i].capture = NULL;
	}
	runs[0].options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	runs[0].options.im_domains = "example.com,m\xc3\xbcnchen.example";
	runs[1].options.default_domain = "example.org";
	runs[1].options.premigration = true;
	runs[1].options.current_scheme = IMADDR_SCHEME_DIRECTORY_URI;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&threads[i], NULL, audit_on_a_thread, &runs[i]), 0);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_join(threads[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct capture *alone = capture_audit_csv(csv[i], &runs[i].options);
		cr_assert_eq(runs[i].capture->status, IMADDR_OK, "%s", runs[i].capture->err.message);
		cr_assert_eq(alone->status, IMADDR_OK, "%s", alone->err.message);
		cr_assert_eq(alone->user_count, i == 0 ? 30000 : 20000);
		cr_assert_gt(alone->finding_count, 1000);
		expect_same_capture(runs[i].capture, alone);
		capture_free(alone);
		capture_free(runs[i].capture);
		free(csv[i]);
	}
}

Test(audit, usage_errors)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_error err;
	imaddr_audit_options_init(&options);
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "--default-domain"), "%s", err.message);
	options.default_domain = "bad_domain.example";
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	options.default_domain = "example.com";
	options.im_domains = "example.com,-bad.example";
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "-bad.example"), "%s", err.message);
}

/*
 * A scheme is one of the enum's: any other value (a cast, a struct not set
 * up with imaddr_audit_options_init) would be written to the report as
 * "directory-uri" while the audit checked it as neither.
 */
Test(audit, a_scheme_outside_the_enum_is_refused)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = (struct imaddr_audit *)&options;
	struct imaddr_error err = { "" };
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	options.scheme = (enum imaddr_scheme)2;
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the scheme 2 is none of enum imaddr_scheme's");
	cr_expect_null(audit);
	options.scheme = (enum imaddr_scheme)-1;
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	/* Today's scheme counts in a pre-migration run only. */
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.current_scheme = (enum imaddr_scheme)7;
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	imaddr_audit_free(audit);
	options.premigration = true;
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "today's scheme 7 is none of enum imaddr_scheme's");
}

static const char shared_mailbox[] =
	"sAMAccountName,sn,mail\n"
	"helpdesk,Desk,help@example.com\n"
	"helpdesk2,Desk,Help@Example.com\n"
	"bad,Bad,not-an-address\n"
	"ann,Lee,ann@example.com\n";

/* A run of shared_mailbox under the Directory URI scheme with `waivers`. */
static struct capture *run_waived(const char *waivers)
{
	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "waivers.csv", waivers);
	struct imaddr_audit_options options;
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	options.waivers = path;
	struct capture *c = capture_audit_csv(shared_mailbox, &options);
	tempdir_remove(dir);
	free(path);
	free(dir);
	return c;
}

Test(audit, waived_findings_are_counted_apart_and_keep_their_reason)
{
	struct capture *c = run_waived("code,user_id,value,reason,expires\n"
				       "mail-duplicate,,help@example.com,shared mailbox,\n"
				       "uri-duplicate,,help@example.com,shared mailbox,2999-12-31\n"
				       "im-address-duplicate,helpdesk,,shared mailbox,\n"
				       "im-address-duplicate,helpdesk2,,shared mailbox,\n");
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	cr_expect_eq(c->totals.waived, 6);
	cr_expect_eq(c->totals.waived_by_code[IMADDR_CODE_MAIL_DUPLICATE], 2);
	cr_expect_eq(c->totals.waived_by_code[IMADDR_CODE_URI_DUPLICATE], 2);
	cr_expect_eq(c->totals.by_code[IMADDR_CODE_MAIL_DUPLICATE], 0);
	cr_expect_eq(c->totals.by_code[IMADDR_CODE_URI_INVALID], 1);
	/* Only the invalid URI is an error that counts. */
	cr_expect_eq(c->totals.by_severity[IMADDR_SEVERITY_ERROR], 1);
	cr_expect_eq(c->totals.users_with_error, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_MAIL_DUPLICATE);
	cr_assert_not_null(f);
	cr_expect_str_eq(f->waiver_reason, "shared mailbox");
	cr_expect_null(capture_first(c, IMADDR_CODE_URI_INVALID)->waiver_reason);
	expect_code(c, IMADDR_CODE_WAIVER_UNUSED, 0);
	expect_code(c, IMADDR_CODE_WAIVER_EXPIRED, 0);
	capture_free(c);
}

Test(audit, an_expired_or_unused_waiver_is_itself_a_finding)
{
	struct capture *c = run_waived("code,user_id,value,reason,expires\n"
				       "mail-duplicate,,help@example.com,shared mailbox,2000-01-01\n"
				       "uri-invalid,ann,,never wrong,\n");
	cr_assert_eq(c->status, IMADDR_OK, "%s", c->err.message);
	cr_expect_eq(c->totals.waived, 0);
	cr_expect_eq(c->totals.by_code[IMADDR_CODE_MAIL_DUPLICATE], 2);
	expect_code(c, IMADDR_CODE_WAIVER_EXPIRED, 1);
	expect_code(c, IMADDR_CODE_WAIVER_UNUSED, 1);
	const struct captured_finding *f = capture_first(c, IMADDR_CODE_WAIVER_EXPIRED);
	cr_expect_eq(f->ordinal, 0);
	cr_expect_eq(f->line, 2);
	cr_expect(strstr(f->message, "expired on 2000-01-01: the 2 findings it matches count "
				     "again"), "%s", f->message);
	cr_expect_eq(capture_first(c, IMADDR_CODE_WAIVER_UNUSED)->line, 3);
	capture_free(c);
}

Test(audit, a_malformed_waivers_file_stops_the_audit_before_it_starts)
{
	struct capture *c = run_waived("code,user_id,value,reason,expires\n"
				       "mail-duplicate,,help@example.com,,\n");
	cr_expect_eq(c->status, IMADDR_ERR_INPUT);
	cr_expect(strstr(c->err.message, "waivers.csv:2: reason is empty"), "%s", c->err.message);
	cr_expect_eq(c->user_count, 0);
	capture_free(c);
}

Test(audit, every_code_has_a_name_severity_and_summary)
{
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		enum imaddr_code parsed;
		cr_assert(imaddr_code_parse(imaddr_code_name(code), &parsed));
		cr_expect_eq((int)parsed, code);
		cr_expect(strlen(imaddr_code_summary(code)) > 10);
	}
}

Test(audit, every_code_is_explained_in_docs)
{
	FILE *file = fopen("docs/findings.md", "r");
	cr_assert_not_null(file, "run the tests from the project root");
	static char text[256 * 1024];
	size_t len = fread(text, 1, sizeof(text) - 1, file);
	text[len] = '\0';
	fclose(file);
	for (int code = 0; code < IMADDR_CODE_COUNT; code++) {
		char heading[64];
		snprintf(heading, sizeof(heading), "\n### %s\n", imaddr_code_name(code));
		cr_expect(strstr(text, heading), "docs/findings.md lacks %s", heading + 1);
	}
}

/*
 * An audit holds one run (its spool, indexes and outputs): a second run, or
 * one without an input, is refused, and nothing leaks (the ASan half of the
 * suite). A failed creation leaves *out NULL.
 */
Test(audit, runs_once_and_needs_an_input)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_error err = { "" };
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run_inputs(audit, NULL, 0, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "an audit needs an input");
	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "users.csv", "sAMAccountName\nab\n");
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "an audit runs once: make a new one for another run");
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	free(path);
	tempdir_remove(dir);
	free(dir);

	options.default_domain = NULL;
	audit = (struct imaddr_audit *)&err;
	cr_expect_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect_null(audit);
}

/*
 * A reader holds one read of its input: run again, in another audit or
 * twice in one, it is refused rather than read as an input of no one; a
 * NULL reader is refused too. The audit stays ready for a proper input.
 */
Test(audit, a_reader_runs_once_and_must_be_given)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *first = NULL, *second = NULL;
	struct imaddr_error err = { "" };
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "users.csv", "sAMAccountName\nab\n");
	struct imaddr_reader *reader, *again;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_new(&options, &first, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(first, reader, NULL, &err), IMADDR_OK, "%s", err.message);

	cr_assert_eq(imaddr_audit_new(&options, &second, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(second, reader, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the reader of input 1 has run: a reader runs once, "
				      "open the input again for another run");
	cr_expect_eq(imaddr_audit_run(second, NULL, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the reader of input 1 is NULL");
	cr_assert_eq(imaddr_csv_reader_open(path, &again, &err), IMADDR_OK, "%s", err.message);
	struct imaddr_input twice[] = { { again, "east" }, { again, "west" } };
	cr_expect_eq(imaddr_audit_run_inputs(second, twice, 2, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "inputs 1 and 2 have the same reader: a reader runs once");
	cr_expect_eq(imaddr_audit_run_inputs(second, NULL, 1, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "an audit needs an input");
	/* None of those used up the audit or the reader. */
	cr_expect_eq(imaddr_audit_run(second, again, NULL, &err), IMADDR_OK, "%s", err.message);
	imaddr_reader_free(again);
	imaddr_reader_free(reader);
	imaddr_audit_free(second);
	imaddr_audit_free(first);
	free(path);
	tempdir_remove(dir);
	free(dir);
}

/*
 * An audit takes an output over once: given again, to it or to another
 * audit, or given NULL (an open whose failure went unseen), it refuses, and
 * the run then fails saying why. Each output is freed once (the ASan half).
 */
Test(audit, an_output_is_handed_over_once)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL, *other = NULL;
	struct imaddr_sink *summary = NULL;
	struct imaddr_error err = { "" };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_new(&options, &other, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_sink_summary_open(out, &summary, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_add_sink(audit, summary), IMADDR_OK);
	cr_expect_eq(imaddr_audit_add_sink(audit, summary), IMADDR_ERR_USAGE);
	cr_expect_eq(imaddr_audit_add_sink(other, summary), IMADDR_ERR_USAGE);
	imaddr_audit_free(other);
	cr_expect_eq(imaddr_audit_add_sink(audit, NULL), IMADDR_ERR_USAGE);

	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "users.csv", "sAMAccountName\nab\n");
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "an output was given to an audit twice");
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	fclose(out);
	cr_expect_eq(len, 0);
	free(text);

	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_add_sink(audit, NULL), IMADDR_ERR_USAGE);
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(audit, reader, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "an output given to the audit was NULL");
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	free(path);
	tempdir_remove(dir);
	free(dir);
}

/*
 * A NULL where the API needs an object is a caller's mistake, said as a
 * usage error naming the function and the argument, not a crash; a NULL
 * `err` only goes without the message, here on a run that fails and on one
 * that succeeds.
 */
Test(audit, a_null_argument_is_a_usage_error)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = (struct imaddr_audit *)&options;
	struct imaddr_error err = { "" };
	imaddr_audit_options_init(NULL);
	imaddr_audit_options_init(&options);
	options.default_domain = "example.com";
	cr_expect_eq(imaddr_audit_new(NULL, &audit, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_audit_new: 'options' is NULL");
	cr_expect_null(audit);
	cr_expect_eq(imaddr_audit_new(&options, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_audit_new: 'out' is NULL");
	cr_expect_eq(imaddr_audit_new(NULL, NULL, NULL), IMADDR_ERR_USAGE);

	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "users.csv", "sAMAccountName\nab\n");
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_run(NULL, reader, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_audit_run: 'audit' is NULL");
	struct imaddr_input input = { reader, NULL };
	cr_expect_eq(imaddr_audit_run_inputs(NULL, &input, 1, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_audit_run_inputs: 'audit' is NULL");

	/* Refused, the output is still the caller's: freed here, once (ASan). */
	struct imaddr_sink *summary = NULL;
	FILE *out = fopen("/dev/null", "w");
	cr_assert_eq(imaddr_sink_summary_open(out, &summary, &err), IMADDR_OK, "%s", err.message);
	cr_expect_eq(imaddr_audit_add_sink(NULL, summary), IMADDR_ERR_USAGE);
	imaddr_sink_free(summary);

	/* Without `err`: the same statuses, and a run that works. */
	cr_expect_eq(imaddr_audit_run(NULL, reader, NULL, NULL), IMADDR_ERR_USAGE);
	cr_assert_eq(imaddr_audit_new(&options, &audit, NULL), IMADDR_OK);
	cr_assert_eq(imaddr_sink_summary_open(out, &summary, NULL), IMADDR_OK);
	cr_expect_eq(imaddr_audit_add_sink(audit, summary), IMADDR_OK);
	struct imaddr_run_totals totals;
	cr_expect_eq(imaddr_audit_run(audit, reader, &totals, NULL), IMADDR_OK);
	cr_expect_eq(totals.users, 1);
	cr_expect_eq(imaddr_audit_run(audit, reader, NULL, NULL), IMADDR_ERR_USAGE);
	imaddr_audit_free(audit);
	fclose(out);
	imaddr_reader_free(reader);
	free(path);
	tempdir_remove(dir);
	free(dir);
}

/* The caller gets what the outputs wrote, as the summary prints it. */
Test(audit, the_caller_is_told_what_the_outputs_wrote)
{
	struct imaddr_audit_options options;
	struct imaddr_audit *audit = NULL;
	struct imaddr_sink *bat = NULL;
	struct imaddr_run_totals totals;
	struct imaddr_error err = { "" };
	imaddr_audit_options_init(&options);
	options.scheme = IMADDR_SCHEME_DIRECTORY_URI;
	char *dir = tempdir_create();
	char *path = tempdir_write_str(dir, "users.csv",
				       "sAMAccountName,sn,mail\nab,A,ab@EXAMPLE.com\n");
	char *bat_path = tempdir_path(dir, "bat.csv");
	cr_assert_eq(imaddr_audit_new(&options, &audit, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_sink_bat_open(bat_path, 0, -1, &bat, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_audit_add_sink(audit, bat);
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_csv_reader_open(path, &reader, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(imaddr_audit_run(audit, reader, &totals, &err), IMADDR_OK, "%s",
		     err.message);
	cr_assert_not_null(totals.outputs);
	cr_expect(strstr(totals.outputs, "': 1 row;"), "%s", totals.outputs);
	imaddr_reader_free(reader);
	imaddr_audit_free(audit);
	free(bat_path);
	free(path);
	tempdir_remove(dir);
	free(dir);
}
