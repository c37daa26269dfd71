/* Filters parsed by libldap and evaluated on LDIF entries (src/ldif_filter.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "imaddr.h"
#include "ldif_filter.h"

#define MAX_VALUES 16

/* "type: value" lines, as an LDIF entry gives them. */
static size_t entry(const char *const *lines, struct imaddr_ldif_value *values)
{
	size_t count = 0;
	for (; *lines && count < MAX_VALUES; lines++, count++) {
		const char *colon = strchr(*lines, ':');
		values[count].type.bv_val = (char *)*lines;
		values[count].type.bv_len = (ber_len_t)(colon - *lines);
		values[count].value.bv_val = (char *)colon + 2;
		values[count].value.bv_len = strlen(colon + 2);
	}
	return count;
}

static bool matches(const char *filter_text, const char *const *lines)
{
	struct imaddr_ldif_filter filter;
	struct imaddr_error err;
	struct imaddr_ldif_value values[MAX_VALUES];
	cr_assert_eq(imaddr_ldif_filter_init(&filter, filter_text, &err), IMADDR_OK, "%s",
		     err.message);
	bool result = imaddr_ldif_filter_match(&filter, values, entry(lines, values));
	imaddr_ldif_filter_release(&filter);
	return result;
}

static const char *const ad_user[] = {
	"objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
	"objectClass: user", "userAccountControl: 512", "sAMAccountName: jdoe", NULL
};
static const char *const ad_disabled[] = {
	"objectClass: top", "objectClass: user", "userAccountControl: 514", NULL
};
static const char *const ad_computer[] = {
	"objectClass: top", "objectClass: user", "objectClass: computer",
	"userAccountControl: 4096", NULL
};
static const char *const ad_group[] = { "objectClass: top", "objectClass: group", NULL };
static const char *const person[] = {
	"objectClass: inetOrgPerson", "uid: jdoe", "sn: Doe", "mail: jdoe@example.com", NULL
};

Test(ldif_filter, active_directory_default_filter)
{
	const char *ad = imaddr_directory_default_filter(IMADDR_DIRECTORY_AD);
	cr_expect(matches(ad, ad_user));
	cr_expect_not(matches(ad, ad_disabled));
	cr_expect_not(matches(ad, ad_computer));
	cr_expect_not(matches(ad, ad_group));
	cr_expect_not(matches(ad, person));
}

Test(ldif_filter, openldap_and_ad_lds_default_filters)
{
	const char *openldap = imaddr_directory_default_filter(IMADDR_DIRECTORY_OPENLDAP);
	cr_expect(matches(openldap, person));
	cr_expect_not(matches(openldap, ad_user));
	const char *lds = imaddr_directory_default_filter(IMADDR_DIRECTORY_AD_LDS);
	static const char *const lds_disabled[] = { "objectClass: user",
						    "msDS-UserAccountDisabled: TRUE", NULL };
	cr_expect(matches(lds, ad_user));
	cr_expect_not(matches(lds, lds_disabled));
}

Test(ldif_filter, every_filter_item)
{
	cr_expect(matches("(OBJECTCLASS=InetOrgPerson)", person));
	cr_expect(matches("(|(objectClass=user)(uid=jdoe))", person));
	cr_expect_not(matches("(&(uid=jdoe)(sn=Smith))", person));
	cr_expect(matches("(mail=*@example.com)", person));
	cr_expect(matches("(mail=j*d*@*.com)", person));
	cr_expect_not(matches("(mail=x*)", person));
	cr_expect(matches("(userAccountControl>=500)", ad_user));
	cr_expect_not(matches("(userAccountControl<=500)", ad_user));
	cr_expect(matches("(sn~=doe)", person));
	cr_expect(matches("(mail=*)", person));
	cr_expect_not(matches("(telephoneNumber=*)", person));
	cr_expect(matches("(userAccountControl:1.2.840.113556.1.4.804:=6)", ad_disabled));
	/* An unknown matching rule is Undefined: neither it nor its negation matches. */
	cr_expect_not(matches("(sn:1.2.3.4:=Doe)", person));
	cr_expect_not(matches("(!(sn:1.2.3.4:=Doe))", person));
	/* An escaped value is libldap's to decode. */
	static const char *const starred[] = { "cn: a*b", NULL };
	cr_expect(matches("(cn=a\\2ab)", starred));
}

Test(ldif_filter, invalid_filter_is_a_usage_error)
{
	struct imaddr_ldif_filter filter;
	struct imaddr_error err;
	cr_assert_eq(imaddr_ldif_filter_init(&filter, "(&(objectClass=user)", &err),
		     IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "invalid filter '(&(objectClass=user)': not an LDAP search "
			 "filter (RFC 4515)");
}

/* Unified CM's export names a column "USER ID": the message says how to write it. */
Test(ldif_filter, a_spaced_attribute_is_explained)
{
	struct imaddr_ldif_filter filter;
	struct imaddr_error err;
	cr_assert_eq(imaddr_ldif_filter_init(&filter, "(!(USER ID=svc*))", &err),
		     IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "(USER-ID for 'USER ID')") != NULL, "%s", err.message);
	cr_assert_eq(imaddr_ldif_filter_init(&filter, "(cn=a b", &err), IMADDR_ERR_USAGE);
	cr_expect(strstr(err.message, "USER-ID") == NULL, "a value's space is no name's: %s",
		  err.message);
}

static void collect_type(const struct berval *type, void *context)
{
	char *seen = context;
	strncat(seen, type->bv_val, type->bv_len);
	strcat(seen, " ");
}

/*
 * Every attribute a filter tests is visited, past an and's False or an
 * or's True, under a not, in an extensible match and a substring, so that
 * a CSV reader can keep or refuse each column.
 */
Test(ldif_filter, each_type_visits_every_item)
{
	struct imaddr_ldif_filter filter;
	struct imaddr_error err;
	cr_assert_eq(imaddr_ldif_filter_init(&filter, "(&(objectClass=user)(|(sn=*)(cn=a*b))"
		"(!(title;lang-de=x))(userAccountControl:1.2.840.113556.1.4.803:=2)(uid>=5)"
		"(mail~=y))", &err), IMADDR_OK, "%s", err.message);
	char seen[256] = "";
	imaddr_ldif_filter_each_type(&filter, collect_type, seen);
	cr_expect_str_eq(seen, "objectClass sn cn title;lang-de userAccountControl uid mail ");
	imaddr_ldif_filter_release(&filter);
}
