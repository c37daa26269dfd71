/*
 * An LDAP search filter applied to an LDIF entry, so that an LDIF of a
 * whole domain gives the users LDAP sync would: the directory type's
 * default filter, or --filter.
 *
 * libldap parses the filter (RFC 4515): OpenLDAP 2.5 has no public function
 * that turns a filter string into a structure (ldap_pvt_put_filter and
 * slapd's str2filter are private, and neither liblutil nor slapd's headers
 * are installed), but ldap_create_assertion_control_value() is public and
 * encodes the filter as the BER of RFC 4511's Filter. This module walks
 * that encoding with lber's public decoder (ber_peek_tag, ber_scanf,
 * ber_first_element) and evaluates it on the entry. No filter syntax is
 * written by hand.
 *
 * Matching without the directory's schema: attribute descriptions compare
 * case-insensitively (options such as ;binary are ignored, aliases are
 * not known); values compare as caseIgnoreMatch does for ASCII (exact
 * bytes beyond it); ordering compares integers as integers; approximate
 * match is equality; extensible match knows Active Directory's bitwise AND
 * and OR rules (1.2.840.113556.1.4.803 and .804), as AD's default filter
 * needs; any other rule is Undefined (RFC 4511's three-valued logic), so
 * the entry does not match.
 */
#ifndef IMADDR_LDIF_FILTER_H
#define IMADDR_LDIF_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <lber.h>

#include "imaddr.h"

struct imaddr_ldif_filter {
	char *text;              /* the filter as given, for messages */
	struct berval encoded;   /* its BER, from libldap */
};

/** One "type: value" of an entry (views into the reader's record). */
struct imaddr_ldif_value {
	struct berval type;
	struct berval value;
};

/**
 * Parses `text` with libldap. IMADDR_ERR_USAGE, naming it, when it is not
 * an RFC 4515 filter.
 */
enum imaddr_status imaddr_ldif_filter_init(struct imaddr_ldif_filter *filter, const char *text,
					   struct imaddr_error *err);
void imaddr_ldif_filter_release(struct imaddr_ldif_filter *filter);

/**
 * Whether a filter item's attribute description tests an entry's type:
 * "sn" tests "sn" and "SN;lang-de", as options are not the type's;
 * "sn;lang-de" tests only "sn;lang-de".
 */
bool imaddr_ldif_type_matches(const struct berval *entry_type,
			      const struct berval *filter_type);

/** True when the entry's `count` values make the filter True. */
bool imaddr_ldif_filter_match(const struct imaddr_ldif_filter *filter,
			      const struct imaddr_ldif_value *values, size_t count);

/**
 * Calls `each` with every attribute description the filter tests, as
 * written (options included), once per item, in the filter's order; the
 * berval is borrowed for the call. A CSV reader keeps those columns and
 * names any its header lacks.
 */
void imaddr_ldif_filter_each_type(const struct imaddr_ldif_filter *filter,
				  void (*each)(const struct berval *type, void *context),
				  void *context);

#endif /* IMADDR_LDIF_FILTER_H */
