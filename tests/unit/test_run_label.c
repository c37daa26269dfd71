#include <criterion/criterion.h>

#include <stdlib.h>

#include "imaddr.h"

static void expect_file_label(const char *path, const char *expected)
{
	char *label = imaddr_run_label_for_file(path);
	cr_expect_str_eq(label, expected, "label of '%s'", path);
	free(label);
}

Test(run_label, dated_exports_share_one_label)
{
	expect_file_label("users-2026-12-01.csv", "users.csv");
	expect_file_label("/srv/exports/users-2026-12-02.csv", "users.csv");
	expect_file_label("users_20261201.csv", "users.csv");
	expect_file_label("users-20261201T0200Z.csv", "users.csv");
	expect_file_label("users.7.csv", "users.csv");
	expect_file_label("ad users 2026-12-01.ldif", "ad users.ldif");
}

Test(run_label, other_names_and_extensions_stay_apart)
{
	expect_file_label("users.csv", "users.csv");
	expect_file_label("users.ldif", "users.ldif");
	expect_file_label("users-east-2026-12-01.csv", "users-east.csv");
	expect_file_label("user2s.csv", "user2s.csv");
	expect_file_label("v2-users.csv", "v2-users.csv");
}

Test(run_label, a_name_that_is_only_a_stamp_is_kept)
{
	expect_file_label("2026-12-01.csv", "2026-12-01.csv");
	expect_file_label("-", "-");
	expect_file_label("noext-2026", "noext");
}

Test(run_label, a_directory_search_is_its_ldap_url)
{
	char *label = imaddr_run_label_for_ldap("ldap://dc1.example.com/", "dc=example,dc=com",
						"sub", "(objectClass=user)");
	cr_expect_str_eq(label, "ldap://dc1.example.com/dc=example,dc=com??sub?(objectClass=user)");
	free(label);
	label = imaddr_run_label_for_ldap("ldaps://dc1", NULL, "one", NULL);
	cr_expect_str_eq(label, "ldaps://dc1/??one?");
	free(label);
}

/* The names ldapsearch's -s takes, which the URL in a label writes. */
Test(run_label, a_scope_is_named_as_ldapsearch_names_it)
{
	cr_expect_str_eq(imaddr_ldap_scope_name(IMADDR_LDAP_SCOPE_SUB), "sub");
	cr_expect_str_eq(imaddr_ldap_scope_name(IMADDR_LDAP_SCOPE_ONE), "one");
	cr_expect_str_eq(imaddr_ldap_scope_name(IMADDR_LDAP_SCOPE_BASE), "base");
	cr_expect_str_eq(imaddr_ldap_scope_name(IMADDR_LDAP_SCOPE_CHILDREN), "children");
	cr_expect_str_eq(imaddr_ldap_scope_name((enum imaddr_ldap_scope)42), "sub");
}

Test(run_label, no_changes_without_a_previous_run)
{
	struct imaddr_run_changes changes = { .run_id = 1, .users_added = 3 };
	cr_expect_not(imaddr_run_changes_any(&changes));
	cr_expect_not(imaddr_run_changes_any(NULL));
	changes.previous_run_id = 1;
	cr_expect(imaddr_run_changes_any(&changes));
	changes.users_added = 0;
	cr_expect_not(imaddr_run_changes_any(&changes));
	changes.resolved_by_severity[IMADDR_SEVERITY_INFO] = 1;
	cr_expect(imaddr_run_changes_any(&changes));
}
