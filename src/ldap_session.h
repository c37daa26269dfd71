/*
 * The LDAP reader's transport: a libldap handle connected to the server
 * (StartTLS, certificate verification demanded, ldap.conf's TLS settings
 * kept), the filter checked before anything is sent, and a bind (anonymous,
 * simple or SASL EXTERNAL/GSSAPI), all under a watch that ends them at
 * --timeout or a stop (ldap_watch.h). The search that uses the handle is
 * reader_ldap.c's. Failures are IMADDR_ERR_LDAP with "URI: what failed:
 * libldap's text (the server's text)", because the server's text (AD's
 * "data 52e" and the like) is often the only clue.
 */
#ifndef IMADDR_LDAP_SESSION_H
#define IMADDR_LDAP_SESSION_H

#include <ldap.h>
#include <stdbool.h>

#include "imaddr.h"
#include "ldap_watch.h"

struct imaddr_ldap_session {
	const struct imaddr_ldap_options *options;  /* must outlive the session */
	LDAP *ld;
	char *password;       /* our copy, cleared once the bind is done */
	char *default_base;   /* ldap.conf's BASE, from libldap; NULL without one */
	struct imaddr_ldap_watch watch;   /* over connecting, TLS and the bind */
	bool watch_ready;
};

/**
 * Mistakes in `options` and the search `filter` that need no server to see
 * (a scope or directory type outside its enum, the URI, a filter that is
 * not RFC 4515, StartTLS with ldaps://, the SASL mechanism, a bind DN
 * without a password, the CA file): IMADDR_ERR_USAGE before anything runs.
 */
enum imaddr_status imaddr_ldap_session_check_options(const struct imaddr_ldap_options *options,
						     const char *filter,
						     struct imaddr_error *err);

/** A session of checked `options`, holding a copy of the bind password. */
void imaddr_ldap_session_init(struct imaddr_ldap_session *session,
			      const struct imaddr_ldap_options *options);

/**
 * Connects and binds. The password copy is cleared whatever happens, so a
 * session opens once.
 */
enum imaddr_status imaddr_ldap_session_open(struct imaddr_ldap_session *session,
					    struct imaddr_error *err);

/**
 * The search base libldap's configuration names (ldap.conf's or .ldaprc's
 * BASE, or LDAPBASE), as ldapsearch uses it without -b; NULL when there is
 * none. Read once; the library keeps it for the life of the process.
 */
const char *imaddr_ldap_configured_base(void);

/** Unbinds and releases what the session holds; it may be closed twice. */
void imaddr_ldap_session_close(struct imaddr_ldap_session *session);

/** "URI: WHAT: libldap's text for `rc` (`diagnostic`, or the handle's)". */
enum imaddr_status imaddr_ldap_session_failure(const struct imaddr_ldap_session *session,
					       struct imaddr_error *err, int rc,
					       const char *diagnostic, const char *format, ...)
	__attribute__((format(printf, 5, 6)));

#endif /* IMADDR_LDAP_SESSION_H */
