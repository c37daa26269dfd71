/* The LDAP reader's checks that need no server; tests/ldap/ runs it against slapd. */
#include <criterion/criterion.h>
#include <string.h>

#include "imaddr.h"

Test(reader_ldap, default_filters_are_cucms)
{
	cr_assert_str_eq(imaddr_directory_default_filter(IMADDR_DIRECTORY_AD),
			 "(&(objectclass=user)(!(objectclass=Computer))"
			 "(!(UserAccountControl:1.2.840.113556.1.4.803:=2)))");
	cr_assert_str_eq(imaddr_directory_default_filter(IMADDR_DIRECTORY_AD_LDS),
			 "(&(objectclass=user)(!(objectclass=Computer))"
			 "(!(msDS-UserAccountDisabled=TRUE)))");
	cr_assert_str_eq(imaddr_directory_default_filter(IMADDR_DIRECTORY_OPENLDAP),
			 "(objectclass=inetOrgPerson)");
}

Test(reader_ldap, options_are_checked_before_any_connection)
{
	struct imaddr_ldap_options options;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	cr_assert_eq(options.scope, IMADDR_LDAP_SCOPE_SUB);
	cr_assert_eq(options.page_size, 0);

	options.uri = "http://example.com/";
	cr_assert_null(imaddr_ldap_reader_open(&options, &err));
	cr_assert_str_eq(err.message,
			 "'http://example.com/' is not one ldap://, ldaps:// or ldapi:// URI");

	options.uri = "ldaps://127.0.0.1:1/";
	options.starttls = true;
	cr_assert_null(imaddr_ldap_reader_open(&options, &err));
	cr_assert(strstr(err.message, "StartTLS goes with ldap:// URIs"), "%s", err.message);

	options.starttls = false;
	options.bind_dn = "cn=reader,dc=example,dc=com";
	options.password = "";
	cr_assert_null(imaddr_ldap_reader_open(&options, &err));
	cr_assert(strstr(err.message, "needs a password"), "%s", err.message);

	options.password = "secret";
	options.sasl_mech = "PLAIN";
	cr_assert_null(imaddr_ldap_reader_open(&options, &err));
	cr_assert_str_eq(err.message,
			 "SASL mechanism 'PLAIN' is not supported: use EXTERNAL or GSSAPI");

	options.sasl_mech = NULL;
	options.ca_file = "/nonexistent/ca.pem";
	cr_assert_null(imaddr_ldap_reader_open(&options, &err));
	cr_assert_str_eq(err.message,
			 "cannot read CA file '/nonexistent/ca.pem': No such file or directory");

	/* Nothing is contacted on open: an unreachable server opens fine. */
	options.ca_file = NULL;
	struct imaddr_reader *reader = imaddr_ldap_reader_open(&options, &err);
	cr_assert_not_null(reader, "%s", err.message);
	imaddr_reader_free(reader);
}
