#include "ldap_session.h"

#include <errno.h>
#include <lber.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "buffer.h"
#include "error.h"

enum imaddr_status imaddr_ldap_session_failure(const struct imaddr_ldap_session *session,
					       struct imaddr_error *err, int rc,
					       const char *diagnostic, const char *format, ...)
{
	char what[512];
	char *from_handle = NULL;
	va_list args;
	va_start(args, format);
	vsnprintf(what, sizeof(what), format, args);
	va_end(args);
	if (!diagnostic && session->ld &&
	    ldap_get_option(session->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &from_handle) ==
		    LDAP_OPT_SUCCESS)
		diagnostic = from_handle;
	/* GnuTLS's text for libldap's handshake failures is "(unknown error code)". */
	bool show = diagnostic && *diagnostic && strcmp(diagnostic, ldap_err2string(rc)) &&
		    strcmp(diagnostic, "(unknown error code)");
	enum imaddr_status status = imaddr_error_set(err, IMADDR_ERR_LDAP, "%s: %s: %s%s%s%s",
		session->options->uri, what, ldap_err2string(rc), show ? " (" : "",
		show ? diagnostic : "", show ? ")" : "");
	ldap_memfree(from_handle);
	return status;
}

/*
 * A URI may be a list, as libldap and ldapsearch take it (ldap.conf's "URI
 * ldap://dc1 ldap://dc2"): the servers are tried in turn.
 */
#define URI_SEPARATORS " \t,"

/* Whether some URI of the list is ldaps://: the connection then needs TLS set up. */
static bool uri_is_ldaps(const char *uri)
{
	for (uri += strspn(uri, URI_SEPARATORS); *uri;
	     uri += strcspn(uri, URI_SEPARATORS), uri += strspn(uri, URI_SEPARATORS)) {
		if (!strncasecmp(uri, "ldaps://", 8))
			return true;
	}
	return false;
}

/* Every URI of the list is ldap://, ldaps:// or ldapi://, and there is one. */
static bool uri_supported(const char *uri)
{
	bool any = false;
	for (uri += strspn(uri, URI_SEPARATORS); *uri;
	     uri += strcspn(uri, URI_SEPARATORS), uri += strspn(uri, URI_SEPARATORS)) {
		if (strncasecmp(uri, "ldap://", 7) && strncasecmp(uri, "ldaps://", 8) &&
		    strncasecmp(uri, "ldapi://", 8))
			return false;
		any = true;
	}
	return any;
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

static enum imaddr_status set_option(struct imaddr_ldap_session *session, int option, const void *value,
				     const char *name, struct imaddr_error *err)
{
	int rc = ldap_set_option(session->ld, option, value);
	if (rc != LDAP_OPT_SUCCESS)
		return imaddr_ldap_session_failure(session, err, rc, NULL, "cannot set %s", name);
	return IMADDR_OK;
}

/*
 * The TLS settings libldap read from ldap.conf, .ldaprc and LDAPTLS_*, which
 * a new connection does not inherit once it has a TLS context of its own.
 * A setting this libldap's TLS library does not know is left out.
 */
static void copy_tls_configuration(struct imaddr_ldap_session *session)
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
			ldap_set_option(session->ld, text_options[i], value);
		ldap_memfree(value);
	}
	for (size_t i = 0; i < sizeof(number_options) / sizeof(number_options[0]); i++) {
		int value;
		if (ldap_get_option(NULL, number_options[i], &value) == LDAP_OPT_SUCCESS)
			ldap_set_option(session->ld, number_options[i], &value);
	}
}

static enum imaddr_status set_options(struct imaddr_ldap_session *session, bool tls,
				      struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = session->options;
	int version = LDAP_VERSION3;
	enum imaddr_status status = set_option(session, LDAP_OPT_PROTOCOL_VERSION, &version,
					       "the protocol version", err);
	/* Referrals are reported, never followed (with our credentials) elsewhere. */
	if (status == IMADDR_OK)
		status = set_option(session, LDAP_OPT_REFERRALS, LDAP_OPT_OFF, "referrals", err);
	if (status == IMADDR_OK && options->timeout_seconds > 0) {
		struct timeval timeout = { .tv_sec = options->timeout_seconds };
		status = set_option(session, LDAP_OPT_NETWORK_TIMEOUT, &timeout,
				    "the network timeout", err);
		if (status == IMADDR_OK)
			status = set_option(session, LDAP_OPT_TIMEOUT, &timeout, "the timeout", err);
	}
	if (status != IMADDR_OK || !tls)
		return status;
	/*
	 * ldap.conf and .ldaprc settings stay as libldap read them, except that
	 * the certificate must verify. Per-connection TLS settings take effect
	 * only in a TLS context of the connection's own, which starts empty:
	 * the configured ones are copied in first.
	 */
	copy_tls_configuration(session);
	int demand = LDAP_OPT_X_TLS_DEMAND;
	status = set_option(session, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand,
			    "TLS certificate checking", err);
	if (status == IMADDR_OK && options->ca_file)
		status = set_option(session, LDAP_OPT_X_TLS_CACERTFILE, options->ca_file,
				    "the CA certificate file", err);
	if (status == IMADDR_OK) {
		int is_server = 0;
		int rc = ldap_set_option(session->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server);
		if (rc != LDAP_OPT_SUCCESS)
			status = imaddr_ldap_session_failure(session, err, LDAP_CONNECT_ERROR, NULL,
					      "cannot set up TLS%s%s%s",
					      options->ca_file ? " with CA file '" : "",
					      options->ca_file ? options->ca_file : "",
					      options->ca_file ? "'" : "");
	}
	return status;
}

/*
 * The filter is encoded as a search would, before anything is sent: a
 * mistake in it is the caller's (exit 2), as with an LDIF's --filter, not
 * the server's.
 */
static enum imaddr_status check_filter(LDAP *ld, const char *uri, const char *filter,
				       struct imaddr_error *err)
{
	struct berval encoded = { 0, NULL };
	int rc = ldap_create_assertion_control_value(ld, (char *)filter, &encoded);
	ber_memfree(encoded.bv_val);
	if (rc == LDAP_SUCCESS)
		return IMADDR_OK;
	return imaddr_error_set(err, IMADDR_ERR_USAGE,
				"%s: invalid filter '%s': not an LDAP search filter (RFC 4515)",
				uri, filter);
}

/*
 * libldap says little more about a failed handshake than "(unknown error
 * code)": say where to look instead.
 */
static enum imaddr_status tls_failure(struct imaddr_ldap_session *session, struct imaddr_error *err,
				      int rc, const char *what)
{
	enum imaddr_status status = imaddr_ldap_session_failure(session, err, rc, NULL, "%s", what);
	if (!err)
		return status;
	size_t used = strlen(err->message);
	if (session->options->ca_file)
		snprintf(err->message + used, sizeof(err->message) - used,
			 "; is the server's certificate signed by the CA in '%s', and issued "
			 "for the host name in the URI?", session->options->ca_file);
	else
		snprintf(err->message + used, sizeof(err->message) - used,
			 "; is the server's certificate signed by a CA that ldap.conf's "
			 "TLS_CACERT trusts (or give the CA file), and issued for the host "
			 "name in the URI?");
	return status;
}

/* After a failed connect: did TLS fail, rather than TCP? */
static bool tls_said_something(struct imaddr_ldap_session *session)
{
	char *diagnostic = NULL;
	if (ldap_get_option(session->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diagnostic) !=
	    LDAP_OPT_SUCCESS)
		return false;
	bool said = diagnostic && *diagnostic;
	ldap_memfree(diagnostic);
	return said;
}

/* The copy leaves memory as soon as the bind needs it no more, not at the end. */
static void clear_password(struct imaddr_ldap_session *session)
{
	if (!session->password)
		return;
	explicit_bzero(session->password, strlen(session->password));
	free(session->password);
	session->password = NULL;
}

static enum imaddr_status bind_to_server(struct imaddr_ldap_session *session, struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = session->options;
	int rc;
	if (options->sasl_mech) {
		rc = ldap_sasl_interactive_bind_s(session->ld, NULL, options->sasl_mech, NULL, NULL,
						  LDAP_SASL_QUIET, sasl_answer_nothing, NULL);
		if (rc != LDAP_SUCCESS)
			return imaddr_ldap_session_failure(session, err, rc, NULL, "SASL %s bind failed",
					    options->sasl_mech);
		return IMADDR_OK;
	}
	if (!options->bind_dn)
		return IMADDR_OK;   /* anonymous: no bind at all, as RFC 4513 allows */
	if (!session->password)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the password for '%s' is gone: a reader runs once",
					options->bind_dn);
	struct berval password = {
		.bv_len = strlen(session->password),
		.bv_val = session->password,
	};
	rc = ldap_sasl_bind_s(session->ld, options->bind_dn, LDAP_SASL_SIMPLE, &password, NULL,
			      NULL, NULL);
	clear_password(session);
	if (rc != LDAP_SUCCESS)
		return imaddr_ldap_session_failure(session, err, rc, NULL, "bind as '%s' failed", options->bind_dn);
	return IMADDR_OK;
}

/*
 * libldap reads a plain connection two system calls a message (the tag and
 * length, then the rest) and polls before each: three calls per entry,
 * which cost more than decoding it. liblber's own read-ahead layer, which
 * libldap uses only for UDP, reads up to 16 KiB at a time instead. Under
 * TLS or a SASL security layer it goes beneath them, on the socket. Without
 * it nothing breaks, so a failure to add it is not an error.
 */
static void read_ahead(struct imaddr_ldap_session *session)
{
	Sockbuf *sockbuf = NULL;
	if (ldap_get_option(session->ld, LDAP_OPT_SOCKBUF, &sockbuf) != LDAP_OPT_SUCCESS ||
	    !sockbuf ||
	    ber_sockbuf_ctrl(sockbuf, LBER_SB_OPT_HAS_IO, &ber_sockbuf_io_readahead))
		return;
	(void)ber_sockbuf_add_io(sockbuf, &ber_sockbuf_io_readahead, LBER_SBIOD_LEVEL_PROVIDER,
				 NULL);
}

static enum imaddr_status connect_to_server(struct imaddr_ldap_session *session,
					    struct imaddr_error *err)
{
	const struct imaddr_ldap_options *options = session->options;
	bool ldaps = uri_is_ldaps(options->uri);
	int rc = ldap_initialize(&session->ld, options->uri);
	if (rc != LDAP_SUCCESS)
		return imaddr_ldap_session_failure(session, err, rc, NULL, "cannot use the URI");
	enum imaddr_status status = set_options(session, ldaps || options->starttls, err);
	if (status != IMADDR_OK)
		return status;
	imaddr_ldap_watch_start(&session->watch, session->ld);
	if (ldap_get_option(session->ld, LDAP_OPT_DEFBASE, &session->default_base) !=
	    LDAP_OPT_SUCCESS)
		session->default_base = NULL;

	rc = ldap_connect(session->ld);
	if (rc != LDAP_SUCCESS) {
		/* TCP failures leave no message; the TLS layer leaves one. */
		if (ldaps && tls_said_something(session))
			return tls_failure(session, err, rc, "TLS handshake failed");
		return imaddr_ldap_session_failure(session, err, rc, NULL, "cannot connect");
	}
	if (options->starttls) {
		rc = ldap_start_tls_s(session->ld, NULL, NULL);
		if (rc == LDAP_CONNECT_ERROR)
			return tls_failure(session, err, rc, "StartTLS failed");
		if (rc != LDAP_SUCCESS)
			return imaddr_ldap_session_failure(session, err, rc, NULL, "StartTLS failed");
	}
	read_ahead(session);
	return bind_to_server(session, err);
}


void imaddr_ldap_session_init(struct imaddr_ldap_session *session,
			      const struct imaddr_ldap_options *options)
{
	memset(session, 0, sizeof(*session));
	session->options = options;
	imaddr_ldap_watch_init(&session->watch, options->timeout_seconds);
	session->watch_ready = true;
	if (options->bind_dn && !options->sasl_mech)
		session->password = imaddr_xstrdup(options->password);
}

enum imaddr_status imaddr_ldap_session_open(struct imaddr_ldap_session *session,
					    struct imaddr_error *err)
{
	enum imaddr_status status = connect_to_server(session, err);
	clear_password(session);   /* also when connecting failed before the bind */
	enum imaddr_ldap_watch_outcome watched = imaddr_ldap_watch_stop(&session->watch);
	/* What failed is the watch's doing, or a signal's: libldap's text would mislead. */
	if (watched == IMADDR_LDAP_WATCH_STOPPED ||
	    (status == IMADDR_ERR_LDAP && imaddr_stop_requested()))
		return imaddr_error_set(err, IMADDR_ERR_INTERRUPTED, "%s: interrupted",
					session->options->uri);
	if (watched == IMADDR_LDAP_WATCH_TIMED_OUT)
		return imaddr_error_set(err, IMADDR_ERR_LDAP,
					"%s: no answer within %d second%s while connecting "
					"(TLS handshake or bind): is the server hung?",
					session->options->uri, session->options->timeout_seconds,
					session->options->timeout_seconds == 1 ? "" : "s");
	return status;
}

void imaddr_ldap_session_close(struct imaddr_ldap_session *session)
{
	if (session->ld)
		ldap_unbind_ext(session->ld, NULL, NULL);
	session->ld = NULL;
	/* After the unbind, which tells the watch its connection is closed. */
	if (session->watch_ready)
		imaddr_ldap_watch_release(&session->watch);
	session->watch_ready = false;
	clear_password(session);
	ldap_memfree(session->default_base);
	session->default_base = NULL;
}

enum imaddr_status imaddr_ldap_session_check_options(const struct imaddr_ldap_options *options,
						     const char *filter, struct imaddr_error *err)
{
	/*
	 * First, and saying which: a value from a cast or a struct never
	 * initialised would otherwise search with a scope and a filter no one
	 * chose, or be lost behind a complaint about the URI.
	 */
	if ((unsigned)options->scope > IMADDR_LDAP_SCOPE_CHILDREN)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the LDAP scope %d is none of enum imaddr_ldap_scope's",
					(int)options->scope);
	if ((unsigned)options->directory_type > IMADDR_DIRECTORY_OPENLDAP)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the directory type %d is none of enum imaddr_directory_type's",
					(int)options->directory_type);
	if (!options->uri || !*options->uri)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "no LDAP server URI");
	if (!uri_supported(options->uri))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"'%s' is not an ldap://, ldaps:// or ldapi:// URI (or a list of them)",
			options->uri);
	LDAP *ld = NULL;
	int rc = ldap_initialize(&ld, options->uri);
	enum imaddr_status status = rc == LDAP_SUCCESS ? check_filter(ld, options->uri, filter, err)
						       : IMADDR_OK;
	if (ld)
		ldap_unbind_ext(ld, NULL, NULL);
	if (rc != LDAP_SUCCESS)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "'%s' is not a valid LDAP URI: %s",
					options->uri, ldap_err2string(rc));
	if (status != IMADDR_OK)
		return status;
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
	struct stat st;
	if (options->ca_file && access(options->ca_file, R_OK) != 0)
		return imaddr_error_set(err, IMADDR_ERR_USAGE, "cannot read CA file '%s': %s",
					options->ca_file, strerror(errno));
	if (options->ca_file && (stat(options->ca_file, &st) != 0 || !S_ISREG(st.st_mode)))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"CA file '%s' is not a file: give the CA's certificates in one PEM file "
			"(ldap.conf's TLS_CACERTDIR names a directory of them)", options->ca_file);
	/* A CA file asks for a verified server: over plain LDAP nothing would check it. */
	if (options->ca_file && options->uri && !options->starttls && !uri_is_ldaps(options->uri))
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"a CA file goes with TLS: give StartTLS (-Z) or an ldaps:// URI, or the "
			"bind and the users would travel in clear");
	/* A bind DN may be AD's user@domain or DOMAIN\\user: only the base must be a DN. */
	LDAPDN parsed = NULL;
	if (options->base && *options->base &&
	    ldap_str2dn(options->base, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
			"the search base '%s' is not a DN (RFC 4514: attribute=value, "
			"separated by commas, as dc=example,dc=com)", options->base);
	ldap_dnfree(parsed);
	if (options->page_size < 0 || options->timeout_seconds < 0)
		return imaddr_error_set(err, IMADDR_ERR_USAGE,
					"the page size and the timeout cannot be negative");
	return IMADDR_OK;
}

#define LIBLDAP_DEFAULT_URI "ldap://localhost:389/??base"

static char *configured_base;

static void read_configured_base(void)
{
	char *base = NULL;
	if (ldap_get_option(NULL, LDAP_OPT_DEFBASE, &base) == LDAP_OPT_SUCCESS && base && *base)
		configured_base = imaddr_xstrdup(base);
	ldap_memfree(base);
}

const char *imaddr_ldap_configured_base(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, read_configured_base);
	return configured_base;
}

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

