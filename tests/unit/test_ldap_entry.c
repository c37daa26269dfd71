/* The LDAP entry mapping (src/ldap_entry.h) that LDAP and LDIF share. */
#include <criterion/criterion.h>
#include <string.h>

#include "ldap_entry.h"
#include "reader.h"

static struct imaddr_ldap_attribute attribute(const char *name, const char *value,
					      size_t value_count)
{
	struct imaddr_ldap_attribute a = {
		.name = name, .name_len = strlen(name),
		.value = value, .value_len = value ? strlen(value) : 0,
		.value_count = value_count,
	};
	return a;
}

/* The attribute check that decides what the LDAP reader asks for. */
Test(ldap_entry, attribute_names)
{
	cr_assert(imaddr_ldap_entry_attribute_name_valid("sAMAccountName"));
	cr_assert(imaddr_ldap_entry_attribute_name_valid("msRTCSIP-PrimaryUserAddress"));
	cr_assert(imaddr_ldap_entry_attribute_name_valid("mail;lang-de"));
	cr_assert(imaddr_ldap_entry_attribute_name_valid("0.9.2342.19200300.100.1.3"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("USER ID"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("DIRECTORY URI"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("1mail"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("1..2"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("1.2."));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid("mail;"));
	cr_assert_not(imaddr_ldap_entry_attribute_name_valid(""));
}

Test(ldap_entry, finds_attributes_whatever_their_case)
{
	struct imaddr_ldap_attribute attributes[] = {
		attribute("sAMAccountName", "jsmith", 1),
		attribute("mail", "john@example.com", 1),
	};
	cr_assert_eq(imaddr_ldap_entry_find(attributes, 2, "MAIL", 4), &attributes[1]);
	/* The name is given by length: an LDIF type is not NUL-terminated. */
	cr_assert_eq(imaddr_ldap_entry_find(attributes, 2, "samaccountname: x", 14),
		     &attributes[0]);
	cr_assert_null(imaddr_ldap_entry_find(attributes, 2, "mai", 3));
	cr_assert_null(imaddr_ldap_entry_find(attributes, 0, "mail", 4));
}

Test(ldap_entry, fallback_is_the_first_name_that_can_be_an_attribute)
{
	struct imaddr_mapping mapping;
	imaddr_mapping_init(&mapping);
	cr_assert_str_eq(imaddr_ldap_entry_fallback_name(&mapping, IMADDR_ROLE_DIRECTORY_URI),
			 "mail");
	cr_assert_str_eq(imaddr_ldap_entry_fallback_name(&mapping, IMADDR_ROLE_USER_ID),
			 "sAMAccountName");
	cr_assert_null(imaddr_ldap_entry_fallback_name(&mapping, IMADDR_ROLE_CURRENT_URI));
}

Test(ldap_entry, fills_a_record_from_the_mapping)
{
	struct imaddr_mapping mapping;
	struct imaddr_record record;
	struct imaddr_ldap_attribute attributes[] = {
		attribute("SAMACCOUNTNAME", "jsmith", 1),
		attribute("mail", "john@example.com", 2),
		attribute("sn", NULL, 0),
	};
	imaddr_mapping_init(&mapping);
	imaddr_record_reset(&record, 7);
	imaddr_ldap_entry_fill(&record, &mapping, attributes, 3);

	const struct imaddr_value *user_id = &record.values[IMADDR_ROLE_USER_ID];
	cr_assert_eq(user_id->data, attributes[0].value);
	cr_assert_eq(user_id->len, 6);
	cr_assert(user_id->present);
	cr_assert_str_eq(user_id->attribute, "sAMAccountName");
	/* mail feeds the directory URI and mail: one value-multiple problem. */
	cr_assert_eq(record.values[IMADDR_ROLE_DIRECTORY_URI].data, attributes[1].value);
	cr_assert_eq(record.problem_count, 1);
	cr_assert_eq(record.problems[0].code, IMADDR_CODE_VALUE_MULTIPLE);
	cr_assert_str_eq(record.problems[0].message,
			 "'mail' has 2 values: only the first, 'john@example.com', is used");
	/* An attribute without values is named, not present. */
	cr_assert_not(record.values[IMADDR_ROLE_LAST_NAME].present);
	cr_assert_str_eq(record.values[IMADDR_ROLE_LAST_NAME].attribute, "sn");
	/* A missing role names its first LDAP name, or none. */
	cr_assert_null(record.values[IMADDR_ROLE_FIRST_NAME].data);
	cr_assert_str_eq(record.values[IMADDR_ROLE_FIRST_NAME].attribute, "givenName");
	cr_assert_null(record.values[IMADDR_ROLE_CURRENT_URI].attribute);
	cr_assert_eq(record.line, 7);
}

/*
 * The value used is quoted, cut at a character past 80 bytes; bytes that
 * are not UTF-8 (an LDIF's base64 can hold any) are not.
 */
Test(ldap_entry, a_second_value_names_the_first_when_it_is_text)
{
	struct imaddr_mapping mapping;
	struct imaddr_record record;
	char long_mail[128];
	/* 79 ASCII bytes, then 'ü' (2 bytes) across the 80-byte cut. */
	memset(long_mail, 'a', 79);
	strcpy(long_mail + 79, "\xc3\xbc@example.com");
	struct imaddr_ldap_attribute attributes[] = {
		attribute("sAMAccountName", "jsmith", 1),
		attribute("mail", long_mail, 2),
		attribute("givenName", "J\xffrgen", 2),
	};
	imaddr_mapping_init(&mapping);
	imaddr_record_reset(&record, 1);
	imaddr_ldap_entry_fill(&record, &mapping, attributes, 3);
	cr_assert_eq(record.problem_count, 2);
	char expected[200];
	snprintf(expected, sizeof(expected), "'mail' has 2 values: only the first, '%.79s...', "
		 "is used", long_mail);
	cr_expect_str_eq(record.problems[0].message, expected);
	cr_expect_str_eq(record.problems[1].message,
			 "'givenName' has 2 values: only the first is used");
}
