#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader_ldif.h"
#include "reader.h"

/* What the reader handed over, copied out of its callbacks. */
struct got_value {
	char *data;            /* NUL-terminated copy, NULL when absent */
	size_t len;
	const char *attribute;
	bool present;
};

struct got_record {
	uint64_t line;
	char *dn;
	struct got_value values[IMADDR_ROLE_COUNT];
	size_t problem_count;
	struct imaddr_record_problem problems[IMADDR_RECORD_MAX_PROBLEMS];
};

struct got_notice {
	enum imaddr_code code;
	uint64_t line;
	char *dn;
	char *message;
};

#define GOT_MAX 32

struct got {
	struct got_record records[GOT_MAX];
	size_t record_count;
	struct got_notice notices[GOT_MAX];
	size_t notice_count;
	size_t fail_at;        /* > 0: the record callback fails on that record */
};

static struct got got;
static struct imaddr_mapping mapping;
static char path[64];

static enum imaddr_status on_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	struct got *into = context;
	cr_assert_lt(into->record_count, GOT_MAX);
	struct got_record *copy = &into->records[into->record_count++];
	if (into->fail_at == into->record_count) {
		snprintf(err->message, sizeof(err->message), "stop here");
		return IMADDR_ERR_INTERRUPTED;
	}
	copy->line = record->line;
	copy->dn = record->dn ? strdup(record->dn) : NULL;
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		const struct imaddr_value *value = &record->values[role];
		struct got_value *to = &copy->values[role];
		to->attribute = value->attribute;
		to->present = value->present;
		to->len = value->len;
		if (value->data) {
			to->data = malloc(value->len + 1);
			memcpy(to->data, value->data, value->len);
			to->data[value->len] = '\0';
		}
	}
	copy->problem_count = record->problem_count;
	memcpy(copy->problems, record->problems, sizeof(copy->problems));
	return IMADDR_OK;
}

static enum imaddr_status on_notice(void *context, enum imaddr_code code, uint64_t line,
				    const char *dn, const char *field, const char *value,
				    const char *message, struct imaddr_error *err)
{
	struct got *into = context;
	cr_assert_lt(into->notice_count, GOT_MAX);
	struct got_notice *notice = &into->notices[into->notice_count++];
	notice->code = code;
	notice->line = line;
	notice->dn = dn ? strdup(dn) : NULL;
	notice->message = strdup(message);
	return IMADDR_OK;
}

/* Frees what the callbacks copied, and forgets it. */
static void release_got(void)
{
	for (size_t i = 0; i < got.record_count; i++) {
		free(got.records[i].dn);
		for (int role = 0; role < IMADDR_ROLE_COUNT; role++)
			free(got.records[i].values[role].data);
	}
	for (size_t i = 0; i < got.notice_count; i++) {
		free(got.notices[i].dn);
		free(got.notices[i].message);
	}
	memset(&got, 0, sizeof(got));
	if (path[0])
		unlink(path);
	path[0] = '\0';
}

static void setup(void)
{
	memset(&got, 0, sizeof(got));
	imaddr_mapping_init(&mapping);
	path[0] = '\0';
}

static void teardown(void)
{
	release_got();
}

TestSuite(reader_ldif, .init = setup, .fini = teardown);

static void write_file(const char *text, size_t len)
{
	snprintf(path, sizeof(path), "/tmp/imaddr-test-ldif.XXXXXX");
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Reads `text` as an LDIF file; returns the run's status. */
static enum imaddr_status read_ldif_bytes(const char *text, size_t len, struct imaddr_error *err)
{
	write_file(text, len);
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_ldif_reader_open(path, &reader, err), IMADDR_OK, "%s", err->message);
	struct imaddr_reader_request request = {
		.mapping = &mapping,
		.required_roles = 1u << IMADDR_ROLE_USER_ID,
		.record = on_record,
		.notice = on_notice,
		.context = &got,
	};
	enum imaddr_status status = imaddr_reader_run(reader, &request, err);
	imaddr_reader_free(reader);
	return status;
}

/* Reads a file of the tree (a regression input) as it stands. */
static enum imaddr_status read_ldif_file(const char *file, struct imaddr_error *err)
{
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_ldif_reader_open(file, &reader, err), IMADDR_OK, "%s", err->message);
	struct imaddr_reader_request request = {
		.mapping = &mapping,
		.required_roles = 1u << IMADDR_ROLE_USER_ID,
		.record = on_record,
		.notice = on_notice,
		.context = &got,
	};
	enum imaddr_status status = imaddr_reader_run(reader, &request, err);
	imaddr_reader_free(reader);
	return status;
}

static void read_ldif(const char *text)
{
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_ldif_bytes(text, strlen(text), &err);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
}

static const char *value_of(size_t record, enum imaddr_role role)
{
	cr_assert_lt(record, got.record_count);
	return got.records[record].values[role].data;
}

Test(reader_ldif, reads_plain_entries_with_their_dn_and_line)
{
	read_ldif("dn: cn=John Smith,ou=people,dc=example,dc=com\n"
		  "sAMAccountName: jsmith\n"
		  "mail: john.smith@example.com\n"
		  "givenName: John\n"
		  "sn: Smith\n"
		  "\n"
		  "dn: cn=Jane Doe,ou=people,dc=example,dc=com\n"
		  "sAMAccountName: jdoe\n"
		  "sn: Doe\n");
	cr_assert_eq(got.record_count, 2);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_str_eq(got.records[0].dn, "cn=John Smith,ou=people,dc=example,dc=com");
	cr_assert_eq(got.records[0].line, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "jsmith");
	cr_assert_str_eq(got.records[0].values[IMADDR_ROLE_USER_ID].attribute, "sAMAccountName");
	/* The default mapping reads the directory URI from mail when there is
	 * no "DIRECTORY URI" attribute. */
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_DIRECTORY_URI), "john.smith@example.com");
	cr_assert_str_eq(got.records[0].values[IMADDR_ROLE_DIRECTORY_URI].attribute, "mail");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_FIRST_NAME), "John");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_LAST_NAME), "Smith");
	cr_assert_eq(got.records[1].line, 7);
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "jdoe");
}

Test(reader_ldif, joins_folded_lines)
{
	read_ldif("dn: cn=A Rather Long Name,ou=a very long organizational unit name,dc=exa\n"
		  " mple,dc=com\n"
		  "sAMAccountName: along\n"
		  "mail: a.rather.long.local.part.that.goes.on.and.on.for.quite.a.while@exa\n"
		  " mple.com\n"
		  "sn: Long\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(got.records[0].dn,
			 "cn=A Rather Long Name,ou=a very long organizational unit name,"
			 "dc=example,dc=com");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_MAIL),
			 "a.rather.long.local.part.that.goes.on.and.on.for.quite.a.while@example.com");
}

Test(reader_ldif, decodes_base64_values_and_dn)
{
	/* "cn=Maria Müller,dc=example,dc=com", "Müller", "maria@münchen.example" */
	read_ldif("dn:: Y249TWFyaWEgTcO8bGxlcixkYz1leGFtcGxlLGRjPWNvbQ==\n"
		  "sAMAccountName: mmueller\n"
		  "sn:: TcO8bGxlcg==\n"
		  "mail:: bWFyaWFAbcO8bmNoZW4uZXhhbXBsZQ==\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(got.records[0].dn, "cn=Maria M\xC3\xBCller,dc=example,dc=com");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_LAST_NAME), "M\xC3\xBCller");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_MAIL), "maria@m\xC3\xBCnchen.example");
}

Test(reader_ldif, passes_raw_bytes_through)
{
	/* base64 of "bad\xff\x00x": invalid UTF-8 and a NUL are the audit's to judge. */
	read_ldif("dn: cn=raw,dc=example,dc=com\n"
		  "sAMAccountName:: YmFk/wB4\n");
	cr_assert_eq(got.record_count, 1);
	const struct got_value *value = &got.records[0].values[IMADDR_ROLE_USER_ID];
	cr_assert_eq(value->len, 6);
	cr_assert(value->present);
	cr_assert_eq(memcmp(value->data, "bad\xff\0x", 6), 0);
}

Test(reader_ldif, skips_comments)
{
	read_ldif("# an export\n"
		  "# with a folded\n"
		  "  comment\n"
		  "\n"
		  "# John\n"
		  "dn: cn=John,dc=example,dc=com\n"
		  "# a comment inside the record\n"
		  "sAMAccountName: john\n"
		  "\n"
		  "# trailing comment\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.records[0].line, 6);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "john");
}

Test(reader_ldif, accepts_version_1_on_its_own_and_before_the_first_dn)
{
	read_ldif("version: 1\n"
		  "\n"
		  "dn: cn=a,dc=example,dc=com\n"
		  "sAMAccountName: a\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.records[0].line, 3);

	release_got();
	read_ldif("version: 1\n"
		  "dn: cn=b,dc=example,dc=com\n"
		  "sAMAccountName: b\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.records[0].line, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "b");
}

Test(reader_ldif, reports_multiple_values_and_uses_the_first)
{
	read_ldif("dn: cn=Two Mails,dc=example,dc=com\n"
		  "sAMAccountName: two\n"
		  "mail: first@example.com\n"
		  "sn: Mails\n"
		  "mail: second@example.com\n"
		  "mail: third@example.com\n");
	cr_assert_eq(got.record_count, 1);
	const struct got_record *record = &got.records[0];
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_MAIL), "first@example.com");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_DIRECTORY_URI), "first@example.com");
	/* mail feeds two roles but is one attribute: one problem. */
	cr_assert_eq(record->problem_count, 1);
	cr_assert_eq(record->problems[0].code, IMADDR_CODE_VALUE_MULTIPLE);
	cr_assert_str_eq(record->problems[0].field, "mail");
	/* The problem's field is the value's attribute, pointer and all. */
	cr_assert_eq(record->problems[0].field, record->values[IMADDR_ROLE_MAIL].attribute);
	cr_assert_str_eq(record->problems[0].message,
			 "'mail' has 3 values: only the first, 'first@example.com', is used");
}

Test(reader_ldif, counts_line_numbers_across_folds_comments_and_blank_lines)
{
	read_ldif("version: 1\n"                       /* 1 */
		  "\n"                                 /* 2 */
		  "\n"                                 /* 3 */
		  "# first\n"                          /* 4 */
		  "dn: cn=first,dc=example,dc=com\n"   /* 5 */
		  "description: folded\n"              /* 6 */
		  "  over\n"                           /* 7 */
		  "  three lines\n"                    /* 8 */
		  "sAMAccountName: first\n"            /* 9 */
		  "\n"                                 /* 10 */
		  "\n"                                 /* 11 */
		  "dn: cn=second,dc=example,dc=com\n"  /* 12 */
		  "sAMAccountName: second\n"           /* 13 */
		  "\n"                                 /* 14 */
		  "dn: cn=third,dc=example,dc=com\n"   /* 15 */
		  "sAMAccountName: third");            /* 16, no newline at the end */
	cr_assert_eq(got.record_count, 3);
	cr_assert_eq(got.records[0].line, 5);
	cr_assert_eq(got.records[1].line, 12);
	cr_assert_eq(got.records[2].line, 15);
	cr_assert_str_eq(value_of(2, IMADDR_ROLE_USER_ID), "third");
}

Test(reader_ldif, reads_crlf_line_ends)
{
	read_ldif("dn: cn=a,dc=example,dc=com\r\n"
		  "sAMAccountName: a\r\n"
		  "\r\n"
		  "dn: cn=b,dc=example,dc=com\r\n"
		  "sAMAccountName: b\r\n");
	cr_assert_eq(got.record_count, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "a");
	cr_assert_eq(got.records[1].line, 4);
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "b");
}

Test(reader_ldif, skips_a_malformed_record_with_a_notice)
{
	read_ldif("dn: cn=good,dc=example,dc=com\n"
		  "sAMAccountName: good\n"
		  "\n"
		  "dn: cn=bad,dc=example,dc=com\n"
		  "sAMAccountName: bad\n"
		  "this line has no colon\n"
		  "\n"
		  "dn: cn=after,dc=example,dc=com\n"
		  "sAMAccountName: after\n");
	cr_assert_eq(got.record_count, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "good");
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "after");
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(got.notices[0].line, 4);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: line 6 is not 'attribute: value'");
	/* Its DN came before the bad line: the finding names it. */
	cr_assert_str_eq(got.notices[0].dn, "cn=bad,dc=example,dc=com");
}

Test(reader_ldif, skips_bad_base64_with_a_notice)
{
	read_ldif("dn: cn=bad,dc=example,dc=com\n"
		  "sAMAccountName:: %%%%\n"
		  "\n"
		  "dn: cn=after,dc=example,dc=com\n"
		  "sAMAccountName: after\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: line 2: the value of 'sAMAccountName' is not valid base64");
}

Test(reader_ldif, skips_a_record_without_dn_with_a_notice)
{
	read_ldif("sAMAccountName: nodn\n"
		  "mail: nodn@example.com\n"
		  "\n"
		  "dn: cn=after,dc=example,dc=com\n"
		  "sAMAccountName: after\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message, "record skipped: it has no 'dn:' line");
}

Test(reader_ldif, skips_two_entries_run_together)
{
	read_ldif("dn: cn=a,dc=example,dc=com\n"
		  "sAMAccountName: a\n"
		  "dn: cn=b,dc=example,dc=com\n"
		  "sAMAccountName: b\n"
		  "\n"
		  "mail: early@example.com\n"
		  "dn: cn=c,dc=example,dc=com\n"
		  "sAMAccountName: c\n");
	cr_assert_eq(got.record_count, 0);
	cr_assert_eq(got.notice_count, 2);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: a second 'dn:' line at line 3: no blank line between "
			 "two entries?");
	cr_assert_eq(got.notices[1].line, 7);
	cr_assert_str_eq(got.notices[1].message,
			 "record skipped: line 6 comes before its 'dn:' line");
}

Test(reader_ldif, skips_change_records_but_reads_changetype_add)
{
	read_ldif("dn: cn=added,dc=example,dc=com\n"
		  "changetype: add\n"
		  "sAMAccountName: added\n"
		  "\n"
		  "dn: cn=modified,dc=example,dc=com\n"
		  "changetype: modify\n"
		  "replace: mail\n"
		  "mail: new@example.com\n"
		  "-\n"
		  "\n"
		  "dn: cn=deleted,dc=example,dc=com\n"
		  "changetype: delete\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "added");
	cr_assert_eq(got.notice_count, 2);
	cr_assert_eq(got.notices[0].line, 5);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: a change record (changetype: modify), not an entry");
	cr_assert_eq(got.notices[1].line, 11);
}

Test(reader_ldif, does_not_fetch_url_values)
{
	read_ldif("dn: cn=url,dc=example,dc=com\n"
		  "sAMAccountName: url\n"
		  "mail:< file:///etc/hostname\n");
	cr_assert_eq(got.record_count, 0);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert(strstr(got.notices[0].message, "line 3 gives a value by URL"), "%s",
		  got.notices[0].message);
}

Test(reader_ldif, names_a_missing_role_after_its_first_ldap_attribute)
{
	read_ldif("dn: cn=Prince,dc=example,dc=com\n"
		  "SAMACCOUNTNAME: prince\n"
		  "sn:\n");
	cr_assert_eq(got.record_count, 1);
	const struct got_record *record = &got.records[0];
	/* Attribute names match whatever their case. */
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "prince");
	cr_assert_str_eq(record->values[IMADDR_ROLE_USER_ID].attribute, "sAMAccountName");
	/* An empty value is an absent one, but the attribute is named. */
	cr_assert_not(record->values[IMADDR_ROLE_LAST_NAME].present);
	cr_assert_str_eq(record->values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
	/* No first name: the role's first name stands in, so the audit can say
	 * which attribute is missing. */
	cr_assert_null(record->values[IMADDR_ROLE_FIRST_NAME].data);
	cr_assert_str_eq(record->values[IMADDR_ROLE_FIRST_NAME].attribute, "givenName");
	/* No directory URI: "DIRECTORY URI" cannot be an LDAP attribute, mail can. */
	cr_assert_str_eq(record->values[IMADDR_ROLE_DIRECTORY_URI].attribute, "mail");
	/* The current URI has no LDAP attribute at all. */
	cr_assert_null(record->values[IMADDR_ROLE_CURRENT_URI].attribute);
}

Test(reader_ldif, follows_the_mapping)
{
	imaddr_mapping_set(&mapping, IMADDR_ROLE_DIRECTORY_URI, "msRTCSIP-PrimaryUserAddress");
	read_ldif("dn: cn=a,dc=example,dc=com\n"
		  "sAMAccountName: a\n"
		  "mail: a@example.com\n"
		  "msRTCSIP-PrimaryUserAddress: sip:a.sip@example.com\n");
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_DIRECTORY_URI), "sip:a.sip@example.com");
	cr_assert_str_eq(got.records[0].values[IMADDR_ROLE_DIRECTORY_URI].attribute,
			 "msRTCSIP-PrimaryUserAddress");
}

Test(reader_ldif, ignores_ldapsearch_trailer_but_reports_a_failed_search)
{
	read_ldif("dn: cn=a,dc=example,dc=com\n"
		  "sAMAccountName: a\n"
		  "\n"
		  "# search result\n"
		  "search: 2\n"
		  "result: 0 Success\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 0);

	release_got();
	read_ldif("dn: cn=a,dc=example,dc=com\n"
		  "sAMAccountName: a\n"
		  "\n"
		  "search: 2\n"
		  "result: 4 Size limit exceeded\n");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].line, 4);
	cr_assert(strstr(got.notices[0].message, "the export is incomplete"));
}

/* Issue 14: a leading digit line (an old entry number) with nothing after it. */
Test(reader_ldif, an_entry_number_alone_is_an_empty_record)
{
	struct imaddr_error err = { "" };
	cr_assert_eq(read_ldif_file("tests/fuzz/regress/ldif-all-digit-line.ldif", &err),
		     IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.record_count, 0);
	cr_assert_eq(got.notice_count, 0);
}

Test(reader_ldif, skips_entry_numbers_and_reads_each_record_once)
{
	read_ldif("dn: cn=a,dc=example,dc=com\n"    /* 1 */
		  "sAMAccountName: a\n"              /* 2 */
		  "\n"                               /* 3 */
		  "512\n"                            /* 4: a number and no record */
		  "\n"                               /* 5 */
		  "513\n"                            /* 6 */
		  "dn: cn=b,dc=example,dc=com\n"     /* 7 */
		  "sAMAccountName: b\n");            /* 8 */
	cr_assert_eq(got.record_count, 2);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.records[0].line, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "a");
	cr_assert_eq(got.records[1].line, 7);
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "b");
}

/* Issue 14: libldap read the file an "include:" line names, as root. */
Test(reader_ldif, never_follows_include_lines, .timeout = 20)
{
	read_ldif("include: file:///dev/zero\n"                   /* 1 */
		  "\n"                                            /* 2 */
		  "dn: cn=a,dc=example,dc=com\n"                  /* 3 */
		  "sAMAccountName: a\n"                           /* 4 */
		  "\n"                                            /* 5 */
		  "# the include starts the record: a directive\n" /* 6 */
		  "INCLUDE:file:///etc/passwd\n"                  /* 7 */
		  "dn: cn=b,dc=example,dc=com\n"                  /* 8 */
		  "sAMAccountName: b\n");                         /* 9 */
	cr_assert_eq(got.notice_count, 2);
	cr_assert_eq(got.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "'include:' skipped: imaddr does not read the file it names "
			 "('file:///dev/zero')");
	cr_assert_eq(got.notices[1].line, 7);
	cr_assert_str_eq(got.notices[1].message,
			 "'include:' skipped: imaddr does not read the file it names "
			 "('file:///etc/passwd')");
	/* The users after them are read, with their lines. */
	cr_assert_eq(got.record_count, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "a");
	cr_assert_eq(got.records[0].line, 3);
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "b");
	cr_assert_eq(got.records[1].line, 8);
}

Test(reader_ldif, include_of_etc_passwd_is_a_finding, .timeout = 20)
{
	read_ldif("dn: cn=before,dc=example,dc=com\n"
		  "sAMAccountName: before\n"
		  "\n"
		  "include: file:///etc/passwd\n"
		  "\n"
		  "dn: cn=after,dc=example,dc=com\n"
		  "sAMAccountName: after\n");
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(got.notices[0].line, 4);
	cr_assert(strstr(got.notices[0].message, "'include:' skipped"), "%s",
		  got.notices[0].message);
	/* Nothing of /etc/passwd became a record. */
	cr_assert_eq(got.record_count, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "before");
	cr_assert_str_eq(value_of(1, IMADDR_ROLE_USER_ID), "after");
	cr_assert_eq(got.records[1].line, 6);
}

/* Text of `size` bytes of `c` followed by `tail`, in memory the caller frees. */
static char *long_text(const char *head, char c, size_t size, const char *tail, size_t *len)
{
	size_t head_len = strlen(head), tail_len = strlen(tail);
	*len = head_len + size + tail_len;
	char *text = malloc(*len + 1);
	cr_assert_not_null(text);
	memcpy(text, head, head_len);
	memset(text + head_len, c, size);
	memcpy(text + head_len + size, tail, tail_len + 1);
	return text;
}

Test(reader_ldif, skips_a_record_with_a_line_over_the_cap)
{
	size_t len;
	char *text = long_text("dn: cn=long,dc=example,dc=com\n"   /* 1 */
			       "sAMAccountName: long\n"            /* 2 */
			       "description: ",                    /* 3 */
			       'x', 2 * 1024 * 1024,
			       "\n"
			       "sn: Long\n"                        /* 4 */
			       "\n"                                /* 5 */
			       "dn: cn=next,dc=example,dc=com\n"   /* 6 */
			       "sAMAccountName: next\n", &len);
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_ldif_bytes(text, len, &err);
	free(text);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].code, IMADDR_CODE_RECORD_MALFORMED);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: line 3 is longer than 1048576 bytes");
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "next");
	cr_assert_eq(got.records[0].line, 6);
}

Test(reader_ldif, a_line_at_the_cap_is_read)
{
	size_t len;
	/* "description: " and the value make a line of exactly the cap. */
	char *text = long_text("dn: cn=cap,dc=example,dc=com\n"
			       "sAMAccountName: cap\n"
			       "description: ",
			       'x', IMADDR_LDIF_LINE_MAX - strlen("description: "),
			       "\r\n"
			       "sn: Cap\n", &len);
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_ldif_bytes(text, len, &err);
	free(text);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_LAST_NAME), "Cap");

	/* One byte more is too long. */
	release_got();
	text = long_text("dn: cn=cap,dc=example,dc=com\n"
			 "description: ",
			 'x', IMADDR_LDIF_LINE_MAX + 1 - strlen("description: "),
			 "\n", &len);
	status = read_ldif_bytes(text, len, &err);
	free(text);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.record_count, 0);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: line 2 is longer than 1048576 bytes");
}

Test(reader_ldif, skips_a_record_over_the_cap_without_blank_lines)
{
	/* Folded lines: each one is short, the record is not. */
	size_t fold = 1000, lines = IMADDR_LDIF_RECORD_MAX / fold + 1;
	const char *head = "dn: cn=big,dc=example,dc=com\n"
			   "sAMAccountName: big\n"
			   "description: x\n";
	const char *tail = "\n"
			   "dn: cn=next,dc=example,dc=com\n"
			   "sAMAccountName: next\n";
	size_t len = strlen(head) + lines * fold + strlen(tail);
	char *text = malloc(len + 1), *p = text;
	cr_assert_not_null(text);
	p += sprintf(p, "%s", head);
	for (size_t i = 0; i < lines; i++, p += fold) {
		memset(p, 'x', fold - 1);
		p[0] = ' ';
		p[fold - 1] = '\n';
	}
	sprintf(p, "%s", tail);
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_ldif_bytes(text, len, &err);
	free(text);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert(strstr(got.notices[0].message,
			 "record skipped: it is longer than 16777216 bytes by line "),
		  "%s", got.notices[0].message);
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "next");
	cr_assert_eq(got.records[0].line, 3 + lines + 2);
}

Test(reader_ldif, a_long_comment_is_only_a_comment)
{
	size_t len;
	char *text = long_text("# ", '#', 2 * 1024 * 1024,
			       "\n"
			       "dn: cn=a,dc=example,dc=com\n"    /* 2 */
			       "# ", &len);
	char *more;
	size_t more_len;
	more = long_text(text, 'c', 2 * 1024 * 1024,
			 "\n"
			 "sAMAccountName: a\n", &more_len);  /* 4 */
	free(text);
	struct imaddr_error err = { "" };
	enum imaddr_status status = read_ldif_bytes(more, more_len, &err);
	free(more);
	cr_assert_eq(status, IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.notice_count, 0);
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.records[0].line, 2);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "a");
}

Test(reader_ldif, skips_a_record_with_a_raw_nul_byte)
{
	const char text[] = "dn: cn=nul,dc=example,dc=com\n"
			    "sAMAccountName: n\0l\n"
			    "\n"
			    "dn: cn=after,dc=example,dc=com\n"
			    "sAMAccountName: after\n";
	struct imaddr_error err = { "" };
	cr_assert_eq(read_ldif_bytes(text, sizeof(text) - 1, &err), IMADDR_OK, "%s", err.message);
	cr_assert_eq(got.notice_count, 1);
	cr_assert_eq(got.notices[0].line, 1);
	cr_assert_str_eq(got.notices[0].message,
			 "record skipped: line 2 holds a NUL byte, which only a base64 value "
			 "('attribute:: ...') can");
	cr_assert_eq(got.record_count, 1);
	cr_assert_eq(got.records[0].line, 4);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "after");
}

Test(reader_ldif, empty_file_has_no_records)
{
	read_ldif("");
	cr_assert_eq(got.record_count, 0);
	cr_assert_eq(got.notice_count, 0);
}

Test(reader_ldif, stops_when_the_record_callback_fails)
{
	struct imaddr_error err = { "" };
	const char *text = "dn: cn=a,dc=example,dc=com\nsAMAccountName: a\n\n"
			   "dn: cn=b,dc=example,dc=com\nsAMAccountName: b\n\n"
			   "dn: cn=c,dc=example,dc=com\nsAMAccountName: c\n";
	got.fail_at = 2;
	cr_assert_eq(read_ldif_bytes(text, strlen(text), &err), IMADDR_ERR_INTERRUPTED);
	cr_assert_str_eq(err.message, "stop here");
	cr_assert_eq(got.record_count, 2);
}

Test(reader_ldif, reads_standard_input)
{
	const char *text = "dn: cn=in,dc=example,dc=com\nsAMAccountName: in\n";
	struct imaddr_error err = { "" };
	write_file(text, strlen(text));
	cr_assert_not_null(freopen(path, "r", stdin));
	struct imaddr_reader *reader;
	cr_assert_eq(imaddr_ldif_reader_open("-", &reader, &err), IMADDR_OK, "%s", err.message);
	struct imaddr_reader_request request = {
		.mapping = &mapping, .record = on_record, .notice = on_notice, .context = &got,
	};
	cr_assert_eq(imaddr_reader_run(reader, &request, &err), IMADDR_OK, "%s", err.message);
	imaddr_reader_free(reader);
	cr_assert_eq(got.record_count, 1);
	cr_assert_str_eq(value_of(0, IMADDR_ROLE_USER_ID), "in");
}

Test(reader_ldif, cannot_open_a_missing_file)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	cr_assert_eq(imaddr_ldif_reader_open("/nonexistent/users.ldif", &reader, &err),
		     IMADDR_ERR_INPUT);
	cr_assert_null(reader);
	cr_assert_str_eq(err.message,
			 "cannot open '/nonexistent/users.ldif': No such file or directory");
}

/* An input error at once, not a read error after the outputs began. */
Test(reader_ldif, a_directory_is_refused_at_open)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	cr_assert_eq(imaddr_ldif_reader_open("/", &reader, &err), IMADDR_ERR_INPUT);
	cr_assert_null(reader);
	cr_assert_str_eq(err.message, "cannot read '/': it is a directory");
}

/* A caller's mistake, refused as one: no file is looked for, nothing crashes. */
Test(reader_ldif, a_null_path_or_out_is_a_usage_error)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	struct imaddr_file_options options;
	imaddr_file_options_init(NULL);
	imaddr_file_options_init(&options);
	cr_expect_eq(imaddr_ldif_reader_open(NULL, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "imaddr_ldif_reader_open: 'path' is NULL");
	cr_expect_eq(imaddr_ldif_reader_open("-", NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_ldif_reader_open: 'out' is NULL");
	reader = (struct imaddr_reader *)&err;
	cr_expect_eq(imaddr_ldif_reader_open_with(NULL, &options, &reader, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "imaddr_ldif_reader_open_with: 'path' is NULL");
	cr_expect_eq(imaddr_ldif_reader_open_with("-", &options, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_ldif_reader_open_with: 'out' is NULL");
	cr_expect_eq(imaddr_ldif_reader_open_with(NULL, NULL, NULL, NULL), IMADDR_ERR_USAGE);
}

/* As the LDAP reader: any other value (a cast, options never initialised) says which. */
Test(reader_ldif, a_directory_type_outside_its_enum_is_refused)
{
	struct imaddr_error err = { "" };
	struct imaddr_reader *reader = (struct imaddr_reader *)&err;
	struct imaddr_file_options options;
	imaddr_file_options_init(&options);
	options.directory_type = (enum imaddr_directory_type)3;
	cr_expect_eq(imaddr_ldif_reader_open_with("-", &options, &reader, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message,
			 "the directory type 3 is none of enum imaddr_directory_type's");
	options.directory_type = (enum imaddr_directory_type)-1;
	options.directory_type_given = true;
	cr_expect_eq(imaddr_ldif_reader_open_with("-", &options, &reader, &err),
		     IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message,
			 "the directory type -1 is none of enum imaddr_directory_type's");
}
