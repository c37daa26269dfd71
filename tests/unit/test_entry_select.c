/* Which entries are users (src/entry_select.h), as the LDIF and CSV readers ask. */
#include <criterion/criterion.h>
#include <string.h>

#include "entry_select.h"

#define VALUE(type, value) { { sizeof(type) - 1, (char *)(type) }, \
			     { sizeof(value) - 1, (char *)(value) } }

static const struct imaddr_ldif_value group[] = {
	VALUE("objectClass", "top"), VALUE("objectClass", "group"),
	VALUE("sAMAccountName", "Sales"),
};
static const struct imaddr_ldif_value user[] = {
	VALUE("objectClass", "top"), VALUE("objectClass", "person"),
	VALUE("objectClass", "organizationalPerson"), VALUE("objectClass", "user"),
	VALUE("sAMAccountName", "js"), VALUE("userAccountControl", "512"),
};
static const struct imaddr_ldif_value disabled[] = {
	VALUE("objectClass", "user"), VALUE("sAMAccountName", "dguy"),
	VALUE("userAccountControl", "514"),
};
static const struct imaddr_ldif_value computer[] = {
	VALUE("objectClass", "user"), VALUE("objectClass", "computer"),
	VALUE("sAMAccountName", "PC1$"),
};
static const struct imaddr_ldif_value classless[] = {
	VALUE("sAMAccountName", "ab"),
};

static bool take(struct imaddr_entry_select *select, const struct imaddr_ldif_value *values,
		 size_t count)
{
	struct imaddr_error err = { "" };
	bool selected;
	cr_assert_eq(imaddr_entry_select_entry(select, values, count, &selected, &err), IMADDR_OK,
		     "%s", err.message);
	return selected;
}

#define TAKE(select, values) take(select, values, sizeof(values) / sizeof(*values))

/* Entries before the first user cannot tell the type: skipped, then AD's filter. */
Test(entry_select, infers_active_directory_from_the_first_user)
{
	struct imaddr_entry_select select;
	struct imaddr_input_description input;
	memset(&input, 0, sizeof(input));
	imaddr_entry_select_init(&select);
	cr_expect_not(TAKE(&select, group));
	cr_expect(TAKE(&select, user));
	cr_expect_not(TAKE(&select, disabled));
	cr_expect_not(TAKE(&select, computer));
	cr_expect(TAKE(&select, classless));
	imaddr_entry_select_skip(&select);
	imaddr_entry_select_describe(&select, &input);
	cr_expect_eq(input.entries, 5);
	cr_expect_eq(input.entries_skipped, 4);
	cr_expect_str_eq(input.directory_type, "ad");
	cr_expect_str_eq(input.directory_type_how, "inferred from the entries");
	cr_expect_str_eq(input.filter, imaddr_directory_default_filter(IMADDR_DIRECTORY_AD));
	imaddr_entry_select_release(&select);
}

/* A filter given applies to an entry without objectClass as well, and names no type. */
Test(entry_select, a_filter_given_decides_alone)
{
	struct imaddr_entry_select select;
	struct imaddr_input_description input;
	struct imaddr_error err = { "" };
	memset(&input, 0, sizeof(input));
	imaddr_entry_select_init(&select);
	cr_assert_eq(imaddr_entry_select_set_filter(&select, "(objectClass=group)", &err),
		     IMADDR_OK, "%s", err.message);
	cr_expect(TAKE(&select, group));
	cr_expect_not(TAKE(&select, user));
	cr_expect_not(TAKE(&select, classless));
	imaddr_entry_select_describe(&select, &input);
	cr_expect_str_eq(input.filter, "(objectClass=group)");
	cr_expect_null(input.directory_type);
	cr_expect_eq(select.entries_classless, 1);
	imaddr_entry_select_release(&select);
	cr_expect_eq(imaddr_entry_select_set_filter(&select, "(objectClass=", &err),
		     IMADDR_ERR_USAGE);
	imaddr_entry_select_release(&select);
}
