/* The attribute mapping (src/mapping.h): roles to input attribute names. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include "mapping.h"

static bool has_mail_and_uid(void *context, const char *name)
{
	(void)context;
	return !strcasecmp(name, "mail") || !strcasecmp(name, "uid");
}

Test(mapping, resolves_the_first_name_the_input_has)
{
	struct imaddr_mapping mapping;
	imaddr_mapping_init(&mapping);
	/* "DIRECTORY URI" first, then mail. */
	cr_assert_str_eq(imaddr_mapping_resolve(&mapping, IMADDR_ROLE_DIRECTORY_URI,
						has_mail_and_uid, NULL), "mail");
	cr_assert_null(imaddr_mapping_resolve(&mapping, IMADDR_ROLE_USER_ID, has_mail_and_uid,
					      NULL));
	imaddr_mapping_set(&mapping, IMADDR_ROLE_USER_ID, "uid");
	cr_assert_str_eq(imaddr_mapping_resolve(&mapping, IMADDR_ROLE_USER_ID, has_mail_and_uid,
						NULL), "uid");
}

Test(mapping, describes_a_role_for_messages)
{
	struct imaddr_mapping mapping;
	char names[64];
	imaddr_mapping_init(&mapping);
	imaddr_mapping_describe(&mapping, IMADDR_ROLE_USER_ID, names, sizeof(names));
	cr_assert_str_eq(names, "'sAMAccountName' or 'USER ID'");
	/* Cut at the size given, still a string. */
	imaddr_mapping_describe(&mapping, IMADDR_ROLE_USER_ID, names, 10);
	cr_assert_eq(strlen(names), 9);
}

Test(mapping, names_roles_and_the_sip_attribute)
{
	cr_assert_str_eq(imaddr_role_name(IMADDR_ROLE_DIRECTORY_URI), "directory URI");
	cr_assert_str_eq(imaddr_role_name(IMADDR_ROLE_COUNT), "value");
	cr_assert(imaddr_attribute_is_sip_uri("msrtcsip-primaryuseraddress"));
	cr_assert_not(imaddr_attribute_is_sip_uri("mail"));
	cr_assert_not(imaddr_attribute_is_sip_uri(NULL));
}

/* A role that is none of the enum's is refused, the mapping (and what lies past it) untouched. */
Test(mapping, a_role_out_of_range_is_refused)
{
	struct {
		struct imaddr_mapping mapping;
		const char *after[IMADDR_MAPPING_MAX_NAMES + 1];
	} guarded;
	struct imaddr_mapping before;
	imaddr_mapping_init(&guarded.mapping);
	for (size_t i = 0; i <= IMADDR_MAPPING_MAX_NAMES; i++)
		guarded.after[i] = "guard";
	before = guarded.mapping;
	cr_expect_eq(imaddr_mapping_set(&guarded.mapping, IMADDR_ROLE_COUNT, "uid"),
		     IMADDR_ERR_USAGE);
	cr_expect_eq(imaddr_mapping_set(&guarded.mapping, IMADDR_ROLE_COUNT + 1, "uid"),
		     IMADDR_ERR_USAGE);
	cr_expect_eq(imaddr_mapping_set(&guarded.mapping, (enum imaddr_role)-1, "uid"),
		     IMADDR_ERR_USAGE);
	cr_expect_eq(memcmp(&guarded.mapping, &before, sizeof(before)), 0);
	for (size_t i = 0; i <= IMADDR_MAPPING_MAX_NAMES; i++)
		cr_expect_str_eq(guarded.after[i], "guard");
	cr_expect_eq(imaddr_mapping_set(&guarded.mapping, IMADDR_ROLE_LAST_NAME, "sn"), IMADDR_OK);
}
