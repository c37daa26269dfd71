#include "reader_ldap.h"

#include <ctype.h>
#include <errno.h>
#include <lber.h>
#include <ldap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buffer.h"
#include "ldap_entry.h"
#include "mapping.h"
#include "error.h"

struct ldap_reader {
	struct imaddr_reader base;
	struct imaddr_ldap_options options;  /* strings borrowed from the caller */
	const char *filter;                  /* the options' or the type's default */
	char sasl_mech[16];                  /* the options' in capitals */
	const char *search_base;             /* the options', ldap.conf's BASE or "" */
	char *default_base;                  /* ldap.conf's BASE, from libldap */
	char *password;                      /* our copy, cleared once the bind is done */
	LDAP *ld;
	char **attributes;                   /* requested; names borrowed from the mapping */

	/* The entry being read: attributes point into its BER, freed after it. */
	struct imaddr_buf dn;
	struct imaddr_ldap_attribute *entry;
	BerVarray *entry_values;
	size_t entry_count;
	size_t entry_cap;
	struct imaddr_record record;

	uint64_t entries;
	uint64_t references;
	char *first_reference;

	struct timespec started;
	struct timespec last_message;
	struct timespec last_progress;
	uint64_t pages;                      /* pages whose result has come */
};

/* ------------------------------------------------------------------------ */
/* Options.                                                                  */

void imaddr_ldap_options_init(struct imaddr_ldap_options *options)
{
	memset(options, 0, sizeof(*options));
	options->scope = IMADDR_LDAP_SCOPE_SUB;
	options->directory_type = IMADDR_DIRECTORY_AD;
}

const char *imaddr_directory_default_filter(enum imaddr_directory_type type)
{
	switch (type) {
	case IMADDR_DIRECTORY_AD:
		return "(&(objectclass=user)(!(objectclass=Computer))"
		       "(!(UserAccountControl:1.2.840.113556.1.4.803:=2)))";
	case IMADDR_DIRECTORY_AD_LDS:
		return "(&(objectclass=user)(!(objectclass=Computer))"
		       "(!(msDS-UserAccountDisabled=TRUE)))";
	case IMADDR_DIRECTORY_OPENLDAP:
		return "(objectclass=inetOrgPerson)";
	}
	return "(objectclass=*)";
}

/* ------------------------------------------------------------------------ */
/* Errors.                                                                   */

/*
 * "URI: WHAT: Invalid credentials (server's text)". The server's text (AD's
 * "data 52e" and the like) is often the only clue, so it goes along.
 */
static enum imaddr_status ldap_failure(struct ldap_reader *reader, struct imaddr_error *err,
				       int rc, const char *diagnostic, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

static enum imaddr_status ldap_failure(struct ldap_reader *reader, struct imaddr_error *err,
				       int rc, const char *diagnostic, const char *format, ...)
{
	char what[512];
	char *from_handle = NULL;
	va_list args;
	va_start(args, format);
	vsnprintf(what, sizeof(what), format, args);
	va_end(args);
	if (!diagnostic && reader->ld &&
	    ldap_get_option(reader->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &from_handle) ==
		    LDAP_OPT_SUCCESS)
		diagnostic = from_handle;
	/* GnuTLS's text for libldap's handshake failures is "(unknown error code)". */
	bool show = diagnostic && *diagnostic && strcmp(diagnostic, ldap_err2string(rc)) &&
		    strcmp(diagnostic, "(unknown error code)");
	enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_LDAP, "%s: %s: %s%s%s%s",
		reader->options.uri, what, ldap_err2string(rc), show ? " (" : "",
		show ? diagnostic : "", show ? ")" : "");
	ldap_memfree(from_handle);
	return status;
}

/* ------------------------------------------------------------------------ */
/* Progress, for the caller to show.                                         */

static double seconds_between(const struct timespec *from, const struct timespec *to)
{
	return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

/* The caller hears at most every IMADDR_LDAP_PROGRESS_MS, and once when done. */
static void report_progress(struct ldap_reader *reader, bool done)
{
	struct timespec now;
	if (!reader->options.progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!done &&
	    seconds_between(&reader->last_progress, &now) * 1000 < IMADDR_LDAP_PROGRESS_MS)
		return;
	reader->last_progress = now;
	struct imaddr_ldap_progress progress = {
		.entries = reader->entries,
		.pages = reader->pages,
		.elapsed_seconds = seconds_between(&reader->started, &now),
		.done = done,
	};
	reader->options.progress(reader->options.progress_context, &progress);
}

/* ------------------------------------------------------------------------ */
/* Connecting and binding.                                                   */

static bool uri_is_ldaps(const char *uri)
{
	return !strncasecmp(uri, "ldaps://", 8);
}

static bool uri_supported(const char *uri)
{
	return (!strncasecmp(uri, "ldap://", 7) || uri_is_ldaps(uri) ||
		!strncasecmp(uri, "ldapi://", 8)) &&
	       !strpbrk(uri, " \t,");
}

/*
 * EXTERNAL takes the identity from the TLS certificate or the ldapi:// peer,
 * GSSAPI from the Kerberos ticket cache: their optional questions (an
 * authorization ID) stay unanswered, and nothing is ever prompted.
 */
static int sasl_answer_nothing(LDAP *ld, unsigned flags, void *defaults, void *interact)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	(void)interact;
	return LDAP_SUCCESS;
}

static enum imaddr_status set_option(struct ldap_reader *reader, int option, const void *value,
				     const char *name, struct imaddr_error *err)
{
	int rc = ldap_set_option(reader->ld, option, value);
	if (rc != LDAP_OPT_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "cannot set %s", name);
	return IMADDR_OK;
}

/*
 * The TLS settings libldap read from ldap.conf, .ldaprc and LDAPTLS_*, which
 * a new connection does not inherit once it has a TLS context of its own.
 * A setting this libldap's TLS library does not know is left out.
 */
static void copy_tls_configuration(struct ldap_reader *reader)
{
	static const int text_options[] = {
		LDAP_OPT_X_TLS_CACERTFILE, LDAP_OPT_X_TLS_CACERTDIR, LDAP_OPT_X_TLS_CERTFILE,
		LDAP_OPT_X_TLS_KEYFILE, LDAP_OPT_X_TLS_CIPHER_SUITE, LDAP_OPT_X_TLS_CRLFILE,
		LDAP_OPT_X_TLS_ECNAME, LDAP_OPT_X_TLS_PEERKEY_HASH,
	};
	static const int number_options[] = {
		LDAP_OPT_X_TLS_PROTOCOL_MIN, LDAP_OPT_X_TLS_PROTOCOL_MAX, LDAP_OPT_X_TLS_CRLCHECK,
		LDAP_OPT_X_TLS_REQUIRE_SAN,
	};
	for (size_t i = 0; i < sizeof(text_options) / sizeof(text_options[0]); i++) {
		char *value = NULL;
		if (ldap_get_option(NULL, text_options[i], &value) == LDAP_OPT_SUCCESS && value)
			ldap_set_option(reader->ld, text_options[i], value);
		ldap_memfree(value);
	}
	for (size_t i = 0; i < sizeof(number_options) / sizeof(number_options[0]); i++) {
		int value;
		if (ldap_get_option(NULL, number_options[i], &value) == LDAP_OPT_SUCCESS)
			ldap_set_option(reader->ld, number_options[i], &value);
	}
}

static enum imaddr_status set_options(struct ldap_reader *reader, bool tls,
				      struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = &reader->options;
	int version = LDAP_VERSION3;
	enum imaddr_status status = set_option(reader, LDAP_OPT_PROTOCOL_VERSION, &version,
					       "the protocol version", err);
	/* Referrals are reported, never followed (with our credentials) elsewhere. */
	if (status == IMADDR_OK)
		status = set_option(reader, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals", err);
	if (status == IMADDR_OK && options->timeout_seconds > 0) {
		struct timeval timeout = { .tv_sec = options->timeout_seconds };
		status = set_option(reader, LDAP_OPT_NETWORK_TIMEOUT, &timeout,
				    "the network timeout", err);
		if (status == IMADDR_OK)
			status = set_option(reader, LDAP_OPT_TIMEOUT, &timeout, "the timeout", err);
	}
	if (status != IMADDR_OK || !tls)
		return status;
	/*
	 * ldap.conf and .ldaprc settings stay as libldap read them, except that
	 * the certificate must verify. Per-connection TLS settings take effect
	 * only in a TLS context of the connection's own, which starts empty:
	 * the configured ones are copied in first.
	 */
	copy_tls_configuration(reader);
	int demand = LDAP_OPT_X_TLS_DEMAND;
	status = set_option(reader, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand,
			    "TLS certificate checking", err);
	if (status == IMADDR_OK && options->ca_file)
		status = set_option(reader, LDAP_OPT_X_TLS_CACERTFILE, options->ca_file,
				    "the CA certificate file", err);
	if (status == IMADDR_OK) {
		int is_server = 0;
		int rc = ldap_set_option(reader->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
		if (rc != LDAP_OPT_SUCCESS)
			status = ldap_failure(reader, err, LDAP_CONNECT_ERROR, NULL,
					      "cannot set up TLS%s%s%s",
					      options->ca_file ? " with CA file '" : "",
					      options->ca_file ? options->ca_file : "",
					      options->ca_file ? "'" : "");
	}
	return status;
}

/* The filter is encoded as a search would, before anything is sent. */
static enum imaddr_status check_filter(struct ldap_reader *reader, struct imaddr_error *err)
{
	struct berval encoded = { 0, NULL };
	int success = LDAP_SUCCESS;
	/* The call leaves the handle's last result code when it succeeds. */
	ldap_set_option(reader->ld, LDAP_OPT_RESULT_CODE, &success);
	int rc = ldap_create_assertion_control_value(reader->ld, (char *)reader->filter, &encoded);
	ber_memfree(encoded.bv_val);
	if (rc == LDAP_SUCCESS)
		return IMADDR_OK;
	return imaddr_error_set(err, IMADDR_ERR_LDAP,
				"%s: invalid filter '%s': not an LDAP search filter (RFC 4515)",
				reader->options.uri, reader->filter);
}

/*
 * libldap says little more about a failed handshake than "(unknown error
 * code)": say where to look instead.
 */
static enum imaddr_status tls_failure(struct ldap_reader *reader, struct imaddr_error *err,
				      int rc, const char *what)
{
	enum imaddr_status status = ldap_failure(reader, err, rc, NULL, "%s", what);
	if (!err)
		return status;
	size_t used = strlen(err->message);
	if (reader->options.ca_file)
		snprintf(err->message + used, sizeof(err->message) - used,
			 "; is the server's certificate signed by the CA in '%s', and issued "
			 "for the host name in the URI?", reader->options.ca_file);
	else
		snprintf(err->message + used, sizeof(err->message) - used,
			 "; is the server's certificate signed by a CA that ldap.conf's "
			 "TLS_CACERT trusts (or give the CA file), and issued for the host "
			 "name in the URI?");
	return status;
}

/* After a failed connect: did TLS fail, rather than TCP? */
static bool tls_said_something(struct ldap_reader *reader)
{
	char *diagnostic = NULL;
	if (ldap_get_option(reader->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) !=
	    LDAP_OPT_SUCCESS)
		return false;
	bool said = diagnostic && *diagnostic;
	ldap_memfree(diagnostic);
	return said;
}

/* The copy leaves memory as soon as the bind needs it no more, not at the end. */
static void clear_password(struct ldap_reader *reader)
{
	if (!reader->password)
		return;
	explicit_bzero(reader->password, strlen(reader->password));
	free(reader->password);
	reader->password = NULL;
}

bool imaddr_ldap_reader_holds_password(const struct imaddr_reader *base)
{
	return ((const struct ldap_reader *)base)->password != NULL;
}

static enum imaddr_status bind_to_server(struct ldap_reader *reader, struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = &reader->options;
	int rc;
	if (options->sasl_mech) {
		rc = ldap_sasl_interactive_bind_s(reader->ld, NULL, options->sasl_mech, NULL, NULL,
						  LDAP_SASL_QUIET, sasl_answer_nothing, NULL);
		if (rc != LDAP_SUCCESS)
			return ldap_failure(reader, err, rc, NULL, "SASL %s bind failed",
					    options->sasl_mech);
		return IMADDR_OK;
	}
	if (!options->bind_dn)
		return IMADDR_OK;   /* anonymous: no bind at all, as RFC 4513 allows */
	if (!reader->password)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the password for '%s' is gone: a reader runs once",
					options->bind_dn);
	struct berval password = {
		.bv_len = strlen(reader->password),
		.bv_val = reader->password,
	};
	rc = ldap_sasl_bind_s(reader->ld, options->bind_dn, LDAP_SASL_SIMPLE, &password, NULL,
			      NULL, NULL);
	clear_password(reader);
	if (rc != LDAP_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "bind as '%s' failed", options->bind_dn);
	return IMADDR_OK;
}

static enum imaddr_status connect_to_server(struct ldap_reader *reader, struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = &reader->options;
	bool ldaps = uri_is_ldaps(options->uri);
	int rc = ldap_initialize(&reader->ld, options->uri);
	if (rc != LDAP_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "cannot use the URI");
	enum imaddr_status status = set_options(reader, ldaps || options->starttls, err);
	if (status == IMADDR_OK)
		status = check_filter(reader, err);
	if (status != IMADDR_OK)
		return status;
	if (!reader->search_base) {
		if (ldap_get_option(reader->ld, LDAP_OPT_DEFBASE, &reader->default_base) !=
		    LDAP_OPT_SUCCESS)
			reader->default_base = NULL;
		reader->search_base = reader->default_base ? reader->default_base : "";
	}

	rc = ldap_connect(reader->ld);
	if (rc != LDAP_SUCCESS) {
		/* TCP failures leave no message; the TLS layer leaves one. */
		if (ldaps && tls_said_something(reader))
			return tls_failure(reader, err, rc, "TLS handshake failed");
		return ldap_failure(reader, err, rc, NULL, "cannot connect");
	}
	if (options->starttls) {
		rc = ldap_start_tls_s(reader->ld, NULL, NULL);
		if (rc == LDAP_CONNECT_ERROR)
			return tls_failure(reader, err, rc, "StartTLS failed");
		if (rc != LDAP_SUCCESS)
			return ldap_failure(reader, err, rc, NULL, "StartTLS failed");
	}
	return bind_to_server(reader, err);
}

/* ------------------------------------------------------------------------ */
/* The paged search.                                                         */

/* Every name of every role that can be an LDAP attribute, once. */
static void collect_attributes(struct ldap_reader *reader, const struct imaddr_mapping *mapping)
{
	size_t count = 0;
	reader->attributes = imaddr_xcalloc(IMADDR_ROLE_COUNT * IMADDR_MAPPING_MAX_NAMES + 2,
					    sizeof(*reader->attributes));
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		for (const char *const *name = mapping->names[role]; *name; name++) {
			bool seen = !imaddr_ldap_entry_attribute_name_valid(*name);
			for (size_t i = 0; !seen && i < count; i++)
				seen = !strcasecmp(reader->attributes[i], *name);
			if (!seen)
				reader->attributes[count++] = (char *)*name;
		}
	}
	/* "1.1" asks for no attributes at all (RFC 4511): the DN alone. */
	if (!count)
		reader->attributes[count++] = (char *)LDAP_NO_ATTRS;
}

/* A required role that no LDAP attribute can hold cannot be read at all. */
static enum imaddr_status check_required_roles(struct ldap_reader *reader,
					       const struct imaddr_reader_request *request,
					       struct imaddr_error *err)
{
	for (int role = 0; role < IMADDR_ROLE_COUNT; role++) {
		if (!(request->required_roles & (1u << role)) ||
		    imaddr_ldap_entry_fallback_name(request->mapping, role))
			continue;
		char names[256];
		imaddr_mapping_describe(request->mapping, role, names, sizeof(names));
		return imaddr_error_set(err, IMADDR_ERR_INPUT,
			"%s: the %s cannot come from LDAP: %s cannot be an LDAP attribute name",
			reader->options.uri, imaddr_role_name(role), names);
	}
	return IMADDR_OK;
}

static void release_entry(struct ldap_reader *reader)
{
	for (size_t i = 0; i < reader->entry_count; i++)
		ber_memfree(reader->entry_values[i]);
	reader->entry_count = 0;
}

static enum imaddr_status read_entry(struct ldap_reader *reader, LDAPMessage *message,
				     const struct imaddr_reader_request *request,
				     struct imaddr_error *err)
{
	BerElement *ber = NULL;
	struct berval dn, name;
	BerVarray values = NULL;
	enum imaddr_status status;

	int rc = ldap_get_dn_ber(reader->ld, message, &ber, &dn);
	if (rc != LDAP_SUCCESS) {
		status = ldap_failure(reader, err, rc, NULL,
				      "cannot decode entry %llu of the search",
				      (unsigned long long)reader->entries + 1);
		goto out;
	}
	imaddr_buf_reset(&reader->dn);
	imaddr_buf_append(&reader->dn, dn.bv_val, dn.bv_len);
	while ((rc = ldap_get_attribute_ber(reader->ld, message, ber, &name, &values)) ==
		       LDAP_SUCCESS && name.bv_val) {
		if (reader->entry_count == reader->entry_cap) {
			reader->entry_cap = reader->entry_cap ? reader->entry_cap * 2 : 8;
			reader->entry = imaddr_xrealloc(reader->entry,
				reader->entry_cap * sizeof(*reader->entry));
			reader->entry_values = imaddr_xrealloc(reader->entry_values,
				reader->entry_cap * sizeof(*reader->entry_values));
		}
		struct imaddr_ldap_attribute *attribute = &reader->entry[reader->entry_count];
		reader->entry_values[reader->entry_count++] = values;
		attribute->name = name.bv_val;
		attribute->name_len = name.bv_len;
		attribute->value = NULL;
		attribute->value_len = 0;
		attribute->value_count = 0;
		for (size_t i = 0; values && values[i].bv_val; i++)
			attribute->value_count++;
		if (attribute->value_count) {
			attribute->value = values[0].bv_val;
			attribute->value_len = values[0].bv_len;
		}
		values = NULL;
	}
	if (rc != LDAP_SUCCESS) {
		status = ldap_failure(reader, err, rc, NULL, "cannot decode the entry '%s'",
				      reader->dn.data);
		goto out;
	}

	struct imaddr_record *record = &reader->record;
	imaddr_record_reset(record, 0);
	imaddr_ldap_entry_fill(record, request->mapping, reader->entry, reader->entry_count);
	record->dn = reader->dn.len ? reader->dn.data : NULL;
	reader->entries++;
	status = request->record(request->context, record, err);
out:
	ber_memfree(values);
	release_entry(reader);
	if (ber)
		ber_free(ber, 0);
	return status;
}

static void count_references(struct ldap_reader *reader, char **urls, bool one_per_url)
{
	size_t count = 0;
	for (size_t i = 0; urls && urls[i]; i++)
		count++;
	if (!count)
		return;
	reader->references += one_per_url ? count : 1;
	if (!reader->first_reference)
		reader->first_reference = imaddr_xstrdup(urls[0]);
}

static enum imaddr_status read_reference(struct ldap_reader *reader, LDAPMessage *message,
					 struct imaddr_error *err)
{
	char **urls = NULL;
	int rc = ldap_parse_reference(reader->ld, message, &urls, NULL, 0);
	if (rc != LDAP_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "cannot decode a search reference");
	count_references(reader, urls, false);
	ber_memvfree((void **)urls);
	return IMADDR_OK;
}

static const char *scope_name(enum imaddr_ldap_scope scope)
{
	switch (scope) {
	case IMADDR_LDAP_SCOPE_ONE: return "one";
	case IMADDR_LDAP_SCOPE_BASE: return "base";
	case IMADDR_LDAP_SCOPE_CHILDREN: return "children";
	default: return "sub";
	}
}

static int ldap_scope(enum imaddr_ldap_scope scope)
{
	switch (scope) {
	case IMADDR_LDAP_SCOPE_ONE: return LDAP_SCOPE_ONELEVEL;
	case IMADDR_LDAP_SCOPE_BASE: return LDAP_SCOPE_BASE;
	case IMADDR_LDAP_SCOPE_CHILDREN: return LDAP_SCOPE_CHILDREN;
	default: return LDAP_SCOPE_SUBTREE;
	}
}

/*
 * The result that ends one page: its status, and the cookie that asks for
 * the next page (empty after the last one). `cookie` is replaced.
 */
static enum imaddr_status read_result(struct ldap_reader *reader, LDAPMessage *message,
				      struct berval *cookie, struct imaddr_error *err)
{
	int code = LDAP_SUCCESS;
	char *diagnostic = NULL, **referrals = NULL;
	LDAPControl **controls = NULL;
	enum imaddr_status status = IMADDR_OK;

	ber_memfree(cookie->bv_val);
	cookie->bv_val = NULL;
	cookie->bv_len = 0;
	int rc = ldap_parse_result(reader->ld, message, &code, NULL, &diagnostic, &referrals,
				   &controls, 0);
	if (rc != LDAP_SUCCESS) {
		status = ldap_failure(reader, err, rc, NULL, "cannot decode the search result");
		goto out;
	}
	if (code == LDAP_REFERRAL) {
		/*
		 * The base itself is on another server: nothing of it is here, and
		 * a run of 0 users would pass for an empty directory.
		 */
		status = imaddr_error_set(err, IMADDR_ERR_LDAP,
					  "%s: search base '%s' is on another server (a referral to "
					  "'%s', not followed): give a --base this server holds",
					  reader->options.uri, reader->search_base,
					  referrals && referrals[0] ? referrals[0] : "?");
		goto out;
	}
	if (code == LDAP_SIZELIMIT_EXCEEDED || code == LDAP_TIMELIMIT_EXCEEDED ||
	    code == LDAP_ADMINLIMIT_EXCEEDED) {
		status = ldap_failure(reader, err, code, diagnostic,
				      "search of '%s' stopped after %llu entries",
				      reader->search_base, (unsigned long long)reader->entries);
		goto out;
	}
	if (code != LDAP_SUCCESS) {
		status = ldap_failure(reader, err, code, diagnostic,
				      "search of '%s' (scope %s, filter '%s') failed",
				      reader->search_base, scope_name(reader->options.scope),
				      reader->filter);
		goto out;
	}
	LDAPControl *page = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, NULL);
	if (page) {
		ber_int_t estimate;
		rc = ldap_parse_pageresponse_control(reader->ld, page, &estimate, cookie);
		if (rc != LDAP_SUCCESS)
			status = ldap_failure(reader, err, rc, NULL,
					      "cannot decode the paged results control");
	}
	/* No control: the server does not page, and this was everything. */
out:
	ldap_memfree(diagnostic);
	ber_memvfree((void **)referrals);
	ldap_controls_free(controls);
	return status;
}

/* Waits for the next message of the page, reporting progress meanwhile. */
static enum imaddr_status next_message(struct ldap_reader *reader, int msgid,
				       LDAPMessage **message, struct imaddr_error *err)
{
	const int timeout = reader->options.timeout_seconds;
	for (;;) {
		struct timeval wait_time = { .tv_usec = IMADDR_LDAP_PROGRESS_MS * 1000 };
		struct timespec now;
		errno = 0;
		int type = ldap_result(reader->ld, msgid, LDAP_MSG_ONE, &wait_time, message);
		if (type > 0) {
			clock_gettime(CLOCK_MONOTONIC, &reader->last_message);
			return IMADDR_OK;
		}
		if (type < 0) {
			/* Without LDAP_OPT_RESTART a caught signal (SIGINT) ends the wait. */
			if (errno == EINTR)
				return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED,
							"%s: interrupted", reader->options.uri);
			int rc = LDAP_SERVER_DOWN;
			ldap_get_option(reader->ld, LDAP_OPT_RESULT_CODE, &rc);
			return ldap_failure(reader, err, rc, NULL,
					    "connection lost during the search of '%s' after "
					    "%llu entries", reader->search_base,
					    (unsigned long long)reader->entries);
		}
		report_progress(reader, false);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timeout > 0 && seconds_between(&reader->last_message, &now) >= timeout)
			return imaddr_error_set(err, IMADDR_ERR_LDAP,
				"%s: search of '%s' timed out: no answer for %d second%s, "
				"after %llu entries", reader->options.uri, reader->search_base,
				timeout, timeout == 1 ? "" : "s",
				(unsigned long long)reader->entries);
	}
}

/* One page: sends the request and reads every message up to its result. */
static enum imaddr_status read_page(struct ldap_reader *reader,
				    const struct imaddr_reader_request *request,
				    struct berval *cookie, struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = &reader->options;
	LDAPControl *page = NULL;
	LDAPMessage *message = NULL;
	enum imaddr_status status = IMADDR_OK;
	int msgid = -1;
	int page_size = options->page_size > 0 ? options->page_size
					       : IMADDR_LDAP_PAGE_SIZE_DEFAULT;

	/* Not critical: a server without paging sends everything in one go. */
	int rc = ldap_create_page_control(reader->ld, page_size, cookie, 0, &page);
	if (rc != LDAP_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "cannot make the paged results control");
	LDAPControl *controls[] = { page, NULL };
	struct timeval time_limit = { .tv_sec = options->timeout_seconds };
	rc = ldap_search_ext(reader->ld, reader->search_base, ldap_scope(options->scope),
			     reader->filter, reader->attributes, 0, controls, NULL,
			     options->timeout_seconds > 0 ? &time_limit : NULL, 0, &msgid);
	ldap_control_free(page);
	if (rc == LDAP_FILTER_ERROR)
		return imaddr_error_set(err, IMADDR_ERR_LDAP, "%s: invalid filter '%s'",
					options->uri, reader->filter);
	if (rc != LDAP_SUCCESS)
		return ldap_failure(reader, err, rc, NULL, "search of '%s' failed",
				    reader->search_base);
	clock_gettime(CLOCK_MONOTONIC, &reader->last_message);
	for (;;) {
		status = next_message(reader, msgid, &message, err);
		if (status != IMADDR_OK)
			break;
		switch (ldap_msgtype(message)) {
		case LDAP_RES_SEARCH_ENTRY:
			status = read_entry(reader, message, request, err);
			report_progress(reader, false);
			break;
		case LDAP_RES_SEARCH_REFERENCE:
			status = read_reference(reader, message, err);
			break;
		case LDAP_RES_SEARCH_RESULT:
			reader->pages++;
			status = read_result(reader, message, cookie, err);
			ldap_msgfree(message);
			return status;
		default:
			break;   /* intermediate responses mean nothing here */
		}
		ldap_msgfree(message);
		message = NULL;
		if (status != IMADDR_OK)
			break;
	}
	/* Stopped in the middle: the server can stop too. */
	if (reader->ld && msgid >= 0)
		ldap_abandon_ext(reader->ld, msgid, NULL, NULL);
	return status;
}

static enum imaddr_status report_references(struct ldap_reader *reader,
					    const struct imaddr_reader_request *request,
					    struct imaddr_error *err)
{
	char message[IMADDR_ERROR_MAX];
	if (!reader->references)
		return IMADDR_OK;
	snprintf(message, sizeof(message),
		 "%llu referral%s to other servers not followed; the first: '%s'",
		 (unsigned long long)reader->references, reader->references == 1 ? "" : "s",
		 reader->first_reference);
	return request->notice(request->context, IMADDR_CODE_LDAP_REFERENCE, 0, NULL, NULL,
			       reader->first_reference, message, err);
}

static void disconnect(struct ldap_reader *reader)
{
	if (reader->ld)
		ldap_unbind_ext(reader->ld, NULL, NULL);
	reader->ld = NULL;
}

/*
 * A server that goes away leaves a socket whose next write raises SIGPIPE,
 * which would end the program without a word. While the reader runs,
 * SIGPIPE is blocked, so the write fails with EPIPE and the run with a
 * message; a SIGPIPE raised meanwhile is then discarded.
 */
struct pipe_guard {
	sigset_t saved;
	bool pending_before;
	bool active;
};

static void block_sigpipe(struct pipe_guard *guard)
{
	sigset_t pipe_only, pending;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	guard->active = pthread_sigmask(SIG_BLOCK, &pipe_only, &guard->saved) == 0;
	guard->pending_before = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
}

static void unblock_sigpipe(struct pipe_guard *guard)
{
	sigset_t pipe_only, pending;
	if (!guard->active)
		return;
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if (!guard->pending_before && sigismember(&guard->saved, SIGPIPE) != 1 &&
	    sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
		struct timespec no_wait = { 0, 0 };
		sigtimedwait(&pipe_only, NULL, &no_wait);
	}
	pthread_sigmask(SIG_SETMASK, &guard->saved, NULL);
}

static enum imaddr_status run(struct imaddr_reader *base,
			      const struct imaddr_reader_request *request,
			      struct imaddr_error *err)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	struct berval cookie = { 0, NULL };
	struct pipe_guard guard;

	reader->entries = reader->references = reader->pages = 0;
	clock_gettime(CLOCK_MONOTONIC, &reader->started);
	reader->last_progress = reader->started;
	enum imaddr_status status = check_required_roles(reader, request, err);
	if (status != IMADDR_OK)
		return status;
	free(reader->attributes);
	collect_attributes(reader, request->mapping);

	block_sigpipe(&guard);
	status = connect_to_server(reader, err);
	clear_password(reader);   /* also when connecting failed before the bind */
	while (status == IMADDR_OK) {
		status = read_page(reader, request, &cookie, err);
		if (!cookie.bv_len)
			break;
	}
	report_progress(reader, true);
	ber_memfree(cookie.bv_val);
	disconnect(reader);
	unblock_sigpipe(&guard);
	if (status == IMADDR_OK)
		status = report_references(reader, request, err);
	return status;
}

static enum imaddr_status ldap_no_users(struct imaddr_reader *base, struct imaddr_error *err)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	return imaddr_error_set(err, IMADDR_ERR_INPUT,
		"%s: no users: the search of '%s' (scope %s, filter '%s') found no entries%s",
		reader->options.uri, reader->search_base ? reader->search_base : "",
		scope_name(reader->options.scope), reader->filter,
		reader->references ? ", only references to other servers" : "");
}

static void ldap_reader_free(struct imaddr_reader *base)
{
	struct ldap_reader *reader = (struct ldap_reader *)base;
	disconnect(reader);
	clear_password(reader);
	ldap_memfree(reader->default_base);
	free(reader->attributes);
	free(reader->entry);
	free(reader->entry_values);
	free(reader->first_reference);
	imaddr_buf_release(&reader->dn);
	free(reader);
}

static const struct imaddr_reader_ops ldap_reader_ops = {
	.name = "ldap",
	.run = run,
	.no_users = ldap_no_users,
	.free = ldap_reader_free,
};

/* Mistakes that need no server to see: a usage error before anything runs. */
static enum imaddr_status check_options(const struct imaddr_ldap_options *options,
					struct imaddr_error *err)
{
	if (!options->uri || !*options->uri)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "no LDAP server URI");
	if (!uri_supported(options->uri))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"'%s' is not one ldap://, ldaps:// or ldapi:// URI", options->uri);
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, options->uri);
	if (ld)
		ldap_unbind_ext(ld, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "'%s' is not a valid LDAP URI: %s",
					options->uri, ldap_err2string(rc));
	if (options->starttls && uri_is_ldaps(options->uri))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"%s: StartTLS goes with ldap:// URIs: ldaps:// is TLS from the start",
			options->uri);
	if (options->sasl_mech && strcasecmp(options->sasl_mech, "EXTERNAL") &&
	    strcasecmp(options->sasl_mech, "GSSAPI"))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"SASL mechanism '%s' is not supported: use EXTERNAL or GSSAPI",
			options->sasl_mech);
	if (options->sasl_mech && options->bind_dn)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"a bind DN and a SASL mechanism exclude each other: SASL %s takes "
			"its identity from %s", options->sasl_mech,
			strcasecmp(options->sasl_mech, "GSSAPI")
				? "the TLS certificate or the ldapi:// connection"
				: "the Kerberos ticket");
	if (options->bind_dn && (!options->password || !*options->password))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"a bind as '%s' needs a password: without one the bind would be "
			"unauthenticated (RFC 4513)", options->bind_dn);
	if (options->ca_file && access(options->ca_file, R_OK) != 0)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "cannot read CA file '%s': %s",
					options->ca_file, strerror(errno));
	if (options->page_size < 0 || options->timeout_seconds < 0)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the page size and the timeout cannot be negative");
	if ((unsigned)options->scope > IMADDR_LDAP_SCOPE_CHILDREN ||
	    (unsigned)options->directory_type > IMADDR_DIRECTORY_OPENLDAP)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "unknown LDAP scope or directory type");
	return IMADDR_OK;
}

#define LIBLDAP_DEFAULT_URI "ldap://localhost:389/??base"

char *imaddr_ldap_configured_uri(void)
{
	char *uri = NULL;
	if (ldap_get_option(NULL, LDAP_OPT_URI, &uri) != LDAP_OPT_SUCCESS || !uri)
		return NULL;
	/*
	 * Without a URI in its configuration libldap answers its built-in
	 * default, "ldap://localhost/" parsed with base scope, which no file or
	 * variable can spell this way: that is no configured URI.
	 */
	bool configured = *uri && strcmp(uri, LIBLDAP_DEFAULT_URI);
	char *copy = configured ? imaddr_xstrdup(uri) : NULL;
	ldap_memfree(uri);
	return copy;
}

enum imaddr_status imaddr_ldap_reader_open(const struct imaddr_ldap_options *options,
					   struct imaddr_reader **out, struct imaddr_error *err)
{
	*out = NULL;
	enum imaddr_status status = check_options(options, err);
	if (status != IMADDR_OK)
		return status;
	struct ldap_reader *reader = imaddr_xcalloc(1, sizeof(*reader));
	reader->base.ops = &ldap_reader_ops;
	reader->options = *options;
	if (!options->filter)
		reader->filter = imaddr_directory_default_filter(options->directory_type);
	else
		reader->filter = *options->filter ? options->filter : "(objectclass=*)";
	reader->search_base = options->base;
	if (options->sasl_mech) {
		/* Checked: EXTERNAL or GSSAPI in some case. */
		for (size_t i = 0; options->sasl_mech[i] && i + 1 < sizeof(reader->sasl_mech); i++)
			reader->sasl_mech[i] = (char)toupper((unsigned char)options->sasl_mech[i]);
		reader->options.sasl_mech = reader->sasl_mech;
	}
	if (options->bind_dn && !options->sasl_mech)
		reader->password = imaddr_xstrdup(options->password);
	imaddr_buf_init(&reader->dn, 0);
	*out = &reader->base;
	return IMADDR_OK;
}
