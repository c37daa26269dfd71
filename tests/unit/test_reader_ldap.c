/* The LDAP reader's checks that need no server; tests/ldap/ runs it against slapd. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "reader_ldap.h"

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
	cr_assert_null(imaddr_directory_default_filter((enum imaddr_directory_type)3));
}

/* The names --directory-type takes, which the summary and the report print. */
Test(reader_ldap, directory_types_are_named_as_the_option_takes_them)
{
	cr_expect_str_eq(imaddr_directory_type_name(IMADDR_DIRECTORY_AD), "ad");
	cr_expect_str_eq(imaddr_directory_type_name(IMADDR_DIRECTORY_AD_LDS), "ad-lds");
	cr_expect_str_eq(imaddr_directory_type_name(IMADDR_DIRECTORY_OPENLDAP), "openldap");
	cr_expect_null(imaddr_directory_type_name((enum imaddr_directory_type)3));
}

/* The summary's search line and its selection, known before the search. */
Test(reader_ldap, the_input_describes_the_search)
{
	struct imaddr_ldap_options options;
	struct imaddr_reader *reader = NULL;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	options.uri = "ldap://127.0.0.1:1";
	options.base = "ou=people,dc=example,dc=com";
	options.scope = IMADDR_LDAP_SCOPE_ONE;
	options.directory_type = IMADDR_DIRECTORY_OPENLDAP;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_str_eq(reader->input.filter, "(objectclass=inetOrgPerson)");
	cr_expect_str_eq(reader->input.directory_type, "openldap");
	cr_expect_str_eq(reader->input.search_scope, "one");
	imaddr_reader_free(reader);
	options.filter = "(uid=*)";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_str_eq(reader->input.filter, "(uid=*)");
	cr_expect_null(reader->input.directory_type);
	imaddr_reader_free(reader);
}

Test(reader_ldap, options_are_checked_before_any_connection)
{
	struct imaddr_ldap_options options;
	/* Set to something: a failed open must leave NULL. */
	struct imaddr_reader *reader = (struct imaddr_reader *)&options;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	cr_assert_eq(options.scope, IMADDR_LDAP_SCOPE_SUB);
	cr_assert_eq(options.page_size, 0);

	options.uri = "http://example.com/";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert_null(reader);
	cr_assert_str_eq(err.message, "'http://example.com/' is not an ldap://, ldaps:// or "
				      "ldapi:// URI (or a list of them)");
	/* A list is tried in turn, as ldap.conf's URI; each of its URIs must do. */
	options.uri = "ldap://127.0.0.1:1/ http://example.com/";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	options.uri = "ldap://127.0.0.1:1/ ldaps://127.0.0.1:2/";
	options.starttls = true;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert(strstr(err.message, "StartTLS goes with ldap:// URIs"), "%s", err.message);
	options.starttls = false;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_reader_free(reader);
	reader = (struct imaddr_reader *)&options;

	options.uri = "ldaps://127.0.0.1:1/";
	options.starttls = true;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert_null(reader);
	cr_assert(strstr(err.message, "StartTLS goes with ldap:// URIs"), "%s", err.message);

	options.starttls = false;
	options.bind_dn = "cn=reader,dc=example,dc=com";
	options.password = "";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert_null(reader);
	cr_assert(strstr(err.message, "needs a password"), "%s", err.message);

	options.password = "secret";
	options.sasl_mech = "PLAIN";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert_null(reader);
	cr_assert_str_eq(err.message,
			 "SASL mechanism 'PLAIN' is not supported: use EXTERNAL or GSSAPI");

	options.sasl_mech = NULL;
	options.ca_file = "/nonexistent/ca.pem";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_assert_null(reader);
	cr_assert_str_eq(err.message,
			 "cannot read CA file '/nonexistent/ca.pem': No such file or directory");

	/* Nothing is contacted on open: an unreachable server opens fine. */
	options.ca_file = NULL;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_reader_free(reader);
}

struct progress_calls {
	size_t count;
	size_t done_count;
	struct imaddr_ldap_progress last;
};

static void count_progress(void *context, const struct imaddr_ldap_progress *progress)
{
	struct progress_calls *calls = context;
	calls->count++;
	calls->done_count += progress->done;
	calls->last = *progress;
}

static enum imaddr_status no_record(void *context, const struct imaddr_record *record,
				    struct imaddr_error *err)
{
	return IMADDR_OK;
}

static enum imaddr_status no_notice(void *context, enum imaddr_code code, uint64_t line,
				    const char *dn, const char *field, const char *value,
				    const char *message, struct imaddr_error *err)
{
	return IMADDR_OK;
}

/* The library prints nothing: the caller hears that the search ended, even when it failed. */
Test(reader_ldap, progress_goes_to_the_callback_and_ends_with_done)
{
	struct imaddr_ldap_options options;
	struct imaddr_mapping mapping;
	struct imaddr_error err = { "" };
	struct progress_calls calls = { 0 };
	struct imaddr_reader *reader;
	imaddr_ldap_options_init(&options);
	imaddr_mapping_init(&mapping);
	options.uri = "ldap://127.0.0.1:1/";
	options.progress = count_progress;
	options.progress_context = &calls;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	struct imaddr_reader_request request = {
		.mapping = &mapping, .record = no_record, .notice = no_notice,
	};
	cr_assert_eq(imaddr_reader_run(reader, &request, &err), IMADDR_ERR_LDAP);
	imaddr_reader_free(reader);
	cr_assert_eq(calls.done_count, 1);
	cr_assert(calls.last.done);
	cr_assert_eq(calls.last.entries, 0);
	cr_assert_eq(calls.last.pages, 0);
	cr_assert_geq(calls.last.elapsed_seconds, 0);
}

/* The reader keeps its own copy of the password and wipes it once the bind is tried. */
Test(reader_ldap, the_password_is_copied_at_open_and_wiped_after_the_bind)
{
	struct imaddr_ldap_options options;
	struct imaddr_audit_options audit_options;
	struct imaddr_reader *reader = NULL;
	struct imaddr_audit *audit = NULL;
	struct imaddr_run_totals totals;
	struct imaddr_error err = { "" };
	char password[] = "S3cr3t";

	imaddr_ldap_options_init(&options);
	options.uri = "ldap://127.0.0.1:1";
	options.bind_dn = "cn=reader,dc=example,dc=com";
	options.password = password;
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	/* The caller may wipe its own at once. */
	memset(password, 0, sizeof(password));
	cr_expect(imaddr_ldap_reader_holds_password(reader));

	imaddr_audit_options_init(&audit_options);
	audit_options.default_domain = "example.com";
	cr_assert_eq(imaddr_audit_new(&audit_options, &audit, &err), IMADDR_OK);
	cr_expect_eq(imaddr_audit_run(audit, reader, &totals, &err), IMADDR_ERR_LDAP);
	cr_expect_str_eq(err.message, "ldap://127.0.0.1:1: cannot connect: Can't contact LDAP server");
	cr_expect(!imaddr_ldap_reader_holds_password(reader), "the copy outlived the bind");
	imaddr_audit_free(audit);
	imaddr_reader_free(reader);
}

Test(reader_ldap, base_and_children_scopes_are_options)
{
	struct imaddr_ldap_options options;
	struct imaddr_reader *reader = NULL;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	options.uri = "ldap://127.0.0.1:1";
	for (int scope = IMADDR_LDAP_SCOPE_SUB; scope <= IMADDR_LDAP_SCOPE_CHILDREN; scope++) {
		options.scope = (enum imaddr_ldap_scope)scope;
		cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK);
		imaddr_reader_free(reader);
	}
	options.scope = (enum imaddr_ldap_scope)(IMADDR_LDAP_SCOPE_CHILDREN + 1);
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
}

/*
 * A scope or directory type is one of its enum's: any other (a cast, options
 * never initialised) is refused first, saying which, not searched with a
 * scope or filter no one chose.
 */
Test(reader_ldap, a_scope_or_directory_type_outside_its_enum_is_refused)
{
	struct imaddr_ldap_options options;
	struct imaddr_reader *reader = (struct imaddr_reader *)&options;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	/* No URI: the enum is what the message must be about. */
	options.scope = (enum imaddr_ldap_scope)4;
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "the LDAP scope 4 is none of enum imaddr_ldap_scope's");
	options.scope = (enum imaddr_ldap_scope)-1;
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "the LDAP scope -1 is none of enum imaddr_ldap_scope's");
	options.scope = IMADDR_LDAP_SCOPE_ONE;
	options.directory_type = (enum imaddr_directory_type)3;
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message,
			 "the directory type 3 is none of enum imaddr_directory_type's");
	options.uri = "ldap://127.0.0.1:1";
	options.directory_type = (enum imaddr_directory_type)-2;
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, NULL), IMADDR_ERR_USAGE);
	options.directory_type = IMADDR_DIRECTORY_OPENLDAP;
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	imaddr_reader_free(reader);
}

/* A caller's mistake, refused as one before anything is set up. */
Test(reader_ldap, null_options_or_out_are_a_usage_error)
{
	struct imaddr_ldap_options options;
	struct imaddr_reader *reader = (struct imaddr_reader *)&options;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(NULL);
	imaddr_ldap_options_init(&options);
	options.uri = "ldap://127.0.0.1:1";
	cr_expect_eq(imaddr_ldap_reader_open(NULL, &reader, &err), IMADDR_ERR_USAGE);
	cr_expect_null(reader);
	cr_expect_str_eq(err.message, "imaddr_ldap_reader_open: 'options' is NULL");
	cr_expect_eq(imaddr_ldap_reader_open(&options, NULL, &err), IMADDR_ERR_USAGE);
	cr_expect_str_eq(err.message, "imaddr_ldap_reader_open: 'out' is NULL");
	cr_expect_eq(imaddr_ldap_reader_open(NULL, NULL, NULL), IMADDR_ERR_USAGE);
	/* Without `err`, the open works the same. */
	cr_expect_eq(imaddr_ldap_reader_open(&options, &reader, NULL), IMADDR_OK);
	imaddr_reader_free(reader);
}

Test(reader_ldap, its_input_is_named_ldap_as_the_report_schema_says)
{
	/* The summary's "input: LDAP", run_summaries' input.format, as CSV and LDIF. */
	struct imaddr_ldap_options options;
	struct imaddr_reader *reader = NULL;
	struct imaddr_error err = { "" };
	imaddr_ldap_options_init(&options);
	options.uri = "ldap://127.0.0.1:1";
	cr_assert_eq(imaddr_ldap_reader_open(&options, &reader, &err), IMADDR_OK, "%s",
		     err.message);
	cr_expect_str_eq(reader->input.format, "LDAP");
	imaddr_reader_free(reader);
}

Test(reader_ldap, the_configured_uri_is_libldaps_not_its_builtin_default)
{
	/* Each test runs in a process of its own: libldap reads the variable once. */
	setenv("LDAPNOINIT", "1", 1);
	cr_expect_null(imaddr_ldap_configured_uri());
}

Test(reader_ldap, the_configured_uri_comes_from_the_environment_too)
{
	unsetenv("LDAPNOINIT");
	setenv("LDAPURI", "ldaps://dc1.example.com", 1);
	char *uri = imaddr_ldap_configured_uri();
	cr_expect_str_eq(uri, "ldaps://dc1.example.com:636");
	free(uri);
}
